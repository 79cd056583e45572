"""Held-out success tables from `screenwise bench` output directories: one row per (checkpoint, seed set), then
one pooled row per checkpoint (episodes summed over its sets), as the README's GRPO tables print them.

    .venv/bin/python benchmarks/success_table.py "start=runs/s13/bench-start-{}" "final=runs/s13/bench-final-{}" \
        --sets 17000,18000,19000 [--png docs/results/s13.png]

Each ``LABEL=PATTERN`` names a checkpoint; ``{}`` in the pattern is replaced by each seed offset of ``--sets``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def load(pattern: str, offsets: list[str]) -> dict[str, dict]:
    """Each seed set's bench summary.json, keyed by its offset."""
    return {o: json.loads((Path(pattern.format(o)) / "summary.json").read_text()) for o in offsets}


def pooled(summaries: list[dict]) -> dict[str, float]:
    """Per-task success over all the sets' episodes, and the mean over tasks as ``mean``."""
    tasks = sorted(summaries[0]["per_task"])
    rates = {}
    for t in tasks:
        n = sum(s["per_task"][t]["episodes"] for s in summaries)
        rates[t] = sum(s["per_task"][t]["success"] * s["per_task"][t]["episodes"] for s in summaries) / n
    rates["mean"] = sum(rates[t] for t in tasks) / len(tasks)
    return rates


def row(label: str, seeds: str, summaries: list[dict], tasks: list[str]) -> str:
    r = pooled(summaries)
    return f"| {label} | {seeds} | **{r['mean']:.1%}** | " + " | ".join(f"{r[t]:.0%}" for t in tasks) + " |"


def table(rows: dict[str, dict[str, dict]], offsets: list[str]) -> str:
    tasks = sorted(next(iter(rows.values()))[offsets[0]]["per_task"])
    head = "| checkpoint | seeds | mean | " + " | ".join(tasks) + " |\n|" + "---|" * (len(tasks) + 3) + "\n"
    lines = [row(label, "{}–{}".format(*s["seeds"]), [s], tasks) for label, sets in rows.items() for s in sets.values()]
    lines += [row(label, f"pooled, {sum(s['episodes'] for s in sets.values())} episodes", list(sets.values()), tasks)
              for label, sets in rows.items()]
    return head + "\n".join(lines) + "\n"


def plot(rows: dict[str, dict[str, dict]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rates = {label: pooled(list(sets.values())) for label, sets in rows.items()}
    tasks = [t for t in next(iter(rates.values())) if t != "mean"] + ["mean"]
    fig, ax = plt.subplots(figsize=(12, 4))
    width = 0.8 / len(rates)
    for i, (label, r) in enumerate(rates.items()):
        ax.bar([x + i * width for x in range(len(tasks))], [100 * r[t] for t in tasks], width, label=label)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(tasks))], tasks, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("held-out success, pooled (%)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", help="LABEL=PATTERN, {} standing for the seed offset")
    ap.add_argument("--sets", required=True, help="seed offsets, comma-separated")
    ap.add_argument("--png", default="")
    args = ap.parse_args()
    offsets = args.sets.split(",")
    rows = {label: load(pattern, offsets) for label, pattern in (r.split("=", 1) for r in args.runs)}
    print(table(rows, offsets), end="")
    if args.png:
        plot(rows, Path(args.png))


if __name__ == "__main__":
    main()
