"""GRPO on real MiniWoB pages: the agent's own multi-turn episodes, rewarded by task success.

One iteration: for each (task, seed) prompt of the batch, play ``group`` episodes with the current policy through
the real agent loop (agent/loop.py) on real pages (envs/browser.py), sampling at ``temperature``; every step keeps
the exact prompt messages it was shown and the sampled reply's token ids and logprobs. Each episode gets one
reward, each group of episodes of the same prompt one advantage per episode, and every generated token of every
step of an episode carries that episode's advantage into a PPO-clipped loss.

Kept from GRPO (DeepSeekMath) and its successors:

- group-relative advantages, no value network: A_i = (r_i - mean) / (std + eps) within a group (population std);
- the PPO-clipped ratio against the sampling policy's logprobs, with ``ppo_epochs`` passes in minibatches;
- beta * KL to a frozen reference with the k3 estimator exp(ref - logp) - (ref - logp) - 1 (beta = 0 loads none);
- from DAPO: clip-higher (``eps_high`` above ``eps_low``), the token-level mean over all completion tokens of a
  minibatch (not a mean of per-sequence means), and dynamic sampling's filter: groups whose rewards are all equal
  are skipped (they carry no gradient and only dilute the mean);
- from Dr. GRPO: ``--no-scale-std`` drops the division by the group's std.

Added for multi-task, multi-turn batches: ``--loss-agg episode`` weighs every episode alike in the token mean
(GRPO's per-sequence mean, with the episode as the sequence), since under DAPO's token mean a task's weight grows
with its episodes' length; ``--task-weights signal`` gives tasks whose groups are likely to differ more of an
iteration's prompts, a cheap stand-in for DAPO's refill of skipped groups.

``--distill-data DIR --distill-steps K`` interleaves distillation with the RL: after each update, K SFT steps on
the teachers' successful steps of ``--distill-tasks`` (their own optimizer), in the manner of PPO-ptx (InstructGPT's
pretraining term, here teacher data) and of the SFT/RL interleaving of later reasoning-model work. Reward can only
sharpen what the policy already finds; a task the teacher demonstrates from what the student sees can also be
taught directly. The two are logged apart (``distill_loss``, ``distill_s``) and both count in ``--minutes``.
``--distill-first N`` takes N of those steps before the first rollout, so the RL starts from the teacher's form.
``--distill-last N`` takes N after the last iteration, each batch's tasks drawn uniformly from the trained and the
retention tasks together: DeepSeek-R1's third stage (SFT over everything once the RL is done), so the checkpoint
keeps the tasks the RL did not train; the weights before it stay in ``out/rl``.

Dropped: DAPO's refill of skipped groups with fresh samples (an iteration just trains on fewer groups) and its
overlong-reply filtering and shaping; Dr. GRPO's constant normaliser (this is DAPO's token mean); a learning-rate
schedule beyond a linear warmup (``warmup``); reward models; rollout/trainer logprob mismatch corrections (old
logprobs come from generation).

Rewards: 1 for success (raw reward > 0, as BrowserGym counts it) plus ``format_reward`` x the fraction of the
episode's replies that parsed. ``shaping_printable`` is a test-only shaping term (see Args).

Rollouts run in three ways:

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
  update the weights are loaded into vLLM's in-process engine (or, where that internal path is missing, vLLM is
  restarted from the saved checkpoint). THIS PATH IS UNTESTED HERE: no GPU and no vLLM on these machines.

``--lora`` trains peft LoRA adapters on any HF VLM directory; the frozen base is the reference (adapters off).
The checkpoint then holds the merged weights (so ``hf:out/checkpoint``, Ray actors and vLLM load it as any
model) and the adapter under ``checkpoint/adapter`` (what a rerun resumes from, on top of the base at --init).

Hyperparameters: ``lr`` defaults to 1e-5 for real models; the DeepSeekMath/R1 anchors are lr 1e-6..3e-6, KL
0.001..0.04 and groups of 8..64 (the tiny random models of the tests take 1e-3 to move visibly in two iterations).
``temperature`` defaults to 1.0, where the sampling distribution is the policy itself (generation logprobs are
those of the raw distribution). Below 1 the trained policy is the tempered one, softmax(logits / T): ratios, KL
and the old logprobs (recomputed before each update, ``tempered_old_logprobs``) are all taken at T, so the
samples stay on-policy, and since tempering keeps the argmax, what it learns shows in greedy decoding.

The update is packed (``Unit``): the samples that share a prompt are one batched forward pass, and identical
samples (same prompt, same reply, advantages of one sign) are one row weighted by their number, which leaves the
loss, its gradient and the token mean exactly as they were.

Everything leaves in ``out``: ``checkpoint/`` (an HF directory, save_pretrained), ``state.pt`` (optimizer,
iteration, RNG: a rerun resumes), ``metrics.jsonl`` (one line per iteration), ``curve.png``, ``eval/``, and with
``--val-seeds``, ``val/`` and ``best/`` (the checkpoint the validation seeds chose; the held-out seeds never
choose anything).

    python -m train.grpo --init runs/sft/checkpoint --tasks click-button,click-link --seeds-per-iter 4 \
        --group 4 --iters 50 --out runs/grpo
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import json
import math
import os
import queue
import random
import shutil
import string
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import torch

from agent import actions as A
from agent.flags import Parser, field_help
from agent.loop import Agent, AgentConfig, Decision, config_for
from models.card import Card
from train.lockstep import LockstepBatcher


@dataclass
class Args:
    init: str = ""
    """Checkpoint directory to start from (copied to out/checkpoint on the first run; with --lora, the base)."""
    out: str = "runs/grpo"
    """Output directory: checkpoint/, state.pt, metrics.jsonl, curve.png, eval/, rollouts/."""
    tasks: str = "click-button,click-link,click-checkboxes,enter-text,click-tab-2,login-user"
    """Training tasks: a,b,c (MiniWoB ids) or a spec envs.tasks.resolve_tasks knows (teachers, webgum56)."""
    seeds_per_iter: int = 4
    """Prompts per iteration: (task, seed) pairs, tasks in turn, every seed new."""
    group: int = 4
    """Episodes sampled per prompt (G)."""
    iters: int = 50
    """Iterations in all (a resumed run continues to this number)."""
    minutes: float = 0.0
    """Wall-clock budget for training (rollouts + updates + distillation, evaluations excluded; 0: none). An
    iteration starts only if one as long as the last fits in what is left, so the run ends inside the budget and
    evaluates; a resumed run counts the minutes it already spent."""
    seed_offset: int = 0
    """Training seeds are seed_offset, seed_offset + 1, ... (eval seeds sit far away, at eval_seed_offset)."""
    repeat_seeds: bool = False
    """Replay the first iteration's (task, seed) pairs every iteration: a fit test (can the updates learn the
    episodes they see?), not training. Fresh seeds test whether what they learn carries over."""
    max_steps: int = 5
    """Turns per episode."""
    temperature: float = 1.0
    """Sampling temperature of the rollouts."""
    max_tokens: int = 128
    """Tokens per reply."""
    format_reward: float = 0.1
    """Added to the reward: this weight x the fraction of the episode's replies that parsed."""
    shaping_printable: float = 0.0
    """Test-only shaping: this weight x the fraction of printable ASCII in the replies. A random model's replies
    differ in it, so its groups carry a signal (its successes and parses are all 0). Leave 0 in real runs."""
    scale_std: bool = True
    """Divide advantages by the group's std (GRPO); --no-scale-std is the Dr. GRPO option."""
    eps_low: float = 0.2
    """Lower clip of the PPO ratio: it is kept within [1 - eps_low, 1 + eps_high]."""
    eps_high: float = 0.2
    """Upper clip; DAPO's clip-higher uses 0.28."""
    beta: float = 0.0
    """KL weight to the frozen reference (k3); 0 loads no reference model."""
    lr: float = 1e-5
    """Peak learning rate of the policy's AdamW."""
    warmup: int = 0
    """Optimizer updates over which the learning rate rises linearly from lr/warmup to lr (0: none). Adam's first
    update moves every weight by about lr whatever its gradient; a small model can jump far from the sampler on it."""
    weight_decay: float = 0.0
    """AdamW weight decay of the policy's optimizer."""
    grad_clip: float = 1.0
    """Largest gradient norm of an update (RL and distillation steps alike)."""
    ppo_epochs: int = 1
    """Passes over an iteration's steps."""
    loss_agg: str = "token"
    """How a minibatch's tokens are averaged. 'token': DAPO's token mean, so an episode weighs as many tokens as it
    generated (a task of 8-step episodes outweighs a one-click task about tenfold). 'episode': each episode's
    tokens are averaged first, so every episode of the minibatch weighs the same, whatever its length."""
    task_weights: str = "uniform"
    """How an iteration's prompts are spread over the tasks. 'uniform': in turn. 'signal': in proportion to the
    chance that a task's group has unequal rewards, 1 - p^G - (1-p)^G, with p its rollout success over the last
    ``signal_window`` iterations (floor ``signal_floor``; tasks not yet played count as 1). Tasks the policy always
    or never solves give flat groups, which the advantage section skips: their rollouts are spent on nothing."""
    signal_window: int = 5
    """Iterations of rollout success that ``--task-weights signal`` looks back over."""
    signal_floor: float = 0.15
    """Smallest weight ``--task-weights signal`` gives a task, so no task drops out."""
    minibatch: int = 16
    """Samples (steps) per optimizer update (0: all of an iteration's samples in one update). Small minibatches
    memorise: on 4 fixed click-color seeds two updates of 16 samples took the policy from 16% to 91%, while on
    fresh seeds the same updates stayed at chance; one update over 16 seeds x 4 episodes lifted identify-shape
    on fresh seeds from 45% to 81-98% by its last 6 of 25 updates (docs/experiments.md, run 5)."""
    workers: int = 2
    """Parallel episodes: threads (one page each in one Chromium) or, with --ray, Ray actors."""
    ray: str = ""
    """'' : threads. 'local' (bare --ray): a local Ray. Otherwise the address of an existing Ray cluster."""
    vllm: bool = False
    """Generate with vLLM (GPU; untested here)."""
    vllm_memory: float = 0.4
    """vLLM's share of GPU memory (the trainer needs the rest)."""
    lora: bool = False
    """Train LoRA adapters (peft) instead of all weights."""
    lora_rank: int = 16
    """LoRA rank (with --lora)."""
    lora_alpha: int = 32
    """LoRA alpha: the adapters are scaled by alpha / rank (with --lora)."""
    lora_targets: str = "q_proj,k_proj,v_proj,o_proj"
    """Module names that get adapters (Qwen2.5-VL: the language model's attention)."""
    device: str = "cpu"
    """Torch device of the trainer (cpu, cuda)."""
    dtype: str = ""
    """Training dtype ('' keeps the checkpoint's; bfloat16 on a GPU)."""
    eval_seeds: int = 0
    """Held-out episodes per eval task before training and at the end (0: no evaluation)."""
    eval_every: int = 0
    """Iterations between held-out evaluations (0: only before and at the end)."""
    eval_tasks: str = ""
    """Tasks for evaluation ('' : the training tasks)."""
    eval_seed_offset: int = 100_000
    """First held-out evaluation seed."""
    val_seeds: int = 0
    """Validation episodes per eval task, before training and every ``val_every`` iterations, on seeds of their
    own (``val_seed_offset``). The best checkpoint on them is kept in out/best, and the final held-out evaluation
    measures it as well as the last one (0: no validation; the held-out figure is then the last checkpoint's)."""
    val_every: int = 10
    """Iterations between validations (with ``val_seeds``)."""
    val_seed_offset: int = 50_000
    """First validation seed."""
    save_rollouts: bool = False
    """Write every episode as a trajectory (agent/trajectory.py) under out/rollouts/ for the viewer."""
    distill_data: str = ""
    """Teacher trajectory directories (a,b): with ``distill_steps``, every iteration also takes that many SFT
    steps on their successful steps (train/sft.py's loss and batches, tasks drawn uniformly), with an optimizer
    of its own. Reward teaches what the policy can find; the teacher's replies teach what it cannot."""
    distill_tasks: str = ""
    """The tasks whose teacher steps are used ('' : all training tasks). Leave out tasks where the teacher acts
    on what the student cannot see (the tab or folder a hidden link is in): copying it teaches guessing. Or record
    those tasks with ``--policy model:teacher:visible``, whose teachers search instead (envs/teachers/visible.py)."""
    distill_steps: int = 0
    """SFT steps per iteration (0: none, plain GRPO)."""
    distill_first: int = 0
    """SFT steps before the first iteration, inside the budget: the RL then starts from a policy that already
    writes the teacher's form, instead of rewarding the old one while distillation teaches the new one."""
    distill_last: int = 0
    """SFT steps after the last iteration, inside the budget (the RL stops early enough to leave them time), every
    batch's tasks drawn uniformly from ``distill_data`` and ``retain_data`` together, all tasks alike: DeepSeek-R1's
    third stage. The RL-only weights are copied to out/rl first. Needs ``retain_data`` (else it is ``distill_first``
    at the end)."""
    distill_batch: int = 8
    """Examples per distillation step."""
    distill_lr: float = 5e-4
    """Learning rate of the distillation steps' own AdamW."""
    mark_matches: bool = False
    """Turn on the ``Named in the task:`` line (agent/memory.py ``match_line``) in the new run's checkpoint card:
    its rollouts, evaluations and every later use of the checkpoint read it. Teacher data recorded with
    ``--policy model:teacher:*`` carries it already."""
    retain_data: str = ""
    """Teacher trajectory directories (a,b) of tasks the run does not train on: ``retain_frac`` of every
    distillation batch comes from their successful steps (tasks drawn uniformly), PPO-ptx's pretraining mix, so
    the checkpoint keeps what it could do elsewhere (run 10 lost 25 points on the other core tasks)."""
    retain_tasks: str = ""
    """The tasks whose retention steps are used ('': all the retention data holds)."""
    retain_frac: float = 0.25
    """Share of every distillation batch drawn from ``retain_data``."""
    update_threads: int = 0
    """torch threads for the update and distillation steps, when the pages are idle (0: ``threads``)."""
    threads: int = 1
    """torch threads (rollouts; updates too unless ``update_threads`` is set)."""
    seed: int = 0
    """Seed of torch and of the update and distillation batches' order."""
    quiet: bool = False
    """No progress bar."""


