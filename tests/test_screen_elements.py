"""Text fields found by their look (envs/screen_elements.py), on drawn screens: no X server needed."""

from __future__ import annotations

from PIL import Image, ImageDraw

from envs.screen_elements import field_boxes

GREY, FRAME, WHITE = (217, 217, 217), (153, 153, 153), (255, 255, 255)


def test_one_line_fields_and_nothing_else():
    img = Image.new("RGB", (400, 300), GREY)
    d = ImageDraw.Draw(img)
    d.rectangle((20, 20, 200, 44), fill=WHITE, outline=FRAME)  # an empty field
    d.rectangle((20, 60, 200, 84), fill=WHITE, outline=FRAME)  # a field with a value typed in it
    d.text((24, 66), "Ada Lovelace", fill=(0, 0, 0))
    d.rectangle((20, 100, 200, 250), fill=WHITE, outline=FRAME)  # a list or an editor: too tall
    d.rectangle((220, 20, 240, 44), fill=WHITE, outline=FRAME)  # a check box: too narrow
    d.rectangle((220, 100, 380, 124), fill=(200, 220, 255), outline=FRAME)  # framed, but not light
    d.rectangle((300, 150, 399, 174), fill=WHITE)  # open at the screen's edge
    assert field_boxes(img) == [(20, 20, 201, 45), (20, 60, 201, 85)]


def test_the_frame_must_close_on_every_side():
    img = Image.new("RGB", (300, 120), GREY)
    d = ImageDraw.Draw(img)
    d.rectangle((20, 20, 200, 44), fill=WHITE, outline=FRAME)
    d.rectangle((60, 44, 100, 90), fill=WHITE)  # the light area runs out through the bottom edge
    d.rectangle((20, 30, 200, 54), fill=WHITE)  # and lower than the frame on the left and right
    assert field_boxes(img) == []
    img = Image.new("RGB", (300, 120), WHITE)  # a light window: light everywhere, no field
    assert field_boxes(img) == []


def test_a_stripe_of_a_list_is_not_a_field():
    """White rows between rows of a paler blue (a striped list) are light bands with no frame line of their own."""
    img = Image.new("RGB", (300, 200), GREY)
    d = ImageDraw.Draw(img)
    for i in range(5):
        d.rectangle((20, 20 + 28 * i, 260, 47 + 28 * i), fill=WHITE if i % 2 == 0 else (238, 242, 247))
    d.rectangle((19, 19, 261, 160), outline=GREY)
    assert field_boxes(img) == []
    d.rectangle((20, 20, 260, 47), fill=WHITE, outline=FRAME)  # the first row given a frame: now a field
    assert field_boxes(img) == [(20, 20, 261, 48)]
