"""The size study's table and plot (docs/experiments.md, 2026-12-06), from its per-episode results and speed files.

    python docs/results/gen2_report.py            # writes docs/results/gen2_size_study.{md,png}

Per size: docs/results/gen2_<size>_results.jsonl (the bench's episodes on all 125 tasks: report seeds 20000-20002,
the 384x8 model seed 20000 only), docs/results/gen2_<size>_speed.json (benchmarks/model_speed.py on the
checkpoint: real replies, constrained) and docs/results/gen2_<size>_train.json (the last line of its SFT
metrics.jsonl: the steps its 50 minutes allowed).
"""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).parent
SIZES = ["128x4", "192x6", "384x8"]
BUDGET_MS = 100.0
SHARED_SEED = 20000  # the one seed every size was run on


def rate(episodes: list[dict]) -> float:
    return sum(bool(e["success"]) for e in episodes) / len(episodes)


def row(size: str) -> dict:
    episodes = [json.loads(line) for line in (HERE / f"gen2_{size}_results.jsonl").read_text().splitlines()]
    speed = json.loads((HERE / f"gen2_{size}_speed.json").read_text())
    trained = json.loads((HERE / f"gen2_{size}_train.json").read_text())
    seeds = sorted({e["seed"] for e in episodes})
    return {"size": size, "params": speed["models"][0]["params"], "steps": trained["step"],
            "shared": rate([e for e in episodes if e["seed"] == SHARED_SEED]),
            "all": rate(episodes), "seeds": f"{seeds[0]}-{seeds[-1]}" if len(seeds) > 1 else str(seeds[0]),
            "ms": speed["real_replies"]["constrained"]["decision_ms"]["median"]}


def main() -> None:
    rows = [row(s) for s in SIZES]
    lines = [f"| size (hidden x layers) | parameters | SFT steps in 50 min | all 125 tasks, seed {SHARED_SEED} "
             "| all 125 tasks, seeds run | median decision (ms) | within 100 ms |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['size']} | {r['params'] / 1e6:.2f}M | {r['steps']} | {r['shared']:.1%} "
                     f"| {r['all']:.1%} ({r['seeds']}) | {r['ms']:.0f} | {'yes' if r['ms'] <= BUDGET_MS else 'no'} |")
    (HERE / "gen2_size_study.md").write_text("\n".join(lines) + "\n")
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for r in rows:
        colour = "tab:green" if r["ms"] <= BUDGET_MS else "tab:red"
        ax.scatter(r["params"] / 1e6, 100 * r["shared"], s=60, color=colour)
        ax.annotate(f"{r['size']}: {r['steps']} steps\n{r['ms']:.0f} ms", (r["params"] / 1e6, 100 * r["shared"]),
                    textcoords="offset points", xytext=(6, 4), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("parameters (millions, log scale)")
    ax.set_ylabel(f"success, all 125 tasks, seed {SHARED_SEED} (%)")
    ax.set_title("Same data, same 50 minutes: success by size (green: decides in <= 100 ms)", fontsize=9)
    fig.tight_layout()
    fig.savefig(HERE / "gen2_size_study.png", dpi=120)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
