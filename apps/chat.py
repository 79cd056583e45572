"""The interactive assistant: ``screenwise chat --env desktop|browser``.

A person types an instruction at the prompt; the agent works on it while its thoughts and actions stream to
the terminal, step by step. The person stays in charge:

- **Ctrl-C** pauses the agent once the step in progress ends (a second Ctrl-C stops it at once), then offers
  a choice: resume, take over (the person uses the screen themselves, then presses Enter to hand it back;
  the agent is told and looks again), or stop.
- **call_user()** hands control to the person: the agent's question is shown, and the typed answer goes back
  to the model (the screen is looked at afresh, in case the person changed it).
- **Safety** (``envs/safety.py``): every risky action is shown and waits for a y/n answer.

Each instruction is one run of the agent loop on the same, still open, screen; its trajectory goes to
``OUT/001/``, ``OUT/002/`` … and the viewer of them all to ``OUT/index.html`` when the chat ends.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from agent.loop import Agent, AgentConfig, config_for
from apps.options import add_card_args, add_safety_args, card_overrides, viewport
from apps.viewer import write_viewer
from envs.browser import Browser, BrowserEnv
from envs.desktop import DesktopEnv, _stop_all
from envs.safety import SafetyPolicy, load_secrets
from models import SPEC_HELP, resolve

BANNER = ("Type an instruction and press Enter. While the agent works, Ctrl-C pauses it "
          "(then: resume, take over, or stop). 'quit' or Ctrl-D leaves.")


class LivePage:
    """The browser 'task' of a chat: the start page, opened once; each instruction continues where it is."""

    id = "chat"
    crop = None  # the whole viewport

    def __init__(self, url: str = ""):
        self.url = url
        self.instruction = ""
        self._opened = False

    def setup(self, page, seed: int) -> str:
        if not self._opened:
            page.goto(self.url or "about:blank")
            self._opened = True
        return self.instruction

    def validate(self, page) -> tuple[float, bool, dict]:
        return 0.0, False, {}  # nobody but the agent (finished) or the person says when it is done


class LiveDesktop:
    """The desktop 'task' of a chat: programs started once (an xterm in the sandbox) that live across
    instructions. They are the chat's, not an episode's: the env's resets leave them running."""

    id = "chat"
    title = ""

    def __init__(self, programs: list[list[str]], cwd: str | Path = "."):
        self.programs = programs
        self.cwd = Path(cwd)
        self.instruction = ""
        self._procs: list[subprocess.Popen] = []

    def setup(self, env, seed: int) -> str:
        if not self._procs and self.programs:
            before = visible_windows(env)
            for argv in self.programs:
                self._procs.append(subprocess.Popen(
                    argv, cwd=self.cwd, env={**os.environ, "DISPLAY": env.display}, stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
            deadline = time.monotonic() + 15
            while visible_windows(env) < before + len(self.programs) and time.monotonic() < deadline:
                time.sleep(0.1)  # the agent's first look should find the programs' windows up
        return self.instruction

    def validate(self, env) -> tuple[float, bool, dict]:
        return 0.0, False, {}

    def stop(self) -> None:
        _stop_all(self._procs)


def visible_windows(env) -> int:
    return len(env.xdotool("search", "--onlyvisible", "--name", "").split())


class ChatAgent(Agent):
    """The agent loop with the person's pause point: one override of ``checkpoint``."""

    def __init__(self, chat: "Chat", *args, **kw):
        super().__init__(*args, **kw)
        self.chat = chat

    def checkpoint(self, obs, feedback: list[str]):
        chat = self.chat
        if chat.refresh:  # the person was asked something and may have used the screen meanwhile
            chat.refresh = False
            obs = self.look_again(obs)
        if not chat.pause_requested:
            return obs
        choice = chat.pause_menu()
        if choice == "stop":
            return None
        if choice == "take over":
            self.env.safety.line = ""  # whatever the person typed is theirs, not the start of the agent's line
            note, chat.note = chat.note, ""
            feedback.append("The person took over the screen and has handed it back; it may have changed."
                            + (f" They wrote: {note}" if note else ""))
            return self.look_again(obs)
        return obs

    def look_again(self, obs):
        """A fresh observation that still says why the last action failed (a refusal the model must hear of)."""
        return replace(self.env.observe(), last_action_error=obs.last_action_error)


class Chat:
    """One terminal session: read instructions, run the agent on each, answer its questions."""

    def __init__(self, model, env, task, config: AgentConfig, out: str | Path, on_event):
        self.model, self.env, self.task, self.config = model, env, task, config
        self.out = Path(out)
        self.on_event = on_event
        self.pause_requested = False
        self.refresh = False
        self.note = ""  # what the person wrote when handing the screen back (the web UI has a box for it)
        self.runs = 0

    # -- the chat --------------------------------------------------------------------------------------
    def loop(self) -> int:
        say(BANNER)
        while True:
            instruction = ask("\nyou> ")
            if instruction is None or instruction.lower() in ("quit", "exit"):
                break
            if instruction:
                self.work_on(instruction)
        if self.runs:
            say(f"viewer: {write_viewer(self.out)}")
        return 0

    def work_on(self, instruction: str) -> None:
        previous = signal.signal(signal.SIGINT, self._on_interrupt)
        try:
            self.run_agent(instruction)
        except KeyboardInterrupt:
            say("Stopped.")
        finally:
            signal.signal(signal.SIGINT, previous)
            self.pause_requested = False

    def run_agent(self, instruction: str):
        """One instruction: one run of the agent loop on the open screen, with this chat's hooks. The web UI
        (apps/ui/) calls it from a worker thread, where no signal handler can be installed."""
        self.runs += 1
        instruction = self.env.safety.redact(instruction)  # a value typed by mistake reaches the model as its name
        self.task.instruction = instruction
        agent = ChatAgent(self, self.model, self.env, self.config, out_dir=self.out / f"{self.runs:03d}",
                          on_event=self.on_event, ask_user=self.ask_user)
        self.pause_requested = False
        return agent.run(instruction)

    # -- the person's side ---------------------------------------------------------------------------------
    def _on_interrupt(self, signum, frame) -> None:
        if self.pause_requested:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now, mid-step
        self.pause_requested = True
        # os.write, not print: the handler may run while a print is half done
        os.write(sys.stdout.fileno(), b"\n[Ctrl-C] pausing after this step (Ctrl-C again stops at once)\n")

    def pause_menu(self) -> str:
        self.pause_requested = False
        while True:
            answer = ask("Paused. [r]esume, [t]ake over the screen, or [s]top? ")
            if answer is None or answer.lower().startswith("s"):
                say("Stopping.")
                return "stop"
            if answer.lower().startswith("r"):
                say("Resuming.")
                return "resume"
            if answer.lower().startswith("t"):
                ask("The screen is yours. Press Enter to hand it back to the agent. ")
                say("Handed back; the agent looks again.")
                return "take over"

    def ask_user(self, question: str) -> str | None:
        say(f"The agent asks for your help: {question}")
        say("The screen is yours while you answer.")
        answer = ask("your answer (empty stops the agent)> ")
        self.refresh = True
        return answer or None


def ask(prompt: str) -> str | None:
    """A line from the person; None for Ctrl-D or Ctrl-C (which, at a prompt, means no / stop)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return input(prompt).strip()
    except (EOFError, KeyboardInterrupt):
        say("")
        return None
    finally:
        signal.signal(signal.SIGINT, previous)


def confirm(reason: str) -> bool:
    """The safety policy's question to the person (``SafetyPolicy(confirm=confirm)``)."""
    say(f"Safety check: the agent wants to do something risky: {reason}.")
    answer = ask("Allow it? [y/N] ")
    allowed = (answer or "").lower() in ("y", "yes")
    say("Allowed." if allowed else "Refused; the agent is told why.")
    return allowed


def say(text: str) -> None:
    print(text, flush=True)


def print_event(kind: str, data: dict) -> None:
    """The live stream of a run: thoughts and actions as they happen."""
    if kind == "start":
        print(f"Task: {data['instruction']}", flush=True)
    elif kind == "act":  # a decision, shown before it runs
        print(f"[step {data['index']}] Thought: {data.get('thought') or '-'}", flush=True)
        print(f"          Action: {' | '.join(data['actions'])}", flush=True)
        for cue in data.get("feedback") or []:
            print(f"          Feedback: {cue}", flush=True)
    elif kind == "step":  # the turn is over: what went wrong, if anything
        if data.get("error"):
            print(f"[step {data['index']}] Parse error: {data['error'].splitlines()[0]}", flush=True)
        if data.get("action_error"):
            print(f"          Error: {data['action_error']}", flush=True)
    elif kind == "end":
        print(f"Result: {data['status']} (success={data['success']}, reward={data['reward']}, "
              f"steps={data['steps']}, {data['seconds']} s)" + (f" answer: {data['answer']}" if data["answer"] else ""),
              flush=True)


def stream(kind: str, data: dict) -> None:
    """The live stream: ``screenwise run``'s, with an ending that does not speak of rewards (a chat has none)."""
    if kind != "end":
        print_event(kind, data)
        return
    answer = f" Answer: {data['answer']}" if data["answer"] else ""
    why = f" ({data['error']})" if data.get("error") else ""
    say(f"Result: {data['status']}{why} after {data['steps']} steps, {data['seconds']:.1f} s.{answer}")


class Screen:
    """What a chat works on, opened from its command line: the env, its live task, and the browser if any."""

    def __init__(self, args, policy, out: Path, task=None):
        """``task`` replaces the browser's live page (the web UI's MiniWoB choice); ``args`` are chat's."""
        self.env = self.task = self.browser = None
        try:
            self._open(args, policy, out, task)
        except BaseException:
            self.close()  # a browser already started, or an Xvfb, must not outlive a failed start
            raise

    def _open(self, args, policy, out: Path, task) -> None:
        if args.env == "browser":
            self.task = task or LivePage(args.url or "")
            self.browser = Browser(headless=not args.headed)
            self.env = BrowserEnv(self.task, browser=self.browser, max_steps=args.max_steps, safety=policy,
                                  downloads_dir=out / "downloads", viewport=args.viewport)
        else:
            programs = [shlex.split(cmd) for cmd in args.launch] if args.launch is not None else (
                [] if args.display or args.real_display else
                [["xterm", "-geometry", "100x30+30+30", "-fa", "DejaVu Sans Mono", "-fs", "11"]])
            self.task = LiveDesktop(programs, cwd=args.cwd)
            self.env = DesktopEnv(self.task, display=args.display, real_display=args.real_display,
                                  max_steps=args.max_steps, ocr=not args.no_ocr, safety=policy)

    def where(self, args) -> str:
        return f"display {self.env.display}" if args.env == "desktop" else (args.url or "a blank page")

    def close(self) -> None:
        if self.env is not None:
            self.env.close()
        if isinstance(self.task, LiveDesktop):
            self.task.stop()
        if self.browser is not None:
            self.browser.close()


def model_and_config(args, env):
    """The model ``--model`` names and the agent config its card asks for, with the chat's budgets and action set."""
    model, card = resolve(args.model, env=env, **card_overrides(args))
    cfg = config_for(card)
    cfg.max_seconds = args.max_seconds  # the step budget is the env's (Screen gives it --max-steps)
    cfg.action_set = "desktop" if args.env == "desktop" else "browser"
    return model, cfg


def add_chat_args(parser: argparse.ArgumentParser) -> None:
    """``screenwise chat``'s options; the web UI reads a tab's picks with the same ones."""
    parser.add_argument("--env", choices=["desktop", "browser"], default="desktop",
                        help="desktop (a private Xvfb with an xterm, or --display/--real-display) | browser")
    parser.add_argument("--model", default="embedded", help=f"a model spec: {SPEC_HELP}")
    parser.add_argument("--url", default="", help="browser: the start page")
    parser.add_argument("--headed", action="store_true", help="browser: show the browser window")
    parser.add_argument("--viewport", type=viewport, default="1024x768", help="browser: viewport WxH")
    parser.add_argument("--display", default=None,
                        help="desktop: use this existing X display (:N) instead of a sandbox")
    parser.add_argument("--real-display", action="store_true", help="desktop: use $DISPLAY instead of a sandbox")
    parser.add_argument("--launch", action="append", default=None, metavar="CMD",
                        help="desktop: a program to start (repeatable; default: an xterm in the sandbox)")
    parser.add_argument("--cwd", default=".", help="desktop: the started programs' working directory")
    parser.add_argument("--no-ocr", action="store_true", help="desktop: no OCR element list (faster; pixels only)")
    parser.add_argument("--max-steps", type=int, default=30, help="turns per instruction")
    parser.add_argument("--max-seconds", type=float, default=1800.0, help="wall-clock budget per instruction")
    add_card_args(parser)
    parser.add_argument("--out", default=None, help="trajectory directory (default runs/chat-TIMESTAMP)")
    add_safety_args(parser)


def main(args) -> int:
    """``screenwise chat``: build the env, the safety policy and the model from the command line, then talk."""
    secrets = load_secrets(args.secrets)
    policy = SafetyPolicy(allow_domains=args.allow_domains, secrets=secrets, confirm=confirm)
    out = Path(args.out or time.strftime("runs/chat-%Y%m%d-%H%M%S"))
    screen = None
    try:
        screen = Screen(args, policy, out)
        model, cfg = model_and_config(args, screen.env)
        say(f"screenwise chat: {args.env} ({screen.where(args)}), model {args.model}, trajectories in {out}/")
        if policy.allow_domains is not None:
            say(f"allowed domains: {', '.join(policy.allow_domains)}")
        if secrets:
            say(f"secrets: {', '.join('{{secret:' + n + '}}' for n in sorted(secrets))}")
        return Chat(model, screen.env, screen.task, cfg, out, stream).loop()
    finally:
        if screen is not None:
            screen.close()
