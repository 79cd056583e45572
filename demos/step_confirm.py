"""Drive a page step by step with a person confirming every action before it runs.

    .venv/bin/python demos/step_confirm.py [--model embedded|teacher|SPEC] [--task click-checkboxes]

At each step the agent shows its thought and actions and asks "run it? [y/n/q]": y runs them, n refuses
them (the model is told, and tries again), q stops.
"""

from __future__ import annotations

import argparse
import sys

from agent.loop import Agent, config_for
from apps.chat import print_event
from core.actions import format_action
from envs.browser import BrowserEnv
from envs.tasks import miniwob_task
from models import EMBEDDED_DIR, resolve


class ConfirmingAgent(Agent):
    """The one override: a person approves each turn's actions."""

    def confirm(self, actions: list) -> str:
        shown = " | ".join(format_action(a) for a in actions)
        print(f"  run {shown} ? [y/n/q] ", end="", flush=True)
        answer = (sys.stdin.readline() or "q").strip().lower()
        if answer.startswith("q"):
            raise KeyboardInterrupt
        return "" if answer.startswith("y") else "the person refused this action"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="embedded" if (EMBEDDED_DIR / "config.json").exists() else "teacher")
    ap.add_argument("--task", default="click-checkboxes")
    ap.add_argument("--seed", type=int, default=7101)
    args = ap.parse_args()
    env = BrowserEnv(miniwob_task(args.task))
    try:
        model, card = resolve(args.model, env=env)
        agent = ConfirmingAgent(model, env, config_for(card), on_event=print_event)
        result = agent.run(seed=args.seed)
    except KeyboardInterrupt:
        print("stopped by the person")
        return 1
    finally:
        env.close()
    return 0 if result.success else 1


if __name__ == "__main__":
    raise SystemExit(main())
