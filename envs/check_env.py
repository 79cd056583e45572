"""check_env: the conformance test every env must pass (run in the tests on each env).

It checks the gymnasium-style contract and the Observation contract, that bad actions come back as
``last_action_error`` instead of exceptions, and that a seed gives the same episode twice.
"""

from __future__ import annotations

from PIL import Image

from core import actions as A
from core.env import Element, Observation


def _check_obs(obs: Observation, where: str) -> None:
    assert isinstance(obs, Observation), f"{where}: expected an Observation, got {type(obs).__name__}"
    assert isinstance(obs.instruction, str), f"{where}: instruction must be a str"
    assert isinstance(obs.last_action_error, str), f"{where}: last_action_error must be a str"
    assert isinstance(obs.screenshot, Image.Image), f"{where}: screenshot must be a PIL image"
    w, h = obs.screenshot.size
    assert w > 0 and h > 0, f"{where}: empty screenshot"
    for i, e in enumerate(obs.elements):
        assert isinstance(e, Element), f"{where}: element {i} is a {type(e).__name__}"
        assert e.id == i, f"{where}: element ids must be their list positions ({e.id} at {i})"
        x0, y0, x1, y1 = e.bbox
        assert all(isinstance(v, int) for v in e.bbox), f"{where}: element {i} bbox must be ints"
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h, f"{where}: element {i} bbox {e.bbox} outside {w}x{h}"
        assert isinstance(e.role, str) and e.role, f"{where}: element {i} needs a role"
        assert isinstance(e.text, str), f"{where}: element {i} text must be a str"


def check_env(env, seed: int = 0) -> None:
    """Raise AssertionError with a specific message at the first broken promise."""
    obs, info = env.reset(seed=seed)
    _check_obs(obs, "reset")
    assert isinstance(info, dict), "reset must return (Observation, dict)"
    assert obs.instruction, "reset: the instruction is empty"
    assert obs.last_action_error == "", "reset: a fresh episode has no action error"

    again, _ = env.reset(seed=seed)
    assert again.instruction == obs.instruction, "the same seed must give the same episode"
    assert [(e.role, e.text) for e in again.elements] == [(e.role, e.text) for e in obs.elements], \
        "the same seed must give the same elements"

    result = env.step(A.Wait(0))
    assert isinstance(result, tuple) and len(result) == 5, "step must return a 5-tuple"
    obs, reward, terminated, truncated, info = result
    _check_obs(obs, "step")
    assert isinstance(reward, float), "reward must be a float"
    assert isinstance(terminated, bool) and isinstance(truncated, bool), "terminated/truncated must be bools"
    assert isinstance(info, dict), "info must be a dict"
    assert obs.last_action_error == "", f"wait() must not fail: {obs.last_action_error}"

    obs, *_ = env.step(A.Click(A.ElementRef(index=10_000)))
    assert "element" in obs.last_action_error, "an unknown element must come back as last_action_error"
    w, h = obs.screenshot.size
    obs, *_ = env.step(A.Click((w + 50, h + 50)))
    assert "outside" in obs.last_action_error, "a point off the screen must come back as last_action_error"
    obs, *_ = env.step(A.Wait(0))
    assert obs.last_action_error == "", "the error must clear on the next good action"
