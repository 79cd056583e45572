"""The desktop benchmark: every (task, seed) episode of one policy on one display, resumable.

It is agent/bench.py's harness with a desktop in place of the browser, and it reuses that module's pieces: the
policies, the episode loop and its error capture (``run_with_retry``), the results file (``read_results``,
appended per episode, a torn last line cut), ``check_run_config`` and ``finish_run`` (summary and chart). Episodes run one at a time: they share one display, and one pointer.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

from agent.bench import BenchConfig, _progress, check_run_config, finish_run, make_policy, read_results, run_with_retry
from envs.desktop import DesktopEnv
from envs.tasks.desktop import resolve_desktop_tasks


def run_desktop_bench(cfg: BenchConfig, env=None) -> dict:
    """Run ``cfg.tasks`` (``all`` or a comma list of desktop task ids) for ``cfg.seeds`` seeds each.

    ``env`` is a :class:`envs.desktop.DesktopEnv` to use (tests share one); by default the run starts its own
    sandbox display and closes it at the end. ``cfg.workers`` and ``cfg.ray_address`` are ignored.
    """
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    check_run_config(out, cfg)
    tasks = resolve_desktop_tasks(cfg.tasks or "all")
    seeds = range(cfg.seed_offset, cfg.seed_offset + cfg.seeds)
    results_path = out / "results.jsonl"
    done = {(r["task"], r["seed"]) for r in read_results(results_path)}
    todo = [(t, s) for t in tasks for s in seeds if (t.id, s) not in done]

    if cfg.policy not in ("teacher", "random"):  # a model, through the agent loop: describe desktop actions
        cfg = replace(cfg, extra={**cfg.extra, "action_set": "desktop"})
    policy = make_policy(cfg)
    t0 = time.perf_counter()
    new = []
    if todo:
        own = env is None
        if own:
            # A policy that looks at the screen gets OCR elements; the privileged teachers read the apps instead.
            env = DesktopEnv(max_steps=cfg.max_steps, ocr=getattr(policy, "needs_screenshot", False))
        env.max_steps = cfg.max_steps
        bar, wins = _progress(len(todo), cfg.quiet), 0
        try:
            with open(results_path, "a") as sink:
                for task, seed in todo:
                    r = run_with_retry(env, task, seed, policy)
                    sink.write(json.dumps(r) + "\n")
                    sink.flush()
                    new.append(r)
                    wins += r["success"]
                    bar.set_postfix_str(f"{r['task']} success={wins / len(new):.0%}", refresh=False)
                    bar.update()
        finally:
            bar.close()
            if own:
                env.close()
    return finish_run(out, cfg, [t.id for t in tasks], seeds, len(new), time.perf_counter() - t0)
