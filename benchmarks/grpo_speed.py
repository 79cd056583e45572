"""GRPO iteration speed, side by side in one run: one-call-at-a-time rollouts vs lockstep, unpacked vs packed updates.

Rollouts: the same (task, seed) groups are played by the embedded model through train.rollout.play_groups, with
the model behind agent.loop._Serialized (each call decoded alone, as train.grpo did before run 5) and behind
train.lockstep.LockstepBatcher (calls with the same prompt share one n-row decode), alternating, ``--repeats``
times each. Updates: the informative groups of one rollout become samples; one full update over them runs with
every sample its own unit (one forward pass per sample) and with train.packing.pack_samples' units (one pass per
prompt, identical samples as one weighted row), alternating on copies of the policy. Episodes/s and seconds per
update are wall-clock medians; the ratios are the figures to quote (the machine is shared).

    .venv/bin/python benchmarks/grpo_speed.py                       # 10 prompts x groups of 8, 2 repeats
    .venv/bin/python benchmarks/grpo_speed.py --prompts 4 --repeats 1

Prints a table and writes benchmarks/results/grpo_speed.json.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import statistics
import time
from functools import partial
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

TASKS = ("click-color,click-checkboxes-large,generate-number,click-tab-2-hard,email-inbox-important,"
         "click-collapsible-2,click-tab-2,click-widget,email-inbox-delete,identify-shape")


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="", help="checkpoint directory (default: the embedded model)")
    ap.add_argument("--tasks", default=TASKS)
    ap.add_argument("--prompts", type=int, default=10)
    ap.add_argument("--group", type=int, default=8)
    ap.add_argument("--serial-workers", type=int, default=2, help="pages for the one-call-at-a-time rollouts")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--seed-offset", type=int, default=910_000)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "grpo_speed.json"))
    a = ap.parse_args(argv)

    import torch

    from agent.loop import AgentConfig, _Serialized, config_for
    from models.card import Card
    from agent.runner import ThreadPool
    from envs.browser import Browser, BrowserEnv
    from envs.tasks import resolve_tasks
    from models import EMBEDDED_DIR
    from train import grpo as G
    from train.checkpoints import load_policy
    from train.packing import Unit, pack_samples
    from train.rollout import SamplingPolicy, play_groups
    from train.lockstep import LockstepBatcher

    torch.set_num_threads(1)
    path = Path(a.model or EMBEDDED_DIR)
    args = G.Args(init=str(path), max_steps=8, threads=1, lr=1e-4, minibatch=0, scale_std=False, eps_high=0.28)
    policy, _ = load_policy(args, path, str(path))
    config = config_for(Card.of_directory(path) or Card())
    config = AgentConfig(**{**config.__dict__, "temperature": 1.0, "max_tokens": 128, "best_of": 1})
    tasks = resolve_tasks(a.tasks)
    prompts = [(tasks[p % len(tasks)], a.seed_offset + p) for p in range(a.prompts)]
    jobs = [(p, g) for p in range(a.prompts) for g in range(a.group)]
    browser = Browser()
    lockstep_workers = a.group * max(1, 16 // a.group)
    workers = {"serialized": a.serial_workers, "lockstep": lockstep_workers}
    pools = {name: ThreadPool(partial(BrowserEnv, browser=browser, max_steps=8), None, n, by_task=False)
             for name, n in workers.items()}
    rollout = {"serialized": [], "lockstep": []}
    episodes = None
    try:
        for _ in range(a.repeats):
            for name in rollout:
                generator = _Serialized(policy) if name == "serialized" else LockstepBatcher(policy)
                pools[name].policy = SamplingPolicy(generator, config)
                t0 = time.perf_counter()
                played = play_groups(pools[name], prompts, a.group)
                rollout[name].append(len(played) / (time.perf_counter() - t0))
                episodes = played
    finally:
        for pool in pools.values():
            pool.close()
        browser.close()

    samples = []
    for p in range(a.prompts):
        group = [ep for ep in episodes if ep.prompt == p]
        rewards = [G.episode_reward(ep) for ep in group]
        if G.informative(rewards):
            for ep, adv in zip(group, G.group_advantages(rewards, scale_std=False)):
                samples += [(s, adv) for s in ep.steps if s.token_ids]
    packed = pack_samples(samples)
    unpacked = [Unit(s.messages, [s], [adv], [1]) for s, adv in samples]
    update = {"unpacked": [], "packed": []}
    for _ in range(a.repeats):
        for name, units in (("unpacked", unpacked), ("packed", packed)):
            trained = copy.deepcopy(policy)
            params = [p for p in trained.model.parameters() if p.requires_grad]
            opt = torch.optim.AdamW(params, lr=args.lr)
            trained.model.train()
            t0 = time.perf_counter()
            G.update(trained, params, opt, units, args, random.Random(0))
            update[name].append(time.perf_counter() - t0)

    med = {k: statistics.median(v) for k, v in {**rollout, **update}.items()}
    result = {
        "episodes": len(jobs), "prompts": a.prompts, "group": a.group, "tasks": a.tasks,
        "serial_workers": a.serial_workers, "lockstep_workers": lockstep_workers,
        "rollout_episodes_per_s": {k: round(med[k], 2) for k in rollout},
        "rollout_speedup": round(med["lockstep"] / med["serialized"], 2),
        "update_samples": len(samples), "update_units": len(packed),
        "update_rows": sum(len(u.steps) for u in packed),
        "update_s": {k: round(med[k], 2) for k in update},
        "update_speedup": round(med["unpacked"] / med["packed"], 2),
        "runs": {**rollout, **update},
    }
    print(f"rollout, {len(jobs)} episodes ({a.prompts} prompts x {a.group}):")
    print(f"  serialized ({a.serial_workers} pages)   {med['serialized']:6.2f} episodes/s")
    print(f"  lockstep ({lockstep_workers} pages)     {med['lockstep']:6.2f} episodes/s   x{result['rollout_speedup']}")
    print(f"update, {len(samples)} samples -> {len(packed)} units, {result['update_rows']} rows:")
    print(f"  unpacked            {med['unpacked']:6.2f} s")
    print(f"  packed              {med['packed']:6.2f} s   x{result['update_speedup']}")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
