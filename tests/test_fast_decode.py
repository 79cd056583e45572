"""The fast decoding path (models/fast_decode.py) against HF: same greedy tokens, same logprobs, same samples.

The reference is HF generate through the same ``TransformersModel`` with its fast path switched off
(``model.fast = None``), so prompts, suppression, stop ids and the cut at the stop are shared.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager

os.environ["HF_HUB_OFFLINE"] = "1"

import pytest
import torch
from PIL import Image, ImageDraw

from core.messages import image_part, text_part
from models.fast_decode import FastDecoder, supports
from models.hf import TransformersModel
from models.tiny import build_tiny_qwen25vl

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny_fast")
    build_tiny_qwen25vl(path)
    return path


@pytest.fixture(scope="session")
def model(tiny_dir):
    return TransformersModel(tiny_dir, threads=1)


@contextmanager
def hf_generate(model):
    """Run ``model.generate`` through HF generate inside the block."""
    fast, model.fast = model.fast, None
    try:
        yield
    finally:
        model.fast = fast


def screen(seed: int) -> Image.Image:
    img = Image.new("RGB", (160, 210), "white")
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, 160, 50), fill=(255, 255, 170 - 20 * seed))
    d.text((5, 5), f"Click button {seed}.", fill="black")
    d.rectangle((20 + 10 * seed, 100, 90 + 10 * seed, 130), fill=(220, 220, 220), outline="black")
    return img


ELEMENTS = "\n".join(f"[{i}] button 'Option {i}' at ({20 + i},{40 + 7 * i})" for i in range(30))
PROMPTS = {
    "short": [{"role": "user", "content": [image_part(screen(0)), text_part("Task: click OK")]}],
    "long": [{"role": "user", "content": [image_part(screen(1)), text_part(
        f"Task: pick option 7\nPrevious actions:\n1. click(element='3')\nElements:\n{ELEMENTS}")]}],
    "system": [{"role": "system", "content": "You operate a browser."},
               {"role": "user", "content": [image_part(screen(2)), text_part("Task: type 'ada' in the box")]}],
    "text_only": [{"role": "user", "content": "Task: scroll down\nPrevious actions:\nnone"}],
    "two_images": [{"role": "user", "content": [image_part(screen(3)), text_part("Step 0.")]},
                   {"role": "assistant", "content": "Action: click(start_box='(40,110)')"},
                   {"role": "user", "content": [image_part(screen(4).resize((320, 200))), text_part("Step 1.")]}],
}


def test_the_tiny_model_takes_the_fast_path(model):
    assert supports(model.model) and isinstance(model.fast, FastDecoder)
    image_tokens = (model._prompt_inputs(PROMPTS["long"])["input_ids"] == model.model.config.image_token_id)
    assert image_tokens.sum() == 48 and model._prompt_inputs(PROMPTS["long"])["input_ids"].shape[1] > 500


def test_decode_steps_match_the_hf_forward(model):
    """Prefill + step-by-step decode give the logits of one HF forward over prompt + tokens (no cache)."""
    torch.manual_seed(0)
    messages = PROMPTS["long"]
    tokens = torch.randint(0, 256, (24,)).tolist()
    fast = model.fast.forced_logits(model._prompt_inputs(messages), tokens)             # [25, V]
    batch = model.encode(messages, [tokens], close=False)
    inputs = {k: v for k, v in batch.items() if k not in ("completion_mask", "prompt_len")}
    with torch.no_grad():
        ref = model.model(**inputs).logits[0, batch["prompt_len"] - 1:]                  # [25, V]
    assert fast.shape == ref.shape
    assert (fast - ref).abs().max().item() < 1e-5


@pytest.mark.parametrize("name", sorted(PROMPTS))
def test_greedy_is_hf_generate(model, name):
    messages = PROMPTS[name]
    fast = model.generate(messages, max_tokens=40)
    with hf_generate(model):
        ref = model.generate(messages, max_tokens=40)
    assert fast[0].token_ids == ref[0].token_ids and fast[0].text == ref[0].text
    assert fast[0].finish_reason == ref[0].finish_reason == "length" and len(fast[0].token_ids) == 40
    assert fast[0].logprobs == pytest.approx(ref[0].logprobs, abs=1e-4)


def test_greedy_n_copies_one_decode(model):
    gens = model.generate(PROMPTS["short"], n=3, max_tokens=8)
    assert len(gens) == 3 and gens[0] == gens[1] == gens[2] and len(gens[0].token_ids) == 8


def test_no_tokens_asked_is_an_error_as_in_hf(model):
    with pytest.raises(ValueError, match="max_tokens"):
        model.generate(PROMPTS["short"], max_tokens=0)
    with hf_generate(model), pytest.raises(ValueError, match="max_new_tokens"):
        model.generate(PROMPTS["short"], max_tokens=0)


def test_stops_at_im_end_like_hf_and_follows_weight_updates(tiny_dir):
    """Make the model write <|im_end|> mid-reply by editing the weights in place: the fast path must see the
    edit (its fused copies are rebuilt) and stop where HF generate stops."""
    model = TransformersModel(tiny_dir, threads=1)
    messages = PROMPTS["short"]
    [before] = model.generate(messages, max_tokens=30)
    assert before.finish_reason == "length"
    im_end = model.tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert im_end in model.stop_ids
    # <|im_end|>'s output row becomes twice the row of the 6th greedy token, so its logit doubles that one's
    # (tied embeddings: its input embedding changes too, for both paths alike).
    target = before.token_ids[5]
    head = model.model.get_output_embeddings().weight
    with torch.no_grad():
        head[im_end] = 2 * head[target]
    [fast] = model.generate(messages, max_tokens=30)
    with hf_generate(model):
        [ref] = model.generate(messages, max_tokens=30)
    assert fast.finish_reason == ref.finish_reason == "stop"
    assert fast.token_ids == ref.token_ids and fast.token_ids[-1] == im_end and len(fast.token_ids) <= 6
    assert fast.text == ref.text and "<|im_end|>" not in fast.text
    assert fast.logprobs == pytest.approx(ref.logprobs, abs=1e-4)


def test_a_training_step_reaches_the_fast_path(tiny_dir):
    """The fused weights are copies: after an optimizer step they must be rebuilt, not reused."""
    model = TransformersModel(tiny_dir, threads=1)
    messages = PROMPTS["short"]
    [before] = model.generate(messages, max_tokens=12)
    logps, mask = model.token_logprobs(model.encode(messages, ["click(element='3')"]))
    (-(logps * mask).sum()).backward()
    torch.optim.SGD(model.model.parameters(), lr=0.5).step()
    [fast] = model.generate(messages, max_tokens=12)
    with hf_generate(model):
        [ref] = model.generate(messages, max_tokens=12)
    assert fast.token_ids == ref.token_ids and fast.logprobs == pytest.approx(ref.logprobs, abs=1e-4)
    assert fast.logprobs != pytest.approx(before.logprobs, abs=1e-4)


def test_sampling_is_hf_sampling_with_the_same_seed(model):
    messages = PROMPTS["short"]
    torch.manual_seed(1)
    fast = model.generate(messages, n=4, temperature=1.0, max_tokens=16)
    with hf_generate(model):
        torch.manual_seed(1)
        ref = model.generate(messages, n=4, temperature=1.0, max_tokens=16)
    assert len(fast) == 4 and len({tuple(g.token_ids) for g in fast}) > 1
    assert [g.token_ids for g in fast] == [g.token_ids for g in ref]
    vocab = len(model.tokenizer)
    for f, r in zip(fast, ref):
        assert all(0 <= t < vocab for t in f.token_ids) and not set(f.token_ids) & set(model.suppressed)
        assert all(math.isfinite(x) and x <= 0 for x in f.logprobs)
        assert f.logprobs == pytest.approx(r.logprobs, abs=1e-4)
    scores = model.score(messages, [g.token_ids for g in fast])
    for g, s in zip(fast, scores):
        assert s == pytest.approx(g.logprobs, abs=1e-4)


def test_rows_that_stop_early_are_padded_like_hf(model):
    """n rows, one stopping early: the decoder pads it and HF's cut gives the same generations."""
    messages = PROMPTS["system"]
    torch.manual_seed(4)
    rows = [g.token_ids for g in model.generate(messages, n=3, temperature=1.0, max_tokens=16)]
    # a token that row 0 writes early and row 1 never: row 0 stops there, row 1 runs to max_tokens
    early = next(t for t in rows[0][2:] if t not in rows[1])
    stops = model.stop_ids
    model.stop_ids = stops + [early]
    try:
        torch.manual_seed(4)
        fast = model.generate(messages, n=3, temperature=1.0, max_tokens=16)
        with hf_generate(model):
            torch.manual_seed(4)
            ref = model.generate(messages, n=3, temperature=1.0, max_tokens=16)
    finally:
        model.stop_ids = stops
    assert fast[0].finish_reason == "stop" and fast[0].token_ids[-1] == early and fast[1].finish_reason == "length"
    assert [(g.token_ids, g.finish_reason) for g in fast] == [(g.token_ids, g.finish_reason) for g in ref]
    for f, r in zip(fast, ref):
        assert f.logprobs == pytest.approx(r.logprobs, abs=1e-4)


def test_replaced_layers_are_refused_not_read_around(tiny_dir):
    """An adapter wrapping a projection (what peft does) would be skipped by reading the weights: refuse."""
    class Adapted(torch.nn.Linear):
        pass

    model = TransformersModel(tiny_dir, threads=1)
    mlp = model.model.model.language_model.layers[0].mlp
    adapted = Adapted(mlp.down_proj.in_features, mlp.down_proj.out_features, bias=False)
    adapted.load_state_dict(mlp.down_proj.state_dict())
    mlp.down_proj = adapted
    with pytest.raises(RuntimeError, match="HF generate"):
        model.generate(PROMPTS["short"], max_tokens=4)


def test_other_models_fall_back_to_hf_generate(tiny_dir):
    model = TransformersModel(tiny_dir, dtype="bfloat16", threads=1)
    assert model.fast is None and not supports(model.model)
    [g] = model.generate(PROMPTS["short"], max_tokens=4)
    assert len(g.token_ids) == 4