# -- rollout ---------------------------------------------------------------------------------------------------

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
    from envs.browser import BrowserCrashed

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


def task_signal(metrics: list[dict], tasks: list, args: Args) -> list[float]:
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


def iteration_prompts(tasks: list, args: Args, iteration: int, metrics: list[dict] | None = None) -> list[tuple]:
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


def start_ray_actors(args: Args):
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
            from envs.browser import BrowserEnv

            torch.set_num_threads(threads)
            self.env = BrowserEnv(max_steps=max_steps)
            self.threads, self.model, self.version = threads, None, None

        def run(self, checkpoint: str, version: int, config: dict, prompt: int, task_id: str, seed: int,
                out_dir: str | None) -> Episode:
            from envs.tasks import resolve_tasks
            from models.hf import TransformersModel

            if version != self.version:  # a new iteration: the driver saved new weights there
                self.model = None
                self.model = TransformersModel(checkpoint, threads=self.threads, coord_space=card_of(checkpoint).coord_space)
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


# -- reward ----------------------------------------------------------------------------------------------------

PRINTABLE = set(string.printable)


def episode_reward(episode: Episode, format_reward: float = 0.1, shaping_printable: float = 0.0) -> float:
    """Success (0 or 1), plus ``format_reward`` x the share of replies that parsed, plus the test-only shaping."""
    steps = episode.steps
    parsed = sum(s.parsed for s in steps) / len(steps) if steps else 0.0
    reward = float(episode.success) + format_reward * parsed
    if shaping_printable:
        text = "".join(s.text for s in steps)
        reward += shaping_printable * (sum(c in PRINTABLE for c in text) / len(text) if text else 0.0)
    return reward


