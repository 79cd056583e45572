"""The agent loop: render prompt -> generate -> parse -> execute -> record, until done or out of budget.

Self-correction is part of the loop and visible in the trajectory: a reply that does not parse goes back to
the model as an error (capped), an action with no visible effect earns a reflection cue, and the same action
on the same screen gets a nudge at 3 repeats and stops the run at 5. New behaviour is an override of one
method: ``decide`` (best-of-N lives there), ``confirm`` (a person approves actions), ``feedback``,
``checkpoint`` (a person pauses the run, or takes over the screen; see apps/chat.py).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from agent.memory import Memory, Turn, observation_notes
from agent.prompts import system_prompt
from agent.trajectory import TrajectoryWriter, prompt_for_file
from core import actions as A
from core.coords import to_screen
from core.model import ModelError
from models import needs_env, resolve, spec_kind
from models.card import Card

NO_EFFECT = ("Your last action changed nothing on the screen. Check that it hit the right target "
             "before you try again.")


@dataclass
class AgentConfig:
    """How the agent runs. Its step budget is the env's (``env.max_steps``: turns, parse failures included)."""

    max_seconds: float = 300.0
    """Wall-clock budget for one run."""
    keep_images: int = 5
    """Screenshots kept in the prompt; older ones become a placeholder."""
    max_format_errors: int = 3
    """Consecutive unparseable replies before the run stops."""
    loop_nudge: int = 3
    """Same action on the same screen this many times: the model is told to try something else."""
    loop_stop: int = 5
    """... and this many times: the run stops."""
    best_of: int = 1
    """Sample this many replies and take the action most of them agree on."""
    temperature: float = 0.0
    """Sampling temperature (best-of-N uses at least 0.7)."""
    max_tokens: int = 256
    action_set: str = "browser"
    """Actions described in the prompt: browser | desktop | mobile."""
    element_refs: bool = False
    """Show the element list and allow element=... references (small models, set-of-marks)."""
    prompt: str = "uitars"
    """uitars: UI-TARS-1.5's multi-turn layout with screenshots. compact: one message with the screen, the
    task, the earlier actions as text and the notes (the embedded model's layout)."""
    mark_matches: bool = False
    """After the element list, repeat the lines whose text the instruction names (``Named in the task: ...``,
    core/elements.py ``match_line``). A checkpoint asks for it with ``"mark_matches": true``."""
    field_labels: bool = False
    """Name each field of the element list by its label (``textbox for 'E-mail' at (204,177)``,
    core/elements.py ``field_labels``). A checkpoint asks for it with ``"field_labels": true``."""


@dataclass
class RunResult:
    status: str  # done | finished | needs_user | step_budget | time_budget | format_errors | loop | error | stopped
    # ("error": the model backend failed, e.g. its server is unreachable; ``error`` says why)
    success: bool
    reward: float
    answer: str
    steps: int
    seconds: float
    trajectory: Path | None = None
    error: str = ""


@dataclass
class Decision:
    output: str
    response: A.Response | None
    error: str = ""
    extra: dict = field(default_factory=dict)  # saved with the step (e.g. a teacher's label, for DAgger)


@dataclass
class _State:
    feedback: list[str] = field(default_factory=list)
    format_errors: int = 0
    repeats: int = 0
    last_key: str = ""


