"""Which teachers decide from what the student cannot see: ``python -m train.teacher_audit --tasks all``.

The embedded model learns to copy its teacher's replies (models/student_form.py), so a reply is only learnable when
everything it decides on is in the prompt the student reads at that step: the task, its previous actions and the
element list (agent/memory.py, the compact layout with the ``Named in the task:`` line). This audit plays each
task through the agent loop with ``teacher:visible`` (the teacher distillation records, in the student's form) and,
at every step, takes the reply's decision tokens:

- the strings the Thought quotes ('Section #2'), and its numbers ($41.50, 7);
- the element an action names (``element='Ok'``), and the text it types (``content='lovelace'``);
- a point the action gives in pixels (``start_box='(63,97)'``).

A token the prompt holds is *copied*. One it lacks is classed by where it came from, which the audit reads from
the page at that same step:

- ``on-screen``: a person sees it, but the element list does not hold it (a long text cut to 60 characters);
- ``hidden``: the page holds it, but not where a person sees it (a face-down card, a closed panel, an attribute,
  a word scrolled out of its box);
- ``derived``: the page's text does not hold it (a sum, a count, a date worked out, or script state);
- ``point``: a pixel point that no listed element sits at (read off the screenshot, or off script state).

``derived`` and ``point`` tokens are not all wrong: the student sees the screenshot too, and a sum of two shown
numbers is fair. The report lists them with examples, and docs/results/teacher_audit.md records the verdict for
each flagged task, read against its teacher. Data leaves as a markdown table on stdout (and ``--json FILE``).
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from agent.loop import Agent, config_for
from envs.browser import Browser, BrowserEnv
from envs.tasks import resolve_tasks
from models import resolve

# The task area's strings in two parts: ``shown``, the words a person sees (each word's box lies on the screen and
# is on top there: not scrolled out of its box, covered or in a closed panel), and ``unseen``, every other word
# and the attribute values (data-*, title, value, alt).
PAGE_TEXT_JS = r"""
() => {
  const root = document.getElementById('wrap') || document.body;
  const shown = [], unseen = [];
  const onTop = (node, r) => {
    if (r.width <= 0 || r.height <= 0) return false;
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) return false;
    const hit = document.elementFromPoint(x, y);
    const owner = node.parentElement || node;
    return !!hit && (hit === owner || owner.contains(hit) || hit.contains(node));
  };
  const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const node = walk.currentNode;
    for (const m of node.textContent.matchAll(/\S+/g)) {
      const range = document.createRange();
      range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
      (onTop(node, range.getBoundingClientRect()) ? shown : unseen).push(m[0]);
    }
    shown.push('\n'); unseen.push('\n');
  }
  for (const el of root.querySelectorAll('*')) {
    for (const a of el.attributes) if (!['class', 'style', 'id'].includes(a.name)) unseen.push(a.value);
    // a field's text is drawn in its box (a long one may be scrolled within it: counted as shown)
    if (typeof el.value === 'string') (onTop(el.firstChild || el, el.getBoundingClientRect()) ? shown : unseen)
      .push(el.value);
  }
  return {shown: shown.join(' '), unseen: unseen.join(' ')};
}
"""

_THOUGHT = re.compile(r"Thought:(.*?)(?:\nAction:|$)", re.S)
_QUOTED = re.compile(r"(?<![\w'])'([^']+?)'(?![\w'])")
_NUMBER = re.compile(r"(?<![\w.])\$?\d+(?:\.\d+)?(?![\w])")
_ELEMENT = re.compile(r"element='((?:[^'\\]|\\.)*)'")
_CONTENT = re.compile(r"content='((?:[^'\\]|\\.)*)'")
_POINT = re.compile(r"(?:start_box|end_box)='\((\d+),(\d+)\)'")


def decision_tokens(reply: str) -> list[tuple[str, str]]:
    """``(kind, token)`` for what a reply decides on: quoted names and numbers of its Thought, the elements its
    actions name, the text they type and the points they give."""
    m = _THOUGHT.search(reply)
    thought, action = (m.group(1), reply[m.end():]) if m else ("", reply)
    tokens = [("quote", q) for q in _QUOTED.findall(thought)]
    bare = _QUOTED.sub(" ", thought)  # numbers inside a quoted name were checked with the name
    tokens += [("number", n.lstrip("$")) for n in _NUMBER.findall(bare)]
    tokens += [("element", e) for e in _ELEMENT.findall(action)]
    tokens += [("typed", c.encode().decode("unicode_escape").rstrip("\n")) for c in _CONTENT.findall(action)]
    tokens += [("point", f"({x},{y})") for x, y in _POINT.findall(action)]
    return [(k, t) for k, t in tokens if t.strip()]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def provenance(kind: str, token: str, prompt: str, page: dict) -> str:
    """``copied`` when the prompt holds the token; else ``point``, ``on-screen``, ``hidden`` or ``derived``
    (module docstring). ``page`` is PAGE_TEXT_JS's answer at the same step."""
    if kind == "point":
        return "copied" if f"at {token}" in prompt else "point"
    if kind == "number":
        found = lambda text: re.search(rf"(?<![\d.]){re.escape(token)}(?![\d])", text) is not None  # noqa: E731
    else:
        found = lambda text: _norm(token) in _norm(text)  # noqa: E731
    for where, text in (("copied", prompt), ("on-screen", page["shown"]), ("hidden", page["unseen"])):
        if found(text):
            return where
    return "derived"


