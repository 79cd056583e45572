"""Every demo runs offline, end to end, as a user would start it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def run(args, **kw):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600, **kw)


def test_web_form_demo(tmp_path):
    done = run(["demos/web_form.py", "--out", str(tmp_path)])
    # the demo exits 1 when the model does not log in: the shipped model does, on the demo's seed
    assert done.returncode == 0 and "status=done success=True" in done.stdout, done.stdout[-2000:] + done.stderr
    assert "Task: Enter the username" in done.stdout and "[step 0]" in done.stdout
    # the live stream: whatever the embedded model writes, each step shows its thought or why it did not parse
    assert "Thought:" in done.stdout and "Action:" in done.stdout
    assert (tmp_path / "episode.jsonl").exists()


def test_benchmark_demo(tmp_path):
    done = run(["demos/benchmark.py", "--seeds", "1", "--out", str(tmp_path)])
    assert done.returncode == 0, done.stderr
    assert "mean success" in done.stdout and (tmp_path / "success.png").exists()


def test_step_confirm_demo_asks_before_each_action():
    # the teacher as the model: what the person refuses must come back as feedback, which a weaker model's next
    # reply could hide behind a parse error of its own
    done = run(["demos/step_confirm.py", "--task", "click-test", "--seed", "3", "--model", "teacher"],
               input="n\ny\ny\ny\ny\n")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr  # refused once, then the task is done
    assert "? [y/n/q]" in done.stdout
    assert "Feedback: Your action was not carried out: the person refused this action" in done.stdout
    stopped = run(["demos/step_confirm.py", "--task", "click-test"], input="q\n")
    assert "stopped by the person" in stopped.stdout and stopped.returncode == 1


def test_main_demo_runs_and_prints_the_table(tmp_path):
    done = run(["demos/demo.py", "--seeds", "1", "--out", str(tmp_path)])
    assert done.returncode == 0, done.stderr
    assert "success:" in done.stdout and "viewer:" in done.stdout and (tmp_path / "index.html").exists()
