"""GRPO (train/grpo.py): the pure pieces by hand, then real runs on real MiniWoB pages with a tiny random VLM.

A random model never succeeds and never writes a parseable reply, so every group would be flat and skipped; the
runs switch on the test-only shaping reward (the share of printable characters in the replies) to get a signal.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"

import pytest
import torch

from train.budget import budget_left_after
from train.grpo import Args, episode_reward, group_advantages, grpo_loss, informative
from train.rollout import Episode, Step, iteration_prompts

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
METRIC_KEYS = {"iteration", "reward", "success", "kl", "clip_frac", "ratio", "loss", "tokens_per_s",
               "episodes_per_s", "groups", "groups_used", "steps_trained", "rollout_s", "update_s"}


# -- pure pieces -----------------------------------------------------------------------------------------------

def test_group_advantages_known_values():
    # mean 1/3, population std sqrt(2)/3: the one success gets +sqrt(2), the failures -1/sqrt(2)
    adv = group_advantages([0.0, 0.0, 1.0], eps=0.0)
    assert adv == pytest.approx([-1 / math.sqrt(2), -1 / math.sqrt(2), math.sqrt(2)])
    adv = group_advantages([1.0, 0.0, 0.0, 1.0])  # std 0.5, eps 1e-4
    assert adv == pytest.approx([0.5 / 0.5001, -0.5 / 0.5001, -0.5 / 0.5001, 0.5 / 0.5001])
    assert sum(group_advantages([0.2, 1.1, 0.0, 0.7])) == pytest.approx(0.0, abs=1e-9)


def test_group_advantages_without_std_scaling_is_dr_grpo():
    assert group_advantages([1.0, 0.0, 0.0, 1.0], scale_std=False) == pytest.approx([0.5, -0.5, -0.5, 0.5])
    assert group_advantages([1.1, 0.1], scale_std=False) == pytest.approx([0.5, -0.5])


def test_equal_rewards_give_zero_advantage_and_the_group_is_skipped():
    for scale in (True, False):
        assert group_advantages([0.3, 0.3, 0.3], scale_std=scale) == [0.0, 0.0, 0.0]
    assert not informative([0.3, 0.3, 0.3])
    assert not informative([1.0])
    assert informative([0.0, 0.1])


def unit_logprobs_of(policy, step: Step):
    """train.packing.unit_logprobs of a one-row unit: one step's logprobs [1, C] and mask [1, C]."""
    from train.packing import Unit, unit_logprobs

    return unit_logprobs(policy, Unit(step.messages, [step], [0.0], [1]))


def by_hand_inputs():
    """Two rows of ratios against old logprobs 0, advantages +1 and -2; row 0's last token is masked (old NaN)."""
    ratio = torch.tensor([[1.5, 0.9, 1.0], [0.5, 1.1, 1.3]])
    logp = torch.log(ratio).requires_grad_()
    old = torch.tensor([[0.0, 0.0, math.nan], [0.0, 0.0, 0.0]])
    mask = torch.tensor([[True, True, False], [True, True, True]])
    adv = torch.tensor([1.0, -2.0])
    return logp, old, adv, mask


def test_grpo_loss_clipping_on_both_sides_and_token_level_mean():
    logp, old, adv, mask = by_hand_inputs()
    loss, stats = grpo_loss(logp, old, None, adv, mask, eps_low=0.2, eps_high=0.28, beta=0.0)
    # row 0, A=+1: ratio 1.5 is clipped to 1.28 (clip-higher), 0.9 is not -> -1.28, -0.9
    # row 1, A=-2: ratio 0.5 is clipped up to 0.8 (min picks the clipped -1.6), 1.1 -> -2.2,
    #              1.3 above 1.28 is NOT clipped for a negative advantage (min picks the unclipped -2.6)
    per_token = [-1.28, -0.9, 1.6, 2.2, 2.6]
    assert loss.item() == pytest.approx(sum(per_token) / 5, abs=1e-6)  # over tokens, not a mean of row means
    assert loss.item() != pytest.approx(((-1.28 - 0.9) / 2 + (1.6 + 2.2 + 2.6) / 3) / 2, abs=1e-3)
    assert stats["clip_frac"] == pytest.approx(2 / 5)
    assert stats["ratio"] == pytest.approx((1.5 + 0.9 + 0.5 + 1.1 + 1.3) / 5)
    assert stats["kl"] == 0.0 and stats["tokens"] == 5
    loss.backward()
    grad = logp.grad
    assert torch.isfinite(grad).all(), "the masked NaN must not reach the gradient"
    # d loss / d logp = -A * ratio / n where the unclipped term is taken, 0 where the clipped one is
    expected = torch.tensor([[0.0, -0.9 / 5, 0.0], [0.0, 2 * 1.1 / 5, 2 * 1.3 / 5]])
    assert torch.allclose(grad, expected, atol=1e-6)


