#!/usr/bin/env bash
# Runs a command with a Node that package.json's `engines` admits first on PATH, so `node`, `npm`, `npx`
# and tsx inside it all run on that Node. The make targets that run Node go through this.
#   scripts/with-node.sh COMMAND ARGS...
#   scripts/with-node.sh --dir      prints the directory of that node (the Makefile puts it first on PATH)
# The `node` on PATH is used when it is new enough. When it is older (or missing), one line says so and
# a Node of the WITH_NODE line (22, the images' runtime, unless set: 24 or 26) is fetched from npm into
# .tools/ by scripts/tools.sh (Linux x86-64; elsewhere install Node 22+ yourself, e.g. nvm install 22).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ "$#" -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }

# The oldest Node every installed package supports, as package.json's engines says (">=X.Y.Z").
min="$(sed -n 's/.*"node": *">=\([0-9][0-9.]*\)".*/\1/p' "$root/package.json" | head -1)"
[ -n "$min" ] || { echo "with-node: no \"node\": \">=X.Y.Z\" in package.json engines" >&2; exit 1; }

version_ge() { # A B: is version A >= version B?
  local IFS=. a b i
  read -r -a a <<<"$1"; read -r -a b <<<"$2"
  for i in 0 1 2; do
    [ "${a[i]:-0}" -gt "${b[i]:-0}" ] && return 0
    [ "${a[i]:-0}" -lt "${b[i]:-0}" ] && return 1
  done
  return 0
}

have=""
command -v node >/dev/null 2>&1 && have="$(node -p process.versions.node 2>/dev/null || true)"
if [ -n "$have" ] && version_ge "$have" "$min" && { [ -z "${WITH_NODE:-}" ] || [ "${have%%.*}" = "$WITH_NODE" ]; }; then
  [ "$1" = --dir ] && { dirname "$(command -v node)"; exit 0; }
  exec "$@"
fi
want="${WITH_NODE:-22}"
if [ -n "${WITH_NODE:-}" ] && [ -n "$have" ] && version_ge "$have" "$min"; then
  echo "node: using Node $want from npm (.tools/) as WITH_NODE=$want asks (node on PATH is v$have)" >&2
else
  echo "node: ${have:+v}${have:-no node} on PATH, and this project needs Node $min or later: using Node $want from npm (.tools/)" >&2
fi
bin="$("$root/scripts/tools.sh" node "$want")"
[ "$1" = --dir ] && { dirname "$bin"; exit 0; }
PATH="$(dirname "$bin"):$PATH" exec "$@"
