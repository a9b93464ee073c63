#!/usr/bin/env bash
# make clean: undo make deploy and make iam, after a confirmation (YES=1 skips it; no stdin refuses;
# DRY_RUN=1 prints the commands and asks nothing).
# Order: IAM bindings (agent: aiplatform.user, datastore.user, telemetry.tracesWriter; mcp-server:
# telemetry.tracesWriter; build account: its three roles; run.invoker on mcp-server), the agent's IAP
# access list, both services, the three service accounts, each only if its description carries
# deploy's mark (SA_MARK; others are named and left) (KEEP_IAM=1 keeps bindings and accounts; the
# run.invoker bindings still go with the services), both images and the repository's cleanup policies
# (KEEP_IMAGES=1 keeps them). The Firestore database and its sessions stay unless DELETE_FIRESTORE=1,
# which asks its own question. APIs are never disabled: other things in the project may use them.
# Each step checks first, so a rerun after a partial cleanup finishes the job and fails on nothing.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cloud_script clean gcloud
# The IAP commands' track (GA from gcloud 558, beta before), from `gcloud version`.
gcloud_tracks
KEEP_IAM="${KEEP_IAM:-0}"
KEEP_IMAGES="${KEEP_IMAGES:-0}"
DELETE_FIRESTORE="${DELETE_FIRESTORE:-0}"

sa_email="$(agent_sa_email)"
mcp_sa_email="$(sa_email_of "$MCP_SA_NAME")"
build_sa_email="$(sa_email_of "$BUILD_SA_NAME")"
member="serviceAccount:$sa_email"
project=(--project="$PROJECT_ID")
where=(--project="$PROJECT_ID" --region="$REGION")
repo_where=(--location="$REGION" --project="$PROJECT_ID")
repo=(--repository="$AR_REPO" "${repo_where[@]}")

restart_hint() {
  log "To start again: make deploy PROJECT_ID=$PROJECT_ID REGION=$REGION && make iam PROJECT_ID=$PROJECT_ID REGION=$REGION"
  log "(deploy and iam skip whatever still exists; rerunning make clean removes whatever is left)."
}

log "This deletes in project $PROJECT_ID, region $REGION:"
log "  - Cloud Run services $AGENT_SERVICE and $MCP_SERVICE (with the agent's IAP access list, if any)"
[ "$KEEP_IMAGES" = 1 ] || log "  - images $(image_path mcp-server) and $(image_path agent) (all tags) and the repository's cleanup policies"
if [ "$KEEP_IAM" != 1 ]; then
  log "  - the roles make deploy and make iam granted to $sa_email, $mcp_sa_email and $build_sa_email"
  log "  - those three service accounts, each only if make deploy created it (its description says so)"
fi
if [ "$DELETE_FIRESTORE" = 1 ]; then
  log "  - the Firestore database $FIRESTORE_DATABASE and every document in it (asked separately)"
else
  log "The Firestore database $FIRESTORE_DATABASE and its sessions stay (DELETE_FIRESTORE=1 deletes them). APIs stay enabled."
fi
if is_dry_run; then log "Dry run: printing the commands, asking nothing."; else confirm "Delete these?"; fi
on_exit() { [ "$1" = 0 ] || { log "clean stopped part-way."; restart_hint; }; }
trap 'on_exit $?' EXIT

# The database holds users' conversations and its location can never be chosen again: its own
# question, which YES=1 does not answer. FIRESTORE_DELETE_CONFIRM=<database> answers it in scripts.
if [ "$DELETE_FIRESTORE" = 1 ] && ! is_dry_run && [ "${FIRESTORE_DELETE_CONFIRM:-}" != "$FIRESTORE_DATABASE" ]; then
  printf 'Delete the Firestore database %s of project %s, with every document in it? Type its name to confirm: ' "$FIRESTORE_DATABASE" "$PROJECT_ID" >&2
  answer=""
  IFS= read -r answer || true
  [ "$answer" = "$FIRESTORE_DATABASE" ] || die "the database name was not typed (got \"$answer\"); nothing was changed."
fi

project_revoke() { # ROLE MEMBER
  drop_binding "project $PROJECT_ID" "$1" "$2" \
    gcloud projects get-iam-policy "$PROJECT_ID" "${POLICY_FORMAT[@]}" -- \
    gcloud projects remove-iam-policy-binding "$PROJECT_ID" --condition=None
}

