#!/usr/bin/env bash
# The whole-reply pattern in-process (docs/experiments.md, 2026-12-07): the shipped model with and without
# --constrain-reply on validation seeds, one worker (it runs beside a training job). Resumable: rerun to go on.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/reply-pattern}; POLICY=${POLICY:-embedded}
export OMP_NUM_THREADS=1
B=".venv/bin/python -m apps.cli bench"
for arm in off on; do
    flag=$([ "$arm" = on ] && echo --constrain-reply || echo --no-constrain-reply)
    $B miniwob --policy "$POLICY" $flag --tasks all --seeds 1 --seed-offset 3000 --quiet --out "$OUT/$arm-all"
    $B miniwob --policy "$POLICY" $flag --task-dir envs/tasks/unseen --seeds 10 --seed-offset 3000 --quiet \
        --out "$OUT/$arm-unseen"
    $B miniwob --policy "$POLICY" $flag --task-dir envs/tasks/web/unseen --seeds 5 --seed-offset 3000 --quiet \
        --out "$OUT/$arm-web"
    $B desktop --policy "$POLICY" $flag --seeds 2 --seed-offset 3000 --quiet --out "$OUT/$arm-desktop"
done
