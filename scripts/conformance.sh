#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance 0.2.x, which covers
# 2026-07-28; needs Node 22) against the mcp-server bundle's /mcp, for both protocol eras, and runs the
# agent's MCP client through the suite's client scenarios. Prints one line per scenario and era.
#
# A check counts as passed only when the suite says SUCCESS. A check the suite reports as
# "Not testable" (it needs one of the suite's own diagnostic tools) counts as not applicable, never
# as passed; scenarios that only call the suite's test tools are not run at all, because an unknown
# tool answered with isError would make some of them pass by accident.
#
# Not applicable to this server (a stateless, tools-only server with three fixed tools), and why:
#   tools-call-simple-text, -image, -audio, -embedded-resource, -mixed-content, -error,
#   -with-progress, -with-logging, -sampling, -elicitation, json-schema-2020-12,
#   elicitation-sep1034-defaults, elicitation-sep1330-enums, input-required-result-*:
#                              call the suite's own test tools (test_simple_text, …), which we don't have
#   completion-complete        no completions capability (no prompts or resource templates)
#   logging-set-level          no logging capability: logs go to stdout for Cloud Logging
#   resources-*, prompts-*, sep-2164-resource-not-found: no resources, no prompts
#   server-session-lifecycle   2025 era: stateless, no Mcp-Session-Id (the suite itself says so)
#   server-sse-polling, server-sse-multiple-streams (2025 era): need a session and resumable
#                              streams (event ids, Last-Event-ID); a stateless server has neither
#   http-custom-header-server-validation: no tool declares x-mcp-header parameters
#   sep-2640-*, tasks-*        extensions this server does not implement
#   in server-stateless: the checks that need test_missing_capability, test_streaming_elicitation
#                              and test_logging_tool ("Not testable")
#   in caching: the prompts/resources listing checks (this server has neither; -32601 is right)
# Client scenarios not applicable to the agent: auth/* (the agent authenticates with Google ID
# tokens, not OAuth), elicitation-sep1034-client-defaults and sep-2322-client-request-state (no
# elicitation or input_required in our tools), json-schema-* and http-custom-headers (they need a
# client that echoes schemas or calls the suite's header tools; the agent calls what its model picks).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MODERN=2026-07-28
LEGACY=2025-11-25
SERVER_MODERN=(server-stateless tools-list server-sse-multiple-streams dns-rebinding-protection http-header-validation caching)
SERVER_LEGACY=(server-initialize ping tools-list dns-rebinding-protection)
CLIENT=("$LEGACY initialize" "$LEGACY tools_call" "$LEGACY sse-retry" "$MODERN tools_call" "$MODERN request-metadata" "$MODERN http-standard-headers")
# Checks about surfaces this server does not have (see above).
NA_CHECKS="sep-2549-prompts-list-caching-hints sep-2549-resources-list-caching-hints sep-2549-resources-templates-list-caching-hints sep-2549-resources-read-caching-hints"

bundle=mcp-server/dist/mcp-server.mjs
[ -f "$bundle" ] || npm run --silent build -w mcp-server
node22="$(scripts/tools.sh node22)"
conformance=node_modules/.bin/conformance
port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
work="$(mktemp -d)"

# No HOST or MCP_ALLOWED_HOSTS: the dns-rebinding scenario passes with the defaults (loopback, with
# its Host and Origin checks).
PORT="$port" FRANKFURTER_URL="http://127.0.0.1:9/v1" node "$bundle" >"$work/server.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.1
done

# judge DIR LABEL: reads the suite's checks.json, prints the verdict, fails on a real failure.
# shellcheck disable=SC2016 # the JavaScript below is meant literally, not expanded by the shell
judge() {
  NA_CHECKS="$NA_CHECKS" node -e '
    const fs = require("fs"), path = require("path");
    const [dir, label] = process.argv.slice(1);
    const files = [];
    const walk = (d) => { for (const f of fs.readdirSync(d)) { const p = path.join(d, f); fs.statSync(p).isDirectory() ? walk(p) : f === "checks.json" && files.push(p); } };
    walk(dir);
    if (files.length === 0) { console.log(`conformance: ${label}: FAILED (no results)`); process.exit(1); }
    const na = new Set(process.env.NA_CHECKS.split(" "));
    let pass = 0, skip = 0, warn = 0; const fails = [];
    for (const f of files) for (const c of JSON.parse(fs.readFileSync(f, "utf8"))) {
      if (c.status === "SUCCESS") pass++;
      else if (c.status === "WARNING") warn++;
      else if (c.status === "FAILURE" && (na.has(c.id) || /^Not testable/.test(c.errorMessage ?? ""))) skip++;
      else if (c.status === "FAILURE") fails.push(`${c.id}: ${c.errorMessage ?? ""}`);
    }
    const ok = fails.length === 0 && pass > 0;
    console.log(`conformance: ${label}: ${ok ? "pass" : "FAILED"} (${pass} checks passed, ${skip} n.a., ${warn} warnings, ${fails.length} failed)`);
    for (const f of fails) console.log(`  - ${f}`);
    process.exit(ok ? 0 : 1);
  ' "$1" "$2"
}

failed=()
n=0
for era in "$MODERN" "$LEGACY"; do
  if [ "$era" = "$MODERN" ]; then scenarios=("${SERVER_MODERN[@]}"); else scenarios=("${SERVER_LEGACY[@]}"); fi
  for scenario in "${scenarios[@]}"; do
    n=$((n + 1))
    out="$work/s$n"
    timeout 120 "$node22" "$conformance" server --url "http://localhost:$port/mcp" --scenario "$scenario" \
      --spec-version "$era" -o "$out" >"$work/s$n.log" 2>&1 || true
    judge "$out" "server $scenario @ $era" || { cat "$work/s$n.log"; failed+=("server:$scenario@$era"); }
  done
done

for entry in "${CLIENT[@]}"; do
  read -r era scenario <<<"$entry"
  n=$((n + 1))
  out="$work/c$n"
  timeout 120 "$node22" "$conformance" client --command "node --import tsx agent/test/support/conformance-client.ts" \
    --scenario "$scenario" --spec-version "$era" -o "$out" >"$work/c$n.log" 2>&1 || true
  judge "$out" "client $scenario @ $era" || { cat "$work/c$n.log"; failed+=("client:$scenario@$era"); }
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "conformance: ${#failed[@]} scenario(s) failed: ${failed[*]}" >&2
  exit 1
fi
echo "conformance: $n scenarios passed, 0 failed"
