"""The visible-state teachers of hot-cold and stock-market, and the audit that found what teachers read unseen
(train/teacher_audit.py), on real Chromium through the agent loop."""

from __future__ import annotations

import json

import pytest

from agent.loop import ModelPolicy
from envs.tasks import miniwob_task
from envs.teachers.visible import SWEEP
from train.teacher_audit import audit_task, decision_tokens, provenance


@pytest.mark.parametrize("task_id", ["hot-cold", "stock-market"])
def test_visible_teacher_solves_its_task_through_the_agent_loop(make_env, tmp_path, task_id):
    env = make_env(screenshot=True)
    policy = ModelPolicy("teacher:visible", out_dir=tmp_path)
    wins = [policy.run_episode(env, miniwob_task(task_id), seed)["success"] for seed in (1000, 1001, 1002)]
    # stock-market's ticker runs on the wall clock: on a loaded machine a turn can come after the dip it waited
    # for, so one win of three shows the teacher can do it; hot-cold does not depend on time
    assert all(wins) if task_id == "hot-cold" else any(wins), (task_id, wins)
    steps = [json.loads(line) for f in tmp_path.glob(f"trajectories/{task_id}/*/episode.jsonl")
             for line in f.read_text().splitlines() if '"type": "step"' in line]
    replies = [s["raw_output"] for s in steps]
    if task_id == "hot-cold":  # it hovers over the sweep's points (the student's form may snap one a few px)
        points = [tuple(map(int, p.strip("()").split(","))) for r in replies for k, p in decision_tokens(r)
                  if k == "point"]
        assert points and all(min(abs(x - sx) + abs(y - sy) for sx, sy in SWEEP) <= 6 for x, y in points)
    else:  # it only waits or clicks Buy, named by its text
        assert all("wait(" in r or "element='Buy'" in r for r in replies), replies


def test_decision_tokens_are_classed_by_where_they_come_from():
    reply = ("Thought: The card 'Nine' shows 9, and the sum is 12; type it.\n"
             "Action: type(element='Answer', content='12')\n\nclick(start_box='(40,60)')")
    tokens = decision_tokens(reply)
    assert tokens == [("quote", "Nine"), ("number", "9"), ("number", "12"), ("element", "Answer"),
                      ("typed", "12"), ("point", "(40,60)")]
    prompt = "Task: Add the numbers.\nElements:\n[0] span 'Nine'\n[1] textbox 'Answer'\n[2] div red at (40,60)"
    page = {"shown": "Nine Answer 9", "unseen": ""}
    assert [provenance(k, t, prompt, page) for k, t in tokens] == \
        ["copied", "on-screen", "derived", "copied", "derived", "copied"]
    assert provenance("number", "9", prompt, {"shown": "", "unseen": "data-value 9"}) == "hidden"


def test_audit_flags_a_teacher_reading_hidden_numbers_and_passes_a_searching_one(make_env):
    env = make_env(screenshot=True)
    seeds = range(1000, 1002)
    hidden = audit_task(env, miniwob_task("ascending-numbers"), seeds)  # no visible teacher: the privileged one
    assert hidden.wins == 2 and hidden.kinds["hidden"] > 0 and hidden.flagged_steps > 0
    searching = audit_task(env, miniwob_task("click-tab-2-hard"), seeds)
    assert searching.wins == 2 and searching.flagged_steps == 0 and searching.kinds["copied"] > 0
