"""Benchmark runs: many (task, seed) episodes of one policy, resumable, in parallel, with crash recovery.

Data leaves as ``DIR/results.jsonl`` (one line per finished episode, appended the moment it ends),
``DIR/summary.json``, ``DIR/success.png`` and a table on stdout. Rerunning the same command skips the
(task, seed) pairs already in ``results.jsonl``, so a killed run resumes where it stopped.

Parallelism: ``workers`` threads, each with its own page in one shared browser (see envs/browser.py), or
Ray actors that each own a browser (``ray_address``). A crashed Chromium is relaunched and the episode is
retried once; a dead Ray actor is replaced and its episode retried once; an episode that still fails is
recorded with its ``error``.

Failures come in two kinds (``error_kind``). An ``infrastructure`` error (Chromium died twice, a Ray actor
died, the model server could not be reached) says nothing about the policy: a resumed run drops that record
and plays the episode again. Any other error, and any episode the policy simply failed, stays recorded.
"""

from __future__ import annotations

import json
import queue
import random
import threading
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from core import actions as A
from envs.browser import Browser, BrowserCrashed, BrowserEnv
from envs.tasks import resolve_tasks
from models import needs_env

RESULT_FIELDS = ("task", "seed", "success", "reward", "steps", "seconds", "error")
INFRASTRUCTURE = "infrastructure"  # error_kind of a failure that is not the policy's: a resumed run retries it
INFRASTRUCTURE_ERRORS = ("browser crashed", "ray worker failed", "model server")  # older records had no kind


@dataclass
class BenchConfig:
    policy: str = "teacher"
    """teacher | random | a model spec (see models/)."""
    tasks: str | None = None
    """all | webgum56 | teachers | a,b,c (task ids); with task_dir, all or the page names to run. None: the tasks
    with a teacher, or every page of task_dir."""
    seeds: int = 5
    """Episodes per task."""
    seed_offset: int = 0
    """First seed; seeds are seed_offset .. seed_offset + seeds - 1."""
    workers: int = 1
    """Parallel episodes (threads sharing one browser)."""
    max_steps: int = 10
    """Turns per episode; the episode is truncated (a failure) after this many."""
    out: str = "runs/bench"
    """Output directory: results.jsonl, summary.json, success.png."""
    task_dir: str | None = None
    """Run the MiniWoB-style pages of this directory instead of the package's tasks."""
    ray_address: str | None = None
    """None: local threads. 'local': a local Ray. Otherwise the address of an existing Ray cluster."""
    quiet: bool = False
    """No progress bar (tests)."""
    extra: dict = field(default_factory=dict)
    """Policy options (model backends use these)."""


# -- policies ------------------------------------------------------------------------------------------------

def teacher_policy(task, obs, page, rng):
    return task.teacher(obs, page)


def random_policy(task, obs, page, rng):
    """A uniform baseline: click a random element or point, or type a random word into a text box."""
    boxes = [e for e in obs.elements if e.role == "textbox"]
    if boxes and rng.random() < 0.2:
        e = rng.choice(boxes)
        word = rng.choice(["ok", "yes", "hello", "42", "submit"])
        return f"Type '{word}' into the text box at {e.center}.", A.Type(word, at=e.center)
    if obs.elements and rng.random() < 0.8:
        e = rng.choice(obs.elements)
        return f"Click the {e.role} at {e.center}.", A.Click(e.center)
    x, y = rng.randrange(160), rng.randrange(50, 210)
    return f"Click at ({x}, {y}).", A.Click((x, y))


POLICIES: dict[str, Callable] = {"teacher": teacher_policy, "random": random_policy}


def play_episode(env: BrowserEnv, task, seed: int, policy: Callable) -> dict:
    """Run one episode to its end and return its result record (without retries)."""
    t0 = time.perf_counter()
    rng = random.Random(f"{task.id}:{seed}")
    obs, _ = env.reset(seed, options={"task": task})
    reward, steps, done = 0.0, 0, False
    while not done:
        _thought, action = policy(task, obs, env.page, rng)
        obs, reward, terminated, truncated, _ = env.step(action)
        steps += 1
        done = terminated or truncated
    return {"task": task.id, "seed": seed, "success": reward > 0, "reward": reward, "steps": steps,
            "seconds": round(time.perf_counter() - t0, 4), "error": ""}


