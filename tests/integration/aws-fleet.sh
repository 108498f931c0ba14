#!/bin/bash
# A cluster's machines on AWS (engine slurm, --nodes 3) against moto,
# checked with the aws CLI: the head and three nodes from one launch
# template, Debian 12, IMDSv2, encrypted disks, every piece tagged; the
# nodes' group lets in the cluster's own traffic only. cleanup leaves
# nothing, also after a kill -9 at each create step; the orphan sweep
# finds a leaked launch template and compute group; a retried
# RunInstances' duplicates are dropped, and nothing else.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
plan_lazy

proj=$(example sleep)
fresh() { moto_reset; rm -rf "$FANOUT_HISTORY_DIR"; }
create() { # create ARGS...: a cluster of 3 nodes, kept, nothing run
	"$FANOUT" create --no-run --keep "$proj" --engine slurm --nodes 3 --yes "$@"
}
# Instances of run set $1 (aws CLI), sorted: "STATE ROLE" per line.
insts() {
	awsq ec2 describe-instances --filters "Name=tag:fanout:run-set,Values=$1" \
		--query 'Reservations[].Instances[].[State.Name,Tags[?Key==`fanout:role`]|[0].Value]' |
		sort | tr '\t' ' '
}
# Run set $1 has $2 instances in state (or of role) $3.
insts_are() { [ "$(insts "$1" | grep -c "$3")" = "$2" ]; }
# Launch templates tagged managedBy=fanout (aws CLI): their count.
templates() {
	awsq ec2 describe-launch-templates --filters Name=tag:managedBy,Values=fanout \
		--query 'LaunchTemplates[].LaunchTemplateId' | wc -w
}
# Everything tagged: "instances groups keys templates".
left() { echo "$(tagged_counts) $(templates)"; }
# What a record holds: rec_res ID KIND FIELD -> values, space-separated.
rec_res() {
	rec_get "$1" "' '.join(str(x.get('$3')) for x in r['resources'] if x['kind']=='$2')"
}

# 1. A create with --nodes 3.
create >"$TEST_TMP/c.out" 2>"$TEST_TMP/c.err"
ok $? "create --engine slurm --nodes 3 exits 0"
id=$(cat "$TEST_TMP/c.out")
is "active" "$(rec_get "$id" 'r["state"]')" "the run set is active"
like "$(cat "$TEST_TMP/c.err")" 'node +c6a\.large, Debian 12' \
	"the plan shows the nodes, their type and system"
# The head's type: the answers' head_instance_type (a menu may fill it
# in), else the provider's default for a head, a t3.small.
htype=$(rec_get "$id" 'r["answers"].get("head_instance_type") or "t3.small"')
like "$(cat "$TEST_TMP/c.err")" "head +${htype//./\\.}, Debian 12" \
	"the plan shows the head, a $htype"
# c6a.large (the default type of machines that run tasks): 0.0765 an
# hour, + 30 GB gp3 and a public IPv4 address per machine (0.08 x 30 /
# 730 + 0.005 an hour).
like "$(cat "$TEST_TMP/c.err")" 'node +c6a\.large, Debian 12.*\(\$0\.2544/h' \
	"the plan's node line costs the 3 nodes together"
