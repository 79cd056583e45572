"""What every action means, once: ``dispatch(action, executor, elements)`` on an env's ``Executor`` (core/env.py).

This is the one place where actions get their meaning: element references become points (``resolve_target``), a
point off the screen is refused, a trailing newline in typed text submits, a scroll direction becomes a wheel
step, a wait is clamped to 0..10 s, and a key combination is read into canonical key names (``parse_keys``; the
safety gate reads them with ``key_names``). An executor (envs/browser.py's page, envs/desktop.py's display) then
only moves a pointer and presses keys, in its own pixels. Every env's ``step`` runs its turn through
envs/base.py ``run_turn``: each action through the safety gate, then here.
"""

from __future__ import annotations

from typing import Any, Callable

from core import actions as A
from core.env import ActionError, Element, Executor, resolve_target


# -- key combinations -----------------------------------------------------------------------------------------

KEY_ALIASES = {
    "ctrl": "ctrl", "control": "ctrl", "alt": "alt", "option": "alt", "shift": "shift", "cmd": "meta",
    "command": "meta", "meta": "meta", "win": "meta", "windows": "meta", "super": "meta", "enter": "enter",
    "return": "enter", "esc": "escape",
    "escape": "escape", "tab": "tab", "backspace": "backspace", "delete": "delete", "del": "delete",
    "space": "space", "up": "up", "down": "down", "left": "left", "right": "right", "arrowup": "up",
    "arrowdown": "down", "arrowleft": "left", "arrowright": "right", "home": "home", "end": "end",
    "pageup": "pageup", "pagedown": "pagedown", "pgup": "pageup", "pgdn": "pagedown", "insert": "insert",
    "capslock": "capslock", "menu": "menu", "printscreen": "printscreen", "print": "printscreen",
    "prtsc": "printscreen", "prtscr": "printscreen", "sysrq": "printscreen",
}
"""Every spelling of a named key a model may write, to its canonical name (the safety gate reads them too)."""


def key_names(combo: str) -> set[str]:
    """The canonical names of a combination's keys, unknown ones as written (lower case): what the safety gate
    judges, before anything checks that the keys exist."""
    return {KEY_ALIASES.get(k, k) for k in combo.lower().replace("+", " ").split()}


def parse_keys(combo: str) -> list[str]:
    """'ctrl shift T' -> ['ctrl', 'shift', 'T']: canonical names (KEY_ALIASES, 'f1'..'f24') and single printable
    characters as written. Keys are separated by spaces or '+'. Raises ActionError for an empty or unknown key."""
    parts = [p for p in combo.replace("+", " ").split() if p]
    if not parts:
        raise ActionError("hotkey needs at least one key, as in hotkey(key='ctrl c')")
    keys = []
    for p in parts:
        low = p.lower()
        if low in KEY_ALIASES:
            keys.append(KEY_ALIASES[low])
        elif len(low) > 1 and low[0] == "f" and low[1:].isdigit() and 1 <= int(low[1:]) <= 24:
            keys.append(low)
        elif len(p) == 1 and p.isprintable():
            keys.append(p)
        else:
            raise ActionError(f"unknown key {p!r} in hotkey(key={combo!r})")
    return keys


# -- points ---------------------------------------------------------------------------------------------------

def screen_point(target: A.Target, elements: list[Element], screen: tuple[int, int, int, int]) -> tuple[int, int]:
    """A target in screenshot pixels -> the executor's pixels; a point off the screen is an ActionError."""
    x, y = resolve_target(target, elements)
    left, top, w, h = screen
    if not (0 <= x < w and 0 <= y < h):
        raise ActionError(f"the point ({x},{y}) is outside the screen, which is {w}x{h}")
    return x + left, y + top


# -- what each action means ----------------------------------------------------------------------------------

SCROLL_STEPS = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}
MAX_WAIT_S = 10.0


def _type(action: A.Type, ex, point) -> None:
    if action.at is not None:
        ex.click(*point(action.at))
    text, submit = action.content, action.content.endswith("\n")
    ex.type_text(text[:-1] if submit else text)
    if submit:
        ex.press(["enter"])


def _scroll(action: A.Scroll, ex, point) -> None:
    if action.direction not in SCROLL_STEPS:
        raise ActionError(f"scroll direction must be one of {', '.join(A.SCROLL_DIRECTIONS)}")
    if action.at is not None:
        ex.move(*point(action.at))
    ex.scroll(*SCROLL_STEPS[action.direction])


def _browser_only(name: str, run: Callable[[Any, Any, Callable], None], hint: str) -> Callable:
    """A handler for an action only a browser runs: elsewhere an ActionError that says so."""

    def handle(action, ex, point) -> None:
        if not hasattr(ex, name):
            raise ActionError(f"{A.NAMES[type(action)]}() works only in a browser; {hint}")
        run(action, ex, point)

    return handle


def _select(action: A.Select, ex, point) -> None:
    ex.select(*point(action.at), action.option)


HANDLERS: dict[type, Callable[[Any, Any, Callable], None]] = {
    A.Click: lambda a, ex, point: ex.click(*point(a.at)),
    A.DoubleClick: lambda a, ex, point: ex.double_click(*point(a.at)),
    A.RightClick: lambda a, ex, point: ex.right_click(*point(a.at)),
    A.Hover: lambda a, ex, point: ex.move(*point(a.at)),
    A.Drag: lambda a, ex, point: ex.drag(*point(a.start), *point(a.end)),
    A.Type: _type,
    A.Hotkey: lambda a, ex, point: ex.press(parse_keys(a.key)),
    A.Scroll: _scroll,
    A.Wait: lambda a, ex, point: ex.wait(max(0.0, min(float(a.seconds), MAX_WAIT_S))),
    A.Finished: lambda a, ex, point: None,  # the agent loop acts on these; the screen is left as it is
    A.CallUser: lambda a, ex, point: None,
    A.Select: _browser_only("select", _select, "on the desktop click the list, then click the option"),
    A.Goto: _browser_only("goto", lambda a, ex, point: ex.goto(a.url), "this is a desktop"),
    A.Back: _browser_only("back", lambda a, ex, point: ex.back(), "this is a desktop"),
}


def dispatch(action, executor: Executor, elements: list[Element]) -> None:
    """Run one action on ``executor``; ``elements`` are the observation's, which element references name.
    An action that cannot be done raises ActionError (the model reads its message)."""
    handle = HANDLERS.get(type(action))
    if handle is None:
        name = A.NAMES.get(type(action), type(action).__name__)
        raise ActionError(f"{name}() cannot run {executor.where}")
    handle(action, executor, lambda target: screen_point(target, elements, executor.screen))
