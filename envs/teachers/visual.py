"""Teachers: visual tasks (shapes, colours, grids, drags)."""

from __future__ import annotations

import re
from functools import lru_cache

from agent import actions as A
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
  else if (tag === 'polygon') { const xs = el.getAttribute('points').trim().split(/[\s]+/).map(p => parseFloat(p.split(',')[0]));
    px = Math.max(...xs) - Math.min(...xs); }
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
  const read = () => [...document.querySelectorAll('#divWheel text')].map(t => {
    const r = t.getBoundingClientRect();
    return {id: t.id, text: t.textContent, x: r.left + r.width / 2, y: r.top + r.height / 2, h: r.height};
  });
  const a = read();
  await new Promise(res => setTimeout(res, 60));
  const b = read();
  const moving = a.some((t, i) => Math.abs(t.x - b[i].x) + Math.abs(t.y - b[i].y) + Math.abs(t.h - b[i].h) > 0.5);
  return {items: b, moving};
}
"""


@teacher("click-pie", "click-pie-nodelay")
def click_pie(obs, page):
    want = quoted(obs.instruction)[0]
    state = page.evaluate(PIE_JS)
    spreader = next(t for t in state["items"] if t["id"].endswith("spreadertitle"))
    sx, sy = round(spreader["x"]), round(spreader["y"])
    items = [t for t in state["items"] if "-title-" in t["id"]]
    item = next(t for t in items if t["text"] == want)
    if spreader["text"].strip() == "+":
        return (f"The pie menu is closed; its '+' button is at ({sx}, {sy}); click it to expand the menu.",
                A.Click((sx, sy)))
    opened = all(((t["x"] - sx) ** 2 + (t["y"] - sy) ** 2) ** 0.5 > 30 for t in items)
    if state["moving"] or not opened:
        return wait("The pie menu is still opening", 0.3)
    x, y = round(item["x"]), round(item["y"])
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
            return f"The {s['color']} square at ({x}, {y}) is selected but is not a shade of {want}; click it to deselect it.", A.Click((x, y))
    for s in spans:
        if s["color"] == want and not s["selected"]:
            x, y = s["x"], s["y"]
            return f"The {want} square at ({x}, {y}) is a shade of {want} not yet selected; click it.", A.Click((x, y))
    return click(first(page, "#submit"), f"All the shades of {want} are selected. The Submit button")


# -- click-shape, count-shape, identify-shape ----------------------------------------------------------------


@teacher("click-shape")
def click_shape(obs, page):
    desc = parse_desc(obs.instruction.split("Click on a ", 1)[1].strip())
    s = next(s for s in svg_shapes(page) if matches(s, desc))
    x, y = s["x"], s["y"]
    return f"A {desc_text(desc)}: the {shape_name(s)} is at ({x}, {y}); click it.", A.Click((x, y))


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
    return click(dot, f"The grid point {cid} is the blue dot that")


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
    if _won(nb, 1):
        why = f"An X in {where} completes a line of three; click it."
    elif any(_won(b[:j] + (-1,) + b[j + 1:], -1) for j in range(9) if b[j] == 0) and \
            not any(_won(nb[:j] + (-1,) + nb[j + 1:], -1) for j in range(9) if nb[j] == 0):
        why = f"O threatens to complete a line; block it by clicking {where}."
    else:
        why = f"The best free square for X is {where}; click it."
    return why, A.Click((x, y))
