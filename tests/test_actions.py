"""The action language: parse and format round trips, every coordinate syntax, errors, and a fuzzer."""

from __future__ import annotations

import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.actions import (
    ALL_ACTIONS, NAMES, SCROLL_DIRECTIONS, ActionParseError, Back, CallUser, Click, DoubleClick, Drag, ElementRef,
    Finished, Goto, Hotkey, Hover, LongPress, OpenApp, PressBack, PressHome, Response, RightClick, Scroll, Select,
    Type, Wait, example, format_action, format_response, parse_action, parse_point, parse_response,
)

# -- strategies --------------------------------------------------------------------------------------------

# Text that leans on the characters a quoting bug would trip over, mixed with any unicode at all.
TRICKY = "'\"\\\n\t\r ,()=[]<>|#:"
texts = st.one_of(st.text(alphabet=st.sampled_from(string.printable + TRICKY), max_size=30), st.text(max_size=15))
ints = st.integers(0, 10_000)
points = st.tuples(ints, ints)
refs = st.one_of(
    st.builds(ElementRef, index=ints, nth=st.none() | st.integers(0, 20)),
    st.builds(ElementRef, text=texts, nth=st.none() | st.integers(0, 20)),
)
targets = points | refs
maybe_targets = st.none() | targets

ACTION_STRATEGIES = {
    Click: st.builds(Click, targets),
    DoubleClick: st.builds(DoubleClick, targets),
    RightClick: st.builds(RightClick, targets),
    Drag: st.builds(Drag, targets, targets),
    Hotkey: st.builds(Hotkey, texts),
    Type: st.builds(Type, texts, at=maybe_targets),
    Scroll: st.builds(Scroll, st.sampled_from(SCROLL_DIRECTIONS), at=maybe_targets),
    Hover: st.builds(Hover, targets),
    Wait: st.builds(Wait, st.just(1.0) | st.floats(0, 1e6, allow_nan=False, allow_infinity=False)),
    Finished: st.builds(Finished, texts),
    CallUser: st.just(CallUser()),
    Goto: st.builds(Goto, texts),
    Back: st.just(Back()),
    Select: st.builds(Select, targets, texts),
    LongPress: st.builds(LongPress, targets),
    OpenApp: st.builds(OpenApp, texts),
    PressHome: st.just(PressHome()),
    PressBack: st.just(PressBack()),
}
actions = st.one_of(*ACTION_STRATEGIES.values())


def test_every_action_has_a_strategy_and_a_name():
    assert set(ACTION_STRATEGIES) == set(ALL_ACTIONS) == set(NAMES)


# -- round trips -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", ALL_ACTIONS, ids=lambda c: c.__name__)
def test_docstring_example_round_trips(cls):
    text = example(cls)
    action = parse_action(text)
    assert type(action) is cls
    assert format_action(action) == text
    assert parse_action(format_action(action)) == action


@pytest.mark.parametrize("cls", ALL_ACTIONS, ids=lambda c: c.__name__)
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_parse_of_format_is_identity(cls, data):
    action = data.draw(ACTION_STRATEGIES[cls])
    assert parse_action(format_action(action)) == action


clean_text = st.text(alphabet=string.ascii_letters + string.digits + " .,'\"()\n", max_size=40).map(str.strip)


@settings(max_examples=150, deadline=None)
@given(st.lists(actions, min_size=1, max_size=4), clean_text, clean_text, clean_text)
def test_response_round_trips(acts, thought, reflection, summary):
    response = Response(tuple(acts), thought, reflection, summary)
    assert parse_response(format_response(response)) == response


