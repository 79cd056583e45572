#!/usr/bin/env bash
# General-model run 6 (docs/experiments.md, 2026-12-07): the shipped run-3 model trained on with run 3's MiniWoB data
# and desktop teacher episodes recorded with the desktop's new element list (text fields as textboxes, editors and
# terminals as boxes, envs/screen_elements.py), in the student's form. The old desktop episodes are left out: their
# element lists lack the fields and their actions point in raw pixels. Resumable: rerun and both steps go on.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/gen6}; GEN2=${GEN2:-runs/gen2}; MINUTES=${MINUTES:-45}
INIT=${INIT:-models/embedded/checkpoint}  # the shipped checkpoint (stage 13 since 2026-12-07)
MINIWOB=${MINIWOB:-"$GEN2/data-gen1 $GEN2/distill-visible"}  # run 3's MiniWoB data (as rerun: runs/rl28c/data)
DESKTOP_FROM=${DESKTOP_FROM:-100}  # the desktop episodes' first training seed (50 seeds a task)
EXTRA=${EXTRA:-}  # more trajectory folders for the SFT (run 7: run 6's desktop episodes)
export OMP_NUM_THREADS=1
PY=.venv/bin/python
$PY -m apps.cli bench desktop --policy model:teacher:student --tasks all --seeds 50 --seed-offset "$DESKTOP_FROM" \
    --quiet --out "$OUT/desktop-fields"
$PY -m train.sft --data $MINIWOB $EXTRA "$OUT/desktop-fields" --init "$INIT" \
    --out "$OUT/sft" --steps 100000 --minutes "$MINUTES" --clock-schedule --lr 3e-4 --warmup 50 --synthetic 0.05 \
    --threads 1 --eval-seeds 0 --balance tasks --save-every 250
