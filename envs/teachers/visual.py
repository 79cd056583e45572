"""Teachers: visual tasks (shapes, colours, grids, drags)."""

from __future__ import annotations

import re
from functools import lru_cache

from core import actions as A
from envs.teachers import teacher
from envs.teachers.dom import click, first, query, quoted, wait

# -- shared helpers ------------------------------------------------------------------------------------------

# The shapes of a shapes.js grid (#area_svg), as the user sees them: kind, character, colour, size and centre.
SHAPES_JS = r"""
() => [...document.querySelectorAll('#area_svg > *')].map(el => {
  const r = el.getBoundingClientRect(), tag = el.tagName.toLowerCase();
  let px = 0;
  if (tag === 'text') px = parseFloat(el.getAttribute('font-size'));
  else if (tag === 'rect') px = parseFloat(el.getAttribute('width'));
  else if (tag === 'circle') px = 2 * parseFloat(el.getAttribute('r'));
  else if (tag === 'polygon') {
    const xs = el.getAttribute('points').trim().split(/\s+/).map(p => parseFloat(p.split(',')[0]));
    px = Math.max(...xs) - Math.min(...xs);
  }
  const hits = (x, y) => { const e = document.elementFromPoint(x, y); return e === el; };
  let x = r.left + r.width / 2, y = r.top + r.height / 2;
  if (tag === 'polygon') y = r.top + r.height * 0.65;  // the triangle's body, below its apex
  if (!hits(x, y)) {
    outer: for (const fy of [0.5, 0.65, 0.35, 0.8, 0.2]) for (const fx of [0.5, 0.35, 0.65, 0.2, 0.8]) {
      const qx = r.left + r.width * fx, qy = r.top + r.height * fy;
      if (hits(qx, qy)) { x = qx; y = qy; break outer; }
    }
  }
  return {tag, text: el.textContent, color: el.getAttribute('fill'), px, x: Math.round(x), y: Math.round(y),
          box: [r.left, r.top, r.right, r.bottom]};
})
"""

SHAPE_OF_TAG = {"rect": "rectangle", "circle": "circle", "polygon": "triangle"}


def svg_shapes(page) -> list[dict]:
    """The shapes.js items with their task attributes: type, text, color and size ('large'/'small')."""
    out = []
    for s in page.evaluate(SHAPES_JS):
        if s["tag"] == "text":
            s["type"] = "digit" if s["text"].isdigit() else "letter"
        else:
            s["type"], s["text"] = "shape", SHAPE_OF_TAG.get(s["tag"], s["tag"])
        s["size"] = "large" if s["px"] >= 15 else "small"
        out.append(s)
    return out


def shape_name(s: dict, size: bool = True) -> str:
    """'large red circle', "small blue letter 'q'"."""
    kind = s["text"] if s["type"] == "shape" else f"{s['type']} '{s['text']}'"
    return " ".join(([s["size"]] if size else []) + [s["color"], kind])


def parse_desc(text: str) -> tuple[str, str, str]:
    """A shapes.js description ('large red item', 'circle', 'q') as its (size, colour, thing) parts."""
    words = text.split()
    thing, rest = words[-1], words[:-1]
    size = rest.pop(0) if rest and rest[0] in ("large", "small") else ""
    color = rest[0] if rest else ""
    return size, color, thing


def matches(s: dict, desc: tuple[str, str, str]) -> bool:
    size, color, thing = desc
    return ((not size or s["size"] == size) and (not color or s["color"] == color)
            and (thing == "item" or thing in (s["text"], s["type"])))


def desc_text(desc: tuple[str, str, str]) -> str:
    return " ".join(w for w in desc if w)


# -- click-color ---------------------------------------------------------------------------------------------


@teacher("click-color")
def click_color(obs, page):
    want = re.search(r"Click on the (.+) colored box", obs.instruction).group(1).strip()
    box = first(page, f'#area .color[data-color="{want}"]')
    return click(box, f"The {want} box")


# -- click-pie -----------------------------------------------------------------------------------------------

PIE_JS = r"""
async () => {
  const read = () => [...document.querySelectorAll('#divWheel text, #divWheel path')].map(t => {
    const r = t.getBoundingClientRect();
    return {id: t.id, text: t.textContent, x: r.left + r.width / 2, y: r.top + r.height / 2, h: r.height,
            attrs: t.getAttribute('transform') + t.getAttribute('d')};
  });
  const a = read();
  await new Promise(res => setTimeout(res, 60));
  const b = read();
  const animating = a.some((t, i) => t.attrs !== b[i].attrs);
  return {items: b.filter(t => t.id.includes('title')), animating};
}
"""


@teacher("click-pie", "click-pie-nodelay")
def click_pie(obs, page):
    """Open the menu with '+', wait for it to spread, click the item.

    The selected item (the first, at the bottom) re-inserts itself into the page on every mouseover (wheelnav's
    hover effect calls toFront), so Chromium sends the click to the background and the task never hears it,
    except while the opening animation still runs (about 1.5 s; wheelnav ignores hovers then). So for it: click
    it as soon as the menu has spread, and if the menu has settled, close it with '-' and open it again. In
    click-pie-nodelay the menu opens with no animation, so that item cannot be clicked at all.
    """
    want = quoted(obs.instruction)[0]
    state = page.evaluate(PIE_JS)
    spreader = next(t for t in state["items"] if t["id"].endswith("spreadertitle"))
    sx, sy = round(spreader["x"]), round(spreader["y"])
    items = [t for t in state["items"] if "-title-" in t["id"]]
    item = next(t for t in items if t["text"] == want)
    if spreader["text"].strip() == "+":
        return (f"The pie menu is closed; its '+' button is at ({sx}, {sy}); click it to expand the menu.",
                A.Click((sx, sy)))
    x, y = round(item["x"]), round(item["y"])
    if ((item["x"] - sx) ** 2 + (item["y"] - sy) ** 2) ** 0.5 < 40:
        return wait("The pie menu is still opening", 0.2)
    if item["id"].endswith("-title-0") and not state["animating"] and "nodelay" not in page.url:
        return (f"The item '{want}' is the highlighted one and ignores clicks once the menu has settled; "
                f"click the '-' button at ({sx}, {sy}) to close the menu and open it again.", A.Click((sx, sy)))
    return f"The pie menu is open and the item labelled '{want}' is at ({x}, {y}); click it.", A.Click((x, y))


