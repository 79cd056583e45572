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


class ActionError(Exception):
    """An action could not be carried out (unknown element, nothing there). The model sees the message."""


class UnknownTask(KeyError):
    """Task ids (or a task directory) that name nothing. The message says what and where to look; the command
    line shows it as one line (a KeyError's own str would quote it)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class Env(Protocol):
    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[Observation, dict]: ...

    def step(self, action: Any) -> tuple[Observation, float, bool, bool, dict]: ...

    def close(self) -> None: ...


class Task(Protocol):
    """The meaning of an episode, kept apart from the env's mechanics.

    ``page`` is a :class:`envs.browser.PageHandle` for browser tasks. ``teacher`` may be None; when present
    it reads privileged state (the DOM) and returns ``(thought, action)`` for the current state, with no
    memory of earlier steps, so it can label any state (DAgger).
    """

    id: str

    def setup(self, page: Any, seed: int) -> str: ...

    def validate(self, page: Any) -> tuple[float, bool, dict]: ...


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
