#!/bin/bash
# A history record fanout did not write itself (a field missing, of the
# wrong type, a truncated file) is refused when it is loaded: status,
# resume and cleanup exit 2 with one line naming the record, the field,
# the file and what to do; nothing is written; nothing crashes. history
# and cleanup --all skip it and say so. No cloud is reached: every
# endpoint is a closed loopback port.
. "$top_srcdir/tests/integration/lib.sh"
plan_lazy

closed="http://127.0.0.1:$(free_port)"
export AWS_ENDPOINT_URL="$closed" FANOUT_CHECKIP_URL="$closed/"
export AWS_ACCESS_KEY_ID=AKIAFANOUTTESTKEY01 AWS_SECRET_ACCESS_KEY=x
export AWS_REGION=us-east-1 HOME="$TEST_TMP/home"
unset AWS_PROFILE AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE
mkdir -p "$HOME" "$FANOUT_HISTORY_DIR"
H=$FANOUT_HISTORY_DIR

# A sanitizer report anywhere in a command's stderr is a failure.
no_report() { ! grep -q 'Sanitizer\|runtime error:' "$1"; }

# An empty history folder (ASan once stopped here: qsort of nothing).
"$FANOUT" history >"$TEST_TMP/empty.out" 2>"$TEST_TMP/empty.err"
ok $? "history on an empty folder exits 0"
like "$(cat "$TEST_TMP/empty.out")" "No run sets yet" "and says there is none"
check "history on an empty folder: no sanitizer report" no_report "$TEST_TMP/empty.err"
"$FANOUT" history --json >"$TEST_TMP/empty.json" 2>"$TEST_TMP/empty.err"
is "[]" "$(tr -d ' \n' <"$TEST_TMP/empty.json")" "history --json on an empty folder is []"
check "history --json on an empty folder: no sanitizer report" no_report "$TEST_TMP/empty.err"
"$FANOUT" cleanup --all --yes >"$TEST_TMP/empty.out" 2>"$TEST_TMP/empty.err"
ok $? "cleanup --all on an empty folder exits 0"

# A good cloud record, as fanout writes it; each case below damages one
# field of a copy (python: MUTATION is a statement on r).
good=fo-20260101-good
cat >"$H/$good.json" <<'EOF'
{
  "version": 1, "id": "fo-20260101-good", "kind": "cloud",
  "project": "demo", "created_at": "2026-01-01T10:00:00Z",
  "state": "active", "provider": "aws", "region": "us-east-1",
  "project_dir": "/nonexistent/demo",
  "answers": {"project": "/nonexistent/demo", "name": "demo", "files": 0,
              "cleanup_after": false},
  "resources": [
    {"kind": "key_pair", "name": "fanout-fo-20260101-good", "id": "key-1",
     "region": "us-east-1", "state": "created", "token": null,
     "created_at": "2026-01-01T10:00:01Z", "depends_on": []},
    {"kind": "security_group", "name": "fanout-fo-20260101-good",
     "id": "sg-1", "region": "us-east-1", "state": "created",
     "created_at": "2026-01-01T10:00:01Z", "depends_on": []},
    {"kind": "instance", "name": "bastion", "id": "i-1",
     "region": "us-east-1", "state": "created", "token": "t",
     "created_at": "2026-01-01T10:00:02Z", "hourly_usd": 0.0104,
     "depends_on": ["key_pair", "security_group"]}
  ],
  "runs": [],
  "ssh": {"key_file": "/nonexistent/k", "user": "ec2-user", "host": null,
          "instance_id": "i-1", "host_key": null}
}
EOF
"$FANOUT" status "$good" >"$TEST_TMP/good.out" 2>"$TEST_TMP/good.err"
ok $? "the good record loads (status exits 0)"

n=0
damage() { # damage FIELD-REGEX DESCRIPTION PYTHON-STATEMENT-ON-r
	n=$((n + 1))
	id=$(printf 'fo-20260102-d%03d' "$n")
	python3 - "$H/$good.json" "$H/$id.json" "$id" "$3" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
r["id"] = sys.argv[3]
exec(sys.argv[4])
open(sys.argv[2], "w").write(json.dumps(r, indent=1))
EOF
	refused "$id" "$1" "$2"
}

refused() { # refused ID FIELD-REGEX DESCRIPTION
	_sum=$(md5sum <"$H/$1.json")
	for _cmd in status resume cleanup; do
		_args="$_cmd $1"
		[ "$_cmd" = status ] || _args="$_args --yes"
		# shellcheck disable=SC2086
		"$FANOUT" $_args </dev/null >/dev/null 2>"$TEST_TMP/err"
		_rc=$?
		_err=$(cat "$TEST_TMP/err")
		is 2 "$_rc" "$3: $_cmd exits 2" || diag "$_err"
		is 1 "$(wc -l <"$TEST_TMP/err")" "$3: $_cmd says one line"
		like "$_err" "^fanout: history record $1: $2.* \\($H/$1\\.json\\); move it aside or restore it\$" \
			"$3: $_cmd names the record, the field and the file"
	done
	is "$_sum" "$(md5sum <"$H/$1.json")" "$3: the record file is unchanged"
	check "$3: no sanitizer report" no_report "$TEST_TMP/err"
	rm -f "$H/$1.json" "$H/$1.lock"
}

