"""Desktop tasks, registered by id: small Tk apps the project ships (apps.py) and a real xterm.

``resolve_desktop_tasks(spec)`` turns a CLI spec into task objects: ``all`` (or ``teachers``: every desktop
task has one) or a comma list of ids. Each call makes fresh objects; a task holds its episode's state.
"""

from __future__ import annotations

from core.env import UnknownTask
from envs.tasks.desktop.tasks import TASK_CLASSES, AppTask, DesktopTask

DESKTOP_TASKS: dict[str, type] = {cls.id: cls for cls in TASK_CLASSES}


def desktop_task(name: str):
    if name not in DESKTOP_TASKS:
        raise UnknownTask(f"no desktop task {name!r}; known: {', '.join(DESKTOP_TASKS)}")
    return DESKTOP_TASKS[name]()


def resolve_desktop_tasks(spec: str = "all") -> list:
    if spec in ("all", "teachers", ""):
        return [cls() for cls in DESKTOP_TASKS.values()]
    names = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [n for n in names if n not in DESKTOP_TASKS]
    if unknown:
        raise UnknownTask(f"unknown desktop task(s): {', '.join(unknown)}; known: {', '.join(DESKTOP_TASKS)}")
    return [desktop_task(n) for n in names]


__all__ = ["AppTask", "DESKTOP_TASKS", "DesktopTask", "desktop_task", "resolve_desktop_tasks"]
