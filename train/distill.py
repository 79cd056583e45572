"""Distillation inside a GRPO run: SFT steps on teacher episodes, mixed in with the RL.

``--distill-data DIR --distill-steps K`` interleaves distillation with the RL: after each update, K SFT steps on
the teachers' successful steps of ``--distill-tasks`` (train/sft.py's loss and batches, on an optimizer of their
own), in the manner of PPO-ptx (InstructGPT's pretraining term, here teacher data) and of the SFT/RL interleaving
of later reasoning-model work. Reward can only sharpen what the policy already finds; a task the teacher
demonstrates from what the student sees can also be taught directly. The two are logged apart (``distill_loss``,
``distill_s``) and both count in ``--minutes``.

- ``--distill-first N`` takes N of those steps before the first rollout, so the RL starts from the teacher's form.
- ``--retain-data DIRS --retain-frac F`` draws F of every distillation batch from teacher episodes of tasks the run
  does not train on, so the checkpoint keeps them. With no ``--distill-data`` every batch is retention: the trained
  tasks have no demonstrations and the reward alone teaches them, while the rest is kept.
- ``--distill-last N`` takes N after the last iteration, each batch's tasks drawn uniformly from the trained and
  the retention tasks together: DeepSeek-R1's third stage (SFT over everything once the RL is done), so the
  checkpoint keeps the tasks the RL did not train; the weights before it stay in ``out/rl``.
"""

from __future__ import annotations

import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from train import sft
from train.evaluate import evaluate


@dataclass
class DistillArgs:
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
    retain_data: str = ""
    """Teacher trajectory directories (a,b) of tasks the run does not train on: ``retain_frac`` of every
    distillation batch comes from their successful steps (tasks drawn uniformly), PPO-ptx's pretraining mix, so
    the checkpoint keeps what it could do elsewhere (run 10 lost 25 points on the other core tasks). Without
    ``distill_data``, the whole batch."""
    retain_tasks: str = ""
    """The tasks whose retention steps are used ('': all the retention data holds)."""
    retain_frac: float = 0.25
    """Share of every distillation batch drawn from ``retain_data``."""


def wanted(args: DistillArgs) -> bool:
    """Whether the run distils at all (then it needs a ``Distiller``)."""
    return bool(args.distill_steps or args.distill_first or args.distill_last)


class Distiller:
    """Interleaved SFT on teacher steps (``distill_*`` args): the update train/sft.py makes, ``distill_steps`` times
    an iteration, on its own AdamW, with a batch's tasks drawn uniformly (``sft.draw`` with ``by_task``). With
    ``retain_data``, ``retain_frac`` of each batch is drawn the same way from the retention tasks' steps.

    ``args`` is train/grpo.py's Args: its DistillArgs fields and ``grad_clip``."""

    def __init__(self, args, policy, params: list, tasks: list, state: dict | None):
        self.args, self.policy, self.params = args, policy, params
        names = args.distill_tasks or ",".join(getattr(t, "id", t) for t in tasks)
        if not args.distill_data and not args.retain_data:
            raise SystemExit("distillation steps need --distill-data, --retain-data or both")
        # No --distill-data: the trained tasks have no demonstrations, and every batch is retention (PPO-ptx's
        # pretraining mix alone), so the RL is the only thing that teaches them.
        self.examples, self.by_task = ([], {}) if not args.distill_data else \
            self._load(args.distill_data, names, "--distill-data")
        self.retain, self.retain_by_task = ([], {}) if not args.retain_data else \
            self._load(args.retain_data, args.retain_tasks, "--retain-data")
        self.n_retain = (args.distill_batch if not self.examples else
                         round(args.distill_batch * args.retain_frac) if self.retain else 0)
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
        examples = sft.load_examples([d for d in dirs.split(",") if d], names)
        examples = [e for e in examples if sft.token_length(self.policy, e) <= 1024]
        if not examples:
            raise SystemExit(f"{flag} {dirs}: no successful teacher steps of {names or 'any task'}")
        return examples, sft.by_task(examples)

    def batch(self, rng: random.Random, everything: bool = False) -> list[dict]:
        """One batch: ``distill_batch - n_retain`` steps of the trained tasks, then ``n_retain`` retention steps;
        with ``everything``, ``distill_batch`` steps whose tasks are drawn uniformly from both sets."""
        if everything:
            idx, _ = sft.draw(len(self.everything), [], self.args.distill_batch, rng, self.everything_by_task)
            return [self.everything[i] for i in idx]
        out = []
        if self.examples:
            idx, _ = sft.draw(len(self.examples), [], self.args.distill_batch - self.n_retain, rng, self.by_task)
            out = [self.examples[i] for i in idx]
        if self.n_retain:
            idx, _ = sft.draw(len(self.retain), [], self.n_retain, rng, self.retain_by_task)
            out += [self.retain[i] for i in idx]
        return out

    def steps(self, rng: random.Random, n: int | None = None, everything: bool = False) -> dict:
        """``n`` (default ``distill_steps``) optimizer steps; returns the mean loss and the seconds they took."""
        t0, losses = time.perf_counter(), []
        for _ in range(self.args.distill_steps if n is None else n):
            batch = sft.collate(self.policy, self.batch(rng, everything))
            losses.append(sft.sft_step(self.policy.model, batch, self.params, self.opt, self.args.grad_clip).item())
        return {"distill_loss": sum(losses) / len(losses), "distill_s": round(time.perf_counter() - t0, 2)}


# -- the stages outside the iterations; ``run`` is train/grpo.py's Run ----------------------------------------------

def stage(run, name: str, steps: int, everything: bool = False) -> dict:
    """``steps`` distillation steps in train mode, then the weights saved: their loss and seconds (which count in
    the budget)."""
    with run.updating():
        stats = run.distiller.steps(random.Random(f"{run.args.seed}:distill:{name}"), steps, everything=everything)
    run.save()
    return stats


def first_stage(run) -> None:
    """``distill_first`` steps before the first iteration: the RL starts from the teacher's form."""
    n = run.args.distill_first
    record = {"iteration": 0, "distill_first": n, **stage(run, "first", n)}
    run.log(record)
    print(f"distilled {n} steps first: loss {record['distill_loss']:.3f}, {record['distill_s']:.1f} s", flush=True)


def last_stage(run) -> None:
    """DeepSeek-R1's third stage: ``distill_last`` steps over every task alike, the RL weights kept in out/rl
    (a kill here redoes it from them), then the held-out evaluation."""
    args, out, n = run.args, Path(run.args.out), run.args.distill_last
    shutil.copytree(out / "checkpoint", out / "rl", dirs_exist_ok=True)
    record = {"iteration": run.iteration, "distill_last": n, **stage(run, "last", n, everything=True)}
    print(f"consolidated {n} steps over {len(run.distiller.everything_by_task)} tasks: loss "
          f"{record['distill_loss']:.3f}, {record['distill_s']:.1f} s; the RL weights are in {out / 'rl'}", flush=True)
    if args.eval_seeds:
        record.update(evaluate(args, out / "checkpoint", "consolidated"))
        print(f"after consolidation: held-out success {record['eval_success']:.1%}", flush=True)
    run.log(record)
