"""The embedded model's training recipe, one command, resumable at every stage.

    python -m train.recipe --out runs/recipe            # then: --ship copies the result into models/embedded

1. **Synthetic pretraining** (train/synthetic.py): drawn screens that teach matching quoted words to
   elements, copying strings and positions, and working through lists. No browser; cheap.
2. **Distillation**: the teachers play every task they cover through the agent loop, answering in the
   student's form (``teacher:student``); successful episodes become SFT data (rejection sampling).
3. **Recovery data (DAgger)**: the stage-2 student plays, the teacher labels every state it reaches, and the
   student trains again on both sets.

Each stage writes ``DONE`` in its folder when finished; a rerun skips finished stages and resumes the one in
progress (the bench skips recorded episodes, SFT resumes from ``state.pt``). ``--skip-pretrain`` and
``--skip-dagger`` give the ablations.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from agent.bench import BenchConfig, run_bench
from agent.flags import Parser
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
    ap.add_argument("--ship", action="store_true", help="copy the final checkpoint to models/embedded/checkpoint")
    a = ap.parse_args(argv)
    out = Path(a.out)
    size = dict(hidden=a.hidden, layers=a.layers, batch_size=a.batch_size, threads=a.threads)
    sft_args = dict(data_tasks=a.tasks, balance="tasks", eval_tasks=EVAL_TASKS, eval_every=a.eval_every, **size)

    init = a.init
    if not a.skip_pretrain and not a.init:
        pre = stage(out, "1-pretrain", lambda d: train(Args(out=str(d), synthetic=1.0, steps=a.pretrain_steps,
                                                               eval_tasks="click-button,enter-text", **size)))
        init = str(pre / "checkpoint")

    if a.data:
        distill = [str(Path(d)) for d in a.data]
    else:
        distill = [str(stage(out, "2a-distill-data", lambda d: run_bench(BenchConfig(
            policy="model:teacher:student", tasks=a.tasks, seeds=a.distill_seeds, workers=a.workers,
            out=str(d)))))]
    sft = stage(out, "2b-sft", lambda d: train(Args(out=str(d), data=distill, init=init, synthetic=0.1,
                                                    steps=a.sft_steps, lr=a.lr, warmup=50, **sft_args)))
    final = sft
    if not a.skip_dagger:
        labels = stage(out, "3a-dagger-data", lambda d: dagger.collect(str(sft / "checkpoint"), str(d), a.tasks,
                                                                      a.dagger_seeds))
        final = stage(out, "3b-sft", lambda d: train(Args(out=str(d), data=[*distill, str(labels)],
                                                          init=str(sft / "checkpoint"), synthetic=0.1,
                                                          steps=a.dagger_steps, lr=a.lr / 2, warmup=20,
                                                          **sft_args)))
    print(f"[recipe] final checkpoint: {final / 'checkpoint'}", flush=True)
    if a.ship:
        shutil.copytree(final / "checkpoint", EMBEDDED, dirs_exist_ok=True)
        print(f"[recipe] shipped to {EMBEDDED}", flush=True)


if __name__ == "__main__":
    main()
