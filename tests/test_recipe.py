"""The recipe's held-out tasks (an RL run's no-demonstration set) stay out of every stage's task list."""

from __future__ import annotations

from envs.tasks import CORE, task_names
from train.recipe import kept


def test_held_out_tasks_leave_every_list_and_the_rest_keep_their_order():
    assert kept(list(CORE), "click-button, click-link") == [t for t in CORE if t not in ("click-button", "click-link")]
    teachers = task_names("teachers")
    assert kept(teachers, "") == teachers
    assert "click-pie-nodelay" in kept(teachers, "click-pie") and "click-pie" not in kept(teachers, "click-pie")
