# shellcheck shell=bash
# What make deploy puts in each service's environment on Cloud Run, and what it keeps out. Sourced by
# deploy.sh, and by test/deploy.test.ts, which checks that every setting the services read is in one
# of these lists. gcloud gets each service's environment as one YAML file (--env-vars-file) that
# replaces the whole environment: a setting not written there is gone after the deploy.

# Carried: the value set in .env or the shell reaches Cloud Run exactly as it is (deploy gives a few
# of them its own defaults: MODEL_PROVIDER=gemini, AGENT_ACCESS=private, SESSION_STORE=firestore, …).
# Read by common/ (logging, tracing) in both services; the OTel SDK reads the OTEL_* it names too.
# shellcheck disable=SC2034 # the lists are read by deploy.sh and the tests
COMMON_SETTINGS=(LOG_FORMAT LOG_LEVEL
  OTEL_SDK_DISABLED OTEL_TRACES_EXPORTER OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
  OTEL_EXPORTER_OTLP_PROTOCOL OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
  OTEL_EXPORTER_OTLP_HEADERS OTEL_EXPORTER_OTLP_TRACES_HEADERS
  OTEL_SERVICE_NAME OTEL_RESOURCE_ATTRIBUTES OTEL_TRACES_SAMPLER OTEL_TRACES_SAMPLER_ARG
  OTEL_BSP_SCHEDULE_DELAY OTEL_BSP_EXPORT_TIMEOUT OTEL_BSP_MAX_QUEUE_SIZE OTEL_BSP_MAX_EXPORT_BATCH_SIZE
  OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT
  OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT)
# agent/src/config.ts. AGENT_INSTRUCTION comes last: free text, it may hold the ";" that gcloud's
# value() output (read by make status) joins values with.
# shellcheck disable=SC2034
AGENT_SETTINGS=(APP_NAME MCP_TOOL_TIMEOUT_MS MODEL_PROVIDER GOOGLE_GENAI_USE_ENTERPRISE
  GOOGLE_CLOUD_LOCATION GOOGLE_MODEL GOOGLE_THINKING_LEVEL GOOGLE_TEMPERATURE GOOGLE_TOP_P GOOGLE_TOP_K
  GOOGLE_VERTEX_BASE_URL AGENT_ACCESS SESSION_STORE FIRESTORE_DATABASE FIRESTORE_COLLECTION
  FIRESTORE_PREFER_REST SESSION_TTL_SECONDS SESSION_MAX SESSION_MAX_MESSAGES SESSION_MAX_BYTES
  SESSION_MEMORY_MAX_BYTES SESSION_LEASE_SECONDS AGENT_ALLOWED_HOSTS A2A_ENABLED A2A_PUBLIC_URL
  AGENT_INSTRUCTION)
# mcp-server/src/config.ts.
# shellcheck disable=SC2034
MCP_SETTINGS=(FRANKFURTER_URL FRANKFURTER_PROVIDERS FRANKFURTER_TIMEOUT_MS TOOL_CALL_TIMEOUT_MS
  FRANKFURTER_MAX_BODY_BYTES FRANKFURTER_MAX_CONCURRENT FRANKFURTER_MAX_QUEUE MCP_ALLOWED_HOSTS
  MCP_ALLOWED_ORIGINS SSE_KEEPALIVE_MS SSE_MAX_SESSIONS SSE_MAX_QUEUED_BYTES CACHE_MAX_ENTRIES
  CACHE_MAX_BYTES CACHE_LATEST_TTL_SECONDS CACHE_DATED_TTL_SECONDS)
# mcp-server's OAuth settings, carried with MCP_ACCESS=oauth only: with iam, MCP_SERVER_AUTH=none
# and they would mean nothing (a note says so when one is set).
# shellcheck disable=SC2034
MCP_OAUTH_SETTINGS=(OAUTH_ISSUER OAUTH_SCOPES MCP_RESOURCE_URL OAUTH_AUDIENCE
  MCP_RESOURCE_DOCUMENTATION OAUTH_MAX_TOKEN_AGE_SECONDS)

