#!/usr/bin/env bash
# `make compose-up` / `make compose-down`: both images built and run with docker compose.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if docker compose version >/dev/null 2>&1; then compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then compose=(docker-compose)
else echo "compose: neither 'docker compose' nor docker-compose is installed" >&2; exit 1; fi

case "${1:-up}" in
  up)
    scripts/docker-engine.sh --check || { echo "compose: no Docker engine answers (start Docker, or scripts/docker-engine.sh as root)" >&2; exit 1; }
    NODE_IMAGE="$(scripts/base-image.sh)"
    export NODE_IMAGE
    "${compose[@]}" up --build --detach
    agent_port="${AGENT_PORT:-8080}"
    for _ in $(seq 1 60); do
      curl -fsS "http://127.0.0.1:$agent_port/health" >/dev/null 2>&1 && break
      sleep 1
    done
    "${compose[@]}" ps
    echo
    echo "agent: http://127.0.0.1:$agent_port   logs: ${compose[*]} logs -f   stop: make compose-down"
    echo "  curl -s http://127.0.0.1:$agent_port/chat -H 'content-type: application/json' -d '{\"message\": \"What is 100 USD in EUR?\"}'"
    ;;
  down) "${compose[@]}" down --remove-orphans ;;
  config) "${compose[@]}" config ;;
  *) echo "usage: $0 up|down|config" >&2; exit 2 ;;
esac
