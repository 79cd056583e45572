#!/usr/bin/env bash
# General-model run 3 (docs/experiments.md, 2026-12-07): run 1's model (docs/results/gen1_run.sh) trained on with
# the size study's data (docs/results/gen2_run.sh) on one quiet thread, then with 30 desktop teacher episodes a
# task added. Training seeds only (0-99). Resumable: rerun and every stage continues.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/gen3}; GEN1=${GEN1:-runs/gen1}; GEN2=${GEN2:-runs/gen2}; MINUTES=${MINUTES:-85}
export OMP_NUM_THREADS=1
PY=.venv/bin/python
DATA=("$GEN2/data-gen1" "$GEN2/distill-visible" "$GEN2/distill-desktop")
sft() {  # the one SFT run; a rerun resumes it from state.pt with the data given
    $PY -m train.sft --data "$@" --init "$GEN1/sft/checkpoint" --out "$OUT/sft" --steps 100000 \
        --minutes "$MINUTES" --clock-schedule --lr 5e-4 --warmup 50 --synthetic 0.05 --threads 1 --eval-seeds 0 \
        --balance tasks --save-every 250
}
# Stage 1 and the desktop teachers side by side; once the desktop data is in, stage 1 is stopped (as run, just after
# its save at step 1,000; stopped elsewhere, it goes back to its last save, every 250 steps).
sft "${DATA[@]}" > "$OUT/sft-stage1.log" 2>&1 &
$PY -m apps.cli bench desktop --policy model:teacher:student --tasks all --seeds 30 --seed-offset 6 --quiet \
    --out "$OUT/distill-desktop2"
kill %1 2>/dev/null || true; wait || true
# Stage 2: the same run resumed, the new desktop episodes added, to the end of its minutes.
sft "${DATA[@]}" "$OUT/distill-desktop2" > "$OUT/sft-stage2.log" 2>&1
