#!/bin/bash
# Google Cloud credentials as fanout finds them (src/cloud/gcp-auth.c),
# through tests/gcp-driver against the stand-in's token endpoint: a
# service-account key from GOOGLE_APPLICATION_CREDENTIALS, gcloud's
# application-default file (authorized_user), the project's sources, the
# message when nothing is found, malformed keys, a key the endpoint
# refuses, a token reused and then refreshed before it expires, and no
# secret in any output.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-gcp.sh"
plan_lazy

drv() { "$GCP_DRIVER" "$@" 2>&1; }
KEY="$GCP_DIR/sa.json"
gcp_key "$KEY"

# A key from the environment.
out=$(GOOGLE_APPLICATION_CREDENTIALS="$KEY" drv whoami)
is "source=$KEY (GOOGLE_APPLICATION_CREDENTIALS)
project=fanout-test
project_from=$KEY
account=fanout-test@fanout-test.iam.gserviceaccount.com" "$out" \
	"a key from GOOGLE_APPLICATION_CREDENTIALS: its file, project and account"
out=$(GOOGLE_APPLICATION_CREDENTIALS="$KEY" GOOGLE_CLOUD_PROJECT=gp drv whoami | sed -n 2,3p)
is "project=gp
project_from=GOOGLE_CLOUD_PROJECT" "$out" "GOOGLE_CLOUD_PROJECT comes before the key's project"
out=$(GOOGLE_APPLICATION_CREDENTIALS="$KEY" GOOGLE_CLOUD_PROJECT=gp CLOUDSDK_CORE_PROJECT=cp drv whoami | sed -n 2,3p)
is "project=cp
project_from=CLOUDSDK_CORE_PROJECT" "$out" "CLOUDSDK_CORE_PROJECT comes first"

