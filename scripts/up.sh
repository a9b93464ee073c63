#!/usr/bin/env bash
# `make up`: build and run both services on this machine, no Docker needed.
#   mcp-server on MCP_PORT (8081), agent on AGENT_PORT (8080) pointed at its /mcp (Streamable HTTP).
#   MCP_SERVER_URL points the agent elsewhere: at the local server's /sse (legacy SSE), or at another
#   MCP server, in which case no local mcp-server is started.
# Reads .env when present (KEY=VALUE lines; variables already set in the environment win).
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/dotenv.sh
source scripts/dotenv.sh
load_dotenv
[ -f "${ENV_FILE:-.env}" ] && echo "up: read ${ENV_FILE:-.env}"

AGENT_PORT="${AGENT_PORT:-8080}"
MCP_PORT="${MCP_PORT:-8081}"
BIND="${HOST:-127.0.0.1}"
# One default everywhere (make up, compose, deploy): Streamable HTTP at /mcp.
MCP_SERVER_URL="${MCP_SERVER_URL:-http://127.0.0.1:$MCP_PORT/mcp}"
local_mcp=1
[[ "$MCP_SERVER_URL" =~ ^http://(127\.0\.0\.1|localhost):$MCP_PORT(/|$) ]] || local_mcp=0
ports=(AGENT_PORT)
[ "$local_mcp" = 1 ] && ports+=(MCP_PORT)

# A Node that package.json's engines admits, first on PATH (make up has done this already).
node_dir="$(scripts/with-node.sh --dir)"
PATH="$node_dir:$PATH"

# A taken port ends here, naming the setting that moves it, before anything is built or started.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for setting in "${ports[@]}"; do
  if port_taken "${!setting}"; then
    echo "up: port ${!setting} is already in use: set $setting to another port (make up $setting=$((${!setting} + 1000))), or stop what holds it" >&2
    exit 1
  fi
done

# On a terminal, readable one-line logs at INFO; piped or redirected, JSON lines (LOG_FORMAT and
# LOG_LEVEL override). The services write into a pipe here, so they are told.
if [ -t 1 ] && [ -z "${LOG_FORMAT:-}" ]; then export LOG_FORMAT=text; fi

[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build

pids=()
helpers=()
fifos="$(mktemp -d)"
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}" "${helpers[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$fifos"
  echo "up: stopped"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start() { # name env... -- command...: runs it with each log line prefixed by the name
  local name="$1"
  shift
  mkfifo "$fifos/$name"
  sed -u "s/^/$(printf '%-13s' "[$name]")/" <"$fifos/$name" &
  helpers+=("$!")
  env "$@" >"$fifos/$name" 2>&1 &
  pids+=("$!")
}
[ "$local_mcp" = 1 ] && start mcp-server HOST="$BIND" PORT="$MCP_PORT" node mcp-server/dist/mcp-server.mjs
start agent HOST="$BIND" PORT="$AGENT_PORT" MCP_SERVER_URL="$MCP_SERVER_URL" node agent/dist/agent.mjs

wait_for() { # url
  for _ in $(seq 1 100); do
    curl -fsS "$1" >/dev/null 2>&1 && return 0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || { echo "up: a service exited; see its log above" >&2; exit 1; }; done
    sleep 0.1
  done
  echo "up: $1 did not answer" >&2
  exit 1
}
[ "$local_mcp" = 1 ] && wait_for "http://127.0.0.1:$MCP_PORT/health"
wait_for "http://127.0.0.1:$AGENT_PORT/health"

if [ -z "${GOOGLE_API_KEY:-}" ] && [ -z "${GOOGLE_CLOUD_PROJECT:-}" ] && [ "${MODEL_PROVIDER:-auto}" != "gemini" ]; then
  model_note="offline model (no Gemini credentials; set GOOGLE_API_KEY or Vertex AI in .env for Gemini)"
else
  model_note="$(curl -fsS "http://127.0.0.1:$AGENT_PORT/" | sed -n 's/.*"model":"\([^"]*\)".*/\1/p')"
fi
transport="Streamable HTTP"
[[ "$MCP_SERVER_URL" =~ /sse/?$ ]] && transport="legacy SSE"
if [ "$local_mcp" = 1 ]; then
  mcp_note="http://127.0.0.1:$MCP_PORT   (the agent uses ${MCP_SERVER_URL#http://*:"$MCP_PORT"}, $transport; also /mcp or /sse)"
else
  mcp_note="$MCP_SERVER_URL   ($transport; MCP_SERVER_URL: no local mcp-server started)"
fi
cat <<EOF_INFO

  chat page   http://127.0.0.1:$AGENT_PORT/   (open it in a browser)
  agent       http://127.0.0.1:$AGENT_PORT   model: $model_note
  mcp-server  $mcp_note

  Try it:
    curl -s http://127.0.0.1:$AGENT_PORT/chat -H 'content-type: application/json' \\
      -d '{"message": "What is 100 USD in EUR?"}'
    make smoke

  Ctrl-C stops $([ "$local_mcp" = 1 ] && echo both || echo it).

EOF_INFO
echo "up: ready"
wait -n "${pids[@]}" || true
# Ctrl-C reaches the services and this script together; give the INT trap the chance to run first.
sleep 0.5
echo "up: a service exited" >&2
exit 1
