#!/usr/bin/env bash
# `make clean`: undo `make deploy` and `make iam`. Asks first (YES=1 skips). Never disables APIs.
#   KEEP_IMAGES=1  keep the images in Artifact Registry     KEEP_IAM=1  keep the service account and its bindings
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
SCRIPT_TARGET=clean load_settings

confirm "Delete $AGENT_SERVICE and $MCP_SERVICE from $PROJECT_ID/$REGION$([ "${KEEP_IMAGES:-0}" = 1 ] || echo ", their images")$([ "${KEEP_IAM:-0}" = 1 ] || echo ", and $AGENT_SA with its bindings")?"

if [ "${KEEP_IAM:-0}" != "1" ]; then
  info "IAM bindings granted by make iam"
  if exists gcloud run services describe "$MCP_SERVICE" "${RUN[@]}"; then
    run gcloud run services remove-iam-policy-binding "$MCP_SERVICE" --member "serviceAccount:$AGENT_SA" \
      --role roles/run.invoker --format none "${RUN[@]}" || warn "no run.invoker binding to remove"
  fi
  run gcloud projects remove-iam-policy-binding "$PROJECT_ID" --member "serviceAccount:$AGENT_SA" \
    --role roles/aiplatform.user --condition None --format none || warn "no aiplatform.user binding to remove"
fi

for svc in "$AGENT_SERVICE" "$MCP_SERVICE"; do
  info "Cloud Run service $svc"
  if exists gcloud run services describe "$svc" "${RUN[@]}"; then
    run gcloud run services delete "$svc" --quiet "${RUN[@]}"
  else
    echo "already gone"
  fi
done

if [ "${KEEP_IAM:-0}" != "1" ]; then
  info "Service account $AGENT_SA"
  if exists gcloud iam service-accounts describe "$AGENT_SA" "${GCP[@]}"; then
    run gcloud iam service-accounts delete "$AGENT_SA" --quiet "${GCP[@]}"
  else
    echo "already gone"
  fi
fi

if [ "${KEEP_IMAGES:-0}" != "1" ]; then
  for image in mcp-server agent; do
    info "Images $IMAGE_BASE/$image"
    run gcloud artifacts docker images delete "$IMAGE_BASE/$image" --delete-tags --quiet "${GCP[@]}" \
      || echo "no images to delete"
  done
  echo "The (now empty) repository $AR_REPO is kept; it costs nothing. Delete it with:"
  echo "  gcloud artifacts repositories delete $AR_REPO --location $REGION --project $PROJECT_ID"
fi

cat <<EOF_DONE

Cleaned up. APIs stay enabled. To start again: make deploy && make iam (PROJECT_ID=$PROJECT_ID REGION=$REGION);
after a partial cleanup (KEEP_IMAGES/KEEP_IAM) the same two commands restore everything, reusing what is left.
EOF_DONE