def test_grpo_loss_k3_kl_term():
    logp, old, adv, mask = by_hand_inputs()
    delta = torch.zeros(2, 3)
    delta[0, 0], delta[1, 2] = math.log(2.0), -math.log(2.0)   # ref - logp
    ref = logp.detach() + delta
    ref[0, 2] = math.nan                                       # masked: ignored
    base, _ = grpo_loss(logp, old, None, adv, mask, 0.2, 0.28, beta=0.0)
    loss, stats = grpo_loss(logp, old, ref, adv, mask, 0.2, 0.28, beta=0.1)
    # k3 = exp(d) - d - 1: d = ln 2 -> 1 - ln 2; d = -ln 2 -> ln 2 - 1/2
    kl_sum = (1 - math.log(2)) + (math.log(2) - 0.5)
    assert stats["kl"] == pytest.approx(kl_sum / 5, abs=1e-6)
    assert loss.item() == pytest.approx(base.item() + 0.1 * kl_sum / 5, abs=1e-6)
    loss.backward()
    assert torch.isfinite(logp.grad).all()
    # beta 0 with a reference: KL is reported, not trained on
    _, stats0 = grpo_loss(logp, old, ref, adv, mask, 0.2, 0.28, beta=0.0)
    assert stats0["kl"] == pytest.approx(kl_sum / 5, abs=1e-6)


def test_wall_clock_budget_counts_logged_iterations_and_evaluations_are_free():
    logged = [{"iteration": 0, "eval_success": 0.5},  # the evaluation before training costs nothing
              {"iteration": 1, "rollout_s": 50.0, "update_s": 20.0}]
    assert budget_left_after(logged, 0.0, Args(minutes=0))              # no budget: never stops
    assert budget_left_after(logged, 0.0, Args(minutes=2))              # 70 s of 120
    assert not budget_left_after(logged, 60.0, Args(minutes=2))         # 130 s of 120
    assert not budget_left_after(logged + logged[1:], 0.0, Args(minutes=2))  # a resumed run counts what it spent


def test_an_iteration_starts_only_if_one_as_long_as_the_last_fits():
    from train.budget import next_iteration_fits

    assert next_iteration_fits([{"iteration": 0, "eval_success": 0.5}], Args(minutes=1))  # nothing timed yet
    one = {"iteration": 1, "rollout_s": 20.0, "update_s": 10.0, "distill_s": 5.0}  # 35 s
    assert next_iteration_fits([one], Args(minutes=71 / 60))       # 35 + 35 < 71
    assert not next_iteration_fits([one], Args(minutes=69 / 60))   # a second one would end at 70 s, past 69


def test_the_budget_keeps_time_for_the_consolidation_steps():
    """With ``distill_last``, the RL stops early enough for those steps, timed at the pace logged so far."""
    from train.budget import last_stage_seconds, next_iteration_fits

    first = {"iteration": 0, "distill_first": 100, "distill_s": 50.0}        # 0.5 s a step
    one = {"iteration": 1, "rollout_s": 20.0, "update_s": 10.0, "distill_s": 5.0, "distill_loss": 1.0}
    args = Args(minutes=3, distill_steps=10, distill_last=60)
    assert last_stage_seconds([first, one], args) == pytest.approx(60 * 55.0 / 110)  # 30 s
    assert last_stage_seconds([first, one], Args(minutes=3)) == 0.0
    assert last_stage_seconds([first, one, {"iteration": 1, "distill_last": 60, "distill_s": 30.0}], args) == 0.0
    # 85 s spent + 35 s for another iteration: 120 s; + 30 s of consolidation: 150 s
    assert next_iteration_fits([first, one], Args(minutes=151 / 60, distill_steps=10, distill_last=60))
    assert not next_iteration_fits([first, one], Args(minutes=149 / 60, distill_steps=10, distill_last=60))
    assert next_iteration_fits([first, one], Args(minutes=149 / 60, distill_steps=10))


