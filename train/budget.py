"""GRPO's wall-clock budget (``--minutes``): the seconds that count, and whether another iteration still fits.

Rollouts, updates and distillation steps count; evaluations do not. A rerun counts what the metrics it resumes
from already spent, so a budget survives a kill. With ``--distill-last`` the RL stops early enough to leave the
consolidation steps their time, timed at the pace of the distillation steps logged so far.
"""

from __future__ import annotations


def iteration_seconds(m: dict) -> float:
    """The training seconds an iteration's metrics record counts (0 for an evaluation-only record)."""
    return m.get("rollout_s", 0) + m.get("update_s", 0) + m.get("distill_s", 0)


def budget_left_after(metrics: list[dict], seconds: float, args) -> bool:
    """Whether the wall-clock budget outlasts the iterations logged so far plus ``seconds`` (and, while the
    ``distill_last`` steps are still to come, the time they will take)."""
    spent = sum(iteration_seconds(m) for m in metrics) + seconds + last_stage_seconds(metrics, args)
    return not args.minutes or spent < 60 * args.minutes


def next_iteration_fits(metrics: list[dict], args) -> bool:
    """Whether an iteration as long as the last logged one still ends inside the budget."""
    timed = [iteration_seconds(m) for m in metrics if iteration_seconds(m)]
    return budget_left_after(metrics, timed[-1] if timed else 0.0, args)


def last_stage_seconds(metrics: list[dict], args) -> float:
    """What the ``distill_last`` steps will take, at the pace of the distillation steps logged so far (0 once done,
    or before any was timed)."""
    if not args.distill_last or any("distill_last" in m for m in metrics):
        return 0.0
    timed = [(m["distill_s"], m.get("distill_first") or args.distill_steps) for m in metrics if m.get("distill_s")]
    return args.distill_last * sum(s for s, _ in timed) / max(1, sum(n for _, n in timed)) if timed else 0.0
