"""A model's card: how it wants to be prompted and decoded. It travels with the model.

- In a checkpoint directory it is ``screenwise.json`` (``hf:DIR``, ``vllm:DIR``, a path, ``embedded``).
- ``screenwise serve`` puts it in ``GET /v1/models``, under each model's ``"screenwise"`` key, so a client that
  is given nothing but the URL prompts the served model as its card asks.
- ``--card FILE`` gives one by hand; ``--prompt``, ``--coord-space``, ``--element-refs`` and ``--constrain-reply``
  override single fields.

An endpoint that says nothing is taken for UI-TARS-1.5: its multi-turn prompt, no element list, absolute pixels
of the ``smart_resize``d screenshot (``qwen25``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

CARD_FILE = "screenwise.json"
PROMPTS = ("uitars", "compact")
COORD_SPACES = ("pixels", "qwen25", "relative1000")


class CardError(ValueError):
    """A card that cannot be right for its model: a bad file, an unknown field or value, a contradiction."""


@dataclass(frozen=True)
class Card:
    prompt: str = "uitars"
    """uitars: UI-TARS-1.5's multi-turn layout with screenshots; compact: one message with the screen, the task,
    the history and the element list (small models)."""
    coord_space: str = "qwen25"
    """How the model writes coordinates (core/coords.py): pixels | qwen25 | relative1000."""
    element_refs: bool = False
    """The prompt lists the elements, and the model may write ``element=...`` instead of a point."""
    mark_matches: bool = False
    """After the element list, the prompt repeats the lines the instruction names (``Named in the task:``)."""
    field_labels: bool = False
    """The element list names each field by its label: ``textbox for 'E-mail' at (204,177)``."""
    constrain_references: bool = False
    """Decoding may only name listed elements and positions (models/constrain.py; over HTTP, a regex)."""
    copy_content: bool = False
    """... and typed text must be a run of whole words of the instruction."""
    constrain_quotes: bool = False
    """... and a listed line quoted in the thought goes on with the position the list gives it."""
    constrain_reply: bool = False
    """In-process decoding holds the whole reply to the pattern a server is sent (models/reply_pattern.py): one
    Thought line, then canonical actions, so every reply parses. Without it only the references are masked."""
    model: str = ""
    """The model this card is for (its served name or directory name); empty: any."""

    @classmethod
    def from_dict(cls, data: object, where: str = "card") -> Card:
        if not isinstance(data, dict):
            raise CardError(f"{where}: a card is a JSON object, got {type(data).__name__}")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise CardError(f"{where}: unknown field(s) {', '.join(unknown)}; a card has {', '.join(fields)}")
        for name, value in data.items():
            if not isinstance(value, type(fields[name].default)):
                raise CardError(f"{where}: {name} must be a {type(fields[name].default).__name__}, got {value!r}")
        if data.get("prompt") == "compact":  # the compact layout lists the elements unless a card says not to
            data = {"element_refs": True, **data}
        card = cls(**data)
        card.check(where)
        return card

    @classmethod
    def read(cls, path: str | Path) -> Card:
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise CardError(f"no card file at {path}") from None
        except (OSError, json.JSONDecodeError) as e:
            raise CardError(f"{path}: not a JSON card ({e})") from None
        return cls.from_dict(data, str(path))

    @classmethod
    def of_directory(cls, directory: str | Path) -> Card | None:
        """The card a checkpoint directory carries, or None."""
        path = Path(directory) / CARD_FILE
        return cls.read(path) if path.is_file() else None

    def check(self, where: str = "card") -> None:
        if self.prompt not in PROMPTS:
            raise CardError(f"{where}: prompt must be one of {', '.join(PROMPTS)}, got {self.prompt!r}")
        if self.coord_space not in COORD_SPACES:
            raise CardError(f"{where}: coord_space must be one of {', '.join(COORD_SPACES)}, got {self.coord_space!r}")
        needs_list = [k for k in ("mark_matches", "field_labels", "constrain_references", "copy_content",
                                  "constrain_quotes", "constrain_reply") if getattr(self, k)]
        if needs_list and not (self.prompt == "compact" and self.element_refs):
            raise CardError(f"{where}: {', '.join(needs_list)} need the element list in the prompt "
                            "(prompt 'compact' with element_refs true)")
        if self.constrain_reply and not self.constrain_references:
            raise CardError(f"{where}: constrain_reply holds replies to the reference pattern: it needs "
                            "constrain_references true")

    def to_dict(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "model" or v}

    def replace(self, **changes) -> Card:
        """A copy with the fields that are not None changed, checked again."""
        card = dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})
        card.check("card with overrides")
        return card

    @classmethod
    def turn_on(cls, directory: str | Path, *names: str) -> None:
        """Set boolean fields of a checkpoint directory's card to true (a new run's prompt form), checked."""
        path = Path(directory) / CARD_FILE
        data = json.loads(path.read_text()) if path.is_file() else {}
        data.update({n: True for n in names})
        cls.from_dict(dict(data), str(path))
        path.write_text(json.dumps(data, indent=1))

    def fits(self, model_name: str, where: str = "card") -> None:
        """A card that names a model must be used with that model."""
        if self.model and self.model != model_name:
            raise CardError(f"{where} is for model {self.model!r}, but the model is {model_name!r}")
