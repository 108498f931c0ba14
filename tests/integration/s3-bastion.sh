#!/bin/bash
# Inputs in a bucket on the bastion engine, results to a bucket: fanout
# create against moto with a loopback sshd as the bastion. The head gets
# an instance role (read-only on the inputs' prefix, write-only on the
# results' prefix: its policy read back with the aws CLI), fetches the 150
# objects (2 pages) itself with the role's credentials from a stand-in
# metadata service (tests/fakes/imds.py), never the user's; the results
# equal the same files as a local glob; the results folder is copied to
# the bucket; cleanup deletes the role and its profile.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
plan_lazy

python3 -c 'import boto3' 2>/dev/null || skip_all "no python3 boto3 for the host's fetch"

IMDS_PORT=$(free_port)
python3 "$top_srcdir/tests/fakes/imds.py" "$IMDS_PORT" "$MOTO_URL" --log "$TEST_TMP/imds.log" \
	2>"$TEST_TMP/imds.err" &
at_exit "kill $! 2>/dev/null"
wait_port "$IMDS_PORT" 20 || bail "imds stand-in did not start"

sshd_setup 127.0.0.1
# The host's sessions reach the stand-in metadata service, and no AWS
# file of this machine's user (the host has none of the user's).
cat >>"$SSHD_DIR/sshd_config" <<EOF2
SetEnv AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$IMDS_PORT/ AWS_SHARED_CREDENTIALS_FILE=$TEST_TMP/host-no-credentials AWS_CONFIG_FILE=$TEST_TMP/host-no-config
EOF2
sshd_start
sshd_as_bastion

data="$TEST_TMP/data"
mkdir -p "$data/data"
for i in $(seq -w 1 150); do
	printf 'row %s\n%s\n' "$i" "$(seq 1 "$((10#$i % 13))" | tr '\n' ' ')" >"$data/data/f$i.csv"
done
echo "not an input" >"$data/data/readme.txt"
awsq s3 mb s3://fanout-in >/dev/null
awsq s3 mb s3://fanout-out >/dev/null
awsq s3 cp --recursive --quiet "$data/data" s3://fanout-in/data/
is 151 "$(awsq s3 ls --recursive s3://fanout-in/data/ | wc -l)" "151 objects under data/, 150 of them inputs"

lp="$TEST_TMP/local"
s3_mkproj "$lp" 'data/*.csv'
cp -R "$data/data" "$lp/data"
"$FANOUT" run --local "$lp" --results "$TEST_TMP/res-local" >/dev/null 2>&1
ok $? "the same files as a local glob run"

sp="$TEST_TMP/s3proj"
s3_mkproj "$sp" 's3://fanout-in/data/*.csv' 's3://fanout-out/runs'
FANOUT_S3_PAGE_SIZE=100 "$FANOUT" create "$sp" --keep --yes >"$TEST_TMP/id" 2>"$TEST_TMP/create.err"
rc=$?
is 0 "$rc" "create with s3:// inputs and results runs and exits 0"
[ "$rc" -eq 0 ] || diag "$(tail -20 "$TEST_TMP/create.err")"
id=$(cat "$TEST_TMP/id")
role="fanout-$id"
like "$(cat "$TEST_TMP/create.err")" "instance role +reads s3://fanout-in/data/; writes s3://fanout-out/runs" \
	"the plan shows the instance role and what it may do"
like "$(cat "$TEST_TMP/create.err")" "\\[inputs\\] 150 object\\(s\\) of s3://fanout-in/data/\\*\\.csv \\(2 page\\(s\\) listed\\), fetched by the host itself" \
	"150 objects listed (2 pages)"
like "$(cat "$TEST_TMP/create.err")" "fetched 150 object\(s\) \([0-9]+ bytes\) from the bucket itself" \
	"the head fetched the 150 objects itself"
like "$(head -1 "$TEST_TMP/imds.log")" "^$role ASIA" \
	"with the instance role's credentials from the metadata service"
r1=$(rec_get "$id" 'r["runs"][-1]["results"]')
is "$(head -1 "$TEST_TMP/res-local/results.csv")" "$(head -1 "$r1/results.csv")" "results.csv has the same columns"
is "$(tail -n +2 "$TEST_TMP/res-local/results.csv" | sort)" \
	"$(tail -n +2 "$r1/results.csv" | sed 's|^\([0-9]*\),s3://fanout-in/|\1,|' | sort)" \
	"results.csv: the same rows as the local glob, the input aside"
is 150 "$(grep -c '"input": *"s3://fanout-in/data/f[0-9]*\.csv"' "$r1/records.jsonl")" \
	"each record names its s3:// URL"

# The role and its profile, as the aws CLI sees them.
is "$role" "$(awsq iam get-instance-profile --instance-profile-name "$role" \
	--query 'InstanceProfile.Roles[0].RoleName')" "the instance profile holds the role"
like "$(awsq iam get-role --role-name "$role" --query 'Role.AssumeRolePolicyDocument.Statement[0].Principal.Service')" \
	"ec2.amazonaws.com" "the role trusts EC2 alone"
is "iam_role instance_profile" "$(rec_get "$id" '" ".join(sorted(x["kind"] for x in r["resources"] if x["kind"] in ("iam_role", "instance_profile")))')" \
	"the record holds the role and the profile"
is "iam_role" "$(rec_get "$id" '[",".join(x["depends_on"]) for x in r["resources"] if x["kind"] == "instance_profile"][0]')" \
	"the profile depends on the role"
like "$(rec_get "$id" '[",".join(x["depends_on"]) for x in r["resources"] if x["kind"] == "instance"][0]')" \
	"instance_profile" "the bastion depends on the profile"
aws --endpoint-url "$MOTO_URL" --region us-east-1 --output json iam get-role-policy \
	--role-name "$role" --policy-name fanout-buckets >"$TEST_TMP/policy.json"
ok $? "the role has its inline policy"
python3 - "$TEST_TMP/policy.json" >"$TEST_TMP/policy.txt" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))["PolicyDocument"]
if isinstance(doc, str):
    doc = json.loads(doc)
