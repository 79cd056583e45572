"""The trained model on disk and in memory: the run directory, checkpoints, LoRA and the vLLM weight sync.

``out/checkpoint`` is an HF directory (save_pretrained) with the model's card (``screenwise.json``); ``state.pt``
holds the optimizers, the iteration and the RNG states, so a rerun resumes; ``metrics.jsonl`` is cut back to
state.pt's iteration. A checkpoint is written into a copy and swapped in, so a kill leaves one whole directory.

``--lora`` trains peft LoRA adapters on any HF VLM directory; the frozen base is the reference (adapters off).
The checkpoint then holds the merged weights (so ``hf:out/checkpoint``, Ray actors and vLLM load it as any
model) and the adapter under ``checkpoint/adapter`` (what a rerun resumes from, on top of the base at --init).
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch

from models.card import Card
from models.hf import TransformersModel


@dataclass
class PolicyArgs:
    device: str = "cpu"
    """Torch device of the trainer (cpu, cuda)."""
    dtype: str = ""
    """Training dtype ('' keeps the checkpoint's; bfloat16 on a GPU)."""
    lora: bool = False
    """Train LoRA adapters (peft) instead of all weights."""
    lora_rank: int = 16
    """LoRA rank (with --lora)."""
    lora_alpha: int = 32
    """LoRA alpha: the adapters are scaled by alpha / rank (with --lora)."""
    lora_targets: str = "q_proj,k_proj,v_proj,o_proj"
    """Module names that get adapters (Qwen2.5-VL: the language model's attention)."""
    vllm: bool = False
    """Generate with vLLM (GPU; untested here)."""
    vllm_memory: float = 0.4
    """vLLM's share of GPU memory (the trainer needs the rest)."""
    mark_matches: bool = False
    """Turn on the ``Named in the task:`` line (agent/memory.py ``match_line``) in the new run's checkpoint card:
    its rollouts, evaluations and every later use of the checkpoint read it. Teacher data recorded with
    ``--policy model:teacher:*`` carries it already."""


# -- the run directory -------------------------------------------------------------------------------------------

def open_run(args) -> tuple[str, dict | None, list[dict]]:
    """Start ``out`` from ``--init`` on a first run, or find where a rerun resumes. Returns the base checkpoint
    (the first run's --init), state.pt's contents (None on a first run) and the metrics logged up to it."""
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
            Card.turn_on(checkpoint, "mark_matches")
        run_info_path.write_text(json.dumps({"init": str(Path(args.init).absolute())}, indent=1))
    init = json.loads(run_info_path.read_text())["init"] if run_info_path.exists() else args.init
    (out / "args.json").write_text(json.dumps(dataclasses.asdict(args), indent=1))

    state = torch.load(state_path, weights_only=False) if state_path.exists() else None
    iteration = state["iteration"] if state else 0
    metrics = [json.loads(line) for line in metrics_path.read_text().splitlines()] if metrics_path.exists() else []
    metrics = [m for m in metrics if m["iteration"] <= iteration]  # lines past state.pt: a kill mid-iteration
    metrics_path.write_text("".join(json.dumps(m) + "\n" for m in metrics))
    return init, state, metrics


def save_run(out: Path, policy, peft_model, opt, iteration: int, distill_opt=None) -> None:
    """The checkpoint, then state.pt (optimizers, iteration, RNG states), each replaced whole."""
    save_checkpoint(policy, peft_model, out / "checkpoint")
    torch.save({"opt": opt.state_dict(), "iteration": iteration, "python_rng": random.getstate(),
                "torch_rng": torch.get_rng_state(),
                "distill_opt": distill_opt.state_dict() if distill_opt is not None else None}, out / "state.pt.tmp")
    os.replace(out / "state.pt.tmp", out / "state.pt")


def restore_state(state: dict | None, opt, seed: int) -> None:
    """On a rerun, the optimizer and RNG states state.pt saved; on a first run, the RNGs seeded."""
    if state:
        opt.load_state_dict(state["opt"])
        random.setstate(state["python_rng"])
        torch.set_rng_state(state["torch_rng"])
        print(f"resuming at iteration {state['iteration']}", flush=True)
    else:
        random.seed(seed)
        torch.manual_seed(seed)


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


# -- the policy, its reference and LoRA --------------------------------------------------------------------------

def card_of(checkpoint) -> Card:
    """The card the checkpoint carries (its screenwise.json), or UI-TARS's defaults."""
    return Card.of_directory(checkpoint) or Card()


def load_policy(args, checkpoint: Path, base: str):
    """The trained model (models.hf.TransformersModel) and, with --lora, its peft wrapper (else None)."""
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


def load_reference(args, base: str, peft_model):
    """The frozen reference of the KL term: the base checkpoint, or None where there is no KL term (beta 0) or
    where the LoRA base, with the adapters off, is the reference."""
    if not args.beta or peft_model is not None:
        return None
    reference = TransformersModel(base, device=args.device, dtype=args.dtype or None, threads=args.threads)
    reference.model.requires_grad_(False)
    return reference


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


# -- vLLM --------------------------------------------------------------------------------------------------------

def start_vllm(args, checkpoint: Path):
    """vLLM in this process (so its weights can be replaced in place), behind the generation lock. UNTESTED."""
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    from models.vllm_backend import VLLMModel  # vLLM: GPU hosts only, in an environment of its own

    card = card_of(checkpoint)
    return VLLMModel(str(checkpoint), coord_space=card.coord_space, card=card,
                     gpu_memory_utilization=args.vllm_memory, seed=args.seed)


def sync_vllm(args, holder, policy, peft_model, checkpoint: Path) -> None:
    """Give vLLM the updated weights: load_weights on its in-process model, else restart it from the checkpoint.
    ``holder`` is the train.lockstep.LockstepBatcher the rollouts generate through.

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
