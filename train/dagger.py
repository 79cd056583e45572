"""Recovery data (DAgger): the student drives, the teacher labels every state the student reaches.

The student's mistakes lead to states the teacher's own trajectories never visit (a box ticked twice, a
field half filled, a wrong tab open). Here the student acts, and for each prompt the teacher, reading the same
page, writes what it would do, in the student's form. The step is saved with that ``label``; SFT trains on
labels whether or not the student's episode succeeded, so a miss becomes something the model has seen.

    python -m train.dagger --student runs/sft/checkpoint --out runs/dagger --seeds 10 --seed-offset 20000
"""

from __future__ import annotations

from pathlib import Path

from agent.bench import BenchConfig, run_bench
from agent.flags import Parser
from agent.loop import Agent, Decision, ModelPolicy, config_for
from models.card import Card
from models.teacher import TeacherModel


class LabelledAgent(Agent):
    """Acts with the student; saves the teacher's answer for the same state as the step's ``label``."""

    def __init__(self, student, teacher, env, config, out_dir=None):
        super().__init__(student, env, config, out_dir=out_dir)
        self.teacher = teacher

    def decide(self, messages: list[dict]) -> Decision:
        decision = super().decide(messages)
        label = self.teacher.generate(messages)[0].text
        return Decision(decision.output, decision.response, decision.error, {"label": label})


class DaggerPolicy(ModelPolicy):
    def run_episode(self, env, task, seed: int) -> dict:
        out = Path(self.out_dir) / "trajectories" / task.id / str(seed)
        teacher = TeacherModel(env, student=True, labels=self.config.field_labels)  # labels as the student reads
        agent = LabelledAgent(self.model_for(env), teacher, env, self.config, out_dir=out)
        result = agent.run(seed=seed, task=task)
        return {"task": task.id, "seed": seed, "success": result.success, "reward": result.reward,
                "steps": result.steps, "seconds": result.seconds, "error": result.error, "status": result.status}


def collect(student: str, out: str, tasks: str = "teachers", seeds: int = 10, seed_offset: int = 20_000,
            workers: int = 1, quiet: bool = False) -> dict:
    cfg = BenchConfig(policy=f"dagger:{student}", tasks=tasks, seeds=seeds, seed_offset=seed_offset,
                      workers=workers, out=out, quiet=quiet)
    policy = DaggerPolicy(f"hf:{student}", out_dir=out, config=config_for(Card.of_directory(student) or Card()))
    return run_bench(cfg, policy=policy)


def main() -> None:
    ap = Parser(description=__doc__.split("\n")[0])
    ap.add_argument("--student", required=True, help="checkpoint directory")
    ap.add_argument("--out", required=True)
    ap.add_argument("--tasks", default="teachers")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--seed-offset", type=int, default=20_000)
    args = ap.parse_args()
    summary = collect(args.student, args.out, args.tasks, args.seeds, args.seed_offset)
    print(f"student success while collecting: {summary['mean_success']:.1%} over {summary['tasks']} tasks")


if __name__ == "__main__":
    main()
