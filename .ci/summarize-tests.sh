#!/usr/bin/env bash
# Turns `dotnet test` output into one closing line "N passed, N failed, N skipped" and the exit status.
set -euo pipefail
log="$1"
passed=0; failed=0; skipped=0
while read -r p f s; do passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s)); done < <(
  grep -E "^\s*(Passed|Failed)!" "$log" | sed -E 's/.*Failed:\s*([0-9]+), Passed:\s*([0-9]+), Skipped:\s*([0-9]+).*/\2 \1 \3/')
if grep -qE "error (MSB|CS|NU)[0-9]+|The active test run was aborted|Test Run Aborted" "$log"; then failed=$((failed + 1)); echo "build or test-host error (see $log)"; fi
if [ "$passed" = "0" ] && [ "$failed" = "0" ]; then echo "no tests ran (see $log)"; exit 1; fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = "0" ]
