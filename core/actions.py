"""The primitive actions, as plain frozen dataclasses.

Every action the model can write parses into exactly one of these classes, and every env executes them.
Points are integer pixels in *screen* space (the env's screenshot) once they reach an env; a model's own
coordinate space is converted before that (see ``core/coords.py``). Wherever an action takes a point it
may instead hold an :class:`ElementRef`, which the env resolves against the current observation.

Each class docstring is two parts: a one-line description, then ``Example:`` and a line in the action
language. The prompt is generated from these docstrings, and a test parses every example.

Below the classes is the action language itself: ``parse_response`` / ``format_response`` for a whole reply,
``parse_action`` / ``format_action`` for one action, and ``parse_point`` for the coordinate syntaxes. Anything
unreadable raises ``ActionParseError``, whose message goes back to the model.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Union

Point = tuple[int, int]


@dataclass(frozen=True)
class ElementRef:
    """A reference to an element of the observation's element list.

    ``index`` is the element's id in the list (``element=3``); ``text`` is its visible text
    (``element='Submit'``), and ``nth`` picks among several elements with that text (0-based).
    """

    index: int | None = None
    text: str | None = None
    nth: int | None = None

    def __post_init__(self):
        if (self.index is None) == (self.text is None):
            raise ValueError("ElementRef needs exactly one of index or text")


Target = Union[Point, ElementRef]


@dataclass(frozen=True)
class Click:
    """Click the left mouse button once on a point or an element.

    Example: click(start_box='(80,120)')
    """

    at: Target


@dataclass(frozen=True)
class DoubleClick:
    """Double-click the left mouse button on a point or an element.

    Example: left_double(start_box='(80,120)')
    """

    at: Target


@dataclass(frozen=True)
class RightClick:
    """Click the right mouse button once on a point or an element.

    Example: right_single(start_box='(80,120)')
    """

    at: Target


@dataclass(frozen=True)
class Drag:
    """Press the left button on the start point, move to the end point and release it.

    Example: drag(start_box='(20,80)', end_box='(120,80)')
    """

    start: Target
    end: Target


@dataclass(frozen=True)
class Hotkey:
    """Press a key or a key combination, keys separated by spaces, lower case.

    Example: hotkey(key='ctrl c')
    """

    key: str


@dataclass(frozen=True)
class Type:
    """Type text into the focused field, or into an element after clicking it. A trailing \\n submits.

    Example: type(content='hello world\\n')
    """

    content: str
    at: Target | None = None


@dataclass(frozen=True)
class Scroll:
    """Scroll the page, or the scrollable area under a point, in a direction (up, down, left, right).

    Example: scroll(start_box='(80,120)', direction='down')
    """

    direction: str
    at: Target | None = None


@dataclass(frozen=True)
class Hover:
    """Move the mouse over a point or an element without clicking.

    Example: hover(start_box='(80,120)')
    """

    at: Target


@dataclass(frozen=True)
class Wait:
    """Wait a moment for the screen to change, then look again.

    Example: wait()
    """

    seconds: float = 1.0


@dataclass(frozen=True)
class Finished:
    """The task is done; give the answer, if the task asks for one.

    Example: finished(content='The total is 42.')
    """

    content: str = ""


@dataclass(frozen=True)
class CallUser:
    """Ask the person for help when the task cannot be done alone.

    Example: call_user()
    """


@dataclass(frozen=True)
class Goto:
    """Open a URL in the browser.

    Example: goto(url='https://example.com')
    """

    url: str


@dataclass(frozen=True)
class Back:
    """Go back to the previous page in the browser.

    Example: back()
    """


@dataclass(frozen=True)
class Select:
    """Choose the option with this text in the drop-down list at a point or an element.

    Example: select(start_box='(60,90)', option='Canada')
    """

    at: Target
    option: str


@dataclass(frozen=True)
class LongPress:
    """Touch and hold a point (mobile).

    Example: long_press(start_box='(80,120)')
    """

    at: Target


@dataclass(frozen=True)
class OpenApp:
    """Open an app by name (mobile).

    Example: open_app(app_name='Settings')
    """

    app_name: str


@dataclass(frozen=True)
class PressHome:
    """Go to the home screen (mobile).

    Example: press_home()
    """


@dataclass(frozen=True)
class PressBack:
    """Press the system back button (mobile).

    Example: press_back()
    """


Action = Union[
    Click, DoubleClick, RightClick, Drag, Hotkey, Type, Scroll, Hover, Wait, Finished, CallUser,
    Goto, Back, Select, LongPress, OpenApp, PressHome, PressBack,
]

ALL_ACTIONS: tuple[type, ...] = Action.__args__  # type: ignore[attr-defined]

SCROLL_DIRECTIONS = ("up", "down", "left", "right")


def targets(action) -> list[Target]:
    """The points or element references an action acts on, in order."""
    if isinstance(action, Drag):
        return [action.start, action.end]
    at = getattr(action, "at", None)
    return [] if at is None else [at]


# ---------------------------------------------------------------------------------------------------------
# The action language: one parser and one formatter.
#
# A model's reply is a few labelled sections, then the actions:
#
#     Reflection: <optional>
#     Thought: <optional>
#     Action_Summary: <optional>
#     Action: click(start_box='(80,120)')
#
#     type(content='hello\n')
#
# Each action is a call with named arguments whose values are quoted strings, numbers, or bare coordinates.
# It is read by a small hand-written scanner (`_Reader`); nothing the model writes is ever evaluated.
# ---------------------------------------------------------------------------------------------------------

NAMES: dict[type, str] = {
    Click: "click", DoubleClick: "left_double", RightClick: "right_single", Drag: "drag", Hotkey: "hotkey",
    Type: "type", Scroll: "scroll", Hover: "hover", Wait: "wait", Finished: "finished", CallUser: "call_user",
    Goto: "goto", Back: "back", Select: "select", LongPress: "long_press", OpenApp: "open_app",
    PressHome: "press_home", PressBack: "press_back",
}
"""The canonical name of each action class, as the model writes it."""

ALIASES: dict[str, str] = {
    "double_click": "left_double", "right_click": "right_single", "left_single": "click",
    "mouse_move": "hover", "move_to": "hover",
}
"""Other names models use for the same actions; they parse, and format back to the canonical name."""

_CLASSES = {name: cls for cls, name in NAMES.items()}


class ActionParseError(ValueError):
    """The model's reply could not be read. The message is written for the model to read and fix its output."""


