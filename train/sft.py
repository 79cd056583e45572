"""Supervised fine-tuning (distillation): a VLM learns to answer like the teacher did.

Data enters as trajectory directories (agent/trajectory.py) recorded by the agent loop; only successful
episodes are kept (rejection sampling), and every step without a parse error becomes one example: the exact
prompt the model was shown (images reloaded from the episode's PNGs) and the reply as the target. Steps with a
teacher ``label`` (DAgger, train/dagger.py) train on the label, whatever the episode's outcome. The loss is
the mean cross-entropy over the reply's tokens only (prompt tokens are masked out).

Everything leaves in ``Args.out``: ``checkpoint/`` (an HF directory: save_pretrained, loadable offline),
``state.pt`` (optimizer, step, data order: a rerun resumes), ``metrics.jsonl``, ``loss.png`` and, every
``eval_every`` steps, a held-out evaluation of real success in the env (``eval/``).

    python -m train.sft --data runs/distill --out runs/sft --steps 4000
"""

from __future__ import annotations

import json
import math
import random
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image
from tqdm import tqdm

from agent.flags import Parser, add_fields
from agent.trajectory import find_trajectories, read_trajectory
from core.messages import image_part
from envs.tasks import task_names
from models import STUDENT_FORM
from models.card import Card
from models.hf import TransformersModel
from models.tiny import build_tiny_qwen25vl
from train import synthetic
from train.curves import plot_losses
from train.evaluate import bench_success


@dataclass
class DataArgs:
    data: list[str] = field(default_factory=list)
    """Directories searched for episode.jsonl trajectories."""
    data_tasks: str = ""
    """Keep only examples of these tasks (a --tasks spec such as ``core``); empty: every task in the data."""
    balance: str = ""
    """How a batch's data examples are drawn: "" shuffles all steps (a task weighs what it has recorded, so
    multi-step tasks dominate); "tasks" draws each example's task uniformly, then one of its steps."""
    max_tokens: int = 2048
    """Examples longer than this (prompt text + reply, the screenshot's tokens aside) are left out, and counted by
    task. At 1,024 (stages 1-13) the late steps of full-size pages were all left out (docs/experiments.md, run 8)."""
    synthetic: float = 0.0
    """Share of each batch drawn fresh from train/synthetic.py (1.0: synthetic pretraining alone)."""
    synthetic_skills: str = ""
    """Which synthetic skills, comma-separated (train/synthetic.py ``ALL_SKILLS``: click_text, fill_form,
    tick_boxes, click_color, web_form); empty: the four MiniWoB-size ones. Drawn with the card's prompt form."""


@dataclass
class ModelArgs:
    init: str = ""
    """Checkpoint directory to start from; empty: build a fresh tiny Qwen2.5-VL (models/tiny.py)."""
    hidden: int = 192
    """Hidden size of a fresh model (ignored with --init)."""
    layers: int = 6
    """Transformer layers of a fresh model (ignored with --init)."""
    heads: int = 4
    """Attention heads of a fresh model (ignored with --init)."""
    kv_heads: int = 2
    """Key/value heads of a fresh model (grouped-query attention; ignored with --init)."""
    field_labels: bool = False
    """Turn on ``field_labels`` in the new run's card (the element list names each field by its label): for data
    recorded with the teachers' student form, which has it (models/__init__.py ``STUDENT_FORM``)."""


@dataclass
class OptimArgs:
    out: str = "runs/sft"
    """Output directory (checkpoint/, state.pt, metrics.jsonl, loss.png, eval/)."""
    steps: int = 4000
    """Optimizer steps in all (a resumed run continues to this number)."""
    minutes: float = 0.0
    """Wall-clock budget for the optimizer steps (evaluations excluded; 0: none); a resumed run counts the
    minutes it already spent. The learning-rate schedule runs over ``steps`` unless ``clock_schedule``."""
    clock_schedule: bool = False
    """With ``minutes``: the cosine runs over the minutes, not the steps, so runs that share a wall-clock budget
    (a size study) all end annealed, whatever their speed. Set ``steps`` above what the minutes allow."""
    batch_size: int = 8
    """Examples per optimizer step."""
    lr: float = 2e-3
    """Peak learning rate (AdamW)."""
    warmup: int = 100
    """Steps over which the learning rate rises linearly to lr."""
    weight_decay: float = 0.01
    """AdamW weight decay."""
    save_every: int = 250
    """Steps between checkpoint saves."""
    threads: int = 1
    """torch threads."""
    seed: int = 0
    """Seed of the model's initialisation and of the batches' order."""