# -- advantage -------------------------------------------------------------------------------------------------

def group_advantages(rewards: list[float], scale_std: bool = True, eps: float = 1e-4) -> list[float]:
    """A_i = (r_i - mean) / (std + eps), with the group's population std; ``scale_std=False`` (Dr. GRPO): r_i - mean.

    A group whose rewards are all equal gets all zeros (the trainer skips such groups).
    """
    mean = sum(rewards) / len(rewards)
    centred = [r - mean for r in rewards]
    if not scale_std:
        return centred
    std = math.sqrt(sum(c * c for c in centred) / len(rewards))
    return [c / (std + eps) for c in centred]


def informative(rewards: list[float]) -> bool:
    """Whether a group carries signal: DAPO's dynamic sampling keeps only groups with unequal rewards."""
    return max(rewards) - min(rewards) > 1e-9


# -- loss ------------------------------------------------------------------------------------------------------

def sample_weight(episode: Episode, args: Args) -> float:
    """A step's weight in the token mean: 1 ('token'), or 1 / the episode's generated tokens ('episode'), so
    that every episode weighs about the same whatever its length (its tokens' weights add up to one, counting
    those the reference constraint forced, which are masked out of the loss)."""
    if args.loss_agg == "token":
        return 1.0
    if args.loss_agg == "episode":
        return 1.0 / max(1, sum(len(s.token_ids) for s in episode.steps))
    raise ValueError(f"loss_agg is 'token' or 'episode', not {args.loss_agg!r}")


def grpo_loss(logp: torch.Tensor, old_logp: torch.Tensor, ref_logp: torch.Tensor | None, adv: torch.Tensor,
              mask: torch.Tensor, eps_low: float = 0.2, eps_high: float = 0.2, beta: float = 0.0,
              row_weight: torch.Tensor | None = None) -> tuple[torch.Tensor, dict]:
    """The clipped GRPO objective, negated, as a token-level mean over the completion tokens in ``mask``.

    logp, old_logp, ref_logp, mask: [B, T] (logp with gradients; mask True on completion tokens; masked-out
    positions may hold anything, NaN included); adv: [B] (one advantage per row) or [B, T].
    Per token: -min(ratio * A, clip(ratio, 1 - eps_low, 1 + eps_high) * A) + beta * k3, where ratio =
    exp(logp - old_logp) and k3 = exp(ref - logp) - (ref - logp) - 1 (an unbiased, positive KL estimate).
    ``ref_logp`` may be None when beta is 0. ``row_weight`` [B] counts each row that many times (a row standing
    for identical samples, ``Unit``). Returns (loss, stats): stats are floats over the masked tokens,
    ``clip_frac`` (tokens whose clipped term is taken, so their gradient is zero), ``kl`` and ``ratio`` means.
    """
    mask = mask.bool()
    # Masked positions are replaced by finite values first: a NaN there would reach the gradient through where().
    old_logp = torch.where(mask, old_logp, logp.detach())
    adv = adv[:, None] if adv.dim() == 1 else adv
    ratio = torch.exp(logp - old_logp)
    clipped = ratio.clamp(1 - eps_low, 1 + eps_high)
    per_token = -torch.minimum(ratio * adv, clipped * adv)
    kl = torch.zeros_like(logp)
    if ref_logp is not None:
        delta = torch.where(mask, ref_logp, logp.detach()) - logp
        kl = torch.exp(delta) - delta - 1
        if beta:
            per_token = per_token + beta * kl
    weight = mask.to(logp.dtype)
    if row_weight is not None:
        weight = weight * row_weight[:, None]
    total = weight.sum()
    n = torch.where(total > 0, total, torch.ones_like(total))  # weights may be fractions ('episode'); none: 0/1
    loss = (per_token * weight).sum() / n
    with torch.no_grad():
        is_clipped = ((ratio < 1 - eps_low) & (adv < 0)) | ((ratio > 1 + eps_high) & (adv > 0))
        stats = {"clip_frac": float((is_clipped * weight).sum() / n), "kl": float((kl * weight).sum() / n),
                 "ratio": float((ratio * weight).sum() / n), "tokens": float(weight.sum())}
    return loss, stats


