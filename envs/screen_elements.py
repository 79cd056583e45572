"""A screen's elements when there is no DOM (the desktop): its text, read by OCR, and its text fields, found by
their look.

OCR alone lists the labels ("Name:", "Email:") but not the empty fields beside them, so a model that acts on the
element list had nothing to copy the field's position from: it had to read the position off a downscaled
screenshot (a 1024x768 screen reaches the embedded model at about 224x224), and typed at remembered places.
A text field, in Tk, GTK, Qt and most web themes, is a light rectangle inside a darker frame; :func:`field_boxes`
finds those, and :func:`screen_elements` lists them as ``textbox`` elements in reading order among the text, with
the text OCR read inside a field as its value (as the browser's list gives an input's value).

Taller framed areas (a list, a multi-line editor) are left out: by their look alone a list and an editor are the
same, and a list's rows are better listed as their text.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from core.env import Element
from envs.ocr import ocr_lines

LIGHT = 245  # every channel at least this: a field's fill (white, or nearly)
MIN_WIDTH, MIN_HEIGHT, MAX_HEIGHT = 30, 10, 60  # the inner light area of a one-line field, in pixels


def field_boxes(image: Image.Image) -> list[tuple[int, int, int, int]]:
    """The (x0, y0, x1, y1) boxes, frame included, of one-line text fields: light rectangles whose four sides are
    bounded by non-light pixels all along, MIN_WIDTH wide or more and MIN_HEIGHT to MAX_HEIGHT high inside.

    A field's text may cross its inside, but its first and last rows and columns are bare (the padding), which is
    what is followed down from each top edge.
    """
    light = (np.asarray(image.convert("RGB")) >= LIGHT).all(axis=2)
    h, w = light.shape
    boxes = []
    for y in range(1, h - 1):
        edges = np.diff(np.concatenate(([0], light[y].astype(np.int8), [0])))
        for x0, x1 in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
            if x1 - x0 < MIN_WIDTH or x0 == 0 or x1 == w or light[y - 1, x0:x1].any():
                continue  # too narrow, at the screen's edge, or not a top edge (the row above is not the frame)
            y1 = y + 1
            while (y1 < h and y1 - y <= MAX_HEIGHT and light[y1, x0] and light[y1, x1 - 1]
                   and not light[y1, x0 - 1] and not light[y1, x1]):
                y1 += 1
            if (y1 < h and MIN_HEIGHT <= y1 - y <= MAX_HEIGHT and light[y1 - 1, x0:x1].all()
                    and not light[y1, x0 - 1:x1 + 1].any()):
                boxes.append((int(x0) - 1, y - 1, int(x1) + 1, y1 + 1))
    return boxes


def _inside(box, line_box) -> bool:
    cx, cy = (line_box[0] + line_box[2]) / 2, (line_box[1] + line_box[3]) / 2
    return box[0] <= cx < box[2] and box[1] <= cy < box[3]


def screen_elements(image: Image.Image, start_id: int = 0) -> list[Element]:
    """The screen's text lines (``text``) and one-line fields (``textbox``, their value the text inside), in
    reading order (rows within 8 px, then left to right), ids counting from ``start_id``."""
    lines = ocr_lines(image)
    found = [(box, " ".join(t for t, b, _ in lines if _inside(box, b))) for box in field_boxes(image)]
    items = [("textbox", value, box) for box, value in found]
    items += [("text", t, b) for t, b, _ in lines if not any(_inside(box, b) for box, _ in found)]
    items.sort(key=lambda item: (item[2][1] // 8, item[2][0]))
    return [Element(start_id + i, role, text, tuple(box)) for i, (role, text, box) in enumerate(items)]
