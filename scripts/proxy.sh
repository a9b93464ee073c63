#!/usr/bin/env bash
# `make proxy`: reach the private mcp-server from this machine. `gcloud run services proxy` signs
# requests with your own gcloud identity (user ADC cannot mint the ID tokens the agent would send).
#   Then, in another shell:  MCP_SERVER_URL=http://127.0.0.1:8082/mcp make up
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
SCRIPT_TARGET=proxy load_settings
PROXY_PORT="${PROXY_PORT:-8082}"
echo "Proxying $MCP_SERVICE on http://127.0.0.1:$PROXY_PORT (Ctrl-C stops). Point a local agent at it:"
echo "  MCP_SERVER_URL=http://127.0.0.1:$PROXY_PORT/mcp make up"
run gcloud run services proxy "$MCP_SERVICE" --port "$PROXY_PORT" "${RUN[@]}"
