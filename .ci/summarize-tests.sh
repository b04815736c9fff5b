#!/usr/bin/env bash
# Turns `dotnet test` output (console logger, normal verbosity) into one closing line "N passed, N failed, N skipped"
# and the exit status. Each test project prints a block "Total tests: / Passed: / Failed: / Skipped:".
set -euo pipefail
log="$1"
sum() { { grep -E "^\s+$1:\s+[0-9]+\s*$" "$log" || true; } | awk '{s += $2} END {print s + 0}'; }
passed=$(sum Passed); failed=$(sum Failed); skipped=$(sum Skipped)
if grep -qE "error (MSB|CS|NU)[0-9]+|The active test run was aborted|Test Run Aborted" "$log"; then
  failed=$((failed + 1)); echo "build or test-host error (see $log)"
fi
grep -E "^\s+Failed [A-Za-z]" "$log" || true
if [ "$passed" = "0" ] && [ "$failed" = "0" ]; then echo "no tests ran (see $log)"; exit 1; fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = "0" ]
