#!/usr/bin/env bash
# Run 3's choosing and report benches (docs/experiments.md, 2026-12-07). CKPT: the checkpoint judged; OUT: where the
# benches go. Validation seeds 3000-3001 choose; report seeds 20000-20009, fixed before the run, are what is stated.
set -euo pipefail
cd "$(dirname "$0")/../.."
CKPT=${CKPT:-runs/gen3/sft/checkpoint}; OUT=${OUT:-runs/gen3}; STAGE=${1:-report}
OFFSET=${OFFSET:-20000}; W=${W:-2}  # a run's fresh report seeds (run 11: OFFSET=28000); W: parallel episodes
export OMP_NUM_THREADS=1
B=".venv/bin/python -m apps.cli bench"
if [ "$STAGE" = validate ]; then
    $B miniwob --policy embedded --tasks all --seeds 2 --seed-offset 3000 --workers 2 --quiet --out "$OUT/val-shipped"
    $B miniwob --policy "hf:$CKPT" --tasks all --seeds 2 --seed-offset 3000 --workers 2 --quiet --out "$OUT/val-final"
    exit
fi
R="--seeds 10 --seed-offset $OFFSET --quiet"
$B miniwob --policy "hf:$CKPT" --tasks all $R --workers "$W" --out "$OUT/report-all"
$B miniwob --policy "hf:$CKPT" --task-dir envs/tasks/unseen $R --workers "$W" --out "$OUT/report-unseen"
$B miniwob --policy "hf:$CKPT" --task-dir envs/tasks/web/unseen $R --workers 1 --out "$OUT/report-web-unseen"
$B desktop --policy "hf:$CKPT" $R --out "$OUT/report-desktop"
.venv/bin/python benchmarks/model_speed.py --model "$CKPT" --sizes '' --seeds 1 --repeats 1 --out "$OUT/speed.json"