def test_validation_keeps_the_best_checkpoint(tmp_path):
    from train.evaluate import keep_if_best

    ckpt, best = tmp_path / "checkpoint", tmp_path / "best"
    ckpt.mkdir()
    metrics = []
    for iteration, val, kept in [(0, 0.3, True), (10, 0.2, False), (20, 0.3, False), (30, 0.5, True), (40, 0.1, False)]:
        (ckpt / "weights").write_text(str(iteration))
        record = {"iteration": iteration, "val_success": val}
        assert keep_if_best(metrics, record, ckpt, best) is kept
        metrics.append(record)
    assert (best / "weights").read_text() == "30"
    assert json.loads((best / "iteration.json").read_text()) == {"iteration": 30, "val_success": 0.5}


def test_learning_rate_warmup_is_linear_then_flat():
    from train.grpo import warmup_lr

    assert [warmup_lr(Args(lr=1e-3, warmup=4), n) for n in (1, 2, 4, 5, 100)] == pytest.approx(
        [2.5e-4, 5e-4, 1e-3, 1e-3, 1e-3])
    assert warmup_lr(Args(lr=1e-3, warmup=0), 1) == 1e-3


def test_flags_come_in_groups_and_parse_to_the_defaults():
    """Each field of Args is one flag of exactly one --help group, and no flag given means Args()'s defaults."""
    import dataclasses

    from train.grpo import GROUPS, parse_args

    own = [name for group in GROUPS.values() for name in group.__dict__["__annotations__"]]
    assert sorted(own) == sorted(f.name for f in dataclasses.fields(Args)) and len(own) == len(set(own)) == 61
    assert parse_args([]) == Args()
    assert parse_args(["--ray"]).ray == "local" and parse_args(["--no-scale-std"]).scale_std is False


def test_metrics_line_says_when_kl_was_not_measured():
    from train.grpo import metrics_line

    m = {"iteration": 3, "reward": 0.5, "success": 0.25, "kl": None, "clip_frac": 0.01, "groups_used": 4,
         "groups": 5, "tokens_per_s": 500.0, "episodes_per_s": 2.0, "rollout_s": 10.0, "update_s": 5.0}
    assert "kl - clip 0.010" in metrics_line(m)  # beta 0 loads no reference: no KL figure, rather than a false 0
    assert "kl 0.0123 clip" in metrics_line({**m, "kl": 0.0123})


def test_episode_reward_and_prompts():
    steps = [Step([], [1], [0.0], "ab", True), Step([], [2], [0.0], "\x00\x01", False)]
    ep = Episode(0, "click-button", 3, success=True, raw_reward=0.8, steps=steps)
    assert episode_reward(ep, format_reward=0.1) == pytest.approx(1.05)
    assert episode_reward(ep, format_reward=0.0, shaping_printable=1.0) == pytest.approx(1.5)
    assert episode_reward(Episode(0, "t", 0), 0.1) == 0.0

    from train.grpo import Args

    args = Args(seeds_per_iter=3, seed_offset=10)
    first, second = iteration_prompts(["a", "b"], args, 0), iteration_prompts(["a", "b"], args, 1)
    assert first == [("a", 10), ("b", 11), ("a", 12)] and second == [("b", 13), ("a", 14), ("b", 15)]
    fit = Args(seeds_per_iter=3, seed_offset=10, repeat_seeds=True)  # the fit test replays the first iteration
    assert iteration_prompts(["a", "b"], fit, 0) == iteration_prompts(["a", "b"], fit, 5) == first


# -- real runs -------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    from models.tiny import build_tiny_qwen25vl

    path = tmp_path_factory.mktemp("grpo_tiny")
    build_tiny_qwen25vl(path, hidden=64, layers=2, heads=4, kv_heads=2)
    # the compact prompt (one message, element list): short prompts keep the character-level model fast
    (path / "screenwise.json").write_text(json.dumps({"coord_space": "pixels", "prompt": "compact",
                                                      "element_refs": True}))
    return path


def run_args(init: Path, out: Path, *extra: str) -> list[str]:
    return ["--init", str(init), "--out", str(out), "--tasks", "click-button,click-link", "--seeds-per-iter", "2",
            "--group", "2", "--max-steps", "2", "--max-tokens", "16", "--shaping-printable", "1.0",
            "--lr", "1e-3", "--quiet", *extra]


