"""A plain web page as a task: open a URL, follow a free-form instruction. No reward: the agent decides."""

from __future__ import annotations


class WebTask:
    crop = None  # the whole viewport

    def __init__(self, url: str, instruction: str = "", id: str = "web"):
        self.id = id
        self.url = url
        self.instruction = instruction

    def setup(self, page, seed: int) -> str:
        page.goto(self.url)
        return self.instruction or page.evaluate("() => document.title") or f"Use the page at {self.url}."

    def validate(self, page) -> tuple[float, bool, dict]:
        return 0.0, False, {}