n=$(gcp_log_lines)
out=$(GOOGLE_APPLICATION_CREDENTIALS="$KEY" drv tokens 3)
is "fetches=1
fetches=1
fetches=1" "$out" "three headers, one token fetched (kept in memory)"
tok=$(tail -n +"$((n + 1))" "$GCP_LOG")
is 1 "$(printf '%s\n' "$tok" | grep -c '"path": "/token"')" "one token request reached the endpoint"
like "$tok" '"jwt_verified": true' "the endpoint verified the JWT's RS256 signature"
like "$tok" '"body_keys": \["assertion", "grant_type"\]' "the request is grant_type and assertion"
claims=$(printf '%s\n' "$tok" | python3 -c '
import json, sys
e = json.loads(sys.stdin.readline()); c = e["jwt_claims"]; h = e["jwt_header"]
print(h["alg"], h["typ"], h["kid"], c["iss"], c["scope"], c["aud"], c["exp"] - c["iat"])')
is "RS256 JWT 0123456789abcdef0123456789abcdef01234567 fanout-test@fanout-test.iam.gserviceaccount.com https://www.googleapis.com/auth/cloud-platform https://oauth2.googleapis.com/token 3600" \
	"$claims" "header alg/typ/kid and claims iss/scope/aud/exp-iat as google-auth makes them"

# Refreshed before it expires: still kept 226 s before the end, fetched
# anew 224 s before (google-auth's margin is 3 min 45 s).
out=$(GOOGLE_APPLICATION_CREDENTIALS="$KEY" drv refresh)
is "fetches=1
fetches=1
fetches=2" "$out" "the token is kept until 225 s before expiry, then fetched anew"

# gcloud's application-default file, a user's refresh token.
ADC="$GCP_DIR/cfg/application_default_credentials.json"
mkdir -p "$GCP_DIR/cfg" "$HOME/.config/gcloud"
adc() { # adc FILE [token_uri]
	python3 - "$1" "${2:-}" <<'PY'
import json, sys
d = {"type": "authorized_user", "client_id": "764086051850-test.apps.googleusercontent.com",
     "client_secret": "d-FL95Q19q7MQmFpd7hHD0Ty", "quota_project_id": "adc-proj",
     "refresh_token": "1//0fanoutTestRefreshTokenNeverShown"}
if sys.argv[2]:
    d["token_uri"] = sys.argv[2]
json.dump(d, open(sys.argv[1], "w"))
PY
}
adc "$ADC" "$GCP_URL/token"
n=$(gcp_log_lines)
out=$(CLOUDSDK_CONFIG="$GCP_DIR/cfg" drv whoami; CLOUDSDK_CONFIG="$GCP_DIR/cfg" drv tokens 2)
is "source=$ADC (application-default)
project=adc-proj
project_from=$ADC
account=-
fetches=1
fetches=1" "$out" "the application-default file in \$CLOUDSDK_CONFIG: a user, its quota project"
tok=$(tail -n +"$((n + 1))" "$GCP_LOG")
like "$tok" '"body_keys": \["client_id", "client_secret", "grant_type", "refresh_token"\]' \
	"the user's refresh token is exchanged at the file's token_uri"
# `gcloud config set project P` after the login: gcloud's [core] project
# of the active configuration names the project (as google-auth asks
# gcloud for it), before the file's quota project; the variables still
# come first.
mkdir -p "$GCP_DIR/cfg/configurations"
printf '[core]\nproject = cfg-proj\naccount = me@example.com\n' \
	>"$GCP_DIR/cfg/configurations/config_default"
out=$(CLOUDSDK_CONFIG="$GCP_DIR/cfg" drv whoami | sed -n 2,3p)
is "project=cfg-proj
project_from=gcloud's configuration default (core/project)" "$out" \
	"gcloud config set project: the user's project is gcloud's, not the quota project"
out=$(CLOUDSDK_CONFIG="$GCP_DIR/cfg" GOOGLE_CLOUD_PROJECT=gp drv whoami | sed -n 2p)
is "project=gp" "$out" "GOOGLE_CLOUD_PROJECT still comes before gcloud's project"
out=$(CLOUDSDK_CONFIG="$GCP_DIR/cfg" GOOGLE_APPLICATION_CREDENTIALS="$KEY" drv whoami | sed -n 2p)
is "project=fanout-test" "$out" "a service-account key's own project comes before gcloud's"
rm -rf "$GCP_DIR/cfg/configurations"
adc "$HOME/.config/gcloud/application_default_credentials.json"
n=$(gcp_log_lines)
out=$(CLOUDSDK_AUTH_TOKEN_HOST_OVERRIDE="$GCP_URL/token" drv tokens 1)
is "fetches=1" "$out" "~/.config/gcloud's file, the endpoint from CLOUDSDK_AUTH_TOKEN_HOST_OVERRIDE"
is 1 "$(tail -n +"$((n + 1))" "$GCP_LOG" | grep -c '"path": "/token"')" "its token came from the stand-in"
rm -f "$HOME/.config/gcloud/application_default_credentials.json"

# Nothing found: one line naming every place looked at.
out=$(drv whoami)
is "error -1: no Google Cloud credentials: GOOGLE_APPLICATION_CREDENTIALS is not set and $HOME/.config/gcloud/application_default_credentials.json does not exist; run gcloud auth application-default login, or set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file" \
	"$out" "nothing found: the message lists the variable and the file looked at"
out=$(CLOUDSDK_CONFIG="$GCP_DIR/none" drv whoami)
like "$out" "and $GCP_DIR/none/application_default_credentials.json does not exist" \
	"with CLOUDSDK_CONFIG the file looked at is there"
out=$(GOOGLE_APPLICATION_CREDENTIALS="$GCP_DIR/missing.json" drv whoami)
is "error -1: GOOGLE_APPLICATION_CREDENTIALS names $GCP_DIR/missing.json, which is not a file; point it at a service-account key file or unset it" \
	"$out" "a variable naming no file is an error, not a fall-through"

# Malformed keys: one line naming the file and the field.
for f in private_key client_email token_uri type; do
	gcp_key "$GCP_DIR/no-$f.json" fanout-test "$f"
	out=$(GOOGLE_APPLICATION_CREDENTIALS="$GCP_DIR/no-$f.json" drv whoami)
	like "$out" "^error -1: credentials file $GCP_DIR/no-$f.json: field \"$f\" is missing; " \
		"a key without $f: the file and the field are named"
	is 1 "$(printf '%s\n' "$out" | wc -l)" "in one line ($f)"
done
python3 -c 'import json,sys; k=json.load(open(sys.argv[1])); k["private_key"]="-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"; json.dump(k,open(sys.argv[2],"w"))' "$KEY" "$GCP_DIR/badpem.json"
out=$(GOOGLE_APPLICATION_CREDENTIALS="$GCP_DIR/badpem.json" drv whoami)
like "$out" "^error -1: credentials file $GCP_DIR/badpem.json: field \"private_key\" is not a PEM RSA private key" \
	"a private_key that is no key is named"
printf '{"type": "service_account", "private_key": ' >"$GCP_DIR/cut.json"
out=$(GOOGLE_APPLICATION_CREDENTIALS="$GCP_DIR/cut.json" drv whoami)
like "$out" "^error -1: credentials file $GCP_DIR/cut.json \(GOOGLE_APPLICATION_CREDENTIALS\) is not a JSON object \(line 1\)" \
	"a cut file is named as not JSON"
python3 -c 'import json,sys; k=json.load(open(sys.argv[1])); k["type"]="external_account"; json.dump(k,open(sys.argv[2],"w"))' "$KEY" "$GCP_DIR/ext.json"
out=$(GOOGLE_APPLICATION_CREDENTIALS="$GCP_DIR/ext.json" drv whoami)
like "$out" "field \"type\" is \"external_account\", not service_account or authorized_user" \
	"a kind of credentials fanout cannot use is named"

# A key the endpoint refuses (signed by another key): the endpoint's
# OAuth error in one line, and the project is still the key's.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$GCP_DIR/other.pem" 2>/dev/null
python3 -c 'import json,sys; k=json.load(open(sys.argv[1])); k["private_key"]=open(sys.argv[2]).read(); json.dump(k,open(sys.argv[3],"w"))' "$KEY" "$GCP_DIR/other.pem" "$GCP_DIR/other.json"
out=$(GOOGLE_APPLICATION_CREDENTIALS="$GCP_DIR/other.json" drv tokens 1)
is "error -1: token endpoint $GCP_URL/token refused the credentials of $GCP_DIR/other.json (GOOGLE_APPLICATION_CREDENTIALS): invalid_grant: Invalid JWT Signature. (HTTP 400)" \
	"$out" "a refused key: the endpoint's invalid_grant in one line"

# No secret in any output of the driver or in the stand-in's log.
all=$( (GOOGLE_APPLICATION_CREDENTIALS="$KEY" drv whoami; GOOGLE_APPLICATION_CREDENTIALS="$KEY" drv tokens 2; CLOUDSDK_CONFIG="$GCP_DIR/cfg" drv tokens 1) 2>&1)
pem_line=$(sed -n 2p "$GCP_DIR/key.pem")
hits=0
for s in "$pem_line" ya29. 1//0fanoutTestRefreshTokenNeverShown d-FL95Q19q7MQmFpd7hHD0Ty; do
	case "$all" in *"$s"*) hits=$((hits + 1)) ;; esac
	grep -qF -- "$s" "$GCP_LOG" && hits=$((hits + 1))
done
is 0 "$hits" "no key, token, refresh token or client secret in outputs or the request log"
is 0 "$(gcp_outside)" "nothing went off loopback"

done_testing
