# shellcheck shell=bash
# Shared helpers for the Cloud Run scripts (deploy, iam, status, proxy, clean). Sourced, not run.
# Every gcloud/docker call goes through `run` so DRY_RUN=1 prints the whole plan and executes nothing.

# Names shared by deploy, iam, status and clean, so cleanup removes exactly what deploy and iam made.
MCP_SERVICE="${MCP_SERVICE:-mcp-server}"
AGENT_SERVICE="${AGENT_SERVICE:-agent}"
AR_REPO="${AR_REPO:-mcp-agent}"
AGENT_SA_NAME="${AGENT_SA_NAME:-mcp-agent}"
# mcp-server gets an identity with no roles at all: it calls no Google API, and the default compute
# account it would otherwise run as often holds Editor on the project.
MCP_SA_NAME="${MCP_SA_NAME:-mcp-server}"
# deploy writes this into the description of each service account it creates; clean deletes only
# accounts that carry it, so an account someone made by the same name is never deleted.
# shellcheck disable=SC2034
SA_MARK="Created by make deploy (cloud-run-mcp-agent)"
# Builds run as their own account with only what a build needs (push to our repository, write logs,
# read the uploaded source), not as the project's default (often the Editor-holding compute account).
BUILD_SA_NAME="${BUILD_SA_NAME:-mcp-agent-build}"
# Firestore session store: what the agent reads and what deploy provisions, one set of names.
FIRESTORE_DATABASE="${FIRESTORE_DATABASE:-(default)}"
FIRESTORE_COLLECTION="${FIRESTORE_COLLECTION:-agent-sessions}"
DRY_RUN="${DRY_RUN:-0}"

# Scripts must never stop on a gcloud prompt (CI, make, no TTY); confirmation is ours to ask.
export CLOUDSDK_CORE_DISABLE_PROMPTS=1

log() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

is_dry_run() { [ "$DRY_RUN" = 1 ]; }

