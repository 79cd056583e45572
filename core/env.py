"""The env seam: what every env returns and accepts. Implementations do not inherit from these.

An env returns an :class:`Observation` (a screenshot, the instruction, the :class:`Element` list) and takes the
actions of ``core/actions.py``; an action it cannot carry out raises :class:`ActionError`, whose message the
model reads. :func:`resolve_target` is how every env (and the teachers' student form) turns an element reference
into a point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from PIL import Image

from core import actions as A


@dataclass(frozen=True)
class Element:
    """One thing on screen the model can point at. ``bbox`` is (x0, y0, x1, y1) in screenshot pixels."""

    id: int
    role: str
    text: str
    bbox: tuple[int, int, int, int]
    state: str = ""  # e.g. "checked", "focused", "selected", "disabled"; empty when plain

    @property
    def center(self) -> tuple[int, int]:
        x0, y0, x1, y1 = self.bbox
        return (x0 + x1) // 2, (y0 + y1) // 2


@dataclass
class Observation:
    screenshot: Image.Image | None
    instruction: str
    elements: list[Element] = field(default_factory=list)
    url: str = ""
    title: str = ""
    last_action_error: str = ""


MAX_STEPS = 10
"""The step budget of an episode unless its env is given another: the env owns it (``max_steps``), and the agent
loop and the episode runner read it from there."""


class ActionError(Exception):
    """An action could not be carried out (unknown element, nothing there). The model sees the message."""


class EnvCrashed(RuntimeError):
    """The env's own machinery died under an episode (a browser, a display). The episode is lost, and the
    episode runner (agent/runner.py) plays it again; the env recovers on its next reset."""


class UnknownTask(KeyError):
    """Task ids (or a task directory) that name nothing. The message says what and where to look; the command
    line shows it as one line (a KeyError's own str would quote it)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class Env(Protocol):
    max_steps: int  # turns per episode; the episode ends truncated after that many

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[Observation, dict]: ...

    def step(self, action: Any) -> tuple[Observation, float, bool, bool, dict]: ...

    def close(self) -> None: ...


class Task(Protocol):
    """The meaning of an episode, kept apart from the env's mechanics.

    ``page`` is a :class:`envs.browser.PageHandle` for browser tasks. ``teacher`` may be None; when present
    it reads privileged state (the DOM) and returns ``(thought, action)`` for the current state, with no
    memory of earlier steps, so it can label any state (DAgger).

    A browser task may also say how it scores in one script: ``score_js`` (a JS function of no arguments) and
    ``score(raw) -> (reward, done, info)`` of what it returns. ``validate(page)`` is then their composition, and
    the browser reads the score in the same call that reads the screen's elements after an action.
    """

    id: str

    def setup(self, page: Any, seed: int) -> str: ...

    def validate(self, page: Any) -> tuple[float, bool, dict]: ...


class Executor(Protocol):
    """An env's hands, in its own pixels: one method per primitive (envs/executor.py ``dispatch`` gives every
    action its meaning in these). ``screen`` is (left, top, width, height), the part of the executor's surface
    that observations show; screenshot points are relative to it. Optional, browser only: ``select(x, y,
    option)``, ``goto(url)``, ``back()``."""

    screen: tuple[int, int, int, int]
    where: str  # "in a browser", "on a desktop": for the message of an action that cannot run here

    def click(self, x: int, y: int) -> None: ...
    def double_click(self, x: int, y: int) -> None: ...
    def right_click(self, x: int, y: int) -> None: ...
    def move(self, x: int, y: int) -> None: ...
    def drag(self, x0: int, y0: int, x1: int, y1: int) -> None: ...
    def type_text(self, text: str) -> None: ...
    def press(self, keys: list[str]) -> None: ...  # canonical names (envs/executor.py parse_keys), held together
    def scroll(self, dx: int, dy: int) -> None: ...  # one wheel step: dx, dy in -1, 0, 1 (right, down > 0)
    def wait(self, seconds: float) -> None: ...


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
