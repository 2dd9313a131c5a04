#!/usr/bin/env bash
# Run every fuzz target in the module for FUZZTIME each (default 30s).
#
# Go 1.26's fuzzing coordinator can fail a target at the end of a duration -fuzztime with a
# bare "context deadline exceeded" although nothing crashed (go.dev/issue/75804, fixed in
# Go 1.27). Such a run writes no failing input. A target that fails that way, and only that
# way, runs again, up to three times; any other failure, or one that wrote a failing input
# to testdata/fuzz, fails at once.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}

log=$(mktemp)
trap 'rm -f "$log"' EXIT

for f in $(grep -rl --include='*_test.go' --exclude-dir=build '^func Fuzz' . | sort); do
  pkg=./$(dirname "$f")
  for t in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$f"); do
    for attempt in 1 2 3; do
      echo "== $pkg $t"
      if "$GO" test -run '^$' -fuzz "^$t\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 10x "$pkg" 2>&1 | tee "$log"; then
        # A target whose seeds take longer than FUZZTIME to run ends before its first
        # fuzzed input and still passes: that is no fuzzing at all.
        if ! grep -q 'now fuzzing with' "$log"; then
          echo "$t: FUZZTIME=$FUZZTIME ended while its seeds were still running, before any fuzzing; give it more time" >&2
          exit 1
        fi
        break
      fi
      if grep -q 'Failing input written to' "$log" || ! grep -q '^    context deadline exceeded$' "$log"; then
        exit 1
      fi
      if [ "$attempt" -eq 3 ]; then
        echo "$t: the fuzzing coordinator's deadline failure three times in a row" >&2
        exit 1
      fi
      echo "$t: no failing input, only the coordinator's deadline (go.dev/issue/75804); running again" >&2
    done
  done
done
