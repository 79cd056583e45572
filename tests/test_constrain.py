"""Constrained references (models/constrain.py): a reply can only name listed elements and positions."""

from __future__ import annotations

import pytest

from models.constrain import ReferenceConstraint, listed_references
from models.tiny import build_tokenizer
from train.sft import ACTION_TOKENS

PROMPT = ("<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Task: Enter \"Ada\" and press Submit.\n"
          "Previous actions:\nnone\nElements:\n[0] textbox at (68,81)\n[1] button 'Submit' (focused)\n"
          "[2] image silver at (12,85)\n[3] link 'Sub menu'\n... 2 more<|im_end|>\n<|im_start|>assistant\n")


@pytest.fixture(scope="module")
def table():
    return ReferenceConstraint(build_tokenizer(ACTION_TOKENS))


def test_listed_references_reads_the_last_element_list():
    assert listed_references(PROMPT) == (["Submit", "Sub menu"], ["68,81", "12,85"])
    assert listed_references("no list here") == ([], [])


def allowed_text(table, session, row=0):
    ids = session.allowed(row)
    return None if ids is None else {table.bytes[i] for i in ids}


def test_element_text_can_only_continue_a_listed_one(table):
    s = table.session(PROMPT, rows=1)
    s.text[0] = b"Thought: the button.\nAction: click(element='"
    assert allowed_text(table, s) == {b"S"}
    s.text[0] += b"Sub"
    assert allowed_text(table, s) == {b"m", b" "}
    s.text[0] += b"mit"
    closing = allowed_text(table, s)
    assert b"'" in closing and b"')" in closing and b"x" not in closing
    s.text[0] += b"')"
    assert s.allowed(0) is None  # the reference is closed: the rest is free


def test_positions_can_only_be_listed_ones(table):
    s = table.session(PROMPT, rows=2)
    s.text[1] = b"Action: type(start_box='("
    assert allowed_text(table, s, 1) == {b"6", b"1"}
    s.text[1] += b"68,8"
    assert allowed_text(table, s, 1) == {b"1"}
    s.text[1] += b"1"
    assert b")')" in allowed_text(table, s, 1)
    assert s.allowed(0) is None  # row 0 has opened nothing


QUOTES = ("<|im_start|>user\nTask: Click on the red colored box.\nPrevious actions:\nnone\nElements:\n"
          "[0] div red at (49,103)\n[1] div blue at (111,103)\n[2] area red at (49,167)\n[3] a red at (111,167)\n"
          "<|im_end|>\n<|im_start|>assistant\n")


def test_a_quoted_line_gives_the_position_the_list_gives_it(table):
    s = table.session(QUOTES, rows=1, quotes=True)
    s.text[0] = b"Thought: The red box; div red at ("
    assert allowed_text(table, s) == {b"4"}  # (49,103), not blue's (111,103) nor the other red ones'
    s.text[0] += b"49,103"
    assert allowed_text(table, s) == {b")"}
    s.text[0] += b")"
    assert s.allowed(0) is None  # the quote is closed: the thought goes on freely
    s.text[0] = b"Thought: The red area; area red at ("
    assert allowed_text(table, s) == {b"4"}  # the longest description that ends here, not its suffix "a red"
    s.text[0] = b"Thought: The red link; a red at ("
    assert allowed_text(table, s) == {b"1"}
    s.text[0] = b"Thought: The red box; div red at (49,103); click it.\nAction: click(start_box='("
    assert allowed_text(table, s) == {b"4", b"1"}  # the action's own reference: any listed position
    plain = table.session(QUOTES, rows=1)
    plain.text[0] = b"Thought: The red box; div red at ("
    assert plain.allowed(0) is None  # without quotes, a thought is free


