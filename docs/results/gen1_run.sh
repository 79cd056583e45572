#!/usr/bin/env bash
# General-model run 1 (docs/experiments.md, 2026-12-06): teacher data on all 125 MiniWoB++ tasks and the train half
# of the full-size web pages, then SFT of the shipped 1.28M checkpoint on it, tasks drawn uniformly. Seeds 0-99 are
# training seeds (60 a task; 100 for the first non-core tasks of an earlier start); nothing here reads seeds
# 1000-1019 (choosing) or 20000+ (report). Resumable: rerun the script and every stage continues.
# As run, the web-page data was recorded beside the MiniWoB data and the SFT took the episodes recorded by then.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/gen1}
export OMP_NUM_THREADS=1
PY=.venv/bin/python
NONCORE=$($PY -c "from envs.tasks import task_names, CORE; print(','.join(t for t in task_names('all') if t not in CORE))")
$PY -m apps.cli bench miniwob --policy model:teacher:student --tasks "$NONCORE" --seeds 60 --seed-offset 0 \
    --workers 2 --quiet --out "$OUT/distill-noncore"
$PY -m apps.cli bench miniwob --policy model:teacher:student --tasks core --seeds 30 --seed-offset 0 \
    --workers 2 --quiet --out "$OUT/distill-core"
$PY -m apps.cli bench miniwob --task-dir envs/tasks/web/train --tasks all --policy model:teacher:student \
    --seeds 60 --seed-offset 0 --workers 1 --quiet --out "$OUT/distill-web"
$PY -m train.sft --data "$OUT/distill-noncore" "$OUT/distill-core" "$OUT/distill-web" \
    --init models/embedded/checkpoint --out "$OUT/sft" --steps 1600 --minutes ${MINUTES:-60} --lr 7e-4 --warmup 50 \
    --synthetic 0.05 --threads 1 --eval-seeds 0 --balance tasks
