"""The element list: how an observation's elements are written for the model to read and copy.

``[3] button 'Submit' (focused) at (80,131)``, one line per element; a text-less element is named by its
position, and in the compact form (small models) by its colour. The prompt shows this list (agent/memory.py),
the teachers' student form quotes its lines (models/student_form.py), and the reply constraints restrict
element references to its texts (models/constrain.py, models/reply_pattern.py): all read it from here.
"""

from __future__ import annotations

import re

from PIL import Image

from core.env import Element


# CSS's basic colour names (plus a few common ones): text-less elements are described by their colour.
PALETTE = {
    "black": (0, 0, 0), "white": (255, 255, 255), "gray": (128, 128, 128), "silver": (192, 192, 192),
    "red": (255, 0, 0), "maroon": (128, 0, 0), "yellow": (255, 255, 0), "olive": (128, 128, 0),
    "lime": (0, 255, 0), "green": (0, 128, 0), "aqua": (0, 255, 255), "teal": (0, 128, 128),
    "blue": (0, 0, 255), "navy": (0, 0, 128), "magenta": (255, 0, 255), "purple": (128, 0, 128),
    "orange": (255, 165, 0), "pink": (255, 192, 203), "gold": (255, 215, 0), "brown": (165, 42, 42),
}


def color_name(img: Image.Image, bbox: tuple[int, int, int, int]) -> str:
    """The palette name nearest to the middle of a box's pixels (what a person would call its colour)."""
    x0, y0, x1, y1 = bbox
    dx, dy = (x1 - x0) // 4, (y1 - y0) // 4
    r, g, b = img.crop((x0 + dx, y0 + dy, max(x0 + dx + 1, x1 - dx), max(y0 + dy + 1, y1 - dy))) \
        .convert("RGB").resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    return min(PALETTE, key=lambda n: sum((a - c) ** 2 for a, c in zip((r, g, b), PALETTE[n])))


LIST_LIMIT = 40
"""Elements the list shows; the rest are summed up as ``... N more``."""

UNDESCRIBED = ("textbox", "checkbox", "radio")
"""Text-less roles the compact list does not describe by colour: the role already says what they are."""


def element_line(e: Element, compact: bool = False, screenshot: Image.Image | None = None, label: str = "") -> str:
    """One element as the list shows it, without its ``[id]``: ``button 'Submit' (focused)``,
    ``div white at (111,167)``, and with a ``label`` (:func:`field_labels`) ``textbox for 'E-mail' at (204,177)``."""
    state = f" ({e.state})" if e.state else ""
    text = f" '{e.text[:60]}'" if e.text else ""
    if compact and not e.text and screenshot is not None and e.role not in UNDESCRIBED:
        text = f" {color_name(screenshot, e.bbox)}"
    named = f" for '{label}'" if label else ""
    where = "" if compact and e.text else f" at ({e.center[0]},{e.center[1]})"
    return f"{e.role}{text}{named}{state}{where}"


FIELD_ROLES = ("textbox", "combobox")
"""Roles that get a label in the list when the card asks (``"field_labels": true``)."""

LABEL_GAP = (120, 24)
"""How far (pixels) a field's label may sit to its left, and above it."""


def _label_text(e: Element) -> str:
    text = e.text.strip().rstrip(":*").strip()
    ok = e.role not in (*CONTROL_ROLES, "heading") and 0 < len(text) <= 40 and any(c.isalpha() for c in text)
    return text if ok and "'" not in text and "\\" not in text else ""


def _above(box, field) -> bool:
    """``box`` starts just above ``field``, from its left edge to its right."""
    return box[3] <= field[1] + 2 and field[1] - box[3] <= LABEL_GAP[1] and field[0] - 16 <= box[0] <= field[2]


def field_labels(elements: list[Element]) -> dict[int, str]:
    """The text that names each field (``FIELD_ROLES``), by where it sits, as a person reads a form.

    A field's label is the short text (not a control) that holds it (``<label>Name <input></label>``), else the
    nearest that ends just left of it on its row (unless it starts just above a field: a form's column of labels
    over fields names those, not the next column's), else the nearest that starts just above it (from its left edge
    to its right). Position, not the DOM, decides, so that the same rule names the fields of a web page, a MiniWoB
    task (whose labels are often a table cell or a bare ``<label>`` beside the input), a drawn form
    (train/synthetic.py) and a desktop screen read by OCR (envs/screen_elements.py). A heading names no field, and
    a field with a placeholder (which its state shows) or with no such text gets no label."""
    texts = [(e, t) for e in elements if (t := _label_text(e))]
    fields = [f for f in elements if f.role in FIELD_ROLES and "placeholder=" not in f.state]
    over = {e.id for e, _ in texts for f in fields if _above(e.bbox, f.bbox)}  # each of these names a field below
    labels = {}
    for f in fields:
        fx0, fy0, fx1, fy1 = f.bbox
        best = None
        for e, text in texts:
            x0, y0, x1, y1 = e.bbox
            cy = (y0 + y1) / 2
            if x0 <= fx0 and y0 <= fy0 and x1 >= fx1 and y1 >= fy1 and y1 - y0 <= 3 * (fy1 - fy0):
                gap = 0.5  # holds the field
            elif x1 <= fx0 + 2 and fx0 - x1 <= LABEL_GAP[0] and fy0 - 2 <= cy <= fy1 + 2 and e.id not in over:
                gap = fx0 - x1
            elif _above(e.bbox, f.bbox):
                gap = 1000 + fy0 - y1  # only when nothing labels it from the left (a table's row over its column)
            else:
                continue
            if text != f.text and (best is None or gap < best[0]):
                best = (gap, text)
        if best:
            labels[f.id] = best[1]
    return labels


