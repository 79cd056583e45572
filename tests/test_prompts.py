"""The system prompt: generated from the action docstrings, in UI-TARS-1.5's layout, and every example parses."""

from __future__ import annotations

import pytest

from agent.prompts import ACTION_SETS, ELEMENT_REF_EXAMPLES, OPENING, action_doc, describe_actions, system_prompt
from core.actions import ALL_ACTIONS, Back, Click, Goto, Hotkey, LongPress, format_action, parse_action


def action_space_lines(prompt: str) -> list[str]:
    section = prompt.split("## Action Space\n", 1)[1].split("\n## Note", 1)[0]
    return [line for line in section.splitlines() if line.strip()]


@pytest.mark.parametrize("cls", ALL_ACTIONS, ids=lambda c: c.__name__)
def test_every_action_documents_itself(cls):
    description, example = action_doc(cls)
    assert description and not description.startswith("Example")
    assert type(parse_action(example)) is cls


def test_every_action_is_in_some_set():
    assert set().union(*ACTION_SETS.values()) == set(ALL_ACTIONS)


@pytest.mark.parametrize("name", ACTION_SETS)
@pytest.mark.parametrize("element_refs", [False, True])
def test_every_example_in_the_prompt_parses(name, element_refs):
    lines = action_space_lines(system_prompt("Do it.", name, element_refs=element_refs))
    assert len(lines) == len(ACTION_SETS[name])
    for line, cls in zip(lines, ACTION_SETS[name]):
        example, description = line.split("  # ", 1)
        action = parse_action(example)
        assert type(action) is cls
        assert format_action(action) == example
        assert description == action_doc(cls)[0]


def test_action_sets():
    desktop = describe_actions("desktop")
    assert [line.split("(")[0] for line in desktop.splitlines()] == [
        "click", "left_double", "right_single", "drag", "hotkey", "type", "scroll", "wait", "finished", "call_user"]
    assert describe_actions("browser").startswith(desktop)
    assert "goto(" in describe_actions("browser") and "goto(" not in desktop
    assert "long_press(" in describe_actions("mobile") and "hotkey(" not in describe_actions("mobile")
    assert describe_actions([Click, Back]).splitlines()[1].startswith("back()")
    with pytest.raises(ValueError, match="unknown action set"):
        describe_actions("watch")


def test_layout_follows_ui_tars():
    prompt = system_prompt("Open the settings.", "desktop", language="Chinese")
    assert prompt.startswith(OPENING + "\n\n## Output Format\n```\nThought: ...\nAction: ...\n```\n\n## Action Space\n")
    headings = [line for line in prompt.splitlines() if line.startswith("## ")]
    assert headings == ["## Output Format", "## Action Space", "## Note", "## User Instruction"]
    assert "- Write the `Thought` part in Chinese." in prompt
    assert prompt.endswith("## User Instruction\nOpen the settings.")
    assert "element=" not in prompt and "goto(" not in prompt


def test_browser_variant():
    prompt = system_prompt("Find the price.", "browser")
    assert "web browser" in prompt and "goto(url='https://example.com')" in prompt
    assert "web browser" not in system_prompt("Find the price.", "desktop")


def test_element_reference_note():
    prompt = system_prompt("Log in.", "browser", element_refs=True)
    note = prompt.split("## Note\n", 1)[1].split("\n## User Instruction", 1)[0]
    assert "element=N" in note and "element='text'" in note
    for example in ELEMENT_REF_EXAMPLES:
        assert example in note
        assert format_action(parse_action(example)) == example


def test_custom_action_set():
    prompt = system_prompt("Press enter.", [Hotkey, LongPress, Goto])
    assert [line.split("(")[0] for line in action_space_lines(prompt)] == ["hotkey", "long_press", "goto"]



