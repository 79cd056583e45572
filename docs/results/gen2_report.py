"""The size study's table and plot (docs/experiments.md, 2026-12-06), from the bench summaries and speed files.

    python docs/results/gen2_report.py            # writes docs/results/gen2_size_study.{md,png}

Per size: docs/results/gen2_<size>_all3_summary.json (all 125 tasks, report seeds 20000-20002) and
docs/results/gen2_<size>_speed.json (benchmarks/model_speed.py on that checkpoint, real replies, constrained) and
docs/results/gen2_<size>_train.json (the last line of its SFT metrics.jsonl: the steps the minutes allowed).
"""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).parent
SIZES = ["128x4", "192x6", "384x8"]
BUDGET_MS = 100.0


def row(size: str) -> dict:
    bench = json.loads((HERE / f"gen2_{size}_all3_summary.json").read_text())
    speed = json.loads((HERE / f"gen2_{size}_speed.json").read_text())
    trained = json.loads((HERE / f"gen2_{size}_train.json").read_text())
    return {"size": size, "params": speed["models"][0]["params"], "all": bench["mean_success"],
            "solved": sum(v["success"] > 0 for v in bench["per_task"].values()),
            "ms": speed["real_replies"]["constrained"]["decision_ms"]["median"], "steps": trained["step"]}


def main() -> None:
    rows = [row(s) for s in SIZES]
    lines = ["| size (hidden x layers) | parameters | SFT steps in the minutes | all 125 tasks, seeds 20000-20002 "
             "| tasks won at least once | median decision (ms) | within 100 ms |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['size']} | {r['params'] / 1e6:.2f}M | {r['steps']} | {r['all']:.1%} | {r['solved']} "
                     f"| {r['ms']:.0f} | {'yes' if r['ms'] <= BUDGET_MS else 'no'} |")
    (HERE / "gen2_size_study.md").write_text("\n".join(lines) + "\n")
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for r in rows:
        colour = "tab:green" if r["ms"] <= BUDGET_MS else "tab:red"
        ax.scatter(r["params"] / 1e6, 100 * r["all"], s=60, color=colour)
        ax.annotate(f"{r['size']}\n{r['ms']:.0f} ms", (r["params"] / 1e6, 100 * r["all"]),
                    textcoords="offset points", xytext=(6, 4), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("parameters (millions, log scale)")
    ax.set_ylabel("success, all 125 tasks (%)")
    ax.set_title("Same data, same minutes: success by size (green: decides in <= 100 ms)", fontsize=9)
    fig.tight_layout()
    fig.savefig(HERE / "gen2_size_study.png", dpi=120)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
