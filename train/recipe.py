"""The embedded model's training recipe, one command, resumable at every stage.

    python -m train.recipe --out runs/recipe            # then: --ship copies the result into models/embedded

1. **Synthetic pretraining** (train/synthetic.py): drawn screens that teach matching quoted words to
   elements, copying strings and positions, and working through lists. No browser; cheap.
2. **Distillation**: the teachers play every task they cover through the agent loop, answering in the
   student's form (``teacher:student``); successful episodes become SFT data (rejection sampling).
3. **Recovery data (DAgger)**: the stage-2 student plays, the teacher labels every state it reaches, and the
   student trains again on both sets.
4. **The general model**: the teachers of every MiniWoB task (the visible-state ones where they exist), of the
   train half of the full-size web pages and of the desktop tasks record their episodes in the student's form,
   and the stage-3 model trains on all of it, tasks drawn uniformly, the cosine over the minutes
   (models/embedded/README.md, stage 11). ``--hold-out`` keeps tasks out of every stage's data (the
   no-demonstration set of an RL run); ``--skip-general`` stops at stage 3, the core-only model.

Each stage writes ``DONE`` in its folder when finished; a rerun skips finished stages and resumes the one in
progress (the bench skips recorded episodes, SFT resumes from ``state.pt``). ``--skip-pretrain`` and
``--skip-dagger`` give the ablations. The shipped checkpoint's own lineage (which also had GRPO and two SFT runs for
stage 4) is in models/embedded/README.md.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from agent.bench import BenchConfig, run_bench
from agent.desktop_bench import run_desktop_bench
from agent.flags import Parser
from envs.tasks import WEB_TRAIN_PAGES, task_names
from train import dagger
from train.sft import Args, train

EMBEDDED = Path(__file__).parents[1] / "models" / "embedded" / "checkpoint"
EVAL_TASKS = "click-button,click-link,enter-text,click-checkboxes,login-user,click-tab-2,click-option,focus-text"
"""The SFT stages' quick held-out check during training (the real figure comes from the bench)."""


def stage(out: Path, name: str, fn) -> Path:
    folder = out / name
    if (folder / "DONE").exists():
        print(f"[recipe] {name}: done already", flush=True)
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    print(f"[recipe] {name}: starting", flush=True)
    fn(folder)
    (folder / "DONE").write_text(json.dumps({"seconds": round(time.time() - t0, 1)}))
    print(f"[recipe] {name}: finished in {time.time() - t0:.0f} s", flush=True)
    return folder


def kept(names: list[str], hold_out: str) -> list[str]:
    """``names`` less the comma-separated ``hold_out`` tasks, in order."""
    held = {t.strip() for t in hold_out.split(",") if t.strip()}
    return [t for t in names if t not in held]


def general_data(folder: Path, a) -> None:
    """Stage 4a: the teachers' episodes, in the student's form, of every task not held out."""
    miniwob = kept(task_names("teachers"), a.hold_out)
    web = kept([p.stem for p in sorted(WEB_TRAIN_PAGES.glob("*.html"))], a.hold_out)
    run_bench(BenchConfig(policy="model:teacher:visible", tasks=",".join(miniwob), seeds=a.general_seeds,
                          workers=a.workers, out=str(folder / "miniwob"), quiet=True))
    run_bench(BenchConfig(policy="model:teacher:student", task_dir=str(WEB_TRAIN_PAGES), tasks=",".join(web),
                          seeds=a.general_seeds, out=str(folder / "web"), quiet=True))
    run_desktop_bench(BenchConfig(policy="model:teacher:student", tasks="all", seeds=a.desktop_seeds,
                                  out=str(folder / "desktop"), quiet=True))


