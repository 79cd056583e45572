// Shared by both pages: find an element, and build elements from text (never from HTML: the server's text
// includes what web pages and models wrote).
"use strict";

const $ = (id) => document.getElementById(id);

function make(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  Object.assign(el, props);
  el.append(...children);
  return el;
}
