#!/usr/bin/env bash
# `make bench`: speed, memory and size against baselines and the ADK peer (bench/run.ts), on Node 22,
# the images' runtime (from npm, scripts/tools.sh), with Node 20 as a second cold-start column.
# With a Docker engine it also builds the images (and a bare node:http image on the same base) and
# measures cold start and memory in containers.
#   QUICK=1 for a short run; BENCH_PEER=0 skips the peer; BENCH_CONTAINERS=0 skips the containers;
#   BENCH_ONLY=start measures start-up and idle memory only; BENCH_ROUNDS=n container rounds (default 9);
#   BENCH_COMPARE=ref also builds the images from that git ref and runs them in the same rounds.
#   Results in bench/results.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build
if [ "${BENCH_PEER:-1}" != "0" ] && [ "${BENCH_SMOKE:-0}" != "1" ] && [ "${BENCH_ONLY:-}" != "start" ] && [ ! -d bench/peer/node_modules/@google/adk ]; then
  (cd bench/peer && npm ci --no-audit --no-fund --loglevel=error)
fi
node22="$(scripts/tools.sh node22)"
if node -e 'process.exit(process.version.startsWith("v20.") ? 0 : 1)' 2>/dev/null; then
  BENCH_NODE20="$(command -v node)"
  export BENCH_NODE20
fi

if [ "${BENCH_CONTAINERS:-1}" != "0" ] && scripts/docker-engine.sh --check; then
  NODE_IMAGE="$(scripts/base-image.sh)"
  # Quiet unless it fails (the legacy builder warns on every build).
  build() { local out; out="$(docker build -q --build-arg "NODE_IMAGE=$NODE_IMAGE" "$@" 2>&1)" || { echo "$out" >&2; return 1; }; }
  echo "bench: building the images on $NODE_IMAGE" >&2
  build -f bench/floor.Dockerfile -t bench-floor:local bench
  for svc in mcp-server agent; do
    build --build-arg "SERVICE=$svc" -t "bench-$svc:local" .
    # The stage before the compile cache, to measure what the cache buys.
    build --build-arg "SERVICE=$svc" --target bundle -t "bench-$svc:bundle" .
    # BENCH_COMPARE=ref (a commit, a branch): the same image from that ref, measured beside ours
    # (a ref from before the shared Dockerfile has one per service).
    if [ -n "${BENCH_COMPARE:-}" ]; then
      dockerfile=Dockerfile
      git cat-file -e "$BENCH_COMPARE:$svc/Dockerfile" 2>/dev/null && dockerfile="$svc/Dockerfile"
      git archive "$BENCH_COMPARE" | build -f "$dockerfile" --build-arg "SERVICE=$svc" -t "bench-$svc:compare" -
    fi
  done
  export BENCH_CONTAINERS=1
elif [ "${BENCH_CONTAINERS:-1}" != "0" ]; then
  echo "bench: no Docker engine answers: container figures NOT RUN (scripts/docker-engine.sh starts one)" >&2
  export BENCH_CONTAINERS=0
fi
exec "$node22" --import tsx bench/run.ts
