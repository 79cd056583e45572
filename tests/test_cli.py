"""The screenwise command line, run as a user runs it."""

from __future__ import annotations

import subprocess
import sys


def screenwise(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], capture_output=True, text=True, timeout=timeout)


def test_run_streams_thoughts_and_actions_then_prints_the_viewer(tmp_path):
    done = screenwise("run", "--task", "login-user", "--seed", "12", "--model", "teacher", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.index("Task: Enter the username") < out.index("[step 0] Thought:") < out.index("Result: done")
    assert "Action: type(start_box=" in out and f"viewer: {tmp_path}/index.html" in out
    again = screenwise("view", str(tmp_path))
    assert again.returncode == 0 and again.stdout.strip().endswith("index.html")


def test_run_against_an_unreachable_server_fails_clearly(tmp_path):
    done = screenwise("run", "--task", "click-test", "--model", "http://127.0.0.1:9/v1#m", "--out", str(tmp_path))
    assert done.returncode != 0
    assert "unreachable" in done.stderr


def test_tasks_lists_suites():
    assert len(screenwise("tasks", "all").stdout.split()) == 125
    assert len(screenwise("tasks", "webgum56").stdout.split()) == 56
    assert "form-save" in screenwise("tasks", "desktop").stdout.split()


def test_run_prompts_the_embedded_model_as_its_card_asks(tmp_path):
    """`screenwise run --model embedded` gives the model the compact prompt, the element list and the `Named in the
    task:` line it was trained on (its screenwise.json), not UI-TARS's prompt."""
    import json

    done = screenwise("run", "--task", "click-button", "--seed", "5000", "--model", "embedded", "--max-steps", "3",
                      "--out", str(tmp_path))
    assert "[step 0] Thought:" in done.stdout, done.stderr[-2000:]
    assert "Action: click(element=" in done.stdout
    first = [json.loads(line) for line in (tmp_path / "episode.jsonl").read_text().splitlines()
             if json.loads(line).get("type") == "step"][0]
    prompt = json.dumps(first["prompt"])
    assert "Elements:" in prompt and "Named in the task:" in prompt
