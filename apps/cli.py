"""The ``screenwise`` command line. Each subcommand is a thin layer over a Python API."""

from __future__ import annotations

import argparse
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from agent.bench import BenchConfig, format_table, make_policy, run_bench
from agent.desktop_bench import run_desktop_bench
from agent.flags import Parser
from agent.loop import Agent, config_for
from apps.chat import add_chat_args, confirm, print_event
from apps.chat import main as chat_main
from apps.options import add_card_args, add_safety_args, card_overrides, port, viewport
from apps.viewer import write_viewer
from core.env import UnknownTask
from core.model import ModelError
from envs.browser import Browser, BrowserEnv
from envs.safety import SafetyPolicy, SecretsError, load_secrets
from envs.tasks import miniwob_task, task_names
from envs.tasks.desktop import DESKTOP_TASKS
from envs.tasks.web import WebTask
from models import SPEC_HELP, BackendUnavailable, CardError, SpecError, resolve
from models.serve import serve_forever, serving


def cmd_bench(args: argparse.Namespace) -> int:
    if args.task_dir and args.suite == "desktop":
        raise UsageError("--task-dir holds browser pages: use it with the miniwob suite")
    if args.task_dir and not Path(args.task_dir).is_dir():
        raise UsageError(f"--task-dir {args.task_dir}: no such directory")
    if args.seeds < 1:
        raise UsageError("--seeds must be at least 1")
    out = args.out or ("runs/bench-desktop" if args.suite == "desktop" else "runs/bench")
    card = card_overrides(args)
    cfg = BenchConfig(
        policy=args.policy, tasks=args.tasks, seeds=args.seeds, seed_offset=args.seed_offset,
        workers=args.workers, max_steps=args.max_steps, out=out, task_dir=args.task_dir,
        ray_address=args.ray, quiet=args.quiet, extra={"card": card} if card else {},
    )
    if args.suite == "desktop":
        summary = run_desktop_bench(cfg)  # one display: --workers and --ray do not apply
    else:
        policy = make_policy(cfg)
        if hasattr(policy, "check"):  # a model: a bad spec or card stops here, before any episode
            policy.check()
        summary = run_bench(cfg, policy)
    if not summary["tasks"]:  # a selection that left nothing to run must not pass for a clean run
        where = f" in {args.task_dir}" if args.task_dir else ""
        print(f"screenwise bench: no task to run: the selection{where} holds none that policy {args.policy} can "
              "play (a model needs tasks with a teacher)", file=sys.stderr)
        return 1
    print(format_table(summary))
    print(f"results: {cfg.out}/results.jsonl  summary: {cfg.out}/summary.json  chart: {cfg.out}/success.png")
    if summary["errors"]:  # the table shows them; the exit code lets a script notice
        lost = summary["infrastructure_errors"]
        print(f"screenwise bench: {summary['errors']} of {summary['episodes']} episodes ended in an error"
              + (f", {lost} of them infrastructure (rerun the same command to play those again)" if lost else "")
              + f"; see {cfg.out}/results.jsonl", file=sys.stderr)
        return 1
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    if bool(args.url) == bool(args.task):
        raise UsageError("give exactly one of --url URL or --task MINIWOB_TASK")
    task = WebTask(args.url, args.instruction) if args.url else miniwob_task(args.task)
    args.out = args.out or time.strftime("runs/run-%Y%m%d-%H%M%S")
    browser = Browser(headless=not args.headed)
    policy = SafetyPolicy(args.allow_domains, load_secrets(args.secrets),
                          confirm=confirm if sys.stdin.isatty() else None)  # no terminal: risky actions are denied
    env = BrowserEnv(task, browser=browser, max_steps=args.max_steps, safety=policy,
                     downloads_dir=f"{args.out}/downloads", viewport=args.viewport)
    try:
        model, card = resolve(args.model, env=env, **card_overrides(args))
        cfg = config_for(card)  # the prompt the model's card asks for
        agent = Agent(model, env, cfg, out_dir=args.out, on_event=print_event, ask_user=ask_in_terminal)
        result = agent.run(args.instruction or None, seed=args.seed)
    finally:
        env.close()
        browser.close()
    print(f"viewer: {write_viewer(args.out)}")
    if result.error:
        print(f"error: {result.error}", file=sys.stderr)
    return 0 if result.status in ("done", "finished") else 1


