"""The student's form of the teachers' answers (models/student_form.py), on its own and on real recorded pages."""

from __future__ import annotations

import json

from PIL import Image

from agent.bench import BenchConfig, run_bench
from core import actions as A
from core.elements import element_line, field_labels, match_line
from core.env import Element, Observation
from models import EMBEDDED_DIR
from models.constrain import listed_references
from models.student_form import listed_lines, student_action, student_thought


def test_thought_loses_coordinates_and_quotes_the_listed_line_before_the_last_clause():
    assert student_thought("The 'OK' button is at (17, 159); click it.") == "The 'OK' button; click it."
    assert student_thought("The white box is at (111, 167); click it.", ["div white at (111,167)"]) == \
        "The white box; div white at (111,167); click it."
    assert student_thought("Click the box at (3,4).", ["div red at (3,4)"]) == "Click the box; div red at (3,4)."


def test_listed_lines_name_only_textless_targets_clicked_by_position():
    img = Image.new("RGB", (100, 100), (255, 0, 0))
    elements = [Element(0, "button", "OK", (0, 0, 20, 10)), Element(1, "div", "", (40, 40, 60, 60)),
                Element(2, "textbox", "", (0, 80, 40, 90))]
    obs = Observation(img, "Click the red box.", elements)
    swatch, button, box = (student_action(A.Click(p), elements) for p in ((50, 51), (10, 5), (21, 86)))
    assert swatch.at == (50, 50) and button.at == A.ElementRef(text="OK") and box.at == (20, 85)
    # the snapped swatch is quoted with its colour; a text box (whose line only repeats its position), a text
    # reference and a point on nothing are not
    assert listed_lines([swatch, button], obs) == ["div red at (50,50)"]
    assert listed_lines([box], obs) == []
    assert listed_lines([A.Click((90, 10))], obs) == []


def test_fields_are_named_by_the_text_beside_holding_or_above_them():
    elements = [Element(0, "label", "E-mail:", (10, 10, 60, 20)), Element(1, "textbox", "", (10, 22, 200, 40)),
                Element(2, "cell", "Quantity", (300, 0, 360, 10)), Element(3, "cell", "Desk lamp", (220, 14, 280, 30)),
                Element(4, "combobox", "2", (300, 12, 360, 32)), Element(5, "heading", "Sign up", (10, 50, 100, 60)),
                Element(6, "textbox", "", (10, 62, 200, 80)), Element(7, "textbox", "", (10, 90, 200, 110),
                                                                       "placeholder=Search"),
                Element(8, "label", "Name", (400, 100, 600, 130)), Element(9, "textbox", "ada", (450, 105, 590, 125)),
                Element(10, "button", "Go", (10, 112, 60, 130)), Element(11, "textbox", "", (10, 132, 200, 150))]
    # above, the colon dropped; the row's own cell over the column's head; a heading, a placeholder's field, and a
    # button name nothing; a <label> holding its input names it
    assert field_labels(elements) == {1: "E-mail", 4: "Desk lamp", 9: "Name"}
    # two columns of labels over fields: the left column's label beside a right field names its own field only
    columns = [Element(0, "label", "Password", (10, 200, 250, 215)), Element(1, "textbox", "", (10, 217, 250, 235)),
               Element(2, "label", "Full name", (300, 180, 540, 195)), Element(3, "textbox", "", (300, 197, 540, 215))]
    assert field_labels(columns) == {1: "Password", 3: "Full name"}
    assert element_line(elements[1], compact=True, label="E-mail") == "textbox for 'E-mail' at (105,31)"
    assert element_line(elements[9], compact=True, label="Name") == "textbox 'ada' for 'Name'"
    # the instruction names a field by its label in any case; without labels it does not
    obs = Observation(None, "Sign up with the e-mail ada@x.org.", elements)
    named = match_line(obs.instruction, elements, labels=field_labels(elements))
    assert "[1] textbox for 'E-mail' at (105,31)" in named
    assert "[1] " not in match_line(obs.instruction, elements)
    # the student's thought quotes a labelled field's line (its position then follows from the list), an
    # unlabelled one's not
    img = Image.new("RGB", (700, 200), "white")
    obs = Observation(img, "Sign up with the e-mail ada@x.org.", elements)
    assert listed_lines([A.Type("ada@x.org", (105, 31))], obs, labels=True) == ["textbox for 'E-mail' at (105,31)"]
    assert listed_lines([A.Type("ada@x.org", (105, 31))], obs) == []
    assert listed_lines([A.Type("x", (105, 141))], obs, labels=True) == []


