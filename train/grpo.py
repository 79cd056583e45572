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
iteration's prompts, a cheap stand-in for DAPO's refill of skipped groups. ``--distill-*`` mixes SFT steps on
teacher episodes into the RL, PPO-ptx style (train/distill.py).

Dropped: DAPO's refill of skipped groups with fresh samples (an iteration just trains on fewer groups) and its
overlong-reply filtering and shaping; Dr. GRPO's constant normaliser (this is DAPO's token mean); a learning-rate
schedule beyond a linear warmup (``warmup``); reward models; rollout/trainer logprob mismatch corrections (old
logprobs come from generation).

Rewards: 1 for success (raw reward > 0, as BrowserGym counts it) plus ``format_reward`` x the fraction of the
episode's replies that parsed. ``shaping_printable`` is a test-only shaping term (see its flag).

Hyperparameters: ``lr`` defaults to 1e-5 for real models; the DeepSeekMath/R1 anchors are lr 1e-6..3e-6, KL
0.001..0.04 and groups of 8..64 (the tiny random models of the tests take 1e-3 to move visibly in two iterations).
Below ``temperature`` 1 the trained policy is the tempered one, softmax(logits / T): ratios, KL and the old
logprobs (train/packing.py ``tempered_old_logprobs``) are all taken at T, so the samples stay on-policy, and
since tempering keeps the argmax, what it learns shows in greedy decoding.

