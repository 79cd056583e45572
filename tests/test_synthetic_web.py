"""Synthetic full-size forms (train/synthetic.py ``web_form``): every drawn reply is one the agent would carry out
on that screen, with the value the instruction gives for the field the thought names."""

import random

import pytest

from core import actions as A
from core.env import resolve_target
from models import STUDENT_FORM
from train import synthetic as S


def drawn(n: int, seed: int = 0):
    rng = random.Random(seed)
    return (S.web_form(rng) for _ in range(n))


def test_each_reply_acts_on_the_field_its_thought_names_with_the_instructions_value():
    kinds = set()
    for screen, previous, thought, action in drawn(400):
        els = screen.elements
        assert screen.size == (S.PAGE_W, S.PAGE_H)
        assert all(0 <= e.bbox[0] < e.bbox[2] <= S.PAGE_W and 0 <= e.bbox[1] < e.bbox[3] <= S.PAGE_H for e in els)
        point = resolve_target(action.at, els)  # raises on an ambiguous or missing name, as the env would
        target = next(e for e in els if e.center == point)
        if isinstance(action, A.Type):
            kinds.add("type")
            label = els[target.id - 1]
            assert target.role == "textbox" and label.role == "label" and f"The {label.text} field" in thought
            assert action.content in screen.instruction and target.text == ""
        elif isinstance(action, A.Select):
            kinds.add("select")
            assert target.role == "combobox" and action.option in screen.instruction
            assert f"The {els[target.id - 1].text} list" in thought
        elif target.role == "button":
            kinds.add("submit")
            assert thought.startswith("Every field holds what was asked")
            assert all(e.text for e in els if e.role in ("textbox", "combobox"))  # every field already set
        else:
            kinds.add("tick")
            assert target.role == "label" and target.text in screen.instruction
            box = els[target.id + 1]
            assert box.role == "checkbox" and "checked" not in box.state
        typed = [a.content for a in previous if isinstance(a, A.Type)]
        assert typed == [e.text for e in els if e.role == "textbox" and e.text]  # the history matches the page
    assert kinds == {"type", "select", "submit", "tick"}


def test_a_button_named_like_the_heading_is_told_apart_with_nth():
    seen = 0
    for screen, _, _, action in drawn(600, seed=1):
        if isinstance(action, A.Click) and action.at.nth is not None:
            heading = next(e for e in screen.elements if e.role == "heading")
            assert heading.text.lower() == action.at.text.lower() and action.at.nth == 1
            seen += 1
    assert seen > 5


def test_examples_render_the_agents_prompt_with_the_cards_match_line():
    rng = random.Random(2)
    ex = S.example(rng, skills=S.pick_skills("web_form"), card=STUDENT_FORM)
    text = next(p["text"] for p in ex["messages"][0]["content"] if p["type"] == "text")
    assert text.startswith("Task: ") and "\nElements:\n[0] text '" in text and "\nNamed in the task: " in text
    assert ex["task"] == "synthetic/web_form"
    A.parse_response(ex["target"])  # the target is a reply the parser takes
    labelled = [S.example(random.Random(k), S.pick_skills("web_form"), STUDENT_FORM) for k in range(30)]
    typed = [ex for ex in labelled if "type(start_box=" in ex["target"]]
    assert len(typed) > 3
    for ex in typed:  # an empty field is typed into through its quoted, labelled line, which the prompt lists
        text = next(p["text"] for p in ex["messages"][0]["content"] if p["type"] == "text")
        quote = next(q for q in ex["target"].split("; ") if q.startswith("textbox for '"))
        point = quote.split(" at ")[1]
        assert f"] {quote}\n" in text and f"start_box='{point}'" in ex["target"]
    plain = S.example(random.Random(2), skills=S.pick_skills("web_form"))
    assert "Named in the task" not in next(p["text"] for p in plain["messages"][0]["content"] if p["type"] == "text")


def test_unknown_skill_names_are_refused_with_the_known_ones():
    assert S.pick_skills("") == S.SKILLS
    with pytest.raises(SystemExit, match="known: click_text"):
        S.pick_skills("web_form,web_forms")