@dataclass
class Unit:
    """One prompt and the distinct replies sampled for it, as one batched forward pass of the update.

    A group's episodes often see the same prompt (always at their first turn) and often write the same reply.
    Samples with the same prompt share a unit; samples with the same reply and an advantage of the same sign
    share a row, whose advantage is their mean and whose weight is their number. The clipped objective is linear
    in A for a fixed sign, so a row of weight c stands exactly for its c samples, in the loss, the KL term and
    the token mean (with unequal sample weights, the row's advantage is their weighted mean)."""

    messages: list[dict]
    steps: list[Step] = field(default_factory=list)
    adv: list[float] = field(default_factory=list)
    count: list[int] = field(default_factory=list)
    weight: list[float] = field(default_factory=list)
    """Each row's weight in the token mean: its samples' weights summed (a sample weighs 1, or with
    ``loss_agg='episode'`` the inverse of its episode's token count); the count's by default."""
    ref: torch.Tensor | None = None  # [B, C] the reference's logprobs, taken once (beta > 0)

    def __post_init__(self):
        if not self.weight:
            self.weight = [float(c) for c in self.count]

    @property
    def samples(self) -> int:
        return sum(self.count)


def pack_samples(samples: list[tuple]) -> list[Unit]:
    """Samples, (step, advantage) or (step, advantage, weight), gathered into units by prompt, and into rows by
    reply and sign."""
    from train.lockstep import prompt_key

    units: dict[str, Unit] = {}
    rows: dict[tuple, tuple[Unit, int]] = {}
    for step, adv, *rest in samples:
        w = float(rest[0]) if rest else 1.0
        key = prompt_key(step.messages, 0, 0)
        unit = units.setdefault(key, Unit(step.messages))
        row = (key, tuple(step.token_ids), adv > 0)
        if row in rows:
            u, i = rows[row]
            u.adv[i] = (u.adv[i] * u.weight[i] + adv * w) / (u.weight[i] + w)
            u.count[i] += 1
            u.weight[i] += w
        else:
            rows[row] = (unit, len(unit.steps))
            unit.steps.append(step)
            unit.adv.append(adv)
            unit.count.append(1)
            unit.weight.append(w)
    return list(units.values())


def unit_logprobs(policy, unit: Unit, temperature: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """The policy's logprobs of each row's sampled tokens given the unit's prompt, in one forward pass: ([B, C]
    with grad, mask [B, C]), those of the tempered distribution softmax(logits / temperature) the sampler drew from.

    For a model with constrained references (models/constrain.py) they are taken over the ids the constraint
    allowed at each position, as the sampler did: the ratio then compares like with like, and tokens the
    constraint forced carry no gradient."""
    ids = [step.token_ids for step in unit.steps]
    batch = policy.encode(unit.messages, ids)
    kw = {"temperature": temperature} if temperature != 1.0 else {}
    masks = [policy.allowed_masks(unit.messages, i) for i in ids] if hasattr(policy, "allowed_masks") else [None]
    if masks[0] is None:
        return policy.token_logprobs(batch, **kw)
    allowed = torch.ones(len(ids), max(map(len, ids)), masks[0].shape[-1], dtype=torch.bool)
    for r, m in enumerate(masks):
        allowed[r, :m.shape[1]] = m[0]
    return policy.token_logprobs(batch, allowed.to(batch["input_ids"].device), **kw)


def reference_logprobs(units: list[Unit], policy, reference, peft_model, temperature: float = 1.0) -> None:
    """Set each unit's ``ref``: the frozen reference's logprobs [B, C], from a second model or the LoRA base."""
    with torch.no_grad():
        for unit in units:
            if peft_model is not None:
                with peft_model.disable_adapter():
                    unit.ref = unit_logprobs(policy, unit, temperature)[0]
            else:
                unit.ref = unit_logprobs(reference, unit, temperature)[0]


def tempered_old_logprobs(units: list[Unit], policy, temperature: float) -> None:
    """Below temperature 1 the sampler drew from softmax(logits / T), while a generation reports the raw
    (temperature-1) logprobs; the ratio's denominator is then recomputed, before any update, as the policy's
    tempered logprobs of what it sampled. The trained policy is that tempered one, whose greedy reply is the
    raw model's greedy reply: sharpening it toward rewarded replies moves the greedy decisions an eval makes."""
    with torch.no_grad():
        for unit in units:
            logp, _ = unit_logprobs(policy, unit, temperature)
            for step, row in zip(unit.steps, logp.tolist()):
                step.logprobs = [float("nan") if math.isnan(o) else v for o, v in zip(step.logprobs, row)]


# -- update ----------------------------------------------------------------------------------------------------

def warmup_lr(args: Args, update_number: int) -> float:
    """The learning rate of the ``update_number``-th optimizer update (counted from 1 over the whole run)."""
    return args.lr * min(1.0, update_number / args.warmup) if args.warmup else args.lr


def minibatches(units: list[Unit], size: int, rng: random.Random) -> list[list[Unit]]:
    """Shuffled units in minibatches of at least ``size`` samples each (the last may hold fewer; 0: one batch)."""
    order = list(units)
    rng.shuffle(order)
    if not size:
        return [order] if order else []
    out, current = [], []
    for unit in order:
        current.append(unit)
        if sum(u.samples for u in current) >= size:
            out.append(current)
            current = []
    return out + ([current] if current else [])


def update(policy, params: list, opt, units: list[Unit], args: Args, rng: random.Random,
           done_updates: int = 0) -> dict:
    """``ppo_epochs`` passes over the units in shuffled minibatches of about ``minibatch`` samples, one optimizer
    step each. A minibatch's loss is the weighted token-level mean over all its samples' completion tokens (the
    weights are ``Unit.weight``: counts, or per-episode shares with ``loss_agg='episode'``): each unit (one
    prompt, one forward pass) adds its weighted token mean x its share of the minibatch's weighted tokens, and
    gradients accumulate. ``unit.ref`` (set by ``reference_logprobs``) enters the KL term. ``done_updates`` (the
    run's updates so far) places them on the warmup ramp. Returns token-weighted means of the loss stats, the
    mean gradient norm (before clipping), the update count and the last learning rate.
    """
    totals, grad_norms = {"loss": 0.0, "clip_frac": 0.0, "kl": 0.0, "ratio": 0.0}, []
    n_seen = 0
    for _epoch in range(args.ppo_epochs):
        for chunk in minibatches(units, args.minibatch, rng):
            n_tokens = sum(w * sum(not math.isnan(x) for x in s.logprobs)
                           for u in chunk for s, w in zip(u.steps, u.weight)) or 1
            for unit in chunk:
                logp, mask = unit_logprobs(policy, unit, args.temperature)                     # [B, C]
                width = logp.shape[1]
                old = torch.tensor([s.logprobs[:width] + [float("nan")] * (width - len(s.logprobs))
                                    for s in unit.steps], dtype=logp.dtype, device=logp.device)  # [B, C]
                mask = mask & ~torch.isnan(old)  # vLLM leaves a NaN where it has no logprob
                loss, stats = grpo_loss(logp, old, unit.ref, torch.tensor(unit.adv, device=logp.device), mask,
                                        args.eps_low, args.eps_high, args.beta,
                                        row_weight=torch.tensor(unit.weight, dtype=logp.dtype, device=logp.device))
                (loss * stats["tokens"] / n_tokens).backward()
                totals["loss"] += loss.item() * stats["tokens"]
                for k in ("clip_frac", "kl", "ratio"):
                    totals[k] += stats[k] * stats["tokens"]
                n_seen += stats["tokens"]
            grad_norms.append(float(torch.nn.utils.clip_grad_norm_(params, args.grad_clip)))
            for group in opt.param_groups:
                group["lr"] = warmup_lr(args, done_updates + len(grad_norms))
            opt.step()
            opt.zero_grad(set_to_none=True)
    means = {k: v / n_seen for k, v in totals.items()} if n_seen else {**totals, "ratio": 1.0}
    return {**means, "grad_norm": sum(grad_norms) / len(grad_norms) if grad_norms else 0.0,
            "updates": len(grad_norms), "lr": opt.param_groups[0]["lr"]}


# -- distillation ----------------------------------------------------------------------------------------------

class Distiller:
    """Interleaved SFT on teacher steps (``distill_*`` args): the update train/sft.py makes, ``distill_steps`` times
    an iteration, on its own AdamW, with a batch's tasks drawn uniformly (``sft.draw`` with ``by_task``). With
    ``retain_data``, ``retain_frac`` of each batch is drawn the same way from the retention tasks' steps."""

    def __init__(self, args: Args, policy, params: list, tasks: list, state: dict | None):
        from train import sft

        self.args, self.policy, self.params = args, policy, params
        names = args.distill_tasks or ",".join(getattr(t, "id", t) for t in tasks)
        self.examples, self.by_task = self._load(args.distill_data, names, "--distill-data")
        self.retain, self.retain_by_task = ([], {}) if not args.retain_data else \
            self._load(args.retain_data, args.retain_tasks, "--retain-data")
        self.n_retain = round(args.distill_batch * args.retain_frac) if self.retain else 0
        self.everything = self.examples + self.retain  # --distill-last draws from both, every task alike
        self.everything_by_task = sft.by_task(self.everything)
        self.opt = torch.optim.AdamW(params, lr=args.distill_lr, weight_decay=0.0)
        if state and state.get("distill_opt"):
            self.opt.load_state_dict(state["distill_opt"])
        print(f"distillation: {len(self.examples)} teacher steps of {len(self.by_task)} tasks, "
              f"{args.distill_steps} steps of {args.distill_batch} an iteration"
              + (f", {self.n_retain} of each from {len(self.retain)} steps of {len(self.retain_by_task)} "
                 "retention tasks" if self.n_retain else ""), flush=True)

    def _load(self, dirs: str, names: str, flag: str) -> tuple[list, dict]:
        from train import sft

        examples = sft.load_examples([d for d in dirs.split(",") if d], names)
        examples = [e for e in examples if sft.token_length(self.policy, e) <= 1024]
        if not examples:
            raise SystemExit(f"{flag} {dirs}: no successful teacher steps of {names or 'any task'}")
        return examples, sft.by_task(examples)

    def batch(self, rng: random.Random, everything: bool = False) -> list[dict]:
        """One batch: ``distill_batch - n_retain`` steps of the trained tasks, then ``n_retain`` retention steps;
        with ``everything``, ``distill_batch`` steps whose tasks are drawn uniformly from both sets."""
        from train import sft

        if everything:
            idx, _ = sft.draw(len(self.everything), [], self.args.distill_batch, rng, self.everything_by_task)
            return [self.everything[i] for i in idx]
        idx, _ = sft.draw(len(self.examples), [], self.args.distill_batch - self.n_retain, rng, self.by_task)
        out = [self.examples[i] for i in idx]
        if self.n_retain:
            idx, _ = sft.draw(len(self.retain), [], self.n_retain, rng, self.retain_by_task)
            out += [self.retain[i] for i in idx]
        return out

    def steps(self, rng: random.Random, n: int | None = None, everything: bool = False) -> dict:
        """``n`` (default ``distill_steps``) optimizer steps; returns the mean loss and the seconds they took."""
        from train import sft

        t0, losses = time.perf_counter(), []
        for _ in range(self.args.distill_steps if n is None else n):
            loss = self.policy.model(**sft.collate(self.policy, self.batch(rng, everything))).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.params, self.args.grad_clip)
            self.opt.step()
            self.opt.zero_grad(set_to_none=True)
            losses.append(loss.item())
        return {"distill_loss": sum(losses) / len(losses), "distill_s": round(time.perf_counter() - t0, 2)}