@dataclass(frozen=True)
class Response:
    """One model reply: its free-text sections and the actions it asks for, in order."""

    actions: tuple[Action, ...]
    thought: str = ""
    reflection: str = ""
    summary: str = ""  # the Action_Summary section, which some UI-TARS checkpoints write

    def __post_init__(self):
        object.__setattr__(self, "actions", tuple(self.actions))


def example(cls: type) -> str:
    """The ``Example:`` line of an action class's docstring."""
    for line in (cls.__doc__ or "").splitlines():
        if line.strip().startswith("Example:"):
            return line.split("Example:", 1)[1].strip()
    raise ValueError(f"{cls.__name__} has no 'Example:' line in its docstring")


_REPLY_FORM = "Thought: <your reasoning>\nAction: click(start_box='(80,120)')"

# A section label at the start of a line. The full-width colon appears in replies written in Chinese.
_LABEL = re.compile(r"^[ \t]*(Reflection|Thought|Action_Summary|Action)[ \t]*[:\uff1a][ \t]*", re.MULTILINE)


def parse_response(text: str) -> Response:
    """Read a whole reply: optional Reflection/Thought/Action_Summary sections, then ``Action:`` and the actions.

    Text before the first label counts as thought. Everything after the first ``Action:`` line is actions,
    separated by whitespace (canonically a blank line).
    """
    labels = list(_LABEL.finditer(text))
    action_at = next((i for i, m in enumerate(labels) if m.group(1) == "Action"), None)
    if action_at is None:
        raise ActionParseError(f"Your reply has no 'Action:' line. Write your reply as:\n{_REPLY_FORM}")
    sections: dict[str, list[str]] = {"Reflection": [], "Thought": [text[: labels[0].start()]], "Action_Summary": []}
    for m, following in zip(labels[:action_at], labels[1 : action_at + 1]):
        sections[m.group(1)].append(text[m.end() : following.start()])
    joined = {label: "\n".join(p.strip() for p in parts if p.strip()) for label, parts in sections.items()}
    actions = _Reader(text[labels[action_at].end() :]).actions()
    if not actions:
        raise ActionParseError(f"The 'Action:' line has no action after it. Write it as:\n{_REPLY_FORM}")
    return Response(actions, joined["Thought"], joined["Reflection"], joined["Action_Summary"])


