"""A screen's elements when there is no DOM (the desktop): its text, read by OCR, and its text fields, found by
their look.

OCR alone lists the labels ("Name:", "Email:") but not the empty fields beside them, so a model that acts on the
element list had nothing to copy the field's position from: it had to read the position off a downscaled
screenshot (a 1024x768 screen reaches the embedded model at about 224x224), and typed at remembered places.
A text field, in Tk, GTK, Qt and most web themes, is a light rectangle inside a frame: a line darker than both the
field and what lies beyond it, at least on its top and left sides (a sunken border lightens the other two). A
light band between bands of another colour, such as the rows of a striped list, has no such line.
:func:`field_boxes` finds those, and :func:`screen_elements` lists them as ``textbox`` elements in reading order among the text, with
the text OCR read inside a field as its value (as the browser's list gives an input's value).

A taller framed light area (a multi-line editor, a list) is listed as a ``box``, its text left as the lines OCR
read: by their look alone an editor and a list are the same, and a list's rows are better named by their text.
A click or a typing aimed at the editor's middle can then be copied from the list too.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from core.env import Element
from envs.ocr import ocr_lines

LIGHT = 245  # every channel at least this: a field's fill (white, or nearly)
FRAME_GAP = 3  # how far beyond the frame line "what lies beyond" is read
FRAME_CONTRAST = 8  # the frame line is darker than that by at least this (mean grey level)
MIN_WIDTH, MIN_HEIGHT, MAX_HEIGHT = 30, 10, 60  # the inner light area of a one-line field, in pixels


def field_boxes(image: Image.Image, max_height: int = MAX_HEIGHT) -> list[tuple[int, int, int, int]]:
    """The (x0, y0, x1, y1) boxes, frame included, of one-line text fields: light rectangles whose four sides are
    bounded by non-light pixels all along, MIN_WIDTH wide or more and MIN_HEIGHT to ``max_height`` high inside,
    framed (:func:`_framed`).

    A field's text may cross its inside, but its first and last rows and columns are bare (the padding), which is
    what is followed down from each top edge.
    """
    rgb = np.asarray(image.convert("RGB"))
    light, grey = (rgb >= LIGHT).all(axis=2), rgb.mean(axis=2)
    h, w = light.shape
    boxes = []
    for y in range(1, h - 1):
        edges = np.diff(np.concatenate(([0], light[y].astype(np.int8), [0])))
        for x0, x1 in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
            if x1 - x0 < MIN_WIDTH or x0 == 0 or x1 == w or light[y - 1, x0:x1].any():
                continue  # too narrow, at the screen's edge, or not a top edge (the row above is not the frame)
            y1 = y + 1
            while (y1 < h and y1 - y <= max_height and light[y1, x0] and light[y1, x1 - 1]
                   and not light[y1, x0 - 1] and not light[y1, x1]):
                y1 += 1
            if (y1 < h and MIN_HEIGHT <= y1 - y <= max_height and light[y1 - 1, x0:x1].all()
                    and not light[y1, x0 - 1:x1 + 1].any() and _framed(grey, int(x0), y, int(x1), y1)):
                boxes.append((int(x0) - 1, y - 1, int(x1) + 1, y1 + 1))
    return boxes


def _framed(grey: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> bool:
    """Is the line just above and just left of the light area [x0, x1) x [y0, y1) darker than beyond it?"""
    top, left = grey[y0 - 1, x0:x1].mean(), grey[y0:y1, x0 - 1].mean()
    above = grey[max(0, y0 - 1 - FRAME_GAP), x0:x1].mean()
    before = grey[y0:y1, max(0, x0 - 1 - FRAME_GAP)].mean()
    return top + FRAME_CONTRAST <= above and left + FRAME_CONTRAST <= before


def _inside(box, line_box) -> bool:
    cx, cy = (line_box[0] + line_box[2]) / 2, (line_box[1] + line_box[3]) / 2
    return box[0] <= cx < box[2] and box[1] <= cy < box[3]


def screen_elements(image: Image.Image, start_id: int = 0) -> list[Element]:
    """The screen's text lines (``text``), one-line fields (``textbox``, their value the text inside) and taller
    framed areas (``box``), in reading order (rows within 8 px, then left to right), ids from ``start_id``."""
    lines = ocr_lines(image)
    framed = field_boxes(image, max_height=image.height)
    fields = [box for box in framed if box[3] - box[1] - 2 <= MAX_HEIGHT]
    found = [(box, " ".join(t for t, b, _ in lines if _inside(box, b))) for box in fields]
    items = [("textbox", value, box) for box, value in found] + [("box", "", b) for b in framed if b not in fields]
    items += [("text", t, b) for t, b, _ in lines if not any(_inside(box, b) for box, _ in found)]
    items.sort(key=lambda item: (item[2][1] // 8, item[2][0]))
    return [Element(start_id + i, role, text, tuple(box)) for i, (role, text, box) in enumerate(items)]
