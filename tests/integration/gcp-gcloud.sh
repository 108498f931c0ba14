#!/bin/bash
# The stand-in held honest by gcloud (the reference client): pointed at it
# through CLOUDSDK_API_ENDPOINT_OVERRIDES_*, with a service-account key
# whose token_uri is the stand-in's, gcloud accepts its answers for every
# operation fanout uses; nothing leaves loopback. gcloud's requests per
# operation (method, path, query and body keys) are recorded and must be
# the ones in tests/fakes/gcloud-requests.txt, the reference a fanout
# client is compared with (GCP_RECORD=1 rewrites it). The JWT fanout signs
# is verified with openssl and its claims compared with gcloud's.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-gcp.sh"
plan_lazy

command -v gcloud >/dev/null 2>&1 || skip_all "gcloud not installed"
gcloud_setup || { cat "$GCP_DIR/gcloud-activate.out" >&2; bail "gcloud auth activate-service-account failed"; }
diag "$(gcloud version 2>/dev/null | head -1)"

REC="$GCP_DIR/gcloud-requests.txt"
: >"$REC"
# step NAME COMMAND...: runs gcloud, records its requests (no token
# requests: those are auth, checked below) under "## NAME".
step() {
	_name=$1
	shift
	_n=$(gcp_log_lines)
	gcloud "$@" >"$GCP_DIR/out" 2>"$GCP_DIR/err"
	_rc=$?
	{ echo "## $_name"; gcp_log_from "$_n" | grep -v '^POST /token '; } >>"$REC"
	return $_rc
}
Z=us-central1-a
I=compute/v1/projects/fanout-test/zones/$Z/instances

is "ok" "$(grep -q 'Activated service account' "$GCP_DIR/gcloud-activate.out" && echo ok)" \
	"gcloud activates the test key"
tok=$(gcp_token_entries | head -1)
like "$tok" '"jwt_verified": true' "the stand-in verifies gcloud's RS256 JWT with the key's public half"

step "instances create" compute instances create vm-a --zone $Z \
	--machine-type e2-small --image-family debian-12 \
	--image-project debian-cloud \
	--labels managed-by=fanout,fanout-run-set=r1 --tags fanout-r1 \
	--metadata 'block-project-ssh-keys=true,ssh-keys=fanout:ssh-ed25519 AAAAC3Nz fanout' \
	--shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring \
	--no-service-account --no-scopes
ok $? "gcloud compute instances create accepts the insert and its operation"
like "$(cat "$GCP_DIR/out")" 'vm-a +us-central1-a +e2-small .*192\.0\.2\.[0-9]+ +RUNNING' \
	"gcloud shows the instance RUNNING with its external address"

step "instances describe" compute instances describe vm-a --zone $Z \
	--format 'value(status,labels.fanout-run-set,shieldedInstanceConfig.enableSecureBoot)'
ok $? "gcloud compute instances describe accepts the instance"
is "RUNNING	r1	True" "$(cat "$GCP_DIR/out")" "the instance has its labels and Shielded VM settings"

step "instances stop" compute instances stop vm-a --zone $Z
ok $? "gcloud compute instances stop accepts the operation"
is "TERMINATED" "$(gcloud compute instances describe vm-a --zone $Z --format 'value(status)' 2>&1)" \
	"the stopped instance is TERMINATED"

step "instances start" compute instances start vm-a --zone $Z
ok $? "gcloud compute instances start accepts the operation"
is "RUNNING" "$(gcloud compute instances describe vm-a --zone $Z --format 'value(status)' 2>&1)" \
	"the started instance is RUNNING"

step "instances list" compute instances list --filter 'labels.fanout-run-set=r1' \
	--format 'value(name,zone.basename())'
ok $? "gcloud compute instances list accepts the aggregated list"
is "vm-a	us-central1-a" "$(cat "$GCP_DIR/out")" "the list finds the instance by its label"

step "instances delete" compute instances delete vm-a --zone $Z --quiet
ok $? "gcloud compute instances delete accepts the operation"
gcloud compute instances describe vm-a --zone $Z >/dev/null 2>"$GCP_DIR/err"
like "$(cat "$GCP_DIR/err")" "The resource '.*vm-a' was not found" \
	"gcloud reads the stand-in's notFound error body"

step "firewall-rules create" compute firewall-rules create fanout-r1-ssh \
	--network default --direction INGRESS --allow tcp:22 \
	--source-ranges 203.0.113.7/32 --target-tags fanout-r1
ok $? "gcloud compute firewall-rules create accepts the global operation"
like "$(cat "$GCP_DIR/out")" 'fanout-r1-ssh +default +INGRESS +1000 +tcp:22' \
	"gcloud shows the rule"
step "firewall-rules delete" compute firewall-rules delete fanout-r1-ssh --quiet
ok $? "gcloud compute firewall-rules delete accepts the operation"
is "[]" "$(curl -s --noproxy '*' "$GCP_URL/_fake/state" | python3 -c 'import json,sys; print(json.load(sys.stdin)["firewalls"])')" \
	"no firewall rule is left"

