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
        return click(first(page, "#subbtn"), "Button ONE has not been clicked yet. Button ONE")
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
        return "The section is still sliding open; wait for it to finish.", A.Wait(0.4)
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
        return "A section is still sliding open; wait for it to finish.", A.Wait(0.4)
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
    name = lambda t: t["text"] if t["text"].startswith("Tab") else f"the tab '{t['text']}'"  # noqa: E731
    has = page.evaluate(PANELS_JS, ["#area .ui-tabs-panel", want])
    if True not in has:
        # click-tab-2-medium empties Tab #2; when the link was there, clicking that tab is the answer.
        tab = tabs[1]
        return click(tab, f"No link '{want}' is on {name(tabs[0])}, so it must be on {name(tab)}. {name(tab)}")
    i = has.index(True)
    active = first(page, "#area li.ui-tabs-active a")
    if active is not None and active["text"] == tabs[i]["text"]:
        return (f"The link '{want}' on {name(tabs[i])} is below the view; scroll down.",
                A.Scroll("down", at=(80, 150)))
    return click(tabs[i], f"The link '{want}' is on {name(tabs[i])}, which is not shown. That tab")


# ---------------------------------------------------------------------------------------------------------
# jQuery UI menus
# ---------------------------------------------------------------------------------------------------------

# The menu items along a path of labels: for each, its centre, whether it is shown, hovered, and has a submenu.
MENU_PATH_JS = r"""
([rootSel, path]) => {
  let ul = document.querySelector(rootSel);
  const out = [];
  for (const name of path) {
    if (!ul) break;
    const li = [...ul.children].find(li => {
      const d = li.querySelector(':scope > div');
      return d && d.textContent.replace(/\s+/g, ' ').trim() === name;
    });
    if (!li) break;
    const d = li.querySelector(':scope > div');
    const r = d.getBoundingClientRect(), s = getComputedStyle(ul);
    const shown = r.width > 0 && r.height > 0 && s.display !== 'none' && s.visibility !== 'hidden';
    out.push({name, x: Math.round(r.left + r.width / 2), y: Math.round(r.top + r.height / 2), shown,
              hovered: li.matches(':hover'), sub: !!li.querySelector(':scope > ul')});
    ul = li.querySelector(':scope > ul');
  }
  return out;
}
"""


def _menu_step(page, root: str, path: list[str], goal: str):
    items = page.evaluate(MENU_PATH_JS, [root, path])
    shown = [it for it in items if it["shown"]]
    last = shown[-1]
    if last is items[-1] and len(items) == len(path):
        return f"The item {goal} is at ({last['x']}, {last['y']}); click it.", A.Click(_pt(last))
    nxt = path[len(shown)]
    if last["hovered"]:
        return f"The submenu of '{last['name']}' is opening; wait for '{nxt}' to appear.", A.Wait(0.4)
    return (f"The item '{last['name']}' at ({last['x']}, {last['y']}) holds '{nxt}' in its submenu; hover over it "
            f"to open the submenu.", A.Hover(_pt(last)))


@teacher("click-menu")
def click_menu(obs, page):
    path = obs.instruction.strip()[len("Select "):].split(">")
    return _menu_step(page, "#menu", path, f"'{path[-1]}'")


MENU_2_ICONS = {"ui-icon-disk": ("Save", "disk"), "ui-icon-seek-start": ("Prev", "seek-start"),
                "ui-icon-stop": ("Stop", "stop"), "ui-icon-play": ("Play", "play"),
                "ui-icon-seek-end": ("Next", "seek-end"), "ui-icon-zoomin": ("Zoom In", "zoom-in"),
                "ui-icon-zoomout": ("Zoom Out", "zoom-out")}


@teacher("click-menu-2")
def click_menu_2(obs, page):
    labels = quoted(obs.instruction)
    if len(labels) > 1:
        want = labels[-1]
        goal = f"'{want}'"
    else:
        icon = page.evaluate("() => document.querySelector('#query .ui-icon').className")
        want, icon_name = next(v for k, v in MENU_2_ICONS.items() if k in icon.split())
        goal = f"'{want}' with the {icon_name} icon"
    if not query(page, "#menu"):
        return click(first(page, "#open-menu"), "The menu is closed. The 'Menu' button")
    path = ["Playback", want] if want in ("Prev", "Stop", "Play", "Next") else [want]
    return _menu_step(page, "#menu", path, goal)