# Decided by deploy from what it deploys: a value set in .env or the shell is refused unless it is
# the same (GOOGLE_CLOUD_PROJECT=PROJECT_ID, MCP_AUTH=id-token, …), since it could not be honoured.
# The agent: the deployed mcp-server's URL and ID-token audience, an ID token on every MCP request,
# Gemini on Vertex AI as its service account, IAP's audience with AGENT_ACCESS=iap.
# shellcheck disable=SC2034
AGENT_DECIDED=(MCP_SERVER_URL MCP_AUTH MCP_AUDIENCE GOOGLE_GENAI_USE_VERTEXAI GOOGLE_CLOUD_PROJECT
  IAP_AUDIENCE)
# mcp-server: its inbound auth for MCP_ACCESS (none behind Cloud Run IAM; with oauth, the agent's ID
# token for the run.app URL beside people's access tokens).
# shellcheck disable=SC2034
MCP_DECIDED=(MCP_SERVER_AUTH MCP_AUTH_AUDIENCE MCP_ALLOWED_INVOKERS GOOGLE_CLOUD_PROJECT)
# With TRACING=1, both services' OTLP export to Google's Telemetry API (otherwise carried as set);
# the per-signal and off switches are refused then too, as they would override it.
# shellcheck disable=SC2034
TRACING_DECIDED=(OTEL_TRACES_EXPORTER OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_PROTOCOL
  OTEL_SERVICE_NAME OTEL_RESOURCE_ATTRIBUTES OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL OTEL_SDK_DISABLED)
# Read by deploy itself and turned into other settings: MCP_TRANSPORT (mcp | sse) picks the path of
# MCP_SERVER_URL, from which the agent infers its transport; AGENT_INSTRUCTION_FILE is read here and
# deployed as AGENT_INSTRUCTION (the file is not in the image).
# shellcheck disable=SC2034
DEPLOY_READS=(MCP_TRANSPORT AGENT_INSTRUCTION_FILE)

# Read by the mcp-server only to refuse it: MCP_AUTH was its name for MCP_SERVER_AUTH until the last
# release (the agent's MCP_AUTH, above, is decided by deploy). Never written to mcp-server.
# shellcheck disable=SC2034
MCP_REFUSED_NAMES=(MCP_AUTH)

# Local only: never deployed; deploy names each one that is set, with this reason.
LOCAL_ONLY=(HOST PORT K_SERVICE FIRESTORE_EMULATOR_HOST GCE_METADATA_HOST GOOGLE_API_KEY
  GOOGLE_GEMINI_BASE_URL MCP_AUTH_CERTS_URL IAP_KEYS_URL)
local_only_reason() {
  case "$1" in
    HOST) echo "the images listen on 0.0.0.0" ;;
    PORT | K_SERVICE) echo "Cloud Run sets it (a reserved name)" ;;
    FIRESTORE_EMULATOR_HOST) echo "an emulator on this machine; deployed sessions go to Firestore" ;;
    GCE_METADATA_HOST) echo "a stand-in of the metadata server; Cloud Run has the real one" ;;
    # Cloud Run shows environment variables to everyone with Viewer on the project (Cloud Run docs,
    # "Environment variables": keep secrets in Secret Manager), and Vertex AI needs no key.
    GOOGLE_API_KEY) echo "a secret; the deployed agent calls Gemini on Vertex AI as its service account, and environment variables are readable by every project viewer" ;;
    GOOGLE_GEMINI_BASE_URL) echo "the Gemini API's address; the deployed agent uses Vertex AI (GOOGLE_VERTEX_BASE_URL)" ;;
    # Whoever holds the keys behind these URLs can sign tokens the services accept: only Google's.
    MCP_AUTH_CERTS_URL) echo "tests point it at a local JWKS; deployed, Google's own keys check ID tokens" ;;
    IAP_KEYS_URL) echo "tests point it at a local JWKS; deployed, IAP's own keys check its header" ;;
    *) return 1 ;;
  esac
}
# Deployed, but masked in the plan: values that can hold credentials.
SECRET_SETTINGS=(OTEL_EXPORTER_OTLP_HEADERS OTEL_EXPORTER_OTLP_TRACES_HEADERS)
# URLs the deployed services call or give out (A2A's card): a loopback one would be the container.
URL_SETTINGS=(MCP_SERVER_URL GOOGLE_VERTEX_BASE_URL FRANKFURTER_URL OAUTH_ISSUER MCP_RESOURCE_URL
  MCP_RESOURCE_DOCUMENTATION OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_TRACES_ENDPOINT A2A_PUBLIC_URL)
# Cloud Run's limit on one environment variable's value (Admin API v2, EnvVar.value, read 2026-12-08).
ENV_VALUE_MAX_BYTES=32768