def weights(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(path / "model.safetensors")


def test_two_iterations_on_real_pages_change_the_weights(tiny, tmp_path):
    out = tmp_path / "grpo"
    cmd = [sys.executable, "-m", "train.grpo",
           *run_args(tiny, out, "--iters", "2", "--beta", "0.04", "--ppo-epochs", "2", "--minibatch", "2",
                     "--warmup", "100", "--workers", "2", "--save-rollouts", "--val-seeds", "1", "--val-every", "1",
                     "--eval-seeds", "1")]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "iter 2: reward" in done.stdout + done.stderr

    before, after = weights(tiny), weights(out / "checkpoint")
    assert set(before) == set(after)
    assert any(not torch.equal(before[k], after[k]) for k in before), "no parameter changed"
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["iteration"] for m in metrics] == [0, 1, 2]
    assert all("val_success" in m for m in metrics) and "eval_success" in metrics[0] and "eval_success" in metrics[2]
    chosen = json.loads((out / "best" / "iteration.json").read_text())
    assert chosen["val_success"] == max(m["val_success"] for m in metrics)
    if chosen["iteration"] != 2:  # the held-out seeds also measure the checkpoint validation chose
        assert metrics[2]["best_iteration"] == chosen["iteration"] and "best_eval_success" in metrics[2]
    metrics = metrics[1:]
    # the warmup ramp runs on across iterations: the second starts where the first stopped
    assert 0 < metrics[0]["lr"] < metrics[1]["lr"] <= 1e-3
    assert metrics[1]["lr"] == pytest.approx(1e-3 * (metrics[0]["updates"] + metrics[1]["updates"]) / 100)
    for m in metrics:
        assert METRIC_KEYS <= set(m)
        assert m["groups_used"] >= 1 and m["steps_trained"] > 0 and m["errors"] == 0
        assert m["kl"] > 0, "the policy did not move away from the reference"
    assert (out / "curve.png").stat().st_size > 1000
    assert (out / "checkpoint" / "screenwise.json").exists()
    assert list((out / "rollouts" / "iter00000").rglob("episode.jsonl"))
    state = torch.load(out / "state.pt", weights_only=False)
    assert state["iteration"] == 2



def test_a_rerun_resumes_from_state(tmp_path, capsys):
    """A finished run is left alone; metrics lines past state.pt (a kill mid-iteration) are dropped."""
    from train.grpo import main

    out = tmp_path / "grpo"
    (out / "checkpoint").mkdir(parents=True)
    (out / "checkpoint" / "config.json").write_text("{}")
    torch.save({"iteration": 2}, out / "state.pt")
    (out / "metrics.jsonl").write_text("".join(json.dumps({"iteration": i}) + "\n" for i in (1, 2, 3)))
    assert main(["--out", str(out), "--iters", "2", "--quiet"]) == out / "checkpoint"
    assert "nothing to do" in capsys.readouterr().out
    assert [json.loads(line)["iteration"] for line in (out / "metrics.jsonl").read_text().splitlines()] == [1, 2]


def test_ray_actors_roll_out_and_lora_trains_adapters(tiny, tmp_path):
    """One iteration with env workers as local Ray actors, held-out evaluation before and after, and, with peft
    installed, LoRA adapters."""
    pytest.importorskip("ray")
    lora = importlib.util.find_spec("peft") is not None
    from train.grpo import main

    out = tmp_path / "grpo_ray"
    extra = ["--iters", "1", "--ray", "--workers", "1", "--beta", "0.04", "--eval-seeds", "1", "--eval-tasks",
             "click-button"] + (["--lora", "--lora-rank", "4"] if lora else [])
    checkpoint = main(run_args(tiny, out, *extra))

    before_eval, metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert before_eval["iteration"] == 0 and "eval_success" in before_eval
    assert metrics["errors"] == 0 and metrics["steps_trained"] > 0 and "eval_success" in metrics
    summary = json.loads((out / "eval" / "iter00001" / "summary.json").read_text())
    assert summary["seeds"] == [100_000, 100_000] and summary["policy"] == f"hf:{checkpoint}"
    before, after = weights(tiny), weights(checkpoint)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed
    if not lora:
        return
    # LoRA touches only the language model's attention projections; the checkpoint holds the merged weights
    assert all(k.split(".")[-2] in ("q_proj", "k_proj", "v_proj", "o_proj") for k in changed), changed
    assert (checkpoint / "adapter" / "adapter_config.json").exists()
    from peft import PeftModel

    from models.hf import TransformersModel
    from core.messages import image_part, text_part
    from PIL import Image

    merged = TransformersModel(checkpoint)
    base = TransformersModel(tiny)
    base.model = PeftModel.from_pretrained(base.model, checkpoint / "adapter")
    base.fast = None
    messages = [{"role": "user", "content": [image_part(Image.new("RGB", (160, 210), "white")), text_part("Task: x")]}]
    a, b = merged.score(messages, ["click(element=1)"])[0], base.score(messages, ["click(element=1)"])[0]
    assert a == pytest.approx(b, abs=1e-4)