@dataclass
class SFTEvalArgs:
    eval_every: int = 0
    """Steps between held-out env evaluations (0: only at the end)."""
    eval_tasks: str = "click-button,click-link,enter-text,click-checkboxes,login-user,click-tab-2"
    """Tasks of the held-out env evaluations (a --tasks spec)."""
    eval_seeds: int = 3
    """Episodes per eval task (0: no evaluation)."""
    eval_seed_offset: int = 90_000
    """Held-out seeds: far from the seeds the data was recorded on."""


@dataclass
class Args(DataArgs, ModelArgs, OptimArgs, SFTEvalArgs):
    """Every flag of ``python -m train.sft``, in groups (``--help`` lists them so)."""


GROUPS = {"data": DataArgs, "a fresh model": ModelArgs, "optimisation": OptimArgs, "evaluation": SFTEvalArgs}


# -- data ----------------------------------------------------------------------------------------------------

def load_examples(dirs: list[str], tasks: str = "") -> list[dict]:
    """(messages, target) pairs from successful episodes; images stay on disk until a batch needs them."""
    wanted = set(task_names(tasks)) if tasks else None
    examples = []
    for d in dirs:
        for path in find_trajectories(d):
            traj = read_trajectory(path)
            if wanted is not None and traj.header.get("task", "") not in wanted:
                continue
            success = bool(traj.end and traj.end.get("success"))
            for step in traj.steps:
                if step.get("label"):  # DAgger: the teacher's answer for a state the student reached
                    target = step["label"]
                elif success and not step.get("error") and step.get("raw_output"):
                    target = step["raw_output"]  # rejection sampling: only episodes that worked
                else:
                    continue
                examples.append({"dir": str(traj.dir), "prompt": step["prompt"], "target": target,
                                 "task": traj.header.get("task", ""), "config": traj.header.get("config", {})})
    return examples


PROMPT_FORM = ("mark_matches", "field_labels")
"""Card fields that change the prompt's text: data recorded with one on teaches a prompt the card must also ask."""


def form_mismatches(examples: list[dict], card) -> list[str]:
    """One line for each prompt-form field that some examples were recorded with otherwise than ``card`` says."""
    out = []
    for name in PROMPT_FORM:
        on = getattr(card, name)
        differ = sum(bool(e.get("config", {}).get(name, False)) != on for e in examples)
        if differ:
            hint = " (--field-labels turns it on in a new run)" if name == "field_labels" and not on else ""
            out.append(f"{differ} of {len(examples)} examples were recorded with {name} {'off' if on else 'on'}, "
                       f"but the checkpoint's card has it {'on' if on else 'off'}: the model learns prompts it "
                       f"will not be shown{hint}")
    return out


def within_limit(model, examples: list[dict], max_tokens: int) -> tuple[list[dict], Counter]:
    """The examples of at most ``max_tokens`` (``token_length``), and how many of each task's were longer."""
    kept, dropped = [], Counter()
    for e in examples:
        if token_length(model, e) <= max_tokens:
            kept.append(e)
        else:
            dropped[e["task"]] += 1
    return kept, dropped


def by_task(examples: list[dict]) -> dict[str, list[int]]:
    """Each task's example indices."""
    groups: dict[str, list[int]] = {}
    for i, e in enumerate(examples):
        groups.setdefault(e["task"], []).append(i)
    return groups


def draw(size: int, order: list[int], n: int, rng: random.Random,
         tasks: dict[str, list[int]] | None = None) -> tuple[list, list]:
    """The indices of a batch's ``n`` data examples (of ``size``), and what is left of the shuffled epoch ``order``.

    Without ``tasks`` the examples are taken in a shuffled order, epoch after epoch. With ``tasks``
    (``by_task``), each one's task is drawn uniformly, then one of its steps (with replacement).
    """
    if tasks:
        names = sorted(tasks)
        return [rng.choice(tasks[rng.choice(names)]) for _ in range(n)], order
    while len(order) < n:
        fresh = list(range(size))
        rng.shuffle(fresh)
        order = order + fresh
    return order[:n], order[n:]


def materialize(example: dict) -> list[dict]:
    """The stored prompt with its image files loaded back as image parts (synthetic examples carry theirs)."""
    if "messages" in example:
        return example["messages"]
    out = []
    for m in example["prompt"]:
        content = m["content"]
        if isinstance(content, list):
            content = [image_part(Image.open(Path(example["dir"]) / p["path"])) if p.get("type") == "image_file"
                       else p for p in content]
        out.append({**m, "content": content})
    return out


