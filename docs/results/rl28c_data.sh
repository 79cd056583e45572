#!/usr/bin/env bash
# The third run of "GRPO where no teacher shows anything" (docs/experiments.md, 2026-12-07): the general data its
# retention steps and its control draw on. Run 3's own data is not kept, so it is recorded again by the same
# teachers on run 3's training seeds: all 125 MiniWoB tasks (the nine with visible-state teachers in that form, as
# in docs/results/gen2_run.sh) and the train half of the web pages, seeds 0-19. No page of the no-demonstration
# set (the unseen and widget pages) is in it. Resumable: rerun and each bench goes on.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/rl28c}; SEEDS=${SEEDS:-20}
export OMP_NUM_THREADS=1
PY=.venv/bin/python
split() {  # the MiniWoB tasks with a visible-state teacher (envs.teachers.VISIBLE) when $1 is 1, the others when 0
    $PY -c "from envs.tasks import task_names; from envs.teachers import VISIBLE
print(','.join(t for t in task_names('all') if (t in VISIBLE) == bool($1)))"
}
VIS=$(split 1); REST=$(split 0)
B="$PY -m apps.cli bench miniwob --seeds $SEEDS --seed-offset 0 --quiet"
$B --policy model:teacher:student --tasks "$REST" --workers 2 --out "$OUT/data-miniwob"
$B --policy model:teacher:visible --tasks "$VIS" --workers 2 --out "$OUT/data-visible"
$B --task-dir envs/tasks/web/train --tasks all --policy model:teacher:student --workers 1 --out "$OUT/data-web"
mkdir -p "$OUT/data/trajectories"  # one directory for --retain-data, hard links: no copy
for t in "$OUT"/data-{miniwob,visible,web}/trajectories/*; do
    [ -e "$OUT/data/trajectories/$(basename "$t")" ] || cp -al "$t" "$OUT/data/trajectories/"
done
