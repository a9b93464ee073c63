#!/usr/bin/env bash
# `make eval`: the agent's eval sets (eval/*.evalset.json, ADK's format) against a running agent, or
# with MODELS=a,b against a local agent started once per GOOGLE_MODEL. eval/run.ts does the work and
# names its settings; this script brings the bundles up to date for MODELS and, like smoke.sh, takes
# an ID token from gcloud for an https AGENT_URL (a deployed, private agent) when ID_TOKEN is unset.
# Exit 1 when a case fails, 2 when the eval could not run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

AGENT_URL="${AGENT_URL:-http://127.0.0.1:8080}"
export AGENT_URL

if [ -n "${MODELS:-}" ]; then
  npm run --silent build >/dev/null
elif [ -z "${ID_TOKEN+set}" ] && [[ "$AGENT_URL" == https://* ]]; then
  # Cloud Run takes the ID token of gcloud's account where it holds run.invoker
  # (https://cloud.google.com/run/docs/authenticating/developers).
  if ! command -v gcloud >/dev/null 2>&1 ||
    ! ID_TOKEN="$(gcloud auth print-identity-token 2>/dev/null)" || [ -z "$ID_TOKEN" ]; then
    echo "eval: $AGENT_URL is https and ID_TOKEN is unset, but gcloud gave no ID token" >&2
    echo "  (run: gcloud auth login);" >&2
    echo "  or set ID_TOKEN= for a public agent" >&2
    exit 2
  fi
  export ID_TOKEN
  echo "eval: sending the ID token of gcloud's active account"
fi

exec node --import tsx eval/run.ts