class Agent:
    def __init__(self, model, env, config: AgentConfig | None = None, out_dir: str | Path | None = None,
                 on_event: Callable[[str, dict], None] | None = None,
                 ask_user: Callable[[str], str | None] | None = None):
        self.model, self.env = model, env
        self.config = config or AgentConfig()
        self.out_dir = Path(out_dir) if out_dir else None
        self.on_event = on_event or (lambda kind, data: None)
        self.ask_user = ask_user

    # -- overridable pieces ----------------------------------------------------------------------------------
    def decide(self, messages: list[dict]) -> Decision:
        cfg = self.config
        n = max(1, cfg.best_of)
        temperature = max(cfg.temperature, 0.7) if n > 1 else cfg.temperature
        gens = self.model.generate(messages, n=n, temperature=temperature, max_tokens=cfg.max_tokens)
        parsed = []
        for g in gens:
            try:
                parsed.append((g.text, A.parse_response(g.text)))
            except A.ActionParseError as e:
                error = str(e)
        if not parsed:
            return Decision(gens[0].text, None, error)
        votes = Counter(tuple(A.format_action(a) for a in r.actions) for _, r in parsed)
        best = votes.most_common(1)[0][0]
        text, response = next(p for p in parsed if tuple(A.format_action(a) for a in p[1].actions) == best)
        return Decision(text, response)

    def confirm(self, actions: list) -> str:
        """Return '' to go ahead, or a reason the actions were refused (the model sees it)."""
        return ""

    def checkpoint(self, obs, feedback: list[str]):
        """Called before every turn. Return the observation to act on (after a person used the screen, a fresh
        one, with a note added to ``feedback``), or None to stop the run (status ``stopped``)."""
        return obs

    def feedback(self, before, after, actions: list) -> list[str]:
        cues = []
        if actions and not all(isinstance(a, (A.Wait, A.Finished, A.CallUser)) for a in actions) \
                and not after.last_action_error and screen_key(before) == screen_key(after):
            cues.append(NO_EFFECT)
        return cues

    # -- the loop ------------------------------------------------------------------------------------------
    def run(self, instruction: str | None = None, seed: int | None = None, task=None) -> RunResult:
        cfg, t0 = self.config, time.monotonic()
        obs, info = self.env.reset(seed=seed, options={"task": task} if task is not None else None)
        instruction = instruction or obs.instruction
        memory = Memory(system_prompt(instruction, cfg.action_set, element_refs=cfg.element_refs))
        writer = self._writer(instruction, seed, info)
        st, status, reward, answer, step, error = _State(), "", 0.0, "", 0, ""
        self.on_event("start", {"instruction": instruction})
        while not status:
            if step >= self.env.max_steps:
                status = "step_budget"
                break
            if time.monotonic() - t0 > cfg.max_seconds:
                status = "time_budget"
                break
            fresh = self.checkpoint(obs, st.feedback)
            if fresh is None:
                status = "stopped"
                break
            obs = fresh
            notes = observation_notes(obs, st.feedback, cfg.element_refs, compact=cfg.prompt == "compact",
                                      mark_matches=cfg.mark_matches, labels=cfg.field_labels)
            messages = (memory.render_compact(instruction, obs.screenshot, notes) if cfg.prompt == "compact"
                        else memory.render(obs.screenshot, notes, cfg.keep_images))
            t_gen = time.monotonic()
            try:
                decision = self.decide(messages)
            except ModelError as e:  # the backend, not the model: stop with the trajectory so far on disk
                status, error = "error", str(e)
                break
            t_gen = time.monotonic() - t_gen
            record = {"index": step, "raw_output": decision.output, "error": decision.error, "feedback": st.feedback,
                      "prompt": messages, "screenshot": obs.screenshot, **decision.extra}
            memory.turns.append(Turn(obs.screenshot, notes, decision.output))
            step += 1
            st.feedback = []
            if decision.response is None:  # the model sees the parse error next turn
                st.format_errors += 1
                st.feedback = [f"Your last reply could not be parsed: {decision.error}"]
                status = "format_errors" if st.format_errors >= cfg.max_format_errors else ""
                self._record(writer, record, t_gen, reward=0.0)
                continue
            st.format_errors = 0
            response = decision.response
            record.update(thought=response.thought, reflection=response.reflection,
                          actions=[A.format_action(a) for a in response.actions])
            memory.actions += record["actions"]
            size = obs.screenshot.size if obs.screenshot is not None else (1, 1)
            actions = [to_screen(a, self.model.coord_space, size) for a in response.actions]
            self.on_event("act", record)  # the decision, before it runs (a live stream shows it now)
            refusal = self.confirm(actions)
            if refusal:
                st.feedback = [f"Your action was not carried out: {refusal}"]
                self._record(writer, record, t_gen, reward=0.0)
                continue
            finish = next((a for a in actions if isinstance(a, (A.Finished, A.CallUser))), None)
            todo = [a for a in actions if not isinstance(a, (A.Finished, A.CallUser))]
            if todo:
                before = obs
                obs, reward, terminated, truncated, _ = self.env.step(todo)
                record["action_error"] = obs.last_action_error
                st.feedback = self.feedback(before, obs, todo) + self._loop_check(before, todo, st)
                if st.repeats >= cfg.loop_stop:
                    status = "loop"
                elif terminated:
                    status = "done"
                elif truncated:
                    status = "step_budget"
            if isinstance(finish, A.Finished) and not status:
                status, answer = "finished", finish.content
            elif isinstance(finish, A.CallUser) and not status:
                reply = self.ask_user(response.thought or "The agent needs help.") if self.ask_user else None
                if reply is None:
                    status = "needs_user"
                else:
                    st.feedback.append(f"The person answered: {reply}")
            self._record(writer, record, t_gen, reward=reward)
        success = reward > 0
        result = RunResult(status, success, reward, answer, step, round(time.monotonic() - t0, 3),
                           writer.dir if writer else None, error)
        if writer:
            writer.save_image(obs.screenshot, "final.png")
            writer.end({k: v for k, v in result.__dict__.items() if k != "trajectory"})
        self.on_event("end", result.__dict__)
        return result

    # -- helpers -------------------------------------------------------------------------------------------
    def _loop_check(self, before, actions: list, st: _State) -> list[str]:
        key = screen_key(before) + "|" + "|".join(A.format_action(a) for a in actions)
        st.repeats = st.repeats + 1 if key == st.last_key else 1
        st.last_key = key
        if st.repeats >= self.config.loop_nudge:
            return [f"You have done the same action on the same screen {st.repeats} times and it is not "
                    "working. Try something different."]
        return []

    def _writer(self, instruction: str, seed, info: dict) -> TrajectoryWriter | None:
        if self.out_dir is None:
            return None
        return TrajectoryWriter(self.out_dir, {
            "instruction": instruction, "seed": seed, "task": info.get("task", ""),
            "model": getattr(self.model, "name", type(self.model).__name__), "config": self.config.__dict__,
            "coord_space": self.model.coord_space,
        })

    def _record(self, writer, record: dict, seconds: float, reward: float) -> None:
        self.on_event("step", {**record, "reward": reward})
        if writer is None:
            return
        shot = writer.save_image(record.pop("screenshot"), f"step_{record['index']:03d}.png")
        n_images = sum(p.get("type") == "image_url" for m in record["prompt"] if isinstance(m["content"], list)
                       for p in m["content"])
        # The prompt's images are this step's and earlier steps' screenshots, oldest first.
        names = [f"step_{i:03d}.png" for i in range(record["index"] + 1 - n_images, record["index"] + 1)]
        record["prompt"] = prompt_for_file(record["prompt"], names)
        writer.step({**record, "screenshot": shot, "reward": reward, "seconds": round(seconds, 4)})


