#!/usr/bin/env bash
# Lint every shell script in the repository: scripts/*.sh, .ci/run, and the stand-ins under test/support
# (any file there whose first line names sh or bash). New scripts are picked up without listing them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v shellcheck >/dev/null 2>&1; then
  echo "shellcheck.sh: shellcheck not found. Install it: apt-get install shellcheck (Debian/Ubuntu)," >&2
  echo "  brew install shellcheck (macOS); see https://github.com/koalaman/shellcheck#installing" >&2
  exit 1
fi

files=(scripts/*.sh)
[ -f .ci/run ] && files+=(.ci/run)
while IFS= read -r -d '' f; do
  head -n1 "$f" | grep -Eq '^#!.*([/ ]|env )(ba)?sh([[:space:]]|$)' && files+=("$f")
done < <(find test/support -type f -print0 2>/dev/null | sort -z)

# -x with the script's own directory as source path: `source scripts/lib.sh` is followed and checked.
shellcheck -x --source-path=SCRIPTDIR --source-path=. "${files[@]}"
echo "shellcheck: ${#files[@]} files clean"
