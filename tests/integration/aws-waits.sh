#!/bin/bash
# Waits against moto_server behind the fault proxy: a wait (instance
# running, stopped, terminated; a security group deletable) keeps polling
# through transient errors (throttling, HTTP 5xx) until its own deadline,
# even when one status check fails all of its 3 attempts; only a single
# call has the 3-attempt budget. A wait whose deadline passes fails with a
# cause that says what it waited for and what the last check met.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
plan_lazy

proj=$(example sleep)
via_proxy() { AWS_ENDPOINT_URL="$PROXY_URL" "$FANOUT" "$@"; }
instance_state() {
	awsq ec2 describe-instances --instance-ids "$1" \
		--query 'Reservations[0].Instances[0].State.Name' 2>/dev/null
}
# Removes a run set without faults, so that each case starts from nothing
# even when the one before failed.
tidy() { "$FANOUT" cleanup "$1" --yes >/dev/null 2>&1; }

# 1. 30 % of all requests fail (HTTP 500, 503, RequestLimitExceeded), a
# request as often as the dice say. The seed is chosen (see
# tests/fakes/faultproxy.py: the dice hang on the action and its count, not
# on timing) so that in the create's wait for the bastion, in the
# cleanup's wait for it to terminate and in the security group's delete
# one call fails all 3 attempts, while every single call gets through
# within its 3. If the calls fanout makes change, the 'failed all its
# attempts' checks below say that this seed no longer covers the case:
# pick another with a search over the sequence of calls.
SEED=35196
ev="$TEST_TMP/events.rate"
proxy_start --every 0 --rate 0.3 --seed "$SEED" --events "$ev"
via_proxy create --no-run "$proj" --yes >"$TEST_TMP/c1.out" 2>"$TEST_TMP/c1.err"
ok $? "create --yes --no-run succeeds while 30 % of requests fail" ||
	diag "$(tail -5 "$TEST_TMP/c1.err")"
id=$(cat "$TEST_TMP/c1.out")
faults=$(wc -l <"$ev")
like "$faults" '^[1-9][0-9]*$' "the proxy failed requests ($faults)"
like "$(cat "$TEST_TMP/c1.err")" "\[bastion running\] status check of i-[0-9a-f]+ failed \(DescribeInstances: .*\); still waiting" \
	"a status check that failed all its attempts did not end the wait"
is "active" "$(rec_get "$id" 'r["state"]')" "the run set is active"
is "1 1 1" "$(tagged_counts)" "one instance, one security group, one key pair"
via_proxy cleanup "$id" --yes >/dev/null 2>"$TEST_TMP/d1.err"
ok $? "cleanup succeeds while 30 % of requests fail" ||
	diag "$(tail -5 "$TEST_TMP/d1.err")"
like "$(cat "$TEST_TMP/d1.err")" "\[cleanup\] status check of i-[0-9a-f]+ failed .*; still waiting" \
	"the wait for the instance to go polled through a failed check"
like "$(cat "$TEST_TMP/d1.err")" "sg-[0-9a-f]+ could not be deleted yet .*; retrying" \
	"the security group's delete went on through a failed call"
is "0 0 0" "$(tagged_counts)" "nothing is left"
is "deleted" "$(rec_get "$id" 'r["state"]')" "the record says deleted"
proxy_stop
tidy "$id"

# 2. Each wait on its own: the proxy fails the next 4 status checks after
# the call that starts the change (more than one call's 3 attempts).
proxy_start --every 0 --events "$TEST_TMP/events.run" \
	--fail 'DescribeInstances has=InstanceId.1= after=RunInstances count=4'
via_proxy create --no-run "$proj" --yes >"$TEST_TMP/c2.out" 2>"$TEST_TMP/c2.err"
ok $? "create succeeds though the bastion's first 4 status checks failed" ||
	diag "$(tail -5 "$TEST_TMP/c2.err")"
id=$(cat "$TEST_TMP/c2.out")
is 4 "$(grep -c '^DescribeInstances ' "$TEST_TMP/events.run")" \
	"the proxy failed 4 status checks"
iid=$(rec_get "$id" 'r["hosts"][0]["instance_id"]')
is "running" "$(instance_state "$iid")" "the bastion runs"
proxy_stop
tidy "$id"

# The other waits on a run set made without faults.
"$FANOUT" create --no-run "$proj" --yes >"$TEST_TMP/c0.out" 2>/dev/null ||
	bail "create without faults failed"
