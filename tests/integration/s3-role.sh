#!/bin/bash
# The instance role's life beside the other resources: a crash right after
# the role's or the profile's create call (the record has the intent only)
# and cleanup finds and deletes both; answers lost on the way (the calls
# retried) leave one role with its policy; an orphaned role and profile
# (their record gone) are found and deleted by cleanup --orphans; a
# cluster's nodes get the profile through their launch template. Against
# moto, with --no-run (no host needed).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
plan_lazy

proj="$TEST_TMP/p"
mkdir -p "$proj"
printf '#!/bin/sh\necho "{\\"ok\\": 1}"\n' >"$proj/entrypoint"
chmod +x "$proj/entrypoint"
printf 'name: s3-role\nentrypoint: ./entrypoint\ninputs:\n  glob: s3://fanout-in/data/*.csv\nresults: s3://fanout-out/runs\n' \
	>"$proj/fanout.yaml"
buckets() {
	awsq s3 mb s3://fanout-in >/dev/null && awsq s3 mb s3://fanout-out >/dev/null &&
		echo 1 | awsq s3 cp - s3://fanout-in/data/a.csv >/dev/null
}
fresh() { moto_reset; rm -rf "$FANOUT_HISTORY_DIR"; buckets; }
roles() { awsq iam list-roles --path-prefix /fanout/ --query 'Roles[].RoleName' | wc -w; }
profiles() { awsq iam list-instance-profiles --path-prefix /fanout/ --query 'InstanceProfiles[].InstanceProfileName' | wc -w; }

# 1. Killed between the call and the write of its id.
for kind in iam_role instance_profile; do
	fresh
	FANOUT_CRASH_AFTER=$kind "$FANOUT" create --no-run "$proj" --yes >/dev/null 2>&1
	is 137 $? "crash after the $kind call: killed"
	id=$(newest_id)
	is "intent" "$(rec_get "$id" "[x['state'] for x in r['resources'] if x['kind']=='$kind'][0]")" \
		"crash after the $kind call: the record has only the intent"
	is 1 "$([ $kind = iam_role ] && roles || profiles)" "crash after the $kind call: it exists"
	"$FANOUT" cleanup "$id" --yes >"$TEST_TMP/cleanup.$kind.log" 2>&1
	ok $? "crash after the $kind call: cleanup exits 0" || diag "$(tail -5 "$TEST_TMP/cleanup.$kind.log")"
	like "$(cat "$TEST_TMP/cleanup.$kind.log")" "found $kind" "crash after the $kind call: cleanup found it"
	is "0 0" "$(roles) $(profiles)" "crash after the $kind call: no role or profile left"
	is "0 0 0" "$(tagged_counts)" "crash after the $kind call: nothing tagged left in EC2"
done

# 2. The first answers of the role's calls lost (the work done): retried,
#    one role, one profile holding it, the policy in place.
fresh
proxy_start --every 0 --lose CreateRole,PutRolePolicy,CreateInstanceProfile,AddRoleToInstanceProfile
AWS_ENDPOINT_URL="$PROXY_URL" "$FANOUT" create --no-run "$proj" --yes >"$TEST_TMP/lost.id" 2>"$TEST_TMP/lost.err"
ok $? "lost answers: the create goes on" || diag "$(tail -5 "$TEST_TMP/lost.err")"
proxy_stop
id=$(cat "$TEST_TMP/lost.id")
is "1 1" "$(roles) $(profiles)" "lost answers: one role, one profile"
is "fanout-$id" "$(awsq iam get-instance-profile --instance-profile-name "fanout-$id" --query 'InstanceProfile.Roles[0].RoleName')" \
	"lost answers: the profile holds the role"
like "$(awsq iam get-role-policy --role-name "fanout-$id" --policy-name fanout-buckets --query PolicyName)" \
	"fanout-buckets" "lost answers: the policy is in place"
iid=$(rec_get "$id" '[x["id"] for x in r["resources"] if x["kind"] == "instance"][0]')
like "$(awsq ec2 describe-instances --instance-ids "$iid" --query 'Reservations[0].Instances[0].IamInstanceProfile.Arn')" \
	"instance-profile/fanout/fanout-$id\$" "the bastion was launched with the profile"
"$FANOUT" cleanup "$id" --yes >/dev/null 2>&1
ok $? "lost answers: cleanup exits 0"
is "0 0" "$(roles) $(profiles)" "lost answers: cleanup leaves no role or profile"

# 3. Orphans: the record gone, the role and profile are found by their
#    path and name, and deleted.
fresh
FANOUT_CRASH_AFTER=instance "$FANOUT" create --no-run "$proj" --yes >/dev/null 2>&1
id=$(newest_id)
rm -f "$FANOUT_HISTORY_DIR/$id.json"
is "1 1" "$(roles) $(profiles)" "orphans: a role and a profile no record knows"
"$FANOUT" cleanup --orphans --yes >"$TEST_TMP/orphans.log" 2>&1
ok $? "cleanup --orphans exits 0" || diag "$(tail -5 "$TEST_TMP/orphans.log")"
like "$(cat "$TEST_TMP/orphans.log")" "iam_role" "cleanup --orphans names the role"
is "0 0" "$(roles) $(profiles)" "cleanup --orphans deletes the role and the profile"

# 4. A cluster: its nodes' launch template names the profile.
fresh
"$FANOUT" create "$proj" --engine slurm --nodes 2 --no-run --yes >"$TEST_TMP/cl.id" 2>"$TEST_TMP/cl.err"
ok $? "a cluster with bucket inputs is made" || diag "$(tail -5 "$TEST_TMP/cl.err")"
id=$(cat "$TEST_TMP/cl.id")
lt=$(rec_get "$id" '[x["id"] for x in r["resources"] if x["kind"] == "launch_template"][0]')
is "fanout-$id" "$(awsq ec2 describe-launch-template-versions --launch-template-id "$lt" \
	--query 'LaunchTemplateVersions[0].LaunchTemplateData.IamInstanceProfile.Name')" \
	"the nodes' launch template names the instance profile"
like "$(rec_get "$id" '[",".join(x["depends_on"]) for x in r["resources"] if x["kind"] == "launch_template"][0]')" \
	"instance_profile" "the launch template depends on the profile"
"$FANOUT" cleanup "$id" --yes >/dev/null 2>&1
ok $? "the cluster is cleaned up"
is "0 0" "$(roles) $(profiles)" "and its role and profile with it"

done_testing
