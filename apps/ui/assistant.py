"""The live assistant behind the web page: ``apps.chat.Chat`` with the person's side answered from a tab.

There is one agent loop, the chat's: ``Chat.run_agent`` runs ``ChatAgent`` with its ``checkpoint`` hook (pause,
take over, stop), the ``ask_user`` hook (call_user()) and the safety policy's ``confirm`` hook. Here those
hooks put a question on the :class:`Board` and wait for a tab to answer it, instead of reading the terminal;
the agent's events become board messages instead of printed lines.

The agent runs on a worker thread, one instruction at a time. The screen (browser, desktop or a MiniWoB task)
and the model are opened for the first instruction and kept while later ones ask for the same; a different
pick closes them and opens the new ones.
"""

from __future__ import annotations

import io
import threading
import traceback
from pathlib import Path

from apps.chat import Chat, Screen, model_and_config
from apps.ui.board import Board
from core import actions as A
from core.coords import to_screen
from core.env import ActionError, resolve_target
from envs.tasks import miniwob_task

ENVS = ("browser", "desktop", "miniwob")
TAKE_OVER = "The screen is yours. Hand it back when you are done; the agent will look again."


class Busy(Exception):
    """An instruction arrived while the agent still works on the last one."""


class WebChat(Chat):
    def __init__(self, board: Board, policy, out: Path, chat_args):
        """``chat_args(picks) -> argparse.Namespace`` turns a tab's picks into ``screenwise chat``'s options."""
        super().__init__(None, None, None, None, out, self._on_event)
        self.board, self.policy, self.chat_args = board, policy, chat_args
        policy.confirm = self.confirm  # the gate's question goes to the tabs
        self.screen: Screen | None = None
        self.opened: tuple = ()  # what the open screen and model were made from
        self.state = "idle"
        self.stop_requested = False
        self.take_over_requested = False
        self.live_dir: Path | None = None  # the trajectory being written, for the runs page's status
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- what the tabs ask for -----------------------------------------------------------------------------
    def start(self, instruction: str, picks: dict) -> None:
        with self._lock:
            if self._worker is not None and self._worker.is_alive():
                raise Busy("the agent is still working on the last instruction: stop it or wait")
            self.stop_requested = self.take_over_requested = self.pause_requested = False
            self._set_state("starting")
            self._worker = threading.Thread(target=self._work, args=(instruction, picks), daemon=True,
                                            name="screenwise-ui-agent")
            self._worker.start()

    def control(self, what: str) -> None:
        """pause | take over | stop, while the agent works. Each takes effect at the next step's checkpoint;
        a stop also answers an open question (no to a safety check, no answer to call_user())."""
        if self.state == "idle" or self.state == "starting" and what != "stop":
            return
        self.pause_requested = True
        if what == "take over":
            self.take_over_requested = True
        if what == "stop":
            self.stop_requested = True
            self.board.close_question(None, by="stop")
        self._set_state("stopping" if what == "stop" else "pausing")

    def close(self) -> None:
        self.control("stop")
        if self._worker is not None:
            self._worker.join(timeout=30)
        if self.screen is not None:
            self.screen.close()

    # -- the worker ----------------------------------------------------------------------------------------
    def _work(self, instruction: str, picks: dict) -> None:
        self.board.publish("begin", instruction=instruction, picks=picks)
        try:
            self._open(picks)
            self._set_state("running")
            result = self.run_agent(instruction)
            if result.trajectory and (result.trajectory / "final.png").exists():
                self._show((result.trajectory / "final.png").read_bytes(), None, [])
        except Exception as e:  # a model that will not load, a page that will not open: the tab is told
            self.board.publish("error", text=f"{type(e).__name__}: {e}", detail=traceback.format_exc(limit=3))
        finally:
            self.live_dir = None
            self._set_state("idle")

    def _open(self, picks: dict) -> None:
        args = self.chat_args(picks)
        key = (args.env, args.url, picks.get("task", ""), args.model)
        if key == self.opened:
            return
        if self.screen is not None:
            self.screen.close()
            self.screen, self.opened = None, ()
        task = None
        if picks["env"] == "miniwob":
            task = miniwob_task(picks["task"])
        self.board.publish("note", text=f"opening the {picks['env']} and loading the model {args.model} …")
        self.screen = Screen(args, self.policy, self.out, task=task)
        self.model, self.config = model_and_config(args, self.screen.env)
        self.env, self.task, self.opened = self.screen.env, self.screen.task, key
        self.board.publish("note", text=f"{picks['env']} ({self.screen.where(args)}), model {args.model}")

    def _on_event(self, kind: str, data: dict) -> None:
        """The agent's events (``Agent.on_event``) as board messages; screenshots go to the board's images."""
        if kind == "start":
            self.live_dir = self.out / f"{self.runs:03d}"
            self.board.publish("start", instruction=data["instruction"], run=self._run_link())
            if self.env.obs is not None and self.env.obs.screenshot is not None:
                self._show_image(self.env.obs.screenshot, [])
        elif kind == "act":
            shot = data.get("screenshot")
            if shot is not None:
                self._show_image(shot, marks_for(data["actions"], self.model.coord_space, shot.size,
                                                 self.env.obs.elements if self.env.obs else []))
            self.board.publish("act", index=data["index"], thought=data.get("thought", ""),
                               reflection=data.get("reflection", ""), actions=data["actions"],
                               feedback=data.get("feedback") or [])
        elif kind == "step":
            self.board.publish("step", index=data["index"], error=data.get("error", ""),
                               action_error=data.get("action_error", ""), reward=data.get("reward", 0.0),
                               feedback=data.get("feedback") or [], raw_output=data.get("raw_output", ""))
        elif kind == "end":
            self.board.publish("end", status=data["status"], success=data["success"], answer=data["answer"],
                               steps=data["steps"], seconds=data["seconds"], error=data.get("error", ""),
                               run=self._run_link())

    def _run_link(self) -> str:
        """The live episode page of the run in progress (the runs root is the trajectories' parent)."""
        if self.live_dir is None:
            return ""
        return f"/runs/{self.live_dir.resolve().relative_to(self.out.resolve().parent).as_posix()}/view.html"

    def _show_image(self, image, marks: list[dict]) -> None:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        self._show(buffer.getvalue(), image.size, marks)

    def _show(self, png: bytes, size, marks: list[dict]) -> None:
        if size is None:
            from PIL import Image

            size = Image.open(io.BytesIO(png)).size
        self.board.show(png, size, marks)

    def _set_state(self, state: str) -> None:
        self.state = state
        self.board.publish("state", state=state)

    # -- the chat's hooks, answered from a tab -------------------------------------------------------------
    def pause_menu(self) -> str:
        """``ChatAgent.checkpoint`` calls this when a pause was asked for: resume, take over, or stop."""
        self.pause_requested = False
        if self.stop_requested:
            return "stop"
        if not self.take_over_requested:
            self._set_state("paused")
            choice = self.board.ask("pause", "Paused. Resume, take over the screen, or stop?",
                                    ["resume", "take over", "stop"])
        else:
            choice = "take over"
        self.take_over_requested = False
        if choice == "take over":
            self._set_state("taken over")
            note = self.board.ask("take over", TAKE_OVER, ["hand back"])
            self.note = "" if note in (None, "hand back") else note
        choice = "stop" if self.stop_requested or choice is None else choice
        self._set_state("stopping" if choice == "stop" else "running")
        return choice

    def ask_user(self, question: str) -> str | None:
        self._set_state("asking")
        answer = self.board.ask("call_user", question, [])
        self.refresh = True  # the person may have used the screen while answering
        self._set_state("running")
        return answer or None

    def confirm(self, reason: str) -> bool:
        """The safety policy's question (``SafetyPolicy.confirm``): approve or deny, shown with the reason."""
        self._set_state("safety check")
        answer = self.board.ask("safety", reason, ["approve", "deny"])
        self._set_state("running")
        return answer == "approve"


def marks_for(actions: list[str], space: str, size: tuple[int, int], elements: list) -> list[dict]:
    """Where each action lands, in screenshot pixels: a point, or the box of the element it names."""
    marks = []
    for text in actions:
        try:
            action = to_screen(A.parse_action(text), space, size)
        except (A.ActionParseError, ValueError):
            continue
        label = A.NAMES[type(action)]
        for target in A.targets(action):
            if not isinstance(target, A.ElementRef):
                marks.append({"label": label, "point": [round(target[0]), round(target[1])]})
                continue
            try:
                centre = resolve_target(target, elements)
            except ActionError:
                continue
            box = next((e.bbox for e in elements if e.center == centre), None)
            if box is not None:
                marks.append({"label": label, "box": list(box)})
    return marks
