#!/bin/bash
# Crash safety on Google Cloud: a bastion create (kinds ssh_key, firewall,
# instance) killed with SIGKILL at each step, and 'fanout cleanup ID'
# then leaves nothing: no labelled instance, no fanout firewall rule, no
# key file, the record marked deleted. The points:
#   intent:KIND  after the intent is saved, before the insert is sent
#                (FANOUT_CRASH_AFTER=intent:KIND);
#   insert       after the insert reached the stand-in, while its
#                operation is waited on (the wait is held, then refused);
#   KIND         after the insert is done, before its id is recorded
#                (FANOUT_CRASH_AFTER=KIND);
#   created      right after the record says created (killwhen.py).
# The intent carries the insert's requestId before the insert is sent, the
# insert carries that requestId, and the same insert sent again (as a
# retry would) makes nothing more. Before every count the stand-in runs its
# pending operations to their end (/_fake/settle), as Google does whether
# or not a client waits for them.
# The service account (role block) and the slurm nodes (fleet block) are
# other branches' (gcpfleet, gcpwiz): not covered here.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-gcp.sh"
. "$top_srcdir/tests/integration/lib-gcp-create.sh"
plan_lazy

settled_left() { gcp_ctl settle >/dev/null; gcp_left; }
cleanup_and_check() { # cleanup_and_check ID WHAT
	"$FANOUT" cleanup "$1" --yes >"$TEST_TMP/cleanup.$1.log" 2>&1
	ok $? "$2: cleanup exits 0" || diag "$(tail -3 "$TEST_TMP/cleanup.$1.log")"
	is "0 0" "$(settled_left)" "$2: no labelled instance and no fanout firewall rule is left"
	check "$2: no key file is left" test ! -e "$FANOUT_HISTORY_DIR/$1.key"
	is "deleted" "$(rec_get "$1" 'r["state"]')" "$2: the record is marked deleted"
}
# inserts_of RID: the inserts the stand-in took with that requestId.
inserts_of() {
	python3 - "$GCP_LOG" "$1" <<'PY'
import json, re, sys
n = 0
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["method"] == "POST" and re.search(r"/(instances|firewalls)$", e["path"]) \
            and e.get("request_id") == sys.argv[2]:
        n += 1
print(n)
PY
}
INSERT_RE() { # the log line of KIND's insert
	case $1 in
	firewall) echo '"method": "POST", "path": "/compute/v1/projects/fanout-test/global/firewalls"' ;;
	instance) echo '"method": "POST", "path": "/compute/v1/projects/fanout-test/zones/[a-z0-9-]+/instances"' ;;
	esac
}
WAIT_RE() { # the operations wait of KIND's insert
	case $1 in
	firewall) echo '/global/operations/[^/]+/wait$' ;;
	instance) echo '/zones/[^/]+/operations/[^/]+/wait$' ;;
	esac
}

# A create that is not killed makes one of each (the cases below differ
# from it only by the kill).
gcp_reset
gcp_create >"$TEST_TMP/whole.id" 2>"$TEST_TMP/whole.err"
ok $? "a GCP bastion create exits 0" || diag "$(tail -5 "$TEST_TMP/whole.err")"
id=$(cat "$TEST_TMP/whole.id")
is "firewall:created instance:created ssh_key:created" \
	"$(rec_get "$id" '" ".join(sorted(x["kind"] + ":" + x["state"] for x in r["resources"]))')" \
	"the record has an ssh key, a firewall rule and an instance, all created"
is "1 1" "$(gcp_left)" "the stand-in holds one instance and one rule"
cleanup_and_check "$id" "no crash"

# 1. Killed after the intent, before the insert.
for kind in ssh_key firewall instance; do
	gcp_reset
	FANOUT_CRASH_AFTER=intent:$kind gcp_create >/dev/null 2>&1
	is 137 $? "crash at $kind's intent: killed by SIGKILL"
	id=$(newest_id)
	is "creating intent" "$(rec_get "$id" 'r["state"]') $(res_get "$id" $kind '["state"]')" \
		"crash at $kind's intent: the record has the intent only"
	if [ "$kind" != ssh_key ]; then
		rid=$(res_get "$id" $kind '["token"]')
		like "$rid" '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' \
			"crash at $kind's intent: the intent has the insert's requestId (a UUID v4)"
		is 0 "$(inserts_of "$rid")" "crash at $kind's intent: no insert was sent"
	fi
	cleanup_and_check "$id" "crash at $kind's intent"
	like "$(cat "$TEST_TMP/cleanup.$id.log")" "$kind .* was never made" \
		"crash at $kind's intent: cleanup says it was never made"
done

# 2. Killed after the insert reached Google, while its operation runs.
for kind in firewall instance; do
	gcp_reset
	gcp_ctl inject '{"method": "POST", "path": "'"$(WAIT_RE $kind)"'", "delay": 3, "status": 503, "count": 1}' >/dev/null
	python3 "$top_srcdir/tests/fakes/killonlog.py" "$GCP_LOG" "$(INSERT_RE $kind)" 60 -- \
		"$FANOUT" create --provider gcp --no-run "$GCP_PROJ" --yes >"$TEST_TMP/kill.line" 2>/dev/null
	is 137 $? "crash during $kind's insert: killed by SIGKILL"
	id=$(newest_id)
	rid=$(res_get "$id" $kind '["token"]')
	is "intent" "$(res_get "$id" $kind '["state"]')" "crash during $kind's insert: the record has the intent only"
	like "$(cat "$TEST_TMP/kill.line")" "\"request_id\": \"$rid\"" \
		"crash during $kind's insert: the insert carried the intent's requestId"
	cleanup_and_check "$id" "crash during $kind's insert"
	gcp_ctl clear >/dev/null