# -- click-shades --------------------------------------------------------------------------------------------

SHADES_JS = r"""
() => [...document.querySelectorAll('#area span')].map(s => {
  const r = s.getBoundingClientRect();
  return {color: s.dataset.color, selected: s.classList.contains('selected'),
          x: Math.round(r.left + r.width / 2), y: Math.round(r.top + r.height / 2)};
})
"""


@teacher("click-shades")
def click_shades(obs, page):
    want = re.search(r"shades of (\w+)", obs.instruction).group(1)
    spans = page.evaluate(SHADES_JS)
    for s in spans:
        if s["color"] != want and s["selected"]:
            x, y = s["x"], s["y"]
            return (f"The {s['color']} square at ({x}, {y}) is selected but is not a shade of {want}; "
                    f"click it to deselect it.", A.Click((x, y)))
    for s in spans:
        if s["color"] == want and not s["selected"]:
            x, y = s["x"], s["y"]
            return (f"The {want} square at ({x}, {y}) is a shade of {want} not yet selected; click it.",
                    A.Click((x, y)))
    return click(first(page, "#submit"), f"All the shades of {want} are selected. The Submit button")


# -- click-shape, count-shape, identify-shape ----------------------------------------------------------------


@teacher("click-shape")
def click_shape(obs, page):
    desc = parse_desc(obs.instruction.split("Click on a ", 1)[1].strip())
    s = next(s for s in svg_shapes(page) if matches(s, desc))
    x, y = s["x"], s["y"]
    return (f"The {shape_name(s)} at ({x}, {y}) is a {desc_text(desc)}; click it.", A.Click((x, y)))


@teacher("count-shape")
def count_shape(obs, page):
    text = re.search(r"How many (.+)s are there\?", obs.instruction).group(1)
    desc = parse_desc(text)
    n = sum(matches(s, desc) for s in svg_shapes(page))
    btn = next(b for b in query(page, "#count-buttons button") if b["text"] == str(n))
    return click(btn, f"There {'is' if n == 1 else 'are'} {n} {desc_text(desc)}{'' if n == 1 else 's'}. "
                      f"The button '{n}'")


@teacher("identify-shape")
def identify_shape(obs, page):
    s = svg_shapes(page)[0]
    want = s["type"] if s["type"] != "shape" else s["text"]
    btn = first(page, f'#area-buttons button[data-type="{want}"]')
    return click(btn, f"The figure is a {shape_name(s, size=False)}. The '{btn['text']}' button")


# -- grid-coordinate -----------------------------------------------------------------------------------------


@teacher("grid-coordinate")
def grid_coordinate(obs, page):
    want = re.search(r"\((-?\d+),\s*(-?\d+)\)", obs.instruction)
    cid = f"({want.group(1)},{want.group(2)})"
    dot = next(c for c in query(page, "circle.plot-point") if c["id"] == cid)
    x, y = dot["x"], dot["y"]
    return f"The grid point {cid} is the blue dot at ({x}, {y}); click it.", A.Click((x, y))


# -- tic-tac-toe ---------------------------------------------------------------------------------------------

LINES = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6)]
SQUARE_NAMES = ["top-left", "top-middle", "top-right", "middle-left", "centre", "middle-right",
                "bottom-left", "bottom-middle", "bottom-right"]


def _won(b, v) -> bool:
    return any(b[i] == b[j] == b[k] == v for i, j, k in LINES)


def _ttt_target(b, m):
    """The task's determineSpace checks for marker m, in its order; the last that finds a square wins."""
    found = []
    for i in range(3):  # left horizontal
        if b[i * 3] == 0 and b[i * 3 + 1] == m and b[i * 3 + 2] == m:
            found.append(i * 3)
            break
    for i in range(3):  # middle horizontal
        if b[i * 3 + 1] == 0 and b[i * 3] == m and b[i * 3 + 2] == m:
            found.append(i * 3 + 1)
            break
    for i in range(3):  # right horizontal
        if b[i * 3 + 2] == 0 and b[i * 3] == m and b[i * 3 + 1] == m:
            found.append(i * 3 + 2)
            break
    for sq, a, c in ((0, 4, 8), (4, 0, 8), (8, 0, 4), (2, 4, 6), (4, 2, 6), (6, 2, 4)):  # diagonals
        if b[sq] == 0 and b[a] == m and b[c] == m:
            found.append(sq)
            break
    for col in range(3):  # left, middle, right verticals
        for sq, a, c in ((col, col + 3, col + 6), (col + 3, col, col + 6), (col + 6, col, col + 3)):
            if b[sq] == 0 and b[a] == m and b[c] == m:
                found.append(sq)
                break
    return found[-1] if found else None


def _computer_moves(b) -> list[tuple[float, int]]:
    """The computer's (O) move distribution: 55% a random free square, else win, block, or random."""
    free = [i for i in range(9) if b[i] == 0]
    smart = _ttt_target(b, -1)
    if smart is None:
        smart = _ttt_target(b, 1)
    out = {i: 0.55 / len(free) for i in free}
    if smart is None:
        for i in free:
            out[i] += 0.45 / len(free)
    else:
        out[smart] += 0.45
    return list(out.items())


@lru_cache(maxsize=None)
def _win_prob(b: tuple) -> tuple[float, int | None]:
    """X to move on board b: the best probability of winning and the square that gets it."""
    best, move = -1.0, None
    for i in (4, 0, 2, 6, 8, 1, 3, 5, 7):
        if b[i] != 0:
            continue
        nb = b[:i] + (1,) + b[i + 1:]
        if _won(nb, 1):
            p = 1.0
        elif 0 not in nb:
            p = 0.0
        else:
            p = 0.0
            for sq, q in _computer_moves(nb):
                ob = nb[:sq] + (-1,) + nb[sq + 1:]
                if not _won(ob, -1) and 0 in ob:
                    p += q * _win_prob(ob)[0]
        if p > best + 1e-9:
            best, move = p, i
    return best, move


TTT_JS = r"""
() => [...Array(9).keys()].map(i => {
  const el = document.getElementById('ttt-' + i), r = el.getBoundingClientRect();
  return {mark: el.classList.contains('mark-x') ? 1 : el.classList.contains('mark-o') ? -1 : 0,
          x: Math.round(r.left + r.width / 2), y: Math.round(r.top + r.height / 2)};
})
"""


