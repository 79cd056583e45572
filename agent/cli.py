"""The ``screenwise`` command line. Each subcommand is a thin layer over a Python API."""

from __future__ import annotations

import argparse
import sys


def cmd_bench(args: argparse.Namespace) -> int:
    from agent.bench import BenchConfig, format_table, run_bench

    cfg = BenchConfig(
        policy=args.policy, tasks=args.tasks, seeds=args.seeds, seed_offset=args.seed_offset,
        workers=args.workers, max_steps=args.max_steps, out=args.out, task_dir=args.task_dir,
        ray_address=args.ray, quiet=args.quiet,
    )
    summary = run_bench(cfg)
    print(format_table(summary))
    print(f"results: {cfg.out}/results.jsonl  summary: {cfg.out}/summary.json  chart: {cfg.out}/success.png")
    return 0


def cmd_tasks(args: argparse.Namespace) -> int:
    from envs.tasks import task_names

    for name in task_names(args.suite):
        print(name)
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="screenwise", description="An open GUI agent framework.")
    sub = ap.add_subparsers(dest="command", required=True)

    bench = sub.add_parser("bench", help="run a benchmark suite")
    bench.add_argument("suite", choices=["miniwob"], help="the benchmark")
    bench.add_argument("--policy", default="teacher", help="teacher | random | a model spec")
    bench.add_argument("--tasks", default="teachers", help="all | webgum56 | teachers | a,b,c")
    bench.add_argument("--task-dir", default=None, help="run MiniWoB-style pages from this directory")
    bench.add_argument("--seeds", type=int, default=5, help="episodes per task")
    bench.add_argument("--seed-offset", type=int, default=0, help="first seed")
    bench.add_argument("--workers", type=int, default=1, help="parallel episodes")
    bench.add_argument("--max-steps", type=int, default=10, help="turns per episode")
    bench.add_argument("--out", default="runs/bench", help="output directory (rerun to resume)")
    bench.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                       help="run episodes on Ray actors: a local Ray, or the cluster at ADDRESS")
    bench.add_argument("--quiet", action="store_true", help="no progress bar")
    bench.set_defaults(func=cmd_bench)

    tasks = sub.add_parser("tasks", help="list tasks of a suite")
    tasks.add_argument("suite", nargs="?", default="all", help="all | webgum56 | teachers")
    tasks.set_defaults(func=cmd_tasks)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
