"""The PNG learning curves written beside a run's metrics.jsonl: SFT's loss (``loss.png``), GRPO's reward and
success (``curve.png``), each with the held-out evaluations on top."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)


def plot_losses(metrics: list[dict], path: Path) -> None:
    """SFT: the training loss per step (log scale) and the held-out success on a second axis."""
    steps = [m["step"] for m in metrics if "loss" in m]
    losses = [m["loss"] for m in metrics if "loss" in m]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, losses, lw=0.8, label="train loss (reply tokens)")
    evals = [(m["step"], m["eval_success"]) for m in metrics if "eval_success" in m]
    if evals:
        ax2 = ax.twinx()
        ax2.plot(*zip(*evals), "o-", color="#d55", label="held-out success")
        ax2.set_ylim(0, 1)
        ax2.set_ylabel("success")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    fig.legend(loc="upper right", fontsize=8)
    _save(fig, path)


def plot_curve(metrics: list[dict], path: Path) -> None:
    """GRPO: mean reward and rollout success per iteration (with a running mean), held-out and validation success."""
    its = [m["iteration"] for m in metrics if "reward" in m]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(its, [m["reward"] for m in metrics if "reward" in m], "o-", ms=3, lw=1, label="mean reward")
    success = [m["success"] for m in metrics if "reward" in m]
    ax.plot(its, success, "s-", ms=3, lw=1, alpha=0.5, label="rollout success")
    k = 5  # iterations see different tasks in turn: a running mean shows the trend
    if len(success) >= 2 * k:
        ax.plot(its[k - 1:], [sum(success[i - k + 1:i + 1]) / k for i in range(k - 1, len(success))], "-", lw=2.2,
                color="#c60", label=f"rollout success, {k}-iteration mean")
    evals = [(m["iteration"], m["eval_success"]) for m in metrics if "eval_success" in m]
    if evals:
        ax.plot(*zip(*evals), "D--", color="#d55", label="held-out success")
    vals = [(m["iteration"], m["val_success"]) for m in metrics if "val_success" in m]
    if vals:
        ax.plot(*zip(*vals), "^:", color="#393", label="validation success")
    ax.set_xlabel("iteration")
    ax.set_ylabel("reward / success")
    ax.legend(fontsize=8)
    _save(fig, path)


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
