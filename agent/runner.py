"""The episode runner: every episode screenwise plays in bulk goes through here (the bench and the desktop bench,
DAgger and data collection through them, GRPO's rollouts).

- ``play_episode(env, task, seed, policy)`` plays one episode. When the env's machinery died under it (a
  browser, a display: ``EnvCrashed``, or ``env.alive`` turned False) it is played once more on the recovered
  env; anything else is recorded as the episode's error, never raised.
- ``ThreadPool`` plays many on threads, each owning an env for as long as the pool lives, so a worker's page
  is reused from episode to episode. With ``by_task`` a free worker takes the next episode of the task its
  page already holds, or else one of a task no other worker holds: a MiniWoB page then loads about once per
  task instead of once per episode (a load costs ~200 ms of CPU, an episode ~50 ms).
- ``RayPool`` plays them on Ray actors, each owning an env and a policy. Ray restarts an actor that dies
  (``max_restarts``); the episodes it held are played again on the restarted actor, and only an episode that
  lost its actor ``attempts`` times is recorded, as an infrastructure error a resumed bench plays again.

A policy is anything with ``run_episode(env, task, seed, **options) -> dict``, the episode's record: ``task``,
``seed``, ``success``, ``reward``, ``steps``, ``seconds``, ``error``, and whatever the policy adds (a model's
``status``, GRPO's ``samples``). ``StepPolicy`` makes one of a step function. The env owns the step budget
(``env.max_steps``); no policy keeps its own.
"""

from __future__ import annotations

import queue
import random
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from core.env import EnvCrashed

INFRASTRUCTURE = "infrastructure"  # error_kind of a failure that is not the policy's: a resumed run retries it


@dataclass(frozen=True)
class Job:
    """One episode to play: its task, its seed, and options for the policy's ``run_episode``."""

    task: Any
    seed: int
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class StepPolicy:
    """A step function ``(task, obs, page, rng) -> (thought, action)`` played against the env alone, without the
    agent loop: the privileged teachers and the random baseline. They read the DOM, not the screenshot."""

    act: Callable
    needs_screenshot: bool = False

    def run_episode(self, env, task, seed: int) -> dict:
        t0 = time.perf_counter()
        rng = random.Random(f"{task.id}:{seed}")
        obs, _ = env.reset(seed, options={"task": task})
        reward, steps, done = 0.0, 0, False
        while not done:
            _thought, action = self.act(task, obs, env.page, rng)
            obs, reward, terminated, truncated, _ = env.step(action)
            steps += 1
            done = terminated or truncated
        return {"task": task.id, "seed": seed, "success": reward > 0, "reward": reward, "steps": steps,
                "seconds": round(time.perf_counter() - t0, 4), "error": ""}


def failed_record(task_id: str, seed: int, error: str, kind: str, seconds: float = 0.0) -> dict:
    return {"task": task_id, "seed": seed, "success": False, "reward": 0.0, "steps": 0,
            "seconds": round(seconds, 4), "error": error.strip()[:2000], "error_kind": kind}


def play_episode(env, task, seed: int, policy, **options) -> dict:
    """One episode's record. A crash of the env's machinery gets one retry (the record then says ``retried``);
    anything else the policy or the page raises is recorded as the episode's ``error``."""
    t0 = time.perf_counter()
    for attempt in (1, 2):
        try:
            record = policy.run_episode(env, task, seed, **options)
        except Exception as e:
            if isinstance(e, EnvCrashed) or not getattr(env, "alive", True):
                error, kind = f"env crashed (attempt {attempt}): {e}", INFRASTRUCTURE
                continue
            error, kind = f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=4)}", "episode"
            break
        if attempt == 2:
            record["retried"] = True
        return record
    return failed_record(task.id, seed, error, kind, time.perf_counter() - t0)


def task_id(task) -> str:
    return getattr(task, "id", str(task))


HELP_AT_LEAST = 4
"""A worker whose task is done helps with another worker's task only while that task has this many jobs left: a
page load costs about as much CPU as three short episodes. Otherwise it retires, and the holder finishes them."""


class _Schedule:
    """The jobs left, handed out one at a time: in order, or (``by_task``) the next job of the task a worker
    already holds, else the first of a task no worker holds, else one of the task with the most jobs left, if it
    has HELP_AT_LEAST (None: the worker retires; every job left belongs to a task some worker holds)."""

    def __init__(self, jobs: list[Job], by_task: bool):
        self.left = list(enumerate(jobs))
        self.by_task = by_task
        self.held: dict[int, str] = {}  # worker -> the task its env holds
        self._lock = threading.Lock()

    def take(self, worker: int) -> tuple[int, Job] | None:
        with self._lock:
            if not self.left:
                return None
            pick = 0
            if self.by_task:
                mine, others = self.held.get(worker), set(self.held.values())
                ids = [task_id(job.task) for _, job in self.left]
                pick = next((k for k, t in enumerate(ids) if t == mine), None)
                if pick is None:
                    pick = next((k for k, t in enumerate(ids) if t not in others), None)
                if pick is None:
                    busiest = max(set(ids), key=ids.count)
                    if ids.count(busiest) < HELP_AT_LEAST:
                        return None
                    pick = ids.index(busiest)
            index, job = self.left.pop(pick)
            self.held[worker] = task_id(job.task)
            return index, job