damage 'resources\[0\]\.state is missing' "a resource without state" \
	'del r["resources"][0]["state"]'
damage 'resources\[2\]\.kind is missing' "a resource without kind" \
	'del r["resources"][2]["kind"]'
damage "resources\\[1\\]\\.state is 'gone', not intent, created or deleted" \
	"a resource state that does not exist" 'r["resources"][1]["state"] = "gone"'
damage 'resources\[0\]\.state is a number, not a non-empty string' \
	"a resource state that is a number" 'r["resources"][0]["state"] = 3'
damage 'resources\[2\]\.id is missing, but the state is created' \
	"a created resource without id" 'r["resources"][2]["id"] = None'
damage 'resources\[2\]\.depends_on is an array, not an array of strings' \
	"depends_on holding a number" 'r["resources"][2]["depends_on"] = [1]'
damage 'resources\[1\] is a string, not an object' \
	"a resource that is a string" 'r["resources"][1] = "sg-1"'
damage 'resources is an object, not an array' \
	"resources that are not an array" 'r["resources"] = {}'
damage 'resources is missing' "a record without resources" 'del r["resources"]'
damage 'state is missing' "a record without state" 'del r["state"]'
damage 'kind is missing' "a record without kind" 'del r["kind"]'
damage "kind is 'gcp-thing', not local, remote or cloud" "an unknown record kind" \
	'r["kind"] = "gcp-thing"'
damage 'id is missing' "a record without id" 'del r["id"]'
damage "id is 'fo-20990101-else', not the file's name" "a record named after another" \
	'r["id"] = "fo-20990101-else"'
damage 'region is missing' "a cloud record without region" 'del r["region"]'
damage 'created_at is .2026-13-45., not a time' "a created_at that is not a time" \
	'r["created_at"] = "2026-13-45"'
damage 'version is 2, newer than this fanout reads \(1\)' "a record from a newer fanout" \
	'r["version"] = 2'
damage 'version is missing' "a record without version" 'del r["version"]'
damage 'ssh is an array, not an object' "an ssh block that is a list" 'r["ssh"] = []'
damage 'ssh\.key_file is missing' "an ssh block without key file" 'del r["ssh"]["key_file"]'
damage 'answers\.files is .-3., not a whole number' "answers with a string for files" \
	'r["answers"]["files"] = "-3"'
damage 'runs\[0\]\.results is a number, not a string or null' "a run whose results is a number" \
	'r["runs"] = [{"results": 5}]'
damage 'the file holds an array, not a fanout record' "a record that is a list" \
	'r = [r]'
damage 'resources\[0\]\.depends_on makes the resources depend on each other in a circle' \
	"depends_on in a circle" 'r["resources"][0]["depends_on"] = ["instance"]'

# A region the provider does not have: the record loads (status shows
# it), but cleanup and resume refuse it as a damaged record, exit 2,
# before anything is written (it once blamed --region, exit 1).
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r["id"]="fo-20260102-regn"; r["region"]="zz-nowhere-1"; json.dump(r, open(sys.argv[2], "w"))' \
	"$H/$good.json" "$H/fo-20260102-regn.json"
sum=$(md5sum <"$H/fo-20260102-regn.json")
for cmd in resume cleanup; do
	"$FANOUT" $cmd fo-20260102-regn --yes </dev/null >/dev/null 2>"$TEST_TMP/err"
	is 2 $? "a region the provider lacks: $cmd exits 2"
	like "$(cat "$TEST_TMP/err")" "^fanout: history record fo-20260102-regn: region is 'zz-nowhere-1', which provider aws does not have; move the record aside or restore it\$" \
		"a region the provider lacks: $cmd names the record and the field"
done
is "$sum" "$(md5sum <"$H/fo-20260102-regn.json")" "a region the provider lacks: the record is unchanged"
rm -f "$H/fo-20260102-regn.json" "$H/fo-20260102-regn.lock"

