#!/usr/bin/env bash
# Scaling curve: `distsac bench scale` (stored env steps/s against worker processes), its JSON line appended to a results
# file and the curve drawn as a PNG (by distsac itself, with ScottPlot).
# Usage: bench/plot-scale.sh [PNG (default artifacts/bench-scale.png)] [extra `bench scale` flags, e.g. --workers-list 1,2,4 --seconds 3]
# DISTSAC overrides the executable (default: the Release build of src/DistSac.Cli). On a 2-core machine the busy-wait
# workers compete for the cores, so the curve flattens at about 2 workers: that is the expected result there.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
distsac=${DISTSAC:-$repo/src/DistSac.Cli/bin/Release/net10.0/distsac}
case "${1:-}" in
  -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
  -*) png=$repo/artifacts/bench-scale.png ;;  # only flags given: default PNG
  *) png=${1:-$repo/artifacts/bench-scale.png}; [ $# -gt 0 ] && shift ;;
esac
[ -x "$distsac" ] || { echo "plot-scale.sh: $distsac not found; run: dotnet build src/DistSac.Cli -c Release" >&2; exit 1; }
mkdir -p -- "$(dirname -- "$png")" "$repo/artifacts"
line=$("$distsac" bench scale --plot "$png" "$@")
echo "$line"
echo "$line" >> "$repo/artifacts/bench-scale.jsonl"