def run_with_retry(env: BrowserEnv, task, seed: int, policy: Callable) -> dict:
    """One episode; a browser crash gets one retry, and anything else is recorded as the episode's error."""
    for attempt in (1, 2):
        t0 = time.perf_counter()
        try:
            if hasattr(policy, "run_episode"):
                record = policy.run_episode(env, task, seed)
            else:
                record = play_episode(env, task, seed, policy)
            if attempt == 2:
                record["retried"] = True
            return record
        except Exception as e:
            if isinstance(e, BrowserCrashed) or not env.browser.alive:  # Chromium died under the episode
                error, kind = f"browser crashed (attempt {attempt}): {e}", INFRASTRUCTURE
                continue
            # a policy or page bug: recorded, not fatal to the run
            error, kind = f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=4)}", "episode"
            break
    return failed_record(task.id, seed, error, kind, time.perf_counter() - t0)


def failed_record(task_id: str, seed: int, error: str, kind: str, seconds: float = 0.0) -> dict:
    return {"task": task_id, "seed": seed, "success": False, "reward": 0.0, "steps": 0,
            "seconds": round(seconds, 4), "error": error.strip()[:2000], "error_kind": kind}


def is_infrastructure_error(record: dict) -> bool:
    if record.get("error_kind"):
        return record["error_kind"] == INFRASTRUCTURE
    return bool(record.get("error")) and record["error"].startswith(INFRASTRUCTURE_ERRORS)


# -- results file --------------------------------------------------------------------------------------------

def read_results(path: Path) -> list[dict]:
    """Records in a results file. A torn last line (a killed run) is dropped and cut from the file."""
    if not path.exists():
        return []
    records, good_bytes = [], 0
    with open(path, "rb") as f:
        for line in f:
            try:
                records.append(json.loads(line))
                good_bytes += len(line)
            except ValueError:
                break
    if good_bytes != path.stat().st_size:
        with open(path, "r+b") as f:
            f.truncate(good_bytes)
    return records


def drop_infrastructure_errors(path: Path) -> list[dict]:
    """The records of a results file, without those an infrastructure failure left (rewritten in place, so that
    the retried episodes are not recorded twice). The rewrite is atomic: a kill leaves the old or the new file."""
    records = read_results(path)
    kept = [r for r in records if not is_infrastructure_error(r)]
    if len(kept) != len(records):
        fresh = path.with_suffix(".jsonl.tmp")
        fresh.write_text("".join(json.dumps(r) + "\n" for r in kept))
        fresh.replace(path)
    return kept


def check_run_config(out: Path, cfg: BenchConfig) -> None:
    """A results directory belongs to one policy and step budget; mixing them would corrupt the table."""
    keep = {"policy": cfg.policy, "max_steps": cfg.max_steps, "task_dir": cfg.task_dir}
    path = out / "config.json"
    if path.exists():
        old = json.loads(path.read_text())
        clash = {k: (old.get(k), v) for k, v in keep.items() if old.get(k) != v}
        if clash:
            raise SystemExit(f"{out} holds a run with other settings {clash}; use another --out")
    else:
        path.write_text(json.dumps(keep, indent=1))


# -- running -------------------------------------------------------------------------------------------------

def make_policy(cfg: BenchConfig):
    """A step function ``(task, obs, page, rng) -> (thought, action)``, or a model policy whose
    ``run_episode`` drives the whole episode through the agent loop."""
    if cfg.policy in POLICIES:
        return POLICIES[cfg.policy]
    if cfg.policy.startswith("model:"):  # the teacher as a Model, through the agent loop
        cfg = BenchConfig(**{**cfg.__dict__, "policy": cfg.policy.removeprefix("model:")})
    from agent.loop import ModelPolicy

    return ModelPolicy(cfg.policy, out_dir=cfg.out, **cfg.extra)


