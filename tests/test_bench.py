"""The benchmark harness: results format, resume, a killed Chromium, a killed run, and Ray."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from agent.bench import BenchConfig, read_results, run_bench

TASKS = "click-test,click-button,focus-text"


def bench_cmd(out: Path, seeds: int, workers: int = 2, extra=()) -> list[str]:
    return [sys.executable, "-m", "agent.cli", "bench", "miniwob", "--policy", "teacher", "--tasks", TASKS,
            "--seeds", str(seeds), "--seed-offset", "500", "--workers", str(workers), "--out", str(out),
            "--quiet", *extra]


def browser_pids(tag: str) -> list[int]:
    """Main Chromium processes started with this tag (see Browser.marker)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(c.startswith(f"--screenwise-browser={tag}".encode()) for c in cmd) \
                    and not any(c.startswith(b"--type=") for c in cmd):
                pids.append(int(proc.name))
    return pids


def wait_for_lines(path: Path, n: int, proc, timeout: float = 120) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if path.exists() and len(path.read_text().splitlines()) >= n:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} results after {timeout}s")


def assert_exact_records(out: Path, seeds: int) -> list[dict]:
    records = read_results(out / "results.jsonl")
    keys = [(r["task"], r["seed"]) for r in records]
    assert len(keys) == len(set(keys)), "a result was counted twice"
    assert set(keys) == {(t, s) for t in TASKS.split(",") for s in range(500, 500 + seeds)}
    for r in records:
        assert set(r) >= {"task", "seed", "success", "reward", "steps", "seconds", "error"}
    return records


def test_results_summary_and_resume(tmp_path):
    cfg = BenchConfig(tasks="click-test,focus-text", seeds=3, seed_offset=100, workers=2, out=str(tmp_path),
                      quiet=True)
    summary = run_bench(cfg)
    assert summary["episodes"] == 6 and summary["new_episodes"] == 6 and summary["mean_success"] == 1.0
    assert (tmp_path / "success.png").stat().st_size > 1000
    assert json.loads((tmp_path / "summary.json").read_text())["per_task"]["focus-text"]["episodes"] == 3
    again = run_bench(cfg)  # everything is done already: nothing reruns
    assert again["new_episodes"] == 0 and again["episodes"] == 6
    more = run_bench(BenchConfig(**{**cfg.__dict__, "seeds": 4}))
    assert more["new_episodes"] == 2 and more["episodes"] == 8
    with pytest.raises(SystemExit, match="other settings"):
        run_bench(BenchConfig(**{**cfg.__dict__, "policy": "random"}))


def test_torn_last_line_is_dropped(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text('{"task": "a", "seed": 1}\n{"task": "a", "se')
    assert read_results(path) == [{"task": "a", "seed": 1}]
    assert path.read_text() == '{"task": "a", "seed": 1}\n'


def test_random_policy_runs_and_fails_honestly(tmp_path):
    s = run_bench(BenchConfig(policy="random", tasks="click-button", seeds=4, out=str(tmp_path), quiet=True,
                              max_steps=3))
    assert s["episodes"] == 4 and s["errors"] == 0 and s["mean_success"] < 1.0


def test_chromium_killed_mid_run(tmp_path):
    tag = uuid.uuid4().hex[:8]
    seeds = 30
    env = {**os.environ, "SCREENWISE_BROWSER_TAG": tag}
    proc = subprocess.Popen(bench_cmd(tmp_path, seeds), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wait_for_lines(tmp_path / "results.jsonl", 10, proc)
    pids = browser_pids(tag)
    assert pids, "no Chromium found for this run"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "Chromium died; relaunched it" in err
    records = assert_exact_records(tmp_path, seeds)
    assert sum(r["success"] for r in records) >= len(records) - 2  # at most the in-flight pair lost twice


def test_bench_process_killed_and_resumed(tmp_path):
    tag = uuid.uuid4().hex[:8]
    seeds = 30
    env = {**os.environ, "SCREENWISE_BROWSER_TAG": tag}
    proc = subprocess.Popen(bench_cmd(tmp_path, seeds), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wait_for_lines(tmp_path / "results.jsonl", 15, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = len(read_results(tmp_path / "results.jsonl"))
    assert 15 <= first < 3 * seeds
    for pid in browser_pids(tag):  # orphans of the killed run, if the driver did not take them down
        os.kill(pid, signal.SIGKILL)
    done = subprocess.run(bench_cmd(tmp_path, seeds), env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{3 * seeds - first} new episodes" in done.stdout
    assert_exact_records(tmp_path, seeds)


def test_bench_on_local_ray(tmp_path):
    pytest.importorskip("ray")
    done = subprocess.run(bench_cmd(tmp_path, 3, workers=2, extra=["--ray"]), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    records = assert_exact_records(tmp_path, 3)
    assert all(r["success"] for r in records)
