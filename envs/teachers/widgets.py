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


# ---------------------------------------------------------------------------------------------------------
# Buttons and widgets
# ---------------------------------------------------------------------------------------------------------

@teacher("click-button-sequence")
def click_button_sequence(obs, page):
    pushed = page.evaluate("() => typeof buttonsPushed === 'undefined' ? [] : buttonsPushed")
    if not pushed:
        return click(first(page, "#subbtn"), "Button ONE comes first; it")
    return click(first(page, "#subbtn2"), "Button ONE has been clicked. Button TWO")


@teacher("click-test-transfer")
def click_test_transfer(obs, page):
    want = re.search(r"button (\w+)", obs.instruction).group(1)
    btn = next(b for b in query(page, "#area button") if b["text"] == want)
    return click(btn, f"The button '{want}'")


@teacher("click-widget")
def click_widget(obs, page):
    kind = quoted(obs.instruction)[0]
    el = first(page, f"#area .widget [data-type='{kind}']")
    return click(el, f"A '{kind}' widget")


@teacher("click-dialog")
def click_dialog(obs, page):
    return click(first(page, ".ui-dialog-titlebar-close"), "The dialog's close button 'x'")


@teacher("click-dialog-2")
def click_dialog_2(obs, page):
    want = quoted(obs.instruction)[0]
    if want == "x":
        return click(first(page, ".ui-dialog-titlebar-close"), "The dialog's close button 'x'")
    btn = next(b for b in query(page, ".ui-dialog-buttonpane button") if b["text"] == want)
    return click(btn, f"The dialog button '{want}'")


# ---------------------------------------------------------------------------------------------------------
# jQuery UI accordions and tabs
# ---------------------------------------------------------------------------------------------------------

ANIMATING_JS = "() => typeof $ !== 'undefined' && $('#area :animated, .ui-datepicker:animated').length > 0"


def _animating(page) -> bool:
    return bool(page.evaluate(ANIMATING_JS))


def _links(page, text: str) -> list[dict]:
    return [a for a in query(page, "#area .alink") if a["text"] == text]


# For each accordion or tab panel, whether it holds a link with this text.
PANELS_JS = r"""
([panelSel, text]) => [...document.querySelectorAll(panelSel)].map(p =>
  [...p.querySelectorAll('.alink')].some(a => a.textContent.trim() === text))
"""


@teacher("click-collapsible", "click-collapsible-nodelay")
def click_collapsible(obs, page):
    if _animating(page):
        return "The section is still sliding open; wait for it to finish.", A.Wait(0.3)
    head = first(page, "#area h3")
    if not query(page, "#area .ui-accordion-content"):
        return click(head, f"The section '{head['text']}' is collapsed. Its header")
    btn = first(page, "#subbtn")
    if not _inside(btn):
        return (f"The section is expanded but the Submit button is below the view; scroll down.",
                A.Scroll("down", at=(80, 150)))
    return click(btn, f"The section '{head['text']}' is expanded. The Submit button")


@teacher("click-collapsible-2", "click-collapsible-2-nodelay")
def click_collapsible_2(obs, page):
    want = quoted(obs.instruction)[-1]
    if _animating(page):
        return "A section is still sliding open; wait for it to finish.", A.Wait(0.3)
    links = [a for a in _links(page, want) if _inside(a)]
    if links:
        return click(links[0], f"The link '{want}'")
    heads = query(page, "#area h3")
    has = page.evaluate(PANELS_JS, ["#area .ui-accordion-content", want])
    i = has.index(True)
    if "ui-state-active" in heads[i]["cls"]:
        return (f"The link '{want}' in '{heads[i]['text']}' is below the view; scroll down.",
                A.Scroll("down", at=(80, 150)))
    return click(heads[i], f"The link '{want}' is inside the collapsed section '{heads[i]['text']}'. Its header")


@teacher("click-tab")
def click_tab(obs, page):
    want = re.search(r"Tab #\d", obs.instruction).group(0)
    tab = next(a for a in query(page, "#area ul a") if a["text"] == want)
    return click(tab, f"The tab '{want}'")


@teacher("click-tab-2", "click-tab-2-easy", "click-tab-2-medium", "click-tab-2-hard")
def click_tab_2(obs, page):
    want = quoted(obs.instruction)[-1]
    links = [a for a in _links(page, want) if _inside(a)]
    if links:
        return click(links[0], f"The link '{want}'")
    tabs = query(page, "#area ul a")
    name = lambda t: t["text"] if t["text"].startswith("Tab") else f"Tab {t['text']}"  # noqa: E731
    has = page.evaluate(PANELS_JS, ["#area .ui-tabs-panel", want])
    if True not in has:
        # click-tab-2-medium empties Tab #2; when the link was there, clicking that tab is the answer.
        tab = tabs[1]
        return click(tab, f"No link '{want}' is on {name(tabs[0])}, and {name(tab)} is the other tab; {name(tab)}")
    i = has.index(True)
    active = first(page, "#area li.ui-tabs-active a")
    if active is not None and active["text"] == tabs[i]["text"]:
        return (f"The link '{want}' on {name(tabs[i])} is below the view; scroll down.",
                A.Scroll("down", at=(80, 150)))
    return click(tabs[i], f"The link '{want}' is on {name(tabs[i])}, which is not shown. That tab")
