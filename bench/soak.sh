#!/usr/bin/env bash
# The learner soak (make soak; by hand, not in CI: ~45 min on 2 cores). Runs `distsac local` (2 workers, 1 shard,
# Pendulum-v1) for STEPS env steps, i.e. as many learner updates at the default one update per transition, while a
# CPU hog keeps the machine fully loaded, then checks: exit 0, the learner reached its update count, and no metric in
# metrics.jsonl is NaN or infinite. Usage: bench/soak.sh [STEPS] (default 200000).
# SOAK_HIDDEN=64,64 runs the learner with smaller networks (more updates per second, so more allocations, garbage
# collections and finalizers per second: the race the soak guards against needs those, not big matrices).
# SOAK_HOGS=<n> sets the number of busy loops (default: one per core). The load average is logged every minute.
set -euo pipefail
# The learner starts updating after the 1,000 warm-up transitions, so 201,000 env steps give 200,000 updates.
steps=${1:-201000}
min_updates=${SOAK_MIN_UPDATES:-$((steps - 1000))}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
distsac=${DISTSAC:-$repo/src/DistSac.Cli/bin/Release/net10.0/distsac}
runs=$(mktemp -d /tmp/distsac-soak-XXXXXX)
cores=$(nproc)
echo "[soak] $(date -u +%FT%TZ) $steps env steps, $cores cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), runs in $runs"

# Keep every core busy besides the run: the crash this soak guards against needed a loaded machine.
hogs=()
for _ in $(seq "${SOAK_HOGS:-$cores}"); do (while :; do :; done) & hogs+=($!); done
trap 'kill "${hogs[@]}" 2>/dev/null || true' EXIT

if [[ -n ${SOAK_HIDDEN:-} ]]; then
  IFS=, read -ra sizes <<< "$SOAK_HIDDEN"
  for i in "${!sizes[@]}"; do export "DISTSAC_SAC__HIDDENSIZES__$i=${sizes[$i]}"; done
  echo "[soak] hidden layers $SOAK_HIDDEN (DISTSAC_SAC__HIDDENSIZES__*)"
fi
(while :; do sleep 60; echo "[soak] $(date -u +%T) load average $(cut -d' ' -f1-3 /proc/loadavg)"; done) & hogs+=($!)

start=$SECONDS
set +e
"$distsac" local --env Pendulum-v1 --workers 2 --shards 1 --seed "${SOAK_SEED:-0}" --steps "$steps" --runs-root "$runs" > "$runs/local.log" 2>&1
code=$?
set -e
echo "[soak] distsac local exited $code after $((SECONDS - start)) s (log: $runs/local.log)"
metrics=$(ls "$runs"/*/metrics.jsonl 2>/dev/null | head -1)
[[ -n $metrics ]] || { echo "[soak] FAIL: no metrics.jsonl"; exit 1; }
updates=$(tail -1 "$metrics" | grep -o '"updates":[0-9]*' | cut -d: -f2)
# Before the first update the losses are NaN by design ("no update yet"); from then on every value must be finite.
bad=$(grep -E '"updates":[1-9]' "$metrics" | grep -cE '"(NaN|-?Infinity)"' || true)
echo "[soak] updates $updates, metric lines with a non-finite value: $bad"
[[ $code -eq 0 ]] || { echo "[soak] FAIL: exit code $code"; tail -20 "$runs/local.log"; exit 1; }
[[ $bad -eq 0 ]] || { echo "[soak] FAIL: non-finite metrics"; exit 1; }
[[ ${updates:-0} -ge $min_updates ]] || { echo "[soak] FAIL: $updates updates, fewer than $min_updates"; exit 1; }
echo "[soak] PASS"
