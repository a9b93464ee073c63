#!/usr/bin/env bash
# make iam: least privilege for the agent's service account, nothing else.
#   roles/run.invoker     on the mcp-server service: Cloud Run lets its ID token through (else 403)
#   roles/aiplatform.user on the project:            Gemini through Vertex AI with ADC
# With GEMINI_ENTERPRISE=1, also:
#   roles/run.invoker     on the agent service:      Gemini Enterprise calls a private A2A agent as
#                                                    the project's Discovery Engine service agent
# Each binding is read first and only added when missing, so a second run changes nothing.
# make clean (unless KEEP_IAM=1) removes exactly these two bindings. (make deploy grants what its
# options need: datastore.user for Firestore sessions, telemetry.tracesWriter for TRACING=1.)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cloud_script iam gcloud

sa_email="$(agent_sa_email)"
member="serviceAccount:$sa_email"
where=(--project="$PROJECT_ID" --region="$REGION")
# Both exist after make deploy; say so plainly instead of surfacing gcloud's NOT_FOUND halfway.
probe_present gcloud run services describe "$MCP_SERVICE" "${where[@]}" ||
  die "service $MCP_SERVICE not found in $PROJECT_ID/$REGION: run make deploy first (nothing was granted)"
probe_present gcloud iam service-accounts describe "$sa_email" --project="$PROJECT_ID" ||
  die "service account $sa_email not found: run make deploy first (nothing was granted)"

ensure_binding "service $MCP_SERVICE" roles/run.invoker "$member" \
  gcloud run services get-iam-policy "$MCP_SERVICE" "${where[@]}" "${POLICY_FORMAT[@]}" -- \
  gcloud run services add-iam-policy-binding "$MCP_SERVICE" "${where[@]}"

# --condition=None: without it gcloud prompts when the project already has conditional bindings.
ensure_binding "project $PROJECT_ID" roles/aiplatform.user "$member" \
  gcloud projects get-iam-policy "$PROJECT_ID" "${POLICY_FORMAT[@]}" -- \
  gcloud projects add-iam-policy-binding "$PROJECT_ID" --condition=None

if [ "${GEMINI_ENTERPRISE:-}" = 1 ]; then
  if is_dry_run; then
    run gcloud run services describe "$AGENT_SERVICE" "${where[@]}" --format='value(status.url)'
    agent_url='<agent-url>' number='<project-number>'
  else
    rc=0
    agent_url="$(query gcloud run services describe "$AGENT_SERVICE" "${where[@]}" \
      --format='value(status.url)')" || rc=$?
    [ "$rc" != 1 ] ||
      die "service $AGENT_SERVICE not found in $PROJECT_ID/$REGION: run make deploy first (Gemini Enterprise was granted nothing)"
    [ "$rc" = 0 ] || exit "$rc"
    number="$(query gcloud projects describe "$PROJECT_ID" --format='value(projectNumber)')"
  fi
  # Google makes this service agent when Gemini Enterprise is first used in the project; granting
  # it before then fails with gcloud's "Service account ... does not exist".
  ensure_binding "service $AGENT_SERVICE" roles/run.invoker \
    "serviceAccount:service-$number@gcp-sa-discoveryengine.iam.gserviceaccount.com" \
    gcloud run services get-iam-policy "$AGENT_SERVICE" "${where[@]}" "${POLICY_FORMAT[@]}" -- \
    gcloud run services add-iam-policy-binding "$AGENT_SERVICE" "${where[@]}"
  log "Gemini Enterprise: register the agent (A2A v0.3) by its card, $agent_url/.well-known/agent-card.json"
fi

log "IAM changes can take a minute to reach Cloud Run; a 403 right after this usually clears by itself."
