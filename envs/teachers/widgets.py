"""Teachers: widgets (check boxes, lists, jQuery UI accordions, dialogs, menus, tabs, date pickers, sliders).

Every teacher decides from the page as it is now: it reads the DOM (privileged), finds what is still wrong,
and returns one action that fixes the next thing, or the Submit click once nothing is wrong. Widgets that
animate (accordions, date pickers, menus) get a short Wait while they move.
"""

from __future__ import annotations

import math
import re

from core import actions as A
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


def _times(k: int) -> str:
    return {1: "once", 2: "twice"}.get(k, f"{k} times")


def _join_quoted(names: list[str]) -> str:
    return _join([f"'{n}'" for n in names])


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
    batch = [i for i in wrong if want[i] == want[wrong[0]]][: _batch_size(len(wrong), large)]
    reason = reason or {}

    def phrase(i):
        b = boxes[i]
        return f"'{b['text']}' at ({b['x']}, {b['y']})" + reason.get(i, "")

    if want[batch[0]]:
        state = "is not ticked yet" if len(batch) == 1 else "are not ticked yet"
    else:
        state = "is ticked but should not be" if len(batch) == 1 else "are ticked but should not be"
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
    done = f"The ticked boxes are {_join_quoted(ticked)}." if ticked else "No box is ticked, as asked."
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
    return _submit(page, f"The words similar to {_join(names)} are ticked: {_join_quoted(ticked)}.")


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

# A point where the element is on top (not covered by another), near the middle of its uncovered part.
UNCOVERED_POINT_JS = r"""
(sel) => {
  const el = document.querySelector(sel), r = el.getBoundingClientRect(), pts = [];
  for (let y = Math.ceil(r.top); y < r.bottom; y += 1)
    for (let x = Math.ceil(r.left); x < r.right; x += 1) {
      const e = document.elementFromPoint(x, y);
      if (e && (e === el || el.contains(e))) pts.push([x, y]);
    }
  if (!pts.length) return null;
  const cx = pts.reduce((a, p) => a + p[0], 0) / pts.length, cy = pts.reduce((a, p) => a + p[1], 0) / pts.length;
  pts.sort((a, b) => Math.hypot(a[0] - cx, a[1] - cy) - Math.hypot(b[0] - cx, b[1] - cy));
  return {x: pts[0][0], y: pts[0][1]};
}
"""


def _uncovered(page, sel: str) -> dict:
    """The element ``sel`` from ``query``, clicked where no other element covers it."""
    el = first(page, sel)
    pt = page.evaluate(UNCOVERED_POINT_JS, sel)
    return {**el, **pt} if pt else el


@teacher("click-button-sequence")
def click_button_sequence(obs, page):
    pushed = page.evaluate("() => typeof buttonsPushed === 'undefined' ? [] : buttonsPushed")
    if not pushed:
        return click(_uncovered(page, "#subbtn"), "Button ONE has not been clicked yet. Button ONE")
    if pushed[0] != "subbtn":
        return click(_uncovered(page, "#subbtn"), "Button TWO was clicked before ONE, so the order is already "
                                                  "wrong; finish the pair anyway. Button ONE")
    return click(_uncovered(page, "#subbtn2"), "Button ONE has been clicked. Button TWO")


