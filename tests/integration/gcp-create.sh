#!/bin/bash
# fanout create --provider gcp end to end through the CLI, against the
# recording stand-in of Compute Engine (tests/fakes/gcp_fake.py) and a real
# OpenSSH sshd on loopback standing in for the VM: the firewall rule and
# the instance body as the stand-in received them, a requestId on every
# insert recorded in the history record first, --keep then resume (stop
# and start), cleanup leaving nothing labelled, zones (--region picks one,
# a zone answered is checked), and the orphan sweep.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-gcp.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
plan_lazy

CHECKIP_ADDR=203.0.113.9
CHECKIP_PORT=$(free_port)
python3 "$top_srcdir/tests/fakes/checkip.py" "$CHECKIP_PORT" "$CHECKIP_ADDR" &
at_exit "kill $! 2>/dev/null"
wait_port "$CHECKIP_PORT" 20 || bail "checkip stand-in did not start"
export FANOUT_CHECKIP_URL="http://127.0.0.1:$CHECKIP_PORT/"
gcp_key "$GCP_DIR/sa.json"
export GOOGLE_APPLICATION_CREDENTIALS="$GCP_DIR/sa.json"
unset CLOUDSDK_COMPUTE_REGION CLOUDSDK_COMPUTE_ZONE

rec_get() { # rec_get ID PYTHON-EXPR-ON-r
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$FANOUT_HISTORY_DIR/$1.json" "$2" 2>/dev/null
}
# gcp_state PYTHON-EXPR-ON-s: a field of what the stand-in holds.
gcp_state() {
	curl -s --noproxy '*' "$GCP_URL/_fake/state" -X POST -H 'Content-Type: application/json' -d '{}' |
		python3 -c 'import json,sys; s=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

sshd_setup 127.0.0.1
sshd_start
sshd_as_bastion

proj=$(example sleep)
log0=$(gcp_log_lines)
"$FANOUT" create "$proj" --provider gcp --engine bastion --files 4 --keep --yes \
	>"$TEST_TMP/id" 2>"$TEST_TMP/create.err"
rc=$?
is 0 "$rc" "create --provider gcp --engine bastion runs the project and exits 0"
[ "$rc" -eq 0 ] || diag "$(tail -20 "$TEST_TMP/create.err")"
id=$(cat "$TEST_TMP/id")
like "$id" '^fo-[0-9]{8}-[a-z0-9]{4}$' "it prints the run-set id"
r1=$(rec_get "$id" 'r["runs"][-1]["results"]')
check "results.csv is home" test -s "$r1/results.csv"
is "gcp us-central1 us-central1-a" "$(rec_get "$id" 'r["provider"] + " " + r["region"] + " " + r["zone"]')" \
	"the record: provider gcp, the configured region (none: us-central1), its first UP zone"

# What the stand-in received: one firewall rule, SSH from the caller only,
# to the run set's tag only.
tag="fanout-$id-head"
is "1" "$(gcp_state 'len(s["firewalls"])')" "one firewall rule"
is "fanout-$id-ssh INGRESS [{'IPProtocol': 'tcp', 'ports': ['22']}] ['$CHECKIP_ADDR/32'] ['$tag'] default" \
	"$(gcp_state '(lambda f: "%s %s %s %s %s %s" % (f["name"], f["direction"], f["allowed"], f["sourceRanges"], f["targetTags"], f["network"].split("/")[-1]))(s["firewalls"][0])')" \
	"the rule: tcp:22 from the caller's /32 to targetTags [the run set's tag], network default"
is "None" "$(gcp_state 's["firewalls"][0].get("sourceTags")')" "the rule has no other source"

# The instance as inserted.
ins() { gcp_state "[i['body'] for i in s['inserts'] if i['path'].endswith('/instances')][0]$1"; }
is "fanout-$id-bastion" "$(ins '["name"]')" "the instance is named after the run set"
is "{'enableSecureBoot': True, 'enableVtpm': True, 'enableIntegrityMonitoring': True}" \
	"$(ins '["shieldedInstanceConfig"]')" "Shielded VM: secure boot, vTPM, integrity monitoring"
pub=$(ssh-keygen -y -f "$FANOUT_HISTORY_DIR/$id.key" | cut -d' ' -f1-2)
like "$pub" '^ssh-ed25519 AAAA' "OpenSSH reads the run set's key file (ed25519)"
is "600" "$(stat -c %a "$FANOUT_HISTORY_DIR/$id.key")" "the key file is 0600"
is "fanout:$pub fanout-$id|true" \
	"$(ins '["metadata"]["items"]' | python3 -c 'import ast,sys; m={i["key"]: i["value"] for i in ast.literal_eval(sys.stdin.read())}; print(m["ssh-keys"] + "|" + m["block-project-ssh-keys"])')" \
	"instance metadata: ssh-keys is the run set's key only, block-project-ssh-keys true"
is "0" "$(grep -c 'setCommonInstanceMetadata' "$GCP_LOG")" "nothing is written to the project's metadata"
is "fanout-name=fanout-$id-bastion fanout-project=sleep-demo fanout-run-set=$id managed-by=fanout" \
	"$(ins '["labels"]' | python3 -c 'import ast,sys; l=ast.literal_eval(sys.stdin.read()); print(" ".join("%s=%s" % kv for kv in sorted(l.items())))')" \
	"labels managed-by=fanout, fanout-run-set, fanout-project"
is "['fanout-$id', '$tag']" "$(ins '["tags"]["items"]')" "network tags: the run set's and the head's own (the SSH rule's target)"
like "$(ins '["disks"][0]["initializeParams"]["sourceImage"]')" '/projects/debian-cloud/global/images/debian-12-' \
	"the boot disk is the newest image of family debian-12 (debian-cloud)"
is "30 pd-balanced True" "$(ins '["disks"][0]' | python3 -c 'import ast,sys; d=ast.literal_eval(sys.stdin.read()); print(d["initializeParams"]["diskSizeGb"], d["initializeParams"]["diskType"].split("/")[-1], d["autoDelete"])')" \
	"a 30 GB pd-balanced boot disk, deleted with the instance"
is "ONE_TO_ONE_NAT []" "$(ins '["networkInterfaces"][0]["accessConfigs"][0]["type"]') $(ins '["serviceAccounts"]')" \
	"an external address; no service account (the project uses no bucket)"
is "e2-standard-2" "$(ins '["machineType"]' | sed 's|.*/||')" "the default machine type"

# A requestId on every insert, the one the record holds.
posts=$(gcp_log_from "$log0" | grep -E '^POST .*/(instances|firewalls) ')
is "2" "$(echo "$posts" | wc -l)" "two inserts: the firewall rule and the instance"
is "2" "$(echo "$posts" | grep -c 'query=requestId')" "each insert carries a requestId"
is "$(gcp_state '" ".join(sorted(i["requestId"] for i in s["inserts"]))')" \
	"$(rec_get "$id" '" ".join(sorted(x["token"] for x in r["resources"] if x["kind"] in ("instance", "firewall")))')" \
	"the record's tokens are the inserts' requestIds"

# Kept: the bastion was stopped; resume starts it again and runs.
like "$(gcp_log_from "$log0" | grep 'POST' | grep -c '/instances/fanout-'"$id"'-bastion/stop')" '^1$' \
	"--keep: the instance was stopped (instances.stop)"
is "TERMINATED" "$(gcp_state 's["instances"][0]["status"]')" "the stand-in shows it TERMINATED"
log1=$(gcp_log_lines)
"$FANOUT" resume "$id" >/dev/null 2>"$TEST_TMP/resume.err"
rc=$?
is 0 "$rc" "resume exits 0"
[ "$rc" -eq 0 ] || diag "$(tail -20 "$TEST_TMP/resume.err")"
is "1" "$(gcp_log_from "$log1" | grep -c "^POST .*/instances/fanout-$id-bastion/start ")" \
	"resume started the instance (instances.start)"
is "2" "$(rec_get "$id" 'len(r["runs"])')" "a second run is recorded"

# Cleanup: nothing labelled, no fanout firewall rule, no key file.
"$FANOUT" cleanup "$id" --yes >/dev/null 2>"$TEST_TMP/cleanup.err"
ok $? "cleanup exits 0"
is "0 0" "$(gcp_state 'print(len([i for i in s["instances"] if i.get("labels", {}).get("managed-by") == "fanout"]), len([f for f in s["firewalls"] if f["name"].startswith("fanout-")]))' | head -1)" \
	"cleanup leaves no labelled instance and no fanout firewall rule"
check "the key file is gone" test ! -e "$FANOUT_HISTORY_DIR/$id.key"
is "deleted" "$(rec_get "$id" 'r["state"]')" "the record is deleted"

# Stopped behind fanout's back (gcloud, an idle stop): resume notes it as
# of the instance's lastStopTimestamp, starts it and runs.
"$FANOUT" create --no-run "$proj" --provider gcp --yes >"$TEST_TMP/n.id" 2>/dev/null
nid=$(cat "$TEST_TMP/n.id")
nzone=$(rec_get "$nid" 'r["zone"]')
"$GCP_DRIVER" op POST "projects/fanout-test/zones/$nzone/instances/fanout-$nid-bastion/stop" >/dev/null
"$FANOUT" resume "$nid" >/dev/null 2>"$TEST_TMP/n.err"
rc=$?
is 0 "$rc" "resume of an instance stopped behind fanout's back exits 0"
[ "$rc" -eq 0 ] || diag "$(tail -5 "$TEST_TMP/n.err")"
is "stopped:noticed running:fanout stopped:fanout True" \
	"$(rec_get "$nid" '(lambda p: " ".join(x["state"] + ":" + x["by"] for x in p) + " " + str(all(x["at"] >= "2020" for x in p)))([x for x in r["resources"] if x["kind"] == "instance"][0]["power"])')" \
	"its power: stopped (noticed), started, stopped after the run; each at a real time"
"$FANOUT" cleanup "$nid" --yes >/dev/null 2>&1

# --region alone picks a zone of it; a zone that is down is passed over.
gcp_ctl reset >/dev/null
"$FANOUT" create --no-run "$proj" --provider gcp --region europe-west1 --yes >"$TEST_TMP/eu.id" 2>"$TEST_TMP/eu.err"
ok $? "create --no-run --region europe-west1 exits 0"
eu=$(cat "$TEST_TMP/eu.id")
is "europe-west1 europe-west1-b europe-west1-b" "$(rec_get "$eu" 'r["region"] + " " + r["zone"] + " " + [x for x in r["resources"] if x["kind"] == "instance"][0]["zone"]')" \
	"the record: the region, its first zone, the instance's zone"
is "europe-west1-b" "$(gcp_state 's["instances"][0]["zone"].split("/")[-1]')" "the instance is in that zone"
"$FANOUT" cleanup "$eu" --yes >/dev/null 2>&1
gcp_ctl zone '{"name": "us-central1-a", "status": "DOWN"}' >/dev/null
"$FANOUT" create --no-run "$proj" --provider gcp --region us-central1 --yes >"$TEST_TMP/us.id" 2>/dev/null
us=$(cat "$TEST_TMP/us.id")
is "us-central1-b" "$(rec_get "$us" 'r["zone"]')" "a zone that is DOWN is passed over"
# A GCP record passes the history check; damaged, it is refused in one
# line naming the field, exit 2, nothing touched.
"$FANOUT" status "$us" >/dev/null 2>"$TEST_TMP/st.err"
ok $? "status of a GCP record exits 0 (the record passes the history check)"
damaged() { # damaged NEW-ID MUTATION: a copy of $us's record, changed
	python3 - "$FANOUT_HISTORY_DIR/$us.json" "$FANOUT_HISTORY_DIR/$1.json" "$1" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["id"] = sys.argv[3]
exec(sys.argv[4])
json.dump(r, open(sys.argv[2], "w"))
PY
}
n=0
while IFS='|' read -r mut want; do
	n=$((n + 1))
	did="fo-20260101-dmg$n"
	damaged "$did" "$mut"
	"$FANOUT" cleanup "$did" --yes >/dev/null 2>"$TEST_TMP/dmg.err"
	is "2 1" "$? $(wc -l <"$TEST_TMP/dmg.err")" "damaged ($mut): cleanup exits 2 with one line"
	like "$(cat "$TEST_TMP/dmg.err")" "$want" "damaged ($mut): the line names what is wrong"
	rm -f "$FANOUT_HISTORY_DIR/$did.json"
done <<'CASES'
r["zone"] = 5|zone.* a non-empty string
r["zone"] = "mars-1-a"|zone is 'mars-1-a', which is not a zone of region us-central1 of provider gcp
[x for x in r["resources"] if x["kind"] == "instance"][0]["zone"] = "europe-west1-b"|resources\[[0-9]\]\.zone is 'europe-west1-b', which is not a zone of region us-central1
r["resources"][0]["kind"] = "bucket"|resources\[0\]\.kind is 'bucket', which provider gcp does not make
r["region"] = "us-central9"|region is 'us-central9', which provider gcp does not have
CASES
is "1" "$(gcp_state 'len([i for i in s["instances"] if i["status"] == "RUNNING"])')" \
	"the damaged records touched nothing"
"$FANOUT" cleanup "$us" --yes >/dev/null 2>&1
gcp_ctl zone '{"name": "us-central1-a", "status": "UP"}' >/dev/null
gcp_ctl reset >/dev/null

# A key of another project: one line naming both, exit 2, nothing made.
gcp_key "$GCP_DIR/other.json" other-proj
CLOUDSDK_CORE_PROJECT=fanout-test GOOGLE_APPLICATION_CREDENTIALS="$GCP_DIR/other.json" \
	"$FANOUT" create --no-run "$proj" --provider gcp --yes >/dev/null 2>"$TEST_TMP/other.err"
is 2 "$?" "a key of another project: exit 2"
like "$(cat "$TEST_TMP/other.err")" "the credentials of fanout-test@other-proj.iam.gserviceaccount.com \\(project other-proj\\) cannot use project fanout-test: .*compute.projects.get.*; set CLOUDSDK_CORE_PROJECT or use a key of fanout-test" \
	"one line naming the account, its project and the project asked for"
is "1" "$(wc -l <"$TEST_TMP/other.err")" "just that line"
GOOGLE_APPLICATION_CREDENTIALS="$GCP_DIR/other.json" \
	"$FANOUT" create --no-run "$proj" --provider gcp --yes >/dev/null 2>"$TEST_TMP/other2.err"
is 2 "$?" "a key whose own project is not there: exit 2"
like "$(cat "$TEST_TMP/other2.err")" "cannot use project other-proj: .*not found or no access.*check the project ID" \
	"one line: check the project ID"
is "0" "$(gcp_state 'len(s["inserts"])')" "nothing was made"
gcp_ctl reset >/dev/null

# A crash right after the instance's insert: the record holds the
# requestId of the insert (written first); cleanup finds it by name.
FANOUT_CRASH_AFTER=instance "$FANOUT" create --no-run "$proj" --provider gcp --yes >/dev/null 2>&1
crashed=$(ls -t "$FANOUT_HISTORY_DIR"/*.json | head -1 | xargs basename -s .json)
is "intent" "$(rec_get "$crashed" '[x for x in r["resources"] if x["kind"] == "instance"][0]["state"]')" \
	"killed after the insert: the instance is in intent in the record"
is "$(gcp_state '[i["requestId"] for i in s["inserts"] if i["path"].endswith("/instances")][0]')" \
	"$(rec_get "$crashed" '[x for x in r["resources"] if x["kind"] == "instance"][0]["token"]')" \
	"the record holds the insert's requestId"
"$FANOUT" cleanup "$crashed" --yes >/dev/null 2>"$TEST_TMP/crash.err"
ok $? "cleanup of the crashed create exits 0"
is "0 0" "$(gcp_state 'print(len(s["instances"]), len(s["firewalls"]))' | head -1)" \
	"it leaves no instance and no firewall rule"

# The same after the key file and after the firewall rule's insert.
for kind in ssh_key firewall; do
	FANOUT_CRASH_AFTER=$kind "$FANOUT" create --no-run "$proj" --provider gcp --yes >/dev/null 2>&1
	crashed=$(ls -t "$FANOUT_HISTORY_DIR"/*.json | head -1 | xargs basename -s .json)
	is "intent" "$(rec_get "$crashed" '[x for x in r["resources"] if x["kind"] == "'$kind'"][0]["state"]')" \
		"killed after the $kind was made: it is in intent in the record"
	"$FANOUT" cleanup "$crashed" --yes >/dev/null 2>"$TEST_TMP/crash.err"
	ok $? "cleanup after the $kind crash exits 0"
	is "0 0 no" "$(gcp_state 'print(len(s["instances"]), len(s["firewalls"]))' | head -1) $(test -e "$FANOUT_HISTORY_DIR/$crashed.key" && echo key || echo no)" \
		"it leaves no instance, no firewall rule, no key file"
done

# Orphans: a run set whose record is gone, beside a live one, the lists
# one item a page (the sweep follows nextPageToken).
"$FANOUT" create --no-run "$proj" --provider gcp --yes >"$TEST_TMP/o.id" 2>/dev/null
orphan=$(cat "$TEST_TMP/o.id")
mv "$FANOUT_HISTORY_DIR/$orphan.json" "$TEST_TMP/"
"$FANOUT" create --no-run "$proj" --provider gcp --region europe-west1 --yes >"$TEST_TMP/l.id" 2>/dev/null
live=$(cat "$TEST_TMP/l.id")
gcp_ctl page '{"size": 1}' >/dev/null
list=$("$FANOUT" cleanup --orphans --provider gcp --json 2>/dev/null </dev/null |
	python3 -c 'import json,sys; print(" ".join(sorted(o["kind"] + ":" + o["name"] + ":" + o["run_set"] for o in json.load(sys.stdin))))')
is "firewall:fanout-$orphan-ssh:$orphan instance:fanout-$orphan-bastion:$orphan" "$list" \
	"cleanup --orphans --provider gcp finds the labelled instance and the fanout firewall rule of no record"
"$FANOUT" cleanup --orphans --provider gcp --yes >/dev/null 2>"$TEST_TMP/orph.err"
ok $? "cleanup --orphans --yes exits 0"
is "fanout-$live-bastion fanout-$live-ssh" "$(gcp_state '" ".join([i["name"] for i in s["instances"]] + [f["name"] for f in s["firewalls"]])')" \
	"the orphans are deleted, the live run set's resources kept"
gcp_ctl page '{"size": 0}' >/dev/null
"$FANOUT" cleanup "$live" --yes >/dev/null 2>&1
is "0 0" "$(gcp_state 'print(len(s["instances"]), len(s["firewalls"]))' | head -1)" \
	"then nothing is left"
# Ctrl-C during the run: the run stops, the run set is torn down (the
# default, cleanup after), exit 1; nothing is left running.
"$FANOUT" create "$proj" --provider gcp --yes >"$TEST_TMP/int.id" 2>"$TEST_TMP/int.err" &
ipid=$!
wait_for 60 grep -q '^upload done' "$TEST_TMP/int.err"
ok $? "an interrupted create reaches the run" || diag "$(tail -5 "$TEST_TMP/int.err")"
kill -INT "$ipid"
wait "$ipid"
is 1 "$?" "Ctrl-C (SIGINT) during the run: create exits 1"
like "$(cat "$TEST_TMP/int.err")" "cancelled: tearing down run set fo-" "it says it tears the run set down"
is "0 0" "$(gcp_state 'print(len(s["instances"]), len(s["firewalls"]))' | head -1)" \
	"after Ctrl-C no instance and no firewall rule is left"
is "deleted" "$(rec_get "$(tail -1 "$TEST_TMP/int.id")" 'r["state"]')" "its record says deleted"
# Ctrl-C during a resume's run: the run set is kept, its instance stopped.
"$FANOUT" create --no-run "$proj" --provider gcp --yes >"$TEST_TMP/kr.id" 2>/dev/null
kr=$(tail -1 "$TEST_TMP/kr.id")
"$FANOUT" resume "$kr" --yes >/dev/null 2>"$TEST_TMP/kr.err" &
ipid=$!
wait_for 60 grep -q '^upload done' "$TEST_TMP/kr.err"
ok $? "an interrupted resume reaches the run" || diag "$(tail -5 "$TEST_TMP/kr.err")"
kill -INT "$ipid"
wait "$ipid"
is 1 "$?" "Ctrl-C during a resume: exit 1"
is "stopped TERMINATED" "$(rec_get "$kr" 'r["state"]') $(gcp_state 'print(s["instances"][0]["status"])' | head -1)" \
	"the run set is kept, its instance stopped"
"$FANOUT" cleanup "$kr" --yes >/dev/null 2>&1
is "0" "$(gcp_unknown)" "fanout called nothing the stand-in does not serve"
is "0" "$(gcp_outside)" "nothing left loopback"
done_testing
