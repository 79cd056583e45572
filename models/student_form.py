"""The student's form of a teacher's answer: element references by copied text, short thoughts.

Teachers answer in screen pixels ("The button labelled 'no' is at (17, 159); click it." /
``click(start_box='(17,159)')``). A small model copies far better than it reads coordinates off a list, so
for the embedded model each point is rewritten as a reference to the element under it:

- the smallest element under the point that has visible text becomes ``element='text'`` (with ``nth=`` when
  several elements share the text), checked by resolving it back to a point inside that element;
- a point on a text-less element (a text box, a shape, a swatch) is snapped to that element's centre, which
  the element list shows, so it is still a copy;
- a point on a slider keeps its pixels (its text is its value; the point is the value it is set to), and so
  does anything else.

The thought loses its coordinates ("The button labelled 'no'; click it."), since the reference carries
the position; that keeps the output short, which is most of the model's latency.
"""

from __future__ import annotations

import dataclasses
import re

from core import actions as A
from core.elements import UNDESCRIBED, element_line, field_labels, listed_elements
from core.env import ActionError, Element, resolve_target

SNAP_PIXELS = 4


def _contains(e: Element, x: int, y: int) -> bool:
    x0, y0, x1, y1 = e.bbox
    return x0 <= x < x1 and y0 <= y < y1


def _area(e: Element) -> int:
    x0, y0, x1, y1 = e.bbox
    return (x1 - x0) * (y1 - y0)


def reference_for(point: A.Point, elements: list[Element], into_field: bool = False) -> A.Target:
    """The student's way to name what is at ``point``: text reference, snapped centre, or the point.

    ``into_field`` (a Type action): when a text box lies under the point, only text boxes count. The element
    list also holds what a dialog covers, and a covered table cell can be smaller than the dialog's field
    (envs/tasks/web/unseen/delete-confirm); typing never means the cell.
    """
    x, y = point
    under = sorted((e for e in elements if _contains(e, x, y)), key=_area)
    if into_field and any(e.role == "textbox" for e in under):
        under = [e for e in under if e.role == "textbox"]
    if under and under[0].role == "slider":  # its text is its value, and where on it is the new value: keep the point
        return point
    for e in under:
        if not e.text or len(e.text) > 40:
            continue
        for ref in (A.ElementRef(text=e.text), *(A.ElementRef(text=e.text, nth=k) for k in range(6))):
            try:
                rx, ry = resolve_target(ref, elements)
            except ActionError:
                continue
            if _contains(e, rx, ry):
                return ref
        break  # the innermost text element could not be named uniquely: do not name an outer one
    if under and not under[0].text:
        cx, cy = under[0].center
        if abs(cx - x) <= SNAP_PIXELS and abs(cy - y) <= SNAP_PIXELS:
            return (cx, cy)
    return point


def student_action(action, elements: list[Element]):
    """The same action with every point rewritten by :func:`reference_for`. Drags keep their pixels."""
    if isinstance(action, A.Drag):
        return action
    at = getattr(action, "at", None)
    if at is None or isinstance(at, A.ElementRef):
        return action
    return dataclasses.replace(action, at=reference_for(at, elements, into_field=isinstance(action, A.Type)))


_AT_POINT = re.compile(r"\s*(?:is |are )?(?:at|to) \(\d+, ?\d+\)")
_POINT = re.compile(r"\s*\(\d+, ?\d+\)")


def listed_lines(actions, obs, labels: bool = False) -> list[str]:
    """How the element list shows each text-less element an action clicks by position (its snapped centre).

    Only elements the list describes are quoted: by colour (swatches, shapes, icons) or, with ``labels`` (the
    card's ``field_labels``), a field by its label (``textbox for 'E-mail' at (204,177)``), so that the thought
    finds the field by the label's words and the position is then read off that line. An unlabelled text box's
    line (``textbox at (65,170)``) says nothing its position does not, so quoting it would only lengthen the reply.
    """
    named = field_labels(obs.elements) if labels else {}
    lines = []
    for action in actions:
        at = getattr(action, "at", None)
        if at is None or isinstance(at, A.ElementRef):
            continue
        for e in listed_elements(obs.elements, obs.instruction, labels=named):  # the elements the list shows
            described = e.role not in UNDESCRIBED or e.id in named
            if not e.text and described and tuple(e.center) == tuple(at):
                lines.append(element_line(e, compact=True, screenshot=obs.screenshot, label=named.get(e.id, "")))
                break
    return lines


def student_thought(thought: str, quoted: list[str] = ()) -> str:
    """The teacher's thought without coordinates: "X is at (3, 4); click it." -> "X; click it.".

    ``quoted`` lines (``listed_lines``) go in before the last clause: "The white box; div white at (111,167);
    click it." The action's position then follows the colour the thought just wrote, as it does in the element
    list, so finding it is a copy of what follows a match rather than a lookup across the prompt. On click-color
    (train/probe.py, 40 held-out teacher episodes, 600 SFT steps at lr 1e-3) the quoting forms fit the
    training episodes (87.5-100% agreement against 62.5%) and agreed with the teacher on 45-67.5% of the held-out
    ones at steps 400-600 against 32.5-47.5% without the quote (docs/experiments-grpo.md, run 7).
    """
    text = _AT_POINT.sub("", thought)
    text = _POINT.sub("", text)
    text = re.sub(r"\s+([;,.])", r"\1", text).strip()
    if quoted:
        head, sep, tail = text.rpartition("; ")
        text = f"{head}; {'; '.join(quoted)}; {tail}" if sep else f"{text.rstrip('.')}; {'; '.join(quoted)}."
    return text
