#!/usr/bin/env bash
# `make status`: what is deployed, where, as whom, and whether the bindings from `make iam` are there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
SCRIPT_TARGET=status load_settings

for svc in "$MCP_SERVICE" "$AGENT_SERVICE"; do
  if line="$(run gcloud run services describe "$svc" --format 'value(status.url,spec.template.spec.serviceAccountName)' "${RUN[@]}" 2>/dev/null)"; then
    printf '%-12s %s\n' "$svc" "${line:-deployed}"
  else
    printf '%-12s not deployed\n' "$svc"
  fi
done
has_binding() { # label command...
  local label="$1"
  shift
  if run "$@" 2>/dev/null | grep -q "serviceAccount:$AGENT_SA"; then echo "ok       $label"; else echo "missing  $label (run make iam)"; fi
}
has_binding "roles/run.invoker on $MCP_SERVICE" gcloud run services get-iam-policy "$MCP_SERVICE" \
  --flatten 'bindings[].members' --filter 'bindings.role:roles/run.invoker' --format 'value(bindings.members)' "${RUN[@]}"
has_binding "roles/aiplatform.user on $PROJECT_ID" gcloud projects get-iam-policy "$PROJECT_ID" \
  --flatten 'bindings[].members' --filter 'bindings.role:roles/aiplatform.user' --format 'value(bindings.members)'
