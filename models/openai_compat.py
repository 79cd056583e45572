"""A model behind any OpenAI-compatible chat-completions server: ``vllm serve``, ``models/serve.py``, a hosted API.

The ``openai`` client does the HTTP; its own retries are off (``max_retries=0``) so that retrying is ours: a
bounded loop with exponential backoff that retries what a later attempt can fix (connection errors, timeouts,
HTTP 5xx, 429) and gives up at once on what it cannot (any other 4xx). When it gives up it raises
``ModelError`` naming the server, the number of attempts and the last error.

The model's card (models/card.py) says how to prompt it; ``screenwise serve`` lists it in ``/v1/models``
(``served_card``). When the card asks for constrained references, each request carries the constraint as the
structured-output regex that vLLM's server documents, ``{"structured_outputs": {"regex": …}}``
(models/reply_pattern.py), which ``screenwise serve`` honours too.
"""

from __future__ import annotations

import json
import time
from typing import Callable, TypeVar

import openai

from core.model import Generation, ModelError
from models.card import Card
from models.reply_pattern import pattern_for

T = TypeVar("T")

MAX_SLEEP = 10.0  # seconds: one backoff sleep never exceeds this, however many retries are asked for


class OpenAICompatModel:
    """``base_url`` is the server's API root, e.g. ``http://127.0.0.1:8000/v1`` (a bare ``http://host:port``
    gets ``/v1``). An empty ``model`` asks the server's ``/v1/models`` once, here, and takes the first id.
    ``max_retries`` counts attempts after the first; the k-th retry waits ``backoff * 2**(k-1)`` seconds."""

    def __init__(self, base_url: str, model: str = "", api_key: str = "EMPTY", timeout: float = 60.0,
                 max_retries: int = 3, backoff: float = 0.5, coord_space: str = "qwen25"):
        base_url = base_url.rstrip("/")
        if base_url.count("/") == 2:  # scheme://host[:port] with no path
            base_url += "/v1"
        self.base_url = base_url
        self.max_retries = max_retries
        self.backoff = backoff
        self.timeout = timeout
        self.coord_space = coord_space
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=0)
        self._listing: list | None = None
        self.name = model or self._first_model_id()
        self.card = Card(coord_space=coord_space)

    follows_constraints = True  # by asking the server for structured output

    def generate(self, messages: list[dict], n: int = 1, temperature: float = 0.0,
                 max_tokens: int = 256, pattern: str | None = None) -> list[Generation]:
        """``pattern``: a regular expression the reply must match; by default the card's constraint, if any."""
        pattern = pattern or pattern_for(messages, self.card)
        extra = {"structured_outputs": {"regex": pattern}} if pattern else None
        response = self._with_retries(lambda: self._client.chat.completions.create(
            model=self.name, messages=messages, n=n, temperature=temperature, max_tokens=max_tokens,
            extra_body=extra))
        try:  # the client does not validate the body: a server may send anything with a 200
            generations = [Generation(text=c.message.content or "", finish_reason=c.finish_reason or "stop")
                           for c in sorted(response.choices, key=lambda c: c.index)]
        except (AttributeError, TypeError) as e:
            raise ModelError(f"model server {self.base_url} sent a bad response: {e}") from e
        if not generations:
            raise ModelError(f"model server {self.base_url} answered with no choices")
        return generations

    def close(self) -> None:
        self._client.close()

    def served_card(self) -> dict | None:
        """The card the server lists for this model (``screenwise serve`` does; vLLM does not): None if none."""
        for entry in self._models():
            if entry.id == self.name:
                card = (entry.model_extra or {}).get("screenwise")
                return card if isinstance(card, dict) else None
        return None

    def _models(self) -> list:
        if self._listing is None:
            self._listing = list(self._with_retries(lambda: self._client.models.list()).data)
        return self._listing

    def _first_model_id(self) -> str:
        models = self._models()
        if not models:
            raise ModelError(f"model server {self.base_url} lists no models at /models")
        return models[0].id

    def _with_retries(self, call: Callable[[], T]) -> T:
        attempts = self.max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return call()
            except openai.APITimeoutError:
                failure, last = "unreachable", f"no answer within {self.timeout:g} s"
            except openai.APIConnectionError as e:
                failure, last = "unreachable", _root_cause(e)
            except openai.APIStatusError as e:
                if e.status_code < 500 and e.status_code != 429:
                    raise ModelError(f"model server {self.base_url} refused the request: {_status_text(e)}") from e
                failure, last = "still failing", _status_text(e)
            except (openai.APIError, json.JSONDecodeError) as e:  # a 200 whose body is not a chat completion
                raise ModelError(f"model server {self.base_url} sent a bad response: {e}") from e
            if attempt < attempts:
                time.sleep(min(self.backoff * 2 ** (attempt - 1), MAX_SLEEP))
        raise ModelError(f"model server {self.base_url} {failure} after {attempts} attempts: {last}")


def _root_cause(e: BaseException) -> str:
    """openai says only "Connection error."; the useful words ("Connection refused") are at the end of the chain."""
    seen = {id(e)}
    while (inner := e.__cause__ or e.__context__) is not None and id(inner) not in seen:
        seen.add(id(inner))
        e = inner
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    return str(e) or type(e).__name__


def _status_text(e: openai.APIStatusError) -> str:
    message = e.body.get("message") if isinstance(e.body, dict) else None
    return f"HTTP {e.status_code}: {message or e.body or e.message}"
