#!/usr/bin/env bash
# make deploy: APIs, Artifact Registry repo (with a cleanup policy), service accounts, both images
# (built by a dedicated build account), the Firestore session store, mcp-server (private), then the
# agent pointed at it. Idempotent: every resource and binding is read before it is made.
# Required: PROJECT_ID, REGION. Options (defaults): AGENT_ACCESS=private|public|iap (IAP_MEMBERS for
# iap), SESSION_STORE=firestore|memory, FIRESTORE_LOCATION (REGION), TRACING=0|1, BUILD=cloudbuild|docker,
# MCP_TRANSPORT=mcp|sse, MCP_TIMEOUT / AGENT_TIMEOUT (seconds), IMAGE_KEEP_COUNT=10, IMAGE_TAG (git),
# NODE_IMAGE=node:22-slim, GOOGLE_MODEL=gemini-3.8-flash, GOOGLE_CLOUD_LOCATION=global (Vertex AI,
# not REGION), MCP_MAX_INSTANCES, AGENT_MAX_INSTANCES, DRY_RUN=1 (the plan, with each service's
# environment: every setting of scripts/deploy-env.sh's lists that is set in .env or the shell),
# MCP_ACCESS=iam|oauth (oauth: people's assistants reach mcp-server with OAuth access tokens from
# OAUTH_ISSUER, scopes OAUTH_SCOPES=mcp:tools, for MCP_RESOURCE_URL (the run.app URL + /mcp, or your
# domain's) or OAUTH_AUDIENCE (an aud your authorization server uses instead); the agent keeps its
# Google ID token).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cloud_script deploy
# shellcheck source=scripts/deploy-env.sh
source scripts/deploy-env.sh
AGENT_ACCESS="${AGENT_ACCESS:-private}"
MCP_ACCESS="${MCP_ACCESS:-iam}"
OAUTH_ISSUER="${OAUTH_ISSUER:-}"
OAUTH_SCOPES="${OAUTH_SCOPES:-mcp:tools}"
MCP_RESOURCE_URL="${MCP_RESOURCE_URL:-}"
OAUTH_AUDIENCE="${OAUTH_AUDIENCE:-}"
IAP_MEMBERS="${IAP_MEMBERS:-}"
SESSION_STORE="${SESSION_STORE:-firestore}"
FIRESTORE_LOCATION="${FIRESTORE_LOCATION:-}"
TRACING="${TRACING:-0}"
BUILD="${BUILD:-cloudbuild}"
MCP_TRANSPORT="${MCP_TRANSPORT:-mcp}"
NODE_IMAGE="${NODE_IMAGE:-node:22-slim}"
# A GA Flash model with no announced shutdown (Gemini API deprecations page, read 2026-11-25).
GOOGLE_MODEL="${GOOGLE_MODEL:-gemini-3.8-flash}"
# Vertex AI serves Gemini 3.x from `global`; it has nothing to do with where Cloud Run runs.
GOOGLE_CLOUD_LOCATION="${GOOGLE_CLOUD_LOCATION:-global}"
# Deployed with Gemini on Vertex AI (MODEL_PROVIDER=offline deploys the offline model).
MODEL_PROVIDER="${MODEL_PROVIDER:-gemini}"
AGENT_TIMEOUT="${AGENT_TIMEOUT:-300}"
IMAGE_KEEP_COUNT="${IMAGE_KEEP_COUNT:-10}"
if [ -z "${IMAGE_TAG:-}" ]; then
  # "-dirty" when the tree has uncommitted changes, so the tag never claims a commit it isn't.
  IMAGE_TAG="$(git describe --always --dirty 2>/dev/null || echo latest)"
fi

# Names that go into gcloud flags and lists, image paths, URLs and the cleanup-policy JSON: only the
# characters the services allow, so no value adds a flag, a list item or a JSON field.
check_name() { # NAME REGEX WHAT
  [[ "${!1}" =~ $2 ]] || die "$1 must be $3 (got \"${!1}\", from $(origin_of "$1"))"
}
check_name PROJECT_ID '^([a-z][a-z0-9.-]*:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$' "a project id (6 to 30 lowercase letters, digits, hyphens)"
check_name REGION '^[a-z]+-[a-z]+[0-9]+$' "a Cloud Run region, e.g. us-central1"
for n in MCP_SERVICE AGENT_SERVICE; do
  check_name "$n" '^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$' "a Cloud Run service name (lowercase letters, digits, hyphens; at most 49)"
done
check_name AR_REPO '^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$' "an Artifact Registry repository id (lowercase letters, digits, hyphens)"
for n in AGENT_SA_NAME MCP_SA_NAME BUILD_SA_NAME; do
  check_name "$n" '^[a-z][a-z0-9-]{4,28}[a-z0-9]$' "a service account id (6 to 30 lowercase letters, digits, hyphens)"
done
check_name IMAGE_TAG '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$' "an image tag (letters, digits, _ . -)"
check_name NODE_IMAGE '^[A-Za-z0-9][A-Za-z0-9._/:@-]*$' "an image reference, e.g. node:22-slim"
check_name FIRESTORE_DATABASE '^(\(default\)|[a-z][a-z0-9-]{2,62})$' "(default) or a database id"