# Quote one word for a shell only when it needs it, so printed commands stay readable and pasteable.
shell_quote() {
  if [[ "$1" =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}

# Print a command (to stderr, "+ " like `set -x`), then run it; under DRY_RUN=1 only print it.
run() {
  local line="+" word
  for word in "$@"; do line+=" $(shell_quote "$word")"; done
  printf '%s\n' "$line" >&2
  is_dry_run && return 0
  "$@"
}

# run_if NOTE CMD...: a command that runs only on a condition the plan cannot know yet (a describe or a
# policy read just above it). Runs like `run`; a dry run prints it marked "# only if NOTE", so the plan
# does not claim it will happen.
run_if() {
  local note="$1"; shift
  if is_dry_run; then
    local line="+" word
    for word in "$@"; do line+=" $(shell_quote "$word")"; done
    printf '%s   # only if %s\n' "$line" "$note" >&2
    return 0
  fi
  run "$@"
}

# Past tense for what happened, conditional for what a dry run would have done.
did() { if is_dry_run; then printf 'would be %s' "$1"; else printf '%s' "$1"; fi; }

# query CMD...: run a read-only gcloud command and print its output. Returns 1 when gcloud says the
# thing doesn't exist. Any other failure (not logged in, no permission, network) stops the script
# with gcloud's message and status 3: taking it for "absent" would make clean report "already gone",
# or status "not deployed", for things it never saw. Inside $(...) the caller must pass 3 on.
query() {
  local out err errfile rc=0
  errfile="$(mktemp)"
  out="$("$@" 2>"$errfile")" || rc=$?
  err="$(cat "$errfile")"
  rm -f "$errfile"
  if [ "$rc" = 0 ]; then
    [ -z "$out" ] || printf '%s\n' "$out"
    return 0
  fi
  if grep -Eq 'NOT_FOUND|[Nn]ot found|Cannot find' <<<"$err"; then return 1; fi
  printf '%s\nerror: could not read: %s\n' "$err" "$*" >&2
  exit 3
}

exists() { query "$@" >/dev/null; }

# Under DRY_RUN, probes are printed, not run. `probe` then reports "absent", so a dry run shows every
# create a first deploy makes; `probe_present` reports "present", so it shows every delete and grant.
probe() {
  if is_dry_run; then run "$@"; return 1; fi
  exists "$@"
}
probe_present() {
  if is_dry_run; then run "$@"; return 0; fi
  exists "$@"
}

# The Cloud Run scripts' start: `cloud_script VERB [gcloud]` runs from the repository root, names
# `make VERB` in its messages, needs PROJECT_ID and REGION and, with `gcloud`, the gcloud CLI.
cloud_script() {
  cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
  SCRIPT_VERB="$1"
  require_vars PROJECT_ID REGION
  if [ "${2:-}" = gcloud ]; then
    require_cmd gcloud "Install the Google Cloud CLI: https://cloud.google.com/sdk/docs/install"
  fi
}

# require_vars NAME...: stop before doing anything if one is empty, naming it.
require_vars() {
  local name
  for name in "$@"; do
    if [ -z "${!name:-}" ]; then
      die "$name is required, e.g. make ${SCRIPT_VERB:-deploy} PROJECT_ID=my-project REGION=us-central1"
    fi
  done
}

# gcloud (and docker) only matter when something will actually run.
require_cmd() {
  is_dry_run && return 0
  command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH. $2"
}

sa_email_of() { printf '%s@%s.iam.gserviceaccount.com' "$1" "$PROJECT_ID"; }
agent_sa_email() { sa_email_of "$AGENT_SA_NAME"; }
# Project-level roles deploy grants for optional features; clean takes each one back.
# (Used by the scripts that source this file.)
# shellcheck disable=SC2034
DATASTORE_ROLE=roles/datastore.user
# shellcheck disable=SC2034
TRACES_ROLE=roles/telemetry.tracesWriter
# The build account's roles: push to our repository (granted on the repository only), write build
# logs to Cloud Logging (a user-chosen account cannot use the default logs bucket), read the source
# that `gcloud builds submit` uploads to gs://PROJECT_cloudbuild.
# shellcheck disable=SC2034
BUILD_REPO_ROLE=roles/artifactregistry.writer
# shellcheck disable=SC2034
BUILD_PROJECT_ROLES=(roles/logging.logWriter roles/storage.objectViewer)

image_path() { printf '%s-docker.pkg.dev/%s/%s/%s' "$REGION" "$PROJECT_ID" "$AR_REPO" "$1"; }

# confirm "question": YES=1 answers for automation; otherwise a "yes" must be typed. With no stdin
# (CI, a closed pipe) there is nobody to ask, so refuse rather than guess.
confirm() {
  [ "${YES:-0}" = 1 ] && return 0
  local answer=""
  printf '%s Type "yes" to continue: ' "$1" >&2
  if ! IFS= read -r answer; then
    printf '\n' >&2
    die "no confirmation (stdin is closed); nothing was changed. Rerun with YES=1 to skip the prompt."
  fi
  [ "$answer" = yes ] || die "not confirmed (got \"$answer\"); nothing was changed."
}

# Policies as "ROLE<TAB>MEMBER" lines, one per member.
POLICY_FORMAT=(--flatten='bindings[].members' --format='value(bindings.role,bindings.members)')

# ensure_binding LABEL ROLE MEMBER GET-POLICY-CMD... -- ADD-BINDING-CMD...
# Reads the policy first and adds the binding only when it is missing, so a rerun writes nothing.
ensure_binding() {
  local label="$1" role="$2" member="$3"; shift 3
  local get=() add=() policy=""
  while [ "$1" != -- ]; do get+=("$1"); shift; done
  shift; add=("$@")
  if is_dry_run; then
    run "${get[@]}"
  else
    policy="$(query "${get[@]}")"
  fi
  if [ -n "$policy" ] && policy_has "$role" "$member" <<<"$policy"; then
    log "already granted: $role to $member on $label"
  else
    run_if "the policy above lacks it" "${add[@]}" --member="$member" --role="$role" >/dev/null
    log "$(did granted): $role to $member on $label"
  fi
}

# drop_binding LABEL ROLE MEMBER GET-POLICY-CMD... -- REMOVE-BINDING-CMD...
# The mirror of ensure_binding. A resource that is already gone has no policy: nothing to remove.
drop_binding() {
  local label="$1" role="$2" member="$3"; shift 3
  local get=() remove=() policy="" rc=0
  while [ "$1" != -- ]; do get+=("$1"); shift; done
  shift; remove=("$@")
  if is_dry_run; then
    run "${get[@]}"
  else
    policy="$(query "${get[@]}")" || { rc=$?; [ "$rc" = 1 ] || exit "$rc"; }
  fi
  if is_dry_run || { [ -n "$policy" ] && policy_has "$role" "$member" <<<"$policy"; }; then
    run_if "the policy above has it" "${remove[@]}" --member="$member" --role="$role" >/dev/null
    log "$(did removed): $role from $member on $label"
  else
    log "not bound: $role for $member on $label"
  fi
}

# Which gcloud track has IAP for Cloud Run: GA since gcloud 558 (`gcloud run deploy --iap`, `gcloud iap
# web … --resource-type=cloud-run`), the beta track before (528 is what many machines and images have).
# gcloud_tracks reads `gcloud version` once and sets:
#   GCLOUD_VERSION   e.g. 528.0.0 ("" when a dry run has no gcloud to ask)
#   GCLOUD_HAS_BETA  1 when the beta component is installed
#   IAP_RUN          (gcloud run) or (gcloud beta run): the deploy that can set --iap / --no-iap
#   IAP_WEB          (gcloud iap web) or (gcloud beta iap web): the IAP access list of a Cloud Run service
# IAP's service agent is made by `gcloud beta services identity create`, beta on every version.
IAP_GA_SINCE=558
# shellcheck disable=SC2034 # IAP_RUN and IAP_WEB are read by the scripts that source this file
gcloud_tracks() {
  local json major
  IAP_RUN=(gcloud run) IAP_WEB=(gcloud iap web) GCLOUD_VERSION="" GCLOUD_HAS_BETA=0
  if ! command -v gcloud >/dev/null 2>&1; then
    log "note: no gcloud on PATH: planning with the GA commands of gcloud $IAP_GA_SINCE and later"
    return 0
  fi
  json="$(query gcloud version --format=json)"
  GCLOUD_VERSION="$(sed -n 's/^ *"Google Cloud SDK": *"\([0-9.]*\)".*/\1/p' <<<"$json")"
  grep -q '^ *"beta":' <<<"$json" && GCLOUD_HAS_BETA=1
  major="${GCLOUD_VERSION%%.*}"
  [[ "$major" =~ ^[0-9]+$ ]] || die "could not read gcloud's version from \`gcloud version\`"
  if [ "$major" -lt "$IAP_GA_SINCE" ]; then
    IAP_RUN=(gcloud beta run) IAP_WEB=(gcloud beta iap web)
  fi
}

# need_beta WHY: stop, before anything is built or changed, when the beta component is missing.
need_beta() {
  if [ "$GCLOUD_HAS_BETA" = 1 ] || [ -z "$GCLOUD_VERSION" ]; then return 0; fi
  die "$1 needs gcloud's beta component, which gcloud $GCLOUD_VERSION here lacks: gcloud components install beta"
}

# AGENT_ACCESS=iap: who may pass IAP is a policy on the agent's IAP resource. Both clean and a deploy
# that leaves iap mode empty it, so no access list outlives the IAP it was for.
empty_iap_access_list() {
  local iap_resource=(--resource-type=cloud-run --service="$AGENT_SERVICE" --region="$REGION" --project="$PROJECT_ID")
  local role who
  if is_dry_run; then
    run "${IAP_WEB[@]}" get-iam-policy "${iap_resource[@]}" "${POLICY_FORMAT[@]}"
    log "(each roles/iap.httpsResourceAccessor member listed would be removed with ${IAP_WEB[*]} remove-iam-policy-binding)"
    return 0
  fi
  while IFS=$'\t' read -r role who; do
    [ "$role" = roles/iap.httpsResourceAccessor ] || continue
    run "${IAP_WEB[@]}" remove-iam-policy-binding "${iap_resource[@]}" --member="$who" --role="$role" >/dev/null
    log "removed: $role from $who on IAP of $AGENT_SERVICE"
  done < <(query "${IAP_WEB[@]}" get-iam-policy "${iap_resource[@]}" "${POLICY_FORMAT[@]}")
}

# Does the IAM policy printed as "ROLE<TAB>MEMBER" lines on stdin contain this exact pair?
policy_has() { # role member
  local role member
  while IFS=$'\t' read -r role member; do
    [ "$role" = "$1" ] && [ "$member" = "$2" ] && return 0
  done
  return 1
}

# agent_iap_enabled --project=… --region=…: whether IAP is on for the agent service. Prints "true" or
# nothing, and returns query's status (1: the service is not there). A dry run prints the command and
# answers nothing.
agent_iap_enabled() {
  local fmt='value(metadata.annotations."run.googleapis.com/iap-enabled")'
  if is_dry_run; then
    run gcloud run services describe "$AGENT_SERVICE" "$@" --format="$fmt"
    return 0
  fi
  query gcloud run services describe "$AGENT_SERVICE" "$@" --format="$fmt"
}
