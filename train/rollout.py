"""GRPO's rollouts: which (task, seed) prompts an iteration plays, and ``group`` episodes of each.

The trainer (train/grpo.py) sees one narrow interface, ``Rollouts``: ``play(prompts, iteration)`` returns the
iteration's ``Episode``s (every step with the exact prompt it was shown and the sampled reply's token ids and
logprobs), ``sync(policy, peft_model)`` follows each update, ``close()`` ends it. The episodes are played by the
shared episode runner (agent/runner.py), as the bench's are: ``SamplingPolicy`` is GRPO's policy there, and a
crashed browser costs an episode one replay, not its group.

Episodes run in three ways:

- threads (default): ``workers`` episodes at once, each on its own page of one shared Chromium, handed out
  strictly in the order of the prompts (the runner's ``ThreadPool`` with ``by_task=False``). The one model
  generates in lockstep (train/lockstep.py): calls are held until every running episode waits for a reply, and
  calls with the same prompt (a group's episodes at their first turn, and for as long as they act alike) become
  one n-row decode that prefills the prompt once. Give ``workers`` a multiple of ``group``.
- ``--ray [ADDRESS]``: env workers are Ray actors (the runner's ``RayPool``: a local Ray, or an existing cluster;
  job i on actor i % workers; an actor that dies is restarted and its episodes played again). Each owns a
  Chromium and its own copy of the policy, loaded from ``out/checkpoint`` and reloaded whenever the iteration
  changes; the
  checkpoint is saved before every rollout, so the actors always sample from the current weights. They return
  the recorded steps (messages with data-URL screenshots). This was chosen over shipping weights through Ray's
  object store because it is the same for a 1M and a 7B model; on a multi-node cluster ``out`` must be on a
  shared filesystem and every node needs Chromium.
- ``--vllm``: generation through models/vllm_backend.VLLMModel on a GPU, the trainer on the same GPU; after each
  update the weights are loaded into vLLM's in-process engine (train/checkpoints.py ``sync_vllm``). THIS PATH IS
  UNTESTED HERE: no GPU and no vLLM on these machines.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import torch

from agent.loop import Agent, AgentConfig, Decision, config_for
from agent.runner import Job, RayPool, ThreadPool
from core import actions as A
from envs.browser import Browser, BrowserEnv
from models.hf import TransformersModel
from train.checkpoints import card_of, start_vllm, sync_vllm
from train.lockstep import LockstepBatcher


@dataclass
class RolloutArgs:
    seeds_per_iter: int = 4
    """Prompts per iteration: (task, seed) pairs, tasks in turn, every seed new."""
    group: int = 4
    """Episodes sampled per prompt (G)."""
    seed_offset: int = 0
    """Training seeds are seed_offset, seed_offset + 1, ... (eval seeds sit far away, at eval_seed_offset)."""
    repeat_seeds: bool = False
    """Replay the first iteration's (task, seed) pairs every iteration: a fit test (can the updates learn the
    episodes they see?), not training. Fresh seeds test whether what they learn carries over."""
    task_weights: str = "uniform"
    """How an iteration's prompts are spread over the tasks. 'uniform': in turn. 'signal': in proportion to the
    chance that a task's group has unequal rewards, 1 - p^G - (1-p)^G, with p its rollout success over the last
    ``signal_window`` iterations (floor ``signal_floor``; tasks not yet played count as 1). Tasks the policy always
    or never solves give flat groups, which the advantage section skips: their rollouts are spent on nothing."""
    signal_window: int = 5
    """Iterations of rollout success that ``--task-weights signal`` looks back over."""
    signal_floor: float = 0.15
    """Smallest weight ``--task-weights signal`` gives a task, so no task drops out."""
    max_steps: int = 5
    """Turns per episode."""
    temperature: float = 1.0
    """Sampling temperature of the rollouts."""
    max_tokens: int = 128
    """Tokens per reply."""
    workers: int = 2
    """Parallel episodes: threads (one page each in one Chromium) or, with --ray, Ray actors."""
    ray: str = ""
    """'' : threads. 'local' (bare --ray): a local Ray. Otherwise the address of an existing Ray cluster."""
    save_rollouts: bool = False
    """Write every episode as a trajectory (agent/trajectory.py) under out/rollouts/ for the viewer."""


# -- which prompts -----------------------------------------------------------------------------------------------

def task_signal(metrics: list[dict], tasks: list, args: RolloutArgs) -> list[float]:
    """Each task's chance of an informative group, 1 - p^G - (1-p)^G, from its rollout success p over the last
    ``signal_window`` logged iterations (1 for a task not played there), floored at ``signal_floor``."""
    recent = [m["per_task_success"] for m in metrics if "per_task_success" in m][-args.signal_window:]
    weights = []
    for task in tasks:
        name = getattr(task, "id", task)
        seen = [r[name] for r in recent if name in r]
        if not seen:
            weights.append(1.0)
            continue
        p = sum(seen) / len(seen)
        weights.append(max(args.signal_floor, 1 - p ** args.group - (1 - p) ** args.group))
    return weights


def spread(weights: list[float], n: int) -> list[int]:
    """``n`` prompts over the tasks in proportion to ``weights`` (largest remainders), at least one each when
    n allows."""
    base = min(1, n // len(weights))
    left = n - base * len(weights)
    total = sum(weights) or 1.0
    quotas = [left * w / total for w in weights]
    counts = [base + int(q) for q in quotas]
    for i in sorted(range(len(weights)), key=lambda i: int(quotas[i]) - quotas[i])[:n - sum(counts)]:
        counts[i] += 1
    return counts


def iteration_prompts(tasks: list, args: RolloutArgs, iteration: int, metrics: list[dict] | None = None) -> list[tuple]:
    """The (task, seed) pairs of one iteration: tasks in turn, seeds never reused (with ``repeat_seeds``, the
    first iteration's pairs every time). With ``task_weights='signal'`` each task gets a share of the prompts
    set by ``task_signal`` on ``metrics`` (the tasks still take turns, so the seeds stay spread)."""
    first = 0 if args.repeat_seeds else iteration * args.seeds_per_iter
    if args.task_weights == "uniform" or args.repeat_seeds:
        order = [tasks[(first + j) % len(tasks)] for j in range(args.seeds_per_iter)]
    elif args.task_weights == "signal":
        counts = spread(task_signal(metrics or [], tasks, args), args.seeds_per_iter)
        order = [t for k in range(max(counts)) for t, c in zip(tasks, counts) if c > k]
    else:
        raise ValueError(f"task_weights is 'uniform' or 'signal', not {args.task_weights!r}")
    return [(task, args.seed_offset + first + j) for j, task in enumerate(order)]


# -- one episode -------------------------------------------------------------------------------------------------

@dataclass
class Step:
    """One turn as GRPO needs it: the exact prompt, the sampled reply's token ids and their logprobs."""

    messages: list[dict]
    token_ids: list[int]
    logprobs: list[float]
    text: str
    parsed: bool


@dataclass
class Episode:
    prompt: int  # index of its (task, seed) in the iteration's batch: the group it belongs to
    task: str
    seed: int
    success: bool = False
    raw_reward: float = 0.0
    status: str = ""
    steps: list[Step] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""
    reward: float = 0.0  # set in the reward section


class SamplingAgent(Agent):
    """The agent loop with one sampled reply per turn, each kept with its token ids and logprobs."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.recorded: list[Step] = []

    def decide(self, messages: list[dict]) -> Decision:
        cfg = self.config
        g = self.model.generate(messages, n=1, temperature=cfg.temperature, max_tokens=cfg.max_tokens)[0]
        try:
            response, error = A.parse_response(g.text), ""
        except A.ActionParseError as e:
            response, error = None, str(e)
        self.recorded.append(Step(messages, list(g.token_ids), list(g.logprobs), g.text, response is not None))
        return Decision(g.text, response, error)


class SamplingPolicy:
    """GRPO's policy on the shared episode runner (agent/runner.py): the agent loop with one sampled reply per
    turn. The record carries the replies (``samples``: each with its prompt, token ids and logprobs). With a
    train.lockstep.LockstepBatcher as ``model``, each episode registers with it, so that episodes waiting on the
    same prompt share a decode. On a Ray actor it has no model of its own: a job's options name the checkpoint
    the driver saved for the iteration (``checkpoint``, ``version``, ``config``), loaded once per iteration."""

    needs_screenshot = True

    def __init__(self, model=None, config: AgentConfig | None = None, threads: int = 1):
        self.model, self.config, self.threads, self.version = model, config, threads, None

    def run_episode(self, env, task, seed: int, out_dir: str | None = None, checkpoint: str | None = None,
                    version: int | None = None, config: dict | None = None) -> dict:
        if checkpoint is not None and version != self.version:  # a new iteration: the driver saved new weights
            self.model = None
            self.model = TransformersModel(checkpoint, threads=self.threads, coord_space=card_of(checkpoint).coord_space)
            self.version = version
        agent = SamplingAgent(self.model, env, AgentConfig(**config) if config else self.config,
                              out_dir=Path(out_dir) if out_dir else None)
        with self.model.episode() if hasattr(self.model, "episode") else contextlib.nullcontext():
            result = agent.run(seed=seed, task=task)
        return {"task": task.id, "seed": seed, "success": result.success, "reward": result.reward,
                "steps": result.steps, "seconds": result.seconds, "error": result.error, "status": result.status,
                "samples": agent.recorded}


def actor_policy(threads: int) -> SamplingPolicy:
    """A Ray actor's policy (made on the actor): its torch threads set, its weights loaded at its first episode."""
    torch.set_num_threads(threads)
    return SamplingPolicy(threads=threads)


def play_groups(pool, prompts: list[tuple], group: int, rollout_dir: Path | None = None,
                options: dict | None = None) -> list[Episode]:
    """``group`` episodes of every (task, seed) in ``prompts`` on a runner pool, in that order: prompt by prompt.
    An episode the runner could not play (its browser crashed twice, its actor died) comes back with its
    ``error``; the trainer drops its group."""
    jobs, prompt_of = [], []
    for p, (task, seed) in enumerate(prompts):
        for g in range(group):
            where = str(rollout_dir / task.id / str(seed) / f"g{g}") if rollout_dir else None
            jobs.append(Job(task, seed, {"out_dir": where, **(options or {})}))
            prompt_of.append(p)
    records = dict(pool.run(jobs))
    return [Episode(prompt_of[i], r["task"], r["seed"], r["success"], r["reward"], r.get("status", ""),
                    r.get("samples", []), r["seconds"], r["error"]) for i, r in sorted(records.items())]


def rollout_stats(episodes: list[Episode]) -> dict:
    """Means over the iteration's episodes (those a crash dropped are only counted as errors)."""
    ok = [ep for ep in episodes if not ep.error]
    n, steps = max(1, len(ok)), [s for ep in ok for s in ep.steps]
    per_task: dict[str, list[bool]] = {}
    for ep in ok:
        per_task.setdefault(ep.task, []).append(ep.success)
    return {"reward": sum(ep.reward for ep in ok) / n, "success": sum(ep.success for ep in ok) / n,
            "per_task_success": {t: sum(v) / len(v) for t, v in sorted(per_task.items())},
            "parsed": sum(s.parsed for s in steps) / max(1, len(steps)), "episodes": len(episodes),
            "errors": len(episodes) - len(ok), "tokens": sum(len(s.token_ids) for s in steps)}


# -- the trainer's interface -------------------------------------------------------------------------------------

class Rollouts:
    """The trainer's one handle on episodes: ``play`` an iteration's prompts, ``sync`` after an update, ``close``.

    ``args`` is train/grpo.py's Args (this module reads its RolloutArgs fields, ``out``, ``threads`` and
    ``vllm``); ``stats`` holds what the last ``play`` adds to the iteration's log line."""

    def __init__(self, args, policy, checkpoint: Path):
        self.args, self.checkpoint, self.stats = args, checkpoint, {}
        config = config_for(card_of(checkpoint))
        self.config = AgentConfig(**{**config.__dict__, "temperature": args.temperature,
                                     "max_tokens": args.max_tokens, "best_of": 1})
        self.browser, self.generator = None, None
        if args.ray:  # job i on actor i % workers, so each actor's sampler draws the same numbers on a rerun
            self.pool = RayPool(partial(BrowserEnv, max_steps=args.max_steps), partial(actor_policy, args.threads),
                                args.workers, args.ray, pinned=True)
        else:
            self.browser = Browser()
            if args.vllm:  # vLLM samples under the card's reply pattern: the trainer's masks must be the same ones
                policy.use_pattern = True
            self.generator = LockstepBatcher(start_vllm(args, checkpoint) if args.vllm else policy)
            # Jobs strictly in order: the lockstep decodes, and the sampler's random stream, follow it.
            self.pool = ThreadPool(partial(BrowserEnv, browser=self.browser, max_steps=args.max_steps),
                                   SamplingPolicy(self.generator, self.config), args.workers, by_task=False)

    def play(self, prompts: list[tuple], iteration: int) -> list[Episode]:
        """``group`` episodes of every (task, seed) in ``prompts``, with the weights of ``iteration``."""
        args = self.args
        rollout_dir = Path(args.out) / "rollouts" / f"iter{iteration:05d}" if args.save_rollouts else None
        if args.ray:
            return play_groups(self.pool, prompts, args.group, rollout_dir, {
                "checkpoint": str(self.checkpoint), "version": iteration, "config": self.config.__dict__})
        calls, decodes = self.generator.calls, self.generator.decodes
        episodes = play_groups(self.pool, prompts, args.group, rollout_dir)
        sharing = (self.generator.calls - calls) / max(1, self.generator.decodes - decodes)
        self.stats = {"replies_per_decode": round(sharing, 2)}
        return episodes

    def sync(self, policy, peft_model) -> None:
        """After an update: the sampler takes the new weights (Ray actors and lockstep threads read them anyway)."""
        if self.args.vllm:
            sync_vllm(self.args, self.generator, policy, peft_model, self.checkpoint)

    def close(self) -> None:
        self.pool.close()
        if self.browser is not None:
            self.browser.close()
