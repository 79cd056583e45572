"""The env seam: what every env returns and accepts. Implementations do not inherit from these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from PIL import Image


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
    episode runner plays it again; the env recovers on its next reset."""


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