@teacher("click-test-transfer")
def click_test_transfer(obs, page):
    want = re.search(r"button (\w+)", obs.instruction).group(1)
    return click(_uncovered(page, "#subbtn" if want == "ONE" else "#subbtn2"), f"The button '{want}'")


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
        return ("The section is expanded but the Submit button is below the view; scroll down.",
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
              hovered: li.matches(':hover'), active: d.classList.contains('ui-state-active'),
              sub: !!li.querySelector(':scope > ul')});
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
    if last["hovered"] and last["active"]:
        return f"The submenu of '{last['name']}' is opening; wait for '{nxt}' to appear.", A.Wait(0.4)
    if last["hovered"]:
        # The pointer rests on the item but the menu lost it (a click elsewhere closed the submenus): the pointer
        # must leave and enter the item again.
        return (f"The pointer is on '{last['name']}' but its submenu is closed; move the pointer off the menu "
                "first, onto the instruction at (80, 25).", A.Hover((80, 25)))
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
          maxScroll: s.scrollHeight - s.clientHeight, clientHeight: s.clientHeight,
          options: [...s.options].map(o => {
            const b = o.getBoundingClientRect();
            const y0 = Math.max(b.top, top), y1 = Math.min(b.bottom, bottom);
            return {text: o.textContent.trim(), selected: o.selected, x: Math.round(b.left + b.width / 2),
                    y: Math.round((y0 + y1) / 2), shown: y1 - y0, height: b.height, above: b.top < top,
                    top: b.top - top};
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
        return click(first(page, "#area button"), f"The list has {_join_quoted(want)} selected. "
                                                 "The Submit button")
    if chosen and set(chosen) <= set(want) and box["focused"]:
        # Add the missing option with the keyboard: Ctrl+Home/End and Ctrl+arrows move without selecting,
        # and Ctrl+Space toggles the option reached.
        add = next(w for w in want if w not in chosen)
        k = names.index(add)
        if k <= len(names) - 1 - k:
            keys = ["ctrl home"] + ["ctrl down"] * k
            how = f"Ctrl+Home moves to the first option, Ctrl+Down {_times(k)} moves to it" if k else \
                "Ctrl+Home moves to it, the first option"
        else:
            k2 = len(names) - 1 - k
            keys = ["ctrl end"] + ["ctrl up"] * k2
            how = f"Ctrl+End moves to the last option, Ctrl+Up {_times(k2)} moves to it" if k2 else \
                "Ctrl+End moves to it, the last option"
        return (f"'{chosen[0]}' is selected; '{add}' is option {k + 1} of {len(names)} and must be added without "
                f"losing it: {how}, and Ctrl+Space selects it.",
                [A.Hotkey(key) for key in keys + ["ctrl space"]])
    target = want[0]
    o = opts[names.index(target)]
    if o["shown"] >= o["height"] - 1:
        return f"The option '{target}' is at ({o['x']}, {o['y']}) in the list; click it.", A.Click(_pt(o))
    up = o["above"]
    # Where the option sits in the list's content, and whether one 100-pixel scroll shows it whole.
    top = o["top"] + box["scrollTop"]
    after = min(max(box["scrollTop"] + (-100 if up else 100), 0), box["maxScroll"])
    neighbour = opts[names.index(target) + (1 if up else -1)]
    whole_after = after <= top and top + o["height"] <= after + box["clientHeight"]
    if whole_after or neighbour["shown"] < neighbour["height"] - 1:
        return (f"The option '{target}' is {'above' if up else 'below'} the visible part of the list; scroll the list "
                f"{'up' if up else 'down'}.", A.Scroll("up" if up else "down", at=(box["x"], box["y"])))
    # The list cannot scroll further, yet the option is cut off at its edge: click the neighbour that shows
    # fully and move the selection onto the option with an arrow key.
    n = neighbour
    key = "up" if up else "down"
    return (f"The option '{target}' is cut off at the {'top' if up else 'bottom'} edge of the list; click "
            f"'{n['text']}' next to it at ({n['x']}, {n['y']}), then press {key.capitalize()} to select '{target}'.",
            [A.Click(_pt(n)), A.Hotkey(key)])


# ---------------------------------------------------------------------------------------------------------
# jQuery UI date picker
# ---------------------------------------------------------------------------------------------------------

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]

DATEPICKER_JS = r"""
() => {
  const div = document.getElementById('ui-datepicker-div'), inp = document.getElementById('datepicker');
  const open = !!div && getComputedStyle(div).display !== 'none';
  const month = open ? div.querySelector('.ui-datepicker-month') : null;
  const year = open ? div.querySelector('.ui-datepicker-year') : null;
  return {open, animating: typeof $ !== 'undefined' && $('#ui-datepicker-div').is(':animated'),
          focused: document.activeElement === inp, value: inp.value,
          month: month ? month.textContent.trim() : null, year: year ? +year.textContent.trim() : null};
}
"""


def _pick_date(obs, page):
    target = re.search(r"\d\d/\d\d/\d{4}", obs.instruction).group(0)
    mm, dd, yyyy = (int(v) for v in target.split("/"))
    st = page.evaluate(DATEPICKER_JS)
    if st["animating"]:
        return "The calendar is still fading; wait for it to settle.", A.Wait(0.4)
    field = first(page, "#datepicker")
    if not st["open"]:
        if st["value"] == target:
            return _submit(page, f"The date field shows {target}.")
        shows = f"shows {st['value']}" if st["value"] else "is empty"
        if st["focused"]:
            return (f"The date field {shows} and has the focus, but the calendar is closed; press Ctrl+Home to "
                    "open it.", A.Hotkey("ctrl home"))
        return click(field, f"The date field {shows}; it needs {target}. The date field")
    shown = MONTHS.index(st["month"]) + 1, st["year"]
    diff = (yyyy - shown[1]) * 12 + (mm - shown[0])
    where = f"The calendar shows {st['month']} {st['year']}"
    if diff:
        arrow = first(page, "#ui-datepicker-div .ui-datepicker-prev" if diff < 0 else
                      "#ui-datepicker-div .ui-datepicker-next")
        name = "Prev" if diff < 0 else "Next"
        n = min(abs(diff), 4)
        gap = f"{abs(diff)} month{'s' if abs(diff) > 1 else ''} {'earlier' if diff < 0 else 'later'}"
        say = f"{where} and {target} is in {MONTHS[mm - 1]} {yyyy}, {gap}"
        if n == 1:
            return f"{say}; the {name} arrow is at ({arrow['x']}, {arrow['y']}); click it.", A.Click(_pt(arrow))
        return (f"{say}; the {name} arrow is at ({arrow['x']}, {arrow['y']}); click it {_times(n)}.",
                [A.Click(_pt(arrow))] * n)
    days = query(page, f"#ui-datepicker-div td[data-month='{mm - 1}'][data-year='{yyyy}'] a")
    day = next(d for d in days if d["text"] == str(dd))
    return click(day, f"{where}. The day {dd}")


@teacher("choose-date", "choose-date-easy", "choose-date-medium", "choose-date-nodelay")
def choose_date(obs, page):
    return _pick_date(obs, page)


# ---------------------------------------------------------------------------------------------------------
# number-checkboxes: draw a digit on a 7x4 grid of check boxes
# ---------------------------------------------------------------------------------------------------------

@teacher("number-checkboxes")
def number_checkboxes(obs, page):
    digit = int(quoted(obs.instruction)[0])
    pattern = page.evaluate("(d) => PATTERNS[d]", digit)
    boxes = query(page, "#checkboxes input[type=checkbox]")
    for row in range(7):
        cells = boxes[row * 4:(row + 1) * 4]
        wrong = [(c, bool(pattern[row][col])) for col, c in enumerate(cells) if c["checked"] != bool(pattern[row][col])]
        if not wrong:
            continue
        ticks = [f"({c['x']}, {c['y']})" for c, tick in wrong if tick]
        unticks = [f"({c['x']}, {c['y']})" for c, tick in wrong if not tick]
        parts = []
        if ticks:
            parts.append(f"the box{'es' if len(ticks) > 1 else ''} at {_join(ticks)} "
                         f"{'need ticks' if len(ticks) > 1 else 'needs a tick'}")
        if unticks:
            parts.append(f"the box{'es' if len(unticks) > 1 else ''} at {_join(unticks)} "
                         f"must be unticked")
        what = f"In row {row + 1} of the digit {digit}, {' and '.join(parts)}"
        if len(wrong) == 1:
            return f"{what}; click it.", A.Click(_pt(wrong[0][0]))
        return f"{what}; click them.", [A.Click(_pt(c)) for c, _ in wrong]
    return _submit(page, f"The boxes now draw the digit {digit}, like the example on the right.")


# ---------------------------------------------------------------------------------------------------------
# jQuery UI sliders
# ---------------------------------------------------------------------------------------------------------

SLIDER_JS = r"""
(sel) => {
  const s = $(sel), r = s[0].getBoundingClientRect(), h = s.find('.ui-slider-handle')[0];
  const hr = h.getBoundingClientRect();
  return {value: s.slider('value'), min: s.slider('option', 'min'), max: s.slider('option', 'max'),
          vertical: s.slider('option', 'orientation') === 'vertical', focused: document.activeElement === h,
          box: [r.left, r.top, r.right, r.bottom],
          hx: Math.round(hr.left + hr.width / 2), hy: Math.round(hr.top + hr.height / 2)};
}
"""


def _slider_step(page, sel: str, target: int, name: str):
    """One step moving the slider ``sel`` to ``target``: a drag near it, then arrow keys; None when it is there."""
    s = page.evaluate(SLIDER_JS, sel)
    diff = target - s["value"]
    if diff == 0:
        return None
    handle = (s["hx"], s["hy"])
    if s["focused"] and abs(diff) <= 5:
        key = ("up" if diff > 0 else "down") if s["vertical"] else ("right" if diff > 0 else "left")
        return (f"The {name} is at {s['value']} and has the focus; it needs {target}, so press {key.capitalize()} "
                f"{_times(abs(diff))}.", [A.Hotkey(key)] * abs(diff))
    frac = (target - s["min"]) / (s["max"] - s["min"])
    x0, y0, x1, y1 = s["box"]
    if s["vertical"]:
        end = (handle[0], int(round(y1 - frac * (y1 - y0))))
    else:
        end = (int(round(x0 + frac * (x1 - x0))), handle[1])
    return (f"The {name} is at {s['value']} and needs {target}; drag its handle from ({handle[0]}, {handle[1]}) to "
            f"({end[0]}, {end[1]}).", A.Drag(handle, end))


@teacher("use-slider")
def use_slider(obs, page):
    target = int(re.search(r"Select (-?\d+)", obs.instruction).group(1))
    step = _slider_step(page, "#slider", target, "slider")
    return step or _submit(page, f"The slider shows {target}.")


@teacher("use-slider-2")
def use_slider_2(obs, page):
    combo = [int(v) for v in re.search(r"\[([-\d,\s]+)\]", obs.instruction).group(1).split(",")]
    names = ["first slider", "second slider", "third slider"]
    for i, target in enumerate(combo):
        step = _slider_step(page, f"#slider-{i + 1}", target, names[i])
        if step:
            return step
    return _submit(page, f"The sliders show {combo[0]}, {combo[1]} and {combo[2]}.")


# ---------------------------------------------------------------------------------------------------------
# Text areas: scrolling, resizing, highlighting
# ---------------------------------------------------------------------------------------------------------

FIELD_JS = r"""
(sel) => {
  const el = document.querySelector(sel);
  return {value: el.value, focused: document.activeElement === el,
          all: el.value.length > 0 && el.selectionStart === 0 && el.selectionEnd === el.value.length};
}
"""


def _fill(page, sel: str, want: str, name: str):
    """One step towards the text field ``sel`` holding ``want``; None once it does."""
    f = page.evaluate(FIELD_JS, sel)
    if f["value"] == want:
        return None
    box = first(page, sel)
    where = f"({box['x']}, {box['y']})"
    if not f["value"]:
        return f"The {name} at {where} is empty; type '{want}' into it.", A.Type(want, at=_pt(box))
    if f["focused"] and f["all"]:
        return f"The wrong text '{f['value']}' in the {name} is selected; type '{want}' over it.", A.Type(want)
    if f["focused"]:
        return (f"The {name} at {where} holds '{f['value']}' instead of '{want}'; select it all with Ctrl+A.",
                A.Hotkey("ctrl a"))
    return click(box, f"The {name} holds '{f['value']}' instead of '{want}'. The {name}")


SCROLLBOX_JS = r"""
(sel) => { const el = document.querySelector(sel);
  return {top: el.scrollTop, max: el.scrollHeight - el.clientHeight}; }
"""


@teacher("scroll-text")
def scroll_text(obs, page):
    text = page.evaluate("() => document.getElementById('text-area').value")
    word = text.split()[-1].replace(".", "")
    word = re.sub(r"[^a-zA-Z0-9]", "", word)
    answer = page.evaluate("() => document.getElementById('answer-input').value")
    if re.sub(r"[^a-zA-Z0-9]", "", answer) == word:
        return _submit(page, f"The text field holds the last word, '{word}'.")
    area = first(page, "#text-area")
    sc = page.evaluate(SCROLLBOX_JS, "#text-area")
    if sc["top"] < sc["max"] - 1 and not answer:
        return (f"The end of the text is below the visible part of the text area at ({area['x']}, {area['y']}); "
                "scroll it down.", A.Scroll("down", at=_pt(area)))
    step = _fill(page, "#answer-input", word, "text field")
    if step and not answer:
        return (f"The text area is scrolled to the end, and its last word is '{word}'. "
                + step[0].replace(" is empty;", " is empty, so"), step[1])
    return step


@teacher("scroll-text-2")
def scroll_text_2(obs, page):
    down = "bottom" in obs.instruction
    area = first(page, "#text-area")
    sc = page.evaluate(SCROLLBOX_JS, "#text-area")
    if down and sc["top"] < sc["max"] - 3:
        return (f"The text area at ({area['x']}, {area['y']}) is not scrolled to the bottom yet; scroll it down.",
                A.Scroll("down", at=_pt(area)))
    if not down and sc["top"] > 3:
        return (f"The text area at ({area['x']}, {area['y']}) is not scrolled to the top yet; scroll it up.",
                A.Scroll("up", at=_pt(area)))
    return _submit(page, f"The text area is scrolled to the {'bottom' if down else 'top'}.")


# The rectangles of an element's text: the first character's left edge and the last character's right edge.
TEXT_SPAN_JS = r"""
(sel) => {
  const el = document.querySelector(sel);
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT, {acceptNode: n =>
    n.nodeValue.trim() ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT});
  const nodes = []; while (walker.nextNode()) nodes.push(walker.currentNode);
  const a = nodes[0], b = nodes[nodes.length - 1];
  const r = document.createRange();
  const i = a.nodeValue.search(/\S/); r.setStart(a, i); r.setEnd(a, i + 1);
  const s = r.getBoundingClientRect();
  const j = b.nodeValue.trimEnd().length; r.setStart(b, j - 1); r.setEnd(b, j);
  const e = r.getBoundingClientRect();
  return {start: [s.left, (s.top + s.bottom) / 2], end: [e.right, (e.top + e.bottom) / 2],
          text: el.textContent, selected: window.getSelection().toString()};
}
"""


def _highlight(page, sel: str, what: str):
    t = page.evaluate(TEXT_SPAN_JS, sel)
    squash = lambda s: re.sub(r"\s", "", s)  # noqa: E731
    if squash(t["selected"]) == squash(t["text"]):
        return _submit(page, f"{what[0].upper()}{what[1:]} is highlighted.")
    start = (int(math.floor(t["start"][0])), int(round(t["start"][1])))
    end = (min(int(math.ceil(t["end"][0])) + 2, W - 1), int(round(t["end"][1])))
    if t["selected"].strip():
        # A drag that starts on highlighted text would drag that text instead of selecting; clear it first.
        return (f"Other text is highlighted; click at ({start[0]}, {start[1]}) to clear the highlight first.",
                A.Click(start))
    return (f"{what[0].upper()}{what[1:]} runs from ({start[0]}, {start[1]}) to ({end[0]}, {end[1]}); drag across "
            "it to highlight it.", A.Drag(start, end))


@teacher("highlight-text")
def highlight_text(obs, page):
    return _highlight(page, "#randomText", "the paragraph")


@teacher("highlight-text-2")
def highlight_text_2(obs, page):
    nth = re.search(r"the (\w+) paragraph", obs.instruction).group(1)
    k = ["1st", "2nd", "3rd"].index(nth) + 1
    return _highlight(page, f"#randomText p:nth-of-type({k})", f"the {nth} paragraph")


RESIZE_JS = r"""
() => {
  const tt = $('#tt'), inst = tt.resizable('instance'), wrap = $('.ui-wrapper');
  const pad = [wrap.width() - tt.width(), wrap.height() - tt.height()];
  const o = inst.originalSize;
  return {width: tt.width(), height: tt.height(),
          before: o ? {width: o.width - pad[0], height: o.height - pad[1]} : null};
}
"""


@teacher("resize-textarea")
def resize_textarea(obs, page):
    m = re.search(r"the (width|height) is (smaller|larger)", obs.instruction)
    dim, way = m.group(1), m.group(2)
    st = page.evaluate(RESIZE_JS)
    now = st[dim]
    # The starting size is a multiple of 5 px. The size before the last resize is the starting size when it is a
    # multiple of 5; after a resize by a teacher drag (23 px) the size is not, so it is known to have changed.
    start = st["before"][dim] if st["before"] and st["before"][dim] % 5 == 0 else None
    if start is None and st["before"] is None:
        start = now
    if start is not None:
        done = now > start if way == "larger" else now < start
    else:
        done = now % 5 != 0
    if done:
        return _submit(page, f"The textarea's {dim} is now {round(now)} px, {way} than at the start.", "#submit")
    handle = first(page, ".ui-resizable-e" if dim == "width" else ".ui-resizable-s")
    goal = (start if start is not None else now) + (23 if way == "larger" else -23)
    delta = goal - now
    x, y = handle["x"], handle["y"]
    end = (min(max(int(round(x + delta)), 1), W - 2), y) if dim == "width" else \
        (x, min(max(int(round(y + delta)), 51), H - 2))
    edge = "right edge" if dim == "width" else "bottom edge"
    move = ("right" if delta > 0 else "left") if dim == "width" else ("down" if delta > 0 else "up")
    if start is None or round(start) == round(now):
        state = f"The textarea still has its starting {dim} of {round(now)} px"
    else:
        state = f"The textarea's {dim} is {round(now)} px but must be {way} than the starting {round(start)} px"
    return (f"{state}; drag its {edge} handle from ({x}, {y}) {move} to ({end[0]}, {end[1]}) to make it {way}.",
            A.Drag((x, y), end))


# ---------------------------------------------------------------------------------------------------------
# text-editor: a Quill editor with a colour picker and bold / italic / underline buttons
# ---------------------------------------------------------------------------------------------------------

EDITOR_JS = r"""
([index, length]) => {
  const c = editor.container.getBoundingClientRect();
  const box = i => { const b = editor.getBounds(i, 1); return [c.left + b.left, c.top + b.top, c.left + b.right,
                                                               c.top + b.bottom]; };
  const open = !!document.querySelector('.ql-color.ql-expanded');
  // With the colour menu open the editor has lost the focus; the menu colours the range Quill saved.
  const sel = editor.getSelection() || (open ? editor.selection.savedRange : null);
  return {ops: editor.getContents().ops, text: editor.getText(), sel, open,
          first: index === null ? null : box(index), last: index === null ? null : box(index + length - 1)};
}
"""

TEXT_COLOURS = {"red": ["#e60000", "#facccc", "#f06666", "#a10000", "#5c0000"],
                "orange": ["#ff9900", "#ffebcc", "#ffc266", "#b26b00", "#663d00"],
                "yellow": ["#ffff00", "#ffffcc", "#ffff66", "#b2b200", "#666600"],
                "green": ["#008a00", "#cce8cc", "#66b966", "#006100", "#003700"],
                "blue": ["#0066cc", "#cce0f5", "#66a3e0", "#0047b2", "#002966"],
                "purple": ["#9933ff", "#ebd6ff", "#c285ff", "#6b24b2", "#3d1466"]}
STYLE_KEYS = {"bold": "bold", "italics": "italic", "underlined": "underline"}
FORMAT_WORDS = {"bold": "bold", "italic": "italic", "underline": "underlined", "color": "coloured"}


def _editor_select(page, st, start: int, n: int, name: str, why: str = ""):
    """Drag across characters [start, start + n) of the editor, after clearing a selection the drag would move."""
    if st["open"]:
        label = first(page, ".ql-color .ql-picker-label")
        return click(label, f"The colour menu is open and covers the text, but {name} must be selected first. The "
                            "text colour button 'A', which closes the menu,")
    b = page.evaluate(EDITOR_JS, [start, n])
    x0, y0 = int(math.floor(b["first"][0])) + 1, int(round((b["first"][1] + b["first"][3]) / 2))
    x1, y1 = int(math.ceil(b["last"][2])) - 1, int(round((b["last"][1] + b["last"][3]) / 2))
    sel = st["sel"]
    if sel and sel["length"] and sel["index"] <= start < sel["index"] + sel["length"]:
        # A drag that starts inside selected text would move that text; a click clears the selection first.
        return (f"Other text is selected and {name} starts inside it; click at ({x0}, {y0}) to clear the "
                "selection first.", A.Click((x0, y0)))
    return (f"{name[0].upper()}{name[1:]}{why} runs from ({x0}, {y0}) to ({x1}, {y1}) in the editor; drag across it "
            "to select it.", A.Drag((x0, y0), (x1, y1)))


@teacher("text-editor")
def text_editor(obs, page):
    ins = obs.instruction
    m = re.search(r"give the text (.+?) the (style|color) (\w+)", ins)
    word = m.group(1) if m else None
    if not m:
        m = re.search(r"everything the (style|color) (\w+)", ins)
    val = m.group(m.lastindex)  # the style or colour name; STYLE_KEYS tells which
    key = STYLE_KEYS.get(val, "color")
    st = page.evaluate(EDITOR_JS, [None, 0])
    text = st["text"].split("\n")[0]
    if word is None:
        index, length, what = 0, len(text), "all the text"
    else:
        index, pos = None, 0
        for w in text.split(" "):
            if w == word:
                index = pos
                break
            pos += len(w) + 1
        length, what = len(word), f"the text '{word}'"
        if index is None:
            # The text was changed (a drag moved selected words); undo the change.
            if not page.evaluate("() => editor.hasFocus()"):
                return click(first(page, ".ql-editor"), f"The editor text no longer contains '{word}'. The editor")
            return f"The editor text no longer contains '{word}'; undo the change with Ctrl+Z.", A.Hotkey("ctrl z")

    def good(attrs: dict) -> bool:
        if key == "color":
            return list(attrs) == ["color"] and attrs["color"] in TEXT_COLOURS[val]
        return list(attrs) == [key] and bool(attrs[key])

    ops = st["ops"]
    styled = [op for op in ops if op.get("attributes")]
    if word is None:
        ok = len(ops) >= 1 and ops[0]["insert"].split("\n")[0] == text and good(ops[0].get("attributes") or {})
    else:
        ok = len(styled) == 1 and re.sub(r"\s", "", styled[0]["insert"]) == word and good(styled[0]["attributes"])
    done = f"{what[0].upper()}{what[1:]} is {'coloured ' + val if key == 'color' else val}."
    if ok:
        return _submit(page, done)
    sel = st["sel"]
    selected = lambda i, n: bool(sel) and sel["index"] == i and sel["length"] == n  # noqa: E731

    # First undo formatting that does not belong (any format outside the target, or another format inside it):
    # select all the text and switch that format off everywhere.
    pos, wrong = 0, []
    for op in ops:
        n = len(op["insert"])
        inside = index <= pos and pos + n <= index + length
        wrong += [a for a in (op.get("attributes") or {}) if not (inside and a == key) and a not in wrong]
        pos += n
    if wrong:
        fmt = wrong[0]
        adj = FORMAT_WORDS.get(fmt, fmt)
        if not selected(0, len(text)):
            return _editor_select(page, st, 0, len(text), "all the text", f", where some is {adj} by mistake,")
        if fmt == "color":
            if st["open"]:
                plain = first(page, ".ql-color .ql-picker-item:not([data-value])")
                return click(plain, "Some text is coloured by mistake and the colour menu is open. The plain "
                                    "(no colour) swatch, which clears the colour of all the text,")
            label = first(page, ".ql-color .ql-picker-label")
            return click(label, "All the text is selected and some is coloured by mistake. The text colour button 'A'")
        btn = first(page, f".ql-toolbar button.ql-{fmt}")
        if "ql-active" in btn["cls"]:
            return click(btn, f"All the text is selected and some is {adj} by mistake; the {fmt.capitalize()} button "
                              f"is on. Clicking it turns {adj} off for everything; it")
        return click(btn, f"All the text is selected and part of it is {adj} by mistake; the {fmt.capitalize()} "
                          f"button is off. Clicking it makes everything {adj}, and a second click clears it; it")

    if selected(index, length):
        if key == "color":
            if st["open"]:
                swatch = first(page, f".ql-color .ql-picker-item[data-value='{TEXT_COLOURS[val][0]}']")
                return click(swatch, f"The colour menu is open and {what} is selected. The {val} swatch")
            label = first(page, ".ql-color .ql-picker-label")
            return click(label, f"{what[0].upper()}{what[1:]} is selected. The text colour button 'A'")
        btn = first(page, f".ql-toolbar button.ql-{key}")
        return click(btn, f"{what[0].upper()}{what[1:]} is selected. The {key.capitalize()} button")
    return _editor_select(page, st, index, length, what)
