"""The served-model path: cards over HTTP, the reference constraint as a structured-output regex, special tokens,
concurrency and streaming of `screenwise serve`, and one-line errors for bad specs and cards."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import openai
import pytest

from agent.loop import Agent, config_for
from core.actions import ALL_ACTIONS, example, parse_response
from core.model import Generation
from envs.tasks import miniwob_task
from models import EMBEDDED_DIR, Card, CardError, SpecError, resolve
from models.constrain import ReferenceConstraint
from models.hf import TransformersModel
from models.reply_pattern import PatternConstraint, pattern_for, reply_pattern
from models.scripted import ScriptedModel
from models.serve import ModelServer, serving
from models.teacher import TeacherModel

PROMPT = ("Task: Enter \"Ada Lovelace\" and press Submit.\nPrevious actions:\nnone\nElements:\n[0] textbox at (68,81)\n"
          "[1] button 'Submit'\n[2] div red at (49,103)\n[3] a red at (111,167)\n[4] link 'Sub menu'")
STUDENT_TASKS = ["click-button", "enter-text", "login-user", "click-checkboxes", "click-color", "enter-text-2",
                 "click-tab-2", "email-inbox-important"]


@pytest.fixture(scope="module")
def embedded():
    return TransformersModel(EMBEDDED_DIR, coord_space="pixels")


def test_pattern_holds_references_copies_and_quotes():
    p = reply_pattern(PROMPT, copy_content=True, quotes=True)
    ok = ["Thought: The Submit button; click it.\nAction: click(element='Submit')",
          "Thought: The box; textbox at (68,81).\nAction: type(start_box='(68,81)', content='Ada Lovelace')",
          "Thought: red; div red at (49,103); click it.\nAction: click(start_box='(49,103)')",
          "Thought: type it in upper case.\nAction: type(element='Submit', content='ADA')\n\nclick(element=1)",
          "Thought: done (really).\nAction: finished()",
          "Thought: drag it.\nAction: drag(start_element='Submit', end_box='(10,20)')"]
    bad = ["Thought: x\nAction: click(element='Cancel')",              # not listed
           "Thought: x\nAction: click(start_box='(50,50)')",            # not a listed position
           "Thought: x\nAction: type(start_box='(68,81)', content='Bob')",  # not in the instruction
           "Thought: x\nAction: type(start_box='(68,81)', content='Ada Love')",  # not a whole word
           "Thought: red; div red at (111,167).\nAction: click(element='Submit')",  # the position of another line
           "Thought: x\nAction: click(element='Submit'",                # does not parse
           "click(element='Submit')",                                    # no thought
           "Thought: x\nAction: drag(element='Submit', end_box='(10,20)')"]  # a drag's start is start_element
    assert all(re.fullmatch(p, r) for r in ok)
    assert all(parse_response(r).actions for r in ok)
    assert not any(re.fullmatch(p, r) for r in bad)
    assert re.fullmatch(reply_pattern(PROMPT), "Thought: x\nAction: type(element='Submit', content='Bob')")


def test_every_action_example_matches_a_pattern_without_an_element_list():
    p = reply_pattern("Task: anything")
    for cls in ALL_ACTIONS:
        assert re.fullmatch(p, f"Thought: t\nAction: {example(cls)}"), example(cls)


@pytest.mark.parametrize("labels", [False, True])
def test_teacher_replies_match_the_pattern_and_every_constraint_walks_them(make_env, labels):
    """What the student learns from (the teachers' replies in its form) is inside the served pattern, and the
    in-process masks and the outlines-core token walk of the pattern both allow it, token by token; with the
    fields' labels too (a thought then quotes a labelled field's line)."""
    tok = TransformersModel(EMBEDDED_DIR).tokenizer
    stop = tok.convert_tokens_to_ids("<|im_end|>")
    masks, walker = ReferenceConstraint(tok), PatternConstraint(tok, stop)
    card = Card.of_directory(EMBEDDED_DIR).replace(field_labels=labels)
    env = make_env()
    teacher = TeacherModel(env, student=True, labels=labels)
    replies = 0

    def check(messages):
        nonlocal replies
        [g] = teacher.generate(messages)
        text = "".join(p.get("text", "") for p in messages[-1]["content"])
        pattern = pattern_for(messages, card)
        assert re.fullmatch(pattern, g.text), (g.text, text)
        ids = tok(g.text, add_special_tokens=False)["input_ids"] + [stop]
        for s in (masks.session("<|im_start|>user\n" + text, 1, True, True), walker.session(pattern, 1)):
            for i in ids:
                allowed = s.allowed(0)
                assert allowed is None or i in allowed, (g.text, tok.decode([i]))
                s.push(0, i)
        replies += 1
        return [g]

    for name in STUDENT_TASKS:
        agent = Agent(ScriptedModel(lambda m: check(m)[0].text), env, config_for(card))
        assert agent.run(seed=7, task=miniwob_task(name)).success
    assert replies >= len(STUDENT_TASKS)


def test_a_pattern_request_holds_the_embedded_model_to_it(embedded):
    messages = [{"role": "user", "content": [{"type": "text", "text": PROMPT}]}]
    pattern = reply_pattern(PROMPT, True, True)
    for temperature in (0.0, 1.0):
        for g in embedded.generate(messages, n=3, temperature=temperature, max_tokens=256, pattern=pattern):
            assert re.fullmatch(pattern, g.text), g.text
            parse_response(g.text)
    [g] = embedded.generate(messages, n=1, temperature=1.0, max_tokens=256, pattern=pattern)
    allowed = embedded.allowed_masks(messages, g.token_ids, pattern)  # GRPO --vllm's trainer: the sampler's masks
    assert allowed.shape[1] == len(g.token_ids) and all(allowed[0, t, i] for t, i in enumerate(g.token_ids))


def test_a_card_with_constrain_reply_holds_every_decode_to_the_pattern():
    """``constrain_reply`` (a card field, ``--constrain-reply``): with no pattern in the request, the in-process
    decode still keeps to the whole-reply pattern, so sampled replies parse."""
    model, card = resolve("embedded", constrain_reply=True)
    assert card.constrain_reply and model.card.constrain_reply
    messages = [{"role": "user", "content": [{"type": "text", "text": PROMPT}]}]
    pattern = pattern_for(messages, card)
    gens = model.generate(messages, n=4, temperature=1.5, max_tokens=256)
    ended = [g for g in gens if g.finish_reason == "stop"]  # a reply cut at max_tokens is the only way out
    assert ended
    for g in ended:
        assert re.fullmatch(pattern, g.text), g.text
        parse_response(g.text)
    with pytest.raises(CardError, match="constrain_reply"):
        Card(prompt="compact", element_refs=True, constrain_reply=True).check()


class SkipsSpecialTokens:
    """A server's decoding as vLLM does it by default: the reply's text is decoded with skip_special_tokens=True."""

    def __init__(self, model):
        self.model, self.name, self.card = model, model.name, model.card
        self.coord_space, self.follows_constraints = model.coord_space, True

    def generate(self, messages, n=1, temperature=0.0, max_tokens=256, **kw):
        gens = self.model.generate(messages, n=n, temperature=temperature, max_tokens=max_tokens, **kw)
        text = [self.model.tokenizer.decode(g.token_ids, skip_special_tokens=True) for g in gens]
        return [Generation(t, g.token_ids, g.logprobs, g.finish_reason) for t, g in zip(text, gens)]


def test_replies_parse_behind_a_server_that_drops_special_tokens(make_env, embedded):
    """Only the URL is given: the card comes from /v1/models, the constraint goes as structured_outputs, and the
    action syntax survives a decode that drops special tokens."""
    env = make_env()
    with ModelServer(SkipsSpecialTokens(serving(embedded)), quiet=True) as server:
        client, card = resolve(server.url)
        assert card == Card.of_directory(EMBEDDED_DIR) and client.coord_space == "pixels"
        results = [Agent(client, env, config_for(card)).run(seed=s, task=miniwob_task(t))
                   for t in ("click-button", "enter-text", "click-link") for s in (21000, 21001)]
    assert all(r.status != "format_errors" for r in results)
    assert sum(r.success for r in results) >= 4  # the shipped model solves these tasks in-process
    assert embedded.constraint is None  # served as vLLM serves: the request's pattern, nothing of its own


def test_served_and_in_process_decisions_agree(make_env, embedded):
    env = make_env()
    local = TransformersModel(EMBEDDED_DIR, coord_space="pixels")
    with ModelServer(serving(TransformersModel(EMBEDDED_DIR, coord_space="pixels")), quiet=True) as server:
        client, card = resolve(server.url)
        for name in ("click-button", "login-user", "click-checkboxes"):
            a = Agent(local, env, config_for(card)).run(seed=21002, task=miniwob_task(name))
            b = Agent(client, env, config_for(card)).run(seed=21002, task=miniwob_task(name))
            assert (a.success, a.steps) == (b.success, b.steps), name


class Slow:
    name, coord_space = "slow", "pixels"

    def generate(self, messages, n=1, temperature=0.0, max_tokens=256):
        time.sleep(0.6)
        return [Generation("Thought: t\nAction: wait()")] * n


def test_replicas_answer_at_once_and_health_never_waits():
    with ModelServer([Slow(), Slow()], quiet=True) as server:
        client = openai.OpenAI(base_url=server.url, api_key="x")
        threads = [threading.Thread(target=client.chat.completions.create,
                                    kwargs=dict(model="slow", messages=[{"role": "user", "content": "hi"}]))
                   for _ in range(2)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        time.sleep(0.2)
        health = json.loads(urllib.request.urlopen(server.url.removesuffix("/v1") + "/health").read())
        assert health["busy"] == 2 and time.monotonic() - t0 < 0.5  # answered while both replicas work
        for t in threads:
            t.join()
        assert time.monotonic() - t0 < 1.1  # two 0.6 s calls side by side, not one after the other


def test_stream_true_sends_the_reply_as_chunks():
    with ModelServer(ScriptedModel(["Thought: hi\nAction: wait()"]), quiet=True) as server:
        client = openai.OpenAI(base_url=server.url, api_key="x")
        chunks = list(client.chat.completions.create(model="scripted", stream=True,
                                                     messages=[{"role": "user", "content": "hi"}]))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Thought: hi\nAction: wait()"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_bad_specs_and_cards_raise_one_clear_error(tmp_path):
    with pytest.raises(SpecError, match="unknown model spec"):
        resolve("bogus-model")
    with pytest.raises(SpecError, match="no model directory"):
        resolve("hf:/nonexistent")
    (tmp_path / "card.json").write_text(json.dumps({"prompt": "compact", "model": "someone-else"}))
    with pytest.raises(CardError, match="is for model 'someone-else'"):
        resolve("embedded", card=tmp_path / "card.json")
    (tmp_path / "card.json").write_text(json.dumps({"prompt": "wide"}))
    with pytest.raises(CardError, match="prompt must be one of"):
        resolve("embedded", card=tmp_path / "card.json")
    (tmp_path / "card.json").write_text(json.dumps({"constrain_references": True, "prompt": "compact"}))
    (tmp_path / "replies.json").write_text(json.dumps(["Thought: t\nAction: wait()"]))
    with pytest.raises(CardError, match="cannot do"):
        resolve(f"scripted:{tmp_path / 'replies.json'}", card=tmp_path / "card.json")
    with pytest.raises(CardError, match="need the element list"):
        resolve("embedded", element_refs=False)


@pytest.mark.parametrize("args, code, words", [
    (["--policy", "vllm:models/embedded/checkpoint"], 1, "vLLM is not installed"),
    (["--policy", "bogus-model"], 2, "unknown model spec"),
    (["--policy", "embedded", "--prompt", "uitars"], 2, "need the element list"),
    (["--policy", "embedded", "--card", "{card}"], 2, "is for model 'ui-tars-1.5-7b'"),
])
def test_bench_with_bad_model_input_says_one_line(tmp_path, args, code, words):
    card = tmp_path / "card.json"
    card.write_text(json.dumps({"model": "ui-tars-1.5-7b"}))
    args = [a.replace("{card}", str(card)) for a in args]
    done = subprocess.run([sys.executable, "-m", "apps.cli", "bench", "miniwob", "--tasks", "click-test", "--seeds",
                           "1", "--quiet", "--out", str(tmp_path / "out"), *args], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == code, done.stderr
    assert words in done.stderr and "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_gpu_check_script_is_ready_and_clean():
    """benchmarks/gpu_check.sh runs only on a GPU host; here it must at least parse and pass shellcheck."""
    import shutil

    script = "benchmarks/gpu_check.sh"
    assert subprocess.run(["bash", "-n", script]).returncode == 0
    shellcheck = shutil.which("shellcheck") or str(Path(sys.executable).parent / "shellcheck")
    done = subprocess.run([shellcheck, script], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
