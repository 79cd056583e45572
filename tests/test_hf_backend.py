"""The local-model path: the tiny Qwen2.5-VL built here, loaded offline, generating and scoring from screenshots.

Everything is built in tmp dirs from transformers config classes; nothing is downloaded.
"""

from __future__ import annotations

import json
import math
import os

os.environ["HF_HUB_OFFLINE"] = "1"

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from core.messages import image_part, text_part
from models.hf import TransformersModel, load_processor
from models.tiny import QWEN25_VL_TOKENS, build_processor, build_tiny_qwen25vl, build_tokenizer, save_processor

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny_qwen25vl")
    info = build_tiny_qwen25vl(path)
    return path, info


@pytest.fixture(scope="session")
def model(tiny):
    return TransformersModel(tiny[0], threads=1)


@pytest.fixture(scope="session")
def tokenizer():
    return build_tokenizer()


def screenshot() -> Image.Image:
    img = Image.new("RGB", (160, 210), "white")
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, 160, 50), fill=(255, 255, 170))
    d.text((5, 5), "Click the OK button.", fill="black")
    d.rectangle((50, 100, 110, 130), fill=(220, 220, 220), outline="black")
    d.text((72, 110), "OK", fill="black")
    return img


def messages() -> list[dict]:
    return [{"role": "system", "content": "You operate a browser."},
            {"role": "user", "content": [image_part(screenshot()), text_part("Click the OK button.")]}]


def test_build_writes_a_small_stock_named_checkpoint(tiny):
    path, info = tiny
    assert 1_000_000 < info["params"] < 2_000_000
    assert info["checkpoint_mb"] < 8
    config = json.loads((path / "config.json").read_text())
    assert config["architectures"] == ["Qwen2_5_VLForConditionalGeneration"]
    proc = json.loads((path / "processor_config.json").read_text())
    assert proc["processor_class"] == "Qwen2_5_VLProcessor"
    assert proc["image_processor"]["image_processor_type"] == "Qwen2VLImageProcessor"
    assert proc["video_processor"]["video_processor_type"] == "Qwen2VLVideoProcessor"
    assert json.loads((path / "tokenizer_config.json").read_text())["tokenizer_class"] == "PreTrainedTokenizerFast"


def test_auto_classes_load_the_directory(tiny):
    from transformers import AutoModelForImageTextToText, AutoProcessor
    from transformers.utils import is_torchvision_available

    path, info = tiny
    m = AutoModelForImageTextToText.from_pretrained(path)
    assert type(m).__name__ == "Qwen2_5_VLForConditionalGeneration"
    assert sum(p.numel() for p in m.parameters()) == info["params"]
    if is_torchvision_available():
        assert type(AutoProcessor.from_pretrained(path)).__name__ == "Qwen2_5_VLProcessor"
    else:  # the stock processor needs torchvision for its video part; load_processor builds it without
        with pytest.raises(ImportError, match="(?i)torchvision"):
            AutoProcessor.from_pretrained(path)
    p = load_processor(path)
    assert type(p).__name__ == "Qwen2_5_VLProcessor"
    assert type(p.image_processor).__name__.startswith("Qwen2VLImageProcessor")


def test_a_160x210_screenshot_is_48_image_tokens(model):
    inputs = model._prompt_inputs(messages())
    image_pad = model.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    assert (inputs["input_ids"] == image_pad).sum().item() == 48     # 168x224 after smart_resize: 6x8 cells
    assert inputs["image_grid_thw"].tolist() == [[1, 16, 12]]


def test_greedy_generation(model):
    image_pad = model.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    gens = model.generate(messages(), n=2, temperature=0.0, max_tokens=32)
    assert len(gens) == 2 and gens[0] == gens[1]
    g = gens[0]
    assert isinstance(g.text, str) and g.token_ids and len(g.token_ids) == len(g.logprobs) <= 32
    assert all(math.isfinite(x) and x <= 0 for x in g.logprobs)
    assert "<|image_pad|>" not in g.text and not set(g.token_ids) & set(model.suppressed)
    assert image_pad in model.suppressed
    assert g.finish_reason in ("stop", "length")


