"""The learnability probe (train/probe.py) on real teacher episodes recorded in the student's prompt form."""

from __future__ import annotations

import json
import os

os.environ["HF_HUB_OFFLINE"] = "1"

import pytest
import torch
from safetensors.torch import load_file

from agent.bench import BenchConfig, run_bench
from train.probe import action_key, load_steps, main

CHECKPOINT = "models/embedded/checkpoint"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    out = tmp_path_factory.mktemp("distill")
    run_bench(BenchConfig(policy="model:teacher:student", tasks="click-button", seeds=6, out=str(out), quiet=True))
    return out


def test_action_key_compares_parsed_actions():
    a = "Thought: go.\nAction: click(element='OK')"
    assert action_key(a) == action_key("Thought: something else entirely.\nAction: click(element='OK')")
    assert action_key(a) != action_key("Thought: go.\nAction: click(element='Cancel')")
    assert action_key("no action here") is None


def test_steps_split_by_episode(recorded):
    train, held = load_steps([str(recorded)], "click-button", held_out=2)
    assert {s["dir"] for s in train}.isdisjoint({s["dir"] for s in held})
    assert len({s["dir"] for s in held}) == 2 and len({s["dir"] for s in train}) == 4
    with pytest.raises(SystemExit, match="need more than"):
        load_steps([str(recorded)], "click-button", held_out=6)


@pytest.mark.parametrize("mode", ["sft", "grpo"])
def test_probe_measures_agreement_and_trains(recorded, tmp_path, mode):
    before = load_file(f"{CHECKPOINT}/model.safetensors")
    result = main(["--init", CHECKPOINT, "--data", str(recorded), "--task", "click-button", "--mode", mode,
                   "--steps", "2", "--batch", "2", "--group", "4", "--held-out", "2", "--eval-every", "1",
                   "--out", str(tmp_path)])
    assert json.loads((tmp_path / "probe.json").read_text()) == result
    first = result["curve"][0]
    # click-button is a task the shipped model solves: it agrees with the teacher on held-out decisions
    assert first["held_out"] >= 0.5 and first["train"] >= 0.5
    assert [row["step"] for row in result["curve"]] == [0, 1, 2]
    if mode == "sft":
        assert all(row["loss"] > 0 for row in result["curve"][1:])
    else:
        assert all(0.0 <= row["sample_success"] <= 1.0 for row in result["curve"][1:])
    after = load_file(f"{CHECKPOINT}/model.safetensors")  # the probe trains a copy in memory: the file is untouched
    assert after.keys() == before.keys() and all(torch.equal(after[k], before[k]) for k in before)
