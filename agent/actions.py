"""The primitive actions, as plain frozen dataclasses.

Every action the model can write parses into exactly one of these classes, and every env executes them.
Points are integer pixels in *screen* space (the env's screenshot) once they reach an env; a model's own
coordinate space is converted before that (see ``agent/coords.py``). Wherever an action takes a point it
may instead hold an :class:`ElementRef`, which the env resolves against the current observation.

Each class docstring is two parts: a one-line description, then ``Example:`` and a line in the action
language. The prompt is generated from these docstrings, and a test parses every example.
"""

from __future__ import annotations

from dataclasses import dataclass
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
