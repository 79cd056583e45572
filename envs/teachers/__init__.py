"""Teachers: privileged scripted solvers for MiniWoB++ tasks, registered by task id.

A teacher is ``fn(obs, page) -> (thought, action)``. It reads the current state (the observation and,
privileged, the DOM through ``page.evaluate``) and returns one action with a one-line Thought that is true
and specific ("The button labelled 'Ok' is at (80, 131); click it."). It keeps no memory between steps, so
it can label any state the student reaches (DAgger). Its thoughts become the embedded model's SFT data.
"""

from __future__ import annotations

from typing import Callable

TEACHERS: dict[str, Callable] = {}
VISIBLE: dict[str, Callable] = {}
"""Visible-state teachers (envs/teachers/visible.py): for the tasks where the privileged teacher acts on what the
screen hides, a teacher that decides from what it shows. Distillation data uses them (``teacher:visible``)."""


def _registrar(table: dict[str, Callable], what: str):
    """A decorator factory that registers a function in ``table`` for one or more task ids."""

    def by_names(*names: str):
        def register(fn):
            for name in names:
                if name in table:
                    raise ValueError(f"two {what}s for {name}")
                table[name] = fn
            return fn

        return register

    return by_names


teacher = _registrar(TEACHERS, "teacher")
"""Register a teacher for one or more task ids: ``@teacher("click-tab", ...)``."""
visible_teacher = _registrar(VISIBLE, "visible-state teacher")
"""Register a visible-state teacher for task ids that also have a privileged one."""


# Importing the modules registers their teachers.
from envs.teachers import basic, composite, forms, visual, widgets  # noqa: E402,F401
from envs.teachers import visible  # noqa: E402,F401
from envs.teachers import pages  # noqa: E402,F401
