"""Teacher bench throughput, old episode runner vs new, side by side in one run: episodes/s on a mixed suite.

    .venv/bin/python benchmarks/teacher_throughput.py [--seeds 20] [--workers 4] [--rounds 3] [--old-ref 4db3654]

The old runner is the code at ``--old-ref`` (the commit before the shared episode runner: agent/bench.py's own
thread pool, a page reload whenever a worker's next episode is another task's, three script calls after every
action), unpacked from git into a temporary directory. Both run the same command, ``screenwise bench miniwob
--policy teacher`` on the same 30 tasks and seeds, each in a fresh process, alternating old and new for
``--rounds`` rounds so that the machine's other load falls on both alike. The ratio is the figure to trust on a
shared machine; the script also checks that every (task, seed) got the same reward from both.

JSON: docs/results/teacher_throughput.json (per run: episodes/s, wall seconds, success; the medians; the ratio).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A mix of one-click, form, widget, multi-step and visual tasks, all with teachers.
SUITE = ("click-button click-link click-test click-test-2 focus-text enter-text enter-password login-user "
         "click-checkboxes click-option click-tab click-tab-2 click-dialog click-collapsible choose-list "
         "click-button-sequence enter-text-dynamic multi-layouts multi-orderings navigate-tree email-inbox "
         "social-media search-engine click-color click-shape identify-shape grid-coordinate use-spinner "
         "focus-text-2 click-widget").split()


def unpack(ref: str, where: Path) -> Path:
    """The tree of commit ``ref``, as files under ``where``."""
    archive = where / "old.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(archive), ref], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(where / "old", filter="data")
    return where / "old"


def bench(tree: Path, out: Path, args) -> dict:
    """One teacher bench in a fresh process on the code of ``tree``: its summary, wall time and rewards."""
    command = [sys.executable, "-m", "agent.cli", "bench", "miniwob", "--policy", "teacher", "--tasks", ",".join(SUITE),
               "--seeds", str(args.seeds), "--seed-offset", str(args.seed_offset), "--workers", str(args.workers),
               "--out", str(out), "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"}
    t0 = time.perf_counter()
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"the bench in {tree} failed:\n{done.stderr[-3000:]}")
    summary = json.loads((out / "summary.json").read_text())
    rewards = {f"{r['task']}:{r['seed']}": r["reward"] for r in map(json.loads, open(out / "results.jsonl"))}
    return {"episodes": summary["new_episodes"], "seconds": summary["seconds"],
            "episodes_per_second": summary["episodes_per_second"], "wall_seconds": round(wall, 1),
            "mean_success": summary["mean_success"], "errors": summary["errors"], "rewards": rewards}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=20, help="seeds per task")
    ap.add_argument("--seed-offset", type=int, default=3000, help="first seed (validation band)")
    ap.add_argument("--workers", type=int, default=4, help="parallel episodes in both runners")
    ap.add_argument("--rounds", type=int, default=3, help="old/new pairs to run, alternating")
    ap.add_argument("--old-ref", default="4db3654", help="the commit whose runner is the old one")
    ap.add_argument("--out", default=str(ROOT / "docs" / "results" / "teacher_throughput.json"))
    args = ap.parse_args()
    runs: dict[str, list[dict]] = {"old": [], "new": []}
    with tempfile.TemporaryDirectory() as d:
        trees = {"old": unpack(args.old_ref, Path(d)), "new": ROOT}
        for r in range(args.rounds):
            for name in ("old", "new"):
                runs[name].append(bench(trees[name], Path(d) / f"{name}{r}", args))
                print(f"round {r + 1} {name}: {runs[name][-1]['episodes_per_second']:.2f} episodes/s", flush=True)
    reference = runs["old"][0]["rewards"]
    differ = sorted({k for run in runs["old"] + runs["new"] for k, v in run["rewards"].items() if reference.get(k) != v})
    median = {name: statistics.median(run["episodes_per_second"] for run in rs) for name, rs in runs.items()}
    result = {"suite": SUITE, "seeds": [args.seed_offset, args.seed_offset + args.seeds - 1], "workers": args.workers,
              "old_ref": args.old_ref, "cpus": os.cpu_count(), "load_average": os.getloadavg(),
              "runs": {name: [{k: v for k, v in run.items() if k != "rewards"} for run in rs] for name, rs in runs.items()},
              "median_episodes_per_second": median, "speed_up": round(median["new"] / median["old"], 2),
              "episodes_with_other_rewards": differ}
    print(f"{len(SUITE)} tasks x {args.seeds} seeds, teacher policy, {args.workers} workers, {args.rounds} rounds")
    for name in ("old", "new"):
        print(f"{name:>4s} runner: {median[name]:6.2f} episodes/s (median), success "
              f"{runs[name][0]['mean_success']:.1%}")
    print(f"speed-up {result['speed_up']:.2f}x; (task, seed) pairs whose reward differs: {len(differ)}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
