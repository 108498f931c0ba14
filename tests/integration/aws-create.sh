#!/bin/bash
# fanout create / history / status / resume / cleanup against moto_server,
# checked with the aws CLI.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
plan_lazy

proj=$(example sleep)
out="$TEST_TMP/create.out"
err="$TEST_TMP/create.err"

"$FANOUT" create --no-run "$proj" --provider aws --region us-east-1 --yes >"$out" 2>"$err"
ok $? "create exits 0"
id=$(cat "$out")
like "$id" '^fo-[0-9]{8}-[a-z0-9]{4}$' "create prints the run-set id"
like "$(cat "$err")" 'Account: 123456789012' "the plan shows the account"
like "$(cat "$err")" "SSH from: $CHECKIP_ADDR/32" "the plan shows the SSH source"
is "active" "$(rec_get "$id" 'r["state"]')" "the record is active"

# The key pair, seen by the aws CLI.
kp=$(awsq ec2 describe-key-pairs --filters "Name=tag:fanout:run-set,Values=$id" \
	--query 'KeyPairs[].[KeyName,KeyType]')
is "fanout-$id	ed25519" "$kp" "one ed25519 key pair, tagged with the run set"
keyfile="$FANOUT_HISTORY_DIR/$id.key"
is "600" "$(stat -c %a "$keyfile")" "the private key file is 0600"
like "$(head -1 "$keyfile")" 'BEGIN OPENSSH PRIVATE KEY' "the key file holds the private key"
is "$keyfile" "$(rec_get "$id" 'r["hosts"][0]["key_file"]')" "the record names the key file"

# The security group: exactly one ingress rule, tcp 22 from the caller.
sg=$(rec_get "$id" '[x["id"] for x in r["resources"] if x["kind"]=="security_group"][0]')
rules=$(awsq ec2 describe-security-groups --group-ids "$sg" \
	--query 'SecurityGroups[0].IpPermissions[].[IpProtocol,FromPort,ToPort,length(IpRanges),IpRanges[0].CidrIp]')
is "tcp	22	22	1	$CHECKIP_ADDR/32" "$rules" "one ingress rule: tcp 22 from the caller's /32 only"
tags=$(awsq ec2 describe-security-groups --group-ids "$sg" \
	--query 'SecurityGroups[0].Tags[?Key==`managedBy`||Key==`fanout:project`].Value' | tr '\t' ' ')
like "$tags" 'fanout' "the security group is tagged managedBy=fanout"
like "$tags" 'sleep-demo' "the security group is tagged with the project"

# The bastion: tagged, running, IMDSv2 required, encrypted root volume.
inst=$(awsq ec2 describe-instances --filters "Name=tag:fanout:run-set,Values=$id" \
	--query 'Reservations[].Instances[].[InstanceId,State.Name,MetadataOptions.HttpTokens,InstanceType,KeyName]')
iid=$(rec_get "$id" 'r["hosts"][0]["instance_id"]')
is "$iid	running	required	c6a.large	fanout-$id" "$inst" "one tagged c6a.large bastion, running, IMDSv2 required"
ip=$(awsq ec2 describe-instances --instance-ids "$iid" --query 'Reservations[0].Instances[0].PublicIpAddress')
is "$ip" "$(rec_get "$id" 'r["hosts"][0]["host"]')" "the record has the bastion's public IP"
ami=$(awsq ssm get-parameter --name /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64 \
	--query Parameter.Value)
is "$ami" "$(awsq ec2 describe-instances --instance-ids "$iid" --query 'Reservations[0].Instances[0].ImageId')" \
	"the bastion runs the current Amazon Linux 2023 AMI"
enc=$(awsq ec2 describe-volumes --filters "Name=attachment.instance-id,Values=$iid" --query 'Volumes[].Encrypted')
like "$enc" '^True$' "the root volume is encrypted"
ud=$(awsq ec2 describe-instance-attribute --instance-id "$iid" --attribute userData \
	--query UserData.Value | base64 -d 2>/dev/null)
like "$ud" "fanout bastion of run set $id" "user-data comes from templates/user-data.sh, filled in"

# history and status, plain and --json.
hist=$("$FANOUT" history)
like "$hist" "$id +cloud +sleep-demo +active +us-east-1" "history lists the run set"
hj=$("$FANOUT" history --json | python3 -c 'import json,sys; a=json.load(sys.stdin); print(a[0]["id"], a[0]["state"], a[0]["live_resources"])')
is "$id active 3" "$hj" "history --json: id, state, live resources"
st=$("$FANOUT" status "$id")
like "$st" "Head: +ec2-user@$ip \\(bastion" "status shows the bastion"
sj=$("$FANOUT" status "$id" --json | python3 -c 'import json,sys; r=json.load(sys.stdin); print(len(r["resources"]), r["region"])')
is "3 us-east-1" "$sj" "status --json is the record"