def screen_key(obs) -> str:
    """A fingerprint of what is on screen: pixels and elements."""
    h = hashlib.sha1()
    if obs.screenshot is not None:
        h.update(obs.screenshot.tobytes())
    for e in obs.elements:
        h.update(f"{e.role}|{e.text}|{e.bbox}|{e.state}".encode())
    return h.hexdigest()


def config_for(card: Card) -> AgentConfig:
    """The agent's prompt as the model's card (models/card.py) asks: UI-TARS-1.5's layout by default; the
    compact one with the element list for small models, with the ``Named in the task:`` line when the card says
    ``"mark_matches": true``, and the fields' labels with ``"field_labels": true``."""
    return AgentConfig(prompt=card.prompt, element_refs=card.element_refs, mark_matches=card.mark_matches,
                       field_labels=card.field_labels)


class ModelPolicy:
    """A bench policy that plays each episode through the agent loop with a model (see agent/bench.py).

    ``card`` is what ``models.resolve`` takes besides the spec: a card file and single-field overrides. The
    prompt follows the model's card (``config_for``) unless ``config`` is given; ``action_set`` picks the actions
    it describes (desktop runs)."""

    needs_screenshot = True

    def __init__(self, spec: str, out_dir: str | Path | None = None, config: AgentConfig | None = None,
                 card: dict | None = None, action_set: str | None = None):
        self.spec, self.out_dir, self.card = spec, out_dir, dict(card or {})
        self.config, self.action_set = config, action_set
        self._shared = None
        self._lock = threading.Lock()

    def check(self) -> None:
        """Resolve the model now, so that a bad spec or card stops a run before its first episode."""
        if needs_env(self.spec):
            spec_kind(self.spec)
        else:
            self.model_for(None)

    def model_for(self, env):
        if needs_env(self.spec):  # the teachers read the env they act in: one model per env
            model, card = resolve(self.spec, env=env, **self.card)
            self.config = self.config or config_for(card)
            return model
        with self._lock:  # every other model is loaded once and shared by the worker threads
            if self._shared is None:
                model, card = resolve(self.spec, **self.card)
                self._shared = _Serialized(model)
                self.config = self.config or config_for(card)
        return self._shared

    def run_episode(self, env, task, seed: int) -> dict:
        out = Path(self.out_dir) / "trajectories" / task.id / str(seed) if self.out_dir else None
        model = self.model_for(env)
        cfg = AgentConfig(**{**self.config.__dict__, **({"action_set": self.action_set} if self.action_set else {})})
        result = Agent(model, env, cfg, out_dir=out).run(seed=seed, task=task)
        record = {"task": task.id, "seed": seed, "success": result.success, "reward": result.reward,
                  "steps": result.steps, "seconds": result.seconds, "error": "", "status": result.status}
        if result.status == "error":  # the backend failed (its server unreachable), not the model: retried on resume
            record.update(error=f"model server: {result.error}"[:2000], error_kind="infrastructure")
        return record


class _Serialized:
    """One model shared by worker threads, one call at a time (backends are not thread-safe)."""

    def __init__(self, model):
        self.model = model
        self.name, self.coord_space = getattr(model, "name", "model"), model.coord_space
        self._lock = threading.Lock()

    def generate(self, *args, **kw):
        with self._lock:
            return self.model.generate(*args, **kw)