@teacher("tic-tac-toe")
def tic_tac_toe(obs, page):
    cells = page.evaluate(TTT_JS)
    b = tuple(c["mark"] for c in cells)
    _, i = _win_prob(b)
    x, y = cells[i]["x"], cells[i]["y"]
    where = f"the {SQUARE_NAMES[i]} square at ({x}, {y})"
    nb = b[:i] + (1,) + b[i + 1:]
    free = [j for j in range(9) if b[j] == 0]
    o_threats = [j for j in free if _won(b[:j] + (-1,) + b[j + 1:], -1)]
    x_threats = [j for j in free if j != i and _won(nb[:j] + (1,) + nb[j + 1:], 1)]
    if _won(nb, 1):
        why = f"An X in {where} completes a line of three; click it."
    elif o_threats == [i]:
        why = f"O has two in a line; block it by putting X in {where}."
    elif len(x_threats) >= 2:
        why = f"An X in {where} makes two lines that each need one more X; click it."
    elif x_threats:
        why = f"An X in {where} makes two in a line with the third square free; click it."
    else:
        why = f"The best free square for X is {where}; click it."
    if o_threats and i not in o_threats and not _won(nb, 1):
        why = "O has two in a line, but blocking it leaves less chance to win. " + why
    return why, A.Click((x, y))


# -- count-sides ---------------------------------------------------------------------------------------------

# The task draws a regular polygon of radius 35 about (75, 50) on the canvas, turned by a whole number of
# degrees; it keeps neither the count nor the turn. Read the canvas and find the (sides, turn) whose outline
# lies on the drawn stroke.
SIDES_JS = r"""
() => {
  const c = document.getElementById('c'), ctx = c.getContext('2d');
  const data = ctx.getImageData(0, 0, c.width, c.height).data;
  const ink = (x, y) => { x = Math.round(x); y = Math.round(y);
    return x >= 0 && y >= 0 && x < c.width && y < c.height && data[(y * c.width + x) * 4 + 3] > 100; };
  let best = null;
  for (let n = 3; n <= 7; n++) for (let deg = 0; deg <= 180; deg++) {
    const rot = deg * Math.PI / 180;
    let hit = 0, total = 0;
    for (let i = 0; i < n; i++) {
      const a0 = rot + i * 2 * Math.PI / n, a1 = rot + (i + 1) * 2 * Math.PI / n;
      const x0 = 75 + 35 * Math.cos(a0), y0 = 50 + 35 * Math.sin(a0);
      const x1 = 75 + 35 * Math.cos(a1), y1 = 50 + 35 * Math.sin(a1);
      for (let t = 0.05; t < 1; t += 0.1) { total++; if (ink(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t)) hit++; }
    }
    const score = hit / total;
    if (!best || score > best.score + 1e-9) best = {n, deg, score};
  }
  return best;
}
"""

POLYGON_NAMES = {3: "triangle", 4: "square", 5: "pentagon", 6: "hexagon", 7: "heptagon"}


@teacher("count-sides")
def count_sides(obs, page):
    n = page.evaluate(SIDES_JS)["n"]
    btn = first(page, f'#form button[data-sides="{n}"]')
    return click(btn, f"The shape is a {POLYGON_NAMES[n]} with {n} sides. The button '{n}'")


# -- visual-addition -----------------------------------------------------------------------------------------

FIELD_JS = r"""
(sel) => { const el = document.querySelector(sel);
  return {value: el.value, focused: document.activeElement === el,
          all: el.value.length > 0 && el.selectionStart === 0 && el.selectionEnd === el.value.length}; }
"""


def type_into(page, sel: str, want: str, what: str) -> tuple[str, object] | None:
    """The step that makes the text field ``sel`` hold ``want``, or None when it already does."""
    box = first(page, sel)
    state = page.evaluate(FIELD_JS, sel)
    x, y = box["x"], box["y"]
    if state["value"] == want:
        return None
    if state["value"] and not state["all"]:
        if not state["focused"]:
            return f"{what} at ({x}, {y}) holds '{state['value']}'; click it.", A.Click((x, y))
        return f"{what} holds '{state['value']}'; select all of it to replace it.", A.Hotkey("ctrl a")
    return f"{what} is at ({x}, {y}); type '{want}' into it.", A.Type(want, at=None if state["all"] else (x, y))


@teacher("visual-addition")
def visual_addition(obs, page):
    a = len(query(page, "#visual-1 .addition-block"))
    b = len(query(page, "#visual-2 .addition-block"))
    want = str(a + b)
    step = type_into(page, "#math-answer", want, f"There are {a} blocks on the left and {b} on the right, "
                                                 f"{a + b} in all. The answer box")
    if step:
        return step
    return click(first(page, "#subbtn"), f"The answer box holds {want}. The Submit button")


# -- drag-box ------------------------------------------------------------------------------------------------

BOXES_JS = r"""
() => ['#draggableSmall', '#draggableLarge'].map(s => {
  const el = document.querySelector(s), r = el.getBoundingClientRect();
  return {left: parseInt(getComputedStyle(el).left, 10), top: parseInt(getComputedStyle(el).top, 10),
          x: Math.round(r.left + r.width / 2), y: Math.round(r.top + r.height / 2)}; })
"""


@teacher("drag-box")
def drag_box(obs, page):
    small, large = page.evaluate(BOXES_JS)
    dx, dy = small["left"] - large["left"], small["top"] - large["top"]
    if 0 < dx < 30 and 0 < dy < 30:
        return click(first(page, "#subbtn"), "The small red box is inside the large blue box. The Submit button")
    s, t = (small["x"], small["y"]), (large["x"], large["y"])
    return (f"The small red box is at {s} and the large blue box's centre is at {t}; drag the small box there.",
            A.Drag(s, t))


# -- drag-circle, drag-single-shape --------------------------------------------------------------------------

# Shapes moved by shapes.drag: the visible centre, the bounding box before the move, and the move so far.
DRAGGABLE_JS = r"""
(sel) => [...document.querySelectorAll(sel)].map(el => {
  const r = el.getBoundingClientRect(), b = el.getBBox(), t = el.getAttribute('transform');
  const shift = t ? t.replace(/[^0-9,\-.]+/g, '').split(',').map(parseFloat) : [0, 0];
  const svg = el.ownerSVGElement.getBoundingClientRect();
  return {tag: el.tagName.toLowerCase(), color: el.getAttribute('fill'), x: r.left + r.width / 2,
          y: r.top + r.height * (el.tagName.toLowerCase() === 'polygon' ? 0.6 : 0.5),
          bx: b.x, by: b.y, w: b.width, h: b.height, sx: shift[0] || 0, sy: shift[1] || 0,
          svg: [svg.left, svg.top, svg.width, svg.height]};
})
"""

