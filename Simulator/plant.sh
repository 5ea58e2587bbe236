#!/usr/bin/env bash
# The simulator's self-test: builds fieldledger-sim with one known bug planted, runs the seeds
# and prints how many worlds failed, the first failing seed and which invariants caught it.
#   Simulator/plant.sh NO_DEDUPE|ARRIVAL_ORDER|DROP_INTENTION|EARLY_ACK [FIRST..LAST]
# Leaves the build planted; run `swift build` (without FIELDLEDGER_PLANT) afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
bug="${1:?name a planted bug: NO_DEDUPE, ARRIVAL_ORDER, DROP_INTENTION or EARLY_ACK}"
range="${2:-1..200}"
FIELDLEDGER_PLANT="$bug" swift build --product fieldledger-sim 2>&1 | grep -E "error|Compiling|Build" || true
out=$(.build/debug/fieldledger-sim --seeds "$range" || true)
summary=$(echo "$out" | grep -E "^[0-9]+ worlds in")
failures=$(echo "$out" | grep -E "^FAILED seed" || true)
echo "$bug over seeds $range: $summary"
if [ -z "$failures" ]; then
  echo "$bug: no failing seed"
  exit 1
fi
echo "$failures" | head -1
invariants=$(echo "$failures" | sed -E 's/^FAILED seed [0-9]+: ([^ ]+) .*/\1/' | sort | uniq -c | sort -rn | awk '{printf "%s %s, ", $2, $1}')
echo "$bug: invariants that caught it: ${invariants%, }"
