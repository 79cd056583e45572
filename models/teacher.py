"""The privileged teachers as a Model, so the same agent loop runs them and records their trajectories.

A teacher reads the DOM of the page the agent is working on, so this model is bound to an env. It ignores the
messages' images and answers with the teacher's Thought and action in the canonical action language, in
screen pixels. Served over HTTP (``models/serve.py``) it still reads the env in the serving process.
"""

from __future__ import annotations

from agent.actions import Response, format_response
from models.base import Generation


class TeacherModel:
    name = "teacher"
    coord_space = "pixels"

    def __init__(self, env):
        self.env = env

    def generate(self, messages: list[dict], n: int = 1, temperature: float = 0.0,
                 max_tokens: int = 256) -> list[Generation]:
        thought, action = self.env.task.teacher(self.env.obs, self.env.page)
        actions = tuple(action) if isinstance(action, (list, tuple)) else (action,)
        text = format_response(Response(actions, thought=thought))
        return [Generation(text) for _ in range(n)]
