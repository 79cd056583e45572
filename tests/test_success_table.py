"""benchmarks/success_table.py: pooled rows weigh every episode of every set, and the table prints them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def summary(offset: int, a: float, b: float, episodes: int = 20) -> dict:
    """What `screenwise bench` writes, cut to the fields the table reads."""
    return {"episodes": 2 * episodes, "seeds": [offset, offset + episodes - 1], "per_task": {"task-a": {"episodes": episodes, "success": a},
                                                   "task-b": {"episodes": episodes, "success": b}}}


def test_pooled_rows_and_the_table(tmp_path):
    for label, rates in (("start", [(0.5, 0.0), (0.0, 0.5)]), ("end", [(1.0, 0.5), (0.5, 0.5)])):
        for offset, (a, b) in zip((100, 200), rates):
            (tmp_path / f"{label}-{offset}").mkdir()
            (tmp_path / f"{label}-{offset}" / "summary.json").write_text(json.dumps(summary(offset, a, b)))
    done = subprocess.run([sys.executable, "benchmarks/success_table.py", f"start={tmp_path}/start-{{}}",
                           f"end={tmp_path}/end-{{}}", "--sets", "100,200", "--png", str(tmp_path / "t.png")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "| checkpoint | seeds | mean | task-a | task-b |"
    assert "| start | 100–119 | **25.0%** | 50% | 0% |" in lines
    assert "| end | 200–219 | **50.0%** | 50% | 50% |" in lines
    assert "| start | pooled, 80 episodes | **25.0%** | 25% | 25% |" in lines
    assert "| end | pooled, 80 episodes | **62.5%** | 75% | 50% |" in lines
    assert (tmp_path / "t.png").stat().st_size > 1000


def test_a_missing_bench_is_named(tmp_path):
    done = subprocess.run([sys.executable, "benchmarks/success_table.py", f"x={tmp_path}/none-{{}}", "--sets", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "none-1" in done.stderr
