"""The envs as Gymnasium environments (envs/gym.py): Gymnasium's own env checker on a real MiniWoB page in
Chromium and on a real desktop task on Xvfb, beside the project's check_env, and an episode played in text."""

from __future__ import annotations

import shutil
import warnings
from importlib.util import find_spec

import pytest

gymnasium = pytest.importorskip("gymnasium")  # the dev extra

from gymnasium.utils.env_checker import check_env as gymnasium_check_env  # noqa: E402

from envs.check_env import check_env  # noqa: E402
from envs.gym import ENV_IDS  # noqa: E402 (registers the ids)
from envs.tasks import registered_task_names  # noqa: E402
from envs.tasks.desktop import DESKTOP_TASKS  # noqa: E402


def passes_both_checkers(env_id: str, **kwargs) -> None:
    """Gymnasium's checker finds nothing to warn about, and the wrapped env passes our own."""
    env = gymnasium.make(env_id, **kwargs)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gymnasium_check_env(env.unwrapped)
        complaints = [str(w.message) for w in caught if "WARN:" in str(w.message)]  # gymnasium.logger.warn's
        assert not complaints, complaints
        check_env(env.unwrapped.env)
    finally:
        env.close()


def test_every_task_has_an_id_and_registering_starts_nothing():
    assert {f"screenwise/miniwob-{n}" for n in registered_task_names()} <= set(ENV_IDS)
    assert {f"screenwise/desktop-{n}" for n in DESKTOP_TASKS} <= set(ENV_IDS)
    assert len(ENV_IDS) == 125 + len(DESKTOP_TASKS)
    spec = gymnasium.spec("screenwise/miniwob-click-test-2")
    assert spec.entry_point == "envs.gym:MiniWoBGymEnv" and spec.kwargs == {"task": "click-test-2"}


def test_miniwob_env_passes_gymnasiums_checker_and_ours():
    passes_both_checkers("screenwise/miniwob-click-test-2")


def test_an_episode_played_in_the_action_language():
    env = gymnasium.make("screenwise/miniwob-click-test-2", max_steps=3)
    try:
        obs, info = env.reset(seed=3)
        assert obs["screenshot"].shape == (210, 160, 3) and obs["instruction"] == "Click button ONE."
        assert env.observation_space.contains(obs)

        # a reply that does not parse: a turn spent, and the reason in the observation, as the model would see it
        obs, reward, terminated, truncated, _ = env.step("Thought: hm\nAction: press(the button)")
        assert "Unknown action 'press'" in obs["last_action_error"]
        assert (reward, terminated, truncated) == (0.0, False, False)

        target = next(e for e in info["observation"].elements if e.text == "ONE")
        obs, reward, terminated, truncated, info = env.step(f"Thought: the button says ONE.\n"
                                                           f"Action: click(element={target.id})")
        assert obs["last_action_error"] == "" and reward == 1.0 and terminated and not truncated
    finally:
        env.close()


def test_the_step_budget_ends_an_episode_truncated():
    env = gymnasium.make("screenwise/miniwob-click-test-2", max_steps=2)
    try:
        env.reset(seed=0)
        assert env.step("wait()")[3] is False
        _, reward, terminated, truncated, _ = env.step("wait()")
        assert truncated and not terminated and reward == 0.0
    finally:
        env.close()


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed (sudo apt-get install -y xvfb)")
@pytest.mark.skipif(find_spec("pyautogui") is None, reason="the desktop extra is not installed")
def test_desktop_env_passes_gymnasiums_checker_and_ours():
    passes_both_checkers("screenwise/desktop-form-save")