def test_typed_content_is_copied_from_the_prompt_in_its_case_or_all_upper_or_lower(table):
    s = table.session(PROMPT, rows=1, copy_content=True)
    s.text[0] = b"Action: type(start_box='(68,81)', content='"
    first = allowed_text(table, s)
    assert {b"a", b"A", b"S", b"e"} <= first  # word starts: Ada, and, Submit, Enter
    assert b"d" not in first and b"'" not in first  # mid-word, or nothing typed
    assert b"V" not in first and b"v" not in first  # the image markup (<|vision_start|>) lends no words
    s.text[0] += b"A"
    nxt = allowed_text(table, s)
    assert {b"d", b"D", b"N"} <= nxt and b"n" not in nxt and b"'" not in nxt and b"x" not in nxt  # "A" alone is no whole word
    s.text[0] += b"D"
    assert allowed_text(table, s) == {b"A"}  # ADA, all upper case; not a mixed "ADa"
    s.text[0] += b"A"
    closing = allowed_text(table, s)
    assert {b"'", b"')"} <= closing and b"', content='" not in closing  # "ADA" is a whole word: it may end here
    s.text[0] += b"'"
    assert allowed_text(table, s) == {b")"}  # content is the last argument: the call closes
    s.text[0] += b")"
    assert s.allowed(0) is None
    s.text[0] = b"Action: type(start_box='(68,81)', content='V"
    assert s.allowed(0) is None  # the image markup (<|vision_start|>) lends no words: "VISION" matches nothing
    s.text[0] = b"Action: select(element='Submit', option='"
    assert {b"a", b"A"} <= allowed_text(table, s) and b"Z" not in allowed_text(table, s)  # options are copies too
    s.text[0] += b"Ada"
    assert b"')" in allowed_text(table, s)
    plain = table.session(PROMPT, rows=1)
    plain.text[0] = b"Action: type(start_box='(68,81)', content='Zz"
    assert plain.allowed(0) is None  # without copy_content, typed text is free


def test_constrained_sampling_logprobs_match_the_masked_training_logprobs():
    """GRPO's ratio needs the sampler's logprobs and the trainer's to describe the same (masked) distribution."""
    import torch

    from models import EMBEDDED_DIR
    from models.hf import TransformersModel

    if not (EMBEDDED_DIR / "config.json").exists():
        pytest.skip("no embedded checkpoint")
    model = TransformersModel(EMBEDDED_DIR, coord_space="pixels", constrain_references=True)
    messages = [{"role": "user", "content": [{"type": "text", "text": (
        "Task: Click on the \"ok\" button.\nPrevious actions:\nnone\nElements:\n[0] button 'ok'\n"
        "[1] button 'no'\n[2] textbox at (60,90)")}]}]
    torch.manual_seed(0)
    gens = model.generate(messages, n=4, temperature=1.0, max_tokens=256)  # whole replies: the action is constrained
    forced = 0
    for g in gens:
        allowed = model.allowed_masks(messages, g.token_ids)
        assert allowed is not None and allowed.shape[1] == len(g.token_ids)
        with torch.no_grad():
            logps, _ = model.token_logprobs(model.encode(messages, [g.token_ids]), allowed)
        assert torch.allclose(logps[0, :len(g.token_ids)], torch.tensor(g.logprobs), atol=1e-4)
        forced += int((allowed[0].sum(-1) == 1).sum())
        if "element='" in g.text:
            name = g.text.split("element='", 1)[1].split("'", 1)[0]
            assert name in ("ok", "no")
    assert forced > 0  # some positions had one allowed id: their logprob is 0 and they carry no gradient


def test_hf_generate_path_reports_the_same_masked_logprobs_as_the_fast_path():
    from models import EMBEDDED_DIR
    from models.hf import TransformersModel

    if not (EMBEDDED_DIR / "config.json").exists():
        pytest.skip("no embedded checkpoint")
    model = TransformersModel(EMBEDDED_DIR, coord_space="pixels", constrain_references=True)
    messages = [{"role": "user", "content": [{"type": "text", "text": (
        "Task: Click on the \"no\" button.\nPrevious actions:\nnone\nElements:\n[0] button 'ok'\n[1] button 'no'")}]}]
    [fast] = model.generate(messages, max_tokens=50)
    model.fast = None
    [slow] = model.generate(messages, max_tokens=50)
    assert slow.token_ids == fast.token_ids
    assert max(abs(a - b) for a, b in zip(slow.logprobs, fast.logprobs)) < 1e-3