# -- the canonical text ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, canonical", [
    ("click(start_box='(80,120)')", "click(start_box='(80,120)')"),
    ('click( start_box = "(80, 120)" )', "click(start_box='(80,120)')"),
    ("click(start_box='(80,120)',)", "click(start_box='(80,120)')"),
    ("double_click(start_box='(1,2)')", "left_double(start_box='(1,2)')"),
    ("right_click(start_box='(1,2)')", "right_single(start_box='(1,2)')"),
    ("left_single(start_box='(1,2)')", "click(start_box='(1,2)')"),
    ("mouse_move(start_box='(1,2)')", "hover(start_box='(1,2)')"),
    ("move_to(point='<point>1 2</point>')", "hover(start_box='(1,2)')"),
    ("hotkey(keys='ctrl c')", "hotkey(key='ctrl c')"),
    ("wait()", "wait()"),
    ("wait(seconds=1)", "wait()"),
    ("wait(seconds=2)", "wait(seconds=2)"),
    ("wait(seconds=0.5)", "wait(seconds=0.5)"),
    ("finished()", "finished()"),
    ("finished(content='')", "finished()"),
    ("finished(content=\"it's done\")", "finished(content='it\\'s done')"),
    ("scroll(direction='down')", "scroll(direction='down')"),
    ("scroll(direction=' Down ', start_box='(5,6)')", "scroll(start_box='(5,6)', direction='down')"),
    ("type(content='abc', element='Email')", "type(element='Email', content='abc')"),
    ("drag(start_point='(1,2)', end_point='(3,4)')", "drag(start_box='(1,2)', end_box='(3,4)')"),
    ("drag(start_element=1, end_element='Bin', end_nth=0)", "drag(start_element=1, end_element='Bin', end_nth=0)"),
    ("goto(url=\"https://example.com/?q='a'\")", "goto(url='https://example.com/?q=\\'a\\'')"),
])
def test_canonical_form(text, canonical):
    assert format_action(parse_action(text)) == canonical


def test_element_references():
    assert parse_action("click(element=3)") == Click(ElementRef(index=3))
    assert parse_action("click(element='Submit')") == Click(ElementRef(text="Submit"))
    assert parse_action("click(element='Submit', nth=1)") == Click(ElementRef(text="Submit", nth=1))
    assert parse_action("click(element='3')") == Click(ElementRef(text="3"))  # quoted means text
    assert parse_action("type(element='Email', content='abc')") == Type("abc", at=ElementRef(text="Email"))
    assert parse_action("type(element=2, content='x')") == Type("x", at=ElementRef(index=2))
    assert parse_action("select(element=4, option='Canada')") == Select(ElementRef(index=4), "Canada")
    assert parse_action("drag(start_element=1, end_box='(5,6)')") == Drag(ElementRef(index=1), (5, 6))


def test_strings_and_escapes():
    assert parse_action("type(content='line\\n')") == Type("line\n")  # backslash-n in the text: a newline
    assert parse_action('type(content="say \\"hi\\"")') == Type('say "hi"')
    assert parse_action("type(content='it\\'s')") == Type("it's")
    assert parse_action("type(content='a\\\\b')") == Type("a\\b")
    assert parse_action("type(content='C:\\dir')") == Type("C:\\dir")  # an unknown escape stays as written
    assert parse_action("type(content='two\nlines')") == Type("two\nlines")  # a raw newline inside quotes
    assert parse_action("type(content='tab\\there')") == Type("tab\there")
    assert format_action(Type("a'b\\c\nd")) == "type(content='a\\'b\\\\c\\nd')"


def test_wait():
    assert parse_action("wait()") == Wait()
    assert parse_action("wait(seconds=3)") == Wait(3.0)
    assert format_action(Wait()) == "wait()"
    assert format_action(Wait(2.5)) == "wait(seconds=2.5)"


# -- coordinates -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, point", [
    ("(80,120)", (80, 120)),
    (" ( 80 , 120 ) ", (80, 120)),
    ("80,120", (80, 120)),
    ("[80,120]", (80, 120)),
    ("<|box_start|>(80,120)<|box_end|>", (80, 120)),
    ("<point>80 120</point>", (80, 120)),
    ("<point>80, 120</point>", (80, 120)),
    ("<bbox>10 20 30 40</bbox>", (20, 30)),
    ("[10,20,30,40]", (20, 30)),
    ("(10,20,30,40)", (20, 30)),
    ("<|box_start|>(10,20,30,40)<|box_end|>", (20, 30)),
    ("(80.4,119.6)", (80, 120)),
    ("(0.5,1.5)", (0, 2)),  # Python rounds halves to even
    ("(2.5,3.5)", (2, 4)),
    ("[1,2,2,3]", (2, 2)),  # centre (1.5, 2.5), rounded half to even
    ("[10.0,20.0,31.0,41.0]", (20, 30)),  # centre (20.5, 30.5)
])
def test_point_syntaxes(text, point):
    assert parse_point(text) == point
    assert parse_action(f"click(start_box='{text}')") == Click(point)