def run_bench(cfg: BenchConfig, policy=None) -> dict:
    """Run (or resume) a benchmark. ``policy`` overrides the one ``cfg.policy`` names (e.g. DAgger's)."""
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    check_run_config(out, cfg)
    # By default a user's task directory runs every page (its pages need no teacher), the package those with one.
    spec = cfg.tasks or ("all" if cfg.task_dir else "teachers")
    tasks = resolve_tasks(spec, cfg.task_dir)
    if cfg.policy.startswith("dagger:") or (cfg.policy not in POLICIES and needs_env(cfg.policy.removeprefix("model:"))):
        missing = [t.id for t in tasks if not t.has_teacher]
        if missing and spec != "all":
            raise SystemExit(f"no teacher for: {', '.join(missing)} (use --tasks teachers)")
        tasks = [t for t in tasks if t.has_teacher]
    seeds = range(cfg.seed_offset, cfg.seed_offset + cfg.seeds)
    # The asked episodes, for readers of a run still going (the web UI's progress bar); summary.json ends it.
    (out / "plan.json").write_text(json.dumps({"tasks": [t.id for t in tasks], "seeds": [seeds.start, seeds.stop - 1],
                                               "episodes": len(tasks) * len(seeds), "started": time.time()}))
    results_path = out / "results.jsonl"
    previous = drop_infrastructure_errors(results_path)  # those episodes are played again
    done = {(r["task"], r["seed"]) for r in previous}
    todo = [(t, s) for t in tasks for s in seeds if (t.id, s) not in done]  # task-major: pages load rarely

    t0 = time.perf_counter()
    new = []
    with open(results_path, "a") as sink:
        def record(r: dict) -> None:
            sink.write(json.dumps(r) + "\n")
            sink.flush()
            new.append(r)

        if todo:
            if cfg.ray_address:
                _run_ray(cfg, todo, record)
            else:
                _run_threads(cfg, todo, record, policy or make_policy(cfg))
    return finish_run(out, cfg, [t.id for t in tasks], seeds, len(new), time.perf_counter() - t0)


def finish_run(out: Path, cfg: BenchConfig, task_ids: list[str], seeds, new_episodes: int, seconds: float) -> dict:
    """Summarize every recorded episode of the asked (task, seed) pairs: summary.json and the chart."""
    wanted = {(t, s) for t in task_ids for s in seeds}
    records = [r for r in read_results(out / "results.jsonl") if (r["task"], r["seed"]) in wanted]
    summary = summarize(records, cfg, new_episodes=new_episodes, seconds=seconds)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    plot_success(summary, out / "success.png")
    return summary


def _progress(total: int, quiet: bool):
    from tqdm import tqdm

    return tqdm(total=total, disable=quiet, unit="ep", dynamic_ncols=True, desc="bench")


def _run_threads(cfg: BenchConfig, todo: list, record: Callable, policy) -> None:
    browser = Browser()
    work: queue.Queue = queue.Queue()
    for item in todo:
        work.put(item)
    results: queue.Queue = queue.Queue()

    def worker():
        env = None
        try:
            while True:
                try:
                    task, seed = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    env = env or _new_env(browser, cfg, policy)
                    results.put(run_with_retry(env, task, seed, policy))
                except Exception as e:  # even the env could not be made: record it; never leave a pair out
                    results.put(failed_record(task.id, seed, f"browser crashed (no page): {e}", INFRASTRUCTURE))
        finally:
            if env is not None:
                env.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, cfg.workers))]
    for t in threads:
        t.start()
    bar, wins = _progress(len(todo), cfg.quiet), 0
    try:
        for n in range(1, len(todo) + 1):
            r = results.get()
            record(r)  # only this thread writes: a result is never written twice
            wins += r["success"]
            bar.set_postfix_str(f"{r['task']} success={wins / n:.0%}", refresh=False)
            bar.update()
    finally:
        bar.close()
        for t in threads:
            t.join(timeout=30)
        browser.close()


def _new_env(browser: Browser, cfg: BenchConfig, policy) -> BrowserEnv:
    """A worker's env; when Chromium is down at that moment, relaunch it and try once more."""
    try:
        return BrowserEnv(browser=browser, max_steps=cfg.max_steps, screenshot=getattr(policy, "needs_screenshot", False))
    except Exception:
        browser.restart_if_dead(browser.generation)
        return BrowserEnv(browser=browser, max_steps=cfg.max_steps, screenshot=getattr(policy, "needs_screenshot", False))