# The options of a multiple-choice list box: text, selected, and how much of each the list shows.
LISTBOX_JS = r"""
(sel) => {
  const s = document.querySelector(sel), r = s.getBoundingClientRect();
  const top = r.top + s.clientTop, bottom = top + s.clientHeight;
  return {focused: document.activeElement === s, x: Math.round(r.left + r.width / 2),
          y: Math.round(r.top + r.height / 2), scrollTop: s.scrollTop,
          maxScroll: s.scrollHeight - s.clientHeight,
          options: [...s.options].map(o => {
            const b = o.getBoundingClientRect();
            const y0 = Math.max(b.top, top), y1 = Math.min(b.bottom, bottom);
            return {text: o.textContent.trim(), selected: o.selected, x: Math.round(b.left + b.width / 2),
                    y: Math.round((y0 + y1) / 2), shown: y1 - y0, height: b.height, above: b.top < top};
          })};
}
"""


@teacher("click-scroll-list")
def click_scroll_list(obs, page):
    m = re.match(r"Select (.*) from the scroll list and click Submit", obs.instruction)
    want = [w.strip() for w in m.group(1).split(", ")]
    box = page.evaluate(LISTBOX_JS, "#options")
    opts = box["options"]
    names = [o["text"] for o in opts]
    chosen = [o["text"] for o in opts if o["selected"]]
    if sorted(chosen) == sorted(want):
        return click(first(page, "#area button"), f"The list has {_join([repr(w) for w in want])} selected. "
                                                 "The Submit button")
    if chosen and set(chosen) <= set(want) and box["focused"]:
        # Add the missing option with the keyboard: Ctrl+Home/End and Ctrl+arrows move without selecting,
        # and Ctrl+Space toggles the option reached.
        add = next(w for w in want if w not in chosen)
        k = names.index(add)
        if k <= len(names) - 1 - k:
            keys = ["ctrl home"] + ["ctrl down"] * k
            how = f"Ctrl+Home moves to the first option, Ctrl+Down {k} times moves to it" if k else \
                "Ctrl+Home moves to it, the first option"
        else:
            k2 = len(names) - 1 - k
            keys = ["ctrl end"] + ["ctrl up"] * k2
            how = f"Ctrl+End moves to the last option, Ctrl+Up {k2} times moves to it" if k2 else \
                "Ctrl+End moves to it, the last option"
        return (f"'{chosen[0]}' is selected; '{add}' is option {k + 1} of {len(names)} and must be added without "
                f"losing it: {how}, and Ctrl+Space selects it.",
                [A.Hotkey(key) for key in keys + ["ctrl space"]])
    target = want[0]
    o = opts[names.index(target)]
    if o["shown"] >= o["height"] - 1:
        return f"The option '{target}' is at ({o['x']}, {o['y']}) in the list; click it.", A.Click(_pt(o))
    up = o["above"]
    can_scroll = box["scrollTop"] > 0 if up else box["scrollTop"] < box["maxScroll"]
    if can_scroll:
        return (f"The option '{target}' is {'above' if up else 'below'} the visible part of the list; scroll the list "
                f"{'up' if up else 'down'}.", A.Scroll("up" if up else "down", at=(box["x"], box["y"])))
    # The list cannot scroll further, yet the option is cut off at its edge: click the neighbour that shows
    # fully and move the selection onto the option with an arrow key.
    j = names.index(target) + (1 if up else -1)
    n = opts[j]
    key = "up" if up else "down"
    return (f"The option '{target}' is cut off at the {'top' if up else 'bottom'} edge of the list; click "
            f"'{n['text']}' next to it at ({n['x']}, {n['y']}), then press {key.capitalize()} to select '{target}'.",
            [A.Click(_pt(n)), A.Hotkey(key)])
