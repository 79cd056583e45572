"""The privileged teachers as a Model, so the same agent loop runs them and records their trajectories.

A teacher reads the DOM of the page the agent is working on, so this model is bound to an env. It ignores the
messages' images and answers with the teacher's Thought and action in the canonical action language, in
screen pixels. Served over HTTP (``models/serve.py``) it still reads the env in the serving process.

``student=True`` answers in the embedded model's form instead (models/student_form.py): element references by
copied text, and thoughts without coordinates that quote the listed line of a text-less target. Distillation
data is recorded this way, so the history in each prompt is what the student itself would have written.
``visible=True`` (with ``student``) takes the visible-state teacher where a task has one
(envs/teachers/visible.py): it searches the tabs or sections in order instead of naming the hidden one.
"""

from __future__ import annotations

from core.actions import Response, format_response
from core.model import Generation
from models.student_form import listed_lines, student_action, student_thought


class TeacherModel:
    coord_space = "pixels"

    def __init__(self, env, student: bool = False, visible: bool = False, labels: bool = True):
        self.env = env
        self.labels = labels  # the student's list names its fields (models/__init__.py STUDENT_FORM)
        self.student = student
        self.visible = visible
        self.name = "teacher:visible" if visible else "teacher:student" if student else "teacher"

    def generate(self, messages: list[dict], n: int = 1, temperature: float = 0.0,
                 max_tokens: int = 256) -> list[Generation]:
        kw = {"visible": True} if self.visible else {}  # desktop tasks' teachers take no such argument
        thought, action = self.env.task.teacher(self.env.obs, self.env.page, **kw)
        actions = tuple(action) if isinstance(action, (list, tuple)) else (action,)
        if self.student:
            actions = tuple(student_action(a, self.env.obs.elements) for a in actions)
            thought = student_thought(thought, listed_lines(actions, self.env.obs, self.labels))
        text = format_response(Response(actions, thought=thought))
        return [Generation(text) for _ in range(n)]
