#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance, needs Node 22) against the
# mcp-server bundle's /mcp for the scenarios that apply to a tools-only, stateless server.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SCENARIOS=(server-initialize ping tools-list dns-rebinding-protection)
bundle=mcp-server/dist/mcp-server.mjs
[ -f "$bundle" ] || npm run --silent build -w mcp-server
node22="$(scripts/tools.sh node22)"
port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
log="$(mktemp)"

# The dns-rebinding scenario needs Host/Origin checks on; they are off by default for Cloud Run.
HOST=127.0.0.1 PORT="$port" MCP_ALLOWED_HOSTS="localhost,127.0.0.1" FRANKFURTER_URL="http://127.0.0.1:9/v1" \
  node "$bundle" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT

for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.1
done

failed=()
for scenario in "${SCENARIOS[@]}"; do
  if out="$(timeout 120 "$node22" node_modules/.bin/conformance server --url "http://localhost:$port/mcp" --scenario "$scenario" 2>&1)" \
    && grep -q ", 0 failed" <<<"$out"; then
    echo "conformance: $scenario passed"
  else
    echo "$out"
    echo "conformance: $scenario FAILED"
    failed+=("$scenario")
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "conformance: ${#failed[@]} scenario(s) failed: ${failed[*]}" >&2
  exit 1
fi
echo "conformance: ${#SCENARIOS[@]} passed, 0 failed"
