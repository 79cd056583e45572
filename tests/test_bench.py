"""The benchmark harness: results format, resume, a killed Chromium, a killed run, and Ray."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from agent.bench import BenchConfig, is_infrastructure_error, read_results, run_bench

TASKS = "click-test,click-button,focus-text"


def bench_cmd(out: Path, seeds: int, workers: int = 2, extra=(), policy: str = "teacher", tasks: str = TASKS) -> list[str]:
    return [sys.executable, "-m", "apps.cli", "bench", "miniwob", "--policy", policy, "--tasks", tasks,
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


def assert_exact_records(out: Path, seeds: int, tasks: str = TASKS) -> list[dict]:
    """Exactly tasks x seeds records, none twice, none left with an infrastructure error."""
    records = read_results(out / "results.jsonl")
    keys = [(r["task"], r["seed"]) for r in records]
    assert len(keys) == len(set(keys)), "a result was counted twice"
    assert set(keys) == {(t, s) for t in tasks.split(",") for s in range(500, 500 + seeds)}
    for r in records:
        assert set(r) >= {"task", "seed", "success", "reward", "steps", "seconds", "error"}
    assert [r for r in records if is_infrastructure_error(r)] == []
    return records


def line_count(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def infrastructure_errors(out: Path) -> int:
    return sum(is_infrastructure_error(r) for r in read_results(out / "results.jsonl"))


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


def test_chromium_killed_ten_times_then_resumed(tmp_path):
    """Chromium is SIGKILLed ten times under a running bench. The run goes on (relaunching it); an episode that
    lost its browser twice is recorded as an infrastructure error, which the resumed run plays again."""
    tag = uuid.uuid4().hex[:8]
    seeds = 40
    env = {**os.environ, "SCREENWISE_BROWSER_TAG": tag}
    results = tmp_path / "results.jsonl"
    proc = subprocess.Popen(bench_cmd(tmp_path, seeds), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    kills, at = 0, 0
    while kills < 10 and proc.poll() is None:
        if line_count(results) >= at + 3:  # a few episodes ran on the relaunched browser since the last kill
            pids = browser_pids(tag)
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
            kills += bool(pids)
            at = line_count(results)
        time.sleep(0.05)
    out, err = proc.communicate(timeout=300)
    lost = infrastructure_errors(tmp_path)
    assert kills == 10 and proc.returncode == (1 if lost else 0), err[-3000:]  # lost episodes fail the run
    assert err.count("Chromium died; relaunched it") >= 5  # kills close together are noticed as one
    done = subprocess.run(bench_cmd(tmp_path, seeds), env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (f"{lost} new episodes" in done.stdout) if lost else "new episodes" not in done.stdout
    records = assert_exact_records(tmp_path, seeds)
    assert all(r["success"] for r in records)


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


def ray_actor_pids() -> list[int]:
    """Processes of this machine's Ray actors that run bench episodes (Ray names them after the class)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if cmd.startswith(b"ray::EpisodeActor"):
                pids.append(int(proc.name))
    return pids


def test_ray_actor_killed_then_resumed(tmp_path):
    """A Ray actor is SIGKILLed mid-run: a fresh actor takes over and retries its episodes; a resumed run would
    play any episode still lost; the records come out exact."""
    pytest.importorskip("ray")
    tag = uuid.uuid4().hex[:8]
    env = {**os.environ, "SCREENWISE_BROWSER_TAG": tag}
    seeds = 6
    proc = subprocess.Popen(bench_cmd(tmp_path, seeds, extra=["--ray"]), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wait_for_lines(tmp_path / "results.jsonl", 2, proc)
    victims = ray_actor_pids()
    assert victims, "no Ray actor process found"
    os.kill(victims[0], signal.SIGKILL)
    out, err = proc.communicate(timeout=300)
    lost = infrastructure_errors(tmp_path)
    assert proc.returncode == (1 if lost else 0), err[-3000:]  # an episode lost twice fails the run
    for pid in browser_pids(tag):  # the killed actor's Chromium, orphaned
        os.kill(pid, signal.SIGKILL)
    if lost:
        done = subprocess.run(bench_cmd(tmp_path, seeds, extra=["--ray"]), env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
    records = assert_exact_records(tmp_path, seeds)
    assert all(r["success"] for r in records)


CLICK_REPLY = "Thought: Click the button.\nAction: click(element='Click Me!')"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_model_server(replies: Path, port: int) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-m", "apps.cli", "serve", "--model", f"scripted:{replies}",
                               "--port", str(port), "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            assert server.poll() is None, server.communicate()
            time.sleep(0.05)
    raise AssertionError("the model server did not start")


def test_model_server_stopped_mid_run_then_resumed(tmp_path):
    """The model server (screenwise serve, a real process) is killed mid-run. Its episodes are recorded as
    infrastructure errors and played again by the resumed run once it is back; the episodes the model itself
    failed (it clicks a button focus-text does not have) are kept, not retried."""
    replies = tmp_path / "replies.json"
    replies.write_text(json.dumps([CLICK_REPLY]))
    port, out, seeds, tasks = free_port(), tmp_path / "run", 3, "focus-text,click-test"
    command = bench_cmd(out, seeds, workers=1, policy=f"http://127.0.0.1:{port}/v1", tasks=tasks,
                        extra=["--max-steps", "2"])
    server = start_model_server(replies, port)
    try:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for_lines(out / "results.jsonl", seeds + 1, proc)  # the model's own failures, then a success
        server.kill()
        server.wait()
        _, err = proc.communicate(timeout=300)
        first = read_results(out / "results.jsonl")
        lost = [r for r in first if is_infrastructure_error(r)]
        assert proc.returncode == 1 and f"{len(lost)} of them infrastructure" in err, err[-3000:]  # lost: say so
        assert lost and all("model server" in r["error"] for r in lost)
        failed_by_model = [r for r in first if r["task"] == "focus-text"]
        assert len(failed_by_model) == seeds and not any(r["success"] or r["error"] for r in failed_by_model)
        server = start_model_server(replies, port)
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        assert f"{len(lost)} new episodes" in done.stdout  # only the lost ones ran again
    finally:
        server.kill()
        server.wait()
    records = assert_exact_records(out, seeds, tasks)
    assert [r for r in records if r["task"] == "focus-text"] == failed_by_model
    assert all(r["success"] for r in records if r["task"] == "click-test")