for s in doc["Statement"]:
    acts = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
    res = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
    cond = json.dumps(s.get("Condition", {}), sort_keys=True)
    print(s["Effect"], ",".join(acts), ",".join(res), cond)
PY
is "Allow s3:ListBucket arn:aws:s3:::fanout-in {\"StringLike\": {\"s3:prefix\": [\"data/*\"]}}
Allow s3:GetObject arn:aws:s3:::fanout-in/data/* {}
Allow s3:PutObject arn:aws:s3:::fanout-out/runs/* {}" "$(cat "$TEST_TMP/policy.txt")" \
	"the policy: list and read the inputs' prefix, write the results' prefix, nothing else"

# The results folder in the bucket, under the run's id.
like "$(cat "$TEST_TMP/create.err")" "results copied to s3://fanout-out/runs/[0-9]{8}-[0-9]{6}-[0-9a-f]{4}/" \
	"the output says where the results went"
dest=$(rec_get "$id" 'r["runs"][-1]["results_url"]')
like "$dest" "^s3://fanout-out/runs/" "the record keeps where the results went"
awsq s3 ls --recursive "$dest" >"$TEST_TMP/out.ls"
for f in results.csv errors.csv logs.csv performance.txt records.jsonl runtime.png; do
	like "$(cat "$TEST_TMP/out.ls")" " ${dest#s3://fanout-out/}$f\$" "the bucket has $f"
done
awsq s3 cp "${dest}results.csv" "$TEST_TMP/copied.csv" >/dev/null
is "$(cat "$r1/results.csv")" "$(cat "$TEST_TMP/copied.csv")" "the bucket's results.csv is the run's"

# Never the user's credentials on the host.
is 0 "$(grep -rlF -e "$AWS_SECRET_ACCESS_KEY" -e "$AWS_ACCESS_KEY_ID" "$FANOUT_BASTION_DIR" | wc -l)" \
	"no file on the host holds the user's key id or secret"
is 0 "$(grep -cF -e "$AWS_SECRET_ACCESS_KEY" -e "$AWS_ACCESS_KEY_ID" "$FANOUT_BASTION_DIR/store/fetch.list")" \
	"nor the fetch list"

# Without the role in its profile the host cannot fetch: the credentials
# come from the role, nowhere else.
awsq iam remove-role-from-instance-profile --instance-profile-name "$role" --role-name "$role"
rm -rf "$FANOUT_BASTION_DIR/store"
"$FANOUT" resume "$id" --yes >/dev/null 2>"$TEST_TMP/resume.err"
isnt_rc=$?
ok "$([ "$isnt_rc" -ne 0 ]; echo $?)" "a resume whose head has no role fails"
like "$(cat "$TEST_TMP/resume.err")" "fetching the inputs on .* failed: s3://fanout-in/data/f[0-9]+\.csv: .*[Cc]redentials" \
	"at the fetch, for want of credentials"
awsq iam add-role-to-instance-profile --instance-profile-name "$role" --role-name "$role"

"$FANOUT" cleanup "$id" --yes >/dev/null 2>"$TEST_TMP/cleanup.err"
ok $? "cleanup works" || diag "$(tail -5 "$TEST_TMP/cleanup.err")"
awsq iam get-role --role-name "$role" >/dev/null 2>&1
ok "$([ $? -ne 0 ]; echo $?)" "cleanup deleted the role"
awsq iam get-instance-profile --instance-profile-name "$role" >/dev/null 2>&1
ok "$([ $? -ne 0 ]; echo $?)" "and the instance profile"
is "" "$(awsq iam list-roles --path-prefix /fanout/ --query 'Roles[].RoleName')" "no fanout role is left"
is "" "$(awsq iam list-instance-profiles --path-prefix /fanout/ --query 'InstanceProfiles[].InstanceProfileName')" \
	"no fanout instance profile is left"
is "terminated 0 0" "$(set_of "$id")" "nothing of the run set is left in EC2"

done_testing
