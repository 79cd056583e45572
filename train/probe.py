"""Learnability probe: can a checkpoint learn a task's decisions at all, by supervision or by GRPO?

Before an hour of RL on a task, this asks a cheaper question offline. The teachers' recorded steps of one task
(agent/trajectory.py directories, as train.sft reads them) are split by episode into train and held-out steps.
Each step is a decision with a known right answer, the teacher's action. The checkpoint then trains on the train
steps, and its greedy agreement with the teacher is measured on both splits:

- ``--mode sft``: the teacher's reply is the target, with train.sft's own batch (``collate``) and loss (the
  model's token-level NLL on the reply tokens), without its data mix;
- ``--mode grpo``: each train step is a one-step bandit. ``group`` replies are sampled at ``temperature``, each
  rewarded 1 when its parsed action equals the teacher's, and train.grpo's own advantage, loss and update
  (``group_advantages``, ``informative``, ``update``) train on them. No browser is involved, so an update costs
  about a second instead of half a minute.

Agreement with the teacher is a proxy for success: a different reply can also be right (another way to name the
same element). It is exact where every reply is constrained to name the page's listed elements, as the embedded
model's are. If supervision on hundreds of labelled decisions does not move the held-out figure, an RL run on the
same task cannot be expected to, and the limit is the model, not the RL.

    python -m train.probe --init models/embedded/checkpoint --data runs/s3/distill --task click-color --mode sft
    python -m train.probe --init models/embedded/checkpoint --data runs/s3/distill --task click-color --mode grpo
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import torch

from core import actions as A
from train.checkpoints import load_policy
from train.grpo import group_advantages, informative, update
from train.grpo import Args as GrpoArgs
from train.packing import pack_samples, tempered_old_logprobs
from train.rollout import Step
from train.sft import collate, load_examples, materialize, sft_step


def load_steps(data: list[str], task: str, held_out: int, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """(train, held-out) steps of the teachers' successful episodes of ``task``, split by episode."""
    episodes: dict[str, list[dict]] = {}
    for example in load_examples(data, task):
        episodes.setdefault(example["dir"], []).append(example)
    keys = sorted(episodes)
    random.Random(seed).shuffle(keys)
    if len(keys) <= held_out:
        raise SystemExit(f"{len(keys)} episodes of {task} in {data}: need more than --held-out {held_out}")
    pick = lambda ks: [step for k in ks for step in episodes[k]]  # noqa: E731
    return pick(keys[held_out:]), pick(keys[:held_out])


def action_key(text: str) -> str | None:
    """The reply's actions, normalised (None when it does not parse)."""
    try:
        return repr(A.parse_response(text).actions)
    except A.ActionParseError:
        return None


def agreement(policy, steps: list[dict], max_tokens: int) -> float:
    """Greedy replies whose actions equal the teacher's, as a share of ``steps``."""
    hits = 0
    for step in steps:
        got = action_key(policy.generate(materialize(step), n=1, temperature=0.0, max_tokens=max_tokens)[0].text)
        hits += got is not None and got == action_key(step["target"])
    return hits / len(steps) if steps else 0.0


def sft_update(policy, opt, batch: list[dict]) -> float:
    """One optimizer step on the teacher's replies, as train.sft takes it."""
    return sft_step(policy.model, collate(policy, batch), policy.model.parameters(), opt).item()


def grpo_update(policy, opt, batch: list[dict], args, grpo_args, done_updates: int) -> dict:
    """Sample ``group`` replies per step, reward agreement with the teacher, and run train.grpo's update."""
    samples, rewards = [], []
    for step in batch:
        messages, want = materialize(step), action_key(step["target"])
        gens = policy.generate(messages, n=args.group, temperature=args.temperature, max_tokens=args.max_tokens)
        r = [float(action_key(g.text) is not None and action_key(g.text) == want) for g in gens]
        rewards += r
        if informative(r):
            samples += [(Step(messages, list(g.token_ids), list(g.logprobs), g.text, True), adv)
                        for g, adv in zip(gens, group_advantages(r))]
    units = pack_samples(samples)
    if args.temperature != 1.0:
        tempered_old_logprobs(units, policy, args.temperature)
    policy.model.train()
    stats = update(policy, [p for p in policy.model.parameters() if p.requires_grad], opt, units,
                   grpo_args, random.Random(done_updates), done_updates) if samples else {"updates": 0}
    policy.model.eval()
    stats.pop("kl", None)  # there is no reference model here: train.grpo's zero would not be a measurement
    return {"sample_success": sum(rewards) / len(rewards), "steps_trained": len(samples), **stats}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--init", required=True, help="checkpoint directory (it is not modified)")
    ap.add_argument("--data", nargs="+", required=True, help="teacher trajectory directories")
    ap.add_argument("--task", required=True)
    ap.add_argument("--mode", choices=("sft", "grpo"), default="sft")
    ap.add_argument("--steps", type=int, default=200, help="optimizer steps (sft) or bandit iterations (grpo)")
    ap.add_argument("--batch", type=int, default=8, help="train steps per optimizer step / iteration")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--group", type=int, default=8)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--held-out", type=int, default=40, help="episodes kept out of training")
    ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="", help="write probe.json here")
    a = ap.parse_args(argv)

    torch.set_num_threads(a.threads)
    random.seed(0)
    train, held = load_steps(a.data, a.task, a.held_out)
    grpo_args = GrpoArgs(init=a.init, lr=a.lr, warmup=10, minibatch=16, eps_high=0.28, temperature=a.temperature,
                         threads=a.threads)
    policy, _ = load_policy(grpo_args, Path(a.init), a.init)
    policy.model.eval()
    opt = torch.optim.AdamW([p for p in policy.model.parameters() if p.requires_grad], lr=a.lr, weight_decay=0.0)
    probe_train = train[:len(held)]  # agreement on as many train steps as held-out ones: memorising shows here

    def point(step: int, **extra) -> dict:
        row = {"step": step, "held_out": agreement(policy, held, a.max_tokens),
               "train": agreement(policy, probe_train, a.max_tokens), **extra}
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
        return row

    print(f"{a.task}: {len(train)} train steps, {len(held)} held-out steps ({a.held_out} episodes); mode {a.mode}",
          flush=True)
    curve, done, t0 = [point(0)], 0, time.perf_counter()
    for step in range(1, a.steps + 1):
        batch = random.sample(train, min(a.batch, len(train)))
        if a.mode == "sft":
            extra = {"loss": sft_update(policy, opt, batch)}
        else:
            extra = grpo_update(policy, opt, batch, a, grpo_args, done)
            done += extra["updates"]
        if step % a.eval_every == 0 or step == a.steps:
            curve.append(point(step, seconds=round(time.perf_counter() - t0, 1), **extra))
    result = {"task": a.task, "mode": a.mode, "lr": a.lr, "train_steps": len(train), "held_out_steps": len(held),
              "curve": curve}
    if a.out:
        Path(a.out).mkdir(parents=True, exist_ok=True)
        (Path(a.out) / "probe.json").write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
