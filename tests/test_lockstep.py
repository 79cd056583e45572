"""train/lockstep.py: concurrent calls with one prompt become one n-row decode; every caller gets its own rows."""

from __future__ import annotations

import threading
import time

import pytest

from core.model import Generation
from train.lockstep import LockstepBatcher, prompt_key


class CountingModel:
    """Numbers its replies, so that each caller's rows can be told apart, and records every call it gets."""

    coord_space = "pixels"

    def __init__(self, fail_on: str | None = None):
        self.calls: list[tuple[str, int]] = []
        self.fail_on = fail_on
        self._next = 0

    def generate(self, messages, n=1, temperature=0.0, max_tokens=256):
        text = messages[0]["content"]
        self.calls.append((text, n))
        if text == self.fail_on:
            raise RuntimeError("the model server went away")
        out = [Generation(f"{text}#{self._next + i}", [self._next + i], [0.0]) for i in range(n)]
        self._next += n
        return out


def run_episodes(batcher: LockstepBatcher, prompts: list[str], n: int = 1, delays=None) -> list:
    """One thread per prompt, each a registered episode making one call."""
    results: list = [None] * len(prompts)
    registered = threading.Barrier(len(prompts))

    def one(i):
        with batcher.episode():
            registered.wait()  # everyone is running before anyone asks: the batch must wait for all of them
            time.sleep((delays or [0] * len(prompts))[i])
            try:
                results[i] = batcher.generate([{"role": "user", "content": prompts[i]}], n=n, temperature=1.0)
            except RuntimeError as e:
                results[i] = e

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(prompts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_the_same_prompt_from_every_episode_is_one_decode_with_a_row_each():
    model = CountingModel()
    batcher = LockstepBatcher(model, max_wait=5.0)
    results = run_episodes(batcher, ["A"] * 6, delays=[0, 0.05, 0.1, 0.15, 0.2, 0.3])
    assert model.calls == [("A", 6)]
    rows = [r[0].token_ids[0] for r in results]
    assert sorted(rows) == list(range(6))  # six distinct rows, one per episode
    assert (batcher.calls, batcher.decodes) == (6, 1)


def test_different_prompts_are_decoded_apart_and_n_adds_up():
    model = CountingModel()
    batcher = LockstepBatcher(model, max_wait=5.0)
    results = run_episodes(batcher, ["A", "B", "A", "B", "A"], n=2)
    assert sorted(model.calls) == [("A", 6), ("B", 4)]
    assert all(len(r) == 2 and all(g.text.startswith(p) for g in r) for r, p in zip(results, "ABABA"))


def test_a_failed_decode_reaches_every_caller_of_that_prompt_only():
    model = CountingModel(fail_on="B")
    batcher = LockstepBatcher(model, max_wait=5.0)
    results = run_episodes(batcher, ["A", "B", "B"])
    assert isinstance(results[1], RuntimeError) and isinstance(results[2], RuntimeError)
    assert results[0][0].text.startswith("A#")


def test_an_episode_that_does_not_call_holds_the_others_only_for_max_wait():
    model = CountingModel()
    batcher = LockstepBatcher(model, max_wait=0.2)
    release = threading.Event()

    def idle():  # registered, but busy in a slow page
        with batcher.episode():
            release.wait(10)

    t = threading.Thread(target=idle)
    t.start()
    try:
        t0 = time.monotonic()
        with batcher.episode():
            [g] = batcher.generate([{"role": "user", "content": "A"}], temperature=1.0)
        waited = time.monotonic() - t0
    finally:
        release.set()
        t.join()
    assert g.text == "A#0"
    assert 0.15 < waited < 5.0


def test_prompt_key_tells_prompts_and_settings_apart():
    m = [{"role": "user", "content": [{"type": "text", "text": "x"}]}]
    assert prompt_key(m, 1.0, 64) == prompt_key([dict(m[0])], 1.0, 64)
    assert prompt_key(m, 1.0, 64) != prompt_key(m, 0.5, 64)
    assert prompt_key(m, 1.0, 64) != prompt_key([{"role": "user", "content": [{"type": "text", "text": "y"}]}],
                                                1.0, 64)


def test_the_real_model_through_the_batcher_samples_valid_replies():
    """The embedded model behind the batcher: shared rows are real samples, with the logprobs score() gives."""
    from models import EMBEDDED_DIR
    from models.hf import TransformersModel

    if not (EMBEDDED_DIR / "config.json").exists():
        pytest.skip("no embedded checkpoint")
    model = TransformersModel(EMBEDDED_DIR, coord_space="pixels", constrain_references=False)
    batcher = LockstepBatcher(model, max_wait=5.0)
    text = "Task: Click on the \"ok\" button.\nPrevious actions:\nnone\nElements:\n[0] button 'ok'\n[1] button 'no'"
    messages = [{"role": "user", "content": [{"type": "text", "text": text}]}]
    out: list = [None] * 4

    def one(i):
        with batcher.episode():
            out[i] = batcher.generate(messages, temperature=1.0, max_tokens=40)[0]

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert batcher.decodes < 4
    for g in out:
        scored = model.score(messages, [g.token_ids], close=False)[0]
        assert len(scored) == len(g.logprobs)
        assert max(abs(a - b) for a, b in zip(scored, g.logprobs)) < 1e-3
