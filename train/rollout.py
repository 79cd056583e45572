"""GRPO's rollouts: which (task, seed) prompts an iteration plays, and ``group`` episodes of each.

The trainer (train/grpo.py) sees one narrow interface, ``Rollouts``: ``play(prompts, iteration)`` returns the
iteration's ``Episode``s (every step with the exact prompt it was shown and the sampled reply's token ids and
logprobs), ``sync(policy, peft_model)`` follows each update, ``close()`` ends it. Everything that plays an
episode sits behind it, so it can move onto a shared episode runner without the trainer noticing.

Episodes run in three ways:

- threads (default): ``workers`` episodes at once, each on its own page of one shared Chromium. The one model
  generates in lockstep (train/lockstep.py): calls are held until every running episode waits for a reply, and
  calls with the same prompt (a group's episodes at their first turn, and for as long as they act alike) become
  one n-row decode that prefills the prompt once. Give ``workers`` a multiple of ``group``.
- ``--ray [ADDRESS]``: env workers are Ray actors (a local Ray, or an existing cluster). Each owns a Chromium and
  its own copy of the policy, loaded from ``out/checkpoint`` and reloaded whenever the iteration changes; the
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
import queue
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import torch

from agent.loop import Agent, AgentConfig, Decision, config_for
from core import actions as A
from envs.browser import Browser, BrowserCrashed, BrowserEnv
from envs.tasks import resolve_tasks
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


def play_episode(model, env, config: AgentConfig, prompt: int, task, seed: int,
                 out_dir: Path | None = None) -> Episode:
    """One episode through the agent loop; a crashed browser gets one retry, anything else is recorded."""
    t0 = time.perf_counter()
    for attempt in (1, 2):
        agent = SamplingAgent(model, env, config, out_dir=out_dir)
        try:
            result = agent.run(seed=seed, task=task)
            return Episode(prompt, task.id, seed, result.success, result.reward, result.status, agent.recorded,
                           round(time.perf_counter() - t0, 3), result.error)
        except BrowserCrashed as e:
            error = f"browser crashed (attempt {attempt}): {e}"
        except Exception as e:  # a page bug: the episode (and so its group) is dropped, the run goes on
            error = f"{type(e).__name__}: {e}"
            break
    return Episode(prompt, task.id, seed, seconds=round(time.perf_counter() - t0, 3), error=error[:2000])


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


# -- many episodes: threads or Ray actors ------------------------------------------------------------------------

def rollout_threads(model, envs: list, config: AgentConfig, jobs: list[tuple], rollout_dir: Path | None):
    """Episodes on worker threads, each borrowing a page from ``envs`` for one episode. With a
    train.lockstep.LockstepBatcher as ``model``, each episode registers with it, so that episodes waiting on the
    same prompt share a decode."""
    free: queue.Queue = queue.Queue()
    for env in envs:
        free.put(env)

    def one(job):
        prompt, g, task, seed = job
        env = free.get()
        try:
            where = rollout_dir / task.id / str(seed) / f"g{g}" if rollout_dir else None
            with model.episode() if hasattr(model, "episode") else contextlib.nullcontext():
                return play_episode(model, env, config, prompt, task, seed, where)
        finally:
            free.put(env)

    with ThreadPoolExecutor(len(envs)) as pool:
        return list(pool.map(one, jobs))


def start_ray_actors(args: RolloutArgs):
    """``workers`` Ray actors, each owning a Chromium and a policy copy it loads from the checkpoint directory."""
    try:
        import ray
    except ImportError as e:
        raise ImportError("--ray needs Ray: pip install 'screenwise[ray]'") from e

    started = not ray.is_initialized()
    if started:
        address = None if args.ray == "local" else args.ray
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 num_cpus=max(2, args.workers) if address is None else None)

    @ray.remote(num_cpus=1)
    class RolloutActor:
        def __init__(self, max_steps: int, threads: int):
            torch.set_num_threads(threads)
            self.env = BrowserEnv(max_steps=max_steps)
            self.threads, self.model, self.version = threads, None, None

        def run(self, checkpoint: str, version: int, config: dict, prompt: int, task_id: str, seed: int,
                out_dir: str | None) -> Episode:
            if version != self.version:  # a new iteration: the driver saved new weights there
                self.model = None
                self.model = TransformersModel(checkpoint, threads=self.threads,
                                               coord_space=card_of(checkpoint).coord_space)
                self.version = version
            task = resolve_tasks(task_id)[0]
            return play_episode(self.model, self.env, AgentConfig(**config), prompt, task, seed,
                                Path(out_dir) if out_dir else None)

        def close(self) -> None:
            self.env.close()

    return [RolloutActor.remote(args.max_steps, args.threads) for _ in range(max(1, args.workers))], started


def rollout_ray(actors: list, checkpoint: Path, version: int, config: AgentConfig, jobs: list[tuple],
                rollout_dir: Path | None) -> list[Episode]:
    import ray

    refs = []
    for i, (prompt, g, task, seed) in enumerate(jobs):
        where = str(rollout_dir / task.id / str(seed) / f"g{g}") if rollout_dir else None
        refs.append(actors[i % len(actors)].run.remote(str(checkpoint), version, config.__dict__, prompt, task.id,
                                                       seed, where))
    episodes = []
    for (prompt, _g, task, seed), ref in zip(jobs, refs):
        try:
            episodes.append(ray.get(ref))
        except Exception as e:  # the actor died: the group is dropped, the run goes on
            episodes.append(Episode(prompt, task.id, seed, error=f"ray worker failed: {e}"[:2000]))
    return episodes


# -- the trainer's interface -------------------------------------------------------------------------------------

class Rollouts:
    """The trainer's one handle on episodes: ``play`` an iteration's prompts, ``sync`` after an update, ``close``.

    ``args`` is train/grpo.py's Args (this module reads its RolloutArgs fields, ``out``, ``threads`` and
    ``vllm``); ``stats`` holds what the last ``play`` adds to the iteration's log line."""

    def __init__(self, args, policy, checkpoint: Path):
        self.args, self.checkpoint, self.stats = args, checkpoint, {}
        config = config_for(card_of(checkpoint))
        self.config = AgentConfig(**{**config.__dict__, "max_steps": args.max_steps, "temperature": args.temperature,
                                     "max_tokens": args.max_tokens, "best_of": 1})
        self.browser, self.envs, self.actors, self.started_ray, self.generator = None, [], [], False, None
        if args.ray:
            self.actors, self.started_ray = start_ray_actors(args)
        else:
            self.browser = Browser()
            self.envs = [BrowserEnv(browser=self.browser, max_steps=args.max_steps)
                         for _ in range(max(1, args.workers))]
            if args.vllm:  # vLLM samples under the card's reply pattern: the trainer's masks must be the same ones
                policy.use_pattern = True
            self.generator = LockstepBatcher(start_vllm(args, checkpoint) if args.vllm else policy)

    def play(self, prompts: list[tuple], iteration: int) -> list[Episode]:
        """``group`` episodes of every (task, seed) in ``prompts``, with the weights of ``iteration``."""
        args = self.args
        jobs = [(p, g, task, seed) for p, (task, seed) in enumerate(prompts) for g in range(args.group)]
        rollout_dir = Path(args.out) / "rollouts" / f"iter{iteration:05d}" if args.save_rollouts else None
        if args.ray:
            return rollout_ray(self.actors, self.checkpoint, iteration, self.config, jobs, rollout_dir)
        calls, decodes = self.generator.calls, self.generator.decodes
        episodes = rollout_threads(self.generator, self.envs, self.config, jobs, rollout_dir)
        sharing = (self.generator.calls - calls) / max(1, self.generator.decodes - decodes)
        self.stats = {"replies_per_decode": round(sharing, 2)}
        return episodes

    def sync(self, policy, peft_model) -> None:
        """After an update: the sampler takes the new weights (Ray actors and lockstep threads read them anyway)."""
        if self.args.vllm:
            sync_vllm(self.args, self.generator, policy, peft_model, self.checkpoint)

    def close(self) -> None:
        for env in self.envs:
            env.close()
        if self.browser is not None:
            self.browser.close()
        if self.actors:
            import ray

            try:
                ray.get([actor.close.remote() for actor in self.actors], timeout=30)
            finally:
                for actor in self.actors:
                    ray.kill(actor)
            if self.started_ray:
                ray.shutdown()
