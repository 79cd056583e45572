"""The screenwise command line, run as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def screenwise(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "apps.cli", *args], capture_output=True, text=True, timeout=timeout)


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


# Bad input to every subcommand: (arguments, exit code, words the one line must hold). 2: the command line is
# wrong; 1: the input is right but the run failed. "{tmp}" is the test's own folder.
BAD_INPUT = [
    ([], 2, "required: command"),
    (["bogus"], 2, "invalid choice"),
    (["tasks", "bogus"], 2, "unknown MiniWoB task(s): bogus"),
    (["view", "{tmp}/missing"], 2, "no such run directory"),
    (["serve", "--model", "bogus"], 2, "unknown model spec"),
    (["serve", "--port", "70000"], 2, "not a port"),
    (["serve", "--replicas", "0"], 2, "--replicas"),
    (["run"], 2, "exactly one of --url URL or --task"),
    (["run", "--url", "file:///x", "--task", "click-test"], 2, "exactly one of --url URL or --task"),
    (["run", "--task", "bogus"], 2, "no MiniWoB task 'bogus'"),
    (["run", "--task", "click-test", "--viewport", "big"], 2, "not WIDTHxHEIGHT"),
    (["run", "--task", "click-test", "--secrets", "{tmp}/missing.json"], 2, "cannot read the secrets file"),
    (["run", "--task", "click-test", "--secrets", "{tmp}/not-json.json"], 2, "cannot read the secrets file"),
    (["run", "--task", "click-test", "--max-steps", "many"], 2, "invalid int value"),
    (["bench", "webarena"], 2, "invalid choice"),
    (["bench", "miniwob", "--tasks", "bogus", "--out", "{tmp}/b"], 2, "unknown task(s): bogus"),
    (["bench", "miniwob", "--task-dir", "{tmp}/missing", "--out", "{tmp}/b"], 2, "no such directory"),
    (["bench", "miniwob", "--task-dir", "{tmp}", "--out", "{tmp}/b"], 2, "no .html task pages"),
    (["bench", "miniwob", "--task-dir", "envs/tasks/examples", "--tasks", "nope", "--out", "{tmp}/b"], 2,
     "no page(s) nope"),
    (["bench", "miniwob", "--seeds", "0", "--out", "{tmp}/b"], 2, "--seeds must be at least 1"),
    (["bench", "miniwob", "--policy", "bogus", "--tasks", "click-test", "--out", "{tmp}/b"], 2, "unknown model spec"),
    (["bench", "desktop", "--tasks", "bogus", "--out", "{tmp}/b"], 2, "unknown desktop task(s): bogus"),
    (["bench", "desktop", "--task-dir", "envs/tasks/examples", "--out", "{tmp}/b"], 2, "miniwob suite"),
    (["chat", "--model", "bogus", "--env", "browser"], 2, "unknown model spec"),
    (["chat", "--env", "browser", "--secrets", "{tmp}/missing.json"], 2, "cannot read the secrets file"),
    (["chat", "--viewport", "3"], 2, "not WIDTHxHEIGHT"),
    (["ui", "--env", "bogus"], 2, "invalid choice"),
    (["ui", "--port", "-1"], 2, "not a port"),
    (["train", "bogus"], 2, "invalid choice"),
    (["train", "grpo", "--bogus"], 2, "unrecognized arguments: --bogus"),
    (["train", "grpo", "--iters", "ten"], 2, "invalid int value"),
    (["train", "grpo", "--out", "{tmp}/g"], 1, "no checkpoint in"),
    (["train", "sft", "--lr", "fast"], 2, "invalid float value"),
    (["train", "recipe", "--bogus"], 2, "unrecognized arguments: --bogus"),
    (["train", "dagger"], 2, "required: --student, --out"),
]


@pytest.mark.parametrize("args, code, words", BAD_INPUT, ids=[" ".join(a) or "(none)" for a, _, _ in BAD_INPUT])
def test_bad_input_says_one_line_and_exits_nonzero(tmp_path, args, code, words):
    (tmp_path / "not-json.json").write_text("{'single': 'quotes'}")
    done = screenwise(*[a.replace("{tmp}", str(tmp_path)) for a in args], timeout=120)
    lines = done.stderr.splitlines()
    assert done.returncode == code, done.stderr
    assert len(lines) == 1 and lines[0].strip(), done.stderr  # one line, and nothing else around it
    assert words in lines[0] and "Traceback" not in done.stderr


def test_version_is_the_package_version():
    from importlib.metadata import version

    done = screenwise("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"screenwise {version('screenwise')}"


def test_bench_runs_every_page_of_a_task_dir_by_default(tmp_path):
    """The command envs/README.md shows: no --tasks, so every page of the directory runs."""
    done = screenwise("bench", "miniwob", "--task-dir", "envs/tasks/examples", "--policy", "random", "--seeds", "2",
                      "--quiet", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["tasks"] == 1 and summary["episodes"] == 2 and summary["errors"] == 0


def test_bench_exits_1_when_an_episode_errored(tmp_path):
    """A page with no MiniWoB task in it cannot start an episode: the run records the error and fails."""
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "blank.html").write_text("<html><body>no task here</body></html>")
    done = screenwise("bench", "miniwob", "--task-dir", str(pages), "--policy", "random", "--seeds", "1", "--quiet",
                      "--out", str(tmp_path / "out"))
    assert done.returncode == 1
    assert "blank" in done.stdout  # the table still shows the run
    assert done.stderr.strip().splitlines() == [
        f"screenwise bench: 1 of 1 episodes ended in an error; see {tmp_path}/out/results.jsonl"]


def test_bench_exits_1_when_the_selection_is_empty(tmp_path):
    """A model policy plays only pages with a teacher; the example page has none, so nothing would run."""
    done = screenwise("bench", "miniwob", "--task-dir", "envs/tasks/examples", "--policy", "teacher:student",
                      "--seeds", "1", "--quiet", "--out", str(tmp_path))
    assert done.returncode == 1
    assert "no task to run" in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("stage", ["grpo", "sft"])
def test_train_help_explains_every_flag(stage):
    done = screenwise("train", stage, "--help")
    assert done.returncode == 0, done.stderr
    # argparse puts a flag's help on its line, or on the next when the flag is long; a bare flag has neither
    lines = done.stdout.split("options:")[1].splitlines()
    flags = [i for i, line in enumerate(lines) if line.startswith("  -")]
    assert len(flags) > 20
    for i in flags:
        flag, _, rest = lines[i].strip().partition("  ")
        assert rest.strip() or not lines[i + 1].strip().startswith("-"), f"{flag} has no help"
