"""The agent loop over real HTTP: the teacher served by ModelServer, reached by OpenAICompatModel."""

from __future__ import annotations

from agent.loop import Agent, AgentConfig
from agent.trajectory import read_trajectory
from envs.tasks import miniwob_task
from models.openai_compat import OpenAICompatModel
from models.scripted import ScriptedModel
from models.serve import ModelServer
from models.teacher import TeacherModel

TASKS = ["click-button", "enter-text", "login-user", "click-checkboxes", "click-tab-2"]
SEEDS = [2001, 2002]


def test_teacher_over_http_matches_calling_it_directly(make_env):
    env = make_env()
    teacher = TeacherModel(env)
    direct, served = [], []
    with ModelServer(teacher, quiet=True) as server:
        client = OpenAICompatModel(server.url, coord_space="pixels", timeout=30)
        for name in TASKS:
            for seed in SEEDS:
                task = miniwob_task(name)
                direct.append(Agent(teacher, env).run(seed=seed, task=task))
                served.append(Agent(client, env).run(seed=seed, task=task))
    assert [r.success for r in served] == [r.success for r in direct]
    assert [r.steps for r in served] == [r.steps for r in direct]
    assert sum(r.success for r in served) == len(TASKS) * len(SEEDS)


def test_server_killed_mid_run_fails_clearly_and_keeps_the_trajectory(make_env, tmp_path):
    env = make_env(miniwob_task("click-checkboxes"))
    model = ScriptedModel(["Thought: look again.\nAction: wait(seconds=0.01)"])
    server = ModelServer(model, quiet=True).start()
    client = OpenAICompatModel(server.url, coord_space="pixels", max_retries=2, backoff=0.05, timeout=5)

    def kill_after_two_steps(kind, data):
        if kind == "step" and data["index"] == 1:
            server.stop()

    agent = Agent(client, env, AgentConfig(loop_stop=99), out_dir=tmp_path, on_event=kill_after_two_steps)
    result = agent.run(seed=4)
    assert result.status == "error" and "unreachable after 3 attempts" in result.error
    traj = read_trajectory(tmp_path)
    assert len(traj.steps) == 2 and traj.end["status"] == "error" and "unreachable" in traj.end["error"]
    assert (tmp_path / "step_001.png").exists()
