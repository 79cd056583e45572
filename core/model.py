"""The model seam. Every backend takes the same OpenAI-style chat messages, with images, and returns text.

Messages are ``[{"role": "system"|"user"|"assistant", "content": str | list[part]}]`` where a part is
``{"type": "text", "text": ...}`` or ``{"type": "image_url", "image_url": {"url": "data:image/png;base64,..."}}``.
``core.messages`` converts PIL images to and from such parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class Generation:
    text: str
    token_ids: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    finish_reason: str = "stop"


class Model(Protocol):
    name: str
    coord_space: str  # "pixels" | "qwen25" | "relative1000": how this model writes coordinates (core/coords.py)

    def generate(self, messages: list[dict], n: int = 1, temperature: float = 0.0,
                 max_tokens: int = 256) -> list[Generation]: ...
    # Backends that can hold a reply to a regular expression (``follows_constraints = True``: transformers, vLLM,
    # an OpenAI-compatible server) also take ``pattern=``; models/reply_pattern.py writes it from the card.


class TrainableModel(Model, Protocol):
    """The training side: log-probabilities of given completions under the model (GRPO, SFT eval)."""

    def score(self, messages: list[dict], completions: list[str]) -> list[list[float]]: ...


class ModelError(RuntimeError):
    """The backend could not answer (server unreachable after retries, bad response). Not the model's fault."""