def test_recorded_sign_in_thought_quotes_the_labelled_field_and_the_constraint_reads_it(tmp_path):
    run_bench(BenchConfig(policy="model:teacher:student", tasks="signin", seeds=1, out=str(tmp_path), quiet=True))
    steps = [json.loads(line) for line in next(tmp_path.glob("trajectories/signin/*/episode.jsonl")).read_text()
             .splitlines()]
    first = next(s for s in steps if s["type"] == "step")
    prompt = first["prompt"][-1]["content"][-1]["text"]
    assert "] textbox for 'Username' at (" in prompt and "] textbox for 'Password' at (" in prompt
    quote = first["thought"].split("; ")[1]  # "The Username field; textbox for 'Username' at (204,177); type ..."
    assert quote.startswith("textbox for 'Username' at (") and f"] {quote}\n" in prompt
    x, y = quote.split(" at (")[1].rstrip(")").split(",")
    assert f"start_box='({x},{y})'" in first["raw_output"]
    lines: list = []
    listed_references(prompt, lines)  # the quoted-line constraint (models/constrain.py) sees the labelled line
    assert ("textbox for 'Username'", f"{x},{y}") in lines


def test_recorded_click_color_thought_copies_a_line_of_its_own_prompt(tmp_path):
    run_bench(BenchConfig(policy="model:teacher:student", tasks="click-color", seeds=3, out=str(tmp_path),
                          quiet=True))
    steps = [json.loads(line) for f in tmp_path.glob("trajectories/click-color/*/episode.jsonl")
             for line in f.read_text().splitlines()]
    steps = [s for s in steps if s["type"] == "step"]
    assert len(steps) == 3
    for s in steps:
        quote = s["thought"].split("; ")[1]  # "The white box; div white at (111,167); click it."
        prompt = s["prompt"][-1]["content"][-1]["text"]
        assert quote.startswith("div ") and f"] {quote}\n" in prompt + "\n", (quote, prompt)
        x, y = quote.split(" at (")[1].rstrip(")").split(",")
        assert f"start_box='({x},{y})'" in s["raw_output"]


def test_sft_draw_balances_tasks_or_walks_shuffled_epochs():
    import collections
    import random

    from train.sft import by_task, draw

    examples = [{"task": "long"}] * 90 + [{"task": "short"}] * 10
    idx, order = draw(len(examples), [], 4000, random.Random(0), by_task(examples))
    share = collections.Counter(examples[i]["task"] for i in idx)["short"] / len(idx)
    assert 0.45 < share < 0.55 and order == []
    seen, order = [], []
    for _ in range(25):  # 25 batches of 8 = two epochs over the 100 examples
        idx, order = draw(len(examples), order, 8, random.Random(len(seen)))
        seen += idx
    assert sorted(seen[:100]) == list(range(100)) and sorted(seen[100:200]) == list(range(100))


def test_sft_counts_by_task_the_examples_past_its_length_limit():
    from models.hf import load_processor
    from train.sft import token_length, within_limit

    class Tokenizing:
        tokenizer = load_processor(EMBEDDED_DIR).tokenizer

    def example(task, chars):
        return {"task": task, "target": "Thought: t\nAction: click(element='OK')",
                "prompt": [{"role": "user", "content": [{"type": "text", "text": "x" * chars}]}]}

    examples = [example("short", 100), example("page", 100), example("page", 3000), example("page", 5000)]
    assert token_length(Tokenizing, examples[2]) > 3000
    kept, dropped = within_limit(Tokenizing, examples, 2048)
    assert kept == examples[:2] and dropped == {"page": 2}
    assert within_limit(Tokenizing, examples, 6000) == (examples, {})