def collate(model, examples: list[dict]) -> dict:
    """Encode each example (prompt + target) and right-pad them into one batch with labels."""
    rows = [model.encode(materialize(e), [e["target"]]) for e in examples]
    width = max(r["input_ids"].shape[1] for r in rows)
    batch: dict = {}
    for key in rows[0]:
        if key in ("prompt_len",):
            continue
        values = [r[key] for r in rows]
        if key in ("pixel_values", "image_grid_thw"):
            batch[key] = torch.cat(values)
        else:
            pad = model.pad_id if key == "input_ids" else 0
            batch[key] = torch.stack([torch.nn.functional.pad(v[0], (0, width - v.shape[1]), value=pad)
                                      for v in values])
    labels = batch["input_ids"].clone()
    labels[~batch.pop("completion_mask").bool()] = -100
    batch["labels"] = labels
    return batch


def token_length(model, example: dict) -> int:
    return len(model.tokenizer(example["target"])["input_ids"]) + sum(
        len(p.get("text", "")) for m in example["prompt"] for p in
        (m["content"] if isinstance(m["content"], list) else [{"text": m["content"]}]))


# -- model ---------------------------------------------------------------------------------------------------

ACTION_TOKENS = (
    "Thought: ", "\nAction: ", "click(", "left_double(", "right_single(", "type(", "select(", "scroll(",
    "hotkey(key='", "drag(", "hover(", "wait(", "finished(", "element='", "start_box='(", "end_box='(",
    "', content='", "', option='", "', direction='", "content='", ")')", "')", "Previous actions:\n",
    "\nElements:\n", "Task: ", " button ", " textbox", " text ", " label ", " link ", " checkbox",
)
"""Multi-character tokens for the fixed syntax of prompts and replies: letters and digits of names and
values stay one token each (so copying generalises), but the scaffolding costs one token, which halves the
reply length and with it the decision latency."""


def build_model(args: Args, directory: Path) -> None:
    info = build_tiny_qwen25vl(directory, hidden=args.hidden, layers=args.layers, heads=args.heads,
                               kv_heads=args.kv_heads, extra_tokens=ACTION_TOKENS, seed=args.seed)
    # the prompt form of the data it learns from (the teachers' student form), and the embedded model's constraints
    card = STUDENT_FORM.replace(constrain_references=True, copy_content=True, constrain_quotes=True)
    (directory / "screenwise.json").write_text(json.dumps(card.to_dict(), indent=1))
    print(f"built a tiny Qwen2.5-VL: {info['params']:,} parameters, {info['checkpoint_mb']:.1f} MB", flush=True)


def open_model(args: Args):
    """out/checkpoint (copied from --init, or a fresh tiny model on a first run) loaded for training."""
    ckpt = Path(args.out) / "checkpoint"
    if not (ckpt / "config.json").exists():
        if args.init:
            shutil.copytree(args.init, ckpt, dirs_exist_ok=True)
        else:
            build_model(args, ckpt)
        if args.field_labels:
            Card.turn_on(ckpt, "field_labels")
    return TransformersModel(ckpt, coord_space="pixels", threads=args.threads)


# -- the step ------------------------------------------------------------------------------------------------

def lr_at(step: int, args: Args, spent: float = 0.0) -> float:
    """Linear warmup, then a cosine down to a tenth: over the steps, or with ``clock_schedule`` over the minutes."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    if args.clock_schedule and args.minutes:
        progress = spent / (60 * args.minutes)
    else:
        progress = (step - args.warmup) / max(1, args.steps - args.warmup)
    return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def sft_step(net, batch: dict, params, opt, grad_clip: float = 1.0) -> torch.Tensor:
    """One supervised step on a ``collate``d batch: the reply tokens' cross-entropy, its gradient clipped to
    ``grad_clip``, one optimizer step. Returns the loss (GRPO's distillation steps take the same step)."""
    loss = net(**batch).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, grad_clip)
    opt.step()
    opt.zero_grad(set_to_none=True)
    return loss


# -- evaluation ----------------------------------------------------------------------------------------------

def evaluate(args: Args, checkpoint: Path, step: int) -> dict:
    """Real success in the env on held-out seeds, through the same bench and agent loop users run."""
    return bench_success(checkpoint, Path(args.out) / "eval" / f"step{step:06d}", tasks=args.eval_tasks,
                         seeds=args.eval_seeds, seed_offset=args.eval_seed_offset)


