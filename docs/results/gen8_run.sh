#!/usr/bin/env bash
# General-model run 8 (docs/experiments.md, 2026-12-07): run 7's data (run 3's MiniWoB and web teachers recorded
# again, and both desktop recordings) with SFT's length limit raised from 1,024 to 2,048 tokens, so that the later
# steps of the full-size web pages and of long MiniWoB lists are trained at last. From stage 13, MINUTES long
# (30 for run 8, 60 for run 9).
# Needs the data of docs/results/rl28c_data.sh and gen6_run.sh (runs 6 and 7). Resumable: rerun and it goes on.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/gen8}; MINUTES=${MINUTES:-30}; MAX_TOKENS=${MAX_TOKENS:-2048}
SYNTHETIC=${SYNTHETIC:-0.05}; SKILLS=${SKILLS:-}  # run 10: 0.2 of each batch drawn from web_form
INIT=${INIT:-models/embedded/checkpoint}  # stage 13
DATA=${DATA:-"runs/rl28c/data runs/gen6/desktop-fields runs/gen7/desktop-fields"}
export OMP_NUM_THREADS=1
.venv/bin/python -m train.sft --data $DATA --init "$INIT" --max-tokens "$MAX_TOKENS" \
    --out "$OUT/sft" --steps 100000 --minutes "$MINUTES" --clock-schedule --lr 3e-4 --warmup 50 \
    --synthetic "$SYNTHETIC" --synthetic-skills "$SKILLS" --threads 1 --eval-seeds 0 --balance tasks --save-every 250
