"""The embedded tiny VLM: a character-level tokenizer and a randomly initialised Qwen2.5-VL, built locally.

Nothing is downloaded. ``build_tiny_qwen25vl(dir)`` writes a directory that plain
``AutoModelForImageTextToText.from_pretrained(dir)`` / ``AutoProcessor.from_pretrained(dir)`` load offline, here
and on a GPU host (vLLM lists ``Qwen2_5_VLForConditionalGeneration``, so it serves the same directory).

Why character level: a small model learns to copy strings (element names, typed text, digits) only when every
letter and digit is its own token (DESIGN.md, "The embedded model"). The vocabulary is the 256 byte symbols of
GPT-2/Qwen byte-level BPE with *no merges*: printable ASCII is one token per character, anything else falls back
to its UTF-8 bytes, so every string round-trips. Qwen2.5-VL's special tokens follow, in Qwen's order.

Why a PIL image processor: torchvision does not import next to torch 2.13 CPU, and the stock (torchvision)
Qwen2-VL image and video processors need it. The processor is built from ``Qwen2VLImageProcessorPil`` without a
video processor, but saved under the stock class names (``Qwen2_5_VLProcessor``, ``Qwen2VLImageProcessor``), so a
GPU host with torchvision loads the stock classes and this host falls back to the PIL one.

Image size: Qwen2.5-VL resizes each side to a multiple of 28 (patch 14 x merge 2) with the area kept in
[min_pixels, max_pixels]; each 28x28 cell becomes one language-model token. A 160x210 MiniWoB screenshot
becomes 168x224 (round-half-even of 5.71 and 7.5 cells), i.e. 6x8 = 48 image tokens, with no downscaling.
``MAX_PIXELS`` caps any screenshot at 64 image tokens (a 1280x720 desktop or a 500x320 page becomes 280x168,
60 tokens) so the CPU cost of a step stays bounded; ``MIN_PIXELS`` (4 tokens) only matters for tiny crops.
Coordinates the model writes are in that resized image (``coord_space="qwen25"``).
"""

from __future__ import annotations

import json
from pathlib import Path

IMAGE_CELL = 28                       # patch_size 14 x spatial merge 2: one LM token per 28x28 cell
MIN_PIXELS = 4 * IMAGE_CELL ** 2      # 3,136 px: at least 4 image tokens
MAX_PIXELS = 64 * IMAGE_CELL ** 2     # 50,176 px: at most 64 image tokens (160x210 -> 48)

# Qwen2.5-VL's added tokens, in Qwen's order (ids 151643.. there; 256.. here). True = special.
QWEN25_VL_TOKENS = [
    ("<|endoftext|>", True), ("<|im_start|>", True), ("<|im_end|>", True),
    ("<|object_ref_start|>", True), ("<|object_ref_end|>", True), ("<|box_start|>", True), ("<|box_end|>", True),
    ("<|quad_start|>", True), ("<|quad_end|>", True), ("<|vision_start|>", True), ("<|vision_end|>", True),
    ("<|vision_pad|>", True), ("<|image_pad|>", True), ("<|video_pad|>", True),
    ("<tool_call>", False), ("</tool_call>", False), ("<|fim_prefix|>", False), ("<|fim_middle|>", False),
    ("<|fim_suffix|>", False), ("<|fim_pad|>", False), ("<|repo_name|>", False), ("<|file_sep|>", False),
]