# Errors as Google gives them: a quota error inside an insert's operation,
# a quotaExceeded answer to the call itself, and a 503 retried.
gcp_ctl inject '{"method": "POST", "path": "/instances$", "op_error": {"code": "QUOTA_EXCEEDED", "message": "Quota '"'CPUS'"' exceeded.  Limit: 8.0 in region us-central1."}, "count": 1}' >/dev/null
gcloud compute instances create vm-q --zone $Z --machine-type e2-small \
	--image-family debian-12 --image-project debian-cloud >/dev/null 2>"$GCP_DIR/err"
rc=$?
ok $((rc == 0)) "gcloud reports an operation that failed as a failure"
like "$(cat "$GCP_DIR/err")" "Quota 'CPUS' exceeded" "gcloud reads the operation's error"
gcp_ctl inject '{"method": "POST", "path": "/instances$", "status": 403, "reason": "quotaExceeded", "message": "Quota '"'INSTANCES'"' exceeded.  Limit: 24.0 in region us-central1.", "count": 1}' >/dev/null
gcloud compute instances create vm-q --zone $Z --machine-type e2-small \
	--image-family debian-12 --image-project debian-cloud >/dev/null 2>"$GCP_DIR/err"
rc=$?
ok $((rc == 0)) "gcloud fails on a quotaExceeded answer"
like "$(cat "$GCP_DIR/err")" "Quota 'INSTANCES' exceeded" "gcloud reads the error body's message"
# gcloud 528's compute commands do not retry a 503 (apitools with no
# retries): it must still read the stand-in's error body.
n=$(gcp_log_lines)
gcp_ctl inject '{"method": "GET", "path": "/zones/us-central1-a$", "status": 503, "reason": "backendError", "message": "The service is currently unavailable.", "count": 1}' >/dev/null
gcloud compute zones describe $Z --format 'value(status)' >"$GCP_DIR/out" 2>"$GCP_DIR/err"
rc=$?
ok $((rc == 0)) "gcloud compute fails on an injected 503"
like "$(cat "$GCP_DIR/err")" "The service is currently unavailable" \
	"and reads its Google error body"
is "503" "$(tail -n +"$((n + 1))" "$GCP_LOG" | python3 -c '
import json, sys
print(" ".join(str(json.loads(l)["status"]) for l in sys.stdin))')" \
	"gcloud compute made one attempt"

# Cloud Storage.
gcp_ctl bucket '{"name": "fanout-bkt"}' >/dev/null
printf 'hello from fanout\n' >"$GCP_DIR/in.txt"
step "storage cp upload" storage cp "$GCP_DIR/in.txt" gs://fanout-bkt/inputs/a.txt
ok $? "gcloud storage cp uploads to the stand-in"
n=$(gcp_log_lines)
gcp_ctl inject '{"method": "GET", "path": "^/storage/v1/b/fanout-bkt/o$", "status": 503, "reason": "backendError", "count": 1}' >/dev/null
gcloud storage ls gs://fanout-bkt/ >"$GCP_DIR/out" 2>"$GCP_DIR/err"
ok $? "gcloud storage ls lists the bucket through an injected 503"
is "503 200" "$(tail -n +"$((n + 1))" "$GCP_LOG" | python3 -c '
import json, sys
print(" ".join(str(json.loads(l)["status"]) for l in sys.stdin))')" \
	"gcloud storage retried the 503"
step "storage ls bucket" storage ls gs://fanout-bkt/
ok $? "gcloud storage ls lists the bucket"
is "gs://fanout-bkt/inputs/" "$(cat "$GCP_DIR/out")" "the listing has the prefix"
step "storage ls prefix" storage ls gs://fanout-bkt/inputs/
ok $? "gcloud storage ls lists a prefix"
is "gs://fanout-bkt/inputs/a.txt" "$(cat "$GCP_DIR/out")" "the listing has the object"
step "storage cp download" storage cp gs://fanout-bkt/inputs/a.txt "$GCP_DIR/back.txt"
ok $? "gcloud storage cp downloads from the stand-in"
check "the object came back the same" cmp "$GCP_DIR/in.txt" "$GCP_DIR/back.txt"
gcloud storage ls gs://no-such-bkt/ >/dev/null 2>"$GCP_DIR/err"
like "$(cat "$GCP_DIR/err")" "bucket does not exist|not found|404" \
	"gcloud reads a missing bucket's error"

is 0 "$(gcp_outside)" "gcloud sent nothing off loopback"
is 0 "$(gcp_unknown)" "gcloud asked for nothing the stand-in does not serve"
[ "$(gcp_unknown)" = 0 ] || diag "$(grep '"unknown": true' "$GCP_LOG" | head -5)"

# The reference of gcloud's requests.
if [ -n "${GCP_RECORD:-}" ]; then
	cp "$REC" "$top_srcdir/tests/fakes/gcloud-requests.txt"
	diag "rewrote tests/fakes/gcloud-requests.txt"
fi
d=$(diff "$top_srcdir/tests/fakes/gcloud-requests.txt" "$REC")
is "" "$d" "gcloud's requests per operation are the recorded reference"

