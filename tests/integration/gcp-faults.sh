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
. "$top_srcdir/tests/integration/lib-gcp-create.sh"
plan_lazy

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

# --- Compute Engine, through a create and a cleanup ----------------------
inject() { # inject METHOD PATH-REGEX STATUS COUNT [EXTRA-JSON]
	gcp_ctl inject '{"method": "'"$1"'", "path": "'"$2"'", "status": '"$3"', "count": '"$4"', "reason": "'"$([ "$3" = 429 ] && echo rateLimitExceeded || echo backendError)"'"'"${5:+, $5}"'}' >/dev/null
}
# calls REGEX: "METHOD:STATUS[:lost]" of the requests since mark whose
# path matches, and the distinct requestIds they carried.
calls() {
	tail -n +"$((m + 1))" "$GCP_LOG" | python3 -c '
import json, re, sys
es = [e for e in map(json.loads, sys.stdin) if re.search(sys.argv[1], e["path"])]
rids = sorted(set(e.get("request_id", "-") for e in es))
print(" ".join("%s:%s%s" % (e["method"], e["status"], ":lost" if e.get("lost") else "")
               for e in es), "rids=%d" % len(rids))' "$1"
}
rids() { # the requestIds of the requests since mark whose path matches
	tail -n +"$((m + 1))" "$GCP_LOG" | python3 -c '
import json, re, sys
print(" ".join(sorted(set(e.get("request_id", "-") for e in map(json.loads, sys.stdin)
                          if re.search(sys.argv[1], e["path"])))))' "$1"
}
FW='/global/firewalls$'
INS='/zones/[^/]+/instances$'

gcp_reset
inject POST "$FW" 503 1
inject POST "$INS" 429 2
inject GET '/instances/[^/]+$' 503 1
inject POST '/global/operations/[^/]+/wait$' 503 1
inject POST '/zones/[^/]+/operations/[^/]+/wait$' 429 2
inject GET '/zones$' 503 1
inject GET '/machineTypes/[^/]+$' 429 1
mark
gcp_create >"$TEST_TMP/f.id" 2>"$TEST_TMP/f.err"
ok $? "a create through 429 and 503 answers exits 0" || diag "$(tail -3 "$TEST_TMP/f.err")"
id=$(cat "$TEST_TMP/f.id")
is "POST:503 POST:200 rids=1" "$(calls "$FW")" "the rule's insert: 503, then again with the same requestId"
is "POST:429 POST:429 POST:200 rids=1" "$(calls "$INS")" "the instance's insert: 429 twice, then again with the same requestId"
is "$(res_get "$id" firewall '["token"]') $(res_get "$id" instance '["token"]')" 	"$(rids "$FW") $(rids "$INS")" "the requestIds are the ones the intents recorded"
like "$(calls '/global/operations/[^/]+/wait$')" '^POST:503 POST:200' "the global operation's wait: 503, then waited"
like "$(calls '/zones/[^/]+/operations/[^/]+/wait$')" '^POST:429 POST:429 POST:200' "the zone operation's wait: 429 twice, then waited"
like "$(calls '/instances/[^/]+$')" '^GET:503 GET:200' "the instance's read: 503, then read"
like "$(calls '/zones$')" '^GET:503 GET:200' "the zones' list: 503, then listed"
like "$(calls '/machineTypes/[^/]+$')" '^GET:429 GET:200' "the machine type's read: 429, then read"
is "active" "$(rec_get "$id" 'r["state"]')" "the run set is active"
is "1 1" "$(gcp_left)" "one instance, one rule"
gcp_ctl clear >/dev/null

inject DELETE '/instances/[^/]+$' 503 1
inject DELETE '/firewalls/[^/]+$' 429 1
inject POST '/operations/[^/]+/wait$' 503 2
mark
"$FANOUT" cleanup "$id" --yes >"$TEST_TMP/fc.out" 2>&1
ok $? "a cleanup through 429 and 503 answers exits 0" || diag "$(tail -3 "$TEST_TMP/fc.out")"
like "$(calls '/(instances|firewalls)/[^/]+$')" 'DELETE:503 .*DELETE:200' "a delete answered 503 is sent again"
is "0 0" "$(gcp_ctl settle >/dev/null; gcp_left)" "nothing is left"
gcp_ctl clear >/dev/null

# Answers lost after Google did the work: the insert sent again with its
# requestId is answered with the first one's operation, so one of each
# (without the requestId the second would be refused: alreadyExists).
gcp_reset
inject POST "$FW" 503 1 '"lose": true'
inject POST "$INS" 503 1 '"lose": true'
mark
gcp_create >"$TEST_TMP/l.id" 2>"$TEST_TMP/l.err"
ok $? "a create whose insert answers are lost exits 0" || diag "$(tail -3 "$TEST_TMP/l.err")"
id=$(cat "$TEST_TMP/l.id")
is "POST:503:lost POST:200 rids=1" "$(calls "$FW")" "the rule's insert: served, its answer lost, sent again with the same requestId"
is "POST:503:lost POST:200 rids=1" "$(calls "$INS")" "the instance's insert: the same"
is "1 1" "$(gcp_ctl settle >/dev/null; gcp_left)" "still one instance and one rule"
"$FANOUT" cleanup "$id" --yes >/dev/null 2>&1
is "0 0" "$(gcp_left)" "cleanup leaves nothing"
gcp_ctl clear >/dev/null

is 0 "$(gcp_outside)" "nothing went off loopback"
done_testing