This file is the loop; the rest sits in modules of its own: train/rollout.py (the episodes: threads, Ray actors,
vLLM), train/packing.py (the update's batches: one forward pass per prompt), train/distill.py, train/checkpoints.py
(the run directory and resuming, LoRA, the vLLM weight sync), train/evaluate.py (held-out and validation seeds,
``out/best``) and train/curves.py.

Everything leaves in ``out``: ``checkpoint/`` (an HF directory, save_pretrained), ``state.pt`` (optimizer,
iteration, RNG: a rerun resumes), ``metrics.jsonl`` (one line per iteration), ``curve.png``, ``eval/``, and with
``--val-seeds``, ``val/`` and ``best/`` (the checkpoint the validation seeds chose; the held-out seeds never
choose anything).

    python -m train.grpo --init runs/sft/checkpoint --tasks click-button,click-link --seeds-per-iter 4 \
        --group 4 --iters 50 --out runs/grpo
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import string
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from agent.flags import Parser, add_fields
from envs.tasks import resolve_tasks
from train import distill
from train.budget import budget_left_after, next_iteration_fits
from train.checkpoints import PolicyArgs, load_policy, load_reference, open_run, restore_state, save_run
from train.curves import plot_curve
from train.distill import DistillArgs, Distiller
from train.evaluate import EvalArgs, after_iteration, before_training, summary_text
from train.packing import Unit, minibatches, pack_samples, reference_logprobs, tempered_old_logprobs, unit_logprobs
from train.rollout import Episode, RolloutArgs, Rollouts, iteration_prompts, rollout_stats


@dataclass
class RunArgs:
    init: str = ""
    """Checkpoint directory to start from (copied to out/checkpoint on the first run; with --lora, the base)."""
    out: str = "runs/grpo"
    """Output directory: checkpoint/, state.pt, metrics.jsonl, curve.png, eval/, rollouts/."""
    tasks: str = "click-button,click-link,click-checkboxes,enter-text,click-tab-2,login-user"
    """Training tasks: a,b,c (MiniWoB ids) or a spec envs.tasks.resolve_tasks knows (teachers, webgum56)."""
    iters: int = 50
    """Iterations in all (a resumed run continues to this number)."""
    minutes: float = 0.0
    """Wall-clock budget for training (rollouts + updates + distillation, evaluations excluded; 0: none). An
    iteration starts only if one as long as the last fits in what is left, so the run ends inside the budget and
    evaluates; a resumed run counts the minutes it already spent."""
    update_threads: int = 0
    """torch threads for the update and distillation steps, when the pages are idle (0: ``threads``)."""
    threads: int = 1
    """torch threads (rollouts; updates too unless ``update_threads`` is set)."""
    seed: int = 0
    """Seed of torch and of the update and distillation batches' order."""
    quiet: bool = False
    """No progress bar."""


@dataclass
class GRPOArgs:
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
    loss_agg: str = "token"
    """How a minibatch's tokens are averaged. 'token': DAPO's token mean, so an episode weighs as many tokens as it
    generated (a task of 8-step episodes outweighs a one-click task about tenfold). 'episode': each episode's
    tokens are averaged first, so every episode of the minibatch weighs the same, whatever its length."""
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
    minibatch: int = 16
    """Samples (steps) per optimizer update (0: all of an iteration's samples in one update). Small minibatches
    memorise fixed seeds; one update an iteration generalised best to fresh ones (docs/experiments-grpo.md, run 5)."""


@dataclass
class Args(RunArgs, GRPOArgs, RolloutArgs, PolicyArgs, DistillArgs, EvalArgs):
    """Every flag of ``python -m train.grpo``: one group per concern, each declared beside the code that reads it
    (``--help`` lists them by group). One flat namespace, so ``args.x`` and ``--x`` name the same thing."""


GROUPS = {"run": RunArgs, "GRPO: reward, advantage, loss, update": GRPOArgs, "rollout": RolloutArgs,
          "policy: device, LoRA, vLLM, card": PolicyArgs, "distillation": DistillArgs, "evaluation": EvalArgs}


# -- rollout -----------------------------------------------------------------------------------------------------
# train/rollout.py: ``iteration_prompts`` picks an iteration's (task, seed) pairs, and ``Rollouts.play`` returns G
# episodes of each (threads, Ray actors or vLLM), every step with its prompt, sampled token ids and logprobs.


# -- reward ------------------------------------------------------------------------------------------------------

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


# -- advantage ---------------------------------------------------------------------------------------------------

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


def advantage_samples(episodes: list[Episode], n_prompts: int, args: Args) -> tuple[list[tuple], int]:
    """(step, advantage, weight) for every generating step of the informative groups' episodes, and how many
    groups that is: a group with an errored episode or with equal rewards is skipped."""
    samples, groups_used = [], 0
    for p in range(n_prompts):
        group = [ep for ep in episodes if ep.prompt == p]
        rewards = [ep.reward for ep in group]
        if any(ep.error for ep in group) or not informative(rewards):
            continue
        groups_used += 1
        for ep, adv in zip(group, group_advantages(rewards, args.scale_std)):
            samples += [(s, adv, sample_weight(ep, args)) for s in ep.steps if s.token_ids]
    return samples, groups_used


# -- loss --------------------------------------------------------------------------------------------------------

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


# -- update ------------------------------------------------------------------------------------------------------

def warmup_lr(args: Args, update_number: int) -> float:
    """The learning rate of the ``update_number``-th optimizer update (counted from 1 over the whole run)."""
    return args.lr * min(1.0, update_number / args.warmup) if args.warmup else args.lr


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


# -- log ---------------------------------------------------------------------------------------------------------

def kl_text(kl: float | None) -> str:
    """KL to the reference; without one (beta 0 loads none) it is not measured, which 0 would misstate."""
    return "-" if kl is None else f"{kl:.4f}"


def metrics_line(m: dict) -> str:
    return (f"iter {m['iteration']}: reward {m['reward']:.3f} success {m['success']:.1%} kl {kl_text(m['kl'])} "
            f"clip {m['clip_frac']:.3f} groups {m['groups_used']}/{m['groups']} {m['tokens_per_s']:.0f} tok/s "
            f"{m['episodes_per_s']:.2f} ep/s ({m['rollout_s']:.1f} s rollout, {m['update_s']:.1f} s update"
            + (f", {m['distill_s']:.1f} s distillation, loss {m['distill_loss']:.3f})" if "distill_s" in m else ")"))


# -- training: the steps ------------------------------------------------------------------------------------------

@dataclass
class Run:
    """A run between its steps: the policy and its optimizer, the rollouts, the iteration and its metrics."""

    args: Args
    policy: object  # models.hf.TransformersModel
    peft_model: object  # with --lora, else None
    reference: object  # the KL term's frozen model, else None
    params: list
    opt: torch.optim.Optimizer
    tasks: list
    distiller: Distiller | None
    rollouts: Rollouts
    iteration: int = 0
    metrics: list[dict] = field(default_factory=list)

    def save(self) -> None:
        """Checkpoint and state.pt; then the sampler takes the new weights."""
        save_run(Path(self.args.out), self.policy, self.peft_model, self.opt, self.iteration,
                 self.distiller.opt if self.distiller else None)
        self.rollouts.sync(self.policy, self.peft_model)

    @contextlib.contextmanager
    def updating(self):
        """Train mode and the update threads for the update and distillation steps (the pages are idle then)."""
        self.policy.model.train()
        torch.set_num_threads(self.args.update_threads or self.args.threads)
        yield
        torch.set_num_threads(self.args.threads)
        self.policy.model.eval()

    def log(self, record: dict) -> None:
        self.metrics.append(record)
        with open(Path(self.args.out) / "metrics.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")


def start(args: Args, init: str, state: dict | None, metrics: list[dict]) -> Run:
    """The policy (and reference), its optimizer, the RNGs (state.pt's on a rerun), distillation and rollouts."""
    checkpoint = Path(args.out) / "checkpoint"
    policy, peft_model = load_policy(args, checkpoint, init)
    reference = load_reference(args, init, peft_model)
    params = [p for p in policy.model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    restore_state(state, opt, args.seed)
    print(f"policy: {sum(p.numel() for p in policy.model.parameters()):,} parameters, "
          f"{sum(p.numel() for p in params):,} trained" + (" (LoRA)" if peft_model else ""), flush=True)
    tasks = resolve_tasks(args.tasks)
    if args.distill_last and not args.retain_data:
        raise SystemExit("--distill-last consolidates the trained and the retention tasks: give --retain-data")
    distiller = Distiller(args, policy, params, tasks, state) if distill.wanted(args) else None
    return Run(args, policy, peft_model, reference, params, opt, tasks, distiller, Rollouts(args, policy, checkpoint),
               state["iteration"] if state else 0, metrics)


def grpo_iteration(run: Run) -> tuple[dict, float]:
    """One iteration, rollout to update; returns its metrics record and the seconds it took."""
    args = run.args
    # -- rollout: G episodes of every prompt with the current weights
    t0 = time.perf_counter()
    prompts = iteration_prompts(run.tasks, args, run.iteration, run.metrics)
    run.policy.model.eval()
    episodes = run.rollouts.play(prompts, run.iteration)
    rollout_s = time.perf_counter() - t0

    # -- reward
    for ep in episodes:
        ep.reward = episode_reward(ep, args.format_reward, args.shaping_printable)

    # -- advantage: one value per episode, given to every token it generated; flat groups are skipped
    samples, groups_used = advantage_samples(episodes, len(prompts), args)

    # -- loss: the reference's logprobs, once per step (the policy's are recomputed in every pass)
    t1 = time.perf_counter()
    units = pack_samples(samples)
    if args.beta:
        reference_logprobs(units, run.policy, run.reference, run.peft_model, args.temperature)
    if args.temperature != 1.0:
        tempered_old_logprobs(units, run.policy, args.temperature)

    # -- update (then the interleaved distillation steps)
    with run.updating():
        stats = update(run.policy, run.params, run.opt, units, args, random.Random(f"{args.seed}:{run.iteration}"),
                       sum(m.get("updates", 0) for m in run.metrics))
        if not args.beta:
            stats["kl"] = None
        if run.distiller:
            stats.update(run.distiller.steps(random.Random(f"{args.seed}:distill:{run.iteration}")))
    run.iteration += 1
    run.save()
    update_s = time.perf_counter() - t1 - stats.get("distill_s", 0.0)

    # -- log
    record = {"iteration": run.iteration, **rollout_stats(episodes), **stats, "groups": len(prompts),
              "groups_used": groups_used, "steps_trained": len(samples),
              "tokens_per_s": sum(len(s.token_ids) for ep in episodes for s in ep.steps) / rollout_s,
              "episodes_per_s": len(episodes) / rollout_s, "rollout_s": round(rollout_s, 2),
              "update_s": round(update_s, 2), "units": len(units), **run.rollouts.stats}
    return record, rollout_s + update_s + stats.get("distill_s", 0.0)


def log_iteration(run: Run, record: dict, seconds: float, bar) -> None:
    """Evaluate where due (the last iteration as the loop will see it), then write the record and the curve."""
    last = run.iteration == run.args.iters or not budget_left_after(run.metrics, 2 * seconds, run.args)
    after_iteration(run.args, record, run.metrics, last)
    run.log(record)
    plot_curve(run.metrics, Path(run.args.out) / "curve.png")
    bar.update()
    bar.set_postfix_str(f"reward {record['reward']:.3f} success {record['success']:.0%} "
                        f"kl {kl_text(record['kl'])}", refresh=False)
    bar.write(metrics_line(record) + summary_text(record))


# -- training ----------------------------------------------------------------------------------------------------

def train(args: Args) -> Path:
    torch.set_num_threads(args.threads)
    if args.vllm and (args.ray or args.device == "cpu"):
        raise SystemExit("--vllm generates on the GPU the trainer uses: give --device cuda, and no --ray")
    init, state, metrics = open_run(args)
    iteration, checkpoint = state["iteration"] if state else 0, Path(args.out) / "checkpoint"
    first_due = args.distill_first and not any("distill_first" in m for m in metrics)
    last_due = args.distill_last and not any("distill_last" in m for m in metrics)
    if iteration >= args.iters and not first_due and not last_due:  # --iters 0 --distill-first N: distillation alone
        print(f"{Path(args.out)} is at iteration {iteration} of {args.iters}: nothing to do", flush=True)
        return checkpoint

    run = start(args, init, state, metrics)
    try:
        if run.iteration == 0 and (args.eval_seeds or args.val_seeds):
            run.log(before_training(args, run.metrics))
        if run.distiller and first_due:
            distill.first_stage(run)
        with tqdm(total=args.iters, initial=run.iteration, unit="it", dynamic_ncols=True, desc="grpo",
                  disable=args.quiet) as bar:
            while run.iteration < args.iters and next_iteration_fits(run.metrics, args):
                log_iteration(run, *grpo_iteration(run), bar)
        if last_due:
            distill.last_stage(run)
    finally:
        run.rollouts.close()
    return checkpoint


def parse_args(argv=None) -> Args:
    ap = Parser(prog="python -m train.grpo", description=__doc__.split("\n")[0])
    ray = dict(nargs="?", const="local", metavar="ADDRESS",
               help="Ray actors as env workers: a local Ray, or the cluster at ADDRESS")
    for title, group in GROUPS.items():
        add_fields(ap.add_argument_group(title), group, ray=ray)
    return Args(**vars(ap.parse_args(argv)))


def main(argv=None) -> Path:
    """``python -m train.grpo ...`` (and ``screenwise train grpo ...``): train, then return the checkpoint."""
    return train(parse_args(argv))


if __name__ == "__main__":
    main()
