"""Grow a trained checkpoint into a wider and deeper one that computes the same function.

The general model's size study (models/embedded/README.md) compares sizes on the same data and wall-clock. A
larger model trained from random weights would spend that clock relearning what the shipped 1.28M model already
knows, so each size starts from the shipped weights, grown without changing a single decision:

- **Width.** The residual stream gets new dimensions that start at zero and stay zero: the new embedding columns,
  the rows that attention (``o_proj``), the MLP (``down_proj``) and the vision merger write into them are zero. The
  RMSNorm weights are scaled by sqrt(old/new), because a norm over more dimensions, the new ones zero, divides by
  a smaller root mean square. New attention heads (head_dim stays, so the M-RoPE sections stay) and new MLP units
  start random but write nothing (their ``o_proj`` / ``down_proj`` columns are zero). The query heads keep their
  key/value group, since heads per group stays the same.
- **Depth.** New layers go on top with zero ``o_proj`` and ``down_proj``: each is the identity at first.

Gradients reach every new weight (the zeros sit behind random ones), so training uses the new capacity at once.
``python -m train.grow --init models/embedded/checkpoint --out runs/grown-256x6 --hidden 256 --layers 6`` writes a
loadable HF directory (tokenizer and processor copied); ``max_logit_gap`` checks the claim on real inputs.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import torch

from agent.flags import Parser


def grown_config(config, hidden: int, layers: int, intermediate: int = 0):
    """The checkpoint's config with a wider, deeper text model; heads per key/value group and head size kept."""
    text = config.text_config
    head_dim = text.hidden_size // text.num_attention_heads
    group = text.num_attention_heads // text.num_key_value_heads
    if hidden % head_dim or hidden < text.hidden_size or layers < text.num_hidden_layers:
        raise ValueError(f"cannot grow {text.hidden_size}x{text.num_hidden_layers} into {hidden}x{layers} "
                         f"(hidden must be a multiple of the head size {head_dim}, and neither may shrink)")
    heads = hidden // head_dim
    if heads % group:
        raise ValueError(f"{heads} heads do not split into key/value groups of {group}")
    new = config.__class__.from_dict(config.to_dict())
    new.text_config.hidden_size = hidden
    new.text_config.num_hidden_layers = layers
    new.text_config.layer_types = ["full_attention"] * layers
    new.text_config.num_attention_heads = heads
    new.text_config.num_key_value_heads = heads // group
    new.text_config.intermediate_size = intermediate or 4 * hidden
    new.vision_config.out_hidden_size = hidden
    return new


def _is_norm(name: str) -> bool:
    return name.endswith("norm.weight") and "visual" not in name


def _writes_residual(name: str) -> bool:
    """Weights whose output rows are residual-stream dimensions (new rows must stay zero)."""
    return name.endswith(("o_proj.weight", "mlp.down_proj.weight")) or (
        "visual.merger" in name and name.endswith(("mlp.2.weight", "mlp.2.bias")))


def grow_state(old: dict, new: dict, old_hidden: int, new_hidden: int, old_layers: int) -> dict:
    """``new`` (a freshly initialised state dict of the grown shape) with ``old`` laid into it, function kept."""
    out = {}
    for name, fresh in new.items():
        w = fresh.clone()
        layer = _layer_index(name)
        if layer is not None and layer >= old_layers:  # a new layer: the identity until trained
            if name.endswith(("o_proj.weight", "down_proj.weight")):
                w.zero_()
            out[name] = w
            continue
        prev = old[name]
        if _is_norm(name):
            scale = math.sqrt(old_hidden / new_hidden)
            w.fill_(float(prev.mean()) * scale)
            w[:old_hidden] = prev * scale
            out[name] = w
            continue
        if name.endswith("embed_tokens.weight") or name.endswith("lm_head.weight"):
            w[:, old_hidden:] = 0
        if _writes_residual(name):
            w[old_hidden:] = 0
        if name.endswith(("o_proj.weight", "down_proj.weight")):
            w[:, prev.shape[1]:] = 0  # new heads and new MLP units write nothing yet
        w[tuple(slice(0, n) for n in prev.shape)] = prev
        out[name] = w
    return out


def _layer_index(name: str) -> int | None:
    parts = name.split(".")
    if "layers" in parts and "visual" not in parts:
        return int(parts[parts.index("layers") + 1])
    return None


def grow(init: str | Path, out: str | Path, hidden: int, layers: int, intermediate: int = 0, seed: int = 0) -> dict:
    """Write the grown checkpoint to ``out``; returns its parameter count and size."""
    from transformers import AutoConfig, Qwen2_5_VLForConditionalGeneration

    init, out = Path(init), Path(out)
    config = AutoConfig.from_pretrained(init)
    old_model = Qwen2_5_VLForConditionalGeneration.from_pretrained(init, dtype=torch.float32)
    new_config = grown_config(config, hidden, layers, intermediate)
    torch.manual_seed(seed)
    new_model = Qwen2_5_VLForConditionalGeneration(new_config).to(torch.float32)
    state = grow_state(old_model.state_dict(), new_model.state_dict(), config.text_config.hidden_size, hidden,
                       config.text_config.num_hidden_layers)
    new_model.load_state_dict(state)
    new_model.generation_config = old_model.generation_config
    out.mkdir(parents=True, exist_ok=True)
    new_model.save_pretrained(out)
    for f in init.iterdir():  # tokenizer, processor, card: everything but the weights and the config
        if f.is_file() and f.suffix != ".safetensors" and f.name not in ("config.json", "generation_config.json"):
            shutil.copy2(f, out / f.name)
    return {"params": sum(p.numel() for p in new_model.parameters()),
            "checkpoint_mb": round(sum(f.stat().st_size for f in out.glob("*.safetensors")) / 2**20, 2),
            "path": str(out)}


def max_logit_gap(a: str | Path, b: str | Path, messages: list[dict], reply: str) -> float:
    """Largest absolute difference between two checkpoints' next-token logits over a prompt and its reply."""
    from transformers import AutoModelForImageTextToText

    from models.hf import TransformersModel  # transformers too: only the functions that build models load it

    batch = TransformersModel(str(a)).encode(messages, reply)
    batch = {k: v for k, v in batch.items() if k not in ("completion_mask", "prompt_len")}
    logits = []
    for path in (a, b):
        model = AutoModelForImageTextToText.from_pretrained(path, dtype=torch.float32).eval()
        with torch.no_grad():
            logits.append(model(**batch).logits)
    return float((logits[0] - logits[1]).abs().max())


def main(argv=None) -> Path:
    ap = Parser(description=__doc__.split("\n")[0])
    ap.add_argument("--init", default="models/embedded/checkpoint", help="checkpoint directory to grow")
    ap.add_argument("--out", required=True, help="output directory (an HF checkpoint directory)")
    ap.add_argument("--hidden", type=int, required=True, help="new hidden size (a multiple of the head size)")
    ap.add_argument("--layers", type=int, required=True, help="new number of layers (at least the old number)")
    ap.add_argument("--intermediate", type=int, default=0, help="new MLP width (default 4 x hidden)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the new weights' initialisation")
    args = ap.parse_args(argv)
    info = grow(args.init, args.out, args.hidden, args.layers, args.intermediate, args.seed)
    print(json.dumps(info))
    return Path(args.out)


if __name__ == "__main__":
    main()
