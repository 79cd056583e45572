"""Environments: the mechanics of a screen (a browser page, a desktop), kept apart from task meaning."""

from core.env import ActionError, Element, Env, Observation, Task

__all__ = ["ActionError", "Element", "Env", "Observation", "Task"]
