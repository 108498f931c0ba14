#!/bin/bash
# The stand-in's IAM and bucket IAM (tests/fakes/gcp_fake_iam.py) held
# honest by gcloud: `gcloud iam service-accounts create|describe|list|
# delete` and `gcloud storage buckets add-iam-policy-binding|
# remove-iam-policy-binding|get-iam-policy` accept its answers, and the
# requests gcloud sends for them have the method, path and body keys that
# fanout's gcp-role.c sends (the same lines gcp-bucket.sh checks in
# fanout's own requests).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-gcp.sh"
plan_lazy

command -v gcloud >/dev/null 2>&1 || skip_all "gcloud not installed"
gcloud_setup || { cat "$GCP_DIR/gcloud-activate.out" >&2; bail "gcloud auth activate-service-account failed"; }
gcp_ctl bucket '{"name": "fanout-in"}' >/dev/null

# step COMMAND...: runs gcloud; its requests (no token requests) in $REQ.
step() {
	_n=$(gcp_log_lines)
	gcloud "$@" >"$GCP_DIR/out" 2>"$GCP_DIR/err"
	_rc=$?
	REQ=$(gcp_log_from "$_n" | grep -v '^POST /token ' | sed 's/ query=alt / query= /; s/ query=alt,fields,/ query=/')
	return $_rc
}
SA=fanout-fo-20261130-abcd@fanout-test.iam.gserviceaccount.com

step iam service-accounts create fanout-fo-20261130-abcd \
	--display-name "fanout run set fo-20261130-abcd" \
	--description "fanout run set fo-20261130-abcd (project demo)"
ok $? "gcloud iam service-accounts create accepts the answer" || diag "$(cat "$GCP_DIR/err")"
is "POST /iam/v1/projects/fanout-test/serviceAccounts query= body=accountId,serviceAccount" "$REQ" \
	"gcloud's create: the method, path and body keys fanout sends"

step iam service-accounts describe "$SA" --format 'value(email,displayName)'
ok $? "gcloud iam service-accounts describe accepts the account" || diag "$(cat "$GCP_DIR/err")"
is "$SA	fanout run set fo-20261130-abcd" "$(cat "$GCP_DIR/out")" "the account has its e-mail and display name"
is "GET /iam/v1/projects/-/serviceAccounts/$SA query= body=" "$REQ" "gcloud's get: the path fanout reads"

step iam service-accounts list --format 'value(email)'
ok $? "gcloud iam service-accounts list accepts the list" || diag "$(cat "$GCP_DIR/err")"
is "$SA" "$(cat "$GCP_DIR/out")" "the list has the account"

step iam service-accounts create fanout-fo-20261130-abcd
isnt_rc=$?
ok "$([ $isnt_rc -ne 0 ]; echo $?)" "a second create is refused"
like "$(cat "$GCP_DIR/err")" "already exists" "gcloud reads the stand-in's ALREADY_EXISTS body"

step storage buckets add-iam-policy-binding gs://fanout-in --member "serviceAccount:$SA" \
	--role roles/storage.objectViewer
ok $? "gcloud storage buckets add-iam-policy-binding accepts the policy" || diag "$(cat "$GCP_DIR/err")"
is "GET /storage/v1/b/fanout-in/iam query=optionsRequestedPolicyVersion body=
PUT /storage/v1/b/fanout-in/iam query= body=bindings,etag,kind,resourceId,version" "$REQ" \
	"gcloud's binding: getIamPolicy then setIamPolicy with the etag, as fanout does"
step storage buckets get-iam-policy gs://fanout-in --format json
ok $? "gcloud storage buckets get-iam-policy accepts the policy" || diag "$(cat "$GCP_DIR/err")"
like "$(python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); print([b for b in p["bindings"] if b["role"] == "roles/storage.objectViewer"])' "$GCP_DIR/out")" \
	"serviceAccount:$SA" "the policy binds the account"

step storage buckets remove-iam-policy-binding gs://fanout-in --member "serviceAccount:$SA" \
	--role roles/storage.objectViewer
ok $? "gcloud storage buckets remove-iam-policy-binding accepts the policy" || diag "$(cat "$GCP_DIR/err")"
is "[]" "$(gcp_ctl iam/state | python3 -c 'import json,sys; print(json.load(sys.stdin)["policies"]["fanout-in"])')" \
	"the binding is gone"

step iam service-accounts delete "$SA" --quiet
ok $? "gcloud iam service-accounts delete accepts the answer" || diag "$(cat "$GCP_DIR/err")"
is "DELETE /iam/v1/projects/-/serviceAccounts/$SA query= body=" "$REQ" "gcloud's delete: the path fanout deletes"
step iam service-accounts describe "$SA"
isnt_rc=$?
ok "$([ $isnt_rc -ne 0 ]; echo $?)" "the account is gone"
like "$(cat "$GCP_DIR/err")" "NOT_FOUND|not found|does not exist" "gcloud reads the stand-in's NOT_FOUND body"
is 0 "$(gcp_outside)" "nothing went off loopback"
is 0 "$(gcp_unknown)" "gcloud asked for nothing the stand-in does not serve"

done_testing
