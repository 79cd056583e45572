#!/usr/bin/env bash
# The benches of "GRPO where no teacher shows anything" (docs/experiments.md, 2026-12-07).
#   rl28_report.sh select   run 4's checkpoint on the held-out tasks x validation seeds 3000-3019 (chooses TASKS)
#   rl28_report.sh report   start, GRPO and control on TASKS x report seeds 20000-20019 (the second run:
#                           SEEDS=40 FROM=21000), then the 125-task figure (seeds 20000-20009) before and after,
#                           fixed before the run; ALL=0 skips the 125-task figure of the start (measured once);
#                           ALL_SEEDS and ALL_FROM move that figure's seeds (the fourth run: 5 from 25000)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/rl28}; BASE=${BASE:-runs/run4/sft/checkpoint}; STAGE=${1:-report}
export OMP_NUM_THREADS=1
B=".venv/bin/python -m apps.cli bench miniwob --workers 2 --quiet --max-steps 10"
if [ "$STAGE" = select ]; then
    $B --policy "hf:$BASE" --tasks "${HELD:?the held-out tasks}" --seeds "${SEL_SEEDS:-20}" --seed-offset 3000 \
        --out "$OUT/select"
    exit
fi
TASKS=${TASKS:?the no-demonstration tasks, comma-separated}
ckpt() { if [ "$1" = start ]; then echo "$BASE"; else echo "$OUT/$1/checkpoint"; fi; }
for arm in start grpo control; do
    $B --policy "hf:$(ckpt $arm)" --tasks "$TASKS" --seeds "${SEEDS:-20}" --seed-offset "${FROM:-20000}" \
        --out "$OUT/report-$arm"
done
for arm in $([ "${ALL:-1}" = 0 ] && echo grpo control || echo start grpo control); do
    $B --policy "hf:$(ckpt $arm)" --tasks all --seeds "${ALL_SEEDS:-10}" --seed-offset "${ALL_FROM:-20000}" \
        --out "$OUT/report-all-$arm"
done
