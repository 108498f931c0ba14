#!/bin/bash
# Faults: a proxy between fanout and moto answers every third request with
# HTTP 503 or RequestLimitExceeded. fanout retries (botocore standard
# mode) and makes exactly one of each resource.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
plan_lazy

proj=$(example sleep)
proxy_start --every 3

AWS_ENDPOINT_URL="$PROXY_URL" "$FANOUT" create "$proj" --yes \
	>"$TEST_TMP/create.out" 2>"$TEST_TMP/create.err"
ok $? "create through the faulty proxy exits 0"
id=$(cat "$TEST_TMP/create.out")
faults=$(awk '{print $4}' "$PROXY_LOG")
like "$faults" '^[1-9][0-9]*$' "the proxy injected faults ($faults)"
is "active" "$(rec_get "$id" 'r["state"]')" "the run set is active"
is "1 1 1" "$(tagged_counts)" "exactly one instance, one security group, one key pair"
rules=$(ec2q DescribeSecurityGroups 'Filter.1.Name=tag:managedBy' 'Filter.1.Value.1=fanout' |
	grep -o '<cidrIp>[^<]*</cidrIp>' | sort | tr '\n' ' ')
is "<cidrIp>0.0.0.0/0</cidrIp> <cidrIp>$CHECKIP_ADDR/32</cidrIp> " "$rules" \
	"one ingress rule from the caller (and the default egress)"
check "the key file exists" test -s "$FANOUT_HISTORY_DIR/$id.key"

secret_hits=$(grep -rlF -- "$AWS_SECRET_ACCESS_KEY" "$FANOUT_HISTORY_DIR" "$TEST_TMP"/create.* | wc -l)
is 0 "$secret_hits" "no secret in records or output"

AWS_ENDPOINT_URL="$PROXY_URL" "$FANOUT" cleanup "$id" --yes >/dev/null 2>&1
ok $? "cleanup through the faulty proxy exits 0"
is "0 0 0" "$(tagged_counts)" "nothing is left"

# With every request failing, fanout gives up after 3 attempts and says
# what AWS (here the proxy) said.
proxy_stop
proxy_start --always
AWS_ENDPOINT_URL="$PROXY_URL" "$FANOUT" create "$proj" --yes >/dev/null 2>"$TEST_TMP/fail.err"
is 1 $? "create against an always-failing endpoint exits 1"
like "$(cat "$TEST_TMP/fail.err")" 'GetCallerIdentity: (RequestLimitExceeded: Request limit exceeded|HTTP 503)' \
	"the cause names the call and AWS's code and message"
is "0 0 0" "$(tagged_counts)" "nothing was made"
done_testing
