"""Coordinate spaces: Qwen2.5-VL's smart_resize and the conversions between model and screen points."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.actions import Click, Drag, ElementRef, Scroll, Type, Wait, targets
from core.coords import (
    SPACES, CoordSpace, point_to_model, point_to_screen, smart_resize, to_model, to_screen,
)
from test_actions import actions

MAX_PIXELS = 16384 * 28 * 28


# -- smart_resize ------------------------------------------------------------------------------------------

# (height, width) -> the size Qwen2.5-VL's processor resizes to, with max_pixels=16384*28*28. Checked against
# transformers 5.24's Qwen2VLImageProcessor smart_resize. 1920x1080: 1080/28 = 38.57 -> 39*28 = 1092 and
# 1920/28 = 68.57 -> 69*28 = 1932; the area, 2.1M pixels, is inside the limits, so nothing else changes.
KNOWN_SIZES = [
    ((1080, 1920), (1092, 1932)),
    ((720, 1280), (728, 1288)),
    ((768, 1366), (756, 1372)),
    ((800, 1280), (812, 1288)),
    ((1440, 2560), (1428, 2548)),
    ((2160, 3840), (2156, 3836)),
    ((210, 160), (224, 168)),
    ((320, 500), (308, 504)),
    ((70, 98), (56, 112)),  # 2.5 and 3.5 sides: half to even gives 2 and 4 (JavaScript's Math.round: 3 and 4)
    ((10, 10), (56, 56)),  # too small: scaled up to min_pixels
    ((100, 4000), (112, 4004)),
    ((3000, 4000), (2996, 4004)),
    ((4000, 4000), (3584, 3584)),  # too large: scaled down to max_pixels
    ((14, 2000), (28, 672)),
]


@pytest.mark.parametrize("hw, resized", KNOWN_SIZES)
def test_smart_resize_known_values(hw, resized):
    assert smart_resize(*hw) == resized


def test_smart_resize_rounds_half_to_even():
    assert smart_resize(70, 70) == (56, 56)  # 70/28 = 2.5 -> 2, not 3
    assert smart_resize(98, 98) == (112, 112)  # 3.5 -> 4


def test_smart_resize_rejects_extreme_aspect_ratios():
    with pytest.raises(ValueError, match="aspect ratio"):
        smart_resize(10, 2010)
    assert smart_resize(28, 5600)  # exactly 200 is allowed


@settings(max_examples=300, deadline=None)
@given(st.integers(28, 8000), st.integers(28, 8000))
def test_smart_resize_invariants(height, width):
    assume(max(height, width) / min(height, width) <= 200)
    h, w = smart_resize(height, width)
    assert h % 28 == 0 and w % 28 == 0
    assert 56 * 56 <= h * w <= MAX_PIXELS


# -- converting points -------------------------------------------------------------------------------------

def test_known_conversions():
    screen = (1920, 1080)
    assert point_to_screen((966, 546), "qwen25", screen) == (960, 540)  # the middle of the 1932x1092 image
    assert point_to_model((960, 540), "qwen25", screen) == (966, 546)
    assert point_to_screen((500, 500), "relative1000", screen) == (960, 540)
    assert point_to_model((960, 540), "relative1000", screen) == (500, 500)
    assert point_to_screen((1000, 1000), "relative1000", screen) == (1919, 1079)  # the far edge stays on screen
    assert point_to_screen((7, 9), "pixels", screen) == (7, 9)
    assert CoordSpace("qwen25").model_size(screen) == (1932, 1092)
    assert CoordSpace("qwen25", max_pixels=1280 * 28 * 28).model_size((3840, 2160)) == (1316, 728)


def test_unknown_space():
    with pytest.raises(ValueError, match="unknown coordinate space"):
        CoordSpace("normalized")


screens = st.tuples(st.integers(100, 4000), st.integers(100, 4000))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SPACES), screens, st.floats(0, 1, exclude_max=True), st.floats(0, 1, exclude_max=True))
def test_screen_round_trip_within_a_pixel(space, screen, fx, fy):
    """screen -> model -> screen lands within 1 px, except where the model's grid is coarser than the screen.

    relative1000 has 1000 steps a side, so on a screen wider than 1000 px a step spans several pixels and no
    conversion can do better than half a step (2 px on a 4000 px screen). qwen25's image is never below 0.89
    of the screen for these sizes, so it stays within 1 px.
    """
    w, h = screen
    xy = (int(fx * w), int(fy * h))
    back = point_to_screen(point_to_model(xy, space, screen), space, screen)
    mw, mh = CoordSpace(space).model_size(screen)
    tolerance = (max(1, int(w / mw / 2 + 0.5)), max(1, int(h / mh / 2 + 0.5)))
    assert abs(back[0] - xy[0]) <= tolerance[0] and abs(back[1] - xy[1]) <= tolerance[1]
    if space != "relative1000":
        assert tolerance == (1, 1)
    assert 0 <= back[0] < w and 0 <= back[1] < h


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SPACES), screens, st.floats(0, 1, exclude_max=True), st.floats(0, 1, exclude_max=True))
def test_model_round_trip_within_a_unit(space, screen, fx, fy):
    """model -> screen -> model lands within 1 unit, or, where the model's grid is finer than the screen
    (relative1000 on a screen under 1000 px), within one screen pixel's worth of model units."""
    mw, mh = CoordSpace(space).model_size(screen)
    xy = (int(fx * mw), int(fy * mh))
    back = point_to_model(point_to_screen(xy, space, screen), space, screen)
    w, h = screen
    tolerance = (1, 1) if space != "relative1000" else (max(1, math.ceil(mw / w)), max(1, math.ceil(mh / h)))
    assert abs(back[0] - xy[0]) <= tolerance[0] and abs(back[1] - xy[1]) <= tolerance[1]


# -- converting actions ------------------------------------------------------------------------------------

def test_actions_convert_every_point_and_keep_references():
    screen = (1920, 1080)
    assert to_screen(Click((966, 546)), "qwen25", screen) == Click((960, 540))
    drag = to_screen(Drag((0, 0), ElementRef(text="Bin")), "relative1000", screen)
    assert drag == Drag((0, 0), ElementRef(text="Bin"))
    assert to_screen(Drag((500, 500), (1000, 0)), "relative1000", screen) == Drag((960, 540), (1919, 0))
    assert to_screen(Type("hi", at=(500, 500)), "relative1000", screen) == Type("hi", at=(960, 540))
    assert to_screen(Scroll("down"), "relative1000", screen) == Scroll("down")
    assert to_model(Wait(2.0), CoordSpace("qwen25"), screen) == Wait(2.0)


@settings(max_examples=200, deadline=None)
@given(actions, st.sampled_from(SPACES), screens)
def test_to_screen_maps_each_target(action, space, screen):
    converted = to_screen(action, space, screen)
    assert type(converted) is type(action)
    expected = [t if isinstance(t, ElementRef) else point_to_screen(t, space, screen) for t in targets(action)]
    assert targets(converted) == expected
    model = to_model(action, space, screen)
    assert [isinstance(t, ElementRef) for t in targets(model)] == [isinstance(t, ElementRef) for t in targets(action)]