def test_visible_teachers_search_in_order_and_act_only_on_what_the_prompt_lists(tmp_path):
    """teacher:visible opens tabs and sections in order until the link is listed; it never names a hidden one."""
    import re

    run_bench(BenchConfig(policy="model:teacher:visible", tasks="click-tab-2-hard,click-collapsible-2-nodelay",
                          seeds=4, seed_offset=9000, max_steps=8, out=str(tmp_path), quiet=True))
    results = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert len(results) == 8 and all(r["success"] for r in results)
    searched = 0
    for f in tmp_path.glob("trajectories/*/*/episode.jsonl"):
        steps = [s for s in map(json.loads, f.read_text().splitlines()) if s["type"] == "step"]
        misses = 0
        for s in steps:
            listed = s["prompt"][-1]["content"][-1]["text"].split("Elements:\n")[1]
            named = re.search(r"element='([^']*)'", s["raw_output"]).group(1)
            want = re.search(r"The link '([^']*)'", s["thought"]).group(1)
            assert f"'{named}'" in listed, (named, listed)  # every click names a listed element
            if " is shown" in s["thought"]:
                assert named == want
            else:  # the link is not listed: the next head after the open one (the first when none is open)
                assert f"'{want}'" not in listed
                opened = re.search(r"and (?:the tab )?'([^']*)' is open", s["thought"])
                heads = re.findall(r"(?:presentation|tab) '((?:Section #)?\d)'", listed)
                assert named == (heads[heads.index(opened.group(1)) + 1] if opened else heads[0]), s["thought"]
                misses += 1
        searched += misses >= 2
    assert searched >= 1  # some episode opened two heads before finding the link


def test_visible_tree_teacher_opens_closed_folders_until_the_name_is_listed(tmp_path):
    import re

    run_bench(BenchConfig(policy="model:teacher:visible", tasks="navigate-tree", seeds=6, seed_offset=9000,
                          max_steps=8, out=str(tmp_path), quiet=True))
    results = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert len(results) == 6 and all(r["success"] for r in results)
    opened = 0
    for f in tmp_path.glob("trajectories/*/*/episode.jsonl"):
        for s in (s for s in map(json.loads, f.read_text().splitlines()) if s["type"] == "step"):
            listed = s["prompt"][-1]["content"][-1]["text"].split("Elements:\n")[1]
            want = re.search(r'named "([^"]*)"', s["prompt"][-1]["content"][-1]["text"]).group(1)
            named = re.search(r"element='([^']*)'", s["raw_output"]).group(1)
            assert f"'{named}'" in listed
            if "is not shown" in s["thought"]:
                assert f"'{want}'" not in listed and named != want and "closed folder" in s["thought"]
                opened += 1
            else:
                assert named == want
    assert opened >= 1


def test_typing_names_the_field_not_a_covered_cell():
    """A dialog's field over a table: the list still holds the covered cell, which can be the smaller box."""
    cell = Element(0, "cell", "web team", (460, 336, 690, 382))
    field = Element(1, "textbox", "", (440, 358, 800, 388))
    assert student_action(A.Type("atlas-web", at=(619, 373)), [cell, field]).at == field.center
    assert student_action(A.Click((619, 373)), [cell, field]).at == A.ElementRef(text="web team")


def test_a_click_on_a_slider_keeps_its_point():
    """A range input's text is its value: naming it would click its middle, not the mark the teacher chose."""
    slider = Element(0, "slider", "40", (2, 90, 132, 106))
    assert student_action(A.Click((118, 98)), [slider]).at == (118, 98)
