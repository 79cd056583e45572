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


class ActionError(Exception):
    """An action could not be carried out (unknown element, nothing there). The model sees the message."""


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