def ask_in_terminal(question: str) -> str | None:
    if not sys.stdin.isatty():
        return None
    print(f"The agent asks for help: {question}")
    return input("your answer (empty to stop): ").strip() or None


def cmd_chat(args: argparse.Namespace) -> int:
    return chat_main(args)


def cmd_ui(args: argparse.Namespace) -> int:
    from apps.ui.app import main  # starlette and uvicorn: the optional [ui] extra, which app.py asks for

    return main(args)


def cmd_view(args: argparse.Namespace) -> int:
    if not Path(args.run_dir).is_dir():
        raise UsageError(f"{args.run_dir}: no such run directory")
    print(write_viewer(args.run_dir))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    if args.replicas < 1:
        raise UsageError("--replicas must be at least 1")
    replicas = [serving(resolve(args.model, **card_overrides(args))[0]) for _ in range(args.replicas)]
    serve_forever(replicas, args.host, args.port, args.quiet, structured_outputs=not args.no_structured_outputs)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Hand the rest of the command line to the training script (each has its own --help)."""
    from train import dagger, grpo, recipe, sft  # torch and the training stack: seconds that only this command pays

    module = {"sft": sft, "grpo": grpo, "recipe": recipe, "dagger": dagger}[args.stage]
    sys.argv = [f"screenwise train {args.stage}", *args.rest]
    if args.stage == "sft":
        module.train(module.parse_args(args.rest))
    elif args.stage == "grpo":
        module.main(args.rest)
    else:
        module.main()
    return 0


def cmd_tasks(args: argparse.Namespace) -> int:
    if args.suite == "desktop":
        names = list(DESKTOP_TASKS)
    else:
        names = task_names(args.suite)
    for name in names:
        print(name)
    return 0


class UsageError(ValueError):
    """Bad command-line input found after parsing: one line on stderr, exit code 2."""


def package_version() -> str:
    try:
        return version("screenwise")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    ap = Parser(prog="screenwise", description="An open GUI agent framework.")
    ap.add_argument("--version", action="version", version=f"screenwise {package_version()}")
    sub = ap.add_subparsers(dest="command", required=True)

    bench = sub.add_parser("bench", help="run a benchmark suite")
    bench.add_argument("suite", choices=["miniwob", "desktop"],
                       help="miniwob (browser) | desktop (Tk apps and xterm on a private Xvfb)")
    bench.add_argument("--policy", default="teacher", help="teacher | random | a model spec")
    bench.add_argument("--tasks", default=None,
                       help="all | webgum56 | teachers | core | a,b,c (default teachers); with --task-dir: all or "
                            "page names (default all); desktop: all | a,b,c (default all)")
    bench.add_argument("--task-dir", default=None, help="run the MiniWoB-style pages of this directory")
    bench.add_argument("--seeds", type=int, default=5, help="episodes per task")
    bench.add_argument("--seed-offset", type=int, default=0, help="first seed")
    bench.add_argument("--workers", type=int, default=1, help="parallel episodes")
    bench.add_argument("--max-steps", type=int, default=10, help="turns per episode")
    bench.add_argument("--out", default=None,
                       help="output directory (default runs/bench or runs/bench-desktop); rerun to resume")
    bench.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                       help="run episodes on Ray actors: a local Ray, or the cluster at ADDRESS")
    bench.add_argument("--quiet", action="store_true", help="no progress bar")
    add_card_args(bench)
    bench.set_defaults(func=cmd_bench)

    run = sub.add_parser("run", help="do one task with a model, streaming thoughts and actions")
    run.add_argument("instruction", nargs="?", default="", help="what to do (MiniWoB tasks bring their own)")
    run.add_argument("--url", help="start page")
    run.add_argument("--task", help="a MiniWoB task id instead of a URL")
    run.add_argument("--seed", type=int, default=0, help="episode seed (MiniWoB)")
    run.add_argument("--model", default="embedded", help=f"a model spec: {SPEC_HELP}")
    run.add_argument("--max-steps", type=int, default=15)
    add_card_args(run)
    run.add_argument("--viewport", type=viewport, default="500x320", help="browser viewport WxH")
    run.add_argument("--headed", action="store_true", help="show the browser window")
    run.add_argument("--out", default=None, help="trajectory directory (default runs/run-TIMESTAMP)")
    add_safety_args(run)
    run.set_defaults(func=cmd_run)

    chat = sub.add_parser("chat", help="the interactive assistant: type instructions, watch, pause, take over")
    add_chat_args(chat)
    chat.set_defaults(func=cmd_chat)

    ui = sub.add_parser("ui", help="the web UI: the assistant live in a browser tab, and the runs under a folder")
    ui.add_argument("--host", default="127.0.0.1",
                    help="address to listen on (0.0.0.0: every interface; the token is still required)")
    ui.add_argument("--port", type=port, default=8765, help="port (0: any free one)")
    ui.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                    help="another Host name to answer to (repeatable; '*' for any): a name that reaches this machine")
    ui.add_argument("--runs", default="runs", help="the folder of run directories the runs page lists")
    ui.add_argument("--model", default="embedded", help="the model picker's default (the same specs as chat)")
    ui.add_argument("--env", choices=["browser", "desktop", "miniwob"], default="browser",
                    help="the env picker's default: a browser page, a desktop on a private Xvfb, or a MiniWoB task")
    ui.add_argument("--url", default="", help="browser: the default start page")
    ui.add_argument("--task", default="click-test", help="miniwob: the default task id")
    ui.add_argument("--viewport", type=viewport, default="1024x768", help="browser: viewport WxH")
    ui.add_argument("--max-steps", type=int, default=30, help="turns per instruction")
    ui.add_argument("--max-seconds", type=float, default=1800.0, help="wall-clock budget per instruction")
    add_card_args(ui)
    ui.add_argument("--no-ocr", action="store_true", help="desktop: no OCR element list")
    add_safety_args(ui)
    ui.set_defaults(func=cmd_ui)

    view = sub.add_parser("view", help="write the HTML viewer for a run directory")
    view.add_argument("run_dir")
    view.set_defaults(func=cmd_view)

    serve = sub.add_parser("serve", help="serve a local model as an OpenAI-compatible endpoint")
    serve.add_argument("--model", default="embedded", help=f"a model spec: {SPEC_HELP}")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=port, default=8000, help="port")
    serve.add_argument("--replicas", type=int, default=1,
                       help="copies of the model answering at once (on a CPU, one torch thread each)")
    serve.add_argument("--no-structured-outputs", action="store_true",
                       help="ignore the requests' structured_outputs patterns (decode freely)")
    serve.add_argument("--quiet", action="store_true", help="no per-request log lines")
    add_card_args(serve)
    serve.set_defaults(func=cmd_serve)

    train = sub.add_parser("train", help="train models: sft | grpo | recipe | dagger (see each one's --help)")
    train.add_argument("stage", choices=["sft", "grpo", "recipe", "dagger"])
    train.add_argument("rest", nargs=argparse.REMAINDER, help="arguments for the training script")
    train.set_defaults(func=cmd_train)

    tasks = sub.add_parser("tasks", help="list tasks of a suite")
    tasks.add_argument("suite", nargs="?", default="all", help="all | webgum56 | teachers | desktop")
    tasks.set_defaults(func=cmd_tasks)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (SpecError, CardError, UsageError, UnknownTask, SecretsError) as e:
        # the command line named something wrong: say what, once
        print(f"screenwise {args.command}: {e}", file=sys.stderr)
        return 2
    except (BackendUnavailable, ModelError) as e:  # the input is right, but what it needs is not there
        print(f"screenwise {args.command}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
