#!/usr/bin/env bash
# General-model run 5 (docs/experiments.md, 2026-12-07): the shipped model trained on with run 3's data plus the
# widget pages' teachers (envs/tasks/widgets: 20 pages x training seeds 0-149, in the student's form). Resumable:
# rerun and the recording and the SFT both go on.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/gen5}; GEN2=${GEN2:-runs/gen2}; GEN3=${GEN3:-runs/gen3}; MINUTES=${MINUTES:-90}
INIT=${INIT:-models/embedded/checkpoint}  # the shipped checkpoint (stage 12 since 2026-12-07)
DATA=${DATA:-"$GEN2/data-gen1 $GEN2/distill-visible $GEN2/distill-desktop $GEN3/distill-desktop2"}  # run 3's data
export OMP_NUM_THREADS=1
PY=.venv/bin/python
$PY -m apps.cli bench miniwob --policy model:teacher:student --task-dir envs/tasks/widgets --tasks all --seeds 150 \
    --seed-offset 0 --workers 1 --quiet --out "$OUT/widgets-student"
$PY -m train.sft --data $DATA "$OUT/widgets-student" --init "$INIT" --out "$OUT/sft" --steps 100000 \
    --minutes "$MINUTES" --clock-schedule --lr 3e-4 --warmup 50 --synthetic 0.05 --threads 1 --eval-seeds 0 \
    --balance tasks --save-every 250
