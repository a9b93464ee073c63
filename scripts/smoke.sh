#!/usr/bin/env bash
# `make smoke`: the README's curl checks against a running agent, local or deployed.
#   AGENT_URL  (default http://127.0.0.1:8080)
#   ID_TOKEN   optional bearer token for a private agent (e.g. $(gcloud auth print-identity-token))
set -euo pipefail

AGENT_URL="${AGENT_URL:-http://127.0.0.1:8080}"
AGENT_URL="${AGENT_URL%/}"
if [ "${DRY_RUN:-0}" = "1" ]; then
  echo "+ smoke checks against $AGENT_URL: GET /health, GET /, GET /ready, POST /chat, POST /chat (bad JSON), POST /chat/stream"
  exit 0
fi

auth=()
[ -n "${ID_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $ID_TOKEN")
failures=0
body="$(mktemp)"
trap 'rm -f "$body"' EXIT

check() { # name expected_status pattern curl-args...
  local name="$1" want="$2" pattern="$3"
  shift 3
  local status
  status="$(curl -sS -o "$body" -w '%{http_code}' --max-time 60 "${auth[@]}" "$@" 2>&1)" || status="no answer ($status)"
  if [ "$status" = "$want" ] && grep -Eq "$pattern" "$body"; then
    echo "ok    $name"
  else
    echo "FAIL  $name: wanted HTTP $want matching /$pattern/, got $status: $(head -c 300 "$body")"
    failures=$((failures + 1))
  fi
}

json=(-H 'content-type: application/json')
check "GET /health" 200 '"status":"ok"' "$AGENT_URL/health"
check "GET / names the model" 200 '"model":' "$AGENT_URL/"
check "GET /ready (MCP server lists its tools)" 200 'get_exchange_rate' "$AGENT_URL/ready"
check "POST /chat converts 100 USD to EUR" 200 '"response":"[^"]*[0-9]' "${json[@]}" -d '{"message":"What is 100 USD in EUR?","user_id":"smoke"}' "$AGENT_URL/chat"
check "POST /chat with bad JSON is a 400" 400 '"code":"invalid_json"' "${json[@]}" -d '{not json' "$AGENT_URL/chat"
check "POST /chat/stream ends with done" 200 'event: done' "${json[@]}" -d '{"message":"50 EUR in GBP","user_id":"smoke"}' "$AGENT_URL/chat/stream"

if [ "$failures" -gt 0 ]; then
  echo "smoke: $failures check(s) failed against $AGENT_URL" >&2
  exit 1
fi
echo "smoke: all checks passed against $AGENT_URL"
