#!/bin/bash
# Faults on Google Cloud, retried as Google's libraries do. The token
# endpoint (google-auth, google/oauth2/_client.py): 408, 429, 500 and 503
# answers and the OAuth errors internal_failure, server_error and
# temporarily_unavailable are retried, three times after the first
# attempt; any other refusal is final. Compute Engine (google-api-core):
# 429 and 5xx on inserts, gets and operations waits are retried, and a
# retried insert carries the same requestId, so one of each resource is
# made.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-gcp.sh"
plan_lazy

gcp_key "$GCP_DIR/sa.json"
export GOOGLE_APPLICATION_CREDENTIALS="$GCP_DIR/sa.json"
drv() { "$GCP_DRIVER" "$@" 2>&1; }
mark() { m=$(gcp_log_lines); }
# The statuses of the token requests since mark, in order.
token_statuses() {
	tail -n +"$((m + 1))" "$GCP_LOG" | python3 -c '
import json, sys
print(" ".join(str(e["status"]) for e in map(json.loads, sys.stdin)
               if e["path"] == "/token"))'
}
inject_token() { # inject_token STATUS COUNT [OAUTH-ERROR]
	if [ -n "${3:-}" ]; then
		gcp_ctl inject '{"method": "POST", "path": "^/token$", "status": '"$1"', "oauth": "'"$3"'", "message": "injected", "count": '"$2"'}' >/dev/null
	else
		gcp_ctl inject '{"method": "POST", "path": "^/token$", "status": '"$1"', "reason": "backendError", "count": '"$2"'}' >/dev/null
	fi
}

# --- The token endpoint -------------------------------------------------
for st in 429 503 500 408; do
	inject_token "$st" 1
	mark
	is "fetches=1" "$(drv tokens 1)" "a token answered $st once: fetched on the next attempt"
	is "$st 200" "$(token_statuses)" "token endpoint $st, then 200"
done
inject_token 503 3
mark
is "fetches=1" "$(drv tokens 1)" "a token answered 503 three times: the fourth attempt gets it"
is "503 503 503 200" "$(token_statuses)" "google-auth's four attempts"
inject_token 429 4
mark
out=$(drv tokens 1)
like "$out" "^error -5: token endpoint $GCP_URL/token did not give a token after 4 attempts: HTTP 429; try again later$" \
	"429 four times: a transient failure, one line, what to do"
is "429 429 429 429" "$(token_statuses)" "four attempts, no more"
is 1 "$(printf '%s\n' "$out" | wc -l)" "in one line"
inject_token 400 1 temporarily_unavailable
mark
is "fetches=1" "$(drv tokens 1)" "an OAuth temporarily_unavailable error is retried"
is "400 200" "$(token_statuses)" "400 temporarily_unavailable, then 200"
inject_token 400 1 invalid_grant
mark
out=$(drv tokens 1)
like "$out" "^error -1: token endpoint $GCP_URL/token refused the credentials of $GCP_DIR/sa.json \(GOOGLE_APPLICATION_CREDENTIALS\): invalid_grant: injected \(HTTP 400\)$" \
	"invalid_grant is final: the credentials are named"
is "400" "$(token_statuses)" "one attempt"
gcp_ctl clear >/dev/null

# Through the REST client: the token a compute call needs fails once.
inject_token 503 1
mark
like "$(drv call GET projects/fanout-test/zones/us-central1-a)" '"name":"us-central1-a"' \
	"a compute call whose token fetch met a 503 succeeds"
is "503 200" "$(token_statuses)" "its token was fetched on the second attempt"
gcp_ctl clear >/dev/null

is 0 "$(gcp_outside)" "nothing went off loopback"
done_testing