one_of() { # NAME VALUE CHOICES...
  local name="$1" value="$2" choice; shift 2
  for choice in "$@"; do [ "$value" = "$choice" ] && return 0; done
  die "$name must be one of: $* (got \"$value\")"
}
one_of AGENT_ACCESS "$AGENT_ACCESS" private public iap
one_of SESSION_STORE "$SESSION_STORE" firestore memory
one_of TRACING "$TRACING" 0 1
one_of BUILD "$BUILD" cloudbuild docker
one_of MCP_TRANSPORT "$MCP_TRANSPORT" mcp sse
one_of MCP_ACCESS "$MCP_ACCESS" iam oauth
if [ "$MCP_ACCESS" = oauth ]; then
  [ -n "$OAUTH_ISSUER" ] || die "MCP_ACCESS=oauth needs OAUTH_ISSUER, your authorization server's issuer, e.g. OAUTH_ISSUER=https://your-tenant.us.auth0.com/"
  [[ "$OAUTH_ISSUER" =~ ^https://[^\;[:space:]]+$ ]] || die "OAUTH_ISSUER must be an https URL (got \"$OAUTH_ISSUER\")"
  if ! [[ "$OAUTH_SCOPES" =~ ^[!#-~]+( [!#-~]+)*$ ]] || [[ "$OAUTH_SCOPES" == *[,\;]* ]]; then
    die "OAUTH_SCOPES must be scope names separated by single spaces (got \"$OAUTH_SCOPES\")"
  fi
  if [ -n "$MCP_RESOURCE_URL" ]; then
    if ! [[ "$MCP_RESOURCE_URL" =~ ^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~-]+)*/mcp$ ]]; then
      die "MCP_RESOURCE_URL must be the https URL of mcp-server's /mcp, e.g. https://mcp.example.com/mcp (got \"$MCP_RESOURCE_URL\"; unset it for the run.app URL)"
    fi
    # .env is read by every make target: a value meant for a local server must not pass unseen.
    log "note: MCP_RESOURCE_URL=$MCP_RESOURCE_URL (from $(origin_of MCP_RESOURCE_URL)), not the run.app URL:"
    log "      assistants connect there and tokens must be issued for it"
  fi
  if [[ "$OAUTH_AUDIENCE" =~ [[:space:]] ]]; then
    die "OAUTH_AUDIENCE must be one audience, without spaces (got \"$OAUTH_AUDIENCE\")"
  fi
else
  for n in "${MCP_OAUTH_SETTINGS[@]}"; do
    [ "$n" = OAUTH_SCOPES ] && [ "$OAUTH_SCOPES" = mcp:tools ] && continue # deploy's default
    if user_set "$n"; then log "note: $n (from $(origin_of "$n")) is used only with MCP_ACCESS=oauth; not deployed"; fi
  done
fi
# Memory sessions live in one instance: a conversation whose next turn reaches another instance starts
# over. Session affinity is best effort, so one instance is the default; more only with a warning.
if [ "$SESSION_STORE" = memory ]; then
  AGENT_MAX_INSTANCES="${AGENT_MAX_INSTANCES:-1}"
  if [ "$AGENT_MAX_INSTANCES" != 1 ]; then
    log "warning: SESSION_STORE=memory with AGENT_MAX_INSTANCES=$AGENT_MAX_INSTANCES: session affinity is best effort;"
    log "         a conversation's next turn can reach another instance and start over. Prefer SESSION_STORE=firestore."
  fi
else
  AGENT_MAX_INSTANCES="${AGENT_MAX_INSTANCES:-10}"
fi
for n in AGENT_TIMEOUT IMAGE_KEEP_COUNT AGENT_MAX_INSTANCES; do
  [[ "${!n}" =~ ^[1-9][0-9]*$ ]] || die "$n must be a positive whole number (got \"${!n}\")"
done
iap_members=()
if [ "$AGENT_ACCESS" = iap ]; then
  [ -n "$IAP_MEMBERS" ] || die "AGENT_ACCESS=iap needs IAP_MEMBERS, e.g. IAP_MEMBERS=user:alice@example.com,group:team@example.com"
  IFS=, read -r -a iap_members <<<"$IAP_MEMBERS"
  for m in "${iap_members[@]}"; do
    [[ "$m" =~ ^(user|group|domain|serviceAccount): ]] || die "IAP_MEMBERS entries look like user:EMAIL, group:EMAIL or domain:DOMAIN (got \"$m\")"
  done
fi
# Firestore's locations (https://cloud.google.com/firestore/docs/locations, read 2026-11-25). The database's
# location is permanent, so a REGION that is not one stops here, before anything is built; an explicit
# FIRESTORE_LOCATION must be one too. It only matters when deploy creates the database.
firestore_locations=" nam5 nam7 eur3 africa-south1 asia-east1 asia-east2 asia-northeast1 asia-northeast2 asia-northeast3 asia-south1 asia-south2 asia-southeast1 asia-southeast2 asia-southeast3 australia-southeast1 australia-southeast2 europe-central2 europe-north1 europe-north2 europe-southwest1 europe-west1 europe-west2 europe-west3 europe-west4 europe-west6 europe-west8 europe-west9 europe-west10 europe-west12 europe-west15 me-central1 me-central2 me-west1 northamerica-northeast1 northamerica-northeast2 northamerica-south1 southamerica-east1 southamerica-west1 us-central1 us-east1 us-east4 us-east5 us-south1 us-west1 us-west2 us-west3 us-west4 "
if [ "$SESSION_STORE" = firestore ]; then
  if [ -n "$FIRESTORE_LOCATION" ]; then
    [[ "$firestore_locations" == *" $FIRESTORE_LOCATION "* ]] ||
      die "FIRESTORE_LOCATION $FIRESTORE_LOCATION is not a Firestore location (e.g. nam5 = US multi-region, eur3 = Europe; list: https://cloud.google.com/firestore/docs/locations)"
  elif [[ "$firestore_locations" != *" $REGION "* ]]; then
    die "REGION $REGION is not a Firestore location, and the database location is permanent: set FIRESTORE_LOCATION to a nearby one (nam5 = US multi-region, eur3 = Europe; list: https://cloud.google.com/firestore/docs/locations), or use SESSION_STORE=memory. (An existing database keeps its location: name it, e.g. FIRESTORE_LOCATION=nam5.)"
  fi
fi
for n in MCP_TIMEOUT AGENT_TIMEOUT; do
  [ -z "${!n:-}" ] || [[ ! "${!n}" =~ ^[0-9]+$ ]] || [ "${!n}" -le 3600 ] || die "$n is at most 3600 seconds on Cloud Run (got ${!n})"
done
# Each service's environment (scripts/deploy-env.sh has the lists, and why each setting is there).
# Everything a user set is checked now, before any gcloud call.
if user_set AGENT_INSTRUCTION_FILE; then
  user_set AGENT_INSTRUCTION &&
    die "AGENT_INSTRUCTION (from $(origin_of AGENT_INSTRUCTION)) and AGENT_INSTRUCTION_FILE (from $(origin_of AGENT_INSTRUCTION_FILE)) are both set: keep one"
  # Relative to the repository, where make runs. $(…) drops trailing newlines: the x keeps them.
  if ! { [ -f "$AGENT_INSTRUCTION_FILE" ] && AGENT_INSTRUCTION="$(cat -- "$AGENT_INSTRUCTION_FILE" 2>/dev/null && printf x)"; }; then
    die "AGENT_INSTRUCTION_FILE: cannot read $AGENT_INSTRUCTION_FILE (from $(origin_of AGENT_INSTRUCTION_FILE))"
  fi
  AGENT_INSTRUCTION="${AGENT_INSTRUCTION%x}"
  [ -n "$AGENT_INSTRUCTION" ] || die "AGENT_INSTRUCTION_FILE: $AGENT_INSTRUCTION_FILE is empty (from $(origin_of AGENT_INSTRUCTION_FILE))"
  size="$(LC_ALL=C; printf '%s' "${#AGENT_INSTRUCTION}")"
  [ "$size" -le "$ENV_VALUE_MAX_BYTES" ] ||
    die "AGENT_INSTRUCTION_FILE: $AGENT_INSTRUCTION_FILE is $size bytes; Cloud Run takes at most $ENV_VALUE_MAX_BYTES bytes in one environment variable"
fi
checked=("${COMMON_SETTINGS[@]}" "${AGENT_SETTINGS[@]}" "${MCP_SETTINGS[@]}" "${AGENT_DECIDED[@]}" "${MCP_DECIDED[@]}")
[ "$MCP_ACCESS" = oauth ] && checked+=("${MCP_OAUTH_SETTINGS[@]}")
for n in "${checked[@]}"; do
  if user_set "$n"; then check_value "$n" "${!n}"; fi
done
# decided NAME [VALUE] WHY: deploy sets NAME (to VALUE, or leaves it unset); a value set in .env or
# the shell is refused unless it is that same VALUE.
decided() {
  local value="" why
  [ "$#" = 3 ] && value="$2"
  why="${!#}"
  user_set "$1" || return 0
  [ -n "$value" ] && [ "${!1}" = "$value" ] && return 0
  die "$1 (from $(origin_of "$1")) cannot be deployed: $why. Unset it for deploy"
}
decided MCP_SERVER_URL "deploy points the agent at the mcp-server it deploys"
decided MCP_AUDIENCE "deploy sets the audience of the agent's ID token for that mcp-server"
decided MCP_AUTH id-token "the agent sends its ID token to the private mcp-server (MCP_AUTH=id-token)"
decided GOOGLE_GENAI_USE_VERTEXAI true "the deployed agent uses Vertex AI (GOOGLE_GENAI_USE_VERTEXAI=true)"
decided IAP_AUDIENCE "deploy sets it from the project number with AGENT_ACCESS=iap"
decided GOOGLE_CLOUD_PROJECT "$PROJECT_ID" "both services run in PROJECT_ID=$PROJECT_ID"
if [ "$MCP_ACCESS" = oauth ]; then
  decided MCP_SERVER_AUTH google-id-token,oauth "MCP_ACCESS=oauth sets MCP_SERVER_AUTH=google-id-token,oauth"
else
  decided MCP_SERVER_AUTH none "with MCP_ACCESS=iam Cloud Run checks callers and mcp-server does not (MCP_SERVER_AUTH=none)"
fi
decided MCP_AUTH_AUDIENCE "deploy sets it to mcp-server's run.app URL with MCP_ACCESS=oauth"
decided MCP_ALLOWED_INVOKERS "deploy sets it to the agent's service account with MCP_ACCESS=oauth"
if [ "$TRACING" = 1 ]; then
  for n in "${TRACING_DECIDED[@]}"; do
    decided "$n" "TRACING=1 sets the OTEL_* settings for Cloud Trace (or set them yourself with TRACING=0)"
  done
fi
for n in "${LOCAL_ONLY[@]}"; do
  if user_set "$n"; then log "note: $n (from $(origin_of "$n")) is not deployed: $(local_only_reason "$n")"; fi
done
for n in OTEL_EXPORTER_OTLP_HEADERS OTEL_EXPORTER_OTLP_TRACES_HEADERS; do
  if user_set "$n"; then log "note: $n (from $(origin_of "$n")) is deployed as a plain environment variable, which project viewers can read"; fi
done

require_cmd gcloud "Install the Google Cloud CLI: https://cloud.google.com/sdk/docs/install"
[ "$BUILD" = docker ] && require_cmd docker "Install Docker, or use BUILD=cloudbuild."
# Which gcloud commands this deploy uses, decided once from `gcloud version` (GA IAP from 558 on), and
# what they need is checked now, before anything is built.
gcloud_tracks
[ "$AGENT_ACCESS" = iap ] && need_beta "AGENT_ACCESS=iap (gcloud beta services identity create makes IAP's service agent)"
log "gcloud ${GCLOUD_VERSION:-(none)}: IAP commands on the $([ "${IAP_RUN[1]}" = beta ] && echo "beta track (GA from gcloud $IAP_GA_SINCE)" || echo "GA track")"

# SSE keeps each session in one instance's memory: a POST /messages that lands on another instance
# gets 404. Affinity is best effort and cookie-based (the agent's fetch sends no cookies), so one
# instance is the real fix; more only with a warning. SSE streams also stay open, so only SSE gets
# Cloud Run's longest request timeout. Streamable HTTP (/mcp) is stateless, short and scales freely.
if [ "$MCP_TRANSPORT" = sse ]; then
  MCP_MAX_INSTANCES="${MCP_MAX_INSTANCES:-1}"
  MCP_TIMEOUT="${MCP_TIMEOUT:-3600}"
  mcp_affinity=--session-affinity
  if [ "$MCP_MAX_INSTANCES" != 1 ]; then
    log "warning: MCP_TRANSPORT=sse with MCP_MAX_INSTANCES=$MCP_MAX_INSTANCES: session affinity is best effort;"
    log "         a session's POST /messages can reach another instance and get 404. Prefer MCP_TRANSPORT=mcp."
  fi
else
  MCP_MAX_INSTANCES="${MCP_MAX_INSTANCES:-10}"
  MCP_TIMEOUT="${MCP_TIMEOUT:-300}"
  mcp_affinity=--no-session-affinity
fi
for n in MCP_TIMEOUT MCP_MAX_INSTANCES; do
  [[ "${!n}" =~ ^[1-9][0-9]*$ ]] || die "$n must be a positive whole number (got \"${!n}\")"
done
# With Firestore any instance can continue any conversation; with memory only the one holding it.
agent_affinity=--no-session-affinity
[ "$SESSION_STORE" = memory ] && agent_affinity=--session-affinity

sa_email="$(agent_sa_email)"
mcp_sa_email="$(sa_email_of "$MCP_SA_NAME")"
build_sa_email="$(sa_email_of "$BUILD_SA_NAME")"
mcp_image="$(image_path mcp-server):$IMAGE_TAG"
agent_image="$(image_path agent):$IMAGE_TAG"
project=(--project="$PROJECT_ID")
where=(--project="$PROJECT_ID" --region="$REGION")
repo_where=(--location="$REGION" --project="$PROJECT_ID")
# Cloud Run's recommendations for a Node.js service: extra CPU while starting (billed only then),
# an HTTP startup check and a liveness check on /health, which answers without calling anything
# (never /ready: it depends on the other service, and a restart would not fix that).
# shellcheck disable=SC2054 # the commas are inside the probe values
runtime_flags=(--memory=512Mi --cpu=1 --concurrency=80 --cpu-boost
  --startup-probe=httpGet.path=/health,periodSeconds=1,timeoutSeconds=1,failureThreshold=15
  --liveness-probe=httpGet.path=/health,periodSeconds=30,timeoutSeconds=5,failureThreshold=3)

apis=(run.googleapis.com artifactregistry.googleapis.com cloudbuild.googleapis.com aiplatform.googleapis.com iam.googleapis.com)
[ "$SESSION_STORE" = firestore ] && apis+=(firestore.googleapis.com)
[ "$AGENT_ACCESS" = iap ] && apis+=(iap.googleapis.com cloudresourcemanager.googleapis.com)
[ "$TRACING" = 1 ] && apis+=(telemetry.googleapis.com)
log "== APIs (enabling is idempotent; cleanup never disables them)"
run gcloud services enable "${apis[@]}" "${project[@]}"

log "== Artifact Registry repository $AR_REPO ($REGION), keeping the newest $IMAGE_KEEP_COUNT images of each service"
if probe gcloud artifacts repositories describe "$AR_REPO" "${repo_where[@]}"; then
  log "exists"
else
  run_if "the describe above finds nothing" gcloud artifacts repositories create "$AR_REPO" --repository-format=docker --location="$REGION" \
    --description="Images for mcp-server and agent" "${project[@]}"
fi
# Every deploy pushes two images. Keep the newest N of our two packages (rollbacks), delete the rest;
# other packages in the repository are not touched. Setting the same policies again changes nothing.
# The policy goes to gcloud as a file in the repository's (ignored) .cache/, so the printed command is
# one you can run again; a dry run writes it too and prints it.
policy_file=.cache/cleanup-policy.json
mkdir -p .cache
cat >"$policy_file" <<JSON
[
  {"name": "$AR_REPO-keep-newest", "action": {"type": "Keep"},
   "mostRecentVersions": {"packageNamePrefixes": ["mcp-server", "agent"], "keepCount": $IMAGE_KEEP_COUNT}},
  {"name": "$AR_REPO-delete-older", "action": {"type": "Delete"},
   "condition": {"tagState": "any", "packageNamePrefixes": ["mcp-server", "agent"]}}
]
JSON
is_dry_run && log "$policy_file:" && log "$(cat "$policy_file")"
run gcloud artifacts repositories set-cleanup-policies "$AR_REPO" --policy="$policy_file" --no-dry-run "${repo_where[@]}" >/dev/null

accounts=("$MCP_SA_NAME:MCP server on Cloud Run (no roles)" "$AGENT_SA_NAME:MCP agent on Cloud Run")
[ "$BUILD" = cloudbuild ] && accounts+=("$BUILD_SA_NAME:Builds the mcp-server and agent images")
for account in "${accounts[@]}"; do
  name="${account%%:*}"
  log "== Service account $(sa_email_of "$name")"
  if probe gcloud iam service-accounts describe "$(sa_email_of "$name")" "${project[@]}"; then
    log "exists"
  else
    run_if "the describe above finds nothing" gcloud iam service-accounts create "$name" --display-name="${account#*:}" \
      --description="$SA_MARK" "${project[@]}"
  fi
done

# project_grant ROLE MEMBER: one project-level binding, added only when missing. --condition=None:
# without it gcloud prompts when the project already has conditional bindings.
project_grant() {
  ensure_binding "project $PROJECT_ID" "$1" "$2" \
    gcloud projects get-iam-policy "$PROJECT_ID" "${POLICY_FORMAT[@]}" -- \
    gcloud projects add-iam-policy-binding "$PROJECT_ID" --condition=None
}

# The session store before the images: a database that cannot be used stops the deploy before a build.
if [ "$SESSION_STORE" = firestore ]; then
  log "== Firestore database $FIRESTORE_DATABASE (sessions in collection $FIRESTORE_COLLECTION)"
  db_info=""
  if is_dry_run; then
    run gcloud firestore databases describe --database="$FIRESTORE_DATABASE" --format='value(type,locationId)' "${project[@]}"
  else
    db_info="$(query gcloud firestore databases describe --database="$FIRESTORE_DATABASE" --format='value(type,locationId)' "${project[@]}")" ||
      { rc=$?; [ "$rc" = 1 ] || exit "$rc"; }
  fi
  if [ -n "$db_info" ]; then
    [ "${db_info%%$'\t'*}" = FIRESTORE_NATIVE ] ||
      die "database $FIRESTORE_DATABASE in $PROJECT_ID is in Datastore mode (${db_info%%$'\t'*}); the agent needs Firestore in Native mode. A database's mode cannot change once it holds data: name another database with FIRESTORE_DATABASE=agent-sessions (deploy creates it), or use SESSION_STORE=memory."
    log "exists: Native mode in ${db_info#*$'\t'} (its location cannot change)"
  else
    location="${FIRESTORE_LOCATION:-$REGION}" # checked against Firestore's locations above
    run_if "the describe above finds nothing" gcloud firestore databases create --database="$FIRESTORE_DATABASE" --location="$location" --type=firestore-native "${project[@]}"
  fi
  # Firestore deletes a session document some time after its expire_at (typically within a day).
  ttl=""
  if is_dry_run; then
    run gcloud firestore fields ttls list --collection-group="$FIRESTORE_COLLECTION" --database="$FIRESTORE_DATABASE" --format='value(name)' "${project[@]}"
  else
    ttl="$(query gcloud firestore fields ttls list --collection-group="$FIRESTORE_COLLECTION" --database="$FIRESTORE_DATABASE" --format='value(name)' "${project[@]}")" ||
      { rc=$?; [ "$rc" = 1 ] || exit "$rc"; }
  fi
  if grep -q '/fields/expire_at$' <<<"$ttl"; then
    log "TTL policy on $FIRESTORE_COLLECTION.expire_at: exists"
  else
    run_if "the list above has no expire_at" gcloud firestore fields ttls update expire_at --collection-group="$FIRESTORE_COLLECTION" --database="$FIRESTORE_DATABASE" --enable-ttl --async "${project[@]}"
  fi
  # Read and write documents only: not owner, not editor.
  project_grant "$DATASTORE_ROLE" "serviceAccount:$sa_email"
fi

# Leaving iap mode (an earlier deploy had AGENT_ACCESS=iap): found out now, so that what switching IAP
# off needs (the beta component before gcloud 558) is checked before the build.
iap_on=""
if [ "$AGENT_ACCESS" != iap ]; then
  log "== Is IAP on for $AGENT_SERVICE from an earlier AGENT_ACCESS=iap deploy?"
  is_dry_run && log "(if so, the agent's deploy below empties its IAP access list first and adds --no-iap, with ${IAP_RUN[*]} deploy)"
  iap_on="$(agent_iap_enabled "${where[@]}")" || { rc=$?; [ "$rc" = 1 ] || exit "$rc"; }
  [ "$iap_on" = true ] && [ "${IAP_RUN[1]}" = beta ] && need_beta "Turning IAP off on $AGENT_SERVICE with ${IAP_RUN[*]} deploy --no-iap"
fi

# Both images build from the repository root's Dockerfile: the workspace has one lockfile there.
log "== Images ($BUILD): $mcp_image, $agent_image"
if [ "$BUILD" = cloudbuild ]; then
  ensure_binding "repository $AR_REPO" "$BUILD_REPO_ROLE" "serviceAccount:$build_sa_email" \
    gcloud artifacts repositories get-iam-policy "$AR_REPO" "${repo_where[@]}" "${POLICY_FORMAT[@]}" -- \
    gcloud artifacts repositories add-iam-policy-binding "$AR_REPO" "${repo_where[@]}"
  for role in "${BUILD_PROJECT_ROLES[@]}"; do project_grant "$role" "serviceAccount:$build_sa_email"; done
  run gcloud builds submit . --config=cloudbuild.yaml \
    --service-account="projects/$PROJECT_ID/serviceAccounts/$build_sa_email" \
    --substitutions="_MCP_IMAGE=$mcp_image,_AGENT_IMAGE=$agent_image,_NODE_IMAGE=$NODE_IMAGE" "${project[@]}"
else
  run gcloud auth configure-docker "$REGION-docker.pkg.dev" --quiet
  for svc in mcp-server agent; do
    image="$(image_path "$svc"):$IMAGE_TAG"
    # Cloud Run runs linux/amd64; say so, or an Apple-silicon build produces an image it cannot start.
    run docker build --platform=linux/amd64 --build-arg "SERVICE=$svc" --build-arg "NODE_IMAGE=$NODE_IMAGE" -t "$image" .
    run docker push "$image"
  done
fi

# Each service's environment goes to gcloud as one YAML file (--env-vars-file), every value double-
# quoted (yaml_quote), so commas, quotes, newlines, ; # : reach Cloud Run exactly; the file replaces
# the service's whole environment. Mode 600, in a directory of this run's own under .cache/ (two
# deploys never share one), removed when deploy ends; a dry run shows each file with secrets masked.
env_dir="$(mktemp -d .cache/deploy.XXXXXX)"
trap 'rm -rf "$env_dir"' EXIT
env_svc=() env_name=() env_val=()
put() { # SERVICE NAME VALUE: a line of SERVICE's file
  env_svc+=("$1") env_name+=("$2") env_val+=("$3")
}
# carry SERVICE NAME...: each setting with a value (set in .env or the shell, or deploy's default)
# that deploy has not put itself.
carry() {
  local svc="$1" n i
  shift
  for n in "$@"; do
    [ -n "${!n:-}" ] || continue
    for i in "${!env_name[@]}"; do
      if [ "${env_svc[$i]}" = "$svc" ] && [ "${env_name[$i]}" = "$n" ]; then continue 2; fi
    done
    put "$svc" "$n" "${!n}"
  done
}
env_file() { # SERVICE: writes SERVICE's file and prints its path
  local file="$env_dir/$1.env.yaml" i
  (
    umask 077
    for i in "${!env_name[@]}"; do
      if [ "${env_svc[$i]}" = "$1" ]; then printf '%s: %s\n' "${env_name[$i]}" "$(yaml_quote "${env_val[$i]}")"; fi
    done >"$file"
  )
  if is_dry_run; then
    log "$file, the environment of $1 (secrets masked, long values abbreviated):"
    for i in "${!env_name[@]}"; do
      if [ "${env_svc[$i]}" = "$1" ]; then log "  ${env_name[$i]}: $(plan_value "${env_name[$i]}" "${env_val[$i]}")"; fi
    done
  fi
  printf '%s' "$file"
}
tracing_env() { # SERVICE NAME: with TRACING=1, OTLP to Google's Telemetry API (standard OTEL_* settings)
  [ "$TRACING" = 1 ] || return 0
  put "$1" OTEL_TRACES_EXPORTER otlp
  put "$1" OTEL_EXPORTER_OTLP_ENDPOINT https://telemetry.googleapis.com
  put "$1" OTEL_EXPORTER_OTLP_PROTOCOL http/protobuf
  put "$1" OTEL_SERVICE_NAME "$2"
  # The Telemetry API refuses spans whose resource lacks gcp.project_id.
  put "$1" OTEL_RESOURCE_ATTRIBUTES "gcp.project_id=$PROJECT_ID"
}
if [ "$TRACING" = 1 ]; then
  log "== Tracing: spans over OTLP to telemetry.googleapis.com from both services"
  for email in "$mcp_sa_email" "$sa_email"; do project_grant "$TRACES_ROLE" "serviceAccount:$email"; done
fi

project_number() { # the project's number, which Cloud Run's deterministic URLs carry
  if is_dry_run; then
    run gcloud projects describe "$PROJECT_ID" --format='value(projectNumber)'
    printf '<project-number>'
  else
    query gcloud projects describe "$PROJECT_ID" --format='value(projectNumber)'
  fi
}

# Who may call mcp-server. iam: Cloud Run checks the caller's Google ID token and roles/run.invoker.
# oauth: the invoker check is off (no allUsers binding), and mcp-server checks every request itself:
# the agent's Google ID token (MCP_ALLOWED_INVOKERS) or an access token OAUTH_ISSUER issued for
# MCP_RESOURCE_URL, by default the service's deterministic URL (known before the first deploy, unlike
# status.url).
put mcp-server GOOGLE_CLOUD_PROJECT "$PROJECT_ID"
mcp_access=(--no-allow-unauthenticated --invoker-iam-check)
mcp_mode=private
if [ "$MCP_ACCESS" = oauth ]; then
  mcp_public="https://$MCP_SERVICE-$(project_number).$REGION.run.app"
  MCP_RESOURCE_URL="${MCP_RESOURCE_URL:-$mcp_public/mcp}"
  mcp_access=(--no-allow-unauthenticated --no-invoker-iam-check)
  mcp_mode="oauth (OAuth access tokens from $OAUTH_ISSUER, and the agent's Google ID token)"
  put mcp-server MCP_SERVER_AUTH google-id-token,oauth
  put mcp-server MCP_AUTH_AUDIENCE "$mcp_public"
  put mcp-server MCP_ALLOWED_INVOKERS "$sa_email"
  carry mcp-server "${MCP_OAUTH_SETTINGS[@]}"
fi
tracing_env mcp-server "$MCP_SERVICE"
carry mcp-server "${MCP_SETTINGS[@]}" "${COMMON_SETTINGS[@]}"
log "== $MCP_SERVICE ($mcp_mode, transport $MCP_TRANSPORT, timeout ${MCP_TIMEOUT}s)"
if [ "$MCP_ACCESS" = oauth ]; then
  log "note: MCP_ACCESS=oauth: $MCP_SERVICE is reachable from the internet, guarded only by the OAuth access tokens (and the agent's ID token) it checks itself"
fi
mcp_env_file="$(env_file mcp-server)"
run gcloud run deploy "$MCP_SERVICE" --image="$mcp_image" "${where[@]}" \
  --service-account="$mcp_sa_email" "${mcp_access[@]}" --timeout="$MCP_TIMEOUT" "${runtime_flags[@]}" \
  --max-instances="$MCP_MAX_INSTANCES" "$mcp_affinity" --env-vars-file="$mcp_env_file"

if is_dry_run; then
  run gcloud run services describe "$MCP_SERVICE" "${where[@]}" --format='value(status.url)'
  mcp_url='<mcp-server-url>'
  log "(<mcp-server-url> below: the URL this describe prints)"
else
  mcp_url="$(gcloud run services describe "$MCP_SERVICE" "${where[@]}" --format='value(status.url)')"
  [ -n "$mcp_url" ] || die "could not read the URL of $MCP_SERVICE"
fi
mcp_path=/mcp
[ "$MCP_TRANSPORT" = sse ] && mcp_path=/sse

put agent MCP_SERVER_URL "$mcp_url$mcp_path"
put agent MCP_AUTH id-token
put agent GOOGLE_GENAI_USE_VERTEXAI true
put agent GOOGLE_CLOUD_PROJECT "$PROJECT_ID"
# The audience mcp-server checks in-process: its deterministic URL, whatever status.url says.
[ "$MCP_ACCESS" = oauth ] && put agent MCP_AUDIENCE "$mcp_public"

# Who may call the agent. --no-allow-unauthenticated in every mode: an allUsers binding from an
# older deploy is removed, never added. private: Cloud Run checks roles/run.invoker. public: the
# invoker check is off (Cloud Run's recommended way; works where an org policy forbids allUsers).
# iap: Identity-Aware Proxy signs users in first (GA in gcloud 558+, beta before), then calls Cloud Run as its own
# service agent; the agent verifies IAP's signed header against IAP_AUDIENCE.
deploy_cmd=(gcloud run deploy)
access_flags=(--no-allow-unauthenticated --invoker-iam-check)
case "$AGENT_ACCESS" in
  public)
    access_flags=(--no-allow-unauthenticated --no-invoker-iam-check)
    log "warning: AGENT_ACCESS=public: anyone on the internet can call the agent and spend your Gemini quota;"
    log "         set a budget alert and Vertex AI quotas, or use AGENT_ACCESS=private or iap."
    ;;
  iap)
    deploy_cmd=("${IAP_RUN[@]}" deploy)
    access_flags+=(--iap)
    log "== IAP for $AGENT_SERVICE (members: $IAP_MEMBERS)"
    if is_dry_run; then
      run gcloud projects describe "$PROJECT_ID" --format='value(projectNumber)'
      project_number='<project-number>'
    else
      project_number="$(query gcloud projects describe "$PROJECT_ID" --format='value(projectNumber)')"
    fi
    put agent IAP_AUDIENCE "/projects/$project_number/locations/$REGION/services/$AGENT_SERVICE"
    # IAP's service agent must exist before it can be granted anything; this is a no-op when it does.
    run gcloud beta services identity create --service=iap.googleapis.com "${project[@]}" >/dev/null
    ;;
esac
if [ "$AGENT_ACCESS" != iap ]; then
  if [ "$iap_on" = true ]; then
    log "== Leaving iap mode: emptying the IAP access list of $AGENT_SERVICE, then turning IAP off"
    empty_iap_access_list
    deploy_cmd=("${IAP_RUN[@]}" deploy)
    access_flags+=(--no-iap)
  fi
fi

tracing_env agent "$AGENT_SERVICE"
# AGENT_INSTRUCTION last: free text may hold the ; that make status's reading of the values splits on.
carry agent "${COMMON_SETTINGS[@]}" "${AGENT_SETTINGS[@]}"
log "== $AGENT_SERVICE ($AGENT_ACCESS, sessions in $SESSION_STORE, runs as $sa_email, MCP at $mcp_url$mcp_path)"
agent_env_file="$(env_file agent)"
run "${deploy_cmd[@]}" "$AGENT_SERVICE" --image="$agent_image" "${where[@]}" \
  --service-account="$sa_email" "${access_flags[@]}" --timeout="$AGENT_TIMEOUT" "${runtime_flags[@]}" \
  --max-instances="$AGENT_MAX_INSTANCES" "$agent_affinity" --env-vars-file="$agent_env_file"

if [ "${iap_on:-}" = true ]; then
  # IAP's service agent held run.invoker on the agent for iap mode; nothing calls through it now.
  agent_policy="$(query gcloud run services get-iam-policy "$AGENT_SERVICE" "${where[@]}" "${POLICY_FORMAT[@]}")"
  while IFS=$'\t' read -r role who; do
    if [ "$role" != roles/run.invoker ] || [[ "$who" != *@gcp-sa-iap.iam.gserviceaccount.com ]]; then continue; fi
    run gcloud run services remove-iam-policy-binding "$AGENT_SERVICE" "${where[@]}" --member="$who" --role="$role" >/dev/null
    log "removed: $role from $who on service $AGENT_SERVICE"
  done <<<"$agent_policy"
fi
if [ "$AGENT_ACCESS" = iap ]; then
  iap_agent="serviceAccount:service-$project_number@gcp-sa-iap.iam.gserviceaccount.com"
  ensure_binding "service $AGENT_SERVICE" roles/run.invoker "$iap_agent" \
    gcloud run services get-iam-policy "$AGENT_SERVICE" "${where[@]}" "${POLICY_FORMAT[@]}" -- \
    gcloud run services add-iam-policy-binding "$AGENT_SERVICE" "${where[@]}"
  iap_resource=(--resource-type=cloud-run --service="$AGENT_SERVICE" --region="$REGION" --project="$PROJECT_ID")
  for m in "${iap_members[@]}"; do
    ensure_binding "IAP of $AGENT_SERVICE" roles/iap.httpsResourceAccessor "$m" \
      "${IAP_WEB[@]}" get-iam-policy "${iap_resource[@]}" "${POLICY_FORMAT[@]}" -- \
      "${IAP_WEB[@]}" add-iam-policy-binding "${iap_resource[@]}"
  done
  # The access list is IAP_MEMBERS, no more: someone taken off the list loses access on the next deploy.
  if ! is_dry_run; then
    while IFS=$'\t' read -r role who; do
      [ "$role" = roles/iap.httpsResourceAccessor ] || continue
      [[ ",$IAP_MEMBERS," == *",$who,"* ]] && continue
      run "${IAP_WEB[@]}" remove-iam-policy-binding "${iap_resource[@]}" --member="$who" --role="$role" >/dev/null
      log "removed: $role from $who on IAP of $AGENT_SERVICE (not in IAP_MEMBERS)"
    done < <(query "${IAP_WEB[@]}" get-iam-policy "${iap_resource[@]}" "${POLICY_FORMAT[@]}")
  fi
fi

log ""
if is_dry_run; then
  log "Dry run: nothing was changed. <agent-url> below is the agent's URL, which a real deploy prints here."
  agent_url='<agent-url>'
else
  agent_url="$(gcloud run services describe "$AGENT_SERVICE" "${where[@]}" --format='value(status.url)')"
  log "Deployed: $MCP_SERVICE at $mcp_url ($MCP_ACCESS), $AGENT_SERVICE at $agent_url ($AGENT_ACCESS)"
fi
if [ "$MCP_ACCESS" = oauth ]; then
  log "Assistants connect to $MCP_RESOURCE_URL: at $OAUTH_ISSUER, tokens must be JWTs with audience"
  log "  ${OAUTH_AUDIENCE:-$MCP_RESOURCE_URL} and scope $OAUTH_SCOPES"
  log "  (docs/mcp-clients.md: \"Connect the assistants people use\")."
fi
log "Next: make iam PROJECT_ID=$PROJECT_ID REGION=$REGION   (the agent gets 403 from $MCP_SERVICE until then)"
case "$AGENT_ACCESS" in
  private) log "Then: make smoke AGENT_URL=$agent_url ID_TOKEN=\"\$(gcloud auth print-identity-token)\"   (you need roles/run.invoker on $AGENT_SERVICE; Owners and Editors have it)" ;;
  public) log "Then: make smoke AGENT_URL=$agent_url" ;;
  iap) log "Then: open $agent_url in a browser and sign in as one of: $IAP_MEMBERS" ;;
esac
