"""Teacher benchmark throughput: episodes per second over a mixed 30-task suite, 1 worker vs 4, in one run.

    .venv/bin/python benchmarks/teacher_throughput.py [--seeds 20] [--workers 1 4]

Each setting runs the same tasks and seeds through the real bench harness (results file, resume logic and
all) into a fresh directory, and the script prints episodes/s and the speed-up over the first setting.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from agent.bench import BenchConfig, run_bench

# A mix of one-click, form, widget, multi-step and visual tasks, all with teachers.
SUITE = ("click-button click-link click-test click-test-2 focus-text enter-text enter-password login-user "
         "click-checkboxes click-option click-tab click-tab-2 click-dialog click-collapsible choose-list "
         "click-button-sequence enter-text-dynamic multi-layouts multi-orderings navigate-tree email-inbox "
         "social-media search-engine click-color click-shape identify-shape grid-coordinate use-spinner "
         "focus-text-2 click-widget").split()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--seed-offset", type=int, default=3000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "teacher_throughput.json"))
    args = ap.parse_args()
    rows = []
    for workers in args.workers:
        with tempfile.TemporaryDirectory() as d:
            s = run_bench(BenchConfig(policy="teacher", tasks=",".join(SUITE), seeds=args.seeds,
                                      seed_offset=args.seed_offset, workers=workers, out=d, quiet=True))
        rows.append({"workers": workers, "episodes": s["new_episodes"], "seconds": s["seconds"],
                     "episodes_per_second": s["episodes_per_second"], "mean_success": s["mean_success"]})
    base = rows[0]["episodes_per_second"]
    print(f"{len(SUITE)} tasks x {args.seeds} seeds, teacher policy")
    print(f"{'workers':>7s} {'episodes':>8s} {'seconds':>8s} {'episodes/s':>10s} {'speed-up':>8s} {'success':>8s}")
    for r in rows:
        print(f"{r['workers']:7d} {r['episodes']:8d} {r['seconds']:8.1f} {r['episodes_per_second']:10.1f} "
              f"{r['episodes_per_second'] / base:8.2f} {r['mean_success']:8.1%}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"suite": SUITE, "seeds": args.seeds, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
