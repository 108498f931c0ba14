#!/bin/bash
# Crash safety: fanout is killed (kill -9) during a create, at each step,
# and 'fanout cleanup' then leaves no fanout-tagged resource behind.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
plan_lazy

proj=$(example sleep)

# Slow every request down so that a create can be caught between steps.
proxy_start --every 0 --delay 0.25

fresh() { moto_reset; rm -rf "$FANOUT_HISTORY_DIR"; }

cleanup_and_check() { # cleanup_and_check ID WHAT
	"$FANOUT" cleanup "$1" --yes >"$TEST_TMP/cleanup.$1.log" 2>&1
	ok $? "$2: cleanup exits 0"
	is "0 0 0" "$(tagged_counts)" "$2: no fanout-tagged instance, group or key is left"
	check "$2: no key file is left" test ! -e "$FANOUT_HISTORY_DIR/$1.key"
	is "deleted" "$(rec_get "$1" 'r["state"]')" "$2: the record is marked deleted"
}

# 1. Killed from outside right after each step's resource is recorded.
for kind in key_pair security_group instance; do
	fresh
	id=$(AWS_ENDPOINT_URL="$PROXY_URL" python3 "$top_srcdir/tests/fakes/killwhen.py" \
		"$FANOUT_HISTORY_DIR" "$kind" created 60 -- "$FANOUT" create --no-run "$proj" --yes \
		2>"$TEST_TMP/create.$kind.err")
	is 137 $? "kill -9 after $kind: fanout was killed mid-create"
	like "$id" '^fo-' "kill -9 after $kind: the record shows it created"
	is "creating" "$(rec_get "$id" 'r["state"]')" "kill -9 after $kind: the create had not finished"
	like "$(tagged_counts)" '[1-9]' "kill -9 after $kind: something was left in the cloud"
	cleanup_and_check "$id" "kill -9 after $kind"
done

# 2. Killed between a create call and the write of its id (the record says
#    intent only): cleanup finds the resource by its name or tags.
for kind in key_pair security_group instance; do
	fresh
	FANOUT_CRASH_AFTER=$kind "$FANOUT" create --no-run "$proj" --yes >/dev/null 2>&1
	is 137 $? "crash after the $kind call: killed by SIGKILL"
	id=$(newest_id)
	is "intent None" "$(rec_get "$id" "[(x['state'], x['id']) for x in r['resources'] if x['kind']=='$kind'][0][0] + ' ' + str([x['id'] for x in r['resources'] if x['kind']=='$kind'][0])")" \
		"crash after the $kind call: the record has only the intent"
	like "$(tagged_counts)" '[1-9]' "crash after the $kind call: the resource exists"
	cleanup_and_check "$id" "crash after the $kind call"
	like "$(cat "$TEST_TMP/cleanup.$id.log")" "found $kind" \
		"crash after the $kind call: cleanup found it by name or tags"
done

# 3. cleanup --all handles several crashed run sets at once.
fresh
FANOUT_CRASH_AFTER=instance "$FANOUT" create --no-run "$proj" --yes >/dev/null 2>&1
FANOUT_CRASH_AFTER=security_group "$FANOUT" create --no-run "$proj" --yes >/dev/null 2>&1
is 2 "$(ls "$FANOUT_HISTORY_DIR"/*.json | wc -l)" "two crashed run sets recorded"
"$FANOUT" cleanup --all --yes >/dev/null 2>&1
ok $? "cleanup --all exits 0"
is "0 0 0" "$(tagged_counts)" "cleanup --all leaves no fanout-tagged resource"

# 4. A cleanup killed half-way is finished by running it again.
fresh
"$FANOUT" create --no-run "$proj" --yes >"$TEST_TMP/id" 2>/dev/null
id=$(cat "$TEST_TMP/id")
AWS_ENDPOINT_URL="$PROXY_URL" python3 "$top_srcdir/tests/fakes/killwhen.py" \
	"$FANOUT_HISTORY_DIR" instance deleted 60 -- "$FANOUT" cleanup "$id" --yes >/dev/null 2>&1
is 137 $? "a cleanup killed after the instance is gone"
is "deleting" "$(rec_get "$id" 'r["state"]')" "the record says the cleanup did not finish"
cleanup_and_check "$id" "cleanup run again"

# 5. resume refuses when a resource is gone, and points at cleanup.
fresh
"$FANOUT" create --no-run "$proj" --yes >"$TEST_TMP/id" 2>/dev/null
id=$(cat "$TEST_TMP/id")
ec2q TerminateInstances "InstanceId.1=$(rec_get "$id" 'r["hosts"][0]["instance_id"]')" >/dev/null
"$FANOUT" resume "$id" >/dev/null 2>"$TEST_TMP/resume.err"
is 1 $? "resume with the bastion terminated exits 1"
like "$(cat "$TEST_TMP/resume.err")" "instance bastion \(i-[0-9a-f]+\) of run set $id is gone; remove the rest with 'fanout cleanup $id'" \
	"resume names what is gone and offers the cleanup"
cleanup_and_check "$id" "cleanup after the bastion vanished"

done_testing