def test_below_temperature_one_the_trained_policy_is_the_tempered_one():
    """At T < 1 the old logprobs are recomputed at T: the greedy reply gets likelier (tempering keeps the argmax and
    sharpens it), every sampled token stays possible, and at T = 1 the recomputation is the sampler's own."""
    from models import EMBEDDED_DIR
    from models.hf import TransformersModel
    from train.packing import pack_samples, tempered_old_logprobs

    if not (EMBEDDED_DIR / "config.json").exists():
        pytest.skip("no embedded checkpoint")
    model = TransformersModel(EMBEDDED_DIR, coord_space="pixels")
    messages = [{"role": "user", "content": [{"type": "text", "text": (
        "Task: Click on the \"ok\" button.\nPrevious actions:\nnone\nElements:\n[0] button 'ok'\n[1] button 'no'")}]}]
    [greedy] = model.generate(messages, temperature=0.0, max_tokens=40)
    torch.manual_seed(0)
    [sampled] = model.generate(messages, temperature=0.5, max_tokens=40)
    steps = [Step(messages, list(g.token_ids), list(g.logprobs), g.text, True) for g in (greedy, sampled)]
    raw = [list(s.logprobs) for s in steps]
    tempered_old_logprobs(pack_samples([(s, 1.0) for s in steps]), model, 0.5)
    g_raw, g_hot = torch.tensor(raw[0]), torch.tensor(steps[0].logprobs)
    assert (g_hot >= g_raw - 1e-5).all() and (g_hot > g_raw + 1e-3).any()
    assert all(math.isfinite(x) for x in steps[1].logprobs)
    with torch.no_grad():
        at_one = unit_logprobs_of(model, Step(messages, list(sampled.token_ids), [], "", True))[0][0]
    assert torch.allclose(at_one, torch.tensor(raw[1]), atol=1e-4)


# -- packed updates --------------------------------------------------------------------------------------------

def test_a_weighted_row_is_exactly_its_identical_samples_in_the_loss():
    """Rows of weight c with the mean advantage of c same-sign samples give the loss, gradient and stats of the c
    rows written out: the clipped objective is linear in A for a fixed sign."""
    logp0, old, _, mask = by_hand_inputs()
    # written out: row 0 twice (advantages +1 and +3), row 1 three times (-2, -1, -3)
    logp_full = logp0.detach()[[0, 0, 1, 1, 1]].clone().requires_grad_()
    full, full_stats = grpo_loss(logp_full, old[[0, 0, 1, 1, 1]], None, torch.tensor([1.0, 3.0, -2.0, -1.0, -3.0]),
                                 mask[[0, 0, 1, 1, 1]], 0.2, 0.28)
    full.backward()
    logp_packed = logp0.detach().clone().requires_grad_()
    packed, packed_stats = grpo_loss(logp_packed, old, None, torch.tensor([2.0, -2.0]), mask, 0.2, 0.28,
                                     row_weight=torch.tensor([2.0, 3.0]))
    packed.backward()
    assert packed.item() == pytest.approx(full.item())
    assert packed_stats == pytest.approx(full_stats)
    g = logp_full.grad  # a weighted row's gradient is the sum of its written-out rows' gradients
    assert torch.allclose(logp_packed.grad, torch.stack([g[0] + g[1], g[2] + g[3] + g[4]]), atol=1e-6)


def test_pack_samples_groups_by_prompt_then_by_reply_and_sign():
    from train.packing import pack_samples

    a = [{"role": "user", "content": [{"type": "text", "text": "a"}]}]
    b = [{"role": "user", "content": [{"type": "text", "text": "b"}]}]
    s = lambda m, ids: Step(m, ids, [0.0] * len(ids), "", True)  # noqa: E731
    units = pack_samples([(s(a, [1, 2]), 0.5), (s(a, [1, 2]), 1.5), (s(a, [1, 2]), -1.0), (s(a, [3]), 0.5),
                          (s(b, [1, 2]), -0.5)])
    assert len(units) == 2
    ua, ub = units
    assert [st.token_ids for st in ua.steps] == [[1, 2], [1, 2], [3]]
    assert ua.adv == pytest.approx([1.0, -1.0, 0.5]) and ua.count == [2, 1, 1] and ua.samples == 4
    assert ub.count == [1] and ub.adv == [-0.5]


