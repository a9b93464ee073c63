#!/usr/bin/env bash
# make proxy: reach the private mcp-server from this machine. `gcloud auth application-default login`
# credentials cannot mint the ID token Cloud Run wants, so gcloud's proxy signs each request with
# your gcloud login (which needs roles/run.invoker on the service, e.g. as a project Owner/Editor).
# Then run a local agent against it:  MCP_SERVER_URL=http://127.0.0.1:8082/mcp MCP_AUTH=none make up
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cloud_script proxy gcloud
PROXY_PORT="${PROXY_PORT:-8082}"  # 8081 is where `make up` runs the local mcp-server

log "Serving $MCP_SERVICE on http://127.0.0.1:$PROXY_PORT (Ctrl-C stops). Point a local agent at it:"
log "  MCP_SERVER_URL=http://127.0.0.1:$PROXY_PORT/mcp MCP_AUTH=none   (or /sse with MCP_TRANSPORT=sse deployments)"
log "or your own MCP client (Claude Code, VS Code, Gemini CLI, MCP Inspector) at http://127.0.0.1:$PROXY_PORT/mcp"
log "  (docs/mcp-clients.md: \"Use your own MCP client\")."
run gcloud run services proxy "$MCP_SERVICE" --project="$PROJECT_ID" --region="$REGION" --port="$PROXY_PORT"
