// What the widget pages share (README.md here). Each page draws one widget pattern of the WAI-ARIA Authoring
// Practices with labels, amounts, layout and wording drawn from the seed, so a model trained on them learns the
// widget, not one screen. Each defines genProblem() (seeded by the harness) and teach(), the teacher's next step.
var W = {
  NOUNS: ('alpha amber anchor apple arrow atlas badge basil beacon birch blossom breeze bridge cactus canyon ' +
    'cedar cherry cinder clover cobalt comet coral cotton crystal dawn delta ember falcon fern field flame ' +
    'forest fossil garnet ginger glacier granite harbor hazel heron indigo iris ivory jasmine juniper lagoon ' +
    'lantern lemon lilac linen lotus maple marble meadow mint mist nectar nova oak olive onyx orbit orchid ' +
    'pebble pepper pine pixel plum prairie quartz raven reef ripple river saffron sage sierra silver slate ' +
    'spruce summit thistle tulip velvet willow zephyr').split(' '),
  PEOPLE: 'Ada Alan Grace Linus Hedy Ken Margaret Tim Radia Edsger Donald Frances Katherine Dennis Barbara Guido'.split(' '),
  // A label: a word from the list (sometimes capitalised, sometimes two words) or a made-up one, so the
  // label has to be read and copied, never remembered.
  word: function () {
    if (Math.random() < 0.3) {
      var s = '', letters = 'abcdefghijklmnopqrstuvwxyz';
      for (var i = core.randi(3, 8); i > 0; i--) s += letters[core.randi(0, 26)];
      return s;
    }
    var w = core.sample(W.NOUNS);
    if (Math.random() < 0.2) w += ' ' + core.sample(W.NOUNS);
    return Math.random() < 0.5 ? w.charAt(0).toUpperCase() + w.slice(1) : w;
  },
  // n labels, no two alike, nor one inside another, whatever the case (an element is named by its text).
  words: function (n, taken) {
    var out = [], seen = (taken || []).map(function (t) { return t.toLowerCase(); });
    while (out.length < n) {
      var w = W.word(), l = w.toLowerCase();
      if (seen.some(function (t) { return t.indexOf(l) >= 0 || l.indexOf(t) >= 0; })) continue;
      out.push(w); seen.push(l);
    }
    return out;
  },
  // For each of the parents, lo to hi-1 labels of its own (the items of a tab, a menu, a folder); no label on the
  // page like another, the parents' included.
  groups: function (parents, lo, hi) {
    var used = parents.slice();
    return parents.map(function () { var w = W.words(core.randi(lo, hi), used); used = used.concat(w); return w; });
  },
  // One of the templates, with {key} filled from vars.
  say: function (templates, vars) {
    return core.sample(templates).replace(/\{(\w+)\}/g, function (_, k) { return vars[k]; });
  },
  // The name of the button that ends the episode.
  doneLabel: function () { return core.sample(['Save', 'Apply', 'Done', 'OK', 'Submit', 'Confirm', 'Update']); },
  // A random inset, so the widget is not always in one place.
  inset: function () { return 'margin:' + core.randi(0, 14) + 'px 0 0 ' + core.randi(0, 24) + 'px'; },
  show: function (instruction, html) {
    document.getElementById('query').innerHTML = instruction;
    document.getElementById('area').innerHTML = '<div style="' + W.inset() + '">' + html + '</div>';
  },
  // 1 when the page is in the wanted state, -1 otherwise: the first ending of an episode counts.
  finish: function (ok, reason) { core.endEpisode(ok ? 1.0 : -1.0, true, reason || (ok ? 'done' : 'wrong')); },
  all: function (sel) { return Array.prototype.slice.call(document.querySelectorAll(sel)); },
  el: function (id) { return document.getElementById(id); },
  // Call fn(element, index) on a click of each element matching sel.
  bind: function (sel, fn) { W.all(sel).forEach(function (e, i) { e.onclick = function () { fn(e, i); }; }); },
  quote: function (s) { return "'" + s + "'"; },
};

window.onload = function () { core.startEpisode(); };