def _run_ray(cfg: BenchConfig, todo: list, record: Callable) -> None:
    """Episodes on Ray actors, each owning a browser: a local Ray, or a cluster at ``cfg.ray_address``."""
    try:
        import ray
    except ImportError as e:
        raise SystemExit("--ray needs Ray: pip install 'screenwise[ray]'") from e

    if not ray.is_initialized():
        address = None if cfg.ray_address in ("local", "auto-local") else cfg.ray_address
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 num_cpus=None if address else max(2, cfg.workers))

    @ray.remote(num_cpus=1)
    class EpisodeActor:
        def __init__(self, cfg: BenchConfig):
            self.policy = make_policy(cfg)
            self.env = BrowserEnv(max_steps=cfg.max_steps,
                                  screenshot=getattr(self.policy, "needs_screenshot", False))
            self.tasks = {t.id: t for t in resolve_tasks("all", cfg.task_dir)} if cfg.task_dir else {}

        def run(self, task_id: str, seed: int) -> dict:
            from envs.tasks import miniwob_task

            task = self.tasks.get(task_id) or miniwob_task(task_id)
            return run_with_retry(self.env, task, seed, self.policy)

    actors = [EpisodeActor.remote(cfg) for _ in range(max(1, cfg.workers))]
    pending, items = {}, [(task, seed, 1) for task, seed in todo]  # (task, seed, attempt)
    bar = _progress(len(todo), cfg.quiet)

    replacements = {}

    def replace(dead):
        """The actor standing in for a dead one (made once, however many of its episodes come back failed)."""
        if dead not in replacements:
            replacements[dead] = EpisodeActor.remote(cfg)
            actors[actors.index(dead)] = replacements[dead]
        return replacements[dead]

    def submit(actor):
        task, seed, attempt = items.pop(0)
        pending[actor.run.remote(task.id, seed)] = (actor, task, seed, attempt)

    try:
        for actor in actors:
            for _ in range(2):  # two in flight per actor hides the round trip
                if items:
                    submit(actor)
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            actor, task, seed, attempt = pending.pop(ready[0])
            try:
                r = ray.get(ready[0])
            except Exception as e:  # the actor itself died: a fresh one takes its place and its episodes
                actor = replace(actor)
                if attempt == 1:
                    items.insert(0, (task, seed, 2))
                    submit(actor)
                    continue
                r = failed_record(task.id, seed, f"ray worker failed: {e}", INFRASTRUCTURE)
            record(r)
            bar.update()
            if items:
                submit(actor)
    finally:
        bar.close()
        for actor in actors:
            ray.kill(actor)


# -- reporting -----------------------------------------------------------------------------------------------

def summarize(records: list[dict], cfg: BenchConfig, new_episodes: int, seconds: float) -> dict:
    per = defaultdict(list)
    for r in records:
        per[r["task"]].append(r)
    tasks = {}
    for name in sorted(per):
        rs = per[name]
        tasks[name] = {
            "episodes": len(rs),
            "success": sum(r["success"] for r in rs) / len(rs),
            "mean_reward": sum(r["reward"] for r in rs) / len(rs),
            "mean_steps": sum(r["steps"] for r in rs) / len(rs),
            "errors": sum(bool(r["error"]) for r in rs),
        }
    n = len(records)
    return {
        "policy": cfg.policy, "tasks": len(tasks), "episodes": n, "max_steps": cfg.max_steps,
        "seeds": [cfg.seed_offset, cfg.seed_offset + cfg.seeds - 1],
        "mean_success": (sum(t["success"] for t in tasks.values()) / len(tasks)) if tasks else 0.0,
        "episode_success": (sum(r["success"] for r in records) / n) if n else 0.0,
        "errors": sum(bool(r["error"]) for r in records),
        "infrastructure_errors": sum(is_infrastructure_error(r) for r in records),  # a rerun plays these again
        "new_episodes": new_episodes, "seconds": round(seconds, 2),
        "episodes_per_second": round(new_episodes / seconds, 2) if seconds > 0 and new_episodes else None,
        "per_task": tasks,
    }


def format_table(summary: dict) -> str:
    lines = [f"{'task':34s} {'episodes':>8s} {'success':>8s} {'reward':>7s} {'steps':>6s} {'errors':>6s}"]
    for name, t in summary["per_task"].items():
        lines.append(f"{name:34s} {t['episodes']:8d} {t['success']:8.0%} {t['mean_reward']:7.2f} "
                     f"{t['mean_steps']:6.1f} {t['errors']:6d}")
    eps = summary["episodes_per_second"]
    lines.append(
        f"mean success {summary['mean_success']:.1%} over {summary['tasks']} tasks, {summary['episodes']} episodes "
        f"(seeds {summary['seeds'][0]}..{summary['seeds'][1]}, max {summary['max_steps']} steps, "
        f"policy {summary['policy']}); {summary['errors']} errors"
        + (f"; {summary['new_episodes']} new episodes in {summary['seconds']} s = {eps} episodes/s" if eps else ""))
    return "\n".join(lines)


def plot_success(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summary["per_task"])
    values = [summary["per_task"][n]["success"] * 100 for n in names]
    fig, ax = plt.subplots(figsize=(max(6, 0.22 * len(names) + 2), 4))
    ax.bar(range(len(names)), values, color="#3a7bd5")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=90, fontsize=7)
    ax.set_ylim(0, 105)
    ax.set_ylabel("success %")
    ax.set_title(f"{summary['policy']}: mean success {summary['mean_success']:.1%} "
                 f"({summary['tasks']} tasks, seeds {summary['seeds'][0]}..{summary['seeds'][1]})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
