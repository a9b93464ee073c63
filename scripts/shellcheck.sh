#!/usr/bin/env bash
# Lints every shell script of the repository with shellcheck.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v shellcheck >/dev/null 2>&1; then
  echo "shellcheck is not installed: apt-get install shellcheck (Debian/Ubuntu) or brew install shellcheck" >&2
  exit 1
fi
mapfile -t files < <(
  { ls scripts/*.sh .ci/run; grep -rlE '^#!/usr/bin/env (bash|sh)' test/support/bin test/support/docker-bin 2>/dev/null || true; } | sort -u
)
shellcheck --severity=style "${files[@]}"
echo "shellcheck: ${#files[@]} scripts clean"
