#!/usr/bin/env bash
# make deploy: APIs, Artifact Registry repo, both images, mcp-server (private), then the agent pointed
# at it, running as its own service account. Idempotent: every resource is described before it is made.
# Required: PROJECT_ID, REGION. Options (defaults): BUILD=cloudbuild|docker, MCP_TRANSPORT=mcp|sse,
# AGENT_PUBLIC=1, IMAGE_TAG (git commit), NODE_IMAGE=node:22-slim, GOOGLE_MODEL=gemini-2.5-flash,
# GOOGLE_CLOUD_LOCATION (REGION), MCP_MAX_INSTANCES, AGENT_MAX_INSTANCES, FRANKFURTER_URL, DRY_RUN=1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
SCRIPT_VERB=deploy

require_vars PROJECT_ID REGION
BUILD="${BUILD:-cloudbuild}"
MCP_TRANSPORT="${MCP_TRANSPORT:-mcp}"
AGENT_PUBLIC="${AGENT_PUBLIC:-1}"
NODE_IMAGE="${NODE_IMAGE:-node:22-slim}"
GOOGLE_MODEL="${GOOGLE_MODEL:-gemini-2.5-flash}"
GOOGLE_CLOUD_LOCATION="${GOOGLE_CLOUD_LOCATION:-$REGION}"
FRANKFURTER_URL="${FRANKFURTER_URL:-https://api.frankfurter.dev/v1}"
AGENT_MAX_INSTANCES="${AGENT_MAX_INSTANCES:-10}"
if [ -z "${IMAGE_TAG:-}" ]; then
  # "-dirty" when the tree has uncommitted changes, so the tag never claims a commit it isn't.
  IMAGE_TAG="$(git describe --always --dirty 2>/dev/null || echo latest)"
fi

case "$BUILD" in cloudbuild | docker) ;; *) die "BUILD must be cloudbuild or docker (got \"$BUILD\")" ;; esac
case "$MCP_TRANSPORT" in mcp | sse) ;; *) die "MCP_TRANSPORT must be mcp or sse (got \"$MCP_TRANSPORT\")" ;; esac
case "$AGENT_PUBLIC" in 0 | 1) ;; *) die "AGENT_PUBLIC must be 0 or 1 (got \"$AGENT_PUBLIC\")" ;; esac
require_cmd gcloud "Install the Google Cloud CLI: https://cloud.google.com/sdk/docs/install"
[ "$BUILD" = docker ] && require_cmd docker "Install Docker, or use BUILD=cloudbuild."

# SSE keeps each session in one instance's memory: a POST /messages that lands on another instance
# gets 404. Affinity is best effort and cookie-based (the agent's fetch sends no cookies), so one
# instance is the real fix; more only with a warning.
# Streamable HTTP (/mcp) is stateless here and scales freely.
if [ "$MCP_TRANSPORT" = sse ]; then
  MCP_MAX_INSTANCES="${MCP_MAX_INSTANCES:-1}"
  affinity=--session-affinity
  if [ "$MCP_MAX_INSTANCES" != 1 ]; then
    log "warning: MCP_TRANSPORT=sse with MCP_MAX_INSTANCES=$MCP_MAX_INSTANCES: session affinity is best effort;"
    log "         a session's POST /messages can reach another instance and get 404. Prefer MCP_TRANSPORT=mcp."
  fi
else
  MCP_MAX_INSTANCES="${MCP_MAX_INSTANCES:-10}"
  affinity=--no-session-affinity
fi

sa_email="$(agent_sa_email)"
mcp_image="$(image_path mcp-server):$IMAGE_TAG"
agent_image="$(image_path agent):$IMAGE_TAG"
project=(--project="$PROJECT_ID")
where=(--project="$PROJECT_ID" --region="$REGION")

log "== APIs (enabling is idempotent; cleanup never disables them)"
run gcloud services enable run.googleapis.com artifactregistry.googleapis.com cloudbuild.googleapis.com \
  aiplatform.googleapis.com iam.googleapis.com "${project[@]}"

log "== Artifact Registry repository $AR_REPO ($REGION)"
if probe gcloud artifacts repositories describe "$AR_REPO" --location="$REGION" "${project[@]}"; then
  log "exists"
else
  run gcloud artifacts repositories create "$AR_REPO" --repository-format=docker --location="$REGION" \
    --description="Images for mcp-server and agent" "${project[@]}"
fi

