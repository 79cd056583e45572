#!/usr/bin/env bash
# General-model run 4 (docs/experiments.md, 2026-12-07): run 3's data less the held-out tasks (HELD, chosen on the
# core-only stage-10 checkpoint at validation seeds 3000-3009), SFT from stage 10 for 120 minutes. Resumable: rerun
# and the SFT goes on from state.pt, its cosine over the minutes it has already spent.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/run4}; GEN2=${GEN2:-runs/gen2}; GEN3=${GEN3:-runs/gen3}; STAGE10=${STAGE10:-runs/run4/stage10}
HELD=${HELD:?the held-out tasks, comma-separated}
export OMP_NUM_THREADS=1
PY=.venv/bin/python
if [ ! -d "$STAGE10" ]; then  # the core-only checkpoint, from git
    mkdir -p "$STAGE10"; cp models/embedded/checkpoint/* "$STAGE10/"
    git show 09f7d66:models/embedded/checkpoint/model.safetensors > "$STAGE10/model.safetensors"
fi
if [ ! -d "$OUT/data" ]; then  # hard links: no copy, and no held-out task's episode
    mkdir -p "$OUT/data/trajectories"
    for t in "$GEN2"/{data-gen1,distill-visible,distill-desktop}/trajectories/* "$GEN3"/distill-desktop2/trajectories/*; do
        case ",$HELD," in *",$(basename "$t"),"*) continue ;; esac
        cp -al "$t" "$OUT/data/trajectories/"
    done
fi
$PY -m train.sft --data "$OUT/data" --init "$STAGE10" --out "$OUT/sft" --steps 100000 --minutes 120 \
    --clock-schedule --lr 6e-4 --warmup 50 --synthetic 0.05 --threads 1 --eval-seeds 0 --balance tasks \
    --save-every 250
