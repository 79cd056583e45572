"""Automate a web form through the Python API: the agent logs in on MiniWoB's login form.

    .venv/bin/python demos/web_form.py [--model embedded|teacher|hf:DIR|http://HOST:PORT/v1] [--seed 7]
"""

from __future__ import annotations

import argparse

from agent.loop import Agent, config_for
from apps.chat import print_event
from envs.browser import BrowserEnv
from envs.tasks import miniwob_task
from models import EMBEDDED_DIR, resolve


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="embedded" if (EMBEDDED_DIR / "config.json").exists() else "teacher")
    ap.add_argument("--seed", type=int, default=7007)
    ap.add_argument("--out", default="runs/demo-web-form")
    args = ap.parse_args()

    env = BrowserEnv(miniwob_task("login-user"))
    try:
        model, card = resolve(args.model, env=env)
        agent = Agent(model, env, config_for(card), out_dir=args.out, on_event=print_event)
        result = agent.run(seed=args.seed)
    finally:
        env.close()
    print(f"status={result.status} success={result.success} steps={result.steps} trajectory={result.trajectory}")
    return 0 if result.status in ("done", "finished") else 1


if __name__ == "__main__":
    raise SystemExit(main())
