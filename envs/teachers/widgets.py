"""Teachers: widgets (check boxes, lists, jQuery UI accordions, dialogs, menus, tabs, date pickers, sliders).

Every teacher decides from the page as it is now: it reads the DOM (privileged), finds what is still wrong,
and returns one action that fixes the next thing, or the Submit click once nothing is wrong. Widgets that
animate (accordions, date pickers, menus) get a short Wait while they move.
"""

from __future__ import annotations

import math
import re

from agent import actions as A
from envs.teachers import teacher
from envs.teachers.dom import click, first, query, quoted

W, H = 160, 210  # the screenshot: the task area at page (0, 0)


def _inside(el: dict, margin: int = 1) -> bool:
    """The element's click point lies on the screenshot."""
    return margin <= el["x"] < W - margin and margin <= el["y"] < H - margin


def _pt(el: dict) -> tuple[int, int]:
    return el["x"], el["y"]


def _submit(page, done: str, selector: str = "#subbtn") -> tuple[str, A.Action]:
    btn = first(page, selector)
    return click(btn, f"{done} The Submit button")


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# ---------------------------------------------------------------------------------------------------------
# Check boxes and radio buttons
# ---------------------------------------------------------------------------------------------------------

# Each <label> holding a check box or radio button: its text, the box's centre and whether it is ticked.
LABELLED_BOXES_JS = r"""
(sel) => [...document.querySelectorAll(sel)].map(lab => {
  const box = lab.querySelector('input');
  const r = box.getBoundingClientRect();
  return {text: lab.textContent.replace(/\s+/g, ' ').trim(), x: Math.round(r.left + r.width / 2),
          y: Math.round(r.top + r.height / 2), checked: box.checked};
})
"""


def _batch_size(n: int, large: bool) -> int:
    """How many boxes to click in one turn so that n clicks plus Submit fit the 10-step budget."""
    if not large or n <= 4:
        return 1
    return 2 if n <= 8 else 3


def _fix_boxes(page, boxes: list[dict], want: dict[int, bool], reason: dict[int, str] | None = None,
               large: bool = False) -> tuple[str, A.Action] | None:
    """Click the boxes whose ticked state is wrong, one (or a few) per turn; None when all are right."""
    wrong = [i for i, b in enumerate(boxes) if b["checked"] != want[i]]
    if not wrong:
        return None
    # Untick wrong ticks first, then tick in order from the top.
    wrong.sort(key=lambda i: (want[i], i))
    batch = wrong[: _batch_size(len(wrong), large)]
    reason = reason or {}

    def phrase(i):
        b = boxes[i]
        return f"'{b['text']}' at ({b['x']}, {b['y']})" + reason.get(i, "")

    if all(want[i] for i in batch):
        state = "is not ticked yet" if len(batch) == 1 else "are not ticked yet"
    elif not any(want[i] for i in batch):
        state = "is ticked but should not be" if len(batch) == 1 else "are ticked but should not be"
    else:
        state = "are in the wrong state"
    if len(batch) == 1:
        b = boxes[batch[0]]
        return f"The checkbox {phrase(batch[0])} {state}; click it.", A.Click(_pt(b))
    return (f"The checkboxes {_join([phrase(i) for i in batch])} {state}; click them.",
            [A.Click(_pt(boxes[i])) for i in batch])


def _checkbox_names(instruction: str) -> list[str]:
    m = re.match(r"Select (?:words similar to )?(.*) and click Submit\.?$", instruction.strip())
    body = m.group(1) if m else ""
    return [] if body == "nothing" else [s.strip() for s in body.split(",") if s.strip()]


def _checkboxes(obs, page, large: bool = False):
    names = set(_checkbox_names(obs.instruction))
    boxes = page.evaluate(LABELLED_BOXES_JS, "#area label")
    want = {i: b["text"] in names for i, b in enumerate(boxes)}
    step = _fix_boxes(page, boxes, want, large=large)
    if step:
        return step
    ticked = [b["text"] for b in boxes if b["checked"]]
    done = f"The ticked boxes are {_join([repr(t) for t in ticked])}." if ticked else "No box is ticked, as asked."
    return _submit(page, done)


@teacher("click-checkboxes", "click-checkboxes-transfer")
def click_checkboxes(obs, page):
    return _checkboxes(obs, page)


@teacher("click-checkboxes-large")
def click_checkboxes_large(obs, page):
    return _checkboxes(obs, page, large=True)


@teacher("click-checkboxes-soft")
def click_checkboxes_soft(obs, page):
    names = _checkbox_names(obs.instruction)
    groups = page.evaluate("() => SYNONYMS")
    boxes = page.evaluate(LABELLED_BOXES_JS, "#area label")
    want, reason = {}, {}
    for i, b in enumerate(boxes):
        mine = [g for g in groups if b["text"] in g]
        match = next((n for n in names for g in mine if n in g), None)
        want[i] = match is not None
        if match is not None and match != b["text"]:
            reason[i] = f", similar to '{match}',"
    step = _fix_boxes(page, boxes, want, reason)
    if step:
        return step
    ticked = [b["text"] for b in boxes if b["checked"]]
    return _submit(page, f"The words similar to {_join(names)} are ticked: {_join([repr(t) for t in ticked])}.")


@teacher("click-option")
def click_option(obs, page):
    name = _checkbox_names(obs.instruction)[0]
    boxes = page.evaluate(LABELLED_BOXES_JS, "#area label")
    b = next(b for b in boxes if b["text"] == name)
    if not b["checked"]:
        return f"The radio button '{name}' at ({b['x']}, {b['y']}) is not selected yet; click it.", A.Click(_pt(b))
    return _submit(page, f"The radio button '{name}' is selected.")


# ---------------------------------------------------------------------------------------------------------
# Drop-down and scroll lists
# ---------------------------------------------------------------------------------------------------------

@teacher("choose-list")
def choose_list(obs, page):
    want = re.match(r"Select (.*) from the list and click Submit", obs.instruction).group(1)
    sel = first(page, "#options")
    shown = page.evaluate("() => { const s = document.getElementById('options');"
                          " return s.options[s.selectedIndex].textContent; }")
    if shown != want:
        return (f"The drop-down list at ({sel['x']}, {sel['y']}) shows '{shown}', not '{want}'; select '{want}'.",
                A.Select(_pt(sel), want))
    return click(first(page, "#area button"), f"The list shows '{want}'. The Submit button")
