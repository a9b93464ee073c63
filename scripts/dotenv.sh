#!/usr/bin/env bash
# Reads .env into the environment: KEY=VALUE lines, `#` comments, an optional `export`, optional quotes.
# A variable already set (your shell, make's command line) wins over .env; ENV_FILE names another file.
# DOTENV_FILE (the file read) and DOTENV_SET (" NAME NAME ", the names it set) are exported, so a
# script can say where a value came from (deploy names .env or the shell in its refusals).
#   scripts/dotenv.sh COMMAND ARGS...   run COMMAND with .env loaded (the Makefile runs its recipes so)
#   source scripts/dotenv.sh; load_dotenv   from another script
load_dotenv() {
  local file="${ENV_FILE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.env}" line key value
  [ -f "$file" ] || return 0
  export DOTENV_FILE="$file" DOTENV_SET="${DOTENV_SET:- }"
  while IFS= read -r line || [ -n "$line" ]; do
    [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
    if [[ "$line" =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]]; then
      key="${BASH_REMATCH[2]}"
      value="${BASH_REMATCH[3]}"
      if [[ "$value" =~ ^\"(.*)\"[[:space:]]*$ ]] || [[ "$value" =~ ^\'(.*)\'[[:space:]]*$ ]]; then
        value="${BASH_REMATCH[1]}"
      else
        value="${value%%[[:space:]]#*}" # an unquoted value ends at " #"
        value="${value%"${value##*[![:space:]]}"}"
      fi
      if [ -z "${!key+set}" ]; then
        export "$key=$value"
        DOTENV_SET+="$key "
      fi
    else
      echo "dotenv: $file: ignoring a line that is not KEY=VALUE: $line" >&2
    fi
  done <"$file"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  [ "$#" -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
  load_dotenv
  exec "$@"
fi
