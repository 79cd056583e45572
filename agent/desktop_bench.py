"""The desktop benchmark: every (task, seed) episode of one policy on one display, resumable.

It is agent/bench.py's harness (``run_episodes``: the results file, resume, the summary and chart) with a desktop
in place of the browser, its episodes played by the shared episode runner (agent/runner.py) one at a time: they
share one display, and one pointer.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

from agent.bench import BenchConfig, make_policy, run_episodes
from agent.runner import ThreadPool
from envs.desktop import DesktopEnv
from envs.tasks.desktop import resolve_desktop_tasks


def run_desktop_bench(cfg: BenchConfig, env=None) -> dict:
    """Run ``cfg.tasks`` (``all`` or a comma list of desktop task ids) for ``cfg.seeds`` seeds each.

    ``env`` is a :class:`envs.desktop.DesktopEnv` to use (tests share one); by default the run starts its own
    sandbox display and closes it at the end. ``cfg.workers`` and ``cfg.ray_address`` are ignored.
    """
    if cfg.policy not in ("teacher", "random"):  # a model, through the agent loop: describe desktop actions
        cfg = replace(cfg, extra={**cfg.extra, "action_set": "desktop"})
    policy = make_policy(cfg)

    @contextmanager
    def one_display():
        # A policy that looks at the screen gets OCR elements; the privileged teachers read the apps instead.
        display = env or DesktopEnv(max_steps=cfg.max_steps, ocr=getattr(policy, "needs_screenshot", False))
        display.max_steps = cfg.max_steps
        try:
            yield ThreadPool(lambda: display, policy, workers=1)
        finally:
            if env is None:
                display.close()

    return run_episodes(cfg, resolve_desktop_tasks(cfg.tasks or "all"), one_display)