def test_weighted_samples_pack_into_weighted_rows():
    from train.packing import pack_samples

    a = [{"role": "user", "content": [{"type": "text", "text": "a"}]}]
    s = lambda ids: Step(a, ids, [0.0] * len(ids), "", True)  # noqa: E731
    (unit,) = pack_samples([(s([1]), 1.0, 0.5), (s([1]), 0.4, 0.25), (s([2]), -1.0, 0.1)])
    assert unit.count == [2, 1] and unit.weight == pytest.approx([0.75, 0.1])
    assert unit.adv == pytest.approx([(1.0 * 0.5 + 0.4 * 0.25) / 0.75, -1.0])  # the weighted mean
    assert pack_samples([(s([1]), 1.0)])[0].weight == [1.0]  # unweighted samples weigh 1


def test_episode_loss_agg_weighs_every_episode_alike():
    """With loss_agg='episode' a one-click episode weighs as much as a ten-step one; by hand on grpo_loss: row 0
    (2 tokens of a 2-token episode, A=+1) and row 1 (3 of a 12-token episode's tokens, A=-1), ratios 1."""
    from train.grpo import sample_weight

    m = [{"role": "user", "content": [{"type": "text", "text": "x"}]}]
    short = Episode(0, "t", 0, steps=[Step(m, [1, 2], [0.0, 0.0], "", True)])
    long = Episode(1, "t", 0, steps=[Step(m, [1, 2, 3], [0.0] * 3, "", True) for _ in range(4)])
    assert sample_weight(short, Args(loss_agg="token")) == sample_weight(long, Args(loss_agg="token")) == 1.0
    w = [sample_weight(short, Args(loss_agg="episode")), sample_weight(long, Args(loss_agg="episode"))]
    assert w == pytest.approx([1 / 2, 1 / 12])
    logp = torch.zeros(2, 3, requires_grad=True)
    mask = torch.tensor([[True, True, False], [True, True, True]])
    loss, stats = grpo_loss(logp, torch.zeros(2, 3), None, torch.tensor([1.0, -1.0]), mask,
                            row_weight=torch.tensor(w))
    # per token -A: row 0 gives -1 twice at weight 1/2, row 1 +1 three times at weight 1/12 (fractions below 1 in
    # all are not clamped)
    assert loss.item() == pytest.approx((-1 * 2 / 2 + 1 * 3 / 12) / (2 / 2 + 3 / 12))
    assert stats["tokens"] == pytest.approx(1.25)
    with pytest.raises(ValueError, match="loss_agg"):
        sample_weight(short, Args(loss_agg="seq"))


def test_signal_task_weights_spend_prompts_where_groups_can_differ():
    from train.rollout import spread, task_signal

    assert spread([1.0, 1.0], 5) in ([3, 2], [2, 3]) and sum(spread([0.3, 0.9, 0.15], 12)) == 12
    assert spread([0.15, 0.875, 1.0], 12) == [2, 5, 5]  # 1 each, then 9 by weight: 0.67, 3.89, 4.44 -> 0, 3, 4
    #                                                    and the 2 left to the largest remainders (b, a)
    assert spread([5.0, 1.0, 1.0], 2) == [2, 0, 0]       # fewer prompts than tasks: by weight alone
    args = Args(group=4, signal_window=2, signal_floor=0.15, task_weights="signal", seeds_per_iter=12,
                seed_offset=100)
    metrics = [{"iteration": 0}, {"per_task_success": {"a": 1.0, "b": 0.5}},
               {"per_task_success": {"a": 0.0, "b": 0.5}}, {"per_task_success": {"a": 0.0, "b": 0.5}}]
    # a: p = 0 over the last 2 iterations (the 1.0 before is out of the window) -> the floor; b: p = 0.5 ->
    # 1 - 2 / 16; c: never played -> 1
    assert task_signal(metrics, ["a", "b", "c"], args) == pytest.approx([0.15, 0.875, 1.0])
    prompts = iteration_prompts(["a", "b", "c"], args, 2, metrics)
    assert [[t for t, _ in prompts].count(x) for x in "abc"] == [2, 5, 5]
    assert [t for t, _ in prompts][:7] == ["a", "b", "c", "a", "b", "c", "b"]  # the tasks still take turns
    assert [seed for _, seed in prompts] == list(range(124, 136))  # seeds as with uniform prompts: all new
    assert [t for t, _ in iteration_prompts(["a", "b", "c"], args, 2, [])] == ["a", "b", "c"] * 4
    with pytest.raises(ValueError, match="task_weights"):
        iteration_prompts(["a"], Args(task_weights="greedy"), 0)


