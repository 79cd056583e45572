"""Growing the embedded checkpoint (train/grow.py): wider and deeper, the same decisions before any training."""

import random
from types import SimpleNamespace

import pytest

from models import EMBEDDED_DIR
from models.hf import TransformersModel
from train import synthetic
from train.grow import grow, max_logit_gap
from train.sft import lr_at


@pytest.fixture(scope="module")
def grown(tmp_path_factory):
    out = tmp_path_factory.mktemp("grown") / "192x6"
    info = grow(EMBEDDED_DIR, out, hidden=192, layers=6)
    return out, info


def test_grown_checkpoint_is_larger_and_answers_as_the_shipped_one(grown):
    out, info = grown
    assert info["params"] > 2_000_000  # 1.28M grown to 192 wide, 6 deep
    shipped, bigger = TransformersModel(EMBEDDED_DIR), TransformersModel(out)
    rng = random.Random(3)
    for _ in range(4):
        ex = synthetic.example(rng)
        assert max_logit_gap(EMBEDDED_DIR, out, ex["messages"], ex["target"]) < 0.05
        assert bigger.generate(ex["messages"])[0].text == shipped.generate(ex["messages"])[0].text


def test_depth_alone_is_exact(tmp_path):
    grow(EMBEDDED_DIR, tmp_path / "deeper", hidden=128, layers=5)
    ex = synthetic.example(random.Random(0))
    assert max_logit_gap(EMBEDDED_DIR, tmp_path / "deeper", ex["messages"], ex["target"]) == 0.0


def test_growth_that_would_shrink_or_split_heads_is_refused(tmp_path):
    with pytest.raises(ValueError, match="cannot grow"):
        grow(EMBEDDED_DIR, tmp_path / "x", hidden=96, layers=4)
    with pytest.raises(ValueError, match="multiple of the head size"):
        grow(EMBEDDED_DIR, tmp_path / "x", hidden=144, layers=4)


def test_clock_schedule_anneals_over_the_minutes_not_the_steps():
    args = SimpleNamespace(lr=1e-3, warmup=10, steps=100_000, minutes=10.0, clock_schedule=True)
    assert lr_at(5, args) == pytest.approx(6e-4)  # warmup is in steps
    assert lr_at(50, args, spent=0.0) == pytest.approx(1e-3)
    assert lr_at(50, args, spent=600.0) == pytest.approx(1e-4)  # all minutes spent: the floor, though few steps ran
    args.clock_schedule = False
    assert lr_at(50, args, spent=600.0) > 9e-4  # by steps: barely begun
