"""Coordinate spaces: where a model's points land on the screen.

Each model family writes points in its own space, and a click lands in the wrong place when the space is
mistaken (the most common complaint about UI-TARS). Three spaces are known:

- ``qwen25``: Qwen2.5-VL and UI-TARS-1.5. Absolute pixels in the image the processor actually saw, which is
  the screenshot resized by :func:`smart_resize`. screen = model_xy / resized_wh * screen_wh.
- ``relative1000``: UI-TARS v1 and the 72B models. 0..1000 across each side of the screen.
- ``pixels``: screen pixels, for scripted teachers and APIs that use pixels.

Everything here is a pure function. Actions enter in one space and leave in the other with every point
converted; element references are left alone, since the env resolves them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import TypeVar

from core.actions import Point

SPACES = ("qwen25", "relative1000", "pixels")

Size = tuple[int, int]  # (width, height), the order screens and PIL images use
ActionT = TypeVar("ActionT")


def smart_resize(height: int, width: int, factor: int = 28, min_pixels: int = 56 * 56,
                 max_pixels: int = 16384 * 28 * 28) -> tuple[int, int]:
    """The (height, width) that Qwen2.5-VL's image processor resizes an image to.

    Each side becomes a multiple of ``factor`` and the area stays within [min_pixels, max_pixels]. This is
    the processor's own arithmetic, step for step, including Python's round-half-to-even: rounding halves up
    (as JavaScript's Math.round does) gives a different size and clicks that drift (UI-TARS-desktop#1730).
    """
    ratio = max(height, width) / min(height, width)
    if ratio > 200:
        raise ValueError(f"absolute aspect ratio must be smaller than 200, got {ratio}")
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


@dataclass(frozen=True)
class CoordSpace:
    """The coordinate space a model writes its points in."""

    name: str = "qwen25"
    """One of ``SPACES``: 'qwen25', 'relative1000' or 'pixels'."""
    factor: int = 28
    """qwen25 only: the processor's patch size times its merge size; each resized side is a multiple of it."""
    min_pixels: int = 56 * 56
    """qwen25 only: the smallest area the processor resizes to (its ``min_pixels``)."""
    max_pixels: int = 16384 * 28 * 28
    """qwen25 only: the largest area the processor resizes to (its ``max_pixels``; Qwen's default)."""

    def __post_init__(self):
        if self.name not in SPACES:
            raise ValueError(f"unknown coordinate space {self.name!r}; known: {', '.join(SPACES)}")

    def model_size(self, screen_wh: Size) -> Size:
        """The (width, height) of the model's space for a screen of this size."""
        width, height = screen_wh
        if self.name == "qwen25":
            resized_h, resized_w = smart_resize(height, width, self.factor, self.min_pixels, self.max_pixels)
            return resized_w, resized_h
        if self.name == "relative1000":
            return 1000, 1000
        return width, height


def point_to_screen(xy: Point, space: CoordSpace | str, screen_wh: Size) -> Point:
    """A point the model wrote, in screen pixels, kept on the screen (a model's 1000 is the right edge)."""
    space = _space(space)
    if space.name == "pixels":
        return xy
    (mw, mh), (sw, sh) = space.model_size(screen_wh), screen_wh
    return _clamp(round(xy[0] / mw * sw), sw - 1), _clamp(round(xy[1] / mh * sh), sh - 1)


def point_to_model(xy: Point, space: CoordSpace | str, screen_wh: Size) -> Point:
    """A screen point, as the model would write it."""
    space = _space(space)
    if space.name == "pixels":
        return xy
    (mw, mh), (sw, sh) = space.model_size(screen_wh), screen_wh
    # relative1000 runs 0..1000 inclusive; a resized image's pixels run 0..size-1.
    top_x, top_y = (mw, mh) if space.name == "relative1000" else (mw - 1, mh - 1)
    return _clamp(round(xy[0] / sw * mw), top_x), _clamp(round(xy[1] / sh * mh), top_y)


def to_screen(action: ActionT, space: CoordSpace | str, screen_wh: Size) -> ActionT:
    """The action with every point converted from the model's space to screen pixels."""
    return _map_points(action, lambda xy: point_to_screen(xy, space, screen_wh))


def to_model(action: ActionT, space: CoordSpace | str, screen_wh: Size) -> ActionT:
    """The action with every point converted from screen pixels to the model's space."""
    return _map_points(action, lambda xy: point_to_model(xy, space, screen_wh))


def _map_points(action, convert):
    changes = {f.name: convert(value) for f in fields(action)
               if isinstance(value := getattr(action, f.name), tuple)}  # points are tuples; ElementRefs are not
    return replace(action, **changes) if changes else action


def _space(space: CoordSpace | str) -> CoordSpace:
    return space if isinstance(space, CoordSpace) else CoordSpace(space)


def _clamp(value: int, top: int) -> int:
    return max(0, min(value, top))
