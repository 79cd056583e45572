"""Make docs/assistant.png: a real screenshot of ``screenwise chat`` driving a desktop.

A 1280x720 Xvfb holds two xterms: on the left, the person's terminal running
``screenwise chat --env desktop --display :N``; on the right, the xterm the agent works in. The person's keys
are typed with xdotool (the instruction, a "no" to a risky command, Ctrl-C and "resume"); the agent's model
is scripted (``assistant_replies.json``), so the picture is the same every run. mss takes the screenshot.

    .venv/bin/python docs/make_assistant_png.py [--out docs/assistant.png]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mss

from PIL import Image

from envs.desktop import Xvfb

ROOT = Path(__file__).resolve().parents[1]
SCREENWISE = Path(sys.executable).parent / "screenwise"

WORK_XTERM = ("xterm -geometry 64x22+732+40 -fa 'DejaVu Sans Mono' -fs 10 -bg white -fg black -T work "
              "-e bash --norc")
CHAT_XTERM = ["xterm", "-geometry", "88x44+6+6", "-fa", "DejaVu Sans Mono", "-fs", "9", "-bg", "#1d2430",
              "-fg", "#e8e8e8", "-T", "screenwise chat"]
PERSON = (330, 360)  # a point on the person's terminal: keys go to the window under the pointer (no WM)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "assistant.png"))
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="screenwise-shot-"))
    work = tmp / "home"
    (work / "old-reports").mkdir(parents=True)
    log = tmp / "terminal.log"
    replies = ROOT / "docs" / "assistant_replies.json"
    chat = (f"cd {shlex.quote(str(work))} && PS1='$ ' {shlex.quote(str(SCREENWISE))} chat --env desktop "
            f"--display $DISPLAY --model scripted:{shlex.quote(str(replies))} "
            f"--launch {shlex.quote(WORK_XTERM)} --out {shlex.quote(str(tmp / 'runs'))}; sleep 600")
    with Xvfb(size=(1280, 720)) as x:
        env = {**os.environ, "DISPLAY": x.display}
        subprocess.run(["xsetroot", "-solid", "#2f3e4c"], env=env, check=False)
        term = subprocess.Popen(CHAT_XTERM + ["-e", "script", "-q", "-f", "-c", chat, str(log)], env=env,
                                start_new_session=True)
        try:
            def wait_for(text: str, after: int = 0, timeout: float = 90) -> int:
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    seen = log.read_text(errors="replace") if log.exists() else ""
                    at = seen.find(text, after)
                    if at >= 0:
                        return at + len(text)
                    time.sleep(0.1)
                raise RuntimeError(f"the chat never showed {text!r}:\n{seen[-2000:]}")

            def person(*xdotool: str) -> None:
                subprocess.run(["xdotool", "mousemove", *map(str, PERSON)], env=env, check=True)
                time.sleep(0.2)
                subprocess.run(["xdotool", *xdotool], env=env, check=True)

            pos = wait_for("you> ")
            person("type", "--delay", "30", "Make a reports folder with notes for Q1 and Q2, and tidy up\n")
            pos = wait_for("Allow it? [y/N] ", pos)
            time.sleep(0.5)
            person("type", "--delay", "60", "n\n")
            pos = wait_for("Action: wait(seconds=2)", pos)  # shown as it starts: Ctrl-C lands during the wait
            person("key", "ctrl+c")
            pos = wait_for("or [s]top? ", pos)
            time.sleep(0.5)
            person("type", "--delay", "60", "r\n")
            pos = wait_for("Result:", pos)
            wait_for("you> ", pos)
            subprocess.run(["xdotool", "mousemove", "1270", "710"], env=env, check=True)
            time.sleep(1.0)
            with mss.MSS(display=x.display) as shooter:
                shot = shooter.grab(shooter.monitors[0])
            Image.frombytes("RGB", shot.size, shot.rgb).save(args.out, optimize=True)
            print(f"wrote {args.out}")
            person("type", "quit\n")
            wait_for("viewer:", pos)
        finally:
            os.killpg(term.pid, signal.SIGTERM)  # the xterm we started, and its group
            term.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
