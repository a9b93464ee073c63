#!/usr/bin/env bash
# make clean: undo make deploy and make iam, after a confirmation (YES=1 skips it; no stdin refuses).
# Order: the two IAM bindings, both services, both service accounts (KEEP_IAM=1 keeps bindings and
# accounts; the run.invoker binding still goes with the mcp-server service), both images
# (KEEP_IMAGES=1 keeps them). APIs are never disabled: other things in the project may use them.
# Each step checks first, so a rerun after a partial cleanup finishes the job and fails on nothing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
SCRIPT_VERB=clean

require_vars PROJECT_ID REGION
require_cmd gcloud "Install the Google Cloud CLI: https://cloud.google.com/sdk/docs/install"
KEEP_IAM="${KEEP_IAM:-0}"
KEEP_IMAGES="${KEEP_IMAGES:-0}"

sa_email="$(agent_sa_email)"
member="serviceAccount:$sa_email"
project=(--project="$PROJECT_ID")
where=(--project="$PROJECT_ID" --region="$REGION")
policy_format=(--flatten='bindings[].members' --format='value(bindings.role,bindings.members)')
repo=(--repository="$AR_REPO" --location="$REGION" "${project[@]}")

restart_hint() {
  log "To start again: make deploy PROJECT_ID=$PROJECT_ID REGION=$REGION && make iam PROJECT_ID=$PROJECT_ID REGION=$REGION"
  log "(deploy and iam skip whatever still exists; rerunning make clean removes whatever is left)."
}

log "This deletes in project $PROJECT_ID, region $REGION:"
log "  - Cloud Run services $AGENT_SERVICE and $MCP_SERVICE"
[ "$KEEP_IMAGES" = 1 ] || log "  - images $(image_path mcp-server) and $(image_path agent) (all tags)"
[ "$KEEP_IAM" = 1 ] || log "  - roles/aiplatform.user and roles/run.invoker for $member, and the service accounts $sa_email and $(sa_email_of "$MCP_SA_NAME")"
log "APIs stay enabled."
confirm "Delete these?"
on_exit() { [ "$1" = 0 ] || { log "clean stopped part-way."; restart_hint; }; }
trap 'on_exit $?' EXIT

# remove_binding LABEL ROLE GET-POLICY-CMD... -- REMOVE-BINDING-CMD...
remove_binding() {
  local label="$1" role="$2"; shift 2
  local get=() remove=()
  while [ "$1" != -- ]; do get+=("$1"); shift; done
  shift; remove=("$@")
  local policy=""
  if is_dry_run; then
    run "${get[@]}"
  else
    # A deleted service has no policy; that counts as "nothing to remove".
    policy="$(query "${get[@]}")" || { rc=$?; [ "$rc" = 1 ] || exit "$rc"; }
  fi
  if is_dry_run || { [ -n "$policy" ] && policy_has "$role" "$member" <<<"$policy"; }; then
    run "${remove[@]}" --member="$member" --role="$role" >/dev/null
    log "$(did removed): $role from $member on $label"
  else
    log "not bound: $role for $member on $label"
  fi
}

if [ "$KEEP_IAM" != 1 ]; then
  log "== IAM"
  remove_binding "project $PROJECT_ID" roles/aiplatform.user \
    gcloud projects get-iam-policy "$PROJECT_ID" "${policy_format[@]}" -- \
    gcloud projects remove-iam-policy-binding "$PROJECT_ID" --condition=None
  remove_binding "service $MCP_SERVICE" roles/run.invoker \
    gcloud run services get-iam-policy "$MCP_SERVICE" "${where[@]}" "${policy_format[@]}" -- \
    gcloud run services remove-iam-policy-binding "$MCP_SERVICE" "${where[@]}"
else
  log "== IAM kept (KEEP_IAM=1): both service accounts and roles/aiplatform.user for $sa_email stay;"
  log "   roles/run.invoker is part of the $MCP_SERVICE service and goes with it (make iam restores it)."
fi

log "== Services"
for svc in "$AGENT_SERVICE" "$MCP_SERVICE"; do
  if probe_present gcloud run services describe "$svc" "${where[@]}"; then
    run gcloud run services delete "$svc" --quiet "${where[@]}"
  else
    log "already gone: service $svc"
  fi
done

if [ "$KEEP_IAM" != 1 ]; then
  log "== Service accounts"
  # After the bindings (no "deleted:serviceAccount:" member lingers in a policy) and after the
  # services (none is left running as a deleted identity).
  for email in "$sa_email" "$(sa_email_of "$MCP_SA_NAME")"; do
    if probe_present gcloud iam service-accounts describe "$email" "${project[@]}"; then
      run gcloud iam service-accounts delete "$email" --quiet "${project[@]}"
    else
      log "already gone: service account $email"
    fi
  done
fi

if [ "$KEEP_IMAGES" != 1 ]; then
  log "== Images"
  # Only our two packages: the repository may hold other images; an empty one costs nothing.
  for pkg in mcp-server agent; do
    if probe_present gcloud artifacts packages describe "$pkg" "${repo[@]}"; then
      run gcloud artifacts packages delete "$pkg" --quiet "${repo[@]}"
    else
      log "already gone: image $(image_path "$pkg")"
    fi
  done
else
  log "== Images kept (KEEP_IMAGES=1)"
fi

log ""
if is_dry_run; then log "Dry run: nothing was deleted."; else log "Clean. APIs are still enabled."; fi
restart_hint
