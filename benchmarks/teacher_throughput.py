"""Teacher bench throughput, old episode runner vs new, side by side in one run: episodes/s on a mixed suite.

    .venv/bin/python benchmarks/teacher_throughput.py [--seeds 20] [--workers 4] [--rounds 3] [--old-ref 4db3654]

The old runner is the code at ``--old-ref`` (the commit before the shared episode runner: agent/bench.py's own
thread pool, a page reload whenever a worker's next episode is another task's, three script calls after every
action), unpacked from git into a temporary directory. Both run the same command, ``screenwise bench miniwob
--policy teacher`` on the same 30 tasks and seeds, each in a fresh process, alternating old and new for
``--rounds`` rounds so that the machine's other load falls on both alike. Episodes/s still swings with that load from
one minute to the next, so each run's CPU time is measured too (all its processes: Python, Playwright's driver,
Chromium's), per episode: the figure that load does not move. The script also checks that every (task, seed) got
the same reward from both.

JSON: docs/results/teacher_throughput.json (per run: episodes/s, CPU ms per episode, wall seconds, success; the
medians; the ratios).
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
import threading
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


def tree_cpu_seconds(root: int) -> dict[int, float]:
    """CPU seconds so far of ``root`` and every process below it (Python, Playwright's driver, Chromium's), by pid."""
    parent, cpu, tick = {}, {}, os.sysconf("SC_CLK_TCK")
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parent[int(proc.name)] = int(fields[1])
            cpu[int(proc.name)] = (int(fields[11]) + int(fields[12])) / tick

    def below(pid: int) -> bool:
        while pid > 1:
            if pid == root:
                return True
            pid = parent.get(pid, 0)
        return False

    return {pid: t for pid, t in cpu.items() if below(pid)}


def bench(tree: Path, out: Path, args) -> dict:
    """One teacher bench in a fresh process on the code of ``tree``: its summary, wall time and rewards."""
    cli = "apps.cli" if (tree / "apps" / "cli.py").exists() else "agent.cli"  # where the CLI lived at that commit
    command = [sys.executable, "-m", cli, "bench", "miniwob", "--policy", "teacher", "--tasks", ",".join(SUITE),
               "--seeds", str(args.seeds), "--seed-offset", str(args.seed_offset), "--workers", str(args.workers),
               "--out", str(out), "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: dict[int, float] = {}  # pid -> its CPU seconds when last sampled (a process that ends keeps its last)

    def sample() -> None:
        while proc.poll() is None:
            seen.update(tree_cpu_seconds(proc.pid))
            time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = proc.communicate()
    sampler.join()
    wall, cpu = time.perf_counter() - t0, sum(seen.values())  # the process tree, startup included
    if proc.returncode != 0:
        raise SystemExit(f"the bench in {tree} failed:\n{stderr[-3000:]}")
    summary = json.loads((out / "summary.json").read_text())
    rewards = {f"{r['task']}:{r['seed']}": r["reward"] for r in map(json.loads, open(out / "results.jsonl"))}
    return {"episodes": summary["new_episodes"], "seconds": summary["seconds"],
            "episodes_per_second": summary["episodes_per_second"], "wall_seconds": round(wall, 1),
            "cpu_ms_per_episode": round(1000 * cpu / max(1, summary["new_episodes"]), 1),
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
                run = runs[name][-1]
                print(f"round {r + 1} {name}: {run['episodes_per_second']:.2f} episodes/s, "
                      f"{run['cpu_ms_per_episode']:.0f} ms CPU an episode", flush=True)
    reference = runs["old"][0]["rewards"]
    differ = sorted({k for run in runs["old"] + runs["new"] for k, v in run["rewards"].items() if reference.get(k) != v})
    median = {name: statistics.median(run["episodes_per_second"] for run in rs) for name, rs in runs.items()}
    cpu = {name: statistics.median(run["cpu_ms_per_episode"] for run in rs) for name, rs in runs.items()}
    result = {"suite": SUITE, "seeds": [args.seed_offset, args.seed_offset + args.seeds - 1], "workers": args.workers,
              "old_ref": args.old_ref, "cpus": os.cpu_count(), "load_average": os.getloadavg(),
              "runs": {name: [{k: v for k, v in run.items() if k != "rewards"} for run in rs] for name, rs in runs.items()},
              "median_episodes_per_second": median, "speed_up": round(median["new"] / median["old"], 2),
              "median_cpu_ms_per_episode": cpu, "cpu_ratio": round(cpu["old"] / cpu["new"], 2),
              "episodes_with_other_rewards": differ}
    print(f"{len(SUITE)} tasks x {args.seeds} seeds, teacher policy, {args.workers} workers, {args.rounds} rounds")
    for name in ("old", "new"):
        print(f"{name:>4s} runner: {median[name]:6.2f} episodes/s, {cpu[name]:5.0f} ms CPU an episode (medians), "
              f"success {runs[name][0]['mean_success']:.1%}")
    print(f"speed-up {result['speed_up']:.2f}x in episodes/s, {result['cpu_ratio']:.2f}x less CPU an episode; "
          f"(task, seed) pairs whose reward differs: {len(differ)}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
