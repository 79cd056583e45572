"""GRPO's packed update batches: the samples that share a prompt are one forward pass, identical samples one row.

A group's episodes often see the same prompt (always at their first turn) and often write the same reply. A
``Unit`` is one prompt and the distinct replies sampled for it; ``pack_samples`` builds them, and
``unit_logprobs`` takes all of a unit's rows in one batched forward pass. Merging identical samples into one
weighted row is exact for the clipped loss, its gradient and the token mean (tests/test_grpo.py);
benchmarks/grpo_speed.py times it against one pass per sample.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import torch

from train.lockstep import prompt_key
from train.rollout import Step


@dataclass
class Unit:
    """One prompt and the distinct replies sampled for it, as one batched forward pass of the update.

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
