"""Benchmark runs: many (task, seed) episodes of one policy, resumable, in parallel, with crash recovery.

Data leaves as ``DIR/results.jsonl`` (one line per finished episode, appended the moment it ends),
``DIR/summary.json``, ``DIR/success.png`` and a table on stdout. Rerunning the same command skips the
(task, seed) pairs already in ``results.jsonl``, so a killed run resumes where it stopped.

Episodes are played by the shared episode runner (agent/runner.py): ``workers`` threads, each with its own page
in one shared browser (see envs/browser.py) that it keeps for the whole run, or Ray actors that each own a
browser (``ray_address``). A crashed Chromium is relaunched and the episode is retried once; a dead Ray actor is
restarted and its episodes played again; an episode that still fails is recorded with its ``error``.

Failures come in two kinds (``error_kind``). An ``infrastructure`` error (Chromium died twice, a Ray actor
died, the model server could not be reached) says nothing about the policy: a resumed run drops that record
and plays the episode again. Any other error, and any episode the policy simply failed, stays recorded.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from agent.loop import ModelPolicy
from agent.runner import INFRASTRUCTURE, Job, RayPool, StepPolicy, ThreadPool, failed_record  # noqa: F401
from core import actions as A
from core.env import MAX_STEPS
from envs.browser import Browser, BrowserEnv
from envs.tasks import resolve_tasks
from models import needs_env

RESULT_FIELDS = ("task", "seed", "success", "reward", "steps", "seconds", "error")
INFRASTRUCTURE_ERRORS = ("browser crashed", "env crashed", "ray worker failed", "model server")  # older records
# had no kind


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
    """Parallel episodes (threads sharing one browser, or Ray actors)."""
    max_steps: int = MAX_STEPS
    """Turns per episode, given to the env, which owns the budget; the episode is truncated (a failure) after
    this many."""
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


POLICIES = {"teacher": StepPolicy(teacher_policy), "random": StepPolicy(random_policy)}


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
    """A step policy (teacher, random: agent/runner.py ``StepPolicy``), or a model policy whose ``run_episode``
    drives the whole episode through the agent loop."""
    if cfg.policy in POLICIES:
        return POLICIES[cfg.policy]
    return ModelPolicy(cfg.policy.removeprefix("model:"), out_dir=cfg.out, **cfg.extra)  # model:teacher: the
    # teacher as a Model, through the agent loop


def run_bench(cfg: BenchConfig, policy=None) -> dict:
    """Run (or resume) a benchmark. ``policy`` overrides the one ``cfg.policy`` names (e.g. DAgger's)."""
    # By default a user's task directory runs every page (its pages need no teacher), the package those with one.
    spec = cfg.tasks or ("all" if cfg.task_dir else "teachers")
    tasks = resolve_tasks(spec, cfg.task_dir)
    if cfg.policy.startswith("dagger:") or (cfg.policy not in POLICIES and needs_env(cfg.policy.removeprefix("model:"))):
        missing = [t.id for t in tasks if not t.has_teacher]
        if missing and spec != "all":
            raise SystemExit(f"no teacher for: {', '.join(missing)} (use --tasks teachers)")
        tasks = [t for t in tasks if t.has_teacher]
    policy = policy or make_policy(cfg)
    return run_episodes(cfg, tasks, partial(browser_pool, cfg, policy))


@contextmanager
def browser_pool(cfg: BenchConfig, policy):
    """The runner's pool for a browser bench: Ray actors (``cfg.ray_address``; each makes ``cfg``'s policy), or
    threads with a page each in one Chromium. Screenshots are taken only for a policy that reads them."""
    env_options = {"max_steps": cfg.max_steps, "screenshot": getattr(policy, "needs_screenshot", False)}
    if cfg.ray_address:
        pool, browser = RayPool(partial(BrowserEnv, **env_options), partial(make_policy, cfg), cfg.workers,
                                cfg.ray_address), None
    else:
        browser = Browser()
        pool = ThreadPool(partial(BrowserEnv, browser=browser, **env_options), policy, cfg.workers)
    try:
        yield pool
    finally:
        pool.close()
        if browser is not None:
            browser.close()


def run_episodes(cfg: BenchConfig, tasks: list, open_pool) -> dict:
    """Play (or resume) every (task, seed) of ``cfg`` on the pool ``open_pool()`` opens (a context manager, entered
    only when something is left to play), each record appended to results.jsonl the moment it ends."""
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    check_run_config(out, cfg)
    seeds = range(cfg.seed_offset, cfg.seed_offset + cfg.seeds)
    # The asked episodes, for readers of a run still going (the web UI's progress bar); summary.json ends it.
    (out / "plan.json").write_text(json.dumps({"tasks": [t.id for t in tasks], "seeds": [seeds.start, seeds.stop - 1],
                                               "episodes": len(tasks) * len(seeds), "started": time.time()}))
    results_path = out / "results.jsonl"
    previous = drop_infrastructure_errors(results_path)  # those episodes are played again
    done = {(r["task"], r["seed"]) for r in previous}
    todo = [Job(t, s) for t in tasks for s in seeds if (t.id, s) not in done]

    t0, new = time.perf_counter(), 0
    if todo:
        with open(results_path, "a") as sink, open_pool() as pool, _progress(len(todo), cfg.quiet) as bar:
            wins = 0
            for _, r in pool.run(todo):
                sink.write(json.dumps(r) + "\n")  # only this thread writes: a result is never written twice
                sink.flush()
                new += 1
                wins += r["success"]
                bar.set_postfix_str(f"{r['task']} success={wins / new:.0%}", refresh=False)
                bar.update()
    return finish_run(out, cfg, [t.id for t in tasks], seeds, new, time.perf_counter() - t0)


def finish_run(out: Path, cfg: BenchConfig, task_ids: list[str], seeds, new_episodes: int, seconds: float) -> dict:
    """Summarize every recorded episode of the asked (task, seed) pairs: summary.json and the chart."""
    wanted = {(t, s) for t in task_ids for s in seeds}
    records = [r for r in read_results(out / "results.jsonl") if (r["task"], r["seed"]) in wanted]
    summary = summarize(records, cfg, new_episodes=new_episodes, seconds=seconds)
    (out / "summary.json").write_text(summary_json(summary))
    plot_success(summary, out / "success.png")
    return summary


def summary_json(summary: dict) -> str:
    """``summary`` as JSON with one line for each task's row, so a 125-task summary stays about 150 lines."""
    head = json.dumps({k: v for k, v in summary.items() if k != "per_task"}, indent=1)
    rows = ",\n".join(f"  {json.dumps(task)}: {json.dumps(row)}" for task, row in summary.get("per_task", {}).items())
    return head[:-2] + ',\n "per_task": {\n' + rows + "\n }\n}\n"


def _progress(total: int, quiet: bool):
    from tqdm import tqdm

    return tqdm(total=total, disable=quiet, unit="ep", dynamic_ncols=True, desc="bench")


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
