#!/usr/bin/env bash
# RL on tasks with no demonstrations, and its same-compute control (docs/experiments.md, 2026-12-07, "GRPO where
# no teacher shows anything"). Both arms start from run 4's checkpoint, which never saw the held-out tasks, and run
# side by side on the machine's two cores for the same wall-clock minutes:
#   grpo:    GRPO on TASKS only (rewarded by task success), with retention SFT steps on run 4's data (no episode
#            of TASKS is in it) after every update;
#   control: SFT on run 4's data alone, same learning rate, batch and task-uniform draw, for the same minutes.
# Resumable: rerun and each arm goes on from its state.pt. Each arm's CPU time goes to OUT/<arm>.cpu.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/rl28}; BASE=${BASE:-runs/run4/sft/checkpoint}; DATA=${DATA:-runs/run4/data}; MINUTES=${MINUTES:-55}
RETAIN=${RETAIN:-12}  # retention SFT steps after each GRPO update (the second run: 24)
TASKS=${TASKS:?the no-demonstration tasks, comma-separated}
export OMP_NUM_THREADS=1 TIMEFORMAT='%U user %S sys %R real (seconds)'
PY=.venv/bin/python
mkdir -p "$OUT"
( time $PY -m train.grpo --init "$BASE" --tasks "$TASKS" --out "$OUT/grpo" \
    --seeds-per-iter 16 --group 8 --max-steps 10 --lr 3e-4 --warmup 3 --ppo-epochs 2 --minibatch 0 --no-scale-std \
    --eps-high 0.28 --loss-agg episode --task-weights signal --workers 16 --minutes "$MINUTES" --iters 1000 \
    --seed-offset 900000 --retain-data "$DATA" --distill-steps "$RETAIN" --distill-batch 8 --distill-lr 3e-4 \
    --eval-seeds 0 --val-seeds 0 --threads 1 --quiet > "$OUT/grpo.log" 2>&1 ) 2>> "$OUT/grpo.cpu" &
( time $PY -m train.sft --data "$DATA" --init "$BASE" --out "$OUT/control" --steps 100000 --minutes "$MINUTES" \
    --clock-schedule --lr 3e-4 --warmup 50 --batch-size 8 --synthetic 0 --threads 1 --eval-seeds 0 --balance tasks \
    --save-every 250 > "$OUT/control.log" 2>&1 ) 2>> "$OUT/control.cpu" &
wait
