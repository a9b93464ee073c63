#!/usr/bin/env bash
# Makes sure a Docker engine answers: installs Debian's docker.io when there is none (as root, with
# apt), starts dockerd in the background when it isn't running, and waits for it.
#   scripts/docker-engine.sh          ensure it runs (exit 1 with the reason when it can't)
#   scripts/docker-engine.sh --check  only say whether one answers (exit 0/1), change nothing
#   scripts/docker-engine.sh --pidfile FILE   ensure it runs; if this call starts dockerd, write its
#                                     PID to FILE, so whoever asked can stop exactly that process
set -euo pipefail

pidfile=""
case "${1:-}" in
  --check) docker info >/dev/null 2>&1; exit ;;
  --pidfile) pidfile="${2:?--pidfile needs a file}" ;;
  "") ;;
  *) echo "usage: $0 [--check | --pidfile FILE]" >&2; exit 2 ;;
esac
if docker info >/dev/null 2>&1; then exit 0; fi

if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "docker-engine: no Docker engine and no way to install one here (needs root and apt-get)" >&2
    exit 1
  fi
  echo "docker-engine: installing docker.io from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi
command -v docker >/dev/null 2>&1 || { echo "docker-engine: no docker client on PATH" >&2; exit 1; }

if ! pgrep -x dockerd >/dev/null 2>&1; then
  [ "$(id -u)" = "0" ] || { echo "docker-engine: dockerd is not running and only root can start it here" >&2; exit 1; }
  echo "docker-engine: starting dockerd (log: /var/log/dockerd.log)"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  [ -z "$pidfile" ] || echo "$!" >"$pidfile"
fi
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && { echo "docker-engine: ready ($(docker version --format '{{.Server.Version}}'))"; exit 0; }
  sleep 0.5
done
echo "docker-engine: dockerd did not answer within 30 s; see /var/log/dockerd.log" >&2
tail -20 /var/log/dockerd.log >&2 || true
exit 1