@pytest.mark.parametrize("bare, point", [
    ("(80,120)", (80, 120)),
    ("[10,20,30,40]", (20, 30)),
    ("<point>80 120</point>", (80, 120)),
    ("<|box_start|>(80,120)<|box_end|>", (80, 120)),
])
def test_unquoted_points(bare, point):
    assert parse_action(f"click(start_box={bare})") == Click(point)
    assert parse_action(f"click(point={bare})") == Click(point)


@pytest.mark.parametrize("text", ["", "()", "(80)", "(80,120,3)", "(-1,5)", "(a,b)", "(80;120)", "(1,2]", "1 2 3 4 5"])
def test_bad_points(text):
    with pytest.raises(ActionParseError, match="Write a point as"):
        parse_point(text)


# -- whole replies -----------------------------------------------------------------------------------------

def test_reply_with_thought():
    r = parse_response("Thought: The button is at the top.\nAction: click(start_box='(10,20)')")
    assert r == Response((Click((10, 20)),), thought="The button is at the top.")


def test_reply_without_thought():
    assert parse_response("Action: wait()") == Response((Wait(),))


def test_reply_sections_and_several_actions():
    text = ("Reflection: That missed.\nThought: Try the field.\nAction_Summary: Type the name.\n"
            "Action: click(start_box='(1,2)')\n\ntype(content='Ada\\n')")
    r = parse_response(text)
    assert r == Response((Click((1, 2)), Type("Ada\n")), "Try the field.", "That missed.", "Type the name.")
    assert format_response(r) == text


def test_reply_variants():
    r = parse_response("  Thought:   multi\nline plan  \n\nAction:   click(element=1)\nclick(element=2)\n")
    assert r == Response((Click(ElementRef(index=1)), Click(ElementRef(index=2))), "multi\nline plan")
    r = parse_response("Thought: x\nAction: click(element=1)\n\nAction: back()")  # a repeated label
    assert r.actions == (Click(ElementRef(index=1)), Back())
    assert parse_response("plan first\nAction: back()").thought == "plan first"
    assert parse_response("Thought\uff1a\u70b9\u51fb\nAction\uff1aback()").thought == "\u70b9\u51fb"


def test_canonical_reply_text():
    two = Response((Click((1, 2)), Back()), "go")
    assert format_response(two) == "Thought: go\nAction: click(start_box='(1,2)')\n\nback()"
    assert format_response(Response((Wait(),), "t", "r")) == "Reflection: r\nThought: t\nAction: wait()"


# -- errors the model reads --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("Thought: I will click.", "no 'Action:' line"),
    ("Thought: x\nAction:", "no action after it"),
    ("Action: clik(start_box='(1,2)')", "Unknown action 'clik'. Did you mean 'click'?"),
    ("Action: clik(start_box='(1,2)')", "Known actions: click, left_double"),
    ("Action: click(start_box='(1,2)'", "Expected ',' or ')'"),
    ("Action: click start_box='(1,2)')", "Expected '(' after the action name 'click'"),
    ("Action: click(start_box='(1,2))", "never closed"),
    ("Action: click()", "click() needs start_box='(x,y)' or element=N"),
    ("Action: click(start_bx='(1,2)')", "it got start_bx="),
    ("Action: click(start_box='(1,2)', foo=1)", "does not take foo="),
    ("Action: click(start_box='(1,2)', element=3)", "not both"),
    ("Action: click(start_box='(1,2)', start_box='(3,4)')", "given twice"),
    ("Action: click(start_box='(1,2)', point='(3,4)')", "mean the same"),
    ("Action: click(nth=1, start_box='(1,2)')", "goes with element="),
    ("Action: click(element=True)", "Expected a value"),
    ("Action: click('(1,2)')", "Expected a named argument"),
    ("Action: scroll(direction='sideways')", "direction= must be one of up, down, left, right"),
    ("Action: type()", "type() needs content="),
    ("Action: type(content=5)", "must be text in quotes"),
    ("Action: wait(seconds='2')", "must be a number without quotes"),
    ("Action: click(start_box='(a,b)')", "Could not read a point"),
    ("Action: click(start_box=5)", "must be a point in quotes"),
])
def test_error_messages(text, message):
    with pytest.raises(ActionParseError) as error:
        parse_response(text)
    assert message in str(error.value)