sum=$(python3 -c 'import re,sys; t=open(sys.argv[1]).read()
h=float(re.search(r"^  head .*\(\$([0-9.]+)/h", t, re.M).group(1))
n=float(re.search(r"^  (?:\d+ x )?node +.*?\(\$([0-9.]+)/h", t, re.M).group(1))
a=float(re.search(r"About \$([0-9.]+) per hour", t).group(1))
print("yes" if abs(h + n - a) < 0.00015 else "%s + %s != %s" % (h, n, a))' "$TEST_TMP/c.err")
is "yes" "$sum" "the plan's hourly cost is the whole cluster's: head + 3 x node"

is "running compute
running compute
running compute
running head" "$(insts "$id")" "the aws CLI: 4 running instances tagged with the run set, a head and 3 nodes"
deb=$(awsq ec2 describe-images --owners 136693071363 \
	--filters 'Name=name,Values=debian-12-amd64-*' Name=architecture,Values=x86_64 \
	--query 'sort_by(Images,&CreationDate)[-1].ImageId')
is "$DEBIAN12_AMI" "$deb" "the aws CLI: the newest Debian 12 amd64 image of Debian's account"
f="Name=tag:fanout:run-set,Values=$id"
is "$deb" "$(awsq ec2 describe-instances --filters "$f" \
	--query 'Reservations[].Instances[].ImageId' | tr '\t' '\n' | sort -u)" \
	"all 4 run that Debian 12 image"
is "required" "$(awsq ec2 describe-instances --filters "$f" \
	--query 'Reservations[].Instances[].MetadataOptions.HttpTokens' | tr '\t' '\n' | sort -u)" \
	"all 4 require IMDSv2"
ids=$(awsq ec2 describe-instances --filters "$f" --query 'Reservations[].Instances[].InstanceId' | tr '\t' ',')
vols=$(awsq ec2 describe-volumes --filters "Name=attachment.instance-id,Values=$ids" \
	--query 'Volumes[].[Encrypted,Tags[?Key==`fanout:run-set`]|[0].Value]' | sort | uniq -c | awk '{print $1, $2, $3}')
is "4 True $id" "$vols" "4 volumes, each encrypted and tagged with the run set"
is "$(printf '%s\n' c6a.large c6a.large c6a.large "$htype" | sort | tr '\n' ' ' | sed 's/ $//')" "$(awsq ec2 describe-instances --filters "$f" \
	--query 'Reservations[].Instances[].InstanceType' | tr '\t' '\n' | sort | tr '\n' ' ' | sed 's/ $//')" \
	"the head is a $htype, the nodes the default type"
tok=$(rec_res "$id" instance token | tr ' ' '\n' | grep nodes | sort -u)
is "fanout-$id-nodes" "$tok" "node1..3 share one client token in the record"
is "3" "$(awsq ec2 describe-instances --filters "$f" "Name=tag:fanout:client-token,Values=$tok" \
	--query 'Reservations[].Instances[].InstanceId' | wc -w)" "the 3 nodes carry a tag naming it"

lt=$(rec_res "$id" launch_template id)
like "$lt" '^lt-' "the record has the launch template"
is "$lt" "$(awsq ec2 describe-launch-templates --filters "$f" --query 'LaunchTemplates[].LaunchTemplateId')" \
	"the aws CLI: the launch template exists, tagged with the run set"
is "$deb required True gp3" "$(awsq ec2 describe-launch-template-versions --launch-template-id "$lt" \
	--query 'LaunchTemplateVersions[0].LaunchTemplateData.[ImageId,MetadataOptions.HttpTokens,BlockDeviceMappings[0].Ebs.Encrypted,BlockDeviceMappings[0].Ebs.VolumeType]' | tr '\t' ' ')" \
	"the template: Debian 12, IMDSv2 required, an encrypted gp3 disk"

head_sg=$(rec_get "$id" '[x["id"] for x in r["resources"] if x["kind"]=="security_group" and not x["name"].endswith("-compute")][0]')
comp_sg=$(rec_get "$id" '[x["id"] for x in r["resources"] if x["name"].endswith("-compute") and x["kind"]=="security_group"][0]')
like "$comp_sg" '^sg-' "the record has the compute group"
is "0" "$(awsq ec2 describe-security-groups --group-ids "$comp_sg" \
	--query 'SecurityGroups[0].IpPermissions[].IpRanges[].CidrIp' | wc -w)" \
	"the compute group lets in nothing by address (no SSH from outside)"
is "0" "$(awsq ec2 describe-security-groups --group-ids "$comp_sg" \
	--query 'SecurityGroups[0].IpPermissions[].Ipv6Ranges[].CidrIpv6' | wc -w)" \
	"nor by IPv6 address"
is "$(printf '%s\n' "$comp_sg" "$head_sg" | sort | tr '\n' ' ')" \
	"$(awsq ec2 describe-security-groups --group-ids "$comp_sg" \
	--query 'SecurityGroups[0].IpPermissions[].UserIdGroupPairs[].GroupId' | tr '\t' '\n' | sort | tr '\n' ' ')" \
	"it lets in the nodes' group and the head's, nothing else"
is "$comp_sg" "$(awsq ec2 describe-security-groups --group-ids "$head_sg" \
	--query 'SecurityGroups[0].IpPermissions[].UserIdGroupPairs[].GroupId')" \
	"the head's group lets the nodes in (slurmd to slurmctld)"
is "$CHECKIP_ADDR/32" "$(awsq ec2 describe-security-groups --group-ids "$head_sg" \
	--query 'SecurityGroups[0].IpPermissions[].IpRanges[].CidrIp')" \
	"SSH from outside reaches the head's group from the caller's /32 only"
is "$(printf 'all:%s\n' "$comp_sg" "$head_sg" | sort | tr '\n' ' ' | sed 's/ $//')" "$(rec_get "$id" '" ".join(sorted(g["protocol"]+":"+g["group"] for x in r["resources"] if x["name"].endswith("-compute") and x["kind"]=="security_group" for g in x["ingress"]))')" \
	"the record lists the compute group's rules"

head_iid=$(rec_get "$id" '[h["instance_id"] for h in r["hosts"] if h["role"]=="head"][0]')
ud=$(awsq ec2 describe-instance-attribute --instance-id "$head_iid" --attribute userData \
	--query UserData.Value | base64 -d 2>/dev/null)
like "$ud" 'chown admin:admin /home/admin/fanout' "the head's user-data is written for Debian's login user"
is "compute:node1:admin compute:node2:admin compute:node3:admin head:bastion:admin" \
	"$(rec_get "$id" '" ".join(sorted(h["role"]+":"+h["name"]+":"+h["user"] for h in r["hosts"]))')" \
	"the record lists 4 hosts: the head and 3 nodes, login user admin (Debian)"
is "$(awsq ec2 describe-instances --filters "$f" Name=tag:fanout:role,Values=compute \
	--query 'Reservations[].Instances[].InstanceId' | tr '\t' '\n' | sort | tr '\n' ' ')" \
	"$(rec_get "$id" '" ".join(sorted(h["instance_id"] for h in r["hosts"] if h["role"]=="compute"))') " \
	"the hosts' instance ids are the nodes the aws CLI sees"

# resume starts the stopped head and nodes again, at once.
ec2q StopInstances $(rec_get "$id" "'&'.join('InstanceId.%d=%s' % (i + 1, h['instance_id']) for i, h in enumerate(r['hosts']))") >/dev/null
is "stopped compute
stopped compute
stopped compute
stopped head" "$(insts "$id")" "the aws CLI: all 4 stopped"
"$FANOUT" resume "$id" --no-run --yes </dev/null >/dev/null 2>"$TEST_TMP/r.err"
ok $? "resume --no-run of the stopped cluster exits 0" || diag "$(tail -3 "$TEST_TMP/r.err")"
is "running compute
running compute
running compute
running head" "$(insts "$id")" "the aws CLI: resume started the head and the 3 nodes"
is "4" "$(grep -c 'starting i-' "$TEST_TMP/r.err")" "resume says it starts each of them"

# The fault proxy refuses to delete a group another names, as AWS does.
proxy_start --every 0 --group-deps
out=$(curl -s "$PROXY_URL/" -d "Action=DeleteSecurityGroup&Version=2016-11-15&GroupId=$comp_sg" \
	-H 'Authorization: AWS4-HMAC-SHA256 Credential=AKIAFANOUTTESTKEY01/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0')
like "$out" 'DependencyViolation' "the proxy (as AWS) refuses to delete a group another group names"

# 2. cleanup, through that proxy: the groups name each other.
AWS_ENDPOINT_URL="$PROXY_URL" "$FANOUT" cleanup "$id" --yes >"$TEST_TMP/cl.out" 2>"$TEST_TMP/cl.err"
ok $? "cleanup exits 0"
is "0 0 0 0" "$(left)" "the aws CLI: no fanout instance, group, key pair or launch template is left"
is "terminated terminated terminated terminated" "$(awsq ec2 describe-instances --filters "$f" \
	--query 'Reservations[].Instances[].State.Name' | tr '\t' ' ')" "all 4 instances are terminated"
like "$(cat "$TEST_TMP/cl.err")" 'cleanup done \([0-9.]+s\)' "cleanup says how long it took"
like "$(cat "$TEST_TMP/cl.err")" "revoking $head_sg's rule for traffic from $comp_sg" \
	"the head's rule naming the compute group went first"
is "deleted" "$(rec_get "$id" 'r["state"]')" "the record is marked deleted"
proxy_stop

# 3. kill -9 during the create, at each step of the cluster's own, then
#    cleanup: nothing is left.
proxy_start --every 0 --delay 0.15
killed_at() { # killed_at KIND[/NAME] STATE
	fresh
	kid=$(AWS_ENDPOINT_URL="$PROXY_URL" python3 "$top_srcdir/tests/fakes/killwhen.py" \
		"$FANOUT_HISTORY_DIR" "$1" "$2" 120 -- "$FANOUT" create --no-run --keep "$proj" \
		--engine slurm --nodes 3 --yes 2>/dev/null)
	is 137 $? "kill -9 at $1 $2: fanout was killed mid-create"
	is "creating" "$(rec_get "$kid" 'r["state"]')" "kill -9 at $1 $2: the create had not finished"
	# A call on its way when fanout died reaches moto all the same.
	wait_for 30 proxy_idle
	"$FANOUT" cleanup "$kid" --yes >"$TEST_TMP/k.out" 2>"$TEST_TMP/k.err"
	ok $? "kill -9 at $1 $2: cleanup exits 0" || diag "$(tail -3 "$TEST_TMP/k.err")"
	is "0 0 0 0" "$(left)" "kill -9 at $1 $2: nothing tagged is left"
}
killed_at 'security_group/*-compute' intent
killed_at 'security_group/*-compute' created
killed_at launch_template intent
killed_at launch_template created
killed_at instance/node1 intent
killed_at instance/node1 created
killed_at instance/node3 created
proxy_stop

# The same between a create call and the write of its id.
for kind in launch_template instance; do
	fresh
	FANOUT_CRASH_AFTER=$kind create >/dev/null 2>&1
	is 137 $? "crash after the $kind call: killed by SIGKILL"
	cid=$(newest_id)
	"$FANOUT" cleanup "$cid" --yes >"$TEST_TMP/k.out" 2>"$TEST_TMP/k.err"
	ok $? "crash after the $kind call: cleanup exits 0"
	like "$(cat "$TEST_TMP/k.err")" "found $kind" "crash after the $kind call: cleanup found it"
	# Terminated instances pass through shutting-down (counted) first.
	none_left() { [ "$(left)" = "0 0 0 0" ]; }
	wait_for 60 none_left
	is "0 0 0 0" "$(left)" "crash after the $kind call: nothing tagged is left"
done

# Killed while the nodes' RunInstances is on its way: moto makes them
# after fanout is gone; cleanup finds them by their token tag.
fresh
proxy_start --every 0 --hold "RunInstances~LaunchTemplate=$TEST_TMP/release"
AWS_ENDPOINT_URL="$PROXY_URL" "$FANOUT" create --no-run --keep "$proj" --engine slurm \
	--nodes 3 --yes >/dev/null 2>&1 &
cpid=$!
wait_for 120 test -e "$TEST_TMP/release.held"
ok $? "the nodes' RunInstances is held"
kill -9 "$cpid"
wait "$cpid" 2>/dev/null
touch "$TEST_TMP/release"
hid=$(newest_id)
wait_for 60 insts_are "$hid" 3 compute
ok $? "moto made the 3 nodes after fanout was killed"
is "intent intent intent" "$(rec_get "$hid" "' '.join(x['state'] for x in r['resources'] if x['name'].startswith('node'))")" \
	"the record has only their intents"
"$FANOUT" cleanup "$hid" --yes >"$TEST_TMP/k.out" 2>"$TEST_TMP/k.err"
ok $? "cleanup after a kill during RunInstances exits 0"
is "$(awsq ec2 describe-instances --filters "Name=tag:fanout:client-token,Values=fanout-$hid-nodes" \
	--query 'Reservations[].Instances[].InstanceId' | tr '\t' '\n' | sort | tr '\n' ' ')" \
	"$(rec_get "$hid" "' '.join(sorted(x['id'] or '-' for x in r['resources'] if x['name'].startswith('node')))") " \
	"cleanup found the 3 nodes by their token tag (the record names them)"
is "0 0 0 0" "$(left)" "nothing tagged is left"
proxy_stop

# 4. Orphans: a leaked launch template and compute group (whose head
#    group names it) are found and deleted.
fresh
create >"$TEST_TMP/c.out" 2>/dev/null
oid=$(cat "$TEST_TMP/c.out")
ec2q TerminateInstances $(rec_get "$oid" "'&'.join('InstanceId.%d=%s' % (i + 1, h['instance_id']) for i, h in enumerate(r['hosts']))") >/dev/null
ec2q DeleteKeyPair "KeyName=fanout-$oid" >/dev/null
rm -rf "$FANOUT_HISTORY_DIR"	# the record is lost: what is left is orphaned
is "0 2 0 1" "$(left)" "a launch template and two groups are left, no record knows them"
list=$("$FANOUT" cleanup --orphans --json 2>/dev/null </dev/null |
	python3 -c 'import json,sys; print(" ".join(sorted(o["kind"] + ":" + (o["run_set"] or "") for o in json.load(sys.stdin))))')
is "launch_template:$oid security_group:$oid security_group:$oid" "$list" \
	"cleanup --orphans lists the launch template and both groups"
proxy_start --every 0 --group-deps
AWS_ENDPOINT_URL="$PROXY_URL" "$FANOUT" cleanup --orphans --yes >/dev/null 2>"$TEST_TMP/o.err"
ok $? "cleanup --orphans --yes exits 0 (the groups name each other)" || diag "$(tail -3 "$TEST_TMP/o.err")"
is "0 0 0 0" "$(left)" "the aws CLI: they are gone"
proxy_stop

# 5. RunInstances' answers lost (the head's and the nodes'): the retried
#    calls make duplicates on moto (it ignores ClientToken); each call's
#    duplicates are dropped, by its token tag, and nothing else.
fresh
proxy_start --every 0 --lose 'RunInstances~LaunchTemplate,RunInstances~bastion'
AWS_ENDPOINT_URL="$PROXY_URL" create >"$TEST_TMP/d.out" 2>"$TEST_TMP/d.err"
ok $? "create with both RunInstances answers lost exits 0"
did=$(cat "$TEST_TMP/d.out")
is "2" "$(awk '{print $4}' "$PROXY_LOG")" "the proxy lost two answers"
is "4" "$(grep -c 'a duplicate from a retried request' "$TEST_TMP/d.err")" \
	"4 duplicates dropped: the head's one and the nodes' three"
wait_for 30 insts_are "$did" 4 terminated
is "running compute
running compute
running compute
running head
terminated compute
terminated compute
terminated compute
terminated head" "$(insts "$did")" "the aws CLI: the head and 3 nodes run, the 4 duplicates are terminated"
is "$(rec_get "$did" '" ".join(sorted(h["instance_id"] for h in r["hosts"]))')" \
	"$(awsq ec2 describe-instances --filters "Name=tag:fanout:run-set,Values=$did" Name=instance-state-name,Values=running \
	--query 'Reservations[].Instances[].InstanceId' | tr '\t' '\n' | sort | tr '\n' ' ' | sed 's/ $//')" \
	"the record's hosts are the instances that run"
"$FANOUT" cleanup "$did" --yes >/dev/null 2>&1
is "0 0 0 0" "$(left)" "cleanup leaves nothing"
proxy_stop
done_testing
