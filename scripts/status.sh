#!/usr/bin/env bash
# make status: what is deployed (URL, service account, latest revision), who may call the agent,
# where its sessions live, and whether the bindings make iam grants are in place. Read-only.
# DRY_RUN=1 prints the read-only commands it would run and nothing else: no state it did not read.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cloud_script status gcloud

member="serviceAccount:$(agent_sa_email)"
where=(--project="$PROJECT_ID" --region="$REGION")
# runtime service account empty = the project's default compute account
svc_format='value(status.url,spec.template.spec.serviceAccountName,status.latestReadyRevisionName)'
# The agent's access mode and session store, read back from what Cloud Run runs.
agent_format='value(metadata.annotations,spec.template.spec.containers[0].env[].name,spec.template.spec.containers[0].env[].value)'

if is_dry_run; then
  log "Dry run: make status would run these read-only commands and report what they say."
  for svc in "$MCP_SERVICE" "$AGENT_SERVICE"; do
    run gcloud run services describe "$svc" "${where[@]}" --format="$svc_format"
  done
  run gcloud run services describe "$AGENT_SERVICE" "${where[@]}" --format="$agent_format"
  run gcloud run services describe "$MCP_SERVICE" "${where[@]}" --format="$agent_format"
  run gcloud firestore databases describe --database="$FIRESTORE_DATABASE" --format='value(type,locationId)' --project="$PROJECT_ID"
  run gcloud firestore fields ttls list --collection-group="$FIRESTORE_COLLECTION" --database="$FIRESTORE_DATABASE" --format='value(name)' --project="$PROJECT_ID"
  run gcloud run services get-iam-policy "$MCP_SERVICE" "${where[@]}" "${POLICY_FORMAT[@]}"
  run gcloud run services get-iam-policy "$AGENT_SERVICE" "${where[@]}" "${POLICY_FORMAT[@]}"
  run gcloud projects get-iam-policy "$PROJECT_ID" "${POLICY_FORMAT[@]}"
  exit 0
fi

printf 'project %s, region %s\n' "$PROJECT_ID" "$REGION"
agent_deployed=0
mcp_deployed=0
for svc in "$MCP_SERVICE" "$AGENT_SERVICE"; do
  rc=0
  out="$(query gcloud run services describe "$svc" "${where[@]}" --format="$svc_format")" || rc=$?
  case "$rc" in
    0)
      # Split on tabs by hand: `read` would merge adjacent tabs and shift an empty field.
      url="${out%%$'\t'*}"; rest="${out#*$'\t'}"; sa="${rest%%$'\t'*}"; revision="${rest#*$'\t'}"
      printf '%-11s %s  (runs as %s, revision %s)\n' "$svc" "${url:--}" "${sa:-default compute account}" "${revision:--}"
      [ "$svc" = "$AGENT_SERVICE" ] && agent_deployed=1
      [ "$svc" = "$MCP_SERVICE" ] && mcp_deployed=1 ;;
    1) printf '%-11s not deployed\n' "$svc" ;;
    *) exit "$rc" ;;
  esac
done

# env_of NAMES VALUES NAME: the value of NAME in gcloud's ";"-joined name and value lists.
env_of() {
  local keys vals i
  IFS=';' read -r -a keys <<<"$1"
  IFS=';' read -r -a vals <<<"$2"
  for i in "${!keys[@]}"; do
    [ "${keys[$i]}" = "$3" ] && { printf '%s' "${vals[$i]:-}"; return 0; }
  done
  return 0
}

# mcp-server's MCP_ACCESS, read back: the invoker check off and OAuth in MCP_SERVER_AUTH = oauth.
if [ "$mcp_deployed" = 1 ]; then
  out="$(query gcloud run services describe "$MCP_SERVICE" "${where[@]}" --format="$agent_format")"
  annotations="${out%%$'\t'*}"; rest="${out#*$'\t'}"; names="${rest%%$'\t'*}"; values="${rest#*$'\t'}"
  auth="$(env_of "$names" "$values" MCP_SERVER_AUTH)"
  if [[ ";$annotations;" == *";run.googleapis.com/invoker-iam-disabled=true;"* ]]; then
    if [[ ",$auth," == *",oauth,"* ]]; then
      audience="$(env_of "$names" "$values" OAUTH_AUDIENCE)"
      mcp_access="oauth (access tokens from $(env_of "$names" "$values" OAUTH_ISSUER) for $(env_of "$names" "$values" MCP_RESOURCE_URL)${audience:+ (aud $audience)}; MCP_SERVER_AUTH=$auth)"
    else
      mcp_access="OPEN (invoker IAM check off and MCP_SERVER_AUTH=${auth:-none}: make deploy fixes it)"
    fi
  else
    mcp_access="iam (only callers with roles/run.invoker on $MCP_SERVICE)"
  fi
  printf '%-11s %s\n' mcp-access "$mcp_access"