# origin_of NAME: where NAME's value came from, for messages (scripts/dotenv.sh records what .env set).
origin_of() {
  if [[ "${DOTENV_SET:-}" == *" $1 "* ]]; then
    printf '%s' "${DOTENV_FILE#"$PWD/"}"
  else
    printf "the shell or make's command line"
  fi
}

# in_list NAME LIST...: whether NAME is one of LIST.
in_list() {
  local n="$1" item
  shift
  for item in "$@"; do
    if [ "$item" = "$n" ]; then return 0; fi
  done
  return 1
}

# user_set NAME: NAME was set, non-empty, in .env or the shell (empty means unset, as for the services).
user_set() { [ -n "${!1:-}" ]; }

# url_host URL: the host of an http(s) URL, lower-case (IPv6 in brackets); fails for anything else.
url_host() {
  local host
  [[ "$1" =~ ^[Hh][Tt][Tt][Pp][Ss]?://([^/?#[:space:]]+) ]] || return 1
  host="${BASH_REMATCH[1]##*@}"
  if [[ "$host" == \[* ]]; then host="${host%%]*}]"; else host="${host%%:*}"; fi
  [ -n "$host" ] || return 1
  printf '%s' "$host" | tr '[:upper:]' '[:lower:]'
}

# points_here HOST: loopback or "any address", written any way a URL parser accepts: on Cloud Run
# that is the container itself. A numeric host that is not a dotted quad (127.1, 2130706433,
# 0x7f000001) is read as an IPv4 address by URL parsers, so it counts too.
points_here() {
  case "$1" in
    localhost | localhost. | *.localhost | *.localhost. | 0.0.0.0 | \[::1\] | \[::\] | \[::ffff:*) return 0 ;;
  esac
  [[ "$1" =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ ]] && return 0
  [[ "$1" =~ ^\[[0:]*(:0*1)?\]$ ]] && return 0
  if [[ "$1" =~ ^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$ ]] &&
    ! [[ "$1" =~ ^[1-9][0-9]{0,2}(\.(0|[1-9][0-9]{0,2})){3}$ ]]; then
    return 0
  fi
  return 1
}

# check_value NAME VALUE: what Cloud Run and gcloud's YAML can carry exactly; stops deploy otherwise.
# The value itself is never echoed: a URL can hold credentials or a key in its query.
check_value() {
  local LC_ALL=C host
  [ "${#2}" -le "$ENV_VALUE_MAX_BYTES" ] ||
    die "$1 is ${#2} bytes (from $(origin_of "$1")); Cloud Run takes at most $ENV_VALUE_MAX_BYTES bytes in one environment variable"
  # Tab and newline are carried (escaped in the YAML); other control characters are refused.
  [[ "$2" != *[$'\001'-$'\010'$'\013'-$'\037'$'\177']* ]] ||
    die "$1 holds a control character (from $(origin_of "$1")); only tabs and newlines are carried"
  in_list "$1" "${URL_SETTINGS[@]}" || return 0
  host="$(url_host "$2")" || die "$1 must be an http(s) URL (from $(origin_of "$1"))"
  if points_here "$host"; then
    die "$1 (from $(origin_of "$1")) points at $host, this machine, which on Cloud Run is the container itself: unset it for deploy, or use an address Cloud Run can reach"
  fi
}

# yaml_quote VALUE: a YAML double-quoted scalar that reads back as exactly VALUE (check_value has
# refused the control characters this does not escape).
yaml_quote() {
  local v="$1"
  v="${v//\\/\\\\}"
  v="${v//\"/\\\"}"
  v="${v//$'\n'/\\n}"
  v="${v//$'\t'/\\t}"
  printf '"%s"' "$v"
}

# The plan shows a value so: secrets masked, a long text abbreviated to its start and its size.
plan_value() {
  local name="$1" v="$2" start="${2:0:60}"
  local LC_ALL=C # ${#v} in bytes, as Cloud Run counts
  if in_list "$name" "${SECRET_SETTINGS[@]}"; then
    printf '<secret, %s bytes, not shown>' "${#v}"
  elif [ "${#v}" -gt 80 ] || [[ "$v" == *$'\n'* ]]; then
    printf '%s… (%s bytes)' "$(yaml_quote "$start")" "${#v}"
  else
    yaml_quote "$v"
  fi
}