DIRECTION_STEP = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}


def _moved(s: dict, direction: str) -> bool:
    ux, uy = DIRECTION_STEP[direction]
    return ux * s["sx"] + uy * s["sy"] >= 8


@teacher("drag-circle", "drag-single-shape")
def drag_one_way(obs, page):
    direction = re.search(r"Drag the \w+ (left|right|up|down)", obs.instruction).group(1)
    s = page.evaluate(DRAGGABLE_JS, "svg circle, svg rect, svg polygon")[0]
    name = f"{s['color']} {SHAPE_OF_TAG[s['tag']]}"
    if _moved(s, direction):
        return click(first(page, "#subbtn"), f"The {name} has moved {direction}. The Submit button")
    ux, uy = DIRECTION_STEP[direction]
    x0, y0 = round(s["x"]), round(s["y"])
    left, top, w, h = s["svg"]
    x1 = min(max(x0 + 30 * ux, left + 3), left + w - 3)
    y1 = min(max(y0 + 30 * uy, top + 3), top + h - 3)
    return (f"The {name} is at ({x0}, {y0}); drag it {direction} to ({round(x1)}, {round(y1)}).",
            A.Drag((x0, y0), (round(x1), round(y1))))


# -- drag-items, drag-items-grid, drag-sort-numbers (jQuery UI sortable) -------------------------------------

ORDINAL = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 5: "5th"}


def _sortable(page) -> list[dict]:
    return query(page, "#sortable li")


def _drop_point(items: list[dict], src: int, dst: int) -> tuple[int, int]:
    """Where to release list item ``src`` (0-based) so the sortable puts it at ``dst``: just past the target's
    centre in the direction of travel, so the placeholder passes the target."""
    t = items[dst]
    return t["x"], t["y"] + (6 if dst > src else -6)


@teacher("drag-items")
def drag_items(obs, page):
    m = re.match(r"Drag (.+?) (to the top|to the bottom|down by one position|up by one position|"
                 r"to the (\d)\w\w position)\.", obs.instruction)
    name, how = m.group(1), m.group(2)
    items = _sortable(page)
    src = next(i for i, it in enumerate(items) if it["text"] == name)
    dst = {"to the top": 0, "to the bottom": len(items) - 1, "down by one position": src + 1,
           "up by one position": src - 1}.get(how)
    if dst is None:
        dst = int(m.group(3)) - 1
    s = (items[src]["x"], items[src]["y"])
    e = _drop_point(items, src, dst)
    return (f"'{name}' is the {ORDINAL[src + 1]} item, at {s}; drag it to the {ORDINAL[dst + 1]} position, "
            f"releasing at {e}.", A.Drag(s, e))


GRID_PLACES = {"top left": 0, "top center": 1, "top right": 2, "center left": 3, "center": 4,
               "center right": 5, "bottom left": 6, "bottom center": 7, "bottom right": 8}
GRID_NAMES = {v: k for k, v in GRID_PLACES.items()}


# Where to release, relative to the target cell's centre, to move cell src to cell dst of the 3x3 sortable
# grid. A Drag crosses the cells in between in 5 even steps and jQuery UI's float sorting reacts to each step,
# so the spot that works is not always the target's centre; these offsets were found by trying them on the page
# (the grid's layout is the same in every episode) and are each the middle of a range that works.
GRID_RELEASE = {
    0: {1: (8, 0), 2: (0, 8), 3: (-8, 0), 4: (8, 0), 5: (0, 0), 6: (0, 8), 7: (0, 8), 8: (0, 8)},
    1: {0: (-8, -8), 2: (8, 0), 3: (-8, 0), 4: (-8, 0), 5: (8, 0), 6: (-8, 0), 7: (-8, 0), 8: (8, 0)},
    2: {0: (-8, -8), 1: (-8, -8), 3: (-10, -10), 4: (-8, 0), 5: (-8, 0), 6: (-8, 0), 7: (-8, 0), 8: (-8, 0)},
    3: {0: (-8, -8), 1: (-18, -6), 2: (0, -8), 4: (8, 0), 5: (8, 0), 6: (-8, 0), 7: (8, 0), 8: (8, 0)},
    4: {0: (-8, 0), 1: (-8, -8), 2: (-18, -6), 3: (-8, -8), 5: (8, 0), 6: (-8, 0), 7: (-8, 0), 8: (8, 0)},
    5: {0: (-8, 0), 1: (-8, 0), 2: (-8, -8), 3: (-8, -8), 4: (-8, -8), 6: (-10, -10), 7: (-8, 0), 8: (-8, 0)},
    6: {0: (-8, -8), 1: (-27, -8), 2: (-16, -10), 3: (-8, -8), 4: (-18, -6), 5: (0, -8), 7: (8, 0), 8: (8, 0)},
    7: {0: (-8, 0), 1: (-8, -8), 2: (-27, -8), 3: (-8, 0), 4: (-8, -8), 5: (-18, -6), 6: (-8, -8), 8: (8, 0)},
    8: {0: (-8, 0), 1: (-8, 0), 2: (-8, -8), 3: (-8, 0), 4: (-8, 0), 5: (-8, -8), 6: (-8, -8), 7: (-8, -8)},
}


def grid_drag(items: list[dict], src: int, dst: int) -> tuple[tuple[int, int], tuple[int, int]]:
    dx, dy = GRID_RELEASE[src][dst]
    return (items[src]["x"], items[src]["y"]), (items[dst]["x"] + dx, items[dst]["y"] + dy)


@teacher("drag-items-grid")
def drag_items_grid(obs, page):
    m = re.match(r"Drag (.+?) (?:to the (.+?)|(up|down|left|right) by one)\.$", obs.instruction)
    name = m.group(1)
    items = _sortable(page)
    src = next(i for i, it in enumerate(items) if it["text"] == name)
    if m.group(2):
        dst = GRID_PLACES[m.group(2)]
    else:
        dst = src + {"up": -3, "down": 3, "left": -1, "right": 1}[m.group(3)]
    s, e = grid_drag(items, src, dst)
    return (f"'{name}' is in the {GRID_NAMES[src]} cell at {s}; drag it to the {GRID_NAMES[dst]} cell, "
            f"releasing at {e}.", A.Drag(s, e))