class ThreadPool:
    """``workers`` threads playing ``policy``, each with an env made by ``make_env()`` on first use and kept until
    ``close()``.

    ``run(jobs)`` yields ``(index, record)`` in the calling thread as episodes end; a pool may run many batches
    (GRPO: one an iteration) on the same envs. ``by_task=False`` hands jobs out strictly in order (GRPO's lockstep
    decoding and its sampler's random stream follow the job order)."""

    def __init__(self, make_env: Callable[[], Any], policy, workers: int = 1, by_task: bool = True):
        self.make_env, self.policy, self.workers, self.by_task = make_env, policy, max(1, workers), by_task
        self.envs: list = [None] * self.workers

    def run(self, jobs: list[Job]) -> Iterator[tuple[int, dict]]:
        schedule, results = _Schedule(jobs, self.by_task), queue.Queue()
        stop = threading.Event()

        def work(w: int) -> None:
            while not stop.is_set() and (taken := schedule.take(w)) is not None:
                index, job = taken
                try:
                    self.envs[w] = self.envs[w] or self.make_env()
                except Exception as e:  # not even an env: record it, never leave a job out
                    results.put((index, failed_record(task_id(job.task), job.seed, f"the env could not be made: {e}",
                                                      INFRASTRUCTURE)))
                    continue
                results.put((index, play_episode(self.envs[w], job.task, job.seed, self.policy, **job.options)))

        threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in range(min(self.workers, len(jobs)))]
        for t in threads:
            t.start()
        try:
            for _ in jobs:
                yield results.get()
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)

    def close(self) -> None:
        for env in self.envs:
            if env is not None:
                env.close()
        self.envs = [None] * self.workers


class EpisodeActor:
    """A Ray actor's body: an env and a policy of its own, made on the actor from picklable factories."""

    def __init__(self, make_env: Callable[[], Any], make_policy: Callable[[], Any]):
        self.env, self.policy = make_env(), make_policy()

    def run(self, job: Job) -> dict:
        return play_episode(self.env, job.task, job.seed, self.policy, **job.options)

    def close(self) -> None:
        self.env.close()


def start_ray(address: str | None, workers: int) -> bool:
    """Connect to Ray (``'local'``: start one here with ``workers`` CPUs); True when this call started it."""
    try:
        import ray
    except ImportError as e:
        raise SystemExit("Ray is not installed: pip install 'screenwise[ray]'") from e
    if ray.is_initialized():
        return False
    address = None if address in (None, "", "local", "auto-local") else address
    ray.init(address=address, include_dashboard=False, log_to_driver=False,
             num_cpus=None if address else max(2, workers))
    return True


class RayPool:
    """Episodes on ``workers`` Ray actors (a local Ray, or the cluster at ``address``).

    ``make_env`` and ``make_policy`` are picklable callables, called on each actor. An actor that dies is restarted
    by Ray (``max_restarts``, -1: always) and its episodes are played again on it, each up to ``attempts`` times in
    all. ``pinned``: job i goes to
    actor i % workers, all submitted at once, so each actor plays the same episodes in the same order on every
    run (GRPO: an actor's sampler then draws the same numbers); else at most two jobs wait on an actor, the next
    chosen as ThreadPool's ``by_task`` does."""

    def __init__(self, make_env: Callable[[], Any], make_policy: Callable[[], Any], workers: int = 1,
                 address: str | None = "local", pinned: bool = False, max_restarts: int = -1, attempts: int = 3,
                 options: dict | None = None):
        self.started = start_ray(address, workers)
        import ray

        self._ray = ray
        self.remote = ray.remote(num_cpus=1, max_restarts=max_restarts, **(options or {}))(EpisodeActor)
        self.attempts, self.pinned = attempts, pinned
        self.actors = [self.remote.remote(make_env, make_policy) for _ in range(max(1, workers))]

    def run(self, jobs: list[Job]) -> Iterator[tuple[int, dict]]:
        ray, schedule = self._ray, _Schedule(jobs, by_task=not self.pinned)
        pending: dict = {}  # ref -> (actor slot, index, job, attempt)

        def submit(slot: int, index: int, job: Job, attempt: int = 1) -> None:
            pending[self.actors[slot].run.remote(job)] = (slot, index, job, attempt)

        def feed(slot: int) -> None:
            taken = schedule.take(slot)
            if taken is not None:
                submit(slot, *taken)

        if self.pinned:
            for index, job in enumerate(jobs):
                submit(index % len(self.actors), index, job)
        else:
            for slot in range(len(self.actors)):
                for _ in range(2):  # two in flight per actor hides the round trip
                    feed(slot)
        while pending:
            [ref], _ = ray.wait(list(pending), num_returns=1)
            slot, index, job, attempt = pending.pop(ref)
            try:
                record = ray.get(ref)
            except ray.exceptions.RayActorError as e:  # the actor died under it: never recorded as played
                if attempt < self.attempts:  # Ray restarts the actor; the call waits for it
                    submit(slot, index, job, attempt + 1)
                    continue
                record = failed_record(task_id(job.task), job.seed, f"ray worker failed: {e}", INFRASTRUCTURE)
            if attempt > 1:
                record["retried"] = True
            yield index, record
            if not self.pinned:
                feed(slot)

    def close(self) -> None:
        ray = self._ray
        try:
            ray.get([actor.close.remote() for actor in self.actors], timeout=30)
        except Exception:
            pass
        for actor in self.actors:
            ray.kill(actor)
        if self.started:
            ray.shutdown()