# -- model -----------------------------------------------------------------------------------------------------

def card_of(checkpoint) -> Card:
    """The card the checkpoint carries (its screenwise.json), or UI-TARS's defaults."""
    return Card.of_directory(checkpoint) or Card()


def load_policy(args: Args, checkpoint: Path, base: str):
    """The trained model (models.hf.TransformersModel) and, with --lora, its peft wrapper (else None)."""
    from models.hf import TransformersModel

    kw = dict(device=args.device, dtype=args.dtype or None, coord_space=card_of(checkpoint).coord_space,
              threads=args.threads)
    if not args.lora:
        return TransformersModel(checkpoint, **kw), None
    try:
        from peft import LoraConfig, PeftModel, get_peft_model
    except ImportError as e:
        raise ImportError("--lora needs peft: pip install 'screenwise[train]'") from e
    policy = TransformersModel(base, **kw)  # adapters go on the untouched base; the checkpoint holds merged weights
    if (checkpoint / "adapter" / "adapter_config.json").exists():
        peft_model = PeftModel.from_pretrained(policy.model, checkpoint / "adapter", is_trainable=True)
    else:
        peft_model = get_peft_model(policy.model, LoraConfig(
            r=args.lora_rank, lora_alpha=args.lora_alpha, lora_dropout=0.0,
            target_modules=[t.strip() for t in args.lora_targets.split(",") if t.strip()]))
    # peft injects its layers into policy.model in place, so policy.model's forward and generate include them.
    # The fast decoder reads the base weights directly and would sample from the base model: use HF generate.
    policy.fast = None
    return policy, peft_model


def merged_state_dict(peft_model) -> dict[str, torch.Tensor]:
    """The base model's state dict with each LoRA delta added (names as the base model saves them)."""
    base = peft_model.get_base_model()
    state = {k: v.detach() for k, v in base.state_dict().items() if "lora_" not in k}
    for name, module in base.named_modules():
        if hasattr(module, "get_delta_weight") and hasattr(module, "base_layer"):
            for adapter in module.active_adapters:
                key = f"{name}.base_layer.weight"
                state[key] = state[key] + module.get_delta_weight(adapter).detach()
    return {k.replace(".base_layer", ""): v for k, v in state.items()}


