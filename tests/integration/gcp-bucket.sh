#!/bin/bash
# gs:// inputs and results on the bastion engine: fanout create --provider
# gcp against the stand-in (tests/fakes/gcp_fake.py, gcp_fake_iam.py) with
# a loopback sshd as the VM, whose sessions reach the stand-in's metadata
# server (GCE_METADATA_HOST). The run set gets a service account of its
# own with bindings on the two buckets only (objectViewer on the inputs',
# objectCreator on the results'); the instance names it; the host fetches
# the 30 objects itself with the account's token (the stand-in's log
# shows each read by the account, none by the user), the results land in
# the bucket, put by the account; no file on the host holds the user's
# key or token; without its binding the host cannot fetch; cleanup
# removes the bindings and deletes the account. Then a setIamPolicy
# refused (one line naming the role to grant), and kill -9 after the
# account's and a binding's call: cleanup leaves no account or binding.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-gcp.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
plan_lazy

CHECKIP_PORT=$(free_port)
python3 "$top_srcdir/tests/fakes/checkip.py" "$CHECKIP_PORT" 203.0.113.9 &
at_exit "kill $! 2>/dev/null"
wait_port "$CHECKIP_PORT" 20 || bail "checkip stand-in did not start"
export FANOUT_CHECKIP_URL="http://127.0.0.1:$CHECKIP_PORT/"
gcp_key "$GCP_DIR/sa.json"
export GOOGLE_APPLICATION_CREDENTIALS="$GCP_DIR/sa.json"
export CLOUDSDK_API_ENDPOINT_OVERRIDES_IAM="$GCP_URL/iam/"
unset CLOUDSDK_COMPUTE_REGION CLOUDSDK_COMPUTE_ZONE
USER_SA=fanout-test@fanout-test.iam.gserviceaccount.com

