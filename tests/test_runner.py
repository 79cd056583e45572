"""The episode runner (agent/runner.py) on real parts: a Chromium killed mid-episode, a Ray actor killed under its
episode, and the order in which the pools hand episodes out."""

from __future__ import annotations

import os
import signal
import sys
import uuid
from functools import partial
from pathlib import Path

import pytest

from agent.bench import POLICIES
from agent.runner import INFRASTRUCTURE, Job, RayPool, StepPolicy, ThreadPool, _Schedule, play_episode
from envs.browser import Browser, BrowserEnv
from envs.tasks import miniwob_task
from test_bench import browser_pids

teacher = POLICIES["teacher"].act


class KillsOnce:
    """The teacher, except that the first time it is asked it kills the browser it plays in (SIGKILL, as a crash)."""

    def __init__(self, browser: Browser):
        self.browser, self.killed = browser, False

    def __call__(self, task, obs, page, rng):
        if not self.killed:
            self.killed = True
            for pid in self.browser.pids()[:1]:
                os.kill(pid, signal.SIGKILL)
        return teacher(task, obs, page, rng)


def test_a_browser_killed_mid_episode_is_played_again():
    browser = Browser()
    env = BrowserEnv(browser=browser, screenshot=False)
    try:
        task = miniwob_task("click-checkboxes")
        record = play_episode(env, task, 5, StepPolicy(KillsOnce(browser)))
        assert record["retried"] and record["success"] and not record["error"], record
        assert browser.generation == 1  # relaunched once
        again = play_episode(env, task, 5, StepPolicy(teacher))  # the recovered env plays on, the same episode
        assert again["success"] and again["reward"] == record["reward"] and "retried" not in again
    finally:
        env.close()
        browser.close()


def raises(task, obs, page, rng):
    raise ValueError("a bug in the policy")


def test_a_policy_bug_is_the_episode_error_and_not_retried(make_env):
    record = play_episode(make_env(), miniwob_task("click-test"), 0, StepPolicy(raises))
    assert record["error_kind"] == "episode" and record["error"].startswith("ValueError: a bug in the policy")
    assert not record["success"] and "retried" not in record


def test_thread_pool_plays_every_job_once_and_keeps_its_pages(browser):
    tasks = [miniwob_task(t) for t in ("click-test", "click-button", "focus-text")]
    jobs = [Job(t, s) for t in tasks for s in range(4)]
    pool = ThreadPool(partial(BrowserEnv, browser=browser, screenshot=False), POLICIES["teacher"], workers=2)
    try:
        got = dict(pool.run(jobs))
        assert sorted(got) == list(range(len(jobs)))
        assert all(got[i]["task"] == j.task.id and got[i]["seed"] == j.seed and got[i]["success"]
                   for i, j in enumerate(jobs))
        envs = list(pool.envs)
        dict(pool.run(jobs[:2]))  # a second batch plays on the same pages
        assert pool.envs == envs
    finally:
        pool.close()


def test_schedule_keeps_a_worker_on_its_task_or_hands_out_in_order():
    jobs = [Job(t, s) for t in "abc" for s in range(3)]
    by_task = _Schedule(jobs, by_task=True)
    # Two workers: each takes a task of its own and stays on it; the third task goes to whoever frees first, and
    # the other, its own task done, retires rather than load c's page for the one job left.
    workers = (0, 1, 1, 1, 0, 0, 1, 1)
    assert [(w, by_task.take(w)[1].task) for w in workers] == [
        (0, "a"), (1, "b"), (1, "b"), (1, "b"), (0, "a"), (0, "a"), (1, "c"), (1, "c")]
    assert by_task.take(0) is None and by_task.take(1)[1] == Job("c", 2) and by_task.take(1) is None
    crowd = _Schedule([Job("a", s) for s in range(8)], by_task=True)
    assert [crowd.take(w)[1].seed for w in (0, 1, 0, 1)] == [0, 1, 2, 3]  # 4 or more left: a second worker helps
    assert crowd.take(2)[1].seed == 4 and crowd.take(3) is None  # 3 left: a third does not
    in_order = _Schedule(jobs, by_task=False)
    assert [in_order.take(w % 2)[0] for w in range(9)] == list(range(9))


# -- Ray ---------------------------------------------------------------------------------------------------------

class DiesOnce:
    """The teacher, except that the Ray actor playing seed 1 kills itself mid-episode, once: a marker file
    remembers it did (the restarted actor is a fresh process)."""

    def __init__(self, marker: str):
        self.marker = Path(marker)

    def run_episode(self, env, task, seed: int) -> dict:
        if seed == 1 and not self.marker.exists():
            env.reset(seed, options={"task": task})
            self.marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return POLICIES["teacher"].run_episode(env, task, seed)


def test_an_episode_on_a_dead_ray_actor_is_played_again(tmp_path):
    ray = pytest.importorskip("ray")
    tag = uuid.uuid4().hex[:8]
    os.environ["SCREENWISE_BROWSER_TAG"] = tag  # the actors' Chromiums, so that the killed one's can be reaped
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    marker = tmp_path / "died"
    pool = RayPool(partial(BrowserEnv, screenshot=False), partial(DiesOnce, str(marker)), workers=2,
                   address="local")
    try:
        jobs = [Job(miniwob_task("click-test"), s) for s in range(4)]
        records = dict(pool.run(jobs))
    finally:
        pool.close()
        os.environ.pop("SCREENWISE_BROWSER_TAG", None)
        for pid in browser_pids(tag):  # the killed actor's Chromium, orphaned
            os.kill(pid, signal.SIGKILL)
    assert marker.exists(), "no actor died"
    assert sorted(records) == [0, 1, 2, 3]
    assert all(r["success"] and not r["error"] and r.get("error_kind") != INFRASTRUCTURE for r in records.values())
    assert records[1].get("retried") is True  # the episode the actor died under was played again