# resume: everything is there; a stopped bastion is started again.
"$FANOUT" resume --no-run "$id" >/dev/null 2>&1
ok $? "resume of a healthy run set exits 0"
awsq ec2 stop-instances --instance-ids "$iid" >/dev/null
"$FANOUT" resume --no-run "$id" >/dev/null 2>"$TEST_TMP/resume.err"
ok $? "resume exits 0 after the bastion was stopped"
is "running" "$(awsq ec2 describe-instances --instance-ids "$iid" --query 'Reservations[0].Instances[0].State.Name')" \
	"resume started the stopped bastion"
like "$(cat "$TEST_TMP/resume.err")" "starting $iid" "resume says it starts the bastion"

# Orphans: a live record's resources are not orphans; a stray tagged one is.
awsq ec2 create-key-pair --key-name stray --key-type ed25519 \
	--tag-specifications 'ResourceType=key-pair,Tags=[{Key=managedBy,Value=fanout},{Key=fanout:run-set,Value=fo-20200101-gone}]' >/dev/null
orph=$("$FANOUT" cleanup --orphans --json --yes 2>/dev/null | python3 -c 'import json,sys; print(" ".join(o["name"] or "" for o in json.load(sys.stdin)))')
is "stray" "$orph" "cleanup --orphans lists only the stray key pair"
is "" "$(awsq ec2 describe-key-pairs --filters Name=key-name,Values=stray --query 'KeyPairs[].KeyName')" \
	"cleanup --orphans --yes deleted it"
is "1 1 1" "$(tagged_counts)" "the live run set is untouched by the orphan cleanup"

keybody=$(sed -n 2p "$keyfile")
key_hits=$(grep -rlF -- "$keybody" "$FANOUT_HISTORY_DIR"/*.json "$TEST_TMP"/*.out "$TEST_TMP"/*.err 2>/dev/null | wc -l)
is 0 "$key_hits" "the private key is in no record and no output"

# cleanup: nothing left, the key file gone, the record kept as deleted.
"$FANOUT" cleanup "$id" --yes >"$TEST_TMP/cleanup.out" 2>&1
ok $? "cleanup exits 0"
is "0 0 0" "$(tagged_counts)" "after cleanup the aws CLI sees no fanout instance, group or key"
is "" "$(awsq ec2 describe-key-pairs --filters "Name=key-name,Values=fanout-$id" --query 'KeyPairs[].KeyName')" \
	"the key pair is gone"
check "the local key file is gone" test ! -e "$keyfile"
is "deleted" "$(rec_get "$id" 'r["state"]')" "the record is kept, marked deleted"
is "deleted deleted deleted" "$(rec_get "$id" '" ".join(x["state"] for x in r["resources"])')" \
	"every resource is marked deleted"
"$FANOUT" cleanup "$id" --yes >/dev/null 2>&1
ok $? "a second cleanup is a no-op that exits 0"
"$FANOUT" resume --no-run "$id" >/dev/null 2>"$TEST_TMP/resume2.err"
is 1 $? "resume of a cleaned-up run set exits 1"
like "$(cat "$TEST_TMP/resume2.err")" 'was cleaned up' "and says why"

# --answers: a flat YAML map with the same keys, --cleanup-after.
cat >"$TEST_TMP/answers.yaml" <<YAML
project: $proj
provider: aws
region: us-east-1
engine: bastion
files: 0
cleanup_after: true
YAML
"$FANOUT" create --no-run --answers "$TEST_TMP/answers.yaml" --yes >"$out" 2>"$err"
ok $? "create --answers with cleanup_after exits 0"
id2=$(cat "$out")
is "deleted" "$(rec_get "$id2" 'r["state"]')" "cleanup_after tore the run set down"
is "0 0 0" "$(tagged_counts)" "nothing is left after cleanup_after"

# Nothing secret in records or output.
secret_hits=$(grep -rlF -- "$AWS_SECRET_ACCESS_KEY" "$FANOUT_HISTORY_DIR" "$TEST_TMP"/*.out "$TEST_TMP"/*.err 2>/dev/null | wc -l)
is 0 "$secret_hits" "the secret key is in no record and no output"
done_testing