@dataclass
class TaskAudit:
    task: str
    episodes: int = 0
    wins: int = 0
    steps: int = 0
    flagged_steps: int = 0  # steps with a token the prompt lacks
    kinds: Counter = field(default_factory=Counter)  # provenance -> tokens
    examples: dict = field(default_factory=dict)  # provenance -> a few "kind 'token'" strings

    def row(self) -> dict:
        return {"task": self.task, "episodes": self.episodes, "success": self.wins / max(1, self.episodes),
                "steps": self.steps, "flagged_steps": self.flagged_steps, "tokens": dict(self.kinds),
                "examples": self.examples}


class AuditingAgent(Agent):
    """The agent loop, checking each reply against the prompt it answers and the page it acts on."""

    def __init__(self, *args, audit: TaskAudit, **kw):
        super().__init__(*args, **kw)
        self.audit = audit

    def decide(self, messages):
        decision = super().decide(messages)
        prompt = "\n".join(p["text"] for m in messages for p in m["content"] if p.get("type") == "text")
        page = self.env.page.evaluate(PAGE_TEXT_JS)
        flagged = False
        for kind, token in decision_tokens(decision.output):
            where = provenance(kind, token, prompt, page)
            self.audit.kinds[where] += 1
            if where != "copied":
                flagged = True
                seen = self.audit.examples.setdefault(where, [])
                if len(seen) < 3 and f"{kind} '{token}'" not in seen:
                    seen.append(f"{kind} '{token}'")
        self.audit.steps += 1
        self.audit.flagged_steps += flagged
        return decision


def audit_task(env: BrowserEnv, task, seeds: range, spec: str = "teacher:visible") -> TaskAudit:
    audit = TaskAudit(task.id)
    model, card = resolve(spec, env=env)
    for seed in seeds:
        result = AuditingAgent(model, env, config_for(card), audit=audit).run(seed=seed, task=task)
        audit.episodes += 1
        audit.wins += result.success
    return audit


def report(audits: list[TaskAudit]) -> str:
    """A markdown table of the tasks with a token the prompt lacks (the others only counted)."""
    lines = ["| task | success | steps flagged | hidden | on-screen | derived | point | examples |",
             "|---|---|---|---|---|---|---|---|"]
    clean = []
    for a in audits:
        if not a.flagged_steps:
            clean.append(a.task)
            continue
        examples = "; ".join(f"{where}: {e}" for where in ("hidden", "on-screen", "derived", "point")
                             for e in a.examples.get(where, []))
        lines.append(f"| {a.task} | {a.wins}/{a.episodes} | {a.flagged_steps}/{a.steps} | {a.kinds['hidden']} | "
                     f"{a.kinds['on-screen']} | {a.kinds['derived']} | {a.kinds['point']} | "
                     f"{examples.replace('|', '/')} |")
    lines.append(f"\nEvery decision token copied from the prompt ({len(clean)} tasks): {', '.join(clean)}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", default="all", help="all, teachers, core, or a comma list of task ids")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--seed-offset", type=int, default=1000, help="first seed (validation seeds; not 20000+)")
    ap.add_argument("--spec", default="teacher:visible", help="teacher:visible, or teacher:student (privileged)")
    ap.add_argument("--json", default=None, help="also write the per-task counts here")
    args = ap.parse_args()
    browser = Browser()
    env = BrowserEnv(browser=browser, screenshot=True)
    audits = []
    try:
        for task in resolve_tasks(args.tasks):
            if task.has_teacher:
                audits.append(audit_task(env, task, range(args.seed_offset, args.seed_offset + args.seeds),
                                         args.spec))
    finally:
        env.close()
        browser.close()
    print(report(audits))
    if args.json:
        with open(args.json, "w") as f:
            json.dump([a.row() for a in audits], f, indent=1)


if __name__ == "__main__":
    main()