@teacher("drag-sort-numbers")
def drag_sort_numbers(obs, page):
    items = _sortable(page)
    nums = [int(it["text"]) for it in items]
    order = sorted(nums)
    for k, want in enumerate(order):
        if nums[k] != want:
            src = next(i for i in range(k + 1, len(nums)) if nums[i] == want)
            s = (items[src]["x"], items[src]["y"])
            e = _drop_point(items, src, k)
            rank = "lowest" if k == 0 else f"{ORDINAL[k + 1]} lowest"
            return (f"The {rank} number is {want}, now in the {ORDINAL[src + 1]} row at {s}; "
                    f"drag it up to the {ORDINAL[k + 1]} row, releasing at {e}.", A.Drag(s, e))
    return click(first(page, "#subbtn"), f"The numbers read {', '.join(map(str, nums))}, lowest first. "
                                         f"The Submit button")


# -- drag-shapes, drag-shapes-2 ------------------------------------------------------------------------------

DRAG_K = {"rect": 0.5, "circle": 0.6, "polygon": 0.4}  # shapes.drag's grab offset, as a share of the width
PLURAL_TAG = {"rectangles": "rect", "circles": "circle", "triangles": "polygon"}

BOXES_SVG_JS = r"""
() => [...document.querySelectorAll('#shape-container')].map(el => ({
  x: +el.getAttribute('x'), y: +el.getAttribute('y'), w: +el.getAttribute('width'), h: +el.getAttribute('height')}))
"""


def _top_left(s: dict) -> tuple[float, float]:
    """The shape's top-left as the task measures it (its box before moving, plus the move)."""
    return s["bx"] + s["sx"], s["by"] + s["sy"]


def _inside(s: dict, box: dict) -> bool:
    x, y = _top_left(s)
    return box["x"] < x < box["x"] + box["w"] and box["y"] < y < box["y"] + box["h"]


def _drag_into(s: dict, box: dict, shapes_now: list[dict], pitch: tuple[int, int]) -> tuple[tuple, tuple] | None:
    """A drag that puts shape ``s`` in a free slot of ``box``: (start, end) in screenshot pixels."""
    left, top = s["svg"][0], s["svg"][1]
    size = max(s["w"], s["h"])
    others = [o for o in shapes_now if o is not s]
    for row in range(3):
        for col in range(4):
            tx, ty = box["x"] + 4 + pitch[0] * col, box["y"] + 4 + pitch[1] * row
            if tx + size > box["x"] + box["w"] - 1 or ty + size > box["y"] + box["h"] - 1:
                continue
            clash = False
            for o in others:
                ox, oy = _top_left(o)
                if ox < tx + size + 2 and tx < ox + o["w"] + 2 and oy < ty + size + 2 and ty < oy + o["h"] + 2:
                    clash = True
            if clash:
                continue
            mx, my = tx + s["w"] * DRAG_K[s["tag"]], ty + s["w"] * DRAG_K[s["tag"]]
            return (round(s["x"]), round(s["y"])), (round(mx + left), round(my + top))
    return None


def _shapes_svg(page) -> list[dict]:
    return page.evaluate(DRAGGABLE_JS, "#area_svg rect:not(#shape-container), #area_svg circle, #area_svg polygon")


def _name(s: dict) -> str:
    return f"{s['color']} {SHAPE_OF_TAG[s['tag']]}"


@teacher("drag-shapes")
def drag_shapes(obs, page):
    kind = re.search(r"Drag all (\w+) into", obs.instruction).group(1)
    box = page.evaluate(BOXES_SVG_JS)[0]
    shapes_now = _shapes_svg(page)
    for s in shapes_now:
        want_in = s["tag"] == PLURAL_TAG[kind]
        if want_in and not _inside(s, box):
            start, end = _drag_into(s, box, shapes_now, (25, 22))
            return (f"The {_name(s)} at {start} belongs in the black box; drag it to {end} inside the box.",
                    A.Drag(start, end))
        if not want_in and _inside(s, box):  # only a student puts one there: drag it below the box
            start = (round(s["x"]), round(s["y"]))
            end = (start[0], round(s["svg"][1] + min(box["y"] + box["h"] + 15, 150)))
            return f"The {_name(s)} at {start} does not belong in the black box; drag it out to {end}.", \
                A.Drag(start, end)
    return click(first(page, "#subbtn"), f"All the {kind} are in the black box. The Submit button")


@teacher("drag-shapes-2")
def drag_shapes_2(obs, page):
    m = re.search(r"Drag all (\w+)(?: shapes)? into the left box", obs.instruction)
    word = m.group(1)
    boxes = sorted(page.evaluate(BOXES_SVG_JS), key=lambda b: b["x"])
    shapes_now = _shapes_svg(page)
    if word in PLURAL_TAG:
        goes_left = lambda s: s["tag"] == PLURAL_TAG[word]  # noqa: E731
    else:
        goes_left = lambda s: s["color"] == word  # noqa: E731
    for s in shapes_now:
        left = goes_left(s)
        box = boxes[0] if left else boxes[1]
        if not _inside(s, box):
            found = _drag_into(s, box, shapes_now, (23, 24))
            if found:
                start, end = found
                side = "left" if left else "right"
                return (f"The {_name(s)} at {start} belongs in the {side} box; drag it to {end} inside that box.",
                        A.Drag(start, end))
    return click(first(page, "#subbtn"), "Every shape is in its box. The Submit button")


# -- circle-center, find-midpoint, bisect-angle, right-angle -------------------------------------------------
# These pages draw the clicked point at (pageX, pageY - 50) in the svg's own coordinates and score it there; the
# svg itself sits at (2, 52), so the blue dot shows 2 px right of and below the click. The teachers work in
# the svg's coordinates, pick the whole-pixel point the task scores best, and click at (x, y + 50), which is
# where the task puts it.

SVG_POINTS_JS = r"""
() => { const svg = document.querySelector('#svg-grid'), r = svg.getBoundingClientRect();
  return {svg: [r.left, r.top, r.width, r.height],
          points: [...svg.querySelectorAll('circle')].map(el => ({id: el.id, cls: el.getAttribute('class'),
            x: +el.getAttribute('cx'), y: +el.getAttribute('cy'), r: +el.getAttribute('r')}))}; }
"""

