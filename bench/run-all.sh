#!/usr/bin/env bash
# Runs every `distsac bench` once (what `make bench` calls): each benchmark's JSON line is echoed and appended to the
# results file. Usage: bench/run-all.sh [RESULTS_FILE] [--with-e2e]   (default artifacts/bench-results.jsonl)
# e2e trains to the target return (minutes on 2 cores), so it only runs when asked for.
# DISTSAC overrides the executable (default: the Release build of src/DistSac.Cli, relative to the repo root).
set -uo pipefail

results=artifacts/bench-results.jsonl
with_e2e=0
for arg in "$@"; do
  case "$arg" in
    --with-e2e) with_e2e=1 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    -*) echo "run-all.sh: unknown option $arg" >&2; exit 2 ;;
    *) results=$arg ;;
  esac
done

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
distsac=${DISTSAC:-$repo/src/DistSac.Cli/bin/Release/net10.0/distsac}
if [[ ! -x $distsac ]]; then
  echo "run-all.sh: $distsac not found; build first (make build, or dotnet build src/DistSac.Cli -c Release)" >&2
  exit 2
fi
mkdir -p "$(dirname "$results")"

failed=()
# Runs one benchmark: progress stays on stderr; only its JSON line(s) on stdout are kept. A failing benchmark is
# recorded and the rest still run (its JSON line, if any, is kept too: e2e prints one even when the target is missed).
bench() {
  local name=$1; shift
  echo "[bench] distsac bench $*" >&2
  local out rc
  out=$("$distsac" bench "$@")
  rc=$?
  local line
  while IFS= read -r line; do
    [[ $line == \{* ]] || continue
    echo "$line"
    echo "$line" >>"$results"
  done <<<"$out"
  if (( rc != 0 )); then
    echo "[bench] $name failed (exit code $rc)" >&2
    failed+=("$name")
  fi
}

bench learner-2 learner --threads 2
bench learner-1 learner --threads 1
bench worker worker
bench sample sample
bench sample-2 sample --shards 2
bench ingest ingest
# The second line re-measures a gateway with the runtime defaults that Directory.Build.props overrides (before/after in one run).
bench gateway-idle gateway-idle --compare-env DOTNET_TieredPGO=1,DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=70
bench local local --threads "$(nproc)"
bench scale scale --workers-list 1,2,4,8,16,32 --step-cost-us 125 --envs-per-worker 8 --step-cost-mode sleep --seconds 8 --warm-up-seconds 5 --plot "$repo/artifacts/bench-scale.png"
if (( with_e2e )); then
  bench e2e e2e
fi

echo "[bench] results appended to $results" >&2
if (( ${#failed[@]} > 0 )); then
  echo "[bench] failed: ${failed[*]}" >&2
  exit 1
fi
