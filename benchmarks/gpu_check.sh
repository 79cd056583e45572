#!/usr/bin/env bash
# The served-model path on one GPU, in one run of at most 8 minutes. Every figure goes to $OUT as JSON.
#
#   OUT=/tmp/gpu-check bash benchmarks/gpu_check.sh
#
# 1. a separate venv with vLLM (vLLM pins its own torch; it never goes in the project's .venv);
# 2. `vllm serve models/embedded/checkpoint`, and its /v1/models card check: vLLM lists no card, so the
#    client is given the checkpoint's own (--card), and the constraint goes as structured_outputs;
# 3. `screenwise bench miniwob --policy http://127.0.0.1:PORT/v1 --tasks core --seeds 3` through vLLM, beside
#    the in-process CPU figure on the same seeds (needs Chromium; skipped, and said so, without one);
# 4. decisions/s at concurrency 1, 8 and 32 (benchmarks/serve_throughput.py);
# 5. 3 GRPO iterations with --vllm (generation in vLLM under the card's pattern, the trainer on the same GPU).
#
# Each step writes its own JSON, or an {"error": ...} line, and the script goes on: one failure costs one figure.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
OUT=${OUT:-runs/gpu-check}
mkdir -p "$OUT"
VENV=${VLLM_VENV:-$HOME/.screenwise-vllm}
PORT=${PORT:-8321}
SEEDS=${SEEDS:-3}
SEED_OFFSET=${SEED_OFFSET:-21000}
CARD=models/embedded/checkpoint/screenwise.json
T0=$(date +%s)
log() { echo "[gpu-check $(( $(date +%s) - T0 ))s] $*"; }
fail() { printf '{"step": "%s", "error": "%s"}\n' "$1" "$2" > "$OUT/$1.json"; log "$1 failed: $2"; }

log "1/5 venv with vLLM at $VENV"
if [ ! -x "$VENV/bin/vllm" ]; then
  if ! { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q -e '.[gpu,train]' > "$OUT/pip.log" 2>&1; }; then
    fail venv "pip install of .[gpu,train] failed (see pip.log)"
    exit 1
  fi
fi
"$VENV/bin/python" - > "$OUT/versions.json" <<'EOF'
import json, torch, transformers, vllm
print(json.dumps({"vllm": vllm.__version__, "torch": torch.__version__, "transformers": transformers.__version__,
                  "cuda": torch.cuda.is_available(), "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}))
EOF
cat "$OUT/versions.json"

log "2/5 vllm serve"
"$VENV/bin/vllm" serve models/embedded/checkpoint --port "$PORT" --served-model-name embedded \
  --limit-mm-per-prompt '{"image": 5}' --gpu-memory-utilization 0.3 --max-model-len 4096 > "$OUT/vllm_serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null' EXIT
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$PORT/health" > /dev/null && break; sleep 1; done
if ! curl -sf "http://127.0.0.1:$PORT/v1/models" > "$OUT/vllm_models.json"; then
  fail serve "vllm serve did not come up in 120 s (see vllm_serve.log)"
fi
URL="http://127.0.0.1:$PORT/v1"

log "3/5 bench core x $SEEDS seeds: vLLM served vs in-process CPU"
if command -v chromium > /dev/null || [ -n "${SCREENWISE_CHROMIUM:-}" ]; then
  "$VENV/bin/python" -m apps.cli bench miniwob --policy "$URL" --card "$CARD" --tasks core --seeds "$SEEDS" \
    --seed-offset "$SEED_OFFSET" --workers 8 --quiet --out "$OUT/bench-vllm" > "$OUT/bench-vllm.txt" 2>&1 \
    || fail bench_vllm "exit $? (see bench-vllm.txt)"
  CUDA_VISIBLE_DEVICES="" "$VENV/bin/python" -m apps.cli bench miniwob --policy embedded --tasks core \
    --seeds "$SEEDS" --seed-offset "$SEED_OFFSET" --workers 4 --quiet --out "$OUT/bench-cpu" \
    > "$OUT/bench-cpu.txt" 2>&1 || fail bench_cpu "exit $? (see bench-cpu.txt)"
  "$VENV/bin/python" - "$OUT" > "$OUT/bench.json" <<'EOF'
import json, sys
out = sys.argv[1]
rows = {k: json.load(open(f"{out}/bench-{k}/summary.json")) for k in ("vllm", "cpu")}
print(json.dumps({k: {"mean_success": v["mean_success"], "episodes": v["episodes"], "errors": v["errors"]}
                  for k, v in rows.items()}))
EOF
else
  fail bench "no Chromium on this host: the served bench needs a browser"
fi

log "4/5 decisions/s at concurrency 1, 8, 32"
"$VENV/bin/python" benchmarks/serve_throughput.py --url "$URL" --concurrency 1 8 32 --requests 96 \
  --json "$OUT/throughput.json" > "$OUT/throughput.txt" 2>&1 || fail throughput "exit $? (see throughput.txt)"
kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null

log "5/5 GRPO, 3 iterations with --vllm"
if command -v chromium > /dev/null || [ -n "${SCREENWISE_CHROMIUM:-}" ]; then
  if "$VENV/bin/python" -m train.grpo --init models/embedded/checkpoint --out "$OUT/grpo" \
      --tasks click-button,enter-text --iters 3 --group 8 --seeds-per-iter 4 --vllm --device cuda \
      --vllm-memory 0.3 > "$OUT/grpo.txt" 2>&1; then
    tail -n 3 "$OUT/grpo/metrics.jsonl" > "$OUT/grpo_metrics.jsonl"
  else
    fail grpo "exit $? (see grpo.txt)"
  fi
else
  fail grpo "no Chromium on this host: GRPO rollouts need a browser"
fi
log "done in $(( $(date +%s) - T0 )) s; results in $OUT"
