"""Env latency, side by side in one run: our BrowserEnv vs MiniWoB++'s own Selenium gym env.

Same tasks, same seeds, same actions, interleaved task by task so machine noise hits both alike. A step is
act + screenshot + observation (ours: the element list; theirs: the DOM tree). The step clicks a point in
the instruction band, which changes nothing, so episodes do not end and every step costs the same.

    .venv/bin/python benchmarks/env_speed.py            # needs chromium-driver (make setup installs it)
    .venv/bin/python benchmarks/env_speed.py --seeds 5  # quicker

Prints medians and ratios (ours / theirs: below 1.0 means we are faster) and writes
benchmarks/results/env_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

TASKS = ["click-test-2", "click-button", "enter-text", "click-checkboxes", "choose-list", "email-inbox",
         "social-media", "click-tab-2", "navigate-tree", "use-autocomplete"]
CLICK = (80, 20)  # inside the instruction band


def time_ours(task_names, seeds, steps, screenshot: bool):
    from core import actions as A
    from envs.browser import BrowserEnv
    from envs.tasks import miniwob_task

    env = BrowserEnv(screenshot=screenshot, max_steps=steps + 1)
    resets, step_times = {}, {}
    for name in task_names:
        task = miniwob_task(name)
        env.reset(seed=0, options={"task": task})  # page load, not timed (the Selenium env loads at make())
        r, s = [], []
        for seed in seeds:
            t0 = time.perf_counter()
            obs, _ = env.reset(seed=seed, options={"task": task})
            r.append(time.perf_counter() - t0)
            for _ in range(steps):
                t0 = time.perf_counter()
                obs, *_ = env.step(A.Click(CLICK))
                s.append(time.perf_counter() - t0)
            assert obs.elements and (obs.screenshot is not None) == screenshot
        resets[name], step_times[name] = r, s
    env.close()
    return resets, step_times


def time_selenium(task_names, seeds, steps, screenshot: bool):
    import gymnasium
    import numpy as np
    from miniwob.action import ActionTypes

    os.environ.setdefault("MINIWOB_CHROME_BINARY", "/usr/bin/chromium")
    os.environ.setdefault("MINIWOB_CHROMEDRIVER", "/usr/bin/chromedriver")
    gymnasium.register_envs(__import__("miniwob"))
    resets, step_times = {}, {}
    for name in task_names:
        env = gymnasium.make(f"miniwob/{name}-v1")
        env.reset(seed=0, options={"record_screenshots": screenshot})
        action = env.unwrapped.create_action(ActionTypes.CLICK_COORDS, coords=np.array(CLICK))
        r, s = [], []
        for seed in seeds:
            t0 = time.perf_counter()
            obs, _ = env.reset(seed=seed)
            r.append(time.perf_counter() - t0)
            for _ in range(steps):
                t0 = time.perf_counter()
                obs, *_ = env.step(action)
                s.append(time.perf_counter() - t0)
            assert obs["dom_elements"]
        env.close()
        resets[name], step_times[name] = r, s
    return resets, step_times


def median_ms(per_task: dict) -> float:
    return 1000 * statistics.median(v for vs in per_task.values() for v in vs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--steps", type=int, default=3, help="steps per episode")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "env_speed.json"))
    args = ap.parse_args()
    seeds = list(range(2000, 2000 + args.seeds))
    rows = []
    for screenshot in (True, False):
        ours_r, ours_s, theirs_r, theirs_s = {}, {}, {}, {}
        for name in TASKS:  # interleaved: noise hits both envs alike
            r, s = time_ours([name], seeds, args.steps, screenshot)
            ours_r.update(r), ours_s.update(s)
            r, s = time_selenium([name], seeds, args.steps, screenshot)
            theirs_r.update(r), theirs_s.update(s)
        rows.append({
            "screenshot": screenshot,
            "ours_reset_ms": median_ms(ours_r), "selenium_reset_ms": median_ms(theirs_r),
            "ours_step_ms": median_ms(ours_s), "selenium_step_ms": median_ms(theirs_s),
        })
    print(f"{len(TASKS)} tasks x {args.seeds} seeds x {args.steps} steps; medians in ms; ratio = ours / selenium")
    print(f"{'observation':28s} {'ours reset':>10s} {'sel. reset':>10s} {'ratio':>6s} "
          f"{'ours step':>10s} {'sel. step':>10s} {'ratio':>6s}")
    for row in rows:
        label = "screenshot + elements" if row["screenshot"] else "elements only (no screenshot)"
        row["reset_ratio"] = row["ours_reset_ms"] / row["selenium_reset_ms"]
        row["step_ratio"] = row["ours_step_ms"] / row["selenium_step_ms"]
        print(f"{label:28s} {row['ours_reset_ms']:10.1f} {row['selenium_reset_ms']:10.1f} {row['reset_ratio']:6.2f} "
              f"{row['ours_step_ms']:10.1f} {row['selenium_step_ms']:10.1f} {row['step_ratio']:6.2f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"tasks": TASKS, "seeds": args.seeds, "steps": args.steps, "rows": rows},
                                         indent=1))


if __name__ == "__main__":
    main()
