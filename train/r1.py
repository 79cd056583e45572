"""The DeepSeek-R1 comparison at our scale: distillation, RL from scratch, and distillation then RL.

Three arms share the tasks, the held-out seeds and a wall-clock budget, and run side by side (one torch
thread each) so that they see the same machine:

- ``sft-only``: the SFT checkpoint trains ``minutes`` more on the teachers' successful episodes of the tasks
  (distillation only);
- ``grpo-random``: a freshly initialised model of the same architecture and tokenizer gets ``minutes`` of GRPO
  on the tasks (RL alone, as R1-Zero, but from a model that never saw any data);
- ``sft-grpo``: the SFT checkpoint gets ``minutes`` of GRPO (distillation then RL). ``--sft-grpo DIR`` uses a
  GRPO run made elsewhere (the headline run of train/grpo.py) instead of starting one.

Each arm's checkpoint, and the SFT checkpoint it started from, then play the same unseen seeds through
agent.bench. ``table.md`` and ``r1.png`` hold the result. Every arm resumes where it stopped (rerun the command).

    python -m train.r1 --sft models/embedded/checkpoint --tasks a,b,c --minutes 30 --out runs/r1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from agent.bench import BenchConfig, run_bench

MAX_STEPS = 8
GRPO_FLAGS = ["--seeds-per-iter", "40", "--group", "4", "--max-steps", str(MAX_STEPS), "--lr", "3e-4",
              "--warmup", "3", "--ppo-epochs", "2", "--minibatch", "0", "--no-scale-std", "--eps-high", "0.28",
              "--workers", "16", "--iters", "100000", "--seed-offset", "200000", "--threads", "1", "--quiet"]
"""The GRPO settings of both RL arms: the headline run's recipe since run 5 (40 prompts x groups of 4, two
full-batch updates an iteration, Dr. GRPO, clip-higher, 16 lockstep pages). Runs 3–4 used 5 x 6 at lr 1e-4."""


def arm_commands(a: argparse.Namespace, out: Path) -> dict[str, list[str]]:
    py = [sys.executable, "-m"]
    fresh = out / "grpo-random" / "init"
    arms = {
        "sft-only": py + ["train.sft", "--init", a.sft, "--data", *a.data, "--data-tasks", a.tasks,
                          "--out", str(out / "sft-only"), "--minutes", str(a.minutes), "--steps", "100000",
                          "--lr", "5e-4", "--warmup", "10", "--save-every", "100", "--synthetic", "0",
                          "--eval-tasks", a.tasks.split(",")[0], "--eval-seeds", "1"],
        "grpo-random": py + ["train.grpo", "--init", str(fresh), "--tasks", a.tasks, "--minutes", str(a.minutes),
                             "--out", str(out / "grpo-random"), *GRPO_FLAGS],
    }
    if not a.sft_grpo:
        arms["sft-grpo"] = py + ["train.grpo", "--init", a.sft, "--tasks", a.tasks, "--minutes", str(a.minutes),
                                 "--out", str(out / "sft-grpo"), *GRPO_FLAGS]
    return arms


def fresh_model(a: argparse.Namespace, directory: Path) -> None:
    """The SFT checkpoint's architecture and tokenizer with new random weights."""
    if (directory / "config.json").exists():
        return
    from train.sft import Args, build_model  # torch: this driver runs the arms as subprocesses and loads it only here

    config = json.loads((Path(a.sft) / "config.json").read_text())
    text = config.get("text_config", config)
    build_model(Args(hidden=text["hidden_size"], layers=text["num_hidden_layers"],
                     heads=text["num_attention_heads"], kv_heads=text["num_key_value_heads"], seed=1), directory)


def checkpoint_of(run: Path) -> Path:
    return run / "checkpoint"


def pool_seed_sets(summaries: list[dict], tasks: list[str]) -> dict[str, float]:
    """Each task's success over several bench summaries of equal size (one per seed set)."""
    return {t: sum(s["per_task"][t]["success"] for s in summaries) / len(summaries) for t in tasks}


def plot(rows: list[tuple[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    bars = ax.bar([r[0] for r in rows], [100 * r[1] for r in rows], color=["#999", "#4a7", "#d55", "#47b"])
    ax.bar_label(bars, fmt="%.0f%%")
    ax.set_ylabel("held-out success (%)")
    ax.set_ylim(0, 100)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sft", required=True, help="the SFT checkpoint both distillation arms start from")
    ap.add_argument("--tasks", required=True, help="a,b,c: the tasks every arm trains and is evaluated on")
    ap.add_argument("--data", nargs="+", default=["runs/distill", "runs/r2/distill", "runs/s3/distill"],
                    help="teacher trajectories for the sft-only arm")
    ap.add_argument("--minutes", type=float, default=30.0, help="training budget of every arm")
    ap.add_argument("--sft-grpo", default="", help="an existing GRPO run directory to use as the third arm")
    ap.add_argument("--eval-seeds", type=int, default=10)
    ap.add_argument("--eval-seed-offset", default="2000",
                    help="first held-out seed; a,b pools several seed sets of --eval-seeds each")
    ap.add_argument("--out", default="runs/r1")
    a = ap.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)

    fresh_model(a, out / "grpo-random" / "init")
    commands = arm_commands(a, out)
    procs = {}
    for name, cmd in commands.items():
        log = open(out / f"{name}.log", "a")
        print(f"[r1] {name}: {' '.join(cmd)}", flush=True)
        procs[name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    failed = [name for name, p in procs.items() if p.wait() != 0]
    if failed:
        raise SystemExit(f"arm(s) failed: {', '.join(failed)}; see {out}/<arm>.log, then rerun to resume")

    runs = {"SFT checkpoint (start)": Path(a.sft), "SFT only (+ distillation)": checkpoint_of(out / "sft-only"),
            "GRPO from random init": checkpoint_of(out / "grpo-random"),
            "SFT then GRPO": checkpoint_of(Path(a.sft_grpo) if a.sft_grpo else out / "sft-grpo")}
    tasks = a.tasks.split(",")
    offsets = [int(o) for o in a.eval_seed_offset.split(",")]
    rows = []
    for label, ckpt in runs.items():
        tag = label.split(" (")[0].lower().replace(" ", "-")
        per_task = pool_seed_sets([run_bench(BenchConfig(
            policy=f"hf:{ckpt}", tasks=a.tasks, seeds=a.eval_seeds, seed_offset=offset, max_steps=MAX_STEPS,
            workers=2, out=str(out / "eval" / f"{tag}-{offset}"), quiet=True)) for offset in offsets], tasks)
        mean = sum(per_task.values()) / len(tasks)
        rows.append((label, mean, per_task))
        print(f"[r1] {label}: {mean:.1%}", flush=True)

    seeds = ", ".join(f"{o}..{o + a.eval_seeds - 1}" for o in offsets)
    lines = [f"Tasks: {len(tasks)}; held-out seeds {seeds} ({a.eval_seeds * len(offsets)} a task); "
             f"max {MAX_STEPS} steps; training budget {a.minutes:g} min per arm, arms run side by side on 2 cores.", "",
             "| run | mean success | " + " | ".join(tasks) + " |", "|---|---|" + "---|" * len(tasks)]
    for label, mean, per_task in rows:
        cells = " | ".join(f"{per_task[t]:.0%}" for t in tasks)
        lines.append(f"| {label} | **{mean:.1%}** | {cells} |")
    (out / "table.md").write_text("\n".join(lines) + "\n")
    plot([(label.split(" (")[0], mean) for label, mean, _ in rows], out / "r1.png")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