id=$(cat "$TEST_TMP/c0.out")
iid=$(rec_get "$id" 'r["hosts"][0]["instance_id"]')
awsq ec2 stop-instances --instance-ids "$iid" >/dev/null
proxy_start --every 0 --fail 'DescribeInstances after=StartInstances count=4'
via_proxy resume --no-run "$id" >/dev/null 2>"$TEST_TMP/r1.err"
ok $? "resume starts the stopped bastion though 4 status checks failed" ||
	diag "$(tail -5 "$TEST_TMP/r1.err")"
like "$(cat "$TEST_TMP/r1.err")" "\[bastion\] status check of $iid failed .*; still waiting" \
	"the wait for 'running' went on"
is "running" "$(instance_state "$iid")" "the bastion runs again"
proxy_stop

# A run that cannot reach the bastion (nothing listens at
# FANOUT_BASTION_ADDRESS) fails, and the bastion is stopped and kept.
proxy_start --every 0 --fail 'DescribeInstances after=StopInstances count=4'
via_proxy resume "$id" >/dev/null 2>"$TEST_TMP/r2.err"
like "$(cat "$TEST_TMP/r2.err")" "\[bastion\] status check of $iid failed .*; still waiting" \
	"the wait for 'stopped' went on through failed checks"
is "stopped" "$(rec_get "$id" 'r["state"]')" "the run set is recorded as stopped"
is "stopped" "$(instance_state "$iid")" "the bastion is stopped"
proxy_stop
awsq ec2 stop-instances --instance-ids "$iid" >/dev/null

# Cleanup: the wait for the instance to go, and the group's delete through
# 2 DependencyViolation answers and then 4 transient failures.
proxy_start --every 0 --events "$TEST_TMP/events.del" \
	--fail 'DescribeInstances after=TerminateInstances count=4' \
	--fail 'DeleteSecurityGroup count=2 kind=DependencyViolation' \
	--fail 'DeleteSecurityGroup count=4 kind=503'
via_proxy cleanup "$id" --yes >/dev/null 2>"$TEST_TMP/d2.err"
ok $? "cleanup succeeds through failed status checks and deletes" ||
	diag "$(tail -5 "$TEST_TMP/d2.err")"
like "$(cat "$TEST_TMP/d2.err")" "sg-[0-9a-f]+ is still in use \(DeleteSecurityGroup: DependencyViolation: .*\); retrying" \
	"DependencyViolation is retried"
is 6 "$(grep -c '^DeleteSecurityGroup ' "$TEST_TMP/events.del")" \
	"the group's delete met 6 failures"
is "0 0 0" "$(tagged_counts)" "nothing is left"
proxy_stop
tidy "$id"

# 3. A wait's own deadline: every status check fails. The create stops
# after FANOUT_CLOUD_WAIT seconds with a cause that says so.
proxy_start --every 0 \
	--fail 'DescribeInstances has=InstanceId.1= count=1000000'
FANOUT_CLOUD_WAIT=3 via_proxy create --no-run "$proj" --yes \
	>"$TEST_TMP/c3.out" 2>"$TEST_TMP/c3.err"
is 1 $? "create exits 1 when the wait's deadline passes"
id=$(cat "$TEST_TMP/c3.out")
like "$(tail -1 "$TEST_TMP/c3.err")" "instance i-[0-9a-f]+: no status check answered in 3 s \(waiting for running\); the last failed: DescribeInstances: (RequestLimitExceeded: Request limit exceeded\.|HTTP 50[03] from .*)" \
	"the cause names the wait, its deadline and the last failure"
like "$(tail -1 "$TEST_TMP/c3.err")" "fanout cleanup $id" "and how to remove what was made"
proxy_stop
"$FANOUT" cleanup "$id" --yes >/dev/null 2>&1
is "0 0 0" "$(tagged_counts)" "cleanup (without faults) leaves nothing"

FANOUT_CLOUD_WAIT=soon "$FANOUT" create --no-run "$proj" --yes >/dev/null 2>"$TEST_TMP/c4.err"
ok $(($? == 0)) "a bad FANOUT_CLOUD_WAIT is refused"
like "$(cat "$TEST_TMP/c4.err")" "FANOUT_CLOUD_WAIT must be a number of seconds from 1 to 86400, not 'soon'" \
	"with a message naming it"
is "0 0 0" "$(tagged_counts)" "before anything is made"
done_testing
