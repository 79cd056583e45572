"""Teachers for single-click and single-field tasks."""

from __future__ import annotations

from core import actions as A
from envs.teachers import teacher
from envs.teachers.dom import click, first, query, quoted


@teacher("click-button", "unicode-test")
def click_button(obs, page):
    want = quoted(obs.instruction)[0]
    btn = next(b for b in query(page, "#area button") if b["text"] == want)
    return click(btn, f"The button labelled '{want}'")


@teacher("click-link")
def click_link(obs, page):
    want = quoted(obs.instruction)[0]
    link = next(a for a in query(page, "#area a, #area span.alink") if a["text"] == want)
    return click(link, f"The link '{want}'")


@teacher("click-test")
def click_test(obs, page):
    return click(first(page, "#subbtn"), "The button 'Click Me!'")


@teacher("click-test-2")
def click_test_2(obs, page):
    return click(first(page, "#subbtn"), "The button 'ONE'")


@teacher("focus-text")
def focus_text(obs, page):
    return click(first(page, "#tt"), "The text box")


@teacher("enter-text")
def enter_text(obs, page):
    want = quoted(obs.instruction)[0]
    box = first(page, "#tt")
    if box["value"] != want:
        x, y = box["x"], box["y"]
        return (f"The text field is at ({x}, {y}); type '{want}' into it.",
                A.Type(want, at=(x, y)))
    return click(first(page, "#subbtn"), f"The field holds '{want}'. The Submit button")
