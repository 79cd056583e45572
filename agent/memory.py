"""Memory is typed steps; the prompt is rebuilt from them every turn.

The layout follows UI-TARS-1.5: the task prompt in the first user message, then for each earlier turn a user
message with its screenshot and an assistant message with the model's reply, then the current screenshot.
Only the last ``keep_images`` screenshots are sent; older ones become a one-line placeholder.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

from core.elements import describe_elements, field_labels, match_line
from core.env import Observation
from core.messages import image_part, text_part


@dataclass
class Turn:
    """One finished turn: what the model saw (screenshot + notes) and what it wrote."""

    screenshot: Image.Image | None
    notes: str
    output: str


@dataclass
class Memory:
    task_prompt: str
    turns: list[Turn] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)  # canonical text of every action done so far

    def render_compact(self, instruction: str, screenshot: Image.Image | None, notes: str,
                       keep_actions: int = 8) -> list[dict]:
        """One user message for small models: the screen, the task, the actions so far, then the notes."""
        done = self.actions[-keep_actions:]
        history = "\n".join(f"{len(self.actions) - len(done) + i + 1}. {a}" for i, a in enumerate(done)) or "none"
        text = f"Task: {instruction}\nPrevious actions:\n{history}" + (f"\n{notes}" if notes else "")
        parts = ([image_part(screenshot)] if screenshot is not None else []) + [text_part(text)]
        return [{"role": "user", "content": parts}]

    def render(self, screenshot: Image.Image | None, notes: str, keep_images: int = 5) -> list[dict]:
        """Messages for the next turn: the task, the earlier turns, then the current screen and notes."""
        messages = [{"role": "user", "content": self.task_prompt}]
        seen = self.turns + [Turn(screenshot, notes, "")]
        first_image = len(seen) - keep_images
        for i, turn in enumerate(seen):
            parts = []
            if turn.screenshot is not None:
                parts.append(image_part(turn.screenshot) if i >= first_image
                             else text_part(f"(screenshot of step {i} omitted)"))
            if turn.notes:
                parts.append(text_part(turn.notes))
            messages.append({"role": "user", "content": parts or [text_part(f"Step {i}.")]})
            if i < len(self.turns):
                messages.append({"role": "assistant", "content": turn.output})
        return messages


def observation_notes(obs: Observation, feedback: list[str], show_elements: bool, compact: bool = False,
                      mark_matches: bool = False, labels: bool = False) -> str:
    """The text that goes with a screenshot: errors and feedback first, then (optionally) the elements, and
    with ``mark_matches`` the :func:`core.elements.match_line` after them. ``labels`` names each field in the
    list by its label (:func:`core.elements.field_labels`)."""
    parts = []
    if obs.last_action_error:
        parts.append(f"Error from your last action: {obs.last_action_error}")
    parts += feedback
    if show_elements and obs.elements:
        named = field_labels(obs.elements) if labels else None
        parts.append("Elements:\n" + describe_elements(obs.elements, compact=compact, screenshot=obs.screenshot,
                                                       instruction=obs.instruction, labels=named))
        if mark_matches:
            parts.append(match_line(obs.instruction, obs.elements, obs.screenshot, named))
    return "\n".join(parts)
