#!/usr/bin/env bash
# `make bench`: speed, memory and size against baselines and the ADK peer (bench/run.ts).
#   QUICK=1 for a short run (< 1 min); BENCH_PEER=0 skips the peer; results in bench/results.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build
if [ "${BENCH_PEER:-1}" != "0" ] && [ "${BENCH_SMOKE:-0}" != "1" ] && [ ! -d bench/peer/node_modules/@google/adk ]; then
  (cd bench/peer && npm ci --no-audit --no-fund --loglevel=error)
fi
exec node --import tsx bench/run.ts
