"""The envs as Gymnasium environments: ``gymnasium.make("screenwise/miniwob-click-test-2")``.

Importing this module registers one id per task, without starting anything (a browser or a display starts only
when ``gymnasium.make`` builds the env):

- ``screenwise/miniwob-<task>`` for each of the 125 MiniWoB++ tasks, on a :class:`envs.browser.BrowserEnv`;
- ``screenwise/desktop-<task>`` for each desktop task, on a :class:`envs.desktop.DesktopEnv` (its own Xvfb).

``gymnasium.make("envs.gym:screenwise/miniwob-click-test-2")`` imports and registers in one call.

Spaces:

- observation: a ``Dict`` of ``screenshot`` (``Box`` uint8, height x width x 3: the task area, or the whole
  display), ``instruction`` and ``last_action_error`` (``Text``; empty when the last action went through);
- action: ``Text`` in the action language (core/actions.py), a whole reply (``Thought: ...\\nAction: ...``) or
  bare actions. A reply that does not parse costs a turn and comes back as ``last_action_error``, as a failed
  action does: the model reads why and tries again.

``info["observation"]`` is the env's own :class:`core.env.Observation`: its ``elements`` (what
``click(element=N)`` refers to), ``url`` and ``title``. The wrapped env owns the step budget (``max_steps``): an
episode that spends it ends ``truncated``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

try:
    import gymnasium
    from gymnasium import spaces
except ImportError as e:  # gymnasium is not a runtime dependency of the agent
    raise ImportError("envs.gym needs gymnasium: pip install 'screenwise[dev]'") from e

from core.actions import ActionParseError, parse_action, parse_response
from core.env import Observation
from envs.browser import BrowserEnv
from envs.desktop import DesktopEnv
from envs.tasks import miniwob_task
from envs.tasks.desktop import DESKTOP_TASKS, desktop_task
from envs.tasks.miniwob import registered_task_names

MAX_TEXT = 10_000
"""Longest instruction, error message or action text the spaces admit, in characters."""


class AnyText(spaces.Text):
    """Text of any characters up to ``max_length``. Instructions quote what the page shows (``unicode-test``
    quotes non-Latin letters) and replies may be anything, so no charset fits; Gymnasium's ``Text`` would need
    every code point listed. Samples are still drawn from ``charset``."""

    def contains(self, x) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length


PRINTABLE = frozenset(chr(c) for c in range(32, 127))


def parse_actions(text: str) -> list:
    """The actions a reply asks for: a whole reply with an ``Action:`` line, or bare actions."""
    if "Action:" in text:
        return list(parse_response(text).actions)
    return [parse_action(text)]


class ScreenwiseGymEnv(gymnasium.Env):
    """A screenwise env (anything with ``reset``/``step``/``close`` returning :class:`Observation`) running one
    task, with Gymnasium's spaces. ``screen`` is the screenshot's (width, height)."""

    # No clock of its own: a frame is a step. One a second makes RecordVideo's videos watchable.
    metadata = {"render_modes": ["rgb_array"], "render_fps": 1}

    def __init__(self, env, task, screen: tuple[int, int], render_mode: str | None = None):
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode {render_mode!r}: use one of {self.metadata['render_modes']}")
        self.env, self.task, self.render_mode = env, task, render_mode
        width, height = screen
        self.observation_space = spaces.Dict({
            "screenshot": spaces.Box(0, 255, (height, width, 3), np.uint8),
            "instruction": AnyText(MAX_TEXT, min_length=0, charset=PRINTABLE),
            "last_action_error": AnyText(MAX_TEXT, min_length=0, charset=PRINTABLE),
        })
        self.action_space = AnyText(MAX_TEXT, min_length=1, charset=PRINTABLE)
        self._screenshot: np.ndarray | None = None
        self._closed = False

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        # The task's own seed: the one asked for, else the next from the env's generator (seeded by an earlier
        # reset), so reset() after reset(seed=s) replays the same sequence of episodes.
        episode_seed = seed if seed is not None else int(self.np_random.integers(2**31))
        obs, info = self.env.reset(episode_seed, options={"task": self.task, **(options or {})})
        return self._observation(obs), {**info, "observation": obs}

    def step(self, action: str):
        try:
            actions, error = parse_actions(action), ""
        except ActionParseError as e:
            actions, error = [], str(e)  # the turn passes with no action, as a malformed reply does in the loop
        obs, reward, terminated, truncated, info = self.env.step(actions)
        if error:
            obs = replace(obs, last_action_error=error)
        return self._observation(obs), reward, terminated, truncated, {**info, "observation": obs}

    def render(self) -> np.ndarray | None:
        return None if self._screenshot is None else self._screenshot.copy()

    def close(self) -> None:
        if not self._closed:  # Gymnasium allows close() twice
            self._closed = True
            self.env.close()

    def _observation(self, obs: Observation) -> dict:
        self._screenshot = np.array(obs.screenshot.convert("RGB"), dtype=np.uint8)
        return {"screenshot": self._screenshot.copy(), "instruction": obs.instruction,
                "last_action_error": obs.last_action_error}


class MiniWoBGymEnv(ScreenwiseGymEnv):
    """``screenwise/miniwob-<task>``: a MiniWoB++ task on its own headless Chromium. ``env_kwargs`` go to
    :class:`envs.browser.BrowserEnv` (``max_steps``, ``safety``...)."""

    def __init__(self, task: str, render_mode: str | None = None, **env_kwargs):
        found = miniwob_task(task)
        x0, y0, x1, y1 = found.crop  # the observation is the task area, whatever the viewport
        super().__init__(BrowserEnv(found, **env_kwargs), found, (x1 - x0, y1 - y0), render_mode)


class DesktopGymEnv(ScreenwiseGymEnv):
    """``screenwise/desktop-<task>``: a desktop task on a private Xvfb. ``env_kwargs`` go to
    :class:`envs.desktop.DesktopEnv`; OCR is off unless ``ocr=True`` (it fills ``info["observation"].elements``
    and is most of a step's cost)."""

    def __init__(self, task: str, render_mode: str | None = None, ocr: bool = False, **env_kwargs):
        found = desktop_task(task)
        env = DesktopEnv(found, ocr=ocr, **env_kwargs)
        super().__init__(env, found, env.size, render_mode)


def register_envs() -> list[str]:
    """Register every task's id (cheap: Gymnasium imports the entry point only in ``make``); returns the ids."""
    ids = []
    for suite, names, entry_point in (("miniwob", registered_task_names(), MiniWoBGymEnv),
                                      ("desktop", list(DESKTOP_TASKS), DesktopGymEnv)):
        for name in names:
            env_id = f"screenwise/{suite}-{name}"
            if env_id not in gymnasium.registry:
                gymnasium.register(env_id, entry_point=f"{__name__}:{entry_point.__name__}", kwargs={"task": name})
            ids.append(env_id)
    return ids


ENV_IDS = register_envs()