# Runs on this machine and on a host of one's own have nothing in the
# cloud: resume and cleanup say so and exit 2 (bad input), not 1.
for kind in local remote; do
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r["id"]="fo-20260102-"+sys.argv[3][:4]; r["kind"]=sys.argv[3]; r["state"]="done"; r["resources"]=[]; [r.pop(k) for k in ("provider","region","ssh","answers")]; json.dump(r, open(sys.argv[2], "w"))' \
		"$H/$good.json" "$H/fo-20260102-${kind:0:4}.json" "$kind"
	want="ran on this machine \\(fanout run --local\\)"
	[ $kind = remote ] && want="ran on a host of your own \\(fanout run --host\\)"
	for cmd in resume cleanup; do
		"$FANOUT" $cmd "fo-20260102-${kind:0:4}" --yes </dev/null >/dev/null 2>"$TEST_TMP/err"
		is 2 $? "a $kind run: $cmd exits 2"
		like "$(cat "$TEST_TMP/err")" "^fanout: run set fo-20260102-${kind:0:4} $want: nothing in the cloud to resume or clean up" \
			"a $kind run: $cmd says where it ran"
	done
	rm -f "$H/fo-20260102-${kind:0:4}.json" "$H/fo-20260102-${kind:0:4}.lock"
done

# A resource kind the provider does not make: the record loads (status
# shows it), but cleanup and resume refuse it before writing anything.
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r["id"]="fo-20260102-kind"; r["resources"].append(dict(r["resources"][1], kind="thing")); json.dump(r, open(sys.argv[2], "w"))' \
	"$H/$good.json" "$H/fo-20260102-kind.json"
sum=$(md5sum <"$H/fo-20260102-kind.json")
for cmd in resume cleanup; do
	"$FANOUT" $cmd fo-20260102-kind --yes </dev/null >/dev/null 2>"$TEST_TMP/err"
	is 2 $? "an unknown resource kind: $cmd exits 2"
	like "$(cat "$TEST_TMP/err")" "resources\\[3\\]\\.kind is 'thing', which provider aws does not make" \
		"an unknown resource kind: $cmd names it"
done
is "$sum" "$(md5sum <"$H/fo-20260102-kind.json")" "an unknown resource kind: the record is unchanged"
rm -f "$H/fo-20260102-kind.json"

# Not JSON at all: truncated, and a key given twice.
head -c 300 "$H/$good.json" >"$H/fo-20260103-trnc.json"
sum=$(md5sum <"$H/fo-20260103-trnc.json")
for cmd in status resume cleanup; do
	yes=--yes
	[ $cmd = status ] && yes=
	"$FANOUT" $cmd fo-20260103-trnc $yes </dev/null >/dev/null 2>"$TEST_TMP/err"
	is 2 $? "a truncated record: $cmd exits 2"
	like "$(cat "$TEST_TMP/err")" "^fanout: history record fo-20260103-trnc is damaged \\($H/fo-20260103-trnc\\.json:[0-9]+: .*\\); move it aside or restore it\$" \
		"a truncated record: $cmd names the file and the place"
done
is "$sum" "$(md5sum <"$H/fo-20260103-trnc.json")" "a truncated record is left as it was"
printf '{"version": 1, "id": "fo-20260103-dupe", "id": "fo-20260103-dupe"}' \
	>"$H/fo-20260103-dupe.json"
"$FANOUT" status fo-20260103-dupe >/dev/null 2>"$TEST_TMP/err"
is 2 $? "a key given twice: status exits 2"
like "$(cat "$TEST_TMP/err")" 'fo-20260103-dupe is damaged .*duplicate object key' \
	"a key given twice is named"

# In a list, a damaged record is skipped and named, never trusted. (The
# good run set is marked deleted first: cleanup --all has nothing else to
# do, and no cloud to reach.)
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r["state"]="deleted"; [x.update(state="deleted") for x in r["resources"]]; json.dump(r, open(sys.argv[1], "w"))' \
	"$H/$good.json"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r["id"]="fo-20260104-bad1"; del r["resources"][0]["state"]; json.dump(r, open(sys.argv[2], "w"))' \
	"$H/$good.json" "$H/fo-20260104-bad1.json"
sum=$(md5sum <"$H/fo-20260104-bad1.json")
out=$("$FANOUT" history 2>"$TEST_TMP/hist.err")
ok $? "history with a damaged record exits 0"
like "$out" "$good" "history lists the good record"
like "$(cat "$TEST_TMP/hist.err")" "resources\\[0\\]\\.state is missing \\($H/fo-20260104-bad1\\.json\\)" \
	"history names the damaged record's file and field"
"$FANOUT" cleanup --all --yes >"$TEST_TMP/all.out" 2>"$TEST_TMP/all.err"
is 1 $? "cleanup --all with a damaged record exits 1"
like "$(cat "$TEST_TMP/all.err")" "fo-20260104-bad1: resources\\[0\\]\\.state is missing" \
	"cleanup --all names the damaged record"
like "$(cat "$TEST_TMP/all.err")" "could not be read: their run sets were not cleaned up" \
	"cleanup --all says it did not clean that one up"
is "$sum" "$(md5sum <"$H/fo-20260104-bad1.json")" "cleanup --all left the damaged record untouched"
check "cleanup --all: no sanitizer report" no_report "$TEST_TMP/all.err"
done_testing
