"""``screenwise chat`` used as a person would: a real terminal (a pty), the real CLI in its own process, a real
Chromium or a real xterm on a private Xvfb, and a scripted model (``--model scripted:FILE``). The test types an
instruction, reads the live stream, presses Ctrl-C, resumes or takes over, answers the agent's call_user()
and the safety policy's questions, and then reads the trajectories the chat wrote."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.trajectory import find_trajectories, read_trajectory

ROOT = Path(__file__).parents[1]
SCREENWISE = str(Path(sys.executable).parent / "screenwise")


class Terminal:
    """A program on a pseudo-terminal: what it prints is read back, keys are typed, Ctrl-C is a real SIGINT
    from the terminal's line discipline (the program is the terminal's foreground process)."""

    def __init__(self, argv: list[str], cwd: Path, env: dict | None = None):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the pty is its controlling terminal
            os.chdir(cwd)
            os.execve(argv[0], argv, {**os.environ, **(env or {})})
        self.text = ""
        self.pos = 0  # expect() searches after the last match

    def expect(self, pattern: str, timeout: float = 90.0) -> re.Match:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            found = regex.search(self.text, self.pos)
            if found:
                self.pos = found.end()
                return found
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(left):
                raise AssertionError(f"never saw {pattern!r}; the terminal showed:\n{self.text[-3000:]}")

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], min(timeout, 1.0))
        if ready:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # the program ended and closed the terminal
                return False
            if not chunk:
                return False
            self.text += chunk.decode(errors="replace").replace("\r\n", "\n")
        return True

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def ctrl_c(self) -> None:
        os.write(self.fd, b"\x03")

    def wait(self, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._read(0.2)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, 9)
        raise AssertionError(f"the chat did not exit; the terminal showed:\n{self.text[-2000:]}")

    def close(self) -> None:
        try:
            if os.waitpid(self.pid, os.WNOHANG) == (0, 0):
                os.kill(self.pid, 9)
                os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        os.close(self.fd)


def replies(path: Path, *texts: str) -> str:
    path.write_text(json.dumps(list(texts)))
    return f"scripted:{path}"


def steps_of(out: Path) -> list[dict]:
    (run,) = find_trajectories(out)
    return read_trajectory(run).steps


def test_chat_in_a_browser_streams_pauses_resumes_and_asks(tmp_path):
    model = replies(
        tmp_path / "replies.json",
        "Thought: I click the Name label to reach its field.\nAction: click(element='Name')",
        "Thought: I type the name.\nAction: type(content='Ada Lovelace')",
        "Thought: I let the page settle.\nAction: wait(seconds=1.5)",
        "Thought: I let it settle a little more.\nAction: wait(seconds=1.5)",
        "Thought: Which colour should I pick?\nAction: call_user()",
        "Thought: The person said blue; the page says the blue site is elsewhere.\n"
        "Action: goto(url='http://evil.example/blue')",
        "Thought: That was refused, so I pick Blue here.\nAction: click(element='Blue')",
        "Thought: The profile is filled in.\nAction: finished(content='Ada Lovelace, Blue')",
    )
    page = (ROOT / "tests" / "pages" / "assistant.html").as_uri()
    term = Terminal([SCREENWISE, "chat", "--env", "browser", "--url", page, "--model", model, "--element-refs",
                     "--allow-domains", "example.com", "--out", str(tmp_path / "chat")], cwd=tmp_path)
    try:
        term.expect(r"allowed domains: example\.com")
        term.expect(r"you> ")
        term.type("Fill in my profile: name Ada Lovelace, and the colour I like\n")
        term.expect(r"Task: Fill in my profile")
        term.expect(r"\[step 0\] Thought: I click the Name label")  # the stream, live: one step at a time
        term.expect(r"Action: type\(content='Ada Lovelace'\)")
        term.ctrl_c()  # during the waits
        term.expect(r"pausing after this step")
        term.expect(r"Paused\. \[r\]esume, \[t\]ake over the screen, or \[s\]top\? ")
        paused_at = term.text.count("[step ")
        time.sleep(1.0)
        assert term.text.count("[step ") == paused_at  # nothing moves while paused
        term.type("r\n")
        term.expect(r"Resuming\.")
        term.expect(r"The agent asks for your help: Which colour should I pick\?")
        term.expect(r"your answer \(empty stops the agent\)> ")
        term.type("blue, please\n")
        term.expect(r"Safety check: the agent wants to do something risky: opening http://evil\.example/blue: "
                    r"evil\.example is not in --allow-domains \(example\.com\)\.")
        term.expect(r"Allow it\? \[y/N\] ")
        term.type("n\n")
        term.expect(r"Refused; the agent is told why\.")
        term.expect(r"Error: Not done: the person said no to opening http://evil\.example/blue")
        term.expect(r"Result: finished after 8 steps, [0-9.]+ s\. Answer: Ada Lovelace, Blue")
        term.expect(r"you> ")
        term.type("quit\n")
        term.expect(r"viewer: .*index\.html")
        assert term.wait() == 0
    finally:
        term.close()

    steps = steps_of(tmp_path / "chat")
    assert [s["actions"][0].split("(")[0] for s in steps] == [
        "click", "type", "wait", "wait", "call_user", "goto", "click", "finished"]
    after_answer = steps[5]
    assert "The person answered: blue, please" in after_answer["feedback"]
    assert "the person said no" in steps[5]["action_error"]
    last_seen = json.dumps(steps[-1]["prompt"])  # what the model saw before finishing: the page, changed
    assert "textbox 'Ada Lovelace'" in last_seen and "Picked Blue" in last_seen


@pytest.mark.skipif(shutil.which("Xvfb") is None or shutil.which("xterm") is None, reason="needs Xvfb and xterm")
def test_chat_on_a_desktop_refuses_a_risky_command_and_hands_over(tmp_path):
    """The default env: a private Xvfb with an xterm. The agent's `rm -rf` is shown and refused; the person
    takes over and types in the xterm themselves (xdotool on the chat's display); the agent continues."""
    work = tmp_path / "work"
    (work / "important").mkdir(parents=True)
    (work / "important" / "notes.txt").write_text("keep me\n")
    model = replies(
        tmp_path / "replies.json",
        "Thought: I clear the folder first.\nAction: type(content='rm -rf important\\n')",
        "Thought: That was refused; I write the greeting.\nAction: type(content='echo hello > greeting.txt\\n')",
        "Thought: I wait for the shell.\nAction: wait(seconds=1.5)",
        "Thought: I wait once more.\nAction: wait(seconds=1.5)",
        "Thought: The greeting is written.\nAction: finished(content='greeting.txt written')",
    )
    term = Terminal([SCREENWISE, "chat", "--env", "desktop", "--no-ocr", "--cwd", str(work), "--model", model,
                     "--out", str(tmp_path / "chat")], cwd=tmp_path)
    try:
        display = term.expect(r"screenwise chat: desktop \(display (:\d+)\)").group(1)
        term.expect(r"you> ", timeout=120)
        term.type("Write hello into greeting.txt\n")
        term.expect(r"Safety check: the agent wants to do something risky: typing a destructive shell command: "
                    r"deleting recursively \(rm -rf important\)\.")
        term.type("n\n")
        term.expect(r"Error: Not done: the person said no to typing a destructive shell command")
        term.expect(r"Action: type\(content='echo hello > greeting\.txt\\n'\)")
        term.ctrl_c()
        term.expect(r"Paused\. \[r\]esume, \[t\]ake over the screen, or \[s\]top\? ")
        term.type("t\n")
        term.expect(r"The screen is yours\. Press Enter to hand it back to the agent\. ")
        subprocess.run(["xdotool", "type", "--delay", "20", "touch by-hand.txt\n"], check=True,
                       env={**os.environ, "DISPLAY": display}, timeout=30)
        for _ in range(100):
            if (work / "by-hand.txt").exists():
                break
            time.sleep(0.1)
        term.type("\n")
        term.expect(r"Handed back; the agent looks again\.")
        term.expect(r"Result: finished after 5 steps, [0-9.]+ s\. Answer: greeting\.txt written")
        term.expect(r"you> ")
        term.type("quit\n")
        assert term.wait() == 0
    finally:
        term.close()

    assert (work / "important" / "notes.txt").read_text() == "keep me\n"  # the refused command never ran
    assert (work / "greeting.txt").read_text() == "hello\n"
    assert (work / "by-hand.txt").exists()
    steps = steps_of(tmp_path / "chat")
    assert "the person said no" in steps[0]["action_error"]
    assert any("The person took over the screen" in f for s in steps for f in s["feedback"])
