#!/usr/bin/env bash
# `make compose-up` / `make compose-down`: both images built and run with docker compose.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if docker compose version >/dev/null 2>&1; then compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then compose=(docker-compose)
else
  cat >&2 <<'EOF_HINT'
compose: neither `docker compose` (the Compose plugin) nor `docker-compose` is installed. Get one:
  Docker Desktop (macOS, Windows)     includes the plugin
  Docker's apt/yum repository (Linux) apt-get install docker-compose-plugin
  Debian/Ubuntu's own packages        apt-get install docker-compose
  see https://docs.docker.com/compose/install/ ; without compose, `make up` runs both services with no Docker.
EOF_HINT
  exit 1
fi

case "${1:-up}" in
  up)
    scripts/docker-engine.sh --check || { echo "compose: no Docker engine answers (start Docker, or scripts/docker-engine.sh as root)" >&2; exit 1; }
    # A taken port fails here, naming its setting, rather than as a daemon error after the build.
    # (Ports this project's own containers hold are theirs to keep: compose recreates them.)
    running="$("${compose[@]}" ps --quiet 2>/dev/null || true)"
    for setting in AGENT_PORT MCP_PORT; do
      default=8080; [ "$setting" = MCP_PORT ] && default=8081
      port="${!setting:-$default}"
      if [ -z "$running" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "compose: port $port is already in use: set $setting to another port (make compose-up $setting=$((port + 1000))), or stop what holds it" >&2
        exit 1
      fi
    done
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
    echo "agent: http://127.0.0.1:$agent_port   mcp-server: http://127.0.0.1:${MCP_PORT:-8081}/mcp   logs: ${compose[*]} logs -f   stop: make compose-down"
    echo "  curl -s http://127.0.0.1:$agent_port/chat -H 'content-type: application/json' -d '{\"message\": \"What is 100 USD in EUR?\"}'"
    ;;
  down) "${compose[@]}" down --remove-orphans ;;
  config) "${compose[@]}" config ;;
  *) echo "usage: $0 up|down|config" >&2; exit 2 ;;
esac
