#!/bin/bash
# Bad input on Google Cloud: each a one-line message naming what to fix,
# exit 2 (bad input) or 1 (a failure at run time), no record left
# half-made and nothing in the stand-in.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-gcp.sh"
. "$top_srcdir/tests/integration/lib-gcp-create.sh"
plan_lazy

KEY="$GCP_DIR/sa.json"
# Nothing half-made: no record, or only records whose resources are all
# deleted; and nothing in the stand-in.
nothing_made() {
	python3 - "$FANOUT_HISTORY_DIR" <<'PY'
import glob, json, os, sys
bad = []
for p in glob.glob(os.path.join(sys.argv[1], "*.json")):
    r = json.load(open(p))
    live = [x["kind"] for x in r.get("resources", []) if x.get("state") != "deleted"]
    if live:
        bad.append("%s: %s %s" % (r["id"], r.get("state"), ",".join(live)))
print("; ".join(bad) or "none")
PY
}
fails() { # fails STATUS REGEX DESCRIPTION -- command...
	_want=$1 _re=$2 _d=$3
	shift 4
	gcp_reset
	"$@" >"$TEST_TMP/bad.out" 2>"$TEST_TMP/bad.err"
	is "$_want" "$?" "$_d: exit $_want"
	like "$(grep '^fanout: ' "$TEST_TMP/bad.err")" "$_re" "$_d: says what is wrong and what to do"
	is 1 "$(grep -c '^fanout: ' "$TEST_TMP/bad.err")" "$_d: in one line" ||
		diag "$(cat "$TEST_TMP/bad.err")"
	is "none" "$(nothing_made)" "$_d: no record with live resources"
	is "0 0" "$(gcp_ctl settle >/dev/null; gcp_left)" "$_d: nothing in the stand-in"
}
with_key() { # with_key FILE command...: GOOGLE_APPLICATION_CREDENTIALS=FILE
	(
		GOOGLE_APPLICATION_CREDENTIALS=$1
		export GOOGLE_APPLICATION_CREDENTIALS
		shift
		"$@"
	)
}

# Keys.
printf '{"type": "service_account", "private_key": ' >"$GCP_DIR/cut.json"
fails 2 "credentials file $GCP_DIR/cut.json \(GOOGLE_APPLICATION_CREDENTIALS\) is not a JSON object" \
	"a key file that is not JSON" -- with_key "$GCP_DIR/cut.json" gcp_create
python3 -c 'import json,sys; k=json.load(open(sys.argv[1])); k["private_key"]="-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"; json.dump(k,open(sys.argv[2],"w"))' \
	"$KEY" "$GCP_DIR/badpem.json"
fails 2 "credentials file $GCP_DIR/badpem.json: field \"private_key\" is not a PEM RSA private key" \
	"a key whose private_key is no key" -- with_key "$GCP_DIR/badpem.json" gcp_create
gcp_key "$GCP_DIR/no-email.json" fanout-test client_email
fails 2 "credentials file $GCP_DIR/no-email.json: field \"client_email\" is missing" \
	"a key without client_email" -- with_key "$GCP_DIR/no-email.json" gcp_create
fails 2 "GOOGLE_APPLICATION_CREDENTIALS names $GCP_DIR/missing.json, which is not a file" \
	"GOOGLE_APPLICATION_CREDENTIALS naming no file" -- with_key "$GCP_DIR/missing.json" gcp_create
fails 2 "no Google Cloud credentials: GOOGLE_APPLICATION_CREDENTIALS is not set and $HOME/.config/gcloud/application_default_credentials.json does not exist; run gcloud auth application-default login, or set GOOGLE_APPLICATION_CREDENTIALS" \
	"no credentials at all: every place looked at" -- env -u GOOGLE_APPLICATION_CREDENTIALS "$FANOUT" create --provider gcp --no-run "$GCP_PROJ" --yes
# A key for another project: Google answers 403.
fails 2 "fanout-test@fanout-test.iam.gserviceaccount.com \(project fanout-test\) cannot use project other-proj: .*; set CLOUDSDK_CORE_PROJECT or use a key of other-proj" \
	"a key for another project" -- env CLOUDSDK_CORE_PROJECT=other-proj "$FANOUT" create --provider gcp --no-run "$GCP_PROJ" --yes
# A key the token endpoint refuses (signed by another key).
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$GCP_DIR/other.pem" 2>/dev/null
python3 -c 'import json,sys; k=json.load(open(sys.argv[1])); k["private_key"]=open(sys.argv[2]).read(); json.dump(k,open(sys.argv[3],"w"))' \
	"$KEY" "$GCP_DIR/other.pem" "$GCP_DIR/other.json"
fails 2 "token endpoint $GCP_URL/token refused the credentials of $GCP_DIR/other.json \(GOOGLE_APPLICATION_CREDENTIALS\): invalid_grant: Invalid JWT Signature" \
	"a key Google does not know" -- with_key "$GCP_DIR/other.json" gcp_create

# Zones and machine types.
if "$FANOUT" create --help 2>&1 | grep -q -- '--zone'; then
	fails 2 "zone us-central1-x does not exist in project fanout-test; .gcloud compute zones list. shows them" \
		"a zone that does not exist" -- gcp_create --zone us-central1-x
	fails 2 "zone europe-west1-b is in region europe-west1, not in us-central1; give a zone of us-central1" \
		"a zone outside the region" -- gcp_create --region us-central1 --zone europe-west1-b
else
	skip "create has no --zone in this build (the zone question is branch gcpwiz's): a zone that does not exist"
	skip "create has no --zone in this build: a zone outside the region"
fi
fails 2 "machine type 'n9-huge-512' is not offered in zone us-central1-[a-f]; choose one the zone has" \
	"a machine type the zone lacks" -- gcp_create --instance-type n9-huge-512

# A quota error in the instance insert's operation: one line, exit 1, the
# rule made before it torn down.
gcp_reset
gcp_ctl inject '{"method": "POST", "path": "/instances$", "op_error": {"code": "QUOTA_EXCEEDED", "message": "Quota '"'CPUS'"' exceeded.  Limit: 8.0 in region us-central1."}, "count": 1}' >/dev/null
gcp_create >"$TEST_TMP/q.out" 2>"$TEST_TMP/q.err"
is 1 $? "a quota error from the instance insert: exit 1"
like "$(grep '^fanout: ' "$TEST_TMP/q.err")" "QUOTA_EXCEEDED: Quota 'CPUS' exceeded.  Limit: 8.0 in region us-central1" \
	"a quota error: Google's code and message"
is 1 "$(grep -c '^fanout: ' "$TEST_TMP/q.err")" "a quota error: in one line" || diag "$(cat "$TEST_TMP/q.err")"
is "0 0" "$(gcp_ctl settle >/dev/null; gcp_left)" "a quota error: the firewall rule made before it is torn down"
is "none" "$(nothing_made)" "a quota error: no record with live resources"

# A healthy create still works after all that.
gcp_reset
gcp_create >"$TEST_TMP/ok.id" 2>"$TEST_TMP/ok.err"
ok $? "a create with good input succeeds" || diag "$(tail -3 "$TEST_TMP/ok.err")"
like "$(cat "$TEST_TMP/ok.err")" '\[zone\] us-central1-a \(picked by fanout: no zone was given\)' \
	"no zone given: the log says fanout picked it, not that it was chosen"
"$FANOUT" cleanup "$(cat "$TEST_TMP/ok.id")" --yes >/dev/null 2>&1
is "0 0" "$(gcp_left)" "and its cleanup leaves nothing"
is 0 "$(gcp_outside)" "nothing went off loopback"
done_testing