def test_text_only_messages(model):
    [g] = model.generate([{"role": "user", "content": "[screenshot dropped]"}], max_tokens=4)
    assert len(g.token_ids) == len(g.logprobs) <= 4


def test_sampling_n2_and_score_of_its_tokens(model):
    gens = model.generate(messages(), n=2, temperature=1.0, max_tokens=24)
    assert len(gens) == 2
    for g in gens:
        assert g.token_ids and len(g.token_ids) == len(g.logprobs)
        assert all(math.isfinite(x) for x in g.logprobs)
        assert not set(g.token_ids) & set(model.suppressed)
    scores = model.score(messages(), [g.token_ids for g in gens])
    for g, s in zip(gens, scores):
        assert s == pytest.approx(g.logprobs, abs=1e-4)


def test_score_agrees_with_greedy_generate(model):
    g = model.generate(messages(), max_tokens=32)[0]
    [s] = model.score(messages(), [g.text], close=g.finish_reason == "stop")
    assert len(s) == len(g.token_ids)
    assert s == pytest.approx(g.logprobs, abs=1e-4)


def test_score_gives_one_logprob_per_completion_token(model):
    completions = ["Thought: the OK button.\nAction: click(element='OK')", "wait()", ""]
    scores = model.score(messages(), completions)
    for c, s in zip(completions, scores):
        assert len(s) == len(c) + 1                       # one per character, then <|im_end|>
        assert all(math.isfinite(x) and x <= 0 for x in s)
    assert [len(s) for s in model.score(messages(), completions, close=False)] == [len(c) for c in completions]


def test_encode_batch_for_a_loss(model):
    completions = ["click(element='OK')", "wait()"]
    batch = model.encode(messages(), completions)
    B, T = batch["input_ids"].shape
    P = batch["prompt_len"]
    assert B == 2 and batch["attention_mask"].shape == (B, T) and batch["completion_mask"].shape == (B, T)
    assert batch["completion_mask"].sum(1).tolist() == [len(c) + 1 for c in completions]
    assert not batch["completion_mask"][:, :P].any()
    assert batch["pixel_values"].shape[0] == 2 * 192 and batch["image_grid_thw"].shape == (2, 3)
    logps, mask = model.token_logprobs(batch)
    assert logps.shape == mask.shape == (B, T - P)
    loss = -(logps * mask).sum() / mask.sum()
    loss.backward()
    grads = [p.grad for p in model.model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    model.model.zero_grad(set_to_none=True)


def test_tokenizer_is_one_token_per_ascii_character(tokenizer):
    text = "click(element='OK')"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert len(ids) == len(text)
    assert [tokenizer.decode([i]) for i in ids] == list(text)
    special = tokenizer("<|im_start|>user\n<|image_pad|>", add_special_tokens=False)["input_ids"]
    assert tokenizer.convert_ids_to_tokens(special) == ["<|im_start|>", "u", "s", "e", "r", "Ċ", "<|image_pad|>"]


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126)))
def test_printable_ascii_never_merges(tokenizer, text):
    # the chat specials (<|vision_end|> ...) are printable, and each is one token by design
    assume(not any(special in text for special in tokenizer.get_added_vocab()))
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert len(ids) == len(text)


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_any_text_round_trips(tokenizer, text):
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids, clean_up_tokenization_spaces=False) == text


def test_chat_template_renders_openai_image_parts(tokenizer):
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:,"}},
                                      {"type": "text", "text": "hi"}]}],
        tokenize=False, add_generation_prompt=True)
    assert text == ("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                    "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>hi<|im_end|>\n"
                    "<|im_start|>assistant\n")