# Both Dockerfiles build from the repository root: the workspace has one lockfile there.
log "== Images ($BUILD): $mcp_image, $agent_image"
if [ "$BUILD" = cloudbuild ]; then
  run gcloud builds submit . --config=cloudbuild.yaml \
    --substitutions="_MCP_IMAGE=$mcp_image,_AGENT_IMAGE=$agent_image,_NODE_IMAGE=$NODE_IMAGE" "${project[@]}"
else
  run gcloud auth configure-docker "$REGION-docker.pkg.dev" --quiet
  for svc in mcp-server agent; do
    image="$(image_path "$svc"):$IMAGE_TAG"
    # Cloud Run runs linux/amd64; say so, or an Apple-silicon build produces an image it cannot start.
    run docker build --platform=linux/amd64 -f "$svc/Dockerfile" --build-arg "NODE_IMAGE=$NODE_IMAGE" -t "$image" .
    run docker push "$image"
  done
fi

for account in "$MCP_SA_NAME:MCP server on Cloud Run (no roles)" "$AGENT_SA_NAME:MCP agent on Cloud Run"; do
  name="${account%%:*}"
  log "== Service account $(sa_email_of "$name")"
  if probe gcloud iam service-accounts describe "$(sa_email_of "$name")" "${project[@]}"; then
    log "exists"
  else
    run gcloud iam service-accounts create "$name" --display-name="${account#*:}" "${project[@]}"
  fi
done

# Long timeout: SSE and streamed responses stay open; Cloud Run cuts any request at --timeout (max 3600 s).
log "== $MCP_SERVICE (private, transport $MCP_TRANSPORT)"
run gcloud run deploy "$MCP_SERVICE" --image="$mcp_image" "${where[@]}" \
  --service-account="$(sa_email_of "$MCP_SA_NAME")" --no-allow-unauthenticated --timeout=3600 --memory=512Mi --cpu=1 --concurrency=80 \
  --max-instances="$MCP_MAX_INSTANCES" "$affinity" \
  --set-env-vars="FRANKFURTER_URL=$FRANKFURTER_URL"

if is_dry_run; then
  run gcloud run services describe "$MCP_SERVICE" "${where[@]}" --format='value(status.url)'
  mcp_url='<mcp-server-url>'
else
  mcp_url="$(gcloud run services describe "$MCP_SERVICE" "${where[@]}" --format='value(status.url)')"
  [ -n "$mcp_url" ] || die "could not read the URL of $MCP_SERVICE"
fi
mcp_path=/mcp
[ "$MCP_TRANSPORT" = sse ] && mcp_path=/sse

if [ "$AGENT_PUBLIC" = 1 ]; then agent_access=--allow-unauthenticated; else agent_access=--no-allow-unauthenticated; fi
log "== $AGENT_SERVICE (runs as $sa_email, MCP at $mcp_url$mcp_path)"
# Affinity keeps a chat session_id on the instance that holds its history (for cookie-keeping clients).
run gcloud run deploy "$AGENT_SERVICE" --image="$agent_image" "${where[@]}" \
  --service-account="$sa_email" "$agent_access" --timeout=3600 --memory=512Mi --cpu=1 --concurrency=80 \
  --max-instances="$AGENT_MAX_INSTANCES" --session-affinity \
  --set-env-vars="MCP_SERVER_URL=$mcp_url$mcp_path,MCP_AUTH=id-token,MODEL_PROVIDER=gemini,GOOGLE_GENAI_USE_VERTEXAI=true,GOOGLE_CLOUD_PROJECT=$PROJECT_ID,GOOGLE_CLOUD_LOCATION=$GOOGLE_CLOUD_LOCATION,GOOGLE_MODEL=$GOOGLE_MODEL"

log ""
if is_dry_run; then
  log "Dry run: nothing was changed."
  agent_url="\$(gcloud run services describe $AGENT_SERVICE --project=$PROJECT_ID --region=$REGION --format='value(status.url)')"
else
  agent_url="$(gcloud run services describe "$AGENT_SERVICE" "${where[@]}" --format='value(status.url)')"
  log "Deployed: $MCP_SERVICE at $mcp_url (private), $AGENT_SERVICE at $agent_url"
fi
log "Next: make iam PROJECT_ID=$PROJECT_ID REGION=$REGION   (the agent gets 403 from $MCP_SERVICE until then)"
log "Then: make smoke AGENT_URL=$agent_url"
