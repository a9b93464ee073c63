#!/usr/bin/env bash
# `make smoke`: the README's curl checks against a running agent, local or deployed. Each check proves
# its claim: a conversion passes only if the tool call succeeded and the answer holds the amount the
# tool returned; the stream passes only if it carried a successful tool result before `done`.
#   AGENT_URL  (default http://127.0.0.1:8080)
#   ID_TOKEN   bearer token for a private agent. Unset with an https AGENT_URL (a deployed, private
#              agent): taken from `gcloud auth print-identity-token`. Set it empty to send none.
set -euo pipefail

AGENT_URL="${AGENT_URL:-http://127.0.0.1:8080}"
AGENT_URL="${AGENT_URL%/}"

token_source="none"
if [ -n "${ID_TOKEN:-}" ]; then
  token_source="ID_TOKEN"
elif [ -z "${ID_TOKEN+set}" ] && [[ "$AGENT_URL" == https://* ]]; then
  token_source="gcloud auth print-identity-token"
fi

if [ "${DRY_RUN:-0}" = "1" ]; then
  echo "+ smoke checks against $AGENT_URL (ID token: $token_source): GET /health, GET /, GET /ready, POST /chat (tool call succeeded, answer holds its amount), POST /chat again on the returned session_id, POST /chat (bad JSON), POST /chat/stream (tool result before done)"
  exit 0
fi

if [ "$token_source" = "gcloud auth print-identity-token" ]; then
  # Cloud Run takes the ID token of the account gcloud is logged in as, for any service where it holds
  # run.invoker (https://cloud.google.com/run/docs/authenticating/developers).
  if ! command -v gcloud >/dev/null 2>&1; then
    echo "smoke: $AGENT_URL is https and ID_TOKEN is unset, but gcloud is not installed to mint one;" >&2
    echo "  set ID_TOKEN=\"\$(gcloud auth print-identity-token)\", or ID_TOKEN= for a public agent" >&2
    exit 2
  fi
  gcloud_err="$(mktemp)"
  if ! ID_TOKEN="$(gcloud auth print-identity-token 2>"$gcloud_err")" || [ -z "$ID_TOKEN" ]; then
    echo "smoke: could not get an ID token from gcloud (run: gcloud auth login), or set ID_TOKEN= for a public agent:" >&2
    sed 's/^/  /' "$gcloud_err" >&2
    rm -f "$gcloud_err"
    exit 2
  fi
  rm -f "$gcloud_err"
  echo "smoke: sending the ID token of gcloud's active account"
fi

auth=()
[ -n "${ID_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $ID_TOKEN")
failures=0
body="$(mktemp)"
trap 'rm -f "$body"' EXIT

ok() { echo "ok    $1"; }
fail() {
  echo "FAIL  $1: $2"
  failures=$((failures + 1))
}

status=""
request() { # curl-args...: the answer's body goes to $body, its HTTP status to $status
  status="$(curl -sS -o "$body" -w '%{http_code}' --max-time 60 "${auth[@]}" "$@" 2>&1)" || status="no answer ($status)"
}
check() { # name expected_status pattern curl-args...
  local name="$1" want="$2" pattern="$3"
  shift 3
  request "$@"
  if [ "$status" = "$want" ] && grep -Eq "$pattern" "$body"; then
    ok "$name"
  else
    fail "$name" "wanted HTTP $want matching /$pattern/, got $status: $(head -c 300 "$body")"
  fi
}

# What the answers mean, read as JSON (or SSE) by node, which `make` needs anyway. Prints the detail on
# one line; exits 1 when the claim does not hold.
inspect() { # what file [currency]
  # shellcheck disable=SC2016 # JavaScript, not shell: its ${...} are template literals
  node --input-type=module -e '
import { readFileSync } from "node:fs";
const [what, file, code] = process.argv.slice(1);
const text = readFileSync(file, "utf8");
const out = (line, failed) => { console.log(line); process.exit(failed ? 1 : 0); };
const parse = (s) => { try { return JSON.parse(s); } catch { out(`not JSON: ${s.slice(0, 200)}`, true); } };
const short = (s) => JSON.stringify(String(s ?? "").slice(0, 200));
// The converted amount in a get_exchange_rate result: structured ({rates: {EUR: n}}) or "… = n EUR …".
const amountOf = (result) => {
  try { const v = JSON.parse(result)?.rates?.[code]; if (typeof v === "number") return v; } catch {}
  const m = new RegExp(`=\\s*([0-9][0-9,]*(?:\\.[0-9]+)?)\\s*${code}\\b`).exec(String(result));
  return m ? Number(m[1].replace(/,/g, "")) : undefined;
};
// The answer holds the amount if one of its numbers is that amount, to the cent (models round).
const holds = (answer, amount) =>
  [...String(answer).replace(/(\d),(?=\d{3}(?!\d))/g, "$1").matchAll(/\d+(?:\.\d+)?/g)].some((m) => Math.abs(Number(m[0]) - amount) <= 0.005 + 1e-9);
const toolAmount = (call) => {
  if (!call) out("no get_exchange_rate call: the answer did not come from the tool", true);
  if (call.is_error) out(`the tool call failed: ${short(call.result)}`, true);
  const amount = amountOf(call.result);
  if (amount === undefined) out(`no ${code} amount in the tool result ${short(call.result)}`, true);
  return amount;
};
const answerHolds = (call, answer) => {
  const amount = toolAmount(call);
  if (!holds(answer, amount)) out(`the answer does not hold the tool amount ${amount} ${code}: ${short(answer)}`, true);
  out(`${amount} ${code}`);
};
if (what === "session") out(parse(text).session_id ?? "", false);
if (what === "tool") { toolAmount(parse(text).tool_calls?.find((c) => c.name === "get_exchange_rate")); out("succeeded"); }
if (what === "answer") { const b = parse(text); answerHolds(b.tool_calls?.find((c) => c.name === "get_exchange_rate"), b.response); }
if (what === "stream") {
  const events = text.split(/\r?\n\r?\n/).filter((b) => b.trim()).map((block) => {
    const lines = block.split(/\r?\n/);
    const event = lines.find((l) => l.startsWith("event:"))?.slice(6).trim() ?? "message";
    const data = lines.filter((l) => l.startsWith("data:")).map((l) => l.slice(5).replace(/^ /, "")).join("\n");
    return { event, data };
  });
  const done = events.findIndex((e) => e.event === "done");
  if (done < 0) out(`no done event; got: ${events.map((e) => e.event).join(", ") || "nothing"}`, true);
  const result = events.slice(0, done).map((e) => (e.event === "tool_result" ? parse(e.data) : undefined)).find((r) => r?.name === "get_exchange_rate");
  if (!result) out(`no get_exchange_rate tool_result before done; got: ${events.map((e) => e.event).join(", ")}`, true);
  answerHolds(result, parse(events[done].data).response);
}
out(`smoke.sh: unknown inspection ${what}`, true);
' "$@"
}

json=(-H 'content-type: application/json')
check "GET /health" 200 '"status":"ok"' "$AGENT_URL/health"
check "GET / names the model" 200 '"model":' "$AGENT_URL/"
check "GET /ready (MCP server lists its tools)" 200 'get_exchange_rate' "$AGENT_URL/ready"

request "${json[@]}" -d '{"message":"What is 100 USD in EUR?","user_id":"smoke"}' "$AGENT_URL/chat"
session=""
if [ "$status" != 200 ]; then
  fail "POST /chat converts 100 USD to EUR" "wanted HTTP 200, got $status: $(head -c 300 "$body")"
else
  if detail="$(inspect tool "$body" EUR)"; then ok "POST /chat: the get_exchange_rate call succeeded"; else fail "POST /chat: the get_exchange_rate call succeeded" "$detail"; fi
  if detail="$(inspect answer "$body" EUR)"; then ok "POST /chat: the answer holds the tool's amount ($detail)"; else fail "POST /chat: the answer holds the tool's amount" "$detail"; fi
  session="$(inspect session "$body" || true)"
fi

# A conversation goes on under the session_id the agent returned (the agent chooses ids; a made-up one
# may be refused).
name="POST /chat continues the conversation on the returned session_id"
if [ -z "$session" ]; then
  fail "$name" "the first turn returned no session_id"
else
  request "${json[@]}" -d "{\"message\":\"And 50 EUR in GBP?\",\"user_id\":\"smoke\",\"session_id\":\"$session\"}" "$AGENT_URL/chat"
  if [ "$status" != 200 ]; then
    fail "$name" "wanted HTTP 200, got $status: $(head -c 300 "$body")"
  elif [ "$(inspect session "$body" || true)" != "$session" ]; then
    fail "$name" "the answer came on another session: $(head -c 300 "$body")"
  elif ! detail="$(inspect answer "$body" GBP)"; then
    fail "$name" "$detail"
  else
    ok "$name ($detail)"
  fi
fi

check "POST /chat with bad JSON is a 400" 400 '"code":"invalid_json"' "${json[@]}" -d '{not json' "$AGENT_URL/chat"

name="POST /chat/stream carries a successful tool result, then done"
request -N "${json[@]}" -d '{"message":"50 EUR in GBP","user_id":"smoke"}' "$AGENT_URL/chat/stream"
if [ "$status" != 200 ]; then
  fail "$name" "wanted HTTP 200, got $status: $(head -c 300 "$body")"
elif ! detail="$(inspect stream "$body" GBP)"; then
  fail "$name" "$detail"
else
  ok "$name ($detail)"
fi

if [ "$failures" -gt 0 ]; then
  echo "smoke: $failures check(s) failed against $AGENT_URL" >&2
  exit 1
fi
echo "smoke: all checks passed against $AGENT_URL"