def main(argv=None) -> None:
    ap = Parser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="runs/recipe")
    ap.add_argument("--tasks", default="core", help="tasks the teachers play for the data (envs/tasks: core)")
    ap.add_argument("--data", nargs="+", default=[],
                    help="existing distillation trajectories to use instead of stage 2a (filtered to --tasks)")
    ap.add_argument("--init", default="", help="a checkpoint to start stage 2b from instead of stage 1's")
    ap.add_argument("--pretrain-steps", type=int, default=1500)
    ap.add_argument("--distill-seeds", type=int, default=300, help="teacher episodes per task (seeds 0..N-1)")
    ap.add_argument("--sft-steps", type=int, default=5500)
    ap.add_argument("--dagger-seeds", type=int, default=3, help="student episodes per task (seeds 20000..)")
    ap.add_argument("--dagger-steps", type=int, default=1500, help="further SFT steps on distill + DAgger data")
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--eval-every", type=int, default=0, help="SFT steps between held-out evaluations")
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--workers", type=int, default=3, help="parallel teacher episodes while collecting")
    ap.add_argument("--skip-pretrain", action="store_true")
    ap.add_argument("--skip-dagger", action="store_true")
    ap.add_argument("--skip-general", action="store_true", help="stop at stage 3: the core-only model")
    ap.add_argument("--general-seeds", type=int, default=60, help="teacher episodes per MiniWoB task and web page")
    ap.add_argument("--desktop-seeds", type=int, default=36, help="teacher episodes per desktop task")
    ap.add_argument("--general-minutes", type=float, default=120, help="stage 4b's SFT, minutes of training")
    ap.add_argument("--general-lr", type=float, default=6e-4)
    ap.add_argument("--hold-out", default="", help="tasks no stage records, comma-separated (an RL run's set)")
    ap.add_argument("--ship", action="store_true", help="copy the final checkpoint to models/embedded/checkpoint")
    a = ap.parse_args(argv)
    out = Path(a.out)
    size = dict(hidden=a.hidden, layers=a.layers, batch_size=a.batch_size, threads=a.threads)
    tasks = ",".join(kept(task_names(a.tasks), a.hold_out))  # stages 2 and 3 hold them out too
    sft_args = dict(data_tasks=tasks, balance="tasks", eval_tasks=EVAL_TASKS, eval_every=a.eval_every, **size)

    init = a.init
    if not a.skip_pretrain and not a.init:
        pre = stage(out, "1-pretrain", lambda d: train(Args(out=str(d), synthetic=1.0, steps=a.pretrain_steps,
                                                               eval_tasks="click-button,enter-text", **size)))
        init = str(pre / "checkpoint")

    if a.data:
        distill = [str(Path(d)) for d in a.data]
    else:
        distill = [str(stage(out, "2a-distill-data", lambda d: run_bench(BenchConfig(
            policy="model:teacher:student", tasks=tasks, seeds=a.distill_seeds, workers=a.workers,
            out=str(d)))))]
    sft = stage(out, "2b-sft", lambda d: train(Args(out=str(d), data=distill, init=init, synthetic=0.1,
                                                    steps=a.sft_steps, lr=a.lr, warmup=50, **sft_args)))
    final = sft
    if not a.skip_dagger:
        labels = stage(out, "3a-dagger-data", lambda d: dagger.collect(str(sft / "checkpoint"), str(d), tasks,
                                                                      a.dagger_seeds))
        final = stage(out, "3b-sft", lambda d: train(Args(out=str(d), data=[*distill, str(labels)],
                                                          init=str(sft / "checkpoint"), synthetic=0.1,
                                                          steps=a.dagger_steps, lr=a.lr / 2, warmup=20,
                                                          **sft_args)))
    if not a.skip_general:
        data = stage(out, "4a-general-data", lambda d: general_data(d, a))
        base = str(final / "checkpoint")
        final = stage(out, "4b-general-sft", lambda d: train(Args(
            out=str(d), data=[str(data)], init=base, synthetic=0.05, steps=10 ** 6, minutes=a.general_minutes,
            clock_schedule=True, lr=a.general_lr, warmup=50, balance="tasks", eval_tasks=EVAL_TASKS,
            eval_every=a.eval_every, **size)))
    print(f"[recipe] final checkpoint: {final / 'checkpoint'}", flush=True)
    if a.ship:
        shutil.copytree(final / "checkpoint", EMBEDDED, dirs_exist_ok=True)
        print(f"[recipe] shipped to {EMBEDDED}", flush=True)


if __name__ == "__main__":
    main()
