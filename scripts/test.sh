#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it. Each step prints its name; the first failure stops the run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "type-check"
npm run --silent typecheck

step "bundle"
npm run --silent build

step "mcp-server tests"
npm test --silent -w mcp-server

step "agent tests"
npm test --silent -w agent

step "repository tests (scripts, make up, bench harness)"
node --import tsx --test --test-reporter=spec test/*.test.ts

step "shellcheck"
scripts/shellcheck.sh

step "MCP conformance suite against /mcp"
scripts/conformance.sh

step "container suite"
scripts/test-containers.sh