# Qwen2.5-VL's own chat template (system default, image/video placeholders), accepting OpenAI "image_url" parts.
CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}"
    "{% endfor %}<|im_end|>\n{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable-character map (what tokenizers' ByteLevel uses)."""
    bs = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def build_tokenizer(extra_tokens=()):
    """A byte-level tokenizer with no merges (one token per ASCII character) plus Qwen2.5-VL's special tokens.

    Ids 0..255 are the bytes in order, then ``QWEN25_VL_TOKENS``, then ``extra_tokens`` (ordinary added tokens: only the chat and vision markers are special).
    Returns a ``transformers.PreTrainedTokenizerFast`` carrying the Qwen2.5-VL chat template.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from tokenizers import AddedToken as TokAddedToken
    from transformers import PreTrainedTokenizerFast

    byte_chars = _bytes_to_unicode()
    vocab = {byte_chars[b]: b for b in range(256)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], fuse_unk=False))
    # ByteLevel without the regex split: the text is only mapped to byte symbols; with no merges, nothing joins.
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    for content, special in QWEN25_VL_TOKENS:
        tok.add_tokens([TokAddedToken(content, special=special, normalized=False)])
    # Action-syntax tokens are ordinary added tokens, not special: a server that decodes with
    # skip_special_tokens=True (vLLM's default) would otherwise strip `Thought: ` and `click(` from every reply.
    tok.add_tokens([TokAddedToken(t, special=False, normalized=False) for t in extra_tokens])

    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        bos_token=None,
        chat_template=CHAT_TEMPLATE,
        model_max_length=32768,
        padding_side="left",
        clean_up_tokenization_spaces=False,
    )


def build_processor(tokenizer=None, patch_size: int = 14, processor_class: str = "Qwen2_5_VLProcessor",
                    min_pixels: int = MIN_PIXELS, max_pixels: int = MAX_PIXELS):
    """A Qwen-VL processor from the PIL image processor, without the video part (no torchvision needed).

    ``processor_class`` names the stock processor (``Qwen2_5_VLProcessor``, ``Qwen3VLProcessor``, ...) it is built as.
    """
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    from models.hf import image_only_processor  # torch, which this module loads only when a model is built

    tokenizer = tokenizer if tokenizer is not None else build_tokenizer()
    image_processor = Qwen2VLImageProcessorPil(
        min_pixels=min_pixels, max_pixels=max_pixels, patch_size=patch_size, temporal_patch_size=2, merge_size=2)
    return image_only_processor(processor_class, image_processor, tokenizer, tokenizer.chat_template)


def save_processor(processor, out_dir: str | Path, video_processor_type: str = "Qwen2VLVideoProcessor") -> None:
    """``save_pretrained``, plus the two entries a host *with* torchvision needs for plain ``AutoProcessor``.

    transformers saves the image processor under its stock name (``Qwen2VLImageProcessor``) and picks the PIL or
    torchvision backend at load time. The video processor was never built (it needs torchvision), so its config is
    written here: the stock processor cannot load without one. ``tokenizer_class`` becomes the name that every
    transformers version knows (5.x saves ``TokenizersBackend``, which 4.x lacks; in 5.x the two are one class).
    """
    out_dir = Path(out_dir)
    processor.save_pretrained(out_dir)
    path = out_dir / "processor_config.json"
    cfg = json.loads(path.read_text())
    image = cfg["image_processor"]
    cfg.setdefault("video_processor", {
        "video_processor_type": video_processor_type, "do_sample_frames": False, "min_frames": 4, "max_frames": 768,
        **{k: image[k] for k in ("do_convert_rgb", "do_normalize", "do_rescale", "do_resize", "image_mean",
                                 "image_std", "merge_size", "patch_size", "temporal_patch_size", "resample",
                                 "rescale_factor", "size")}})
    path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    path = out_dir / "tokenizer_config.json"
    cfg = json.loads(path.read_text())
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")


def _generation_config(tokenizer):
    from transformers import GenerationConfig

    eos = [tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.convert_tokens_to_ids("<|endoftext|>")]
    return GenerationConfig(eos_token_id=eos, pad_token_id=eos[1], bos_token_id=eos[1], do_sample=False)


def build_tiny_qwen25vl(out_dir: str | Path, hidden: int = 128, layers: int = 4, heads: int = 4, kv_heads: int = 2,
                        intermediate: int | None = None, vision_hidden: int = 64, vision_layers: int = 2,
                        vision_heads: int = 4, extra_tokens=(), seed: int = 0, dtype: str = "float32") -> dict:
    """Write a randomly initialised Qwen2.5-VL, its tokenizer and processor to ``out_dir``.

    Returns ``{"params": int, "checkpoint_mb": float, "path": str}``. The defaults give about 1.3M parameters.
    """
    import torch
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(extra_tokens)
    ids = tokenizer.convert_tokens_to_ids
    head_dim = hidden // heads
    # M-RoPE splits head_dim/2 rotary frequencies over (time, height, width); Qwen's 7B uses [16, 24, 24] of 64.
    t = head_dim // 8
    mrope = [t, (head_dim // 2 - t) // 2, head_dim // 2 - t - (head_dim // 2 - t) // 2]
    text_config = dict(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=intermediate or 4 * hidden,
        num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv_heads,
        max_position_embeddings=4096, rms_norm_eps=1e-6, tie_word_embeddings=True,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": mrope},
        bos_token_id=ids("<|endoftext|>"), eos_token_id=ids("<|im_end|>"), pad_token_id=ids("<|endoftext|>"),
    )
    vision_config = dict(
        depth=vision_layers, hidden_size=vision_hidden, intermediate_size=2 * vision_hidden, num_heads=vision_heads,
        patch_size=14, spatial_merge_size=2, temporal_patch_size=2, out_hidden_size=hidden,
        window_size=112, fullatt_block_indexes=[vision_layers - 1],
    )
    config = Qwen2_5_VLConfig(
        text_config=text_config, vision_config=vision_config, tie_word_embeddings=True,
        image_token_id=ids("<|image_pad|>"), video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"), vision_end_token_id=ids("<|vision_end|>"),
    )
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration(config).to(getattr(torch, dtype))
    model.generation_config = _generation_config(tokenizer)
    model.save_pretrained(out_dir)
    save_processor(build_processor(tokenizer), out_dir)
    return {"params": sum(p.numel() for p in model.parameters()),
            "checkpoint_mb": sum(f.stat().st_size for f in out_dir.glob("*.safetensors")) / 2**20,
            "path": str(out_dir)}