SVG_CLICK_DY = 50  # the task's QUERY_PADDING


def _svg_points(page) -> tuple[list[dict], list[float]]:
    st = page.evaluate(SVG_POINTS_JS)
    return st["points"], st["svg"]


def _one(points, key, value) -> dict | None:
    return next((p for p in points if p[key] == value), None)


def _screen(p, svg) -> tuple[int, int]:
    """Where an svg point shows on the screen."""
    return round(p[0] + svg[0]), round(p[1] + svg[1])


def _click_for(p) -> tuple[int, int]:
    """The click that makes the task draw its point at svg point p."""
    return round(p[0]), round(p[1]) + SVG_CLICK_DY


def _svg_candidates(svg):
    """Whole-pixel svg points whose click lands on the svg and whose dot shows inside it."""
    w, h = svg[2], svg[3]
    return ((x, y) for x in range(4, int(w) - 3) for y in range(4, int(h) - 3))


def _xy(p: dict) -> tuple[float, float]:
    return p["x"], p["y"]


def _r(p) -> tuple[int, int]:
    return round(p[0]), round(p[1])


def _angle(a, v, p) -> float:
    import math

    ax, ay, px, py = a[0] - v[0], a[1] - v[1], p[0] - v[0], p[1] - v[1]
    na, np_ = math.hypot(ax, ay), math.hypot(px, py)
    if na == 0 or np_ == 0:
        return 0.0
    return math.degrees(math.acos(max(-1.0, min(1.0, (ax * px + ay * py) / (na * np_)))))


@teacher("circle-center")
def circle_center(obs, page):
    pts, svg = _svg_points(page)
    c = next(p for p in pts if p["cls"] == "black-circle")
    blue = _one(pts, "id", "blue-circle")
    if blue and abs(blue["x"] - c["x"]) + abs(blue["y"] - c["y"]) <= 1:
        return click(first(page, "#subbtn"), "The blue dot marks the circle's centre. The Submit button")
    at = _click_for(_xy(c))
    return f"The centre of the circle is at about {_screen(_xy(c), svg)}; click {at} to mark it.", A.Click(at)


@teacher("find-midpoint")
def find_midpoint(obs, page):
    pts, svg = _svg_points(page)
    a, b = [p for p in pts if p["cls"] == "black-circle"][:2]
    mid = ((a["x"] + b["x"]) / 2, (a["y"] + b["y"]) / 2)
    blue = _one(pts, "id", "blue-circle")
    if blue and abs(blue["x"] - mid[0]) <= 1 and abs(blue["y"] - mid[1]) <= 1:
        return click(first(page, "#subbtn"), "The blue dot sits midway between the two black dots. "
                                             "The Submit button")
    at = _click_for(mid)
    return (f"The black dots are at {_screen(_xy(a), svg)} and {_screen(_xy(b), svg)}; the point midway between "
            f"them is at about {_screen(mid, svg)}; click {at} to mark it.", A.Click(at))


def _bisect_score(a, b, v, p) -> float:
    """bisect-angle's score for the point p: (total - larger half) / (total / 2); -1 outside the angle."""
    total = _angle(a, v, b)
    ua, ub = _angle(a, v, p), _angle(b, v, p)
    if ua > total or ub > total or total == 0:
        return -1.0
    return (total - max(ua, ub)) / (total / 2)


@teacher("bisect-angle")
def bisect_angle(obs, page):
    import math

    pts, svg = _svg_points(page)
    v = _xy(next(p for p in pts if p["cls"] == "init-blue"))
    a, b = [_xy(p) for p in pts if p["cls"] == "init-black"][:2]
    total = _angle(a, v, b)
    blue = _one(pts, "id", "blue-circle")
    # The best-scoring whole pixel, preferring one 25-45 px from the vertex: first near the halving line, and
    # over the whole svg when that finds nothing good (a very thin angle).
    def rank(p):
        return round(_bisect_score(a, b, v, p), 2), -abs(math.dist(p, v) - 35)

    ua, ub = [((q[0] - v[0]) / math.dist(q, v), (q[1] - v[1]) / math.dist(q, v)) for q in (a, b)]
    d = (ua[0] + ub[0], ua[1] + ub[1])
    n = math.hypot(*d)
    dirs = [(d[0] / n, d[1] / n)] if n > 1e-6 else [(-ua[1], ua[0]), (ua[1], -ua[0])]
    inside = set(_svg_candidates(svg))
    near = {(round(v[0] + u[0] * t) + i, round(v[1] + u[1] * t) + j)
            for u in dirs for t in range(15, 70) for i in range(-2, 3) for j in range(-2, 3)}
    near = [p for p in near if p in inside and math.dist(p, v) >= 15]
    best = max(near, key=rank) if near else None
    if best is None or _bisect_score(a, b, v, best) < 0.8:
        best = max((p for p in inside if math.dist(p, v) >= 15), key=rank)
    if blue and math.dist(_xy(blue), v) >= 5 and \
            _bisect_score(a, b, v, _xy(blue)) >= min(0.6, _bisect_score(a, b, v, best) - 0.01):
        return click(first(page, "#subbtn"), "The blue line splits the angle into two equal halves. "
                                             "The Submit button")
    at = _click_for(best)
    return (f"The angle at the blue dot {_screen(v, svg)} measures {total:.0f} degrees; click {at} to put a "
            f"point on the line that halves it.", A.Click(at))


@teacher("right-angle")
def right_angle(obs, page):
    import math

    pts, svg = _svg_points(page)
    v = _xy(_one(pts, "id", "init-blue"))
    a = _xy(_one(pts, "id", "init-black"))
    blue = _one(pts, "id", "blue-circle")
    if blue and abs(_angle(a, v, _xy(blue)) - 90) < 5:
        return click(first(page, "#subbtn"), "The blue line meets the black line at a right angle. "
                                             "The Submit button")
    best = min(_svg_candidates(svg), key=lambda p: (round(abs(_angle(a, v, p) - 90), 1) if math.dist(p, v) >= 15
                                                    else 999, abs(math.dist(p, v) - 35)))
    at = _click_for(best)
    return (f"The black line ends at the blue dot {_screen(v, svg)}; click {at} to put a point on the line "
            f"through the blue dot at right angles to it.", A.Click(at))