fi

store=""
if [ "$agent_deployed" = 1 ]; then
  out="$(query gcloud run services describe "$AGENT_SERVICE" "${where[@]}" --format="$agent_format")"
  annotations="${out%%$'\t'*}"; rest="${out#*$'\t'}"; names="${rest%%$'\t'*}"; values="${rest#*$'\t'}"
  agent_policy="$(query gcloud run services get-iam-policy "$AGENT_SERVICE" "${where[@]}" "${POLICY_FORMAT[@]}")"
  if [[ ";$annotations;" == *";run.googleapis.com/iap-enabled=true;"* ]]; then
    access="iap (Identity-Aware Proxy signs users in; IAP_AUDIENCE=$(env_of "$names" "$values" IAP_AUDIENCE))"
  elif [[ ";$annotations;" == *";run.googleapis.com/invoker-iam-disabled=true;"* ]]; then
    access="public (invoker IAM check off: anyone on the internet can call it)"
  elif policy_has roles/run.invoker allUsers <<<"$agent_policy"; then
    access="public (allUsers holds roles/run.invoker: anyone on the internet can call it)"
  else
    access="private (only callers with roles/run.invoker on $AGENT_SERVICE)"
  fi
  printf '%-11s %s\n' access "$access"
  store="$(env_of "$names" "$values" SESSION_STORE)"
  db="$(env_of "$names" "$values" FIRESTORE_DATABASE)"; db="${db:-(default)}"
  collection="$(env_of "$names" "$values" FIRESTORE_COLLECTION)"; collection="${collection:-agent-sessions}"
  case "$store" in
    firestore)
      rc=0
      info="$(query gcloud firestore databases describe --database="$db" --format='value(type,locationId)' --project="$PROJECT_ID")" || rc=$?
      case "$rc" in
        0) db_state="${info%%$'\t'*} in ${info#*$'\t'}" ;;
        1) db_state="MISSING (make deploy creates it)" ;;
        *) exit "$rc" ;;
      esac
      ttl="$(query gcloud firestore fields ttls list --collection-group="$collection" --database="$db" --format='value(name)' --project="$PROJECT_ID")" ||
        { rc=$?; [ "$rc" = 1 ] || exit "$rc"; ttl=""; }
      if grep -q '/fields/expire_at$' <<<"$ttl"; then ttl_state="TTL on expire_at"; else ttl_state="no TTL policy on expire_at (make deploy sets it)"; fi
      printf '%-11s firestore: database %s (%s), collection %s, %s\n' sessions "$db" "$db_state" "$collection" "$ttl_state" ;;
    *) printf '%-11s %s (in each instance'"'"'s memory: lost on restart, not shared)\n' sessions "${store:-memory}" ;;
  esac
fi

check() { # label role policy member
  if [ -n "$3" ] && policy_has "$2" "$4" <<<"$3"; then
    printf '%-11s %s for %s: granted\n' iam "$2" "$1"
  else
    printf '%-11s %s for %s: MISSING (%s)\n' iam "$2" "$1" "$5"
  fi
}
policy="$(query gcloud run services get-iam-policy "$MCP_SERVICE" "${where[@]}" "${POLICY_FORMAT[@]}")" ||
  { rc=$?; [ "$rc" = 1 ] || exit "$rc"; }
check "$member on $MCP_SERVICE" roles/run.invoker "$policy" "$member" "make iam"
policy="$(query gcloud projects get-iam-policy "$PROJECT_ID" "${POLICY_FORMAT[@]}")"
check "$member on project" roles/aiplatform.user "$policy" "$member" "make iam"
[ "$store" = firestore ] && check "$member on project" "$DATASTORE_ROLE" "$policy" "$member" "make deploy"
exit 0