def format_response(response: Response) -> str:
    """The canonical text of a reply: Reflection, Thought, Action_Summary (each only when not empty), Action."""
    lines = [f"{label}: {body}" for label, body in
             (("Reflection", response.reflection), ("Thought", response.thought), ("Action_Summary", response.summary))
             if body]
    actions = "\n\n".join(format_action(a) for a in response.actions)
    return "\n".join(lines + [f"Action: {actions}"])


def parse_action(text: str) -> Action:
    """Read exactly one action, such as ``click(start_box='(80,120)')``; an ``Action:`` label before it is allowed."""
    actions = _Reader(text).actions()
    if len(actions) != 1:
        raise ActionParseError(f"Expected exactly one action, found {len(actions)}. "
                               f"Example: {example(Click)}")
    return actions[0]


def format_action(action: Action) -> str:
    """The canonical text of one action: target arguments first, integer points as '(x,y)', single quotes."""
    args: list[str] = []
    if isinstance(action, Drag):
        args += _format_target(action.start, "start_box", "start_element", "start_nth")
        args += _format_target(action.end, "end_box", "end_element", "end_nth")
    elif getattr(action, "at", None) is not None:
        args += _format_target(action.at, "start_box", "element", "nth")
    if isinstance(action, Hotkey):
        args.append(f"key={_quote(action.key)}")
    elif isinstance(action, Type):
        args.append(f"content={_quote(action.content)}")
    elif isinstance(action, Scroll):
        args.append(f"direction={_quote(action.direction)}")
    elif isinstance(action, Wait) and action.seconds != 1.0:
        args.append(f"seconds={_number(action.seconds)}")
    elif isinstance(action, Finished) and action.content:
        args.append(f"content={_quote(action.content)}")
    elif isinstance(action, Goto):
        args.append(f"url={_quote(action.url)}")
    elif isinstance(action, Select):
        args.append(f"option={_quote(action.option)}")
    elif isinstance(action, OpenApp):
        args.append(f"app_name={_quote(action.app_name)}")
    return f"{NAMES[type(action)]}({', '.join(args)})"


def parse_point(text: str) -> Point:
    """A point from any coordinate syntax models write: '(x,y)', '<|box_start|>(x,y)<|box_end|>',
    '<point>x y</point>', or a box '[x1,y1,x2,y2]' / '(x1,y1,x2,y2)', whose centre is taken.

    Numbers may be floats; they are rounded to int the way Python rounds (half to even).
    """
    inner = text.strip()
    for opening, closing in _POINT_WRAPPERS:
        if inner.startswith(opening) and inner.endswith(closing):
            inner = inner[len(opening) : len(inner) - len(closing)].strip()
            break
    if inner[:1] + inner[-1:] in ("()", "[]"):
        inner = inner[1:-1].strip()
    parts = re.split(r"\s*,\s*|\s+", inner)
    if len(parts) not in (2, 4) or not all(_COORD.fullmatch(p) for p in parts):
        raise ActionParseError(
            f"Could not read a point from {text!r}. Write a point as '(x,y)' with two whole numbers, "
            f"as in click(start_box='(80,120)')")
    numbers = [Fraction(p) for p in parts]  # exact: a centre on .5 rounds half to even, and no float overflows
    if len(numbers) == 4:
        x1, y1, x2, y2 = numbers
        numbers = [(x1 + x2) / 2, (y1 + y2) / 2]
    return round(numbers[0]), round(numbers[1])


_POINT_WRAPPERS = (("<|box_start|>", "<|box_end|>"), ("<point>", "</point>"), ("<bbox>", "</bbox>"))
_COORD = re.compile(r"[0-9]+(?:\.[0-9]*)?")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}
_UNESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _quote(text: str) -> str:
    return "'" + "".join(_UNESCAPES.get(ch, ch) for ch in text) + "'"


