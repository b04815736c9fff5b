#!/usr/bin/env bash
# Learning curves through the distributed path: `distsac local` on Pendulum-v1 for several seeds and configurations,
# rate limiter at one update per env step, stopping at the first deterministic evaluation >= -200.
# Usage: bench/learning-curves.sh [seeds (default "0 1 2 3 4")] [configs (default "2x1 4x2" = workers x shards)]
# Prints one summary line per run and each run's eval curve (env steps -> eval return); runs land in artifacts/learning/.
set -uo pipefail
cd "$(dirname "$0")/.."
DISTSAC=src/DistSac.Cli/bin/Release/net10.0/distsac
SEEDS="${1:-0 1 2 3 4}"
CONFIGS="${2:-2x1 4x2}"
ROOT=artifacts/learning/distributed
mkdir -p "$ROOT"
for config in $CONFIGS; do
  workers="${config%x*}"; shards="${config#*x}"
  for seed in $SEEDS; do
    id="pendulum-w${workers}-s${shards}-seed${seed}"
    rm -rf "$ROOT/$id"
    start=$(date +%s)
    "$DISTSAC" local --workers "$workers" --shards "$shards" --seed "$seed" --steps 20000 --eval-interval 1000 \
      --stop-at-eval-return -200 --runs-root "$ROOT" --run-id "$id" > "$ROOT/$id.log" 2>&1 || true
    end=$(date +%s)
    [ -f "$ROOT/$id/metrics.jsonl" ] || { echo "[curve] $workers workers $shards shards seed $seed: FAILED (no metrics; see $ROOT/$id.log)"; continue; }
    python3 - "$ROOT/$id/metrics.jsonl" "$workers" "$shards" "$seed" "$((end - start))" <<'PY'
import json, sys
path, workers, shards, seed, wall = sys.argv[1:]
curve, reached = [], None
for line in open(path):
    m = json.loads(line)
    if m.get("eval_return") is not None:
        curve.append((m["env_steps"], round(m["eval_return"], 1)))
        if reached is None and m["eval_return"] >= -200 and m["env_steps"] <= 20000:
            reached = m["env_steps"]
status = f"reached -200 at {reached} env steps" if reached is not None else "did NOT reach -200 within 20000 env steps"
print(f"[curve] {workers} workers {shards} shards seed {seed}: {status}; wall {wall} s; evals (env steps, return): {curve}")
PY
  done
done
