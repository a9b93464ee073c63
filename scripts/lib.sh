# shellcheck shell=bash
# shellcheck disable=SC2034 # settings are read by the scripts that source this file
# Shared by the Cloud Run scripts: settings with defaults, DRY_RUN, checks, confirmation.

die() { echo "error: $*" >&2; exit 1; }
info() { echo "==> $*"; }
warn() { echo "warning: $*" >&2; }

# DRY_RUN=1 prints each command (shell-quoted, ready to paste) instead of running it.
run() {
  if [ "${DRY_RUN:-0}" = "1" ]; then
    printf '+'; printf ' %q' "$@"; printf '\n'
  else
    "$@"
  fi
}

# True when the resource a describe command names exists. In a dry run nothing is asked, so
# every resource counts as missing and the commands that would create it are printed.
exists() {
  [ "${DRY_RUN:-0}" = "1" ] && { printf '+'; printf ' %q' "$@"; printf '   # does it exist?\n'; return 1; }
  "$@" >/dev/null 2>&1
}

require_vars() {
  local v
  for v in "$@"; do
    [ -n "${!v:-}" ] || die "$v is not set. Example: make ${SCRIPT_TARGET:-deploy} PROJECT_ID=my-project REGION=us-central1"
  done
}

confirm() { # question
  [ "${YES:-0}" = "1" ] && return 0
  [ "${DRY_RUN:-0}" = "1" ] && return 0
  if [ ! -t 0 ]; then die "$1 Refusing without a terminal to confirm; run again with YES=1."; fi
  local answer
  read -r -p "$1 [y/N] " answer
  [[ "$answer" =~ ^[Yy]([Ee][Ss])?$ ]] || die "cancelled"
}

load_settings() {
  require_vars PROJECT_ID REGION
  [[ "$PROJECT_ID" =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] || die "PROJECT_ID '$PROJECT_ID' is not a valid project ID"
  AR_REPO="${AR_REPO:-cloud-run-mcp}"
  MCP_SERVICE="${MCP_SERVICE:-mcp-server}"
  AGENT_SERVICE="${AGENT_SERVICE:-agent}"
  AGENT_SA_NAME="${AGENT_SA_NAME:-mcp-agent}"
  AGENT_SA="$AGENT_SA_NAME@$PROJECT_ID.iam.gserviceaccount.com"
  IMAGE_BASE="$REGION-docker.pkg.dev/$PROJECT_ID/$AR_REPO"
  MCP_TRANSPORT="${MCP_TRANSPORT:-streamable-http}"
  case "$MCP_TRANSPORT" in streamable-http | sse) ;; *) die "MCP_TRANSPORT must be streamable-http or sse" ;; esac
  GCP=(--project "$PROJECT_ID")
  RUN=(--region "$REGION" --project "$PROJECT_ID")
}