if [ "$KEEP_IAM" != 1 ]; then
  log "== IAM"
  project_revoke roles/aiplatform.user "$member"
  project_revoke "$DATASTORE_ROLE" "$member"
  project_revoke "$TRACES_ROLE" "$member"
  project_revoke "$TRACES_ROLE" "serviceAccount:$mcp_sa_email"
  for role in "${BUILD_PROJECT_ROLES[@]}"; do project_revoke "$role" "serviceAccount:$build_sa_email"; done
  drop_binding "repository $AR_REPO" "$BUILD_REPO_ROLE" "serviceAccount:$build_sa_email" \
    gcloud artifacts repositories get-iam-policy "$AR_REPO" "${repo_where[@]}" "${POLICY_FORMAT[@]}" -- \
    gcloud artifacts repositories remove-iam-policy-binding "$AR_REPO" "${repo_where[@]}"
  drop_binding "service $MCP_SERVICE" roles/run.invoker "$member" \
    gcloud run services get-iam-policy "$MCP_SERVICE" "${where[@]}" "${POLICY_FORMAT[@]}" -- \
    gcloud run services remove-iam-policy-binding "$MCP_SERVICE" "${where[@]}"
else
  log "== IAM kept (KEEP_IAM=1): the service accounts and their project roles stay;"
  log "   roles/run.invoker is part of the $MCP_SERVICE service and goes with it (make iam restores it)."
fi

# AGENT_ACCESS=iap: empty the agent's IAP access list before the service goes. A dry run cannot see
# whether IAP is on, so its plan follows AGENT_ACCESS (the setting the deploy used, from .env or the
# command line) and names the step it leaves out.
if is_dry_run && [ "${AGENT_ACCESS:-private}" != iap ]; then
  log "(no IAP step: AGENT_ACCESS=${AGENT_ACCESS:-private}. A real clean checks whether IAP is on all the same; with AGENT_ACCESS=iap the plan shows the step)"
else
  iap_on="$(agent_iap_enabled "${where[@]}")" || { rc=$?; [ "$rc" = 1 ] || exit "$rc"; }
  if [ "$iap_on" = true ] || is_dry_run; then
    log "== IAP access list of $AGENT_SERVICE"
    [ "${IAP_WEB[1]}" = beta ] && need_beta "Reading the IAP access list with ${IAP_WEB[*]}"
    empty_iap_access_list
  fi
fi

log "== Services"
for svc in "$AGENT_SERVICE" "$MCP_SERVICE"; do
  if probe_present gcloud run services describe "$svc" "${where[@]}"; then
    run_if "the describe above finds it" gcloud run services delete "$svc" --quiet "${where[@]}"
  else
    log "already gone: service $svc"
  fi
done

if [ "$KEEP_IAM" != 1 ]; then
  log "== Service accounts"
  # After the bindings (no "deleted:serviceAccount:" member lingers in a policy) and after the
  # services (none is left running as a deleted identity).
  # Only accounts whose description carries deploy's mark: one made by hand, or by another tool, under
  # the same name is left alone (and named).
  for email in "$sa_email" "$mcp_sa_email" "$build_sa_email"; do
    describe=(gcloud iam service-accounts describe "$email" --format='value(description)' "${project[@]}")
    if is_dry_run; then
      run "${describe[@]}"
      run_if "the describe above finds it, with the mark in its description" gcloud iam service-accounts delete "$email" --quiet "${project[@]}"
      continue
    fi
    rc=0
    description="$(query "${describe[@]}")" || rc=$?
    if [ "$rc" = 1 ]; then
      log "already gone: service account $email"
    elif [ "$rc" != 0 ]; then
      exit "$rc"
    elif [[ "$description" == *"$SA_MARK"* ]]; then
      run gcloud iam service-accounts delete "$email" --quiet "${project[@]}"
    else
      log "left alone: service account $email (make deploy did not create it: its description lacks \"$SA_MARK\")"
    fi
  done
fi

if [ "$KEEP_IMAGES" != 1 ]; then
  log "== Images"
  # Only our two packages: the repository may hold other images; an empty one costs nothing.
  for pkg in mcp-server agent; do
    if probe_present gcloud artifacts packages describe "$pkg" "${repo[@]}"; then
      run_if "the describe above finds it" gcloud artifacts packages delete "$pkg" --quiet "${repo[@]}"
    else
      log "already gone: image $(image_path "$pkg")"
    fi
  done
  if probe_present gcloud artifacts repositories describe "$AR_REPO" "${repo_where[@]}"; then
    run_if "the describe above finds it" gcloud artifacts repositories delete-cleanup-policies "$AR_REPO" \
      --policynames="$AR_REPO-keep-newest,$AR_REPO-delete-older" "${repo_where[@]}" >/dev/null
  fi
else
  log "== Images kept (KEEP_IMAGES=1)"
fi

if [ "$DELETE_FIRESTORE" = 1 ]; then
  log "== Firestore database $FIRESTORE_DATABASE"
  if probe_present gcloud firestore databases describe --database="$FIRESTORE_DATABASE" "${project[@]}"; then
    run_if "the describe above finds it" gcloud firestore databases delete --database="$FIRESTORE_DATABASE" --quiet "${project[@]}"
  else
    log "already gone: Firestore database $FIRESTORE_DATABASE"
  fi
fi

log ""
if is_dry_run; then log "Dry run: nothing was deleted."; else log "Clean. APIs are still enabled."; fi
restart_hint
