"""The shared body of every env's ``step``: the safety gate, the turn's actions in order, the step budget."""

from __future__ import annotations

from typing import Any, Callable

from core.env import ActionError, Observation


def run_turn(env, action, *, execute: Callable[[Any], None], ended: Callable[[], bool],
             finish: Callable[[str], tuple[Observation, float, bool, dict]],
             site: Callable[[Any], Any] | None = None) -> tuple[Observation, float, bool, bool, dict]:
    """One turn of any env: the shared body of ``step``.

    ``action`` is one action or a list, run in order until one fails or is refused, or the episode ends.
    Every action passes the env's safety gate (``env.safety``, an :class:`envs.safety.SafetyPolicy`) first,
    which may refuse it or fill in secrets; a refusal, like any :class:`ActionError`, becomes the
    observation's ``last_action_error``. The env supplies the mechanics:

    - ``execute(action)`` runs one admitted action (envs/executor.py ``dispatch`` on the env's executor), raising
      ActionError when it cannot;
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
