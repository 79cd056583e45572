"""Privileged DOM reading shared by the teachers. Boxes are in screenshot pixels (the task area is at 0,0)."""

from __future__ import annotations

from core import actions as A

# Visible elements matching a CSS selector: text, centre, box, and a few properties.
QUERY_JS = r"""
(sel) => [...document.querySelectorAll(sel)].filter(el => {
    const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  }).map(el => {
    const r = el.getBoundingClientRect();
    // The centre, or else the first point of a 5x5 grid where this element is on top (not covered).
    const hits = (x, y) => { const e = document.elementFromPoint(x, y); return e && (e === el || el.contains(e)); };
    let x = r.left + r.width / 2, y = r.top + r.height / 2;
    if (!hits(x, y)) {
      outer: for (const fy of [0.5, 0.3, 0.7, 0.15, 0.85]) for (const fx of [0.5, 0.3, 0.7, 0.15, 0.85]) {
        const px = r.left + r.width * fx, py = r.top + r.height * fy;
        if (hits(px, py)) { x = px; y = py; break outer; }
      }
    }
    return {text: (el.innerText || el.textContent || el.value || '').replace(/\s+/g, ' ').trim(),
            x: Math.round(x), y: Math.round(y),
            box: [r.left, r.top, r.right, r.bottom].map(Math.round), id: el.id,
            tag: el.tagName.toLowerCase(), value: el.value === undefined ? null : el.value,
            checked: !!el.checked, cls: el.className && el.className.baseVal !== undefined ?
              el.className.baseVal : (el.className || '')};
  })
"""


def query(page, selector: str) -> list[dict]:
    """Visible elements matching ``selector``, in document order."""
    return page.evaluate(QUERY_JS, selector)


def first(page, selector: str) -> dict | None:
    found = query(page, selector)
    return found[0] if found else None


def click(el: dict, what: str) -> tuple[str, A.Click]:
    """Click the centre of a queried element, with a Thought naming it and its position."""
    x, y = el["x"], el["y"]
    return f"{what} is at ({x}, {y}); click it.", A.Click((x, y))


def quoted(text: str) -> list[str]:
    """The strings in double quotes in an instruction, in order."""
    import re

    return re.findall(r'"([^"]*)"', text)


def wait(reason: str, seconds: float = 0.2) -> tuple[str, A.Wait]:
    return f"{reason}; wait for the page to settle.", A.Wait(seconds)