# fanout's REST client (tests/gcp-driver) makes the same requests as
# gcloud for the calls that carry no body: stop, start's call, delete,
# firewall-rules delete (method and path; gcloud adds alt=json).
gcp_key "$GCP_DIR/fanout-key.json"
export GOOGLE_APPLICATION_CREDENTIALS="$GCP_DIR/fanout-key.json"
gcloud compute instances create vm-b --zone $Z --machine-type e2-small \
	--image-family debian-12 --image-project debian-cloud >/dev/null 2>&1
gcloud compute firewall-rules create fanout-r1-ssh --network default \
	--allow tcp:22 --source-ranges 203.0.113.7/32 >/dev/null 2>&1
ours() { # ours NAME METHOD PATH: the driver's requests, as the reference's
	_n=$(gcp_log_lines)
	"$GCP_DRIVER" op "$2" "$3" >/dev/null 2>&1
	{ echo "## $1"; gcp_log_from "$_n" | grep -v '^POST /token ' |
		sed 's/ query=[^ ]*//; s/vm-b/vm-a/'; }
}
theirs() { sed -n "/^## $1\$/,/^## /p" "$top_srcdir/tests/fakes/gcloud-requests.txt" |
	sed '$!b; /^## /d' | sed 's/ query=[^ ]*//'; }
for c in "instances stop|POST|projects/fanout-test/zones/$Z/instances/vm-b/stop" \
	"instances delete|DELETE|projects/fanout-test/zones/$Z/instances/vm-b" \
	"firewall-rules delete|DELETE|projects/fanout-test/global/firewalls/fanout-r1-ssh"; do
	IFS='|' read -r name method path <<<"$c"
	is "$(theirs "$name")" "$(ours "$name" "$method" "$path")" \
		"fanout's requests for $name are gcloud's"
done
unset GOOGLE_APPLICATION_CREDENTIALS

# The JWT fanout signs: verified with openssl against the key's public
# half, and its claims beside the ones gcloud sent to the same endpoint.
jwt=$(GOOGLE_APPLICATION_CREDENTIALS="$GCP_DIR/fanout-key.json" "$GCP_DRIVER" jwt)
ok $? "fanout signs a JWT with the key"
printf '%s' "${jwt%.*}" >"$GCP_DIR/jwt.input"
printf '%s' "${jwt##*.}" | tr '_-' '/+' | python3 -c '
import base64, sys
s = sys.stdin.read(); sys.stdout.buffer.write(base64.b64decode(s + "=" * (-len(s) % 4)))' >"$GCP_DIR/jwt.sig"
is "Verified OK" "$(openssl dgst -sha256 -verify "$GCP_DIR/pub.pem" -signature "$GCP_DIR/jwt.sig" "$GCP_DIR/jwt.input" 2>&1)" \
	"openssl dgst -sha256 -verify accepts fanout's JWT signature"
n=$(gcp_log_lines)
GOOGLE_APPLICATION_CREDENTIALS="$GCP_DIR/fanout-key.json" "$GCP_DRIVER" tokens 1 >/dev/null
ok $? "the stand-in gives fanout a token for its JWT"
cmp=$(python3 - "$GCP_LOG" "$n" <<'PY'
import json, sys
es = [json.loads(l) for l in open(sys.argv[1])]
mine = [e for e in es[int(sys.argv[2]):] if e["path"] == "/token"][0]
theirs = [e for e in es[:int(sys.argv[2])] if e["path"] == "/token"
          and "scope" in e.get("jwt_claims", {})][0]
a, b = mine["jwt_claims"], theirs["jwt_claims"]
print("verified=%s header=%s/%s claims=%s/%s aud=%s iss=%s life=%d/%d scope-in-gcloud's=%s body=%s/%s kid=%s" % (
    mine["jwt_verified"], ",".join(sorted(mine["jwt_header"])),
    ",".join(sorted(theirs["jwt_header"])), ",".join(sorted(a)),
    ",".join(sorted(b)), a["aud"] == b["aud"], a["iss"] == b["iss"], a["exp"] - a["iat"],
    b["exp"] - b["iat"], a["scope"] in b["scope"].split(),
    ",".join(mine["body_keys"]), ",".join(theirs["body_keys"]),
    mine["jwt_header"]["kid"] == "0123456789abcdef0123456789abcdef01234567"))
PY
)
is "verified=True header=alg,kid,typ/alg,kid,typ claims=aud,exp,iat,iss,scope/aud,exp,iat,iss,scope aud=True iss=True life=3600/3600 scope-in-gcloud's=True body=assertion,grant_type/assertion,grant_type kid=True" \
	"$cmp" "fanout's JWT has gcloud's header and claims (aud, lifetime, a scope gcloud asks too)"

# The guard itself: gcloud without the compute override heads for
# compute.googleapis.com, and the stand-in (as proxy) catches it.
(unset CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE
 gcloud compute zones describe $Z >/dev/null 2>&1)
like "$(grep '"outside": true' "$GCP_LOG")" '"path": "compute.googleapis.com:443"' \
	"the loopback guard catches a call to Google's own endpoint"

done_testing
