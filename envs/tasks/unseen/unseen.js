// What the unseen pages share (README.md here): filling the task area and ending the episode. Each page
// defines genProblem() (MiniWoB's protocol, seeded by the harness) and teach(), the teacher's next step
// from the current state (envs/teachers/pages.py reads it).
var unseen = {
  // Set the instruction and rebuild the task area; every episode starts from fresh elements.
  show: function (instruction, html) {
    document.getElementById('query').innerHTML = instruction;
    document.getElementById('area').innerHTML = html;
  },
  // 1 when the page is in the wanted state, -1 otherwise: the first ending of an episode counts.
  finish: function (ok, reason) { core.endEpisode(ok ? 1.0 : -1.0, true, reason || (ok ? 'done' : 'wrong')); },
  all: function (sel) { return Array.prototype.slice.call(document.querySelectorAll(sel)); },
  // Call fn(element, index) on a click of each element matching sel.
  bind: function (sel, fn) {
    unseen.all(sel).forEach(function (e, i) { e.onclick = function () { fn(e, i); }; });
  },
};

window.onload = function () { core.startEpisode(); };
