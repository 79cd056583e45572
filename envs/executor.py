"""The Executor seam: what every action means, once, and the few primitives an env's hands must have.

``dispatch(action, executor, elements)`` is the one place where actions get their meaning: element references
become points (``resolve_target``), a point off the screen is refused, a trailing newline in typed text submits,
a scroll direction becomes a wheel step, a wait is clamped to 0..10 s, and a key combination is read into
canonical key names (``parse_keys``). An executor (envs/browser.py's page, envs/desktop.py's display) then
only moves a pointer and presses keys, in its own pixels.

``run_turn`` is the body of every env's ``step``: a turn's actions in order, each through the env's safety gate
and then ``dispatch``, then the env observes and scores the screen.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

from agent import actions as A
from envs.base import ActionError, Element, Observation


class Executor(Protocol):
    """An env's hands, in its own pixels. ``screen`` is (left, top, width, height): the part of the executor's
    surface that observations show (a page's task area, a display's monitor); screenshot points are relative
    to it. Optional, browser only: ``select(x, y, option)``, ``goto(url)``, ``back()``."""

    screen: tuple[int, int, int, int]
    where: str  # "in a browser", "on a desktop": for the message of an action that cannot run here

    def click(self, x: int, y: int) -> None: ...
    def double_click(self, x: int, y: int) -> None: ...
    def right_click(self, x: int, y: int) -> None: ...
    def move(self, x: int, y: int) -> None: ...
    def drag(self, x0: int, y0: int, x1: int, y1: int) -> None: ...
    def type_text(self, text: str) -> None: ...
    def press(self, keys: list[str]) -> None: ...  # canonical names (parse_keys), held together
    def scroll(self, dx: int, dy: int) -> None: ...  # one wheel step: dx, dy in -1, 0, 1 (right, down > 0)
    def wait(self, seconds: float) -> None: ...


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

def resolve_target(target: A.Target, elements: list[Element]) -> tuple[int, int]:
    """A point stays a point; an element reference becomes that element's centre."""
    if not isinstance(target, A.ElementRef):
        return int(target[0]), int(target[1])
    if target.index is not None:
        if 0 <= target.index < len(elements):
            return elements[target.index].center
        raise ActionError(f"there is no element {target.index}; the list has ids 0 to {len(elements) - 1}")
    want = " ".join(target.text.split()).lower()
    matches = [e for e in elements if e.text.lower() == want]
    if not matches:
        matches = [e for e in elements if want and want in e.text.lower()]
    if not matches:
        raise ActionError(f"no element has the text {target.text!r}")
    if target.nth is not None:
        if 0 <= target.nth < len(matches):
            return matches[target.nth].center
        raise ActionError(f"only {len(matches)} elements have the text {target.text!r}; nth={target.nth} is past them")
    if len(matches) > 1 and len({e.center for e in matches}) > 1:
        where = ", ".join(f"{e.role} at {e.center}" for e in matches[:6])
        raise ActionError(f"{len(matches)} elements have the text {target.text!r} ({where}); add nth=0, nth=1, ...")
    return matches[0].center


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


# -- a turn ---------------------------------------------------------------------------------------------------

def run_turn(env, action, *, execute: Callable[[Any], None], ended: Callable[[], bool],
             finish: Callable[[str], tuple[Observation, float, bool, dict]],
             site: Callable[[Any], Any] | None = None) -> tuple[Observation, float, bool, bool, dict]:
    """One turn of any env: the shared body of ``step``.

    ``action`` is one action or a list, run in order until one fails or is refused, or the episode ends.
    Every action passes the env's safety gate (``env.safety``, an :class:`agent.safety.SafetyPolicy`) first,
    which may refuse it or fill in secrets; a refusal, like any :class:`ActionError`, becomes the
    observation's ``last_action_error``. The env supplies the mechanics:

    - ``execute(action)`` runs one admitted action (``dispatch`` on the env's executor), raising ActionError;
    - ``ended()`` says whether the episode is over (asked between a turn's actions);
    - ``finish(error)`` observes the screen after the turn and scores it: ``(obs, reward, done, info)``;
    - ``site(action)`` says where an action lands (a link, a form), for the gate.

    ``env`` has ``obs``, ``done``, ``steps``, ``max_steps`` and ``safety``; the observation it keeps and
    returns has secret values redacted.
    """
    if env.obs is None:
        raise RuntimeError("call reset() before step()")
    if env.done:
        raise RuntimeError("the episode is over; call reset()")
    batch = list(action) if isinstance(action, (list, tuple)) else [action]
    env.steps += 1
    error = ""
    for i, act in enumerate(batch):
        try:
            execute(env.safety.admit(act, site))
        except ActionError as e:
            error = str(e) if len(batch) == 1 else f"action {i + 1} of {len(batch)}: {e}"
        if error or i == len(batch) - 1:
            break
        if ended():
            break  # the episode ended: later actions would land on whatever comes next
    obs, reward, env.done, info = finish(error)
    env.obs = env.safety.redact_observation(obs)
    truncated = not env.done and env.steps >= env.max_steps
    return env.obs, float(reward), bool(env.done), truncated, info
