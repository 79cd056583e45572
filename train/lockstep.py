"""Lockstep generation for GRPO rollouts: a group's episodes share their prompts' decodes.

The G episodes of a GRPO group start on the same (task, seed), so at their first turn they send the model the
same prompt, and they keep sending identical prompts for as long as they take the same actions (a confident
policy often does, for several turns). ``LockstepBatcher`` stands where the one shared model stood
(agent.loop._Serialized did the same job one call at a time): worker threads call ``generate`` as usual, and the
calls are held until every running episode is waiting for a reply, then decoded together. Calls whose prompt
and sampling settings agree become one call with ``n`` rows (models.hf's decoders prefill the prompt once and
sample the rows independently), so each episode still gets its own sample, drawn from the same distribution as
alone. Different prompts are decoded one after the other.

An episode registers for its lifetime (``with batcher.episode():``): a batch is decoded once the number of waiting
calls equals the number of running episodes, or after ``max_wait`` seconds without that (so an episode busy in a
slow page never holds the others for long).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from contextlib import contextmanager


class _Call:
    __slots__ = ("key", "messages", "n", "temperature", "max_tokens", "result", "error", "done")

    def __init__(self, key, messages, n, temperature, max_tokens):
        self.key, self.messages, self.n = key, messages, n
        self.temperature, self.max_tokens = temperature, max_tokens
        self.result, self.error, self.done = None, None, False


def prompt_key(messages: list[dict], temperature: float, max_tokens: int) -> str:
    """Calls with equal keys can share one decode: the same messages (images included) and sampling settings."""
    text = json.dumps(messages, sort_keys=True, default=str)
    return hashlib.sha1(f"{temperature}|{max_tokens}|{text}".encode()).hexdigest()


class LockstepBatcher:
    """A model shared by episode threads whose concurrent calls with the same prompt become one n-row decode."""

    def __init__(self, model, max_wait: float = 0.25):
        self.model = model  # replaced in place when vLLM restarts (train.checkpoints.sync_vllm)
        self.name, self.coord_space = getattr(model, "name", "model"), model.coord_space
        self.max_wait = max_wait
        self._cv = threading.Condition()
        self._running = 0
        self._pending: list[_Call] = []
        self._busy = False
        self.calls = self.decodes = 0  # requests answered, and model calls they took (their ratio: the sharing)

    @contextmanager
    def episode(self):
        """Register one running episode: a batch waits for every registered episode's call (up to max_wait)."""
        with self._cv:
            self._running += 1
        try:
            yield
        finally:
            with self._cv:
                self._running -= 1
                self._cv.notify_all()

    def generate(self, messages: list[dict], n: int = 1, temperature: float = 0.0, max_tokens: int = 256):
        call = _Call(prompt_key(messages, temperature, max_tokens), messages, n, temperature, max_tokens)
        arrived = time.monotonic()
        with self._cv:
            self._pending.append(call)
            self._cv.notify_all()
            while not call.done:
                ready = len(self._pending) >= self._running or time.monotonic() - arrived > self.max_wait
                if self._pending and ready and not self._busy:
                    batch, self._pending, self._busy = self._pending, [], True
                    self._cv.release()
                    try:
                        self._decode(batch)
                    finally:
                        self._cv.acquire()
                        self._busy = False
                        self._cv.notify_all()
                else:
                    self._cv.wait(timeout=0.02)
        if call.error is not None:
            raise call.error
        return call.result

    def _decode(self, batch: list[_Call]) -> None:
        """One model call per distinct key; each call gets its own rows of the result."""
        groups: dict[str, list[_Call]] = {}
        for call in batch:
            groups.setdefault(call.key, []).append(call)
        for calls in groups.values():
            first = calls[0]
            try:
                gens = self.model.generate(first.messages, n=sum(c.n for c in calls),
                                           temperature=first.temperature, max_tokens=first.max_tokens)
                for c in calls:
                    c.result, gens = gens[:c.n], gens[c.n:]
            except Exception as e:  # every call of the group sees the failure, as it would have alone
                for c in calls:
                    c.error = e
            with self._cv:
                for c in calls:
                    c.done = True
                self.calls += len(calls)
                self.decodes += 1