done

# 3. Killed after the insert is done, before its id is recorded.
for kind in ssh_key firewall instance; do
	gcp_reset
	FANOUT_CRASH_AFTER=$kind gcp_create >/dev/null 2>&1
	is 137 $? "crash after $kind's insert: killed by SIGKILL"
	id=$(newest_id)
	is "intent" "$(res_get "$id" $kind '["state"]')" "crash after $kind's insert: the record has the intent only"
	if [ "$kind" != ssh_key ]; then
		rid=$(res_get "$id" $kind '["token"]')
		is 1 "$(inserts_of "$rid")" "crash after $kind's insert: one insert carried the intent's requestId"
		like "$(gcp_left)" '[1-9]' "crash after $kind's insert: it exists in the stand-in"
		left=$(gcp_left)
		# The insert sent again with that requestId, as a retry would:
		# Compute Engine answers with the first one's operation.
		if [ "$kind" = instance ]; then
			zone=$(res_get "$id" instance '.get("zone", r.get("zone"))')
			out=$("$GCP_DRIVER" call POST "projects/fanout-test/zones/$zone/instances?requestId=$rid" \
				"{\"name\": \"$(res_get "$id" instance '["name"]')\"}" 2>&1)
		else
			out=$("$GCP_DRIVER" call POST "projects/fanout-test/global/firewalls?requestId=$rid" \
				"{\"name\": \"$(res_get "$id" firewall '["name"]')\"}" 2>&1)
		fi
		like "$out" '"operationType":"insert"' "crash after $kind's insert: the same insert again is answered with its operation"
		is "$left" "$(settled_left)" "crash after $kind's insert: and makes nothing more"
	fi
	cleanup_and_check "$id" "crash after $kind's insert"
	like "$(cat "$TEST_TMP/cleanup.$id.log")" "found $kind" \
		"crash after $kind's insert: cleanup found it by its name"
done

# 4. Killed right after each resource is recorded created (the instance's
#    reads are held a second, so that the create is still going when the
#    record shows the instance).
for kind in ssh_key firewall instance; do
	gcp_reset
	gcp_ctl inject '{"method": "GET", "path": "/instances/[^/]+$", "delay": 1, "count": 100}' >/dev/null
	id=$(python3 "$top_srcdir/tests/fakes/killwhen.py" "$FANOUT_HISTORY_DIR" "$kind" created 60 -- \
		"$FANOUT" create --provider gcp --no-run "$GCP_PROJ" --yes 2>/dev/null)
	is 137 $? "kill -9 after $kind is recorded: killed mid-create"
	like "$id" '^fo-' "kill -9 after $kind is recorded: the record shows it"
	gcp_ctl clear >/dev/null
	cleanup_and_check "$id" "kill -9 after $kind is recorded"
done

# 5. cleanup --all takes several crashed run sets at once.
gcp_reset
FANOUT_CRASH_AFTER=instance gcp_create >/dev/null 2>&1
FANOUT_CRASH_AFTER=firewall gcp_create >/dev/null 2>&1
is 2 "$(ls "$FANOUT_HISTORY_DIR"/*.json | wc -l)" "two crashed run sets recorded"
"$FANOUT" cleanup --all --yes >"$TEST_TMP/all.log" 2>&1
ok $? "cleanup --all exits 0" || diag "$(tail -3 "$TEST_TMP/all.log")"
is "0 0" "$(settled_left)" "cleanup --all leaves nothing in the stand-in"

# 6. A cleanup killed after the instance is gone (the rule's delete held
#    a second meanwhile) is finished by running it again.
gcp_reset
gcp_create >"$TEST_TMP/id" 2>/dev/null
id=$(cat "$TEST_TMP/id")
gcp_ctl inject '{"method": "DELETE", "path": "/firewalls/[^/]+$", "delay": 1, "count": 1}' >/dev/null
python3 "$top_srcdir/tests/fakes/killwhen.py" "$FANOUT_HISTORY_DIR" instance deleted 60 -- \
	"$FANOUT" cleanup "$id" --yes >/dev/null 2>&1
is 137 $? "a cleanup killed after the instance is deleted"
is "deleting" "$(rec_get "$id" 'r["state"]')" "the record says the cleanup did not finish"
cleanup_and_check "$id" "cleanup run again"

# 7. Crashed run sets whose records are gone are orphans: the sweep finds
#    every one, over several pages of the lists (two to a page here).
gcp_reset
gcp_ctl page '{"size": 2}' >/dev/null
for i in 1 2 3; do
	FANOUT_CRASH_AFTER=instance gcp_create >/dev/null 2>&1
done
rm -rf "$FANOUT_HISTORY_DIR"
is "3 3" "$(gcp_left)" "three crashed run sets left three instances and three rules"
"$FANOUT" cleanup --orphans --provider gcp --yes >"$TEST_TMP/orphans.log" 2>&1
ok $? "cleanup --orphans --provider gcp exits 0" || diag "$(tail -3 "$TEST_TMP/orphans.log")"
is "0 0" "$(settled_left)" "the sweep removed all of them, from every page"
gcp_ctl page '{"size": 500}' >/dev/null

is 0 "$(gcp_outside)" "nothing went off loopback"
done_testing