def test_errors_show_the_expected_form():
    with pytest.raises(ActionParseError, match=r"Expected form: scroll\(start_box='\(80,120\)', direction='down'\)"):
        parse_action("scroll(direction='diagonal')")
    with pytest.raises(ActionParseError, match="Example: click"):
        parse_action("click(element=1) click(element=2)")


def test_parse_error_is_a_value_error():
    assert issubclass(ActionParseError, ValueError)


# -- fuzzing -----------------------------------------------------------------------------------------------

SEEDS = [format_response(Response((parse_action(example(cls)),), thought))
         for cls in ALL_ACTIONS for thought in ("", "Click the button.")] + [
    "Reflection: no\nThought: yes\nAction_Summary: s\nAction: drag(start_element='a b', end_box='[1,2,3,4]')\n\n"
    "type(element=3, content='x\\'y\\n')",
    'Action: click(point="<point>5 6</point>")\n\nhotkey(keys="ctrl v")',
    "Action: click(start_box=<|box_start|>(1,2)<|box_end|>)",
]
NOISE = string.ascii_letters + string.digits + TRICKY + "_.;{}\uff1a\u00b2\u0663\u2028\x00"


def mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(text) + 1)
        j = min(len(text), i + rng.choice((1, 1, 2, 3, 8, 40)))  # mostly small, local edits
        match rng.randrange(6):
            case 0:
                text = text[:i] + text[j:]  # delete a span
            case 1:
                text = text[:i] + "".join(rng.choice(NOISE) for _ in range(rng.randint(1, 4))) + text[i:]
            case 2 if j < len(text):
                text = text[:i] + text[j] + text[i + 1 : j] + text[i] + text[j + 1 :] if i < j else text  # swap
            case 3:
                text = text[: rng.randrange(len(text) + 1)]  # truncate
            case 4:
                text = text[:j] + text[i:j] + text[j:]  # repeat a span
            case _:
                text = text[:i] + rng.choice(SEEDS)[i:j] + text[j:]  # splice another reply in
    return text


def junk(rng: random.Random) -> str:
    return "".join(rng.choice(NOISE) for _ in range(rng.randint(0, 60)))


def test_fuzzed_replies_never_crash():
    rng = random.Random(1234)
    samples = [mutate(rng, rng.choice(SEEDS)) for _ in range(9_000)] + [junk(rng) for _ in range(1_000)]
    parsed = errors = 0
    crashes = []
    for text in samples:
        try:
            response = parse_response(text)
        except ActionParseError as error:
            assert str(error)
            errors += 1
            continue
        except Exception as error:  # noqa: BLE001 - any other exception is a parser bug
            crashes.append((text, repr(error)))
            continue
        assert isinstance(response, Response) and response.actions
        assert parse_response(format_response(response)) == response  # what it read, it can write back
        parsed += 1
    assert crashes == [], crashes[:5]
    assert parsed + errors == 10_000
    assert errors > 3_000 and parsed > 1_000, (parsed, errors)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80) | st.builds(lambda a, b: a + "Action: " + b, st.text(max_size=20), st.text(max_size=60)))
def test_any_text_parses_or_raises_a_parse_error(text):
    try:
        response = parse_response(text)
    except ActionParseError:
        return
    assert parse_response(format_response(response)) == response
