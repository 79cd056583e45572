"""The env seam: what every env returns and accepts. Implementations do not inherit from these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

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


def run_turn(env, action, *, execute: Callable[[Any], None], ended: Callable[[], bool],
             finish: Callable[[str], tuple[Observation, float, bool, dict]],
             site: Callable[[Any], Any] | None = None) -> tuple[Observation, float, bool, bool, dict]:
    """One turn of any env: the shared body of ``step``.

    ``action`` is one action or a list, run in order until one fails or is refused, or the episode ends.
    Every action passes the env's safety gate (``env.safety``, an :class:`agent.safety.SafetyPolicy`) first,
    which may refuse it or fill in secrets; a refusal, like any :class:`ActionError`, becomes the
    observation's ``last_action_error``. The env supplies the mechanics:

    - ``execute(action)`` runs one action, raising ActionError when it cannot;
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
