#!/bin/bash
# The orphan sweep looks in every region a history record names, plus
# --region (else the configured one): a fanout-tagged key pair left in
# us-west-2, where a run set had been made, is found and deleted while the
# default region is us-east-1. Checked with the aws CLI.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
plan_lazy

proj=$(example sleep)
awsr() { # awsr REGION ARGS...: the aws CLI against moto in REGION
	_r=$1
	shift
	aws --endpoint-url "$MOTO_URL" --region "$_r" --output text "$@"
}
stray_key() { # stray_key REGION NAME RUN-SET
	awsr "$1" ec2 create-key-pair --key-name "$2" --key-type ed25519 \
		--tag-specifications "ResourceType=key-pair,Tags=[{Key=managedBy,Value=fanout},{Key=fanout:run-set,Value=$3}]" \
		>/dev/null
}
keys_in() { # keys_in REGION: names of fanout-tagged key pairs, sorted
	awsr "$1" ec2 describe-key-pairs --filters Name=tag:managedBy,Values=fanout \
		--query 'KeyPairs[].KeyName' | tr '\t' '\n' | sort | tr '\n' ' '
}
orphan_names() { # the names cleanup --orphans --json lists
	python3 -c 'import json,sys; print(" ".join(sorted(o["region"] + ":" + (o["name"] or "") for o in json.load(sys.stdin))))'
}

# A run set made in us-west-2 (not the default region), then removed.
"$FANOUT" create --no-run "$proj" --region us-west-2 --yes >"$TEST_TMP/c.out" 2>/dev/null
ok $? "create in us-west-2 exits 0"
gone=$(cat "$TEST_TMP/c.out")
is "us-west-2" "$(rec_get "$gone" 'r["region"]')" "its record names us-west-2"
"$FANOUT" cleanup "$gone" --yes >/dev/null 2>&1
ok $? "cleanup of it exits 0"
is "" "$(keys_in us-west-2)" "no fanout key pair is left in us-west-2"

# A live run set in us-west-2: its resources are not orphans.
"$FANOUT" create --no-run "$proj" --region us-west-2 --yes >"$TEST_TMP/c2.out" 2>/dev/null
live=$(cat "$TEST_TMP/c2.out")
is "fanout-$live " "$(keys_in us-west-2)" "a live run set's key pair in us-west-2"

# Strays: one in us-west-2 (a record names it), one in eu-west-1 (none
# does), none in us-east-1.
stray_key us-west-2 stray-west "$gone"
stray_key eu-west-1 stray-eu fo-20200101-none
is "fanout-$live stray-west " "$(keys_in us-west-2)" "the stray key pair is in us-west-2"

list=$("$FANOUT" cleanup --orphans --json 2>/dev/null </dev/null | orphan_names)
is "us-west-2:stray-west" "$list" \
	"without --region: the stray in us-west-2 is found (default region us-east-1), not the live run set's"

list=$("$FANOUT" cleanup --orphans --json --region eu-west-1 2>/dev/null </dev/null | orphan_names)
is "eu-west-1:stray-eu us-west-2:stray-west" "$list" \
	"--region adds a region no record names"

"$FANOUT" cleanup --orphans --yes >"$TEST_TMP/o3.out" 2>"$TEST_TMP/o3.err"
ok $? "cleanup --orphans --yes exits 0"
like "$(cat "$TEST_TMP/o3.err")" 'looking for fanout resources in us-east-1, us-west-2' \
	"the sweep says where it looks: the default region and the record's"
like "$(cat "$TEST_TMP/o3.out")" 'key_pair .* us-west-2 .*run set '"$gone" \
	"the list names the orphan, its region and run set"
is "fanout-$live " "$(keys_in us-west-2)" "the aws CLI: the stray in us-west-2 is deleted, the live run set's key pair kept"
is "stray-eu " "$(keys_in eu-west-1)" "the stray in eu-west-1 is left (not asked for)"

"$FANOUT" cleanup --orphans --region eu-west-1 --yes >/dev/null 2>&1
is "" "$(keys_in eu-west-1)" "with --region eu-west-1 it is deleted too"
out=$("$FANOUT" cleanup --orphans 2>/dev/null </dev/null)
like "$out" '^No orphans' "then no orphans are left"

"$FANOUT" cleanup "$live" --yes >/dev/null 2>&1
is "" "$(keys_in us-west-2)" "cleanup of the live run set leaves nothing in us-west-2"
done_testing
