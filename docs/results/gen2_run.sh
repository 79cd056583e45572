#!/usr/bin/env bash
# General-model run 2, the size study (docs/experiments.md, 2026-12-06). Data: run 1's teacher data
# (docs/results/gen1_run.sh) less the 9 tasks that have visible-state teachers, which are recorded again with
# them; plus the desktop teachers. Each size starts from the shipped checkpoint grown without changing its
# decisions (train/grow.py); all sizes train side by side for the same minutes on the same data, the cosine over
# the minutes (--clock-schedule). Training seeds only (0-99). Resumable: rerun and every stage continues.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/gen2}; GEN1=${GEN1:-runs/gen1}; MINUTES=${MINUTES:-50}
export OMP_NUM_THREADS=1
PY=.venv/bin/python
VIS=click-collapsible-2,click-collapsible-2-nodelay,click-tab-2,click-tab-2-easy,click-tab-2-medium,click-tab-2-hard,navigate-tree,hot-cold,stock-market
$PY -m apps.cli bench miniwob --policy model:teacher:visible --tasks $VIS --seeds 60 --seed-offset 0 --workers 2 \
    --quiet --out "$OUT/distill-visible"
$PY -m apps.cli bench desktop --policy model:teacher:student --tasks all --seeds 6 --seed-offset 0 --quiet \
    --out "$OUT/distill-desktop"
if [ ! -d "$OUT/data-gen1" ]; then  # run 1's episodes, hard-linked, without the tasks recorded again above
    mkdir -p "$OUT/data-gen1/trajectories"
    for t in "$GEN1"/distill-{noncore,core,web}/trajectories/*; do
        case ",$VIS," in *",$(basename "$t"),"*) continue ;; esac
        cp -al "$t" "$OUT/data-gen1/trajectories/"
    done
fi
for size in 128x4 192x6 384x8; do
    hidden=${size%x*}; layers=${size#*x}
    [ -d "$OUT/grown-$size" ] || $PY -m train.grow --init models/embedded/checkpoint --out "$OUT/grown-$size" \
        --hidden "$hidden" --layers "$layers"
    $PY -m train.sft --data "$OUT/data-gen1" "$OUT/distill-visible" "$OUT/distill-desktop" \
        --init "$OUT/grown-$size" --out "$OUT/sft-$size" --steps 100000 --minutes "$MINUTES" --clock-schedule \
        --lr 7e-4 --warmup 50 --synthetic 0.05 --threads 1 --eval-seeds 0 --balance tasks \
        > "$OUT/sft-$size.log" 2>&1 &
done
wait
