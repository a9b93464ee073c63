#!/usr/bin/env bash
# `make deploy`: both services to Cloud Run in PROJECT_ID/REGION. Idempotent: run it again to update.
#   BUILD=cloudbuild (default, no local Docker) | docker     IMAGE_TAG (default: git commit)
#   MCP_TRANSPORT=streamable-http (default) | sse            AGENT_PUBLIC=1 (default) | 0
#   GOOGLE_MODEL (gemini-2.5-flash)  GEMINI_LOCATION (global)  FRANKFURTER_URL
#   MCP_MAX_INSTANCES (10; 1 with SSE)  AGENT_MAX_INSTANCES (10)  DRY_RUN=1 prints the commands
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
SCRIPT_TARGET=deploy load_settings

BUILD="${BUILD:-cloudbuild}"
IMAGE_TAG="${IMAGE_TAG:-$(git rev-parse --short HEAD 2>/dev/null || date +%Y%m%d%H%M%S)}"
GOOGLE_MODEL="${GOOGLE_MODEL:-gemini-2.5-flash}"
GEMINI_LOCATION="${GEMINI_LOCATION:-global}"
AGENT_PUBLIC="${AGENT_PUBLIC:-1}"
MCP_IMAGE="$IMAGE_BASE/mcp-server:$IMAGE_TAG"
AGENT_IMAGE="$IMAGE_BASE/agent:$IMAGE_TAG"

info "APIs"
run gcloud services enable run.googleapis.com artifactregistry.googleapis.com cloudbuild.googleapis.com \
  aiplatform.googleapis.com iam.googleapis.com "${GCP[@]}"

info "Artifact Registry repository $AR_REPO"
if ! exists gcloud artifacts repositories describe "$AR_REPO" --location "$REGION" "${GCP[@]}"; then
  run gcloud artifacts repositories create "$AR_REPO" --repository-format docker --location "$REGION" \
    --description "Images of the Cloud Run agent and MCP server" "${GCP[@]}"
fi

info "Images ($BUILD)"
case "$BUILD" in
  cloudbuild)
    run gcloud builds submit . --config cloudbuild.yaml --region "$REGION" \
      --substitutions "_MCP_IMAGE=$MCP_IMAGE,_AGENT_IMAGE=$AGENT_IMAGE" "${GCP[@]}"
    ;;
  docker)
    run gcloud auth configure-docker "$REGION-docker.pkg.dev" --quiet
    for svc in mcp-server agent; do
      image="$IMAGE_BASE/$svc:$IMAGE_TAG"
      run docker build --platform linux/amd64 -f "$svc/Dockerfile" -t "$image" .
      run docker push "$image"
    done
    ;;
  *) die "BUILD must be cloudbuild or docker" ;;
esac

info "Service account $AGENT_SA for the agent"
if ! exists gcloud iam service-accounts describe "$AGENT_SA" "${GCP[@]}"; then
  run gcloud iam service-accounts create "$AGENT_SA_NAME" --display-name "Cloud Run agent (calls mcp-server and Vertex AI)" "${GCP[@]}"
fi

info "$MCP_SERVICE (private)"
mcp_flags=(--timeout 3600 --memory 512Mi --cpu 1 --concurrency 80)
if [ "$MCP_TRANSPORT" = "sse" ]; then
  # SSE sessions live in one instance's memory: keep a conversation on one instance.
  MCP_MAX_INSTANCES="${MCP_MAX_INSTANCES:-1}"
  mcp_flags+=(--session-affinity)
  [ "$MCP_MAX_INSTANCES" = "1" ] || warn "SSE with $MCP_MAX_INSTANCES instances: session affinity is best effort, a POST can land on another instance and get 404 (see KNOWN_ISSUES.md)"
else
  MCP_MAX_INSTANCES="${MCP_MAX_INSTANCES:-10}"
fi
run gcloud run deploy "$MCP_SERVICE" --image "$MCP_IMAGE" --no-allow-unauthenticated \
  --max-instances "$MCP_MAX_INSTANCES" "${mcp_flags[@]}" \
  --set-env-vars "FRANKFURTER_URL=${FRANKFURTER_URL:-https://api.frankfurter.dev/v1},GOOGLE_CLOUD_PROJECT=$PROJECT_ID" "${RUN[@]}"

if [ "${DRY_RUN:-0}" = "1" ]; then
  mcp_url="https://$MCP_SERVICE-PROJECT_HASH-uc.a.run.app"
  run gcloud run services describe "$MCP_SERVICE" --format 'value(status.url)' "${RUN[@]}"
else
  mcp_url="$(gcloud run services describe "$MCP_SERVICE" --format 'value(status.url)' "${RUN[@]}")"
fi
[ -n "$mcp_url" ] || die "could not read the URL of $MCP_SERVICE"
path=/mcp
[ "$MCP_TRANSPORT" = "sse" ] && path=/sse

info "$AGENT_SERVICE"
access=(--allow-unauthenticated)
[ "$AGENT_PUBLIC" = "1" ] || access=(--no-allow-unauthenticated)
run gcloud run deploy "$AGENT_SERVICE" --image "$AGENT_IMAGE" "${access[@]}" \
  --service-account "$AGENT_SA" --session-affinity --timeout 300 --memory 512Mi --cpu 1 \
  --max-instances "${AGENT_MAX_INSTANCES:-10}" \
  --set-env-vars "MCP_SERVER_URL=$mcp_url$path,MCP_AUTH=id-token,MCP_AUDIENCE=$mcp_url,MODEL_PROVIDER=gemini,GOOGLE_GENAI_USE_VERTEXAI=true,GOOGLE_CLOUD_PROJECT=$PROJECT_ID,GOOGLE_CLOUD_LOCATION=$GEMINI_LOCATION,GOOGLE_MODEL=$GOOGLE_MODEL" \
  "${RUN[@]}"

cat <<EOF_NEXT

Deployed. Next:
  make iam PROJECT_ID=$PROJECT_ID REGION=$REGION      # let the agent call $MCP_SERVICE and Vertex AI
  make status PROJECT_ID=$PROJECT_ID REGION=$REGION   # URLs, service account, bindings
  make smoke AGENT_URL=\$(gcloud run services describe $AGENT_SERVICE --region $REGION --project $PROJECT_ID --format 'value(status.url)')
EOF_NEXT