CONTROL_ROLES = ("textbox", "button", "link", "checkbox", "radio", "combobox", "slider", "spinbutton", "switch",
                 "colorpicker")
"""Roles a reply acts on: a long list keeps them before plain text."""


def listed_elements(elements: list[Element], instruction: str = "", limit: int = LIST_LIMIT,
                    labels: dict[int, str] | None = None) -> list[Element]:
    """The elements the list shows, in page order.

    A list that fits is shown whole: every MiniWoB++ screen does (none of the 125 tasks starts with more than 40
    elements, seeds 1000-1001). A full-size page has more (envs/tasks/web: up to 125), and its first 40 are
    mostly the site's header and the top of the content, while the field or the row's link to act on may come
    later. So a longer list keeps, up to ``limit``: first the elements the instruction names
    (:func:`named_in_task`), then the controls (``CONTROL_ROLES``, or focused), then other text, each in page
    order; what is left out is summed up as ``... N more``.
    """
    if len(elements) <= limit:
        return list(elements)
    named = {e.id for e in named_in_task(instruction, elements, len(elements), labels)} if instruction else set()
    tiers = (lambda e: e.id in named, lambda e: e.role in CONTROL_ROLES or "focused" in (e.state or ""),
             lambda e: True)
    keep: set[int] = set()
    for in_tier in tiers:
        for e in elements:
            if len(keep) == limit:
                break
            if e.id not in keep and in_tier(e):
                keep.add(e.id)
    return [e for e in elements if e.id in keep]


def describe_elements(elements: list[Element], limit: int = LIST_LIMIT, compact: bool = False,
                      screenshot: Image.Image | None = None, instruction: str = "",
                      labels: dict[int, str] | None = None) -> str:
    """The element list as the model reads it: ``[3] button 'Submit' (focused) at (80,131)``.

    ``compact`` (small models) gives a position only to elements without text, which are named by their
    position, and describes them by colour when a screenshot is given; an element with text is named by the
    text (``element='Submit'``). A list longer than ``limit`` shows the elements :func:`listed_elements`
    keeps for ``instruction``. ``labels`` (:func:`field_labels`) name the fields.
    """
    labels = labels or {}
    shown = listed_elements(elements, instruction, limit, labels)
    lines = [f"[{e.id}] {element_line(e, compact, screenshot, labels.get(e.id, ''))}" for e in shown]
    if len(elements) > len(shown):
        lines.append(f"... {len(elements) - len(shown)} more")
    return "\n".join(lines)


MATCH_LIMIT = 3
"""Lines the ``Named in the task:`` line repeats at most."""

_QUOTED = re.compile(r'"([^"]+)"')


def _names(text: str, instruction: str, quotes: set[str], any_case: bool = False) -> bool:
    text = (text or "").strip()
    if not text or len(text) > 60:
        return False
    if quotes:
        return text in quotes
    return len(text) >= 3 and any(c.isalpha() for c in text) and re.search(
        rf"(?<!\w){re.escape(text)}(?!\w)", instruction, re.IGNORECASE if any_case else 0) is not None


def named_in_task(instruction: str, elements: list[Element], limit: int = LIST_LIMIT,
                  labels: dict[int, str] | None = None) -> list[Element]:
    """The listed elements the instruction names, in list order.

    When the instruction quotes strings (``click on the link "Viverra"``), an element is named when its text is
    one of them. Otherwise when its text, of three characters or more, occurs in the instruction as whole words
    (``Find the email by Ruthanne``), case as written. A field is also named by its label (``labels``, in any
    case: "the e-mail" names the field labelled ``E-mail``), which is how instructions name fields.
    """
    quotes = {q.strip() for q in _QUOTED.findall(instruction)}
    labels = labels or {}
    return [e for e in elements[:limit] if _names(e.text, instruction, quotes)
            or _names(labels.get(e.id, ""), instruction, set(), any_case=True)]


def match_line(instruction: str, elements: list[Element], screenshot: Image.Image | None = None,
               labels: dict[int, str] | None = None) -> str:
    """``Named in the task: [7] link 'Viverra'`` (or ``none``): the listed lines whose text the instruction names.

    Whether the instruction's word is in the list is a lookup across the whole prompt, which the embedded model
    does not learn (docs/experiments-grpo.md, run 10: 123 of 129 failures on the search tasks decide "shown" wrongly). Repeated
    as the last line before the reply, it becomes a local copy, the way a set-of-marks prompt points at targets.
    """
    named = named_in_task(instruction, listed_elements(elements, instruction, labels=labels), labels=labels)
    lines = describe_elements(named[:MATCH_LIMIT], compact=True, screenshot=screenshot, labels=labels)
    lines = lines.replace("\n", "; ")
    return "Named in the task: " + (lines or "none")