# -- draw-line, draw-circle ----------------------------------------------------------------------------------

DRAW_JS = r"""
() => { const c = document.getElementById('circ').getBoundingClientRect(), svg = document.querySelector('svg');
  const s = svg.getBoundingClientRect(), path = document.querySelector('svg path');
  const p = path ? path.getBoundingClientRect() : null;
  return {x: c.left + c.width / 2, y: c.top + c.height / 2, svg: [s.left, s.top, s.width, s.height],
          path: p ? [p.left, p.top, p.width, p.height] : null,
          points: (typeof arrayPoints !== 'undefined' && path) ? arrayPoints : []}; }
"""


@teacher("draw-line")
def draw_line(obs, page):
    horizontal = "horizontal" in obs.instruction
    st = page.evaluate(DRAW_JS)
    x, y = st["x"], st["y"]
    p = st["path"]
    if p:
        long_, thin = (p[2], p[3]) if horizontal else (p[3], p[2])
        across = abs(p[1] + p[3] / 2 - y) if horizontal else abs(p[0] + p[2] / 2 - x)
        if long_ >= 40 and thin <= 2 and across <= 3:
            return click(first(page, "#controls button"), f"The {'horizontal' if horizontal else 'vertical'} "
                                                          f"line runs through the purple dot. The Submit button")
    sl, stp, sw, sh = st["svg"]
    if horizontal:
        a = (max(x - 30, sl + 4), y)
        b = (min(x + 30, sl + sw - 4), y)
    else:
        a = (x, max(y - 30, stp + 4))
        b = (x, min(y + 30, stp + sh - 4))
    a, b = _r(a), _r(b)
    return (f"The purple dot is at {_r((x, y))}; drag a {'horizontal' if horizontal else 'vertical'} line "
            f"through it from {a} to {b}.", A.Drag(a, b))


@teacher("draw-circle")
def draw_circle(obs, page):
    """Drag draws only straight strokes (5 even steps), so draw a short one that stays about 26-30 px from the dot:
    the task scores the spread of the stroke's sampled points' distances from the dot, which this keeps under 2 px.
    """
    import math

    st = page.evaluate(DRAW_JS)
    x, y = st["x"], st["y"]
    pts = st["points"]
    if st["path"] and len(pts) >= 3:
        ox, oy = st["svg"][0], st["svg"][1]
        cx, cy = x - ox, y - oy
        dists = [math.hypot(px - cx, py - cy) for px, py in pts]
        mean = sum(dists) / len(dists)
        sd = (sum((d - mean) ** 2 for d in dists) / len(dists)) ** 0.5
        if sd < 4 and min(st["path"][2], st["path"][3]) >= 10:
            return click(first(page, "#controls button"), "The stroke keeps an even distance around the green dot. "
                                                          "The Submit button")
    sl, stp, sw, sh = st["svg"]
    mx, my = sl + sw / 2, stp + sh / 2
    nx = 1 if mx >= x else -1
    ny = 1 if my >= y else -1
    n = (nx / math.sqrt(2), ny / math.sqrt(2))
    t = (-n[1], n[0])
    mid = (x + 26 * n[0], y + 26 * n[1])
    a = _r((mid[0] - 16 * t[0], mid[1] - 16 * t[1]))
    b = _r((mid[0] + 16 * t[0], mid[1] + 16 * t[1]))
    return (f"The green dot is at {_r((x, y))}; drag a stroke around it, about 28 px away, from {a} to {b}.",
            A.Drag(a, b))


# -- use-colorwheel, use-colorwheel-2 (jscolor) --------------------------------------------------------------

NAMED_COLORS = {"black": "#000000", "white": "#ffffff", "aqua": "#00ffff", "blue": "#0000ff", "gray": "#808080",
                "green": "#008000", "lime": "#00ff00", "maroon": "#800000", "navy": "#000080", "olive": "#808000",
                "purple": "#800080", "red": "#ff0000", "silver": "#c0c0c0", "teal": "#008080", "yellow": "#ffff00",
                "pink": "#ffc0cb", "magenta": "#ff00ff", "gold": "#ffd700", "orange": "#ffa500"}

JSCOLOR_JS = r"""
() => { const input = document.getElementById('col'), j = input.jscolor, r = input.getBoundingClientRect();
  const wrap = [...document.body.children].find(e => e.style && e.style.zIndex === '1000' && e.offsetWidth > 0);
  const canvases = wrap ? [...wrap.querySelectorAll('canvas')].map(c => { const b = c.getBoundingClientRect();
    return [b.left, b.top, b.width, b.height]; }) : [];
  const cc = document.querySelector('#query .cc');
  return {value: input.value, hsv: j.hsv, input: [r.left + r.width / 2, r.top + r.height / 2], open: !!wrap,
          canvases, want: cc ? getComputedStyle(cc).backgroundColor : null}; }
"""


def _rgb_to_hsv(r: float, g: float, b: float) -> tuple[float, float, float]:
    import colorsys

    h, s, v = colorsys.rgb_to_hsv(r / 255, g / 255, b / 255)
    return h * 360, s * 100, v * 100


@teacher("use-colorwheel", "use-colorwheel-2")
def use_colorwheel(obs, page):
    st = page.evaluate(JSCOLOR_JS)
    if st["want"]:
        rgb = [int(v) for v in re.findall(r"\d+", st["want"])[:3]]
        want_hex = "#%02x%02x%02x" % tuple(rgb)
        label = f"the colour of the sample square ({want_hex})"
    else:
        name = re.search(r"Select (\w+) with", obs.instruction).group(1)
        want_hex = NAMED_COLORS[name]
        rgb = [int(want_hex[i:i + 2], 16) for i in (1, 3, 5)]
        label = f"{name} ({want_hex})"
    H, S, V = _rgb_to_hsv(*rgb)
    h, s, v = st["hsv"]
    dh = min(abs(H - h), 360 - abs(H - h))
    pad_ok = (V < 1 or ((S < 1 or dh <= 2.5) and abs(S - s) <= 1.5))
    sld_ok = abs(V - v) <= 1.5
    if pad_ok and sld_ok:
        if st["open"]:
            return ("The picker shows " + label + " and covers the Submit button; click an empty spot at "
                    "(120, 60) to close it.", A.Click((120, 60)))
        return click(first(page, "#subbtn"), f"The field holds #{st['value'].lower()}, close to {label}. "
                                             f"The Submit button")
    if not st["open"]:
        x, y = round(st["input"][0]), round(st["input"][1])
        return f"The colour field is at ({x}, {y}); click it to open the colour picker.", A.Click((x, y))
    (px, py, pw, ph), (sx, sy, sw, sh) = st["canvases"][:2]
    if not pad_ok:
        x = round(px + (H / 360) * (pw - 1))
        y = round(py + (100 - S) / 100 * (ph - 1))
        return (f"{label.capitalize()} has hue {H:.0f} and saturation {S:.0f}%; click the colour pad at ({x}, {y}).",
                A.Click((x, y)))
    x = round(sx + sw / 2)
    y = round(sy + (100 - V) / 100 * (sh - 1))
    return f"{label.capitalize()} has brightness {V:.0f}%; click the brightness bar at ({x}, {y}).", A.Click((x, y))