def test_a_packed_update_moves_the_weights_as_the_samples_one_by_one_do():
    """The embedded model: one update on packed units equals one update on the same samples unpacked (each its own
    unit), and a unit's batched logprobs equal each row's own."""
    import copy

    from models import EMBEDDED_DIR
    from models.hf import TransformersModel
    from train.grpo import update
    from train.packing import Unit, pack_samples, unit_logprobs

    if not (EMBEDDED_DIR / "config.json").exists():
        pytest.skip("no embedded checkpoint")
    model = TransformersModel(EMBEDDED_DIR, coord_space="pixels")
    messages = [{"role": "user", "content": [{"type": "text", "text": (
        "Task: Click on the \"ok\" button.\nPrevious actions:\nnone\nElements:\n[0] button 'ok'\n[1] button 'no'")}]}]
    torch.manual_seed(1)
    gens = model.generate(messages, n=6, temperature=1.5, max_tokens=40)
    samples = [(Step(messages, list(g.token_ids), list(g.logprobs), g.text, True), adv)
               for g, adv in zip(gens + gens[:2], [1.0, -0.5, 0.5, -1.0, 0.25, -0.25, 0.75, -0.75])]
    units = pack_samples(samples)
    assert len(units) == 1 and units[0].samples == 8
    with torch.no_grad():
        batched, mask = unit_logprobs(model, units[0])
        for r, step in enumerate(units[0].steps):
            alone, alone_mask = unit_logprobs_of(model, step)
            n = int(alone_mask.sum())
            assert torch.allclose(batched[r, :n], alone[0, :n], atol=1e-4)

    args = Args(lr=1e-3, minibatch=0, eps_high=0.28)
    after = []
    for packing in (units, [Unit(s.messages, [s], [a], [1]) for s, a in samples]):
        policy = copy.deepcopy(model)
        params = [p for p in policy.model.parameters() if p.requires_grad]
        opt = torch.optim.SGD(params, lr=1e-2)
        policy.model.train()
        update(policy, params, opt, packing, args, __import__("random").Random(0))
        after.append(torch.cat([p.detach().flatten() for p in params]))
    start = torch.cat([p.detach().flatten() for p in model.model.parameters() if p.requires_grad])
    assert (after[0] - start).abs().max() > 1e-6
    assert torch.allclose(after[0], after[1], atol=1e-6)