def test_a_tiny_moe_vlm_runs_through_the_same_path(tmp_path, tokenizer):
    import transformers

    if not hasattr(transformers, "Qwen3VLMoeForConditionalGeneration"):
        pytest.skip(f"transformers {transformers.__version__} has no Qwen3VLMoeForConditionalGeneration")
    from transformers import Qwen3VLMoeConfig, Qwen3VLMoeForConditionalGeneration

    from models.tiny import _generation_config

    ids = tokenizer.convert_tokens_to_ids
    config = Qwen3VLMoeConfig(
        text_config=dict(
            vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, moe_intermediate_size=32, num_experts=4,
            num_experts_per_tok=2, max_position_embeddings=2048, tie_word_embeddings=True,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3],
                             "mrope_interleaved": True},
            bos_token_id=ids("<|endoftext|>"), eos_token_id=ids("<|im_end|>"), pad_token_id=ids("<|endoftext|>")),
        vision_config=dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, patch_size=16,
                           out_hidden_size=64, num_position_embeddings=256, deepstack_visual_indexes=[0]),
        image_token_id=ids("<|image_pad|>"), video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"), vision_end_token_id=ids("<|vision_end|>"),
        tie_word_embeddings=True)
    torch.manual_seed(0)
    moe = Qwen3VLMoeForConditionalGeneration(config)
    moe.generation_config = _generation_config(tokenizer)
    moe.save_pretrained(tmp_path)
    save_processor(build_processor(tokenizer, patch_size=16, processor_class="Qwen3VLProcessor"), tmp_path,
                   video_processor_type="Qwen3VLVideoProcessor")

    m = TransformersModel(tmp_path)
    assert type(m.model).__name__ == "Qwen3VLMoeForConditionalGeneration"
    [g] = m.generate(messages(), max_tokens=16)
    assert g.token_ids and all(math.isfinite(x) for x in g.logprobs)
    assert not set(g.token_ids) & set(m.suppressed)
    assert m.score(messages(), [g.token_ids])[0] == pytest.approx(g.logprobs, abs=1e-4)
    assert len(m.generate(messages(), n=2, temperature=1.0, max_tokens=8)) == 2


@pytest.mark.gpu
def test_vllm_serves_the_tiny_checkpoint(tiny):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    pytest.importorskip("vllm", reason="pip install 'screenwise[gpu]'")
    from models.vllm_backend import VLLMModel

    m = VLLMModel(str(tiny[0]), gpu_memory_utilization=0.2, max_model_len=2048, enforce_eager=True)
    greedy = m.generate(messages(), n=2, max_tokens=16)
    assert len(greedy) == 2 and greedy[0].token_ids == greedy[1].token_ids
    samples = m.generate(messages(), n=2, temperature=1.0, max_tokens=16)
    image_pad = m.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    for g in greedy + samples:
        assert g.token_ids and image_pad not in g.token_ids
        assert all(math.isfinite(x) for x in g.logprobs)
    [s] = m.score(messages(), ["click(element='OK')"])
    assert len(s) == len("click(element='OK')") and all(math.isfinite(x) for x in s)


REPLY = "Thought: The OK button; click it.\nAction: click(element='OK')"


@pytest.mark.parametrize("source", ["built", "shipped"])
def test_skipping_special_tokens_keeps_a_whole_reply(source):
    """vLLM's server decodes with skip_special_tokens=True: the action syntax must not be special."""
    from transformers import AutoTokenizer

    from models import EMBEDDED_DIR
    from train.sft import ACTION_TOKENS

    tok = build_tokenizer(ACTION_TOKENS) if source == "built" else AutoTokenizer.from_pretrained(EMBEDDED_DIR)
    ids = tok(REPLY + "<|im_end|>", add_special_tokens=False)["input_ids"]
    assert len(ids) < len(REPLY)  # the action-syntax tokens are still single tokens
    assert tok.decode(ids, skip_special_tokens=True) == REPLY
    assert tok.decode(ids, skip_special_tokens=False) == REPLY + "<|im_end|>"
    assert set(tok.all_special_tokens) <= {t for t, special in QWEN25_VL_TOKENS if special}
