#!/usr/bin/env bash
# make status: what is deployed (URL, service account, latest revision), and whether the bindings
# make iam grants are in place. Read-only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
SCRIPT_VERB=status

require_vars PROJECT_ID REGION
require_cmd gcloud "Install the Google Cloud CLI: https://cloud.google.com/sdk/docs/install"

member="serviceAccount:$(agent_sa_email)"
where=(--project="$PROJECT_ID" --region="$REGION")
policy_format=(--flatten='bindings[].members' --format='value(bindings.role,bindings.members)')
# runtime service account empty = the project's default compute account
svc_format='value(status.url,spec.template.spec.serviceAccountName,status.latestReadyRevisionName)'

# show CMD...: print a read-only command's output (1 when not found); under DRY_RUN only the command.
show() {
  if is_dry_run; then run "$@"; return 0; fi
  query "$@"
}

printf 'project %s, region %s\n' "$PROJECT_ID" "$REGION"
for svc in "$MCP_SERVICE" "$AGENT_SERVICE"; do
  rc=0
  out="$(show gcloud run services describe "$svc" "${where[@]}" --format="$svc_format")" || rc=$?
  case "$rc" in
    0)
      # Split on tabs by hand: `read` would merge adjacent tabs and shift an empty field.
      url="${out%%$'\t'*}"; rest="${out#*$'\t'}"; sa="${rest%%$'\t'*}"; revision="${rest#*$'\t'}"
      printf '%-11s %s  (runs as %s, revision %s)\n' "$svc" "${url:--}" "${sa:-default compute account}" "${revision:--}" ;;
    1) printf '%-11s not deployed\n' "$svc" ;;
    *) exit "$rc" ;;
  esac
done

check() { # label role policy
  if [ -n "$3" ] && policy_has "$2" "$member" <<<"$3"; then
    printf '%-11s %s for %s: granted\n' iam "$2" "$1"
  else
    printf '%-11s %s for %s: MISSING (make iam)\n' iam "$2" "$1"
  fi
}
policy="$(show gcloud run services get-iam-policy "$MCP_SERVICE" "${where[@]}" "${policy_format[@]}")" ||
  { rc=$?; [ "$rc" = 1 ] || exit "$rc"; }
check "$member on $MCP_SERVICE" roles/run.invoker "$policy"
policy="$(show gcloud projects get-iam-policy "$PROJECT_ID" "${policy_format[@]}")"
check "$member on project" roles/aiplatform.user "$policy"
