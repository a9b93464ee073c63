#!/usr/bin/env bash
# The container suite: both images built from the Dockerfile and run with testcontainers.
# Without a Docker engine it says so in one line and exits 0, except in CI, where it must run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! scripts/docker-engine.sh --check; then
  if [ "${CI:-}" = "true" ]; then
    echo "container suite: no Docker engine answers, and CI must run this suite (.ci/run starts one)" >&2
    exit 1
  fi
  echo "container suite SKIPPED: no Docker engine answers. Install: Docker (https://docs.docker.com/engine/install/), or as root on Debian/Ubuntu: scripts/docker-engine.sh"
  exit 0
fi
NODE_IMAGE="$(scripts/base-image.sh)"
export NODE_IMAGE
# The reaper image cannot be pulled where no registry answers; the suite stops its own containers.
export TESTCONTAINERS_RYUK_DISABLED=true
node22="$(scripts/tools.sh node22)"
"$node22" --import tsx --test --test-reporter=spec --test-concurrency=1 test/containers/*.test.ts

if docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1; then
  scripts/compose.sh config >/dev/null && echo "docker compose config: valid"
elif [ "${CI:-}" = "true" ]; then
  echo "docker compose config: no compose installed, and CI=true requires the check (apt-get install docker-compose)" >&2
  exit 1
else
  echo "docker compose config: SKIPPED (no compose). Install: apt-get install docker-compose-plugin (Docker's repository) or docker-compose (Debian)"
fi
