"""A scripted model for tests and demos of the loop: it replays given outputs, or calls a function."""

from __future__ import annotations

from typing import Callable, Sequence

from core.model import Generation


class ScriptedModel:
    """``outputs`` is a list of texts returned in turn (the last one repeats), or ``fn(messages) -> text``."""

    coord_space = "pixels"

    def __init__(self, outputs: Sequence[str] | Callable[[list[dict]], str], name: str = "scripted"):
        self.name = name
        self._fn = outputs if callable(outputs) else None
        self._outputs = list(outputs) if not callable(outputs) else []
        self.calls: list[list[dict]] = []

    def generate(self, messages: list[dict], n: int = 1, temperature: float = 0.0,
                 max_tokens: int = 256) -> list[Generation]:
        self.calls.append(messages)
        if self._fn is not None:
            text = self._fn(messages)
        else:
            text = self._outputs[min(len(self.calls) - 1, len(self._outputs) - 1)]
        return [Generation(text) for _ in range(n)]