def save_checkpoint(policy, peft_model, checkpoint: Path) -> None:
    """Write the weights into a copy of the checkpoint directory, then swap it in (a kill leaves one whole)."""
    tmp, old = checkpoint.with_name(checkpoint.name + ".tmp"), checkpoint.with_name(checkpoint.name + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(checkpoint, tmp, ignore=shutil.ignore_patterns("*.safetensors", "*.safetensors.index.json",
                                                                   "adapter"))
    if peft_model is None:
        policy.model.save_pretrained(tmp)
    else:
        peft_model.save_pretrained(tmp / "adapter")
        peft_model.get_base_model().save_pretrained(tmp, state_dict=merged_state_dict(peft_model))
    shutil.rmtree(old, ignore_errors=True)
    checkpoint.rename(old)
    tmp.rename(checkpoint)
    shutil.rmtree(old)


def recover_checkpoint(checkpoint: Path) -> None:
    """After a kill during save_checkpoint: keep the last whole directory, which matches state.pt."""
    old = checkpoint.with_name(checkpoint.name + ".old")
    if not checkpoint.exists() and old.exists():
        old.rename(checkpoint)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(checkpoint.with_name(checkpoint.name + ".tmp"), ignore_errors=True)


def start_vllm(args: Args, checkpoint: Path):
    """vLLM in this process (so its weights can be replaced in place), behind the generation lock. UNTESTED."""
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    from models.vllm_backend import VLLMModel

    card = card_of(checkpoint)
    return VLLMModel(str(checkpoint), coord_space=card.coord_space, card=card,
                     gpu_memory_utilization=args.vllm_memory, seed=args.seed)


def sync_vllm(args: Args, holder: LockstepBatcher, policy, peft_model, checkpoint: Path) -> None:
    """Give vLLM the updated weights: load_weights on its in-process model, else restart it from the checkpoint.

    UNTESTED (no GPU here). The attribute path is vLLM V1's with VLLM_ENABLE_V1_MULTIPROCESSING=0, as TRL uses it.
    """
    state = merged_state_dict(peft_model) if peft_model is not None else policy.model.state_dict()
    try:
        runner = holder.model.llm.llm_engine.model_executor.driver_worker.worker.model_runner.model
    except AttributeError:
        holder.model = None  # drop the old engine before the new one asks for its share of the GPU
        gc.collect()
        torch.cuda.empty_cache()
        holder.model = start_vllm(args, checkpoint)
        return
    runner.load_weights((name, tensor) for name, tensor in state.items())
    holder.model.llm.reset_prefix_cache()  # cached prompt states were computed with the old weights


# -- log -------------------------------------------------------------------------------------------------------

def evaluate(args: Args, checkpoint: Path, tag: str, split: str = "eval") -> dict:
    """Greedy success through agent.bench, as users run it: on the held-out seeds (``split`` "eval", far from the
    training seeds) or on the validation seeds ("val") that choose out/best."""
    from agent.bench import BenchConfig, run_bench

    seeds, offset = (args.val_seeds, args.val_seed_offset) if split == "val" else (args.eval_seeds,
                                                                                     args.eval_seed_offset)
    summary = run_bench(BenchConfig(
        policy=f"hf:{checkpoint}", tasks=args.eval_tasks or args.tasks, seeds=seeds, seed_offset=offset,
        max_steps=args.max_steps, workers=args.workers, out=str(Path(args.out) / split / tag), quiet=True))
    return {f"{split}_success": summary["mean_success"],
            f"{split}_per_task": {k: v["success"] for k, v in summary["per_task"].items()}}


def keep_if_best(metrics: list[dict], record: dict, checkpoint: Path, best: Path) -> bool:
    """Copy ``checkpoint`` to ``best`` when ``record``'s validation success beats every earlier one (the first
    validation, before training, always sets it)."""
    earlier = [m["val_success"] for m in metrics if "val_success" in m]
    if earlier and record["val_success"] <= max(earlier):
        return False
    shutil.copytree(checkpoint, best, dirs_exist_ok=True)
    (best / "iteration.json").write_text(json.dumps({"iteration": record["iteration"],
                                                     "val_success": record["val_success"]}))
    return True


def plot_curve(metrics: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    its = [m["iteration"] for m in metrics if "reward" in m]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(its, [m["reward"] for m in metrics if "reward" in m], "o-", ms=3, lw=1, label="mean reward")
    success = [m["success"] for m in metrics if "reward" in m]
    ax.plot(its, success, "s-", ms=3, lw=1, alpha=0.5, label="rollout success")
    k = 5  # iterations see different tasks in turn: a running mean shows the trend
    if len(success) >= 2 * k:
        ax.plot(its[k - 1:], [sum(success[i - k + 1:i + 1]) / k for i in range(k - 1, len(success))], "-", lw=2.2,
                color="#c60", label=f"rollout success, {k}-iteration mean")
    evals = [(m["iteration"], m["eval_success"]) for m in metrics if "eval_success" in m]
    if evals:
        ax.plot(*zip(*evals), "D--", color="#d55", label="held-out success")
    vals = [(m["iteration"], m["val_success"]) for m in metrics if "val_success" in m]
    if vals:
        ax.plot(*zip(*vals), "^:", color="#393", label="validation success")
    ax.set_xlabel("iteration")
    ax.set_ylabel("reward / success")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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


def iteration_seconds(m: dict) -> float:
    """The training seconds an iteration's metrics record counts (0 for an evaluation-only record)."""
    return m.get("rollout_s", 0) + m.get("update_s", 0) + m.get("distill_s", 0)


def budget_left_after(metrics: list[dict], seconds: float, args: Args) -> bool:
    """Whether the wall-clock budget outlasts the iterations logged so far plus ``seconds`` (and, while the
    ``distill_last`` steps are still to come, the time they will take)."""
    spent = sum(iteration_seconds(m) for m in metrics) + seconds + last_stage_seconds(metrics, args)
    return not args.minutes or spent < 60 * args.minutes


def last_stage_seconds(metrics: list[dict], args: Args) -> float:
    """What the ``distill_last`` steps will take, at the pace of the distillation steps logged so far (0 once done,
    or before any was timed)."""
    if not args.distill_last or any("distill_last" in m for m in metrics):
        return 0.0
    timed = [(m["distill_s"], m.get("distill_first") or args.distill_steps) for m in metrics if m.get("distill_s")]
    return args.distill_last * sum(s for s, _ in timed) / max(1, sum(n for _, n in timed)) if timed else 0.0


def next_iteration_fits(metrics: list[dict], args: Args) -> bool:
    """Whether an iteration as long as the last logged one still ends inside the budget."""
    timed = [iteration_seconds(m) for m in metrics if iteration_seconds(m)]
    return budget_left_after(metrics, timed[-1] if timed else 0.0, args)


def kl_text(kl: float | None) -> str:
    """KL to the reference; without one (beta 0 loads none) it is not measured, which 0 would misstate."""
    return "-" if kl is None else f"{kl:.4f}"


def metrics_line(m: dict) -> str:
    return (f"iter {m['iteration']}: reward {m['reward']:.3f} success {m['success']:.1%} kl {kl_text(m['kl'])} "
            f"clip {m['clip_frac']:.3f} groups {m['groups_used']}/{m['groups']} {m['tokens_per_s']:.0f} tok/s "
            f"{m['episodes_per_s']:.2f} ep/s ({m['rollout_s']:.1f} s rollout, {m['update_s']:.1f} s update"
            + (f", {m['distill_s']:.1f} s distillation, loss {m['distill_loss']:.3f})" if "distill_s" in m else ")"))


# -- training --------------------------------------------------------------------------------------------------

def train(args: Args) -> Path:
    from envs.tasks import resolve_tasks

    torch.set_num_threads(args.threads)
    if args.vllm and (args.ray or args.device == "cpu"):
        raise SystemExit("--vllm generates on the GPU the trainer uses: give --device cuda, and no --ray")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint, state_path, metrics_path = out / "checkpoint", out / "state.pt", out / "metrics.jsonl"
    recover_checkpoint(checkpoint)
    run_info_path = out / "grpo.json"
    if not (checkpoint / "config.json").exists():
        if not args.init:
            raise SystemExit(f"no checkpoint in {out}: start one with --init DIR")
        shutil.copytree(args.init, checkpoint, dirs_exist_ok=True)  # screenwise.json (prompt, coords) included
        if args.mark_matches:
            card_path = checkpoint / "screenwise.json"
            card = json.loads(card_path.read_text()) if card_path.exists() else {}
            card_path.write_text(json.dumps({**card, "mark_matches": True}))
        run_info_path.write_text(json.dumps({"init": str(Path(args.init).absolute())}, indent=1))
    init = json.loads(run_info_path.read_text())["init"] if run_info_path.exists() else args.init
    (out / "args.json").write_text(json.dumps(dataclasses.asdict(args), indent=1))

    state = torch.load(state_path, weights_only=False) if state_path.exists() else None
    iteration = state["iteration"] if state else 0
    metrics = [json.loads(line) for line in metrics_path.read_text().splitlines()] if metrics_path.exists() else []
    metrics = [m for m in metrics if m["iteration"] <= iteration]  # lines past state.pt: a kill mid-iteration
    metrics_path.write_text("".join(json.dumps(m) + "\n" for m in metrics))
    first_done = not args.distill_first or any("distill_first" in m for m in metrics)
    last_done = not args.distill_last or any("distill_last" in m for m in metrics)
    if iteration >= args.iters and first_done and last_done:  # --iters 0 --distill-first N: distillation alone
        print(f"{out} is at iteration {iteration} of {args.iters}: nothing to do", flush=True)
        return checkpoint

    policy, peft_model = load_policy(args, checkpoint, init)
    net = policy.model
    reference = None
    if args.beta and peft_model is None:
        from models.hf import TransformersModel

        reference = TransformersModel(init, device=args.device, dtype=args.dtype or None, threads=args.threads)
        reference.model.requires_grad_(False)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    if state:
        opt.load_state_dict(state["opt"])
        random.setstate(state["python_rng"])
        torch.set_rng_state(state["torch_rng"])
        print(f"resuming at iteration {iteration}", flush=True)
    else:
        random.seed(args.seed)
        torch.manual_seed(args.seed)
    print(f"policy: {sum(p.numel() for p in net.parameters()):,} parameters, "
          f"{sum(p.numel() for p in params):,} trained" + (" (LoRA)" if peft_model else ""), flush=True)

    tasks = resolve_tasks(args.tasks)
    if args.distill_last and not args.retain_data:
        raise SystemExit("--distill-last consolidates the trained and the retention tasks: give --retain-data")
    distiller = Distiller(args, policy, params, tasks, state) \
        if args.distill_steps or args.distill_first or args.distill_last else None
    config = config_for(card_of(checkpoint))
    config = AgentConfig(**{**config.__dict__, "temperature": args.temperature,
                            "max_tokens": args.max_tokens, "best_of": 1})
    browser, envs, actors, started_ray, generator = None, [], [], False, None
    if args.ray:
        actors, started_ray = start_ray_actors(args)
    else:
        from envs.browser import Browser, BrowserEnv

        browser = Browser()
        envs = [BrowserEnv(browser=browser, max_steps=args.max_steps) for _ in range(max(1, args.workers))]
        if args.vllm:  # vLLM samples under the card's reply pattern: the trainer's masks must be the same ones
            policy.use_pattern = True
        generator = LockstepBatcher(start_vllm(args, checkpoint) if args.vllm else policy)

    def save() -> None:
        save_checkpoint(policy, peft_model, checkpoint)
        torch.save({"opt": opt.state_dict(), "iteration": iteration, "python_rng": random.getstate(),
                    "torch_rng": torch.get_rng_state(),
                    "distill_opt": distiller.opt.state_dict() if distiller else None}, out / "state.pt.tmp")
        os.replace(out / "state.pt.tmp", state_path)

    best = out / "best"
    if iteration == 0 and (args.eval_seeds or args.val_seeds):
        record = {"iteration": 0}
        if args.eval_seeds:
            record.update(evaluate(args, checkpoint, "before"))
            print(f"before training: held-out success {record['eval_success']:.1%}", flush=True)
        if args.val_seeds:
            record.update(evaluate(args, checkpoint, "before", "val"))
            keep_if_best(metrics, record, checkpoint, best)
            print(f"before training: validation success {record['val_success']:.1%}", flush=True)
        metrics.append(record)
        with open(metrics_path, "a") as f:
            f.write(json.dumps(metrics[-1]) + "\n")

    if distiller and args.distill_first and not any("distill_first" in m for m in metrics):
        # -- distillation before the first iteration; its seconds count in the budget (iteration_seconds)
        net.train()
        torch.set_num_threads(args.update_threads or args.threads)
        record = {"iteration": 0, "distill_first": args.distill_first,
                  **distiller.steps(random.Random(f"{args.seed}:distill:first"), args.distill_first)}
        torch.set_num_threads(args.threads)
        net.eval()
        save()
        if args.vllm:
            sync_vllm(args, generator, policy, peft_model, checkpoint)
        metrics.append(record)
        with open(metrics_path, "a") as f:
            f.write(json.dumps(record) + "\n")
        print(f"distilled {args.distill_first} steps first: loss {record['distill_loss']:.3f}, "
              f"{record['distill_s']:.1f} s", flush=True)

    from tqdm import tqdm

    bar = tqdm(total=args.iters, initial=iteration, unit="it", dynamic_ncols=True, desc="grpo", disable=args.quiet)
    try:
        while iteration < args.iters and next_iteration_fits(metrics, args):
            # -- rollout: G episodes of every prompt with the current weights
            t0 = time.perf_counter()
            prompts = iteration_prompts(tasks, args, iteration, metrics)
            jobs = [(p, g, task, seed) for p, (task, seed) in enumerate(prompts) for g in range(args.group)]
            rollout_dir = out / "rollouts" / f"iter{iteration:05d}" if args.save_rollouts else None
            net.eval()
            if args.ray:
                episodes = rollout_ray(actors, checkpoint, iteration, config, jobs, rollout_dir)
            else:
                calls, decodes = generator.calls, generator.decodes
                episodes = rollout_threads(generator, envs, config, jobs, rollout_dir)
                sharing = (generator.calls - calls) / max(1, generator.decodes - decodes)
            rollout_s = time.perf_counter() - t0

            # -- reward
            for ep in episodes:
                ep.reward = episode_reward(ep, args.format_reward, args.shaping_printable)

            # -- advantage: one value per episode, given to every token it generated; flat groups are skipped
            samples: list[tuple[Step, float, float]] = []
            groups_used = 0
            for p in range(len(prompts)):
                group = [ep for ep in episodes if ep.prompt == p]
                rewards = [ep.reward for ep in group]
                if any(ep.error for ep in group) or not informative(rewards):
                    continue
                groups_used += 1
                for ep, adv in zip(group, group_advantages(rewards, args.scale_std)):
                    samples += [(s, adv, sample_weight(ep, args)) for s in ep.steps if s.token_ids]

            # -- loss: the reference's logprobs, once per step (the policy's are recomputed in every pass)
            t1 = time.perf_counter()
            units = pack_samples(samples)
            if args.beta:
                reference_logprobs(units, policy, reference, peft_model, args.temperature)
            if args.temperature != 1.0:
                tempered_old_logprobs(units, policy, args.temperature)

            # -- update (then the interleaved distillation steps), with the update threads: the pages are idle
            net.train()
            torch.set_num_threads(args.update_threads or args.threads)
            stats = update(policy, params, opt, units, args, random.Random(f"{args.seed}:{iteration}"),
                           sum(m.get("updates", 0) for m in metrics))
            if not args.beta:
                stats["kl"] = None
            if distiller:
                stats.update(distiller.steps(random.Random(f"{args.seed}:distill:{iteration}")))
            torch.set_num_threads(args.threads)
            net.eval()
            iteration += 1
            save()
            if args.vllm:
                sync_vllm(args, generator, policy, peft_model, checkpoint)
            update_s = time.perf_counter() - t1 - stats.get("distill_s", 0.0)

            # -- log
            record = {"iteration": iteration, **rollout_stats(episodes), **stats, "groups": len(prompts),
                      "groups_used": groups_used, "steps_trained": len(samples),
                      "tokens_per_s": sum(len(s.token_ids) for ep in episodes for s in ep.steps) / rollout_s,
                      "episodes_per_s": len(episodes) / rollout_s, "rollout_s": round(rollout_s, 2),
                      "update_s": round(update_s, 2), "units": len(units),
                      **({} if args.ray else {"replies_per_decode": round(sharing, 2)})}
            this_s = rollout_s + update_s + stats.get("distill_s", 0.0)
            last = iteration == args.iters or not budget_left_after(metrics, 2 * this_s, args)  # as the loop sees it
            if args.val_seeds and (iteration % args.val_every == 0 or last):
                record.update(evaluate(args, checkpoint, f"iter{iteration:05d}", "val"))
                record["best"] = keep_if_best(metrics, record, checkpoint, best)
            if args.eval_seeds and ((args.eval_every and iteration % args.eval_every == 0) or last):
                record.update(evaluate(args, checkpoint, f"iter{iteration:05d}"))
                if last and args.val_seeds and not record["best"]:  # the checkpoint validation chose
                    chosen = json.loads((best / "iteration.json").read_text())["iteration"]
                    held = evaluate(args, best, f"best-iter{chosen:05d}")
                    record.update({"best_iteration": chosen, "best_eval_success": held["eval_success"],
                                   "best_eval_per_task": held["eval_per_task"]})
            metrics.append(record)
            with open(metrics_path, "a") as f:
                f.write(json.dumps(record) + "\n")
            plot_curve(metrics, out / "curve.png")
            bar.update()
            bar.set_postfix_str(f"reward {record['reward']:.3f} success {record['success']:.0%} "
                                f"kl {kl_text(record['kl'])}", refresh=False)
            bar.write(metrics_line(record)
                      + (f"; validation {record['val_success']:.1%}" if "val_success" in record else "")
                      + (f"; held-out success {record['eval_success']:.1%}" if "eval_success" in record else "")
                      + (f"; best (iteration {record['best_iteration']}) held-out {record['best_eval_success']:.1%}"
                         if "best_eval_success" in record else ""))
        bar.close()

        if args.distill_last and not any("distill_last" in m for m in metrics):
            # -- consolidation (R1's third stage): every task alike; a kill here redoes it from the RL weights
            shutil.copytree(checkpoint, out / "rl", dirs_exist_ok=True)
            net.train()
            torch.set_num_threads(args.update_threads or args.threads)
            record = {"iteration": iteration, "distill_last": args.distill_last,
                      **distiller.steps(random.Random(f"{args.seed}:distill:last"), args.distill_last, everything=True)}
            torch.set_num_threads(args.threads)
            net.eval()
            save()
            if args.vllm:
                sync_vllm(args, generator, policy, peft_model, checkpoint)
            print(f"consolidated {args.distill_last} steps over {len(distiller.everything_by_task)}"
                  f" tasks: loss {record['distill_loss']:.3f}, {record['distill_s']:.1f} s; the RL weights are in "
                  f"{out / 'rl'}", flush=True)
            if args.eval_seeds:
                record.update(evaluate(args, checkpoint, "consolidated"))
                print(f"after consolidation: held-out success {record['eval_success']:.1%}", flush=True)
            metrics.append(record)
            with open(metrics_path, "a") as f:
                f.write(json.dumps(record) + "\n")
    finally:
        bar.close()
        for env in envs:
            env.close()
        if browser is not None:
            browser.close()
        if actors:
            import ray

            try:
                ray.get([actor.close.remote() for actor in actors], timeout=30)
            finally:
                for actor in actors:
                    ray.kill(actor)
            if started_ray:
                ray.shutdown()
    return checkpoint


def parse_args(argv=None) -> Args:
    ap = Parser(prog="python -m train.grpo", description=__doc__.split("\n")[0])
    types = {"int": int, "float": float, "str": str}
    helps = field_help(Args)
    for f in dataclasses.fields(Args):
        flag = f"--{f.name.replace('_', '-')}"
        if f.name == "ray":
            ap.add_argument(flag, nargs="?", const="local", default="", metavar="ADDRESS",
                            help="Ray actors as env workers: a local Ray, or the cluster at ADDRESS")
        elif f.type == "bool":
            ap.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default, help=helps[f.name])
        else:
            ap.add_argument(flag, type=types[f.type], default=f.default, help=f"{helps[f.name]} (default: %(default)s)")
    return Args(**vars(ap.parse_args(argv)))


def main(argv=None) -> Path:
    """``python -m train.grpo ...`` (and ``screenwise train grpo ...``): train, then return the checkpoint."""
    return train(parse_args(argv))


if __name__ == "__main__":
    # Run the module under its import name, so the Episodes Ray actors send back are train.grpo's classes.
    from train.grpo import main as _main

    _main()
