#!/bin/bash
# Faults: a proxy between fanout and moto answers every third request with
# HTTP 503 or RequestLimitExceeded. fanout retries (botocore standard
# mode) and makes exactly one of each resource.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
plan_lazy

proj=$(example sleep)
proxy_start --every 3

AWS_ENDPOINT_URL="$PROXY_URL" "$FANOUT" create --no-run "$proj" --yes \
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

# Answers lost after moto did the work (as a 503 from a load balancer
# can be): each create call is retried and still makes one of each.
proxy_stop
proxy_start --every 0 --lose CreateKeyPair,CreateSecurityGroup,AuthorizeSecurityGroupIngress,RunInstances
AWS_ENDPOINT_URL="$PROXY_URL" "$FANOUT" create --no-run "$proj" --yes \
	>"$TEST_TMP/lost.out" 2>"$TEST_TMP/lost.err"
ok $? "create with lost answers exits 0"
id=$(cat "$TEST_TMP/lost.out")
is "4" "$(awk '{print $4}' "$PROXY_LOG")" "the proxy lost four answers"
is "1 1 1" "$(tagged_counts)" "still exactly one instance, group and key pair"
like "$(cat "$TEST_TMP/lost.err")" 'a duplicate from a retried request' \
	"the duplicate instance moto made for the retried RunInstances is removed"
ssh_rules=$(ec2q DescribeSecurityGroups 'Filter.1.Name=tag:managedBy' 'Filter.1.Value.1=fanout' |
	grep -o "<cidrIp>$CHECKIP_ADDR/32</cidrIp>" | wc -l)
is 1 "$ssh_rules" "one SSH ingress rule"
pub=$(ec2q DescribeKeyPairs "KeyName.1=fanout-$id" IncludePublicKey=true |
	grep -o '<publicKey>[^<]*' | sed 's/<publicKey>//' | awk '{print $2}')
mine=$(ssh-keygen -y -f "$FANOUT_HISTORY_DIR/$id.key" 2>/dev/null | awk '{print $2}')
like "$mine" '^AAAA' "the key file holds a usable private key"
is "$pub" "$mine" "the key file matches the key pair that exists (the lost one was replaced)"
"$FANOUT" cleanup "$id" --yes >/dev/null 2>&1
is "0 0 0" "$(tagged_counts)" "cleanup leaves nothing"

# With every request failing, fanout gives up after 3 attempts and says
# what AWS (here the proxy) said, of its first call (the machines are
# settled first: DescribeInstanceTypeOfferings).
proxy_stop
proxy_start --always
AWS_ENDPOINT_URL="$PROXY_URL" "$FANOUT" create --no-run "$proj" --yes >/dev/null 2>"$TEST_TMP/fail.err"
is 1 $? "create against an always-failing endpoint exits 1"
like "$(cat "$TEST_TMP/fail.err")" '(GetCallerIdentity|DescribeInstanceTypeOfferings): (RequestLimitExceeded: Request limit exceeded|HTTP 503)' \
	"the cause names the call and AWS's code and message"
is "0 0 0" "$(tagged_counts)" "nothing was made"
done_testing
