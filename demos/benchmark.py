"""A benchmark run with its table and chart, through the Python API.

    .venv/bin/python demos/benchmark.py [--policy embedded|teacher|random|SPEC] [--seeds 3]
"""

from __future__ import annotations

import argparse

from agent.bench import BenchConfig, format_table, run_bench
from models import EMBEDDED_DIR

TASKS = "click-button,click-link,enter-text,focus-text,click-checkboxes,login-user"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--policy", default="embedded" if (EMBEDDED_DIR / "config.json").exists() else "teacher")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    out = args.out or f"runs/demo-bench-{args.policy.replace(':', '-').replace('/', '_')}"
    summary = run_bench(BenchConfig(policy=args.policy, tasks=TASKS, seeds=args.seeds, seed_offset=7000, out=out))
    print(format_table(summary))
    print(f"chart: {out}/success.png  results: {out}/results.jsonl")


if __name__ == "__main__":
    main()