def test_interleaved_distillation_moves_the_weights_when_every_group_is_flat(tiny, tmp_path):
    """A random model's groups are all flat (no shaping reward), so GRPO has nothing to learn from; the
    distillation steps on recorded teacher episodes still train it, log their loss and time, count in the budget
    and save their optimizer with the run's state."""
    from agent.bench import BenchConfig, run_bench

    data = tmp_path / "teacher"
    run_bench(BenchConfig(policy="model:teacher:student", tasks="click-button", seeds=2, out=str(data), quiet=True))
    kept = tmp_path / "retain"
    run_bench(BenchConfig(policy="model:teacher:student", tasks="click-link", seeds=2, out=str(kept), quiet=True))
    out = tmp_path / "grpo"
    cmd = [sys.executable, "-m", "train.grpo", "--init", str(tiny), "--out", str(out), "--tasks",
           "click-button", "--seeds-per-iter", "1", "--group", "2", "--max-steps", "1", "--max-tokens", "8",
           "--iters", "2", "--workers", "2", "--quiet", "--distill-data", str(data), "--distill-steps", "3",
           "--distill-batch", "2", "--distill-lr", "1e-3", "--update-threads", "1", "--distill-first", "4",
           "--retain-data", str(kept), "--retain-frac", "0.5", "--mark-matches"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "distillation: 2 teacher steps of 1 tasks, 3 steps of 2 an iteration, 1 of each from 2 steps of 1 " \
        "retention tasks" in done.stdout
    assert json.loads((out / "checkpoint" / "screenwise.json").read_text())["mark_matches"]
    assert "distilled 4 steps first" in done.stdout
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    first, metrics = metrics[0], metrics[1:]
    assert first["iteration"] == 0 and first["distill_first"] == 4 and first["distill_s"] > 0
    assert [m["groups_used"] for m in metrics] == [0, 0] and [m["updates"] for m in metrics] == [0, 0]
    assert all(m["distill_s"] > 0 and math.isfinite(m["distill_loss"]) for m in metrics)
    assert metrics[1]["distill_loss"] < metrics[0]["distill_loss"], "the same two teacher steps, fitted"
    before, after = weights(tiny), weights(out / "checkpoint")
    assert any(not torch.equal(before[k], after[k]) for k in before), "distillation changed no parameter"
    assert torch.load(out / "state.pt", weights_only=False)["distill_opt"]["state"], "no optimizer state saved"
    # resuming for one more iteration does not distil "first" again
    more = subprocess.run([*cmd[:cmd.index("--iters") + 1], "3", *cmd[cmd.index("--iters") + 2:]], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert more.returncode == 0, more.stderr[-3000:]
    assert "resuming at iteration 2" in more.stdout and "distilled 4 steps first" not in more.stdout
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["iteration"] for m in metrics] == [0, 1, 2, 3] and sum("distill_first" in m for m in metrics) == 1
    # the third stage: consolidation over the trained and the retention tasks, the RL weights kept in rl/
    rl_weights = weights(out / "checkpoint")
    last = subprocess.run([*more.args, "--distill-last", "5"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert last.returncode == 0, last.stderr[-3000:]
    assert "consolidated 5 steps over 2 tasks" in last.stdout
    assert all(torch.equal(rl_weights[k], v) for k, v in weights(out / "rl").items())
    assert any(not torch.equal(rl_weights[k], v) for k, v in weights(out / "checkpoint").items())
    record = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()][-1]
    assert record["distill_last"] == 5 and record["iteration"] == 3 and math.isfinite(record["distill_loss"])
    again = subprocess.run(last.args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stderr[-3000:]
    args = Args(minutes=1)
    assert not budget_left_after([{"rollout_s": 1, "update_s": 1, "distill_s": 58.5}], 0.0, args)


def test_distillation_batches_mix_in_the_retention_tasks(tiny, tmp_path):
    """``retain_frac`` of every distillation batch is drawn from the retention data, the rest from the trained
    tasks' teachers; each part draws its tasks uniformly."""
    from agent.bench import BenchConfig, run_bench
    from models.hf import TransformersModel
    from train.distill import Distiller

    for task, name in (("click-button", "teach"), ("click-link,click-dialog", "keep")):
        run_bench(BenchConfig(policy="model:teacher:student", tasks=task, seeds=2, out=str(tmp_path / name),
                              quiet=True))
    policy = TransformersModel(tiny, coord_space="pixels")
    params = [p for p in policy.model.parameters() if p.requires_grad]
    args = Args(distill_data=str(tmp_path / "teach"), distill_batch=8, retain_data=str(tmp_path / "keep"),
                retain_frac=0.25)
    distiller = Distiller(args, policy, params, ["click-button"], None)
    assert distiller.n_retain == 2 and set(distiller.retain_by_task) == {"click-link", "click-dialog"}
    rng = __import__("random").Random(0)
    batches = [[e["task"] for e in distiller.batch(rng)] for _ in range(20)]
    assert all(b[:6] == ["click-button"] * 6 and set(b[6:]) <= {"click-link", "click-dialog"} for b in batches)
    assert {t for b in batches for t in b[6:]} == {"click-link", "click-dialog"}
    everything = [[e["task"] for e in distiller.batch(rng, everything=True)] for _ in range(30)]
    drawn = [t for b in everything for t in b]
    assert all(len(b) == 8 for b in everything)
    assert all(drawn.count(t) > len(drawn) / 6 for t in ("click-button", "click-link", "click-dialog")), \
        "consolidation draws every task alike, not 6 of 8 from the trained one"
    assert Distiller(Args(distill_data=str(tmp_path / "teach")), policy, params, ["click-button"], None).n_retain == 0
    with pytest.raises(SystemExit, match="--retain-data"):
        Distiller(Args(distill_data=str(tmp_path / "teach"), retain_data=str(tmp_path / "keep"),
                       retain_tasks="click-color"), policy, params, ["click-button"], None)
    # Trained tasks with no demonstrations: no --distill-data, and every batch is retention data.
    alone = Distiller(Args(retain_data=str(tmp_path / "keep"), distill_batch=8), policy, params, ["click-pie"], None)
    assert alone.n_retain == 8 and not alone.examples
    assert all(len(b) == 8 and {e["task"] for e in b} <= {"click-link", "click-dialog"}
               for b in (alone.batch(rng) for _ in range(10)))
    with pytest.raises(SystemExit, match="--distill-data, --retain-data"):
        Distiller(Args(distill_steps=4), policy, params, ["click-pie"], None)