# -- training ------------------------------------------------------------------------------------------------

def load_data(args: Args, model) -> tuple[list[dict], int, dict | None]:
    """The data examples that fit ``max_tokens``, how many of a batch are synthetic, and the examples by task
    (with ``--balance tasks``; else None)."""
    examples, dropped = within_limit(model, load_examples(args.data, args.data_tasks), args.max_tokens)
    if dropped:  # a long page's late steps: a model never trained past the limit writes nonsense there
        print(f"left out {sum(dropped.values())} examples longer than --max-tokens {args.max_tokens}: "
              + ", ".join(f"{t or '?'} {n}" for t, n in dropped.most_common()), flush=True)
    if not examples and args.synthetic < 1.0:
        raise SystemExit(f"no successful steps found under {args.data}")
    for line in form_mismatches(examples, model.card):
        print(f"warning: {line}", flush=True)
    print(f"{len(examples)} examples from {len({e['dir'] for e in examples})} successful episodes"
          + (f", plus {args.synthetic:.0%} of each batch synthetic" if args.synthetic else ""), flush=True)
    n_synthetic = args.batch_size if not examples else round(args.batch_size * args.synthetic)
    if args.balance not in ("", "tasks"):
        raise SystemExit(f"--balance takes '' or 'tasks', not {args.balance!r}")
    return examples, n_synthetic, by_task(examples) if args.balance == "tasks" else None


def train(args: Args) -> Path:
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt, state_path, metrics_path = out / "checkpoint", out / "state.pt", out / "metrics.jsonl"
    model = open_model(args)
    net = model.model
    examples, n_synthetic, tasks = load_data(args, model)
    skills = synthetic.pick_skills(args.synthetic_skills)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    step, order = 0, []
    if state_path.exists():  # resume
        state = torch.load(state_path, weights_only=False)
        opt.load_state_dict(state["opt"])
        step, order = state["step"], state["order"]
        print(f"resuming at step {step}", flush=True)
    rng = random.Random(args.seed + step)
    metrics = [json.loads(line) for line in metrics_path.read_text().splitlines()] if metrics_path.exists() else []

    def save() -> None:
        net.save_pretrained(ckpt)
        torch.save({"opt": opt.state_dict(), "step": step, "order": order}, state_path)
        plot_losses(metrics, out / "loss.png")

    net.train()
    t0, tokens, ema = time.time(), 0, None
    bar = tqdm(total=args.steps, initial=step, unit="step", dynamic_ncols=True, desc="sft")
    spent = metrics[-1].get("train_seconds", 0.0) if metrics else 0.0
    while step < args.steps and (not args.minutes or spent < 60 * args.minutes):
        t_step = time.time()
        idx, order = draw(len(examples), order, args.batch_size - n_synthetic, rng, tasks)
        drawn = [synthetic.example(rng, skills, model.card) for _ in range(n_synthetic)]
        batch = collate(model, [examples[i] for i in idx] + drawn)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, args, spent)
        loss = sft_step(net, batch, net.parameters(), opt)
        step += 1
        tokens += int(batch["attention_mask"].sum())
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        bar.update()
        bar.set_postfix_str(f"loss {ema:.3f} lr {lr_at(step, args, spent):.1e} "
                            f"tok/s {tokens / (time.time() - t0):.0f}", refresh=False)
        spent += time.time() - t_step
        record = {"step": step, "loss": round(loss.item(), 5), "lr": lr_at(step, args, spent),
                  "seconds": round(time.time() - t0, 1), "train_seconds": round(spent, 2)}
        if step % args.save_every == 0 or step == args.steps:
            save()
        last = step == args.steps or (args.minutes and spent >= 60 * args.minutes)
        if args.eval_seeds and ((args.eval_every and step % args.eval_every == 0) or last):
            net.eval()
            save()
            record.update(evaluate(args, ckpt, step))
            bar.write(f"step {step}: held-out success {record['eval_success']:.1%} {record['eval_per_task']}")
            net.train()
        metrics.append(record)
        with open(metrics_path, "a") as f:
            f.write(json.dumps(record) + "\n")
    bar.close()
    save()
    return ckpt


def parse_args(argv=None) -> Args:
    ap = Parser(description=__doc__.split("\n")[0])
    for title, group in GROUPS.items():
        add_fields(ap.add_argument_group(title), group)
    return Args(**vars(ap.parse_args(argv)))


if __name__ == "__main__":
    train(parse_args())
