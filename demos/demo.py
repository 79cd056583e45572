"""`make demo`: the main job, offline. The agent loop plays a handful of MiniWoB++ tasks with the embedded
model (the teacher model until a checkpoint ships), streaming thoughts and actions, then prints the success
table and the path of the trajectory viewer.

    .venv/bin/python demos/demo.py [--model embedded|teacher|hf:DIR|http://HOST:PORT/v1] [--seeds 2]
"""

from __future__ import annotations

import argparse
import time

from agent.loop import Agent, config_for
from apps.chat import print_event
from apps.viewer import write_viewer
from envs.browser import Browser, BrowserEnv
from envs.tasks import CORE, miniwob_task
from models import EMBEDDED_DIR, resolve

# Four of the 43 core tasks the model was first trained on, and four from outside them (envs/tasks CORE).
TASKS = ["click-button", "enter-text", "click-dialog", "click-checkboxes",
         "use-autocomplete", "email-inbox-reply", "scroll-text-2", "ascending-numbers"]
HELD_OUT_SEEDS = 5000  # far from every seed used in training


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = "embedded" if (EMBEDDED_DIR / "config.json").exists() else "teacher"
    ap.add_argument("--model", default=default)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--out", default=time.strftime("runs/demo-%Y%m%d-%H%M%S"))
    args = ap.parse_args()

    browser = Browser()
    env = BrowserEnv(browser=browser, max_steps=10)
    model, card = resolve(args.model, env=env)
    config = config_for(card)
    rows = []
    try:
        for name in TASKS:
            for seed in range(HELD_OUT_SEEDS, HELD_OUT_SEEDS + args.seeds):
                print(f"\n=== {name} (seed {seed}) ===")
                agent = Agent(model, env, config, out_dir=f"{args.out}/trajectories/{name}/{seed}",
                              on_event=print_event)
                r = agent.run(seed=seed, task=miniwob_task(name))
                rows.append((name, seed, r.success, r.steps, r.seconds))
    finally:
        env.close()
        browser.close()

    print(f"\nmodel: {args.model}")
    print(f"{'task':20s} {'set':>8s} {'seed':>5s} {'success':>8s} {'steps':>6s} {'seconds':>8s}")
    for name, seed, ok, steps, secs in rows:
        kind = "core" if name in CORE else "non-core"
        print(f"{name:20s} {kind:>8s} {seed:5d} {str(ok):>8s} {steps:6d} {secs:8.2f}")
    print(f"success: {sum(r[2] for r in rows)}/{len(rows)}")
    print(f"viewer: {write_viewer(args.out)}")


if __name__ == "__main__":
    main()