def _number(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def _format_target(target: Target, box: str, element: str, nth: str) -> list[str]:
    if not isinstance(target, ElementRef):
        return [f"{box}='({target[0]},{target[1]})'"]
    out = [f"{element}={target.index}" if target.index is not None else f"{element}={_quote(target.text)}"]
    if target.nth is not None:
        out.append(f"{nth}={target.nth}")
    return out


@dataclass(frozen=True)
class _Bare:
    """Coordinates written without quotes, such as start_box=(80,120) or point=<point>80 120</point>."""

    text: str


_Value = Union[str, int, float, _Bare]


class _Reader:
    """A scanner over the action text: ``name(arg=value, ...)`` calls separated by whitespace."""

    def __init__(self, text: str):
        self.text, self.pos = text, 0

    # -- errors ------------------------------------------------------------------------------------------
    def fail(self, problem: str, form: str = "") -> ActionParseError:
        near = self.text[self.pos : self.pos + 30]
        where = f" (at {near!r})" if near.strip() else " (at the end of the text)"
        return ActionParseError(f"{problem}{where}. Expected form: {form or example(Click)}")

    # -- characters --------------------------------------------------------------------------------------
    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def expect(self, char: str, problem: str, form: str = "") -> None:
        self.skip_space()
        if self.peek() != char:
            raise self.fail(problem, form)
        self.pos += 1

    def match(self, pattern: re.Pattern) -> str | None:
        m = pattern.match(self.text, self.pos)
        if m is None:
            return None
        self.pos = m.end()
        return m.group()

    # -- grammar -----------------------------------------------------------------------------------------
    def actions(self) -> list[Action]:
        out = []
        while True:
            self.skip_space()
            if self.pos >= len(self.text):
                return out
            label = _LABEL.match(self.text, self.pos)
            if label and label.group(1) == "Action":  # a model that repeats 'Action:' before each action
                self.pos = label.end()
                continue
            if label:
                raise self.fail(f"'{label.group(1)}:' must come before 'Action:'; the actions come last",
                                _REPLY_FORM)
            out.append(self.call())

    def call(self) -> Action:
        word = self.match(_NAME)
        if word is None:
            raise self.fail("Expected an action name")
        name = ALIASES.get(word, word)
        if name not in _CLASSES:
            close = difflib.get_close_matches(word, list(_CLASSES), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ActionParseError(f"Unknown action '{word}'.{hint} Known actions: {', '.join(_CLASSES)}. "
                                   f"Example: {example(Click)}")
        form = example(_CLASSES[name])
        self.expect("(", f"Expected '(' after the action name '{word}'", form)
        args: dict[str, _Value] = {}
        self.skip_space()
        while self.peek() != ")":
            key = self.match(_NAME)
            if key is None:
                raise self.fail(f"Expected a named argument (name=value) in {word}(...)", form)
            self.expect("=", f"Expected '=' after the argument name '{key}'", form)
            if key in args:
                raise self.fail(f"The argument '{key}' is given twice in {word}(...)", form)
            args[key] = self.value(form)
            self.skip_space()
            if self.peek() == ",":
                self.pos += 1
                self.skip_space()
            elif self.peek() != ")":
                raise self.fail(f"Expected ',' or ')' after the argument '{key}' of {word}(...)", form)
        self.pos += 1
        return _build(name, _Args(word, args, form))

    def value(self, form: str) -> _Value:
        self.skip_space()
        char = self.peek()
        if char in ("'", '"'):
            return self.string(char, form)
        text = self.match(_NUMBER)
        if text is not None:
            return float(text) if any(c in text for c in ".eE") else int(text)
        if char in ("(", "["):
            closing = ")" if char == "(" else "]"
            end = self.text.find(closing, self.pos)
            if end < 0:
                raise self.fail(f"The '{char}' is never closed", form)
            start, self.pos = self.pos, end + 1
            return _Bare(self.text[start : self.pos])
        for opening, closing in _POINT_WRAPPERS:
            if self.text.startswith(opening, self.pos):
                end = self.text.find(closing, self.pos)
                if end < 0:
                    raise self.fail(f"The {opening} is never closed with {closing}", form)
                start, self.pos = self.pos, end + len(closing)
                return _Bare(self.text[start : self.pos])
        raise self.fail("Expected a value: a quoted string, a number, or a point like '(80,120)'", form)

    def string(self, quote: str, form: str) -> str:
        self.pos += 1
        out = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == quote:
                self.pos += 1
                return "".join(out)
            if char == "\\" and self.pos + 1 < len(self.text):
                following = self.text[self.pos + 1]
                out.append(_ESCAPES.get(following, "\\" + following))  # an unknown escape stays as written
                self.pos += 2
            else:
                out.append(char)
                self.pos += 1
        raise self.fail(f"A string opened with {quote} is never closed", form)


class _Args:
    """The named arguments of one call, taken one by one; any left over are reported as unknown."""

    def __init__(self, word: str, values: dict[str, _Value], form: str):
        self.word, self.values, self.form = word, values, form
        self.given = ", ".join(f"{name}=" for name in values)

    def error(self, problem: str) -> ActionParseError:
        got = f" (it got {self.given})" if self.given else ""
        return ActionParseError(f"{problem}{got}. Expected form: {self.form}")

    def take(self, *names: str) -> _Value | None:
        given = [n for n in names if n in self.values]
        if len(given) > 1:
            raise self.error(f"{self.word}() got both {given[0]}= and {given[1]}=, which mean the same")
        return self.values.pop(given[0]) if given else None

    def string(self, *names: str, default: str | None = None) -> str:
        value = self.take(*names)
        if value is None and default is not None:
            return default
        if value is None:
            raise self.error(f"{self.word}() needs {names[0]}='...'")
        if not isinstance(value, str):
            raise self.error(f"{names[0]}= of {self.word}() must be text in quotes")
        return value

    def number(self, name: str, default: float) -> float:
        value = self.take(name)
        if value is None:
            return default
        if isinstance(value, (str, _Bare)):
            raise self.error(f"{name}= of {self.word}() must be a number without quotes")
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise self.error(f"{name}= of {self.word}() is too large")
        return number

    def target(self, boxes=("start_box", "point"), element="element", nth="nth", optional=False) -> Target | None:
        box, ref, index = self.take(*boxes), self.take(element), self.take(nth)
        if box is not None and ref is not None:
            raise self.error(f"{self.word}() takes {boxes[0]}= or {element}=, not both")
        if index is not None and (ref is None or not isinstance(index, int)):
            raise self.error(f"{nth}= must be a whole number, and goes with {element}=")
        if box is not None:
            if not isinstance(box, (str, _Bare)):
                raise self.error(f"{boxes[0]}= of {self.word}() must be a point in quotes, like '(80,120)'")
            return parse_point(box.text if isinstance(box, _Bare) else box)
        if isinstance(ref, int):
            return ElementRef(index=ref, nth=index)
        if isinstance(ref, str):
            return ElementRef(text=ref, nth=index)
        if ref is not None:
            raise self.error(f"{element}= takes an element number, like {element}=3, or its text, like "
                             f"{element}='Submit'")
        if optional:
            return None
        raise self.error(f"{self.word}() needs {boxes[0]}='(x,y)' or {element}=N")

    def done(self) -> None:
        if self.values:
            unknown = ", ".join(f"{name}=" for name in self.values)
            raise self.error(f"{self.word}() does not take {unknown}")


def _build(name: str, args: _Args) -> Action:
    """Make the action named ``name`` (canonical) from its arguments."""
    match name:
        case "click":
            action = Click(args.target())
        case "left_double":
            action = DoubleClick(args.target())
        case "right_single":
            action = RightClick(args.target())
        case "hover":
            action = Hover(args.target())
        case "long_press":
            action = LongPress(args.target())
        case "drag":
            action = Drag(args.target(("start_box", "start_point"), "start_element", "start_nth"),
                          args.target(("end_box", "end_point"), "end_element", "end_nth"))
        case "hotkey":
            action = Hotkey(args.string("key", "keys"))
        case "type":
            at = args.target(optional=True)
            action = Type(args.string("content"), at=at)
        case "scroll":
            at = args.target(optional=True)
            direction = args.string("direction").strip().lower()
            if direction not in SCROLL_DIRECTIONS:
                raise args.error(f"direction= must be one of {', '.join(SCROLL_DIRECTIONS)}, not {direction!r}")
            action = Scroll(direction, at=at)
        case "wait":
            action = Wait(args.number("seconds", default=1.0))
        case "finished":
            action = Finished(args.string("content", default=""))
        case "goto":
            action = Goto(args.string("url"))
        case "select":
            at = args.target()
            action = Select(at, args.string("option"))
        case "open_app":
            action = OpenApp(args.string("app_name"))
        case _:  # the actions without arguments
            action = _CLASSES[name]()
    args.done()
    return action
