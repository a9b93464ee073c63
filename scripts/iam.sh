#!/usr/bin/env bash
# `make iam`: what the agent's service account needs, and nothing more. Idempotent.
#   roles/run.invoker   on the mcp-server service   (call the private MCP server)
#   roles/aiplatform.user on the project            (Gemini on Vertex AI)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
SCRIPT_TARGET=iam load_settings

info "roles/run.invoker on $MCP_SERVICE for $AGENT_SA"
run gcloud run services add-iam-policy-binding "$MCP_SERVICE" --member "serviceAccount:$AGENT_SA" \
  --role roles/run.invoker --format none "${RUN[@]}"
info "roles/aiplatform.user on project $PROJECT_ID for $AGENT_SA"
run gcloud projects add-iam-policy-binding "$PROJECT_ID" --member "serviceAccount:$AGENT_SA" \
  --role roles/aiplatform.user --condition None --format none
echo "Granted (or already held): $AGENT_SA has roles/run.invoker on $MCP_SERVICE and roles/aiplatform.user on $PROJECT_ID."
echo "IAM changes can take a minute to apply; a 403 right after is expected."
