"""Evaluation during training: greedy success in the env, through agent.bench as users run it.

SFT (train/sft.py) measures held-out seeds every ``eval_every`` steps. GRPO (train/grpo.py) measures held-out seeds
(``eval_*``, far from the training seeds) before training, every ``eval_every`` iterations and at the end, and with
``val_*`` validation seeds of their own, which choose the checkpoint kept in ``out/best``; the held-out seeds
never choose anything, and at the end they measure the chosen checkpoint beside the last one.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from agent.bench import BenchConfig, run_bench


def bench_success(checkpoint: Path, out: Path, split: str = "eval", **bench) -> dict:
    """``{split}_success`` and ``{split}_per_task`` of ``hf:checkpoint`` on the bench episodes ``bench`` names
    (BenchConfig's fields: tasks, seeds, seed_offset, ...), with the episodes written under ``out``."""
    summary = run_bench(BenchConfig(policy=f"hf:{checkpoint}", out=str(out), quiet=True, **bench))
    return {f"{split}_success": summary["mean_success"],
            f"{split}_per_task": {k: v["success"] for k, v in summary["per_task"].items()}}


# -- GRPO's held-out and validation seeds ------------------------------------------------------------------------

@dataclass
class EvalArgs:
    eval_seeds: int = 0
    """Held-out episodes per eval task before training and at the end (0: no evaluation)."""
    eval_every: int = 0
    """Iterations between held-out evaluations (0: only before and at the end)."""
    eval_tasks: str = ""
    """Tasks for evaluation ('' : the training tasks)."""
    eval_seed_offset: int = 100_000
    """First held-out evaluation seed."""
    val_seeds: int = 0
    """Validation episodes per eval task, before training and every ``val_every`` iterations, on seeds of their
    own (``val_seed_offset``). The best checkpoint on them is kept in out/best, and the final held-out evaluation
    measures it as well as the last one (0: no validation; the held-out figure is then the last checkpoint's)."""
    val_every: int = 10
    """Iterations between validations (with ``val_seeds``)."""
    val_seed_offset: int = 50_000
    """First validation seed."""


def evaluate(args, checkpoint: Path, tag: str, split: str = "eval") -> dict:
    """Greedy success through agent.bench, as users run it: on the held-out seeds (``split`` "eval", far from the
    training seeds) or on the validation seeds ("val") that choose out/best. ``args`` is train/grpo.py's Args."""
    seeds, offset = (args.val_seeds, args.val_seed_offset) if split == "val" else (args.eval_seeds,
                                                                                     args.eval_seed_offset)
    return bench_success(checkpoint, Path(args.out) / split / tag, split, tasks=args.eval_tasks or args.tasks,
                         seeds=seeds, seed_offset=offset, max_steps=args.max_steps, workers=args.workers)


def keep_if_best(metrics: list[dict], record: dict, checkpoint: Path, best: Path) -> bool:
    """Copy ``checkpoint`` to ``best`` when ``record``'s validation success beats every earlier one (the first
    validation, before training, always sets it)."""
    earlier = [m["val_success"] for m in metrics if "val_success" in m]
    if earlier and record["val_success"] <= max(earlier):
        return False
    shutil.copytree(checkpoint, best, dirs_exist_ok=True)
    (best / "iteration.json").write_text(json.dumps({"iteration": record["iteration"],
                                                     "val_success": record["val_success"]}))
    return True


def before_training(args, metrics: list[dict]) -> dict:
    """The held-out and validation figures of the starting checkpoint (the first ``best``): iteration 0's record."""
    checkpoint, record = Path(args.out) / "checkpoint", {"iteration": 0}
    if args.eval_seeds:
        record.update(evaluate(args, checkpoint, "before"))
        print(f"before training: held-out success {record['eval_success']:.1%}", flush=True)
    if args.val_seeds:
        record.update(evaluate(args, checkpoint, "before", "val"))
        keep_if_best(metrics, record, checkpoint, Path(args.out) / "best")
        print(f"before training: validation success {record['val_success']:.1%}", flush=True)
    return record


def after_iteration(args, record: dict, metrics: list[dict], last: bool) -> None:
    """Validation every ``val_every`` iterations and held-out evaluation every ``eval_every``, both after the last
    one, added to the iteration's ``record``; at the end the held-out seeds also measure the checkpoint that
    validation chose, where it is not the last one."""
    out, iteration = Path(args.out), record["iteration"]
    checkpoint, best = out / "checkpoint", out / "best"
    if args.val_seeds and (iteration % args.val_every == 0 or last):
        record.update(evaluate(args, checkpoint, f"iter{iteration:05d}", "val"))
        record["best"] = keep_if_best(metrics, record, checkpoint, best)
    if args.eval_seeds and ((args.eval_every and iteration % args.eval_every == 0) or last):
        record.update(evaluate(args, checkpoint, f"iter{iteration:05d}"))
        if last and args.val_seeds and not record["best"]:  # the checkpoint validation chose
            chosen = json.loads((best / "iteration.json").read_text())["iteration"]
            held = evaluate(args, best, f"best-iter{chosen:05d}")
            record.update({"best_iteration": chosen, "best_eval_success": held["eval_success"],
                           "best_eval_per_task": held["eval_per_task"]})


def summary_text(record: dict) -> str:
    """The evaluation figures of an iteration's log line (empty when it had none)."""
    return ((f"; validation {record['val_success']:.1%}" if "val_success" in record else "")
            + (f"; held-out success {record['eval_success']:.1%}" if "eval_success" in record else "")
            + (f"; best (iteration {record['best_iteration']}) held-out {record['best_eval_success']:.1%}"
               if "best_eval_success" in record else ""))