def test_match_line_names_listed_elements_the_instruction_quotes():
    from agent.memory import observation_notes
    from core.elements import match_line
    from core.env import Element, Observation
    from models.constrain import listed_references

    links = [Element(1, "link", "Tab #1", (0, 0, 40, 10)), Element(2, "link", "Viverra", (0, 20, 40, 30)),
             Element(3, "link", "Viverra,", (0, 40, 40, 50)), Element(4, "div", "", (0, 60, 40, 70))]
    quoting = 'Switch between the tabs to find and click on the link "Viverra".'
    assert match_line(quoting, links) == "Named in the task: [2] link 'Viverra'"  # exact text, not "Viverra,"
    assert match_line(quoting, links[:1] + links[2:]) == "Named in the task: none"
    assert match_line('Click on the link "Tab".', links) == "Named in the task: none"  # a quote is whole text
    # without quotes: an element text that the instruction holds as whole words, three characters or more
    rows = [Element(5, "span", "Ruthanne", (0, 0, 40, 10)), Element(6, "span", "Ruth", (0, 20, 40, 30)),
            Element(7, "span", "by", (0, 40, 40, 50)), Element(8, "span", "Tina", (0, 60, 40, 70))]
    assert match_line("Find the email by Ruthanne and click the trash icon.", rows) == \
        "Named in the task: [5] span 'Ruthanne'"
    # the line follows the list, and the reference constraint still reads the list alone
    obs = Observation(instruction=quoting, elements=links, screenshot=None)
    notes = observation_notes(obs, [], True, compact=True, mark_matches=True)
    assert notes.endswith("\nNamed in the task: [2] link 'Viverra'")
    assert "Named in the task" not in observation_notes(obs, [], True, compact=True)
    names, points = listed_references("Elements:\n" + notes.split("Elements:\n")[1])
    assert names == ["Tab #1", "Viverra", "Viverra,"] and points == ["20,65"]


def test_teachers_write_the_match_line_and_checkpoints_ask_for_it(tmp_path):
    import json

    from agent.loop import config_for
    from models import EMBEDDED_DIR, STUDENT_FORM, Card

    assert config_for(STUDENT_FORM).mark_matches  # teacher:student and teacher:visible speak the student form
    assert config_for(Card.of_directory(EMBEDDED_DIR)).mark_matches  # the shipped card (trained with the line)
    (tmp_path / "screenwise.json").write_text(json.dumps({"prompt": "compact", "mark_matches": True}))
    cfg = config_for(Card.of_directory(tmp_path))
    assert cfg.prompt == "compact" and cfg.mark_matches and cfg.element_refs  # compact cards list the elements
    (tmp_path / "screenwise.json").write_text(json.dumps({"prompt": "compact"}))  # older cards: no line
    assert not config_for(Card.of_directory(tmp_path)).mark_matches


def test_field_labels_are_a_card_field_a_new_run_turns_on(tmp_path):
    import json

    import pytest

    from agent.loop import config_for
    from models import STUDENT_FORM, Card, CardError

    assert config_for(STUDENT_FORM).field_labels  # the teachers record labelled lists
    (tmp_path / "screenwise.json").write_text(json.dumps({"prompt": "compact", "mark_matches": True}))
    assert not config_for(Card.of_directory(tmp_path)).field_labels  # a card without it keeps its trained prompt
    Card.turn_on(tmp_path, "field_labels")  # sft --field-labels
    card = Card.of_directory(tmp_path)
    assert card.field_labels and card.mark_matches and config_for(card).field_labels
    (tmp_path / "screenwise.json").write_text(json.dumps({"prompt": "uitars"}))
    with pytest.raises(CardError, match="field_labels need the element list"):
        Card.turn_on(tmp_path, "field_labels")  # refused, and the card is left as it was
    assert json.loads((tmp_path / "screenwise.json").read_text()) == {"prompt": "uitars"}


def test_a_new_sft_run_with_field_labels_reads_labelled_prompts(tmp_path):
    from models import EMBEDDED_DIR, Card
    from train.sft import Args, open_model

    model = open_model(Args(out=str(tmp_path), init=str(EMBEDDED_DIR), field_labels=True, threads=1))
    assert model.card.field_labels and model.card.mark_matches  # its copy of the card; the shipped one untouched
    assert not Card.of_directory(EMBEDDED_DIR).field_labels


def test_sft_warns_when_the_data_was_recorded_in_another_prompt_form(tmp_path):
    from agent.bench import BenchConfig, run_bench
    from models import STUDENT_FORM, Card
    from train.sft import form_mismatches, load_examples

    run_bench(BenchConfig(policy="model:teacher:student", tasks="login-user", seeds=1, out=str(tmp_path), quiet=True))
    examples = load_examples([str(tmp_path)])
    assert examples and form_mismatches(examples, STUDENT_FORM) == []  # the teachers record the student form
    [line] = form_mismatches(examples, Card(prompt="compact", coord_space="pixels", element_refs=True,
                                            mark_matches=True))  # stage 13's card: no labels
    assert line.startswith(f"{len(examples)} of {len(examples)} examples were recorded with field_labels on")
    assert "--field-labels" in line