# -- drag-cube -----------------------------------------------------------------------------------------------
# The cube turns by momentum: every 20 ms the page reads how far the mouse moved while the button was down,
# adds to a torque and turns the cube by it; the torque fades by 7% a tick once the button is up. A Drag here
# is one quick stroke, so how much of it the page sees varies; the teacher drags, waits for the cube to stop,
# and looks again. Each face is a 90-degree band of the page's rotation angles.

CUBE_JS = r"""
() => { const v = cube.viewport, r = document.querySelector('.viewport').getBoundingClientRect();
  return {x: v.positionX, y: v.positionY, tx: v.torqueX, ty: v.torqueY, mx: v.mouseX, my: v.mouseY,
          active: document.querySelector('.cube-image.active').textContent.trim(),
          box: [r.left, r.top, r.width, r.height]}; }
"""


def _wrap180(a: float) -> float:
    return (a + 180) % 360 - 180


def _cube_front(x: float, y: float) -> str:
    """The side the page counts as in front at rotation (x, y), as its viewport.animate computes it."""
    x, y = x % 360, y % 360
    if 46 <= y <= 130:
        return "6"
    if 220 <= y <= 308:
        return "1"
    order = ("3", "2", "5", "4") if 90 < y < 270 else ("5", "4", "3", "2")
    if 42 <= x <= 130:
        return order[0]
    if 131 <= x <= 223:
        return order[1]
    if 224 <= x <= 314:
        return order[2]
    return order[3]


@teacher("drag-cube")
def drag_cube(obs, page):
    """Turn the cube with strokes until the wanted side is in front and its number is red, then Submit.

    The page marks the front side red only when the side it computes changes, and it keeps that side across
    episodes; so a new episode can start with the wanted side in front but '6' red. Then the cube has to be
    turned one side away and back.
    """
    want = quoted(obs.instruction)[0]
    st = page.evaluate(CUBE_JS)
    if abs(st["tx"]) > 1 or abs(st["ty"]) > 1:
        return wait("The cube is still turning", 0.5)
    red = st["active"]
    btn = first(page, "#subbtn")
    covered = not page.evaluate("(p) => { const e = document.elementFromPoint(p[0], p[1]); "
                                "return !!(e && e.closest('#subbtn')); }", [btn["x"], btn["y"]])
    x, y = st["x"] % 360, st["y"] % 360
    front = _cube_front(x, y)
    if red == want and not covered:
        # Pressing the button while the pointer jumps there can count as a stroke and turn the cube, so bring
        # the pointer to the button first.
        b = btn["box"]
        if b[0] <= st["mx"] <= b[2] and b[1] <= st["my"] <= b[3]:
            return click(btn, f"The side '{want}' faces the front and its number is red. The Submit button")
        return (f"The side '{want}' faces the front and its number is red; move the pointer onto the Submit "
                f"button at ({btn['x']}, {btn['y']}) before pressing it.", A.Hover((btn["x"], btn["y"])))
    stale = front == want and red != want
    upside = 90 < y < 270
    in_band = 46 <= y <= 130 or 220 <= y <= 308
    if want in ("6", "1"):
        goal = 88 if want == "6" else 264
        delta, vertical = _wrap180((goal + 90 if stale else goal) - y), True
    elif in_band:  # showing the top or bottom: tip the cube back to the sides first
        goal = min((136, 316), key=lambda t: abs(_wrap180(t - y)))
        delta, vertical = _wrap180(goal - y), True
    else:
        centres = ({"3": 86, "2": 177, "5": 269, "4": 358} if upside else {"5": 86, "4": 177, "3": 269, "2": 358})
        delta, vertical = _wrap180((centres[want] + 90 if stale else centres[want]) - x), False
    # Dragging down turns the cube's y angle down; dragging right turns its x angle down when it is upside
    # down and up otherwise.
    if vertical:
        sign = -1 if delta > 0 else 1
    else:
        sign = (-1 if delta > 0 else 1) if upside else (1 if delta > 0 else -1)
    d = min(45, round(0.35 * abs(delta) + 6))
    ux, uy = (0, sign) if vertical else (sign, 0)
    way = {(0, 1): "down", (0, -1): "up", (1, 0): "right", (-1, 0): "left"}[(ux, uy)]
    if red == want:  # a corner of the turned cube hides the Submit button: square the cube up
        why = f"Side '{want}' is in front but the cube hides the Submit button; square it up: drag {way}"
    elif stale:
        why = (f"Side '{want}' faces the front but its number is not red ('{red}' is); turn the cube one side "
               f"away and back: drag {way}")
    else:
        why = f"Side '{front}' faces the front; to bring '{want}' round, drag {way}"
    # Start where the pointer already is (a jump to the start can count as part of the stroke), unless that
    # is off the cube's stage or the stroke would reach the Submit button.
    x0, y0 = round(st["mx"]), round(st["my"])
    if not (4 <= x0 <= 155 and 54 <= y0 <= 170 and 4 <= x0 + ux * d <= 155 and 54 <= y0 + uy * d <= 170):
        cx, cy = st["box"][0] + st["box"][2] / 2, st["box"][1] + st["box"][3] / 2
        x0, y0 = round(cx - ux * d / 2), round(cy - uy * d / 2)
        return (f"{why}; first move the pointer to ({x0}, {y0}) on the cube, with room for the stroke.",
                A.Hover((x0, y0)))
    x1, y1 = x0 + ux * d, y0 + uy * d
    return f"{why} from ({x0}, {y0}) to ({x1}, {y1}).", A.Drag((x0, y0), (x1, y1))