rec_get() { # rec_get ID PYTHON-EXPR-ON-r
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$FANOUT_HISTORY_DIR/$1.json" "$2" 2>/dev/null
}
iam_state() { # iam_state PYTHON-EXPR-ON-s
	gcp_ctl iam/state | python3 -c 'import json,sys; s=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}
put() { # put BUCKET NAME FILE
	python3 -c 'import json, sys; print(json.dumps({"bucket": sys.argv[1], "name": sys.argv[2], "data": open(sys.argv[3]).read()}))' \
		"$1" "$2" "$3" >"$TEST_TMP/obj.json"
	gcp_ctl object "$(cat "$TEST_TMP/obj.json")" >/dev/null
}
# who_did METHOD PATH-REGEX: "COUNT WHO" lines of the log since mark.
mark() { m=$(gcp_log_lines); }
who_did() {
	tail -n +"$((m + 1))" "$GCP_LOG" | python3 -c '
import collections, json, re, sys
c = collections.Counter(e.get("who") for e in map(json.loads, sys.stdin)
                        if e["method"] == sys.argv[1] and re.search(sys.argv[2], e["path"]))
print(" ".join("%d %s" % (n, w) for w, n in sorted(c.items(), key=str)))' "$1" "$2"
}

sshd_setup 127.0.0.1
# The host's sessions reach the stand-in's metadata server, as a VM
# reaches metadata.google.internal; nothing of this machine's user's
# Google settings.
cat >>"$SSHD_DIR/sshd_config" <<EOF2
SetEnv GCE_METADATA_HOST=127.0.0.1:$GCP_PORT CLOUDSDK_CONFIG=$TEST_TMP/host-no-gcloud
EOF2
sshd_start
sshd_as_bastion

data="$TEST_TMP/data"
mkdir -p "$data"
gcp_ctl bucket '{"name": "fanout-in"}' >/dev/null
gcp_ctl bucket '{"name": "fanout-out"}' >/dev/null
for i in $(seq -w 1 30); do
	printf 'row %s\n%s\n' "$i" "$(seq 1 "$((10#$i % 13))" | tr '\n' ' ')" >"$data/f$i.csv"
	put fanout-in "data/f$i.csv" "$data/f$i.csv"
done
echo "not an input" >"$data/readme.txt"
put fanout-in data/readme.txt "$data/readme.txt"

gp="$TEST_TMP/gsproj"
mkdir -p "$gp"
cat >"$gp/entrypoint" <<'SH'
#!/bin/sh
set -eu
printf '{"bytes": %s, "first": "%s"}\n' "$(wc -c <"$1")" "$(head -1 "$1")"
SH
chmod +x "$gp/entrypoint"
printf 'name: gs-demo\nentrypoint: ./entrypoint\ninputs:\n  glob: gs://fanout-in/data/*.csv\nworkers: 4\nresults: gs://fanout-out/runs\n' \
	>"$gp/fanout.yaml"

mark
FANOUT_GCS_PAGE_SIZE=20 "$FANOUT" create "$gp" --provider gcp --engine bastion --keep --yes \
	>"$TEST_TMP/id" 2>"$TEST_TMP/create.err"
rc=$?
is 0 "$rc" "create --provider gcp with gs:// inputs and results runs and exits 0"
[ "$rc" -eq 0 ] || diag "$(tail -20 "$TEST_TMP/create.err")"
id=$(cat "$TEST_TMP/id")
sa="fanout-$id@fanout-test.iam.gserviceaccount.com"
like "$(cat "$TEST_TMP/create.err")" "service account +reads gs://fanout-in; writes to gs://fanout-out \(bucket bindings only\)" \
	"the plan shows the service account and what it may do"
like "$(cat "$TEST_TMP/create.err")" "\\[inputs\\] 30 object\\(s\\) of gs://fanout-in/data/\\*\\.csv \\(2 page\\(s\\) listed\\), fetched by the host itself" \
	"30 objects listed (2 pages)"
like "$(cat "$TEST_TMP/create.err")" "fetched 30 object\(s\) \([0-9]+ bytes\) from the bucket itself" \
	"the host fetched the 30 objects itself"
is "30 serviceAccount:$sa" "$(who_did GET '^/storage/v1/b/fanout-in/o/data%2F|^/storage/v1/b/fanout-in/o/data/')" \
	"each object was read by the run set's service account, none by the user"
like "$(who_did GET '^/computeMetadata/v1/instance/service-accounts/default/token$')" "^[0-9]+ serviceAccount:$sa$" \
	"with tokens from the metadata server"
is "$sa" "$(rec_get "$id" '[x for x in r["resources"] if x["kind"] == "service_account"][0]["id"]')" \
	"the record holds the service account"
is "gs://fanout-in roles/storage.objectViewer,gs://fanout-out roles/storage.objectCreator" \
	"$(rec_get "$id" '",".join(x["name"] for x in r["resources"] if x["kind"] == "bucket_binding")')" \
	"and its two bucket bindings"
is "service_account" "$(rec_get "$id" '[",".join(x["depends_on"]) for x in r["resources"] if x["kind"] == "bucket_binding"][0]')" \
	"a binding depends on the account"
is "$sa" "$(gcp_ctl state | python3 -c 'import json,sys; print(json.load(sys.stdin)["instances"][0]["serviceAccounts"][0]["email"])')" \
	"the instance runs as the account"
is "{'fanout-in': [{'role': 'roles/storage.objectViewer', 'members': ['serviceAccount:$sa']}], 'fanout-out': [{'role': 'roles/storage.objectCreator', 'members': ['serviceAccount:$sa']}]}" \
	"$(iam_state 's["policies"]')" "the buckets' policies bind the account, one role each, nothing else"
like "$(iam_state 's["accounts"]')" "$sa" "the account exists"

# fanout's IAM requests: those gcloud sends for the same (gcp-iam-gcloud.sh).
reqs=$(gcp_log_from "$m" | grep -E ' /iam/| /storage/v1/b/[^/]+/iam ' | sort | uniq)
is "GET /storage/v1/b/fanout-in/iam query=optionsRequestedPolicyVersion body=
GET /storage/v1/b/fanout-out/iam query=optionsRequestedPolicyVersion body=
POST /iam/v1/projects/fanout-test/serviceAccounts query= body=accountId,serviceAccount
PUT /storage/v1/b/fanout-in/iam query= body=bindings,etag,kind,resourceId,version
PUT /storage/v1/b/fanout-out/iam query= body=bindings,etag,kind,resourceId,version" "$reqs" \
	"the account made and bound with the requests gcloud sends for them"

r1=$(rec_get "$id" 'r["runs"][-1]["results"]')
is 30 "$(grep -c '"input": *"gs://fanout-in/data/f[0-9]*\.csv"' "$r1/records.jsonl")" \
	"each record names its gs:// URL"
like "$(cat "$TEST_TMP/create.err")" "results copied to gs://fanout-out/runs/[0-9]{8}-[0-9]{6}-[0-9a-f]{4}/" \
	"the output says where the results went"
dest=$(rec_get "$id" 'r["runs"][-1]["results_url"]')
like "$dest" "^gs://fanout-out/runs/" "the record keeps where the results went"
dname=${dest#gs://fanout-out/}
is "$(cat "$r1/results.csv")" "$(gcp_ctl iam/cat "{\"bucket\": \"fanout-out\", \"name\": \"${dname}results.csv\"}")" \
	"the bucket's results.csv is the run's"
like "$(who_did POST '^/upload/storage/v1/b/fanout-out/o$')" "^[0-9]+ serviceAccount:$sa$" \
	"the results were put by the account"

# Never the user's credentials on the host.
keyline=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["private_key"].splitlines()[5])' "$GCP_DIR/sa.json")
is 0 "$(grep -rlF -e "$keyline" -e "ya29.fake-" -e "$GCP_DIR" "$FANOUT_BASTION_DIR" | wc -l)" \
	"no file on the host holds the user's key, token or key file's name"

# Without its binding the account cannot read: the host's access is the
# binding's, nothing else. The host's fetch script, run again on the
# host's list with the account's token, once the binding is gone.
gcp_ctl iam/unbind "{\"bucket\": \"fanout-in\", \"member\": \"serviceAccount:$sa\"}" >/dev/null
is 30 "$(grep -c '^fanout-in	data/f[0-9]*\.csv	' "$FANOUT_BASTION_DIR/store/fetch.list")" \
	"the host's fetch list names the 30 objects"
mkdir -p "$TEST_TMP/refetch"
(cd "$TEST_TMP/refetch" && head -1 "$FANOUT_BASTION_DIR/store/fetch.list" >list &&
	env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy -u GOOGLE_APPLICATION_CREDENTIALS \
	GCE_METADATA_HOST="127.0.0.1:$GCP_PORT" python3 "$top_srcdir/templates/gcs-fetch.py" list) \
	>"$TEST_TMP/refetch.out" 2>&1
is 1 "$?" "without the binding the host's fetch fails"
like "$(cat "$TEST_TMP/refetch.out")" "^#error gs://fanout-in/data/f01\.csv: HTTP 403: $sa does not have storage.objects.get access" \
	"for want of access, with one line"

m=$(gcp_log_lines)
"$FANOUT" cleanup "$id" --yes >/dev/null 2>"$TEST_TMP/cleanup.err"
ok $? "cleanup works" || diag "$(tail -5 "$TEST_TMP/cleanup.err")"
is "[]" "$(iam_state 's["accounts"]')" "cleanup deleted the account"
is "{'fanout-in': [], 'fanout-out': []}" "$(iam_state 's["policies"]')" "and removed its bindings"
like "$(cat "$TEST_TMP/cleanup.err")" "bucket_binding" "cleanup went through the bindings"
like "$(gcp_log_from "$m" | grep ' /iam/v1/')" "DELETE /iam/v1/projects/-/serviceAccounts/$sa query= body=" \
	"the account deleted as gcloud deletes it"
# setIamPolicy refused on the results' bucket (credentials without
# roles/storage.admin there): the create stops at the service account
# with one line naming the fix; the account and the inputs' binding it
# made are recorded, and cleanup removes them (the results' binding, in
# intent, found absent).
gcp_ctl inject '{"method": "PUT", "path": "^/storage/v1/b/fanout-out/iam$", "status": 403, "reason": "forbidden", "message": "fanout-test@fanout-test.iam.gserviceaccount.com does not have storage.buckets.setIamPolicy access to the Google Cloud Storage bucket.", "count": 1}' >/dev/null
rm -f "$TEST_TMP/id"
"$FANOUT" create "$gp" --provider gcp --engine bastion --yes >"$TEST_TMP/id" 2>"$TEST_TMP/create2.err"
isnt_rc=$?
ok "$([ $isnt_rc -ne 0 ]; echo $?)" "a create whose binding is refused fails"
like "$(grep '^fanout: ' "$TEST_TMP/create2.err")" "may not set the IAM policy of gs://fanout-out, which gives the machines' service account its access: grant roles/storage.admin on the bucket" \
	"with one line naming the role to grant"
id2=$(ls -t "$FANOUT_HISTORY_DIR"/fo-*.json | head -1 | xargs basename | sed 's/\.json$//')
ok "$([ -n "$id2" ] && [ "$id" != "$id2" ]; echo $?)" "a second run set"
is "deleted deleted deleted" "$(rec_get "$id2" '" ".join(x["state"] for x in r["resources"] if x["kind"] in ("service_account", "bucket_binding"))')" \
	"the failed create tore down the account and the inputs' binding it made, and the results' binding it had asked for"
"$FANOUT" cleanup "$id2" --yes >/dev/null 2>"$TEST_TMP/cleanup2.err"
ok $? "cleanup of the failed create works" || diag "$(tail -5 "$TEST_TMP/cleanup2.err")"
is "[] {'fanout-in': [], 'fanout-out': []}" "$(iam_state 's["accounts"]') $(iam_state 's["policies"]')" \
	"no account and no binding is left"
is 0 "$(gcp_ctl state | python3 -c 'import json,sys; s=json.load(sys.stdin); print(len(s["instances"]) + len(s["firewalls"]))')" \
	"no instance or firewall rule is left"
# kill -9 right after the account's create call and after a binding's
# change, before either reaches the record: cleanup finds them (the
# account by its e-mail, the binding in the bucket's policy) and
# removes them.
for kind in service_account bucket_binding; do
	FANOUT_CRASH_AFTER=$kind "$FANOUT" create "$gp" --provider gcp --engine bastion --no-run --yes \
		>/dev/null 2>&1
	is 137 $? "kill -9 after $kind: fanout was killed mid-create"
	idk=$(ls -t "$FANOUT_HISTORY_DIR"/fo-*.json | head -1 | xargs basename | sed 's/\.json$//')
	is intent "$(rec_get "$idk" '[x for x in r["resources"] if x["kind"] == "'$kind'"][-1]["state"]')" \
		"kill -9 after $kind: the record has it in intent"
	like "$(iam_state 's["accounts"]')" "fanout-$idk@" "kill -9 after $kind: the account was made"
	"$FANOUT" cleanup "$idk" --yes >/dev/null 2>"$TEST_TMP/cleanup.$kind.err"
	ok $? "kill -9 after $kind: cleanup works" || diag "$(tail -5 "$TEST_TMP/cleanup.$kind.err")"
	is "[] {'fanout-in': [], 'fanout-out': []}" "$(iam_state 's["accounts"]') $(iam_state 's["policies"]')" \
		"kill -9 after $kind: no account and no binding is left"
done
# Orphans: a run set whose record is gone; its account is found by its
# description and deleted.
"$FANOUT" create "$gp" --provider gcp --engine bastion --no-run --yes >"$TEST_TMP/o.id" 2>/dev/null
orphan=$(cat "$TEST_TMP/o.id")
mv "$FANOUT_HISTORY_DIR/$orphan.json" "$TEST_TMP/"
list=$("$FANOUT" cleanup --orphans --provider gcp --json 2>/dev/null </dev/null |
	python3 -c 'import json,sys; print(" ".join(sorted(o["kind"] + ":" + o["name"] + ":" + o["run_set"] for o in json.load(sys.stdin))))')
like "$list" "service_account:fanout-$orphan:$orphan" \
	"cleanup --orphans --provider gcp finds the run set's service account"
"$FANOUT" cleanup --orphans --provider gcp --yes >/dev/null 2>"$TEST_TMP/orph.err"
ok $? "cleanup --orphans --yes exits 0" || diag "$(tail -5 "$TEST_TMP/orph.err")"
is "[]" "$(iam_state 's["accounts"]')" "the orphan account is deleted"
is 0 "$(gcp_outside)" "nothing went off loopback"

done_testing
