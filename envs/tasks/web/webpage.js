// What every full-size page here shares (envs/tasks/web/README.md): seeded episodes that speak the MiniWoB
// protocol, so the MiniWoB harness runs them unchanged, and the site's header and footer.
//
// A page defines genProblem(), which builds a fresh episode in #page with Math.random and sets the instruction
// with web.ask(...), and teach(), the teacher's next step from the current state (envs/teachers/pages.py).
// It ends the episode with web.finish(ok, reason).
//
// Opened on its own (screenwise run --url file://.../page.html?seed=7) a page starts the episode of ?seed=
// (0 when absent); the harness starts each episode in place with Math.seedrandom(seed); core.startEpisodeReal().

// A small seeded generator (mulberry32 over a string hash): the pages bring their own, so that they open from
// any folder without the miniwob package.
Math.seedrandom = function (seed) {
  var h = 2166136261;
  for (var i = 0; i < String(seed).length; i++) h = Math.imul(h ^ String(seed).charCodeAt(i), 16777619);
  Math.random = function () {
    h = (h + 0x6D2B79F5) | 0;
    var t = Math.imul(h ^ (h >>> 15), 1 | h);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

// The scores the harness reads (envs/tasks/miniwob.py REWARD_JS; envs/tasks/web.py for screenwise run).
var WOB_RAW_REWARD_GLOBAL = 0, WOB_DONE_GLOBAL = false, WOB_REWARD_REASON = null;

var core = {
  EPISODE_MAX_TIME: 1e9,  // no timer on these pages: the harness counts steps
  EP_TIMER: null,         // non-null while an episode runs, as in MiniWoB's core.js
  utterance: '',
  randi: function (lo, hi) { return Math.floor(Math.random() * (hi - lo) + lo); },
  sample: function (list) { return list[core.randi(0, list.length)]; },
  shuffle: function (list) {
    for (var i = list.length - 1; i > 0; i--) {
      var j = core.randi(0, i + 1), t = list[i]; list[i] = list[j]; list[j] = t;
    }
    return list;
  },
  getUtterance: function () { return core.utterance; },
  startEpisodeReal: function () {
    WOB_RAW_REWARD_GLOBAL = 0; WOB_DONE_GLOBAL = false; WOB_REWARD_REASON = null;
    core.EP_TIMER = 1;
    window.scrollTo(0, 0);
    genProblem();
  },
  endEpisode: function (reward, _timed, reason) {
    if (core.EP_TIMER === null) return;  // only the first ending of an episode counts
    core.EP_TIMER = null;
    WOB_RAW_REWARD_GLOBAL = reward; WOB_DONE_GLOBAL = true; WOB_REWARD_REASON = reason || null;
  },
};

var web = {
  ask: function (text) { core.utterance = text; },
  finish: function (ok, reason) { core.endEpisode(ok ? 1.0 : -1.0, false, reason); },
  // The page's header and footer, around its content: a real site's links lengthen the element list.
  frame: function (site, links, content) {
    var nav = links.map(function (l) { return '<a href="#" class="nav">' + l + '</a>'; }).join('');
    var foot = ['About us', 'Privacy', 'Terms of use', 'Accessibility', 'Careers']
      .map(function (l) { return '<a href="#">' + l + '</a>'; }).join('');
    document.getElementById('page').innerHTML =
      '<header><span class="logo">' + site + '</span><nav>' + nav + '</nav></header>' +
      '<main>' + content + '</main>' +
      '<footer>' + foot + '<span>&copy; 2024 ' + site + '</span></footer>';
    // links of the frame go nowhere: the page must not navigate away from its episode
    document.querySelectorAll('#page a[href="#"]').forEach(function (a) {
      a.addEventListener('click', function (e) { e.preventDefault(); });
    });
  },
  $: function (sel) { return document.querySelector(sel); },
  $$: function (sel) { return Array.prototype.slice.call(document.querySelectorAll(sel)); },
  // Run fn on a click of every element matching sel (content is rebuilt each episode, so bind after frame()).
  on: function (sel, fn) { web.$$(sel).forEach(function (e, i) { e.addEventListener('click', function (ev) { fn(e, i, ev); }); }); },
  // A labelled form field: <input> of a type, or a <select> when options are given.
  field: function (id, caption, type, options) {
    var control = options
      ? '<select id="' + id + '">' + web.options(options) + '</select>'
      : '<input type="' + (type || 'text') + '" id="' + id + '">';
    return '<div class="field"><label class="caption" for="' + id + '">' + caption + '</label>' + control + '</div>';
  },
  options: function (list) { return list.map(function (o) { return '<option>' + o + '</option>'; }).join(''); },
  // The next field of [[selector, wanted value, name], ...] that does not hold its value, as a teach() step.
  nextFill: function (fields, why) {
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i], el = web.$(f[0]);
      if (el.tagName === 'SELECT' && el.value !== f[1]) return {select: f[0], option: f[1], name: f[2], why: why};
      if (el.tagName !== 'SELECT' && el.value !== f[1]) return {fill: f[0], value: f[1], name: f[2], why: why};
    }
    return null;
  },
  // Form values are compared trimmed and case-blind where a person would not care.
  same: function (a, b) { return String(a).trim().toLowerCase() === String(b).trim().toLowerCase(); },
};

window.addEventListener('load', function () {
  var seed = new URLSearchParams(location.search).get('seed') || '0';
  Math.seedrandom(seed);
  core.startEpisodeReal();
});
