"""The runs page's data: the run directories under a root, each with its status, read while runs are going.

A run directory is a benchmark (``results.jsonl``, ``plan.json``, ``summary.json``: agent/bench.py) or a set of
episodes (``episode.jsonl`` files: a chat, ``screenwise run``, the assistant). Nothing here writes to a run:
a results file still being appended to may end in a torn line, which is skipped, never cut (as the bench's
own resume does). The episode pages are the static viewer's (apps/viewer.py), rendered at each request, so a
page of a running episode shows every step written so far.

Status: ``finished`` (a benchmark's summary is newer than its results; every episode has its end line),
``running`` (written to in the last ``LIVE_SECONDS``, or the assistant's episode in progress), otherwise
``stopped`` (a benchmark that never wrote its summary) or ``incomplete`` (an episode with no end line).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from agent.bench import BenchConfig, summarize

LIVE_SECONDS = 60.0
"""A run written to this recently counts as running: the files do not say whether their writer is alive."""


def list_runs(root: Path, live: Path | None = None) -> list[dict]:
    """Every run directory directly under ``root``, newest first."""
    runs = []
    if not root.is_dir():
        return runs
    for d in sorted((p for p in root.iterdir() if p.is_dir()), key=_mtime, reverse=True):
        if (d / "results.jsonl").exists() or (d / "plan.json").exists():
            runs.append({"path": d.name, "kind": "bench", **bench_progress(d)})
        elif any(d.rglob("episode.jsonl")):
            runs.append({"path": d.name, "kind": "episodes", **episodes_status(d, live)})
    return runs


def run_detail(root: Path, rel: str, live: Path | None = None) -> dict:
    """One run: its status, the benchmark's per-task table so far, and its episodes with their pages."""
    root = root.resolve()  # the episodes' paths below are resolved ones
    d = inside(root, rel)
    detail = {"path": rel, **(bench_progress(d) if (d / "results.jsonl").exists() or (d / "plan.json").exists()
                               else episodes_status(d, live))}
    detail["episodes_list"] = [
        {"path": ep.parent.relative_to(root).as_posix(), "name": ep.parent.relative_to(d).as_posix() or ".",
         "status": _episode_state(ep, live)}
        for ep in sorted(d.rglob("episode.jsonl"), key=lambda p: [(not x.isdigit(), int(x) if x.isdigit() else x)
                                                                  for x in p.relative_to(d).parts])]
    return detail


def bench_progress(d: Path) -> dict:
    """A benchmark's progress: episodes done of those planned, success so far, and the per-task table."""
    plan = _json(d / "plan.json")
    config = _json(d / "config.json")
    records = results_so_far(d / "results.jsonl")
    if plan.get("tasks"):  # a resumed run with other seeds keeps its old lines; count the asked ones
        first, last = plan.get("seeds", [0, 0])
        asked = set(plan["tasks"])
        records = [r for r in records if r.get("task") in asked and first <= r.get("seed", -1) <= last]
    seeds = plan.get("seeds") or [0, 0]
    cfg = BenchConfig(policy=config.get("policy", "?"), max_steps=config.get("max_steps", 0),
                      seed_offset=seeds[0], seeds=seeds[1] - seeds[0] + 1)
    summary = summarize(records, cfg, new_episodes=0, seconds=0.0)
    results, done_file = d / "results.jsonl", d / "summary.json"
    finished = done_file.exists() and _mtime(done_file) >= max(_mtime(results), _mtime(d / "plan.json"))
    recent = time.time() - max(_mtime(results), _mtime(d / "plan.json")) < LIVE_SECONDS
    return {"status": "finished" if finished else "running" if recent else "stopped",
            "policy": cfg.policy, "done": len(records), "planned": plan.get("episodes"),
            "success": summary["episode_success"], "mean_success": summary["mean_success"],
            "per_task": summary["per_task"]}


def episodes_status(d: Path, live: Path | None) -> dict:
    states = [_episode_state(p, live) for p in d.rglob("episode.jsonl")]
    status = ("running" if "running" in states else "incomplete" if "incomplete" in states else "finished")
    return {"status": status, "episodes": len(states), "finished": states.count("finished")}


def results_so_far(path: Path) -> list[dict]:
    """The complete lines of a results file that may still be growing."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


def inside(root: Path, rel: str) -> Path:
    """``root/rel``, refusing anything that would step outside ``root`` (``..``, a link, an absolute path)."""
    path = (root / rel).resolve()
    if not path.is_relative_to(root.resolve()):
        raise FileNotFoundError(rel)
    return path


def _episode_state(path: Path, live: Path | None) -> str:
    if _has_end(path):
        return "finished"
    if live is not None and path.parent.resolve() == live.resolve() or time.time() - _mtime(path) < LIVE_SECONDS:
        return "running"
    return "incomplete"


def _has_end(path: Path) -> bool:
    """Whether the last line of an episode.jsonl is its end line (read from the tail: steps hold prompts)."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        f.seek(max(0, f.tell() - 65536))
        lines = f.read().rstrip(b"\n").rsplit(b"\n", 1)
    try:
        return json.loads(lines[-1]).get("type") == "end"
    except ValueError:
        return False


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
