"""The agent loop on real pages with a scripted model: errors the model sees, self-correction, budgets."""

from __future__ import annotations

from pathlib import Path

from agent.loop import NO_EFFECT, Agent, AgentConfig
from agent.trajectory import read_trajectory
from core.messages import text_of
from envs.tasks import miniwob_task, task_dir_tasks
from models.scripted import ScriptedModel
from models.teacher import TeacherModel

TASKS = Path(__file__).parent / "pages" / "tasks"


def last_user_text(messages) -> str:
    return text_of([m for m in messages if m["role"] == "user"][-1])


def stubborn(make_env):
    (task,) = [t for t in task_dir_tasks(TASKS) if t.id == "stubborn-button"]
    return make_env(task)


def test_parse_error_goes_back_to_the_model_and_the_run_recovers(make_env, tmp_path):
    env = make_env(miniwob_task("click-test"))
    model = ScriptedModel(["I will click the button.", "Thought: try again.\nAction: click(element='Click Me!')"])
    result = Agent(model, env, AgentConfig(element_refs=True), out_dir=tmp_path).run(seed=3)
    assert result.status == "done" and result.success and result.steps == 2
    assert "could not be parsed" in last_user_text(model.calls[1]) and "Action:" in last_user_text(model.calls[1])
    traj = read_trajectory(tmp_path)
    assert [bool(s["error"]) for s in traj.steps] == [True, False]
    assert traj.end["status"] == "done" and (tmp_path / "step_001.png").exists()


def test_format_errors_are_capped(make_env):
    env = make_env(miniwob_task("click-test"))
    result = Agent(ScriptedModel(["no idea"]), env, AgentConfig(max_format_errors=3)).run(seed=1)
    assert result.status == "format_errors" and result.steps == 3 and not result.success


def test_no_effect_is_noticed_and_the_model_recovers(make_env, tmp_path):
    env = stubborn(make_env)

    def model_fn(messages):
        if NO_EFFECT in last_user_text(messages):
            return "Reflection: clicking the label did nothing.\nThought: Press the real button.\nAction: click(element='Go')"
        return "Thought: The label says Go; click it.\nAction: click(element='Go (label)')"

    result = Agent(ScriptedModel(model_fn), env, AgentConfig(element_refs=True), out_dir=tmp_path).run(seed=0)
    assert result.status == "done" and result.success and result.steps == 2
    steps = read_trajectory(tmp_path).steps
    assert steps[1]["feedback"] == [NO_EFFECT] and steps[1]["reflection"] == "clicking the label did nothing."


def test_loop_detector_nudges_then_stops(make_env, tmp_path):
    env = stubborn(make_env)
    model = ScriptedModel(["Thought: click the label.\nAction: click(element='Go (label)')"])
    result = Agent(model, env, AgentConfig(element_refs=True), out_dir=tmp_path).run(seed=0)
    assert result.status == "loop" and result.steps == 5
    steps = read_trajectory(tmp_path).steps
    assert any("same action on the same screen 3 times" in cue for cue in steps[3]["feedback"])
    assert "same action" not in " ".join(steps[2]["feedback"])


def test_finished_and_call_user(make_env):
    env = stubborn(make_env)
    done = Agent(ScriptedModel(["Thought: nothing to do.\nAction: finished(content='all good')"]), env).run(seed=0)
    assert (done.status, done.answer, done.success) == ("finished", "all good", False)

    asking = ScriptedModel(["Thought: Which button?\nAction: call_user()"])
    headless = Agent(asking, env).run(seed=0)
    assert headless.status == "needs_user"

    answers = []

    def person(question):
        answers.append(question)
        return "the real Go button"

    model = ScriptedModel(["Thought: Which button?\nAction: call_user()",
                           "Thought: The person said the real button.\nAction: click(element='Go')"])
    helped = Agent(model, env, AgentConfig(element_refs=True), ask_user=person).run(seed=0)
    assert helped.status == "done" and answers == ["Which button?"]
    assert "The person answered: the real Go button" in last_user_text(model.calls[1])


def test_best_of_n_takes_the_majority(make_env):
    env = stubborn(make_env)
    outputs = iter(["Thought: a\nAction: click(element='Go (label)')", "Thought: b\nAction: click(element='Go')",
                    "Thought: c\nAction: click(element='Go')"])

    class Sampler(ScriptedModel):
        def generate(self, messages, n=1, temperature=0.0, max_tokens=256):
            assert n == 3 and temperature >= 0.7
            from core.model import Generation
            return [Generation(next(outputs)) for _ in range(n)]

    result = Agent(Sampler([""]), env, AgentConfig(best_of=3, element_refs=True)).run(seed=0)
    assert result.status == "done" and result.steps == 1


def test_step_and_time_budgets(make_env):
    env = stubborn(make_env)
    wait = ScriptedModel(["Thought: wait.\nAction: wait(seconds=0.05)"])
    env.max_steps = 2  # the env owns the step budget
    assert Agent(wait, env, AgentConfig(loop_stop=99)).run(seed=0).status == "step_budget"
    env.max_steps = 10
    slow = Agent(ScriptedModel(["Thought: wait.\nAction: wait(seconds=0.3)"]), env,
                 AgentConfig(max_seconds=0.5, loop_stop=99))
    assert slow.run(seed=0).status == "time_budget"


def test_teacher_model_through_the_loop(make_env, tmp_path):
    env = make_env(miniwob_task("enter-text"))
    result = Agent(TeacherModel(env), env, out_dir=tmp_path).run(seed=11)
    assert result.success and result.steps == 2
    traj = read_trajectory(tmp_path)
    assert traj.steps[0]["actions"][0].startswith("type(") and "Thought:" in traj.steps[0]["raw_output"]
    first_prompt = traj.steps[1]["prompt"]
    assert {"type": "image_file", "path": "step_001.png"} in first_prompt[-1]["content"]
