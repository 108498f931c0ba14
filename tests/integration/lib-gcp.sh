# Helpers for the Google Cloud tests: a service-account key made now with
# openssl (no key material in the tree), the recording stand-in
# tests/fakes/gcp_fake.py on a free loopback port (it also serves as the
# HTTP(S) proxy, so that any call that would leave loopback is logged as
# "outside" and refused), and gcloud pointed at it. Source after lib.sh.
# shellcheck shell=bash

command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"
command -v openssl >/dev/null 2>&1 || skip_all "openssl not installed"
: "${GCP_DRIVER:=$(dirname "$FANOUT")/tests/gcp-driver}"
[ -x "$GCP_DRIVER" ] || skip_all "tests/gcp-driver not built"

# Never the user's own Google settings.
export HOME="$TEST_TMP/home"
mkdir -p "$HOME"
unset GOOGLE_APPLICATION_CREDENTIALS GOOGLE_CLOUD_PROJECT \
	CLOUDSDK_CORE_PROJECT CLOUDSDK_CONFIG CLOUDSDK_AUTH_TOKEN_HOST_OVERRIDE \
	CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE \
	CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE CLOUDSDK_ACTIVE_CONFIG_NAME

GCP_DIR="$TEST_TMP/gcp"
mkdir -p "$GCP_DIR"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	-out "$GCP_DIR/key.pem" 2>/dev/null || bail "openssl cannot make a key"
openssl pkey -in "$GCP_DIR/key.pem" -pubout -out "$GCP_DIR/pub.pem" ||
	bail "openssl cannot extract the public key"

GCP_PORT=$(free_port)
GCP_URL="http://127.0.0.1:$GCP_PORT"
GCP_LOG="$GCP_DIR/requests.jsonl"
: >"$GCP_LOG"
python3 "$top_srcdir/tests/fakes/gcp_fake.py" "$GCP_PORT" \
	--pubkey "$GCP_DIR/pub.pem" --log "$GCP_LOG" --project fanout-test \
	2>"$GCP_DIR/fake.err" &
GCP_PID=$!
at_exit "kill $GCP_PID 2>/dev/null; wait $GCP_PID 2>/dev/null"
wait_port "$GCP_PORT" 20 || bail "gcp stand-in did not start (see $GCP_DIR/fake.err)"

export CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE="$GCP_URL/compute/v1/"
export CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE="$GCP_URL/storage/v1/"
export CLOUDSDK_API_ENDPOINT_OVERRIDES_IAM="$GCP_URL/iam/"
# Whatever is not overridden would leave loopback: through the stand-in
# as proxy, which logs it ("outside") and refuses it.
export HTTP_PROXY="$GCP_URL" HTTPS_PROXY="$GCP_URL" \
	http_proxy="$GCP_URL" https_proxy="$GCP_URL" \
	NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

# gcp_key FILE [PROJECT [FIELD-TO-DROP]]: a service-account key file as
# Google issues them, with the test key and the stand-in's token_uri.
gcp_key() {
	python3 - "$1" "$GCP_DIR/key.pem" "$GCP_URL" "${2:-fanout-test}" \
		"${3:-}" <<'PY'
import json, sys
out, pem, url, project, drop = sys.argv[1:]
key = {"type": "service_account", "project_id": project,
       "private_key_id": "0123456789abcdef0123456789abcdef01234567",
       "private_key": open(pem).read(),
       "client_email": "fanout-test@%s.iam.gserviceaccount.com" % project,
       "client_id": "101234567890123456789",
       "auth_uri": url + "/o/oauth2/auth", "token_uri": url + "/token",
       "auth_provider_x509_cert_url": url + "/oauth2/v1/certs",
       "client_x509_cert_url": url + "/robot/v1/metadata/x509/fanout-test",
       "universe_domain": "googleapis.com"}
key.pop(drop, None)
json.dump(key, open(out, "w"), indent=2)
PY
	chmod 600 "$1"
}

# gcp_ctl PATH [JSON]: a test control of the stand-in (/_fake/...).
gcp_ctl() {
	curl -s --noproxy '*' -X POST -H 'Content-Type: application/json' \
		-d "${2:-{\}}" "$GCP_URL/_fake/$1"
}

# Lines of the request log: gcp_log_lines; gcp_log_from N prints the
# entries after the first N as "METHOD PATH body=KEYS" (ids of
# operations replaced by OP so that runs compare).
gcp_log_lines() { wc -l <"$GCP_LOG"; }
gcp_log_from() {
	tail -n +"$(($1 + 1))" "$GCP_LOG" | python3 -c '
import json, re, sys
for l in sys.stdin:
    e = json.loads(l)
    p = re.sub(r"operation-[0-9a-z-]+", "OP", e["path"])
    print("%s %s query=%s body=%s" % (e["method"], p, ",".join(e["query"]),
                                      ",".join(e["body_keys"])))'
}
# Entries that went nowhere this stand-in serves (or off loopback).
gcp_unknown() { grep -c '"unknown": true' "$GCP_LOG"; }
gcp_outside() { grep -c '"outside": true' "$GCP_LOG"; }
# A field of the last token request's JWT: gcp_last_jwt EXPR-ON-e.
gcp_token_entries() { grep '"path": "/token"' "$GCP_LOG"; }

# gcloud against the stand-in, with a configuration of its own.
gcloud_setup() {
	command -v gcloud >/dev/null 2>&1 || return 1
	export CLOUDSDK_CONFIG="$GCP_DIR/gcloud"
	export CLOUDSDK_CORE_DISABLE_PROMPTS=1 \
		CLOUDSDK_CORE_DISABLE_USAGE_REPORTING=1 \
		CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK=1 \
		CLOUDSDK_CORE_CHECK_GCE_METADATA=false \
		CLOUDSDK_METRICS_ENVIRONMENT=fanout-test \
		CLOUDSDK_CORE_PROJECT=fanout-test
	# APIs gcloud may reach on the side, pointed here to be logged.
	for _api in IAMCREDENTIALS CLOUDRESOURCEMANAGER SERVICEUSAGE IAM \
		OSLOGIN LOGGING; do
		export "CLOUDSDK_API_ENDPOINT_OVERRIDES_$_api=$GCP_URL/$(echo "$_api" | tr 'A-Z' 'a-z')/"
	done
	gcp_key "$GCP_DIR/gcloud-key.json"
	gcloud auth activate-service-account --key-file "$GCP_DIR/gcloud-key.json" \
		>"$GCP_DIR/gcloud-activate.out" 2>&1
}
