#!/usr/bin/env bash
# General-model run 11 (docs/experiments.md, 2026-12-07): fields named by their labels in the element list
# (core/elements.py field_labels, the card's "field_labels"). Every recording is made again with the labelled list
# (the teachers' student form has it): run 10's MiniWoB and web data (docs/results/rl28c_data.sh: seeds 0-19) and
# both desktop recordings (seeds 100-199); then SFT from stage 13 with the card's field_labels turned on, a fifth of
# each batch drawn from web_form. Resumable: rerun and each step goes on where it stopped.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/gen11}; MINUTES=${MINUTES:-50}; INIT=${INIT:-models/embedded/checkpoint}  # stage 13
export OMP_NUM_THREADS=1
PY=.venv/bin/python
desktop() {  # 12 tasks x 50 training seeds from $1
    $PY -m apps.cli bench desktop --policy model:teacher:student --tasks all --seeds 50 --seed-offset "$1" --quiet \
        --out "$OUT/desktop-$1"
}
if [ "${1:-}" = record ]; then  # the three recordings side by side on two cores
    OUT="$OUT" docs/results/rl28c_data.sh & desktop 100 & desktop 150 & wait
    exit
fi
$PY -m train.sft --data "$OUT/data" "$OUT/desktop-100" "$OUT/desktop-150" --init "$INIT" --field-labels \
    --out "$OUT/sft" --steps 100000 --minutes "$MINUTES" --clock-schedule --lr 3e-4 --warmup 50 --synthetic 0.2 \
    --synthetic-skills web_form --threads 1 --eval-seeds 0 --balance tasks --save-every 250
