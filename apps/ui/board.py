"""The board: what every open tab of the assistant sees, as one ordered list of messages.

The agent runs on a worker thread; the web server runs on an asyncio loop. The worker publishes messages here
(a step's thought and action, a new screenshot, a question for the person) and blocks on questions; each tab's
event stream is a queue fed from the loop. A tab that connects late gets the messages it missed first, so two
tabs fold the same list into the same view. A question takes the first answer from any tab; a later answer is
told the question was already decided.

Every message is scrubbed of secret values (``redact``) before it is kept: nothing a tab is sent can hold one.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import OrderedDict
from typing import Callable


class Question:
    """Something the agent waits on the person for: a safety check, a call_user() question, a pause."""

    def __init__(self, qid: int, kind: str, text: str, options: list[str]):
        self.id, self.kind, self.text, self.options = qid, kind, text, options
        self.answer: str | None = None
        self.decided = threading.Event()


class Board:
    def __init__(self, redact: Callable[[str], str], keep: int = 5000, keep_images: int = 20):
        self.redact = redact
        self.keep, self.keep_images = keep, keep_images
        self.messages: list[dict] = []
        self.images: OrderedDict[int, bytes] = OrderedDict()  # PNG bytes by number, the last few
        self.question: Question | None = None
        self._ids = itertools.count(1)
        self._lock = threading.RLock()  # answer() publishes while it holds it
        self._listeners: dict[asyncio.Queue, asyncio.AbstractEventLoop] = {}

    # -- the worker's side ---------------------------------------------------------------------------------
    def publish(self, kind: str, /, **data) -> dict:
        with self._lock:
            message = {"id": next(self._ids), "type": kind, **scrub(data, self.redact)}
            self.messages.append(message)
            del self.messages[:-self.keep]
            for queue, loop in list(self._listeners.items()):
                loop.call_soon_threadsafe(queue.put_nowait, message)
        return message

    def show(self, png: bytes, size: tuple[int, int], marks: list[dict]) -> dict:
        """A new screenshot (already redacted by the env) with the marks of the action taken on it."""
        with self._lock:
            number = next(self._ids)
            self.images[number] = png
            while len(self.images) > self.keep_images:
                self.images.popitem(last=False)
        return self.publish("screen", src=f"/api/screen/{number}.png", width=size[0], height=size[1], marks=marks)

    def ask(self, kind: str, text: str, options: list[str]) -> str | None:
        """Publish a question and wait for its first answer (None when it was closed without one)."""
        with self._lock:
            question = self.question = Question(next(self._ids), kind, text, options)
        self.publish("question", qid=question.id, kind=kind, text=text, options=options)
        question.decided.wait()
        return question.answer

    # -- the tabs' side ------------------------------------------------------------------------------------
    def answer(self, qid: int, answer: str | None, by: str = "page") -> bool:
        """Decide the open question ``qid``; False when it is not open (decided already, or never asked)."""
        with self._lock:
            question = self.question
            if question is None or question.id != qid or question.decided.is_set():
                return False
            question.answer = answer
            self.question = None
            # published before the worker wakes, so "decided" comes before anything the worker says next
            self.publish("decided", qid=qid, kind=question.kind, answer=answer, by=by)
            question.decided.set()
        return True

    def close_question(self, answer: str | None, by: str) -> None:
        """Answer whatever is open (a stop, a shutdown): the worker must not wait on a tab that will not come."""
        question = self.question
        if question is not None:
            self.answer(question.id, answer, by)

    def subscribe(self, since: int, loop: asyncio.AbstractEventLoop) -> tuple[list[dict], asyncio.Queue]:
        """The messages after id ``since``, and a queue that gets every later one (no gap, no repeat)."""
        queue: asyncio.Queue = asyncio.Queue()
        with self._lock:
            backlog = [m for m in self.messages if m["id"] > since]
            self._listeners[queue] = loop
        return backlog, queue

    def end_streams(self) -> None:
        """Tell every stream to end (the server is stopping): each queue gets None."""
        with self._lock:
            for queue, loop in self._listeners.items():
                loop.call_soon_threadsafe(queue.put_nowait, None)

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        with self._lock:
            self._listeners.pop(queue, None)


def scrub(value, redact: Callable[[str], str]):
    """``value`` (JSON-like) with ``redact`` applied to every string in it, keys included."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {scrub(k, redact): scrub(v, redact) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v, redact) for v in value]
    return value
