#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it. Each step prints its name and then its time; the
# first failure stops the run, naming the step (node's spec reporter lists each failed test "at
# FILE:LINE", source-mapped). Redirected, the output carries no colour codes (NO_COLOR, which Biome and node honour).
#   scripts/test.sh                 every step
#   scripts/test.sh STEP...         only those (names: scripts/test.sh --list)
# The suites run on the first `node` on PATH when package.json's engines admits it, else on Node 22 from npm
# (scripts/with-node.sh says so in one line); the node26 step runs them again on Node 26, the current LTS.
# A step whose optional tool is missing here (shellcheck, Chromium, a Docker engine, Node 22/26 off Linux x86-64) is
# SKIPPED with the command that installs it, and the run still passes: the README's prerequisites are
# enough. Where CI=true (.ci/run) nothing may be skipped: a missing tool fails the run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

node_dir="$(scripts/with-node.sh --dir)"
PATH="$node_dir:$PATH"
# Test files run through tsx: node's reporter names a failed test's TypeScript FILE:LINE only with
# source maps on (without, every location is line 1 of the compiled file).
export NODE_OPTIONS="--enable-source-maps${NODE_OPTIONS:+ $NODE_OPTIONS}"

STEPS=(lint typecheck bundle mcp-server agent node26 repository browser shellcheck conformance containers)

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  bold=$'\033[1m' yellow=$'\033[33m' reset=$'\033[0m'
  biome_colors=()
else
  bold="" yellow="" reset=""
  export NO_COLOR=1
  unset FORCE_COLOR
  # Biome's ci command colours its summary whatever NO_COLOR says.
  biome_colors=(--colors=off)
fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$reset"; }
skipped=()
# skip STEP WHY HOW-TO-INSTALL: a missing optional tool. Outside CI the step is skipped and named again
# at the end; in CI it is a failure, so CI always runs everything.
skip() {
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: $1 not run ($2), and CI=true requires it. Install: $3" >&2
    exit 1
  fi
  printf '%sSKIPPED%s %s (%s). Install: %s\n' "$yellow" "$reset" "$1" "$2" "$3"
  skipped+=("$1 ($2). Install: $3")
}

# Node 22 (the images' runtime) for the test tooling that needs it, and Node 26 (the current LTS) for
# the suites once more. Each is fetched from npm the first time (Linux x86-64).
node22() { scripts/tools.sh node 22; }
node26() { scripts/tools.sh node 26; }
NODE22_HINT="Node 22 on PATH (e.g. nvm install 22); on Linux x86-64 scripts/tools.sh fetches it from npm"
NODE26_HINT="Node 26 (e.g. nvm install 26, then WITH_NODE=26 make test); on Linux x86-64 scripts/tools.sh fetches it from npm"

run_step() {
  case "$1" in
    lint) step "format and lint (Biome)"; npm run --silent lint -- "${biome_colors[@]}" ;;
    typecheck) step "type-check"; npm run --silent typecheck ;;
    bundle) step "bundle"; npm run --silent build ;;
    mcp-server) step "mcp-server tests (Node $(node --version))"; npm test --silent -w mcp-server ;;
    agent) step "agent tests (Node $(node --version))"; npm test --silent -w agent ;;
    node26)
      local n26
      if ! n26="$(node26)"; then skip "suites on Node 26" "no Node 26" "$NODE26_HINT"; return; fi
      step "suites on Node 26 ($("$n26" --version), the current LTS): unit files and the integration suites"
      # The unit files are where the runtime's own behaviour (test runner, timers, fetch, WebCrypto, streams)
      # meets our code; the integration suites start the real bundles over HTTP. The slower files (the
      # Firestore emulator, Deno, the Inspector, shutdown, tracing) run once, on the step above, to keep
      # make test short. npm, tsx and the services' child processes all run on Node 26 here.
      local n26_path
      n26_path="$(dirname "$n26"):$PATH"
      (cd mcp-server && PATH="$n26_path" node --import tsx --test --test-reporter=spec \
        test/unit.test.ts test/integration.test.ts test/protocol.test.ts test/security.test.ts)
      (cd agent && PATH="$n26_path" node --import tsx --test --test-reporter=spec \
        test/unit.test.ts test/offline.test.ts test/gemini.test.ts test/security.test.ts test/integration.test.ts test/mcp-client.test.ts)
      ;;
    repository)
      step "repository tests (scripts, make up, smoke, bench harness)"
      node --import tsx --test --test-reporter=spec test/*.test.ts
      ;;
    browser)
      if [ ! -x /usr/bin/chromium ]; then
        skip "chat page in Chromium" "no /usr/bin/chromium" "apt-get install chromium (Debian/Ubuntu; the tests drive the system browser, nothing is downloaded)"
        return
      fi
      step "chat page in Chromium (the real bundles)"
      node --import tsx --test --test-reporter=spec test/browser/*.test.ts
      ;;
    shellcheck)
      if ! command -v shellcheck >/dev/null 2>&1; then
        skip shellcheck "not installed" "apt-get install shellcheck (Debian/Ubuntu), brew install shellcheck (macOS)"
        return
      fi
      step "shellcheck"
      scripts/shellcheck.sh
      ;;
    conformance)
      if ! node22 >/dev/null; then skip "MCP conformance suite" "it needs Node 22" "$NODE22_HINT"; return; fi
      step "MCP conformance suite against /mcp"
      scripts/conformance.sh
      ;;
    containers)
      if ! scripts/docker-engine.sh --check; then
        skip "container suite" "no Docker engine answers" \
          "Docker (https://docs.docker.com/engine/install/), or as root on Debian/Ubuntu: scripts/docker-engine.sh (installs docker.io, starts dockerd)"
        return
      fi
      if ! node22 >/dev/null; then skip "container suite" "testcontainers needs Node 22" "$NODE22_HINT"; return; fi
      step "container suite"
      scripts/test-containers.sh
      ;;
    *) echo "test.sh: unknown step '$1' (steps: ${STEPS[*]})" >&2; exit 2 ;;
  esac
}

if [ "${1:-}" = "--list" ]; then printf '%s\n' "${STEPS[@]}"; exit 0; fi
selected=("$@")
[ "${#selected[@]}" -gt 0 ] || selected=("${STEPS[@]}")
current="" started=$SECONDS
# A failed step (set -e ends the run) is named with its time, after the reporter's own summary.
failed_step() {
  local rc=$?
  if [ "$rc" != 0 ] && [ -n "$current" ]; then
    printf '\n%stest: FAILED in step %s after %ds%s\n' "$bold" "$current" "$((SECONDS - started))" "$reset" >&2
  fi
}
trap failed_step EXIT
for current in "${selected[@]}"; do
  started=$SECONDS
  run_step "$current"
  printf '%s-- %s: %ds%s\n' "$bold" "$current" "$((SECONDS - started))" "$reset"
done
current=""

echo
if [ "${#skipped[@]}" -gt 0 ]; then
  printf '%stest: passed, with %d step(s) skipped for a missing optional tool:%s\n' "$bold" "${#skipped[@]}" "$reset"
  printf '  - %s\n' "${skipped[@]}"
  echo "  (CI=true makes these failures; .ci/run installs them.)"
else
  printf '%stest: passed (%s)%s\n' "$bold" "${selected[*]}" "$reset"
fi
