"""Try teachers on seeds: ``python -m envs.teachers click-button enter-text --seeds 50 --offset 0 -v``
(``--task-dir envs/tasks/unseen all`` for a directory's pages).

A developer's tool for writing teachers; `screenwise bench miniwob --policy teacher` is the real measure.
"""

from __future__ import annotations

import argparse
import time
import traceback

from envs.browser import Browser, BrowserEnv
from envs.tasks import resolve_tasks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("tasks", nargs="+", help="task ids, or one of all/webgum56/teachers")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--max-steps", type=int, default=10)
    ap.add_argument("--task-dir", default=None, help="the pages of this directory (tasks: their ids, or all)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every step of failed episodes")
    args = ap.parse_args()
    tasks = resolve_tasks(",".join(args.tasks), args.task_dir)
    browser = Browser()
    env = BrowserEnv(browser=browser, max_steps=args.max_steps, screenshot=False)
    for task in tasks:
        if not task.has_teacher:
            print(f"{task.id:32s} no teacher")
            continue
        wins, failed, t0 = 0, [], time.time()
        for seed in range(args.offset, args.offset + args.seeds):
            log, reward = [], 0.0
            try:
                obs, _ = env.reset(seed, options={"task": task})
                log.append(f"  instruction: {obs.instruction}")
                for _ in range(args.max_steps):
                    thought, action = task.teacher(obs, env.page)
                    obs, reward, done, truncated, info = env.step(action)
                    log.append(f"  {thought} -> {action} reward={reward} err={obs.last_action_error!r}")
                    if done or truncated:
                        break
            except Exception:
                log.append(traceback.format_exc(limit=3))
            if reward > 0:
                wins += 1
            else:
                failed.append(seed)
                if args.verbose:
                    print(f"{task.id} seed {seed} FAILED\n" + "\n".join(log))
        rate = wins / args.seeds
        print(f"{task.id:32s} {wins:3d}/{args.seeds} ({rate:.0%}) {1000 * (time.time() - t0) / args.seeds:.0f} ms/ep"
              + (f"  failed seeds: {failed[:10]}" if failed else ""))
    env.close()
    browser.close()


if __name__ == "__main__":
    main()
