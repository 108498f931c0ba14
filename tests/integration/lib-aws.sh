# Helpers for the AWS tests: one moto_server per test script on a free
# loopback port, a checkip stand-in, fake credentials, and queries through
# the aws CLI (an independent client). Source after lib.sh.
# shellcheck shell=bash

command -v moto_server >/dev/null 2>&1 || skip_all "moto_server not installed"
command -v aws >/dev/null 2>&1 || skip_all "aws CLI not installed"

# Never the user's own AWS settings: a home of our own, fake keys.
export HOME="$TEST_TMP/home"
mkdir -p "$HOME"
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_CONFIG_FILE \
	AWS_SHARED_CREDENTIALS_FILE AWS_ENDPOINT_URL_EC2 AWS_ENDPOINT_URL_STS \
	AWS_ENDPOINT_URL_SSM AWS_MAX_ATTEMPTS
# Nor the user's Google Cloud ones (unless lib-gcp.sh set up its stand-in):
# with nothing set up there, fanout's searches across providers skip GCP.
if [ -z "${GCP_URL:-}" ]; then
	unset GOOGLE_APPLICATION_CREDENTIALS GOOGLE_CLOUD_PROJECT \
		CLOUDSDK_CORE_PROJECT CLOUDSDK_CONFIG \
		CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE \
		CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE
fi
export AWS_ACCESS_KEY_ID=AKIAFANOUTTESTKEY01
export AWS_SECRET_ACCESS_KEY=fanoutTestSecret/NeverInRecords+0123456789
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_PAGER=""

# moto's instances have made-up public addresses: never let a test reach
# one. A create or resume that runs the project goes to this closed
# loopback port instead (and gives up after a few seconds), unless the
# test starts an sshd and points FANOUT_BASTION_ADDRESS at it.
export FANOUT_BASTION_ADDRESS="$(id -un)@127.0.0.1:$(free_port)"
export FANOUT_SSH_WAIT=3

# moto's image catalogue lacks Debian, whose images cluster VMs run
# (engine os "debian-12"): moto reads its whole catalogue from
# MOTO_AMIS_PATH when set, so the file holds moto's own images (and its
# newest for us-east-1, which that variable would otherwise drop), plus a
# Debian 12 image as Debian publishes them (owner 136693071363, name
# debian-12-amd64-DATE-BUILD) and two that must not be taken (arm64,
# backports). Their ids are this test's. (No creation dates: moto 5.2
# parses them in place, and a second region's backend then fails.)
DEBIAN12_AMI=ami-0d12a0000000e0717
python3 - "$TEST_TMP/amis.json" "$DEBIAN12_AMI" <<'PY' || bail "cannot write moto's image list"
import gzip, json, os, sys
import moto
res = os.path.join(os.path.dirname(moto.__file__), "ec2", "resources")
amis = []
for f in ("amis.json.gz", "latest_amis/us-east-1.json.gz"):
    with gzip.open(os.path.join(res, f)) as fh:
        amis += json.load(fh)
def debian(ami, name, arch="x86_64"):
    return {"ami_id": ami, "name": name, "description": "Debian 12 (%s)" % name,
            "owner_id": "136693071363", "public": True, "state": "available",
            "architecture": arch, "virtualization_type": "hvm",
            "hypervisor": "xen", "image_type": "machine",
            "root_device_type": "ebs", "root_device_name": "/dev/xvda",
            "sriov": "simple", "platform": None}
amis += [debian(sys.argv[2], "debian-12-amd64-20240717-1811"),
         debian("ami-0d12a0000000a0801", "debian-12-arm64-20240717-1811",
                "arm64"),
         debian("ami-0d12a0000000b0801",
                "debian-12-backports-amd64-20240717-1811")]
json.dump(amis, open(sys.argv[1], "w"))
PY

MOTO_PORT=$(free_port)
MOTO_AMIS_PATH="$TEST_TMP/amis.json" moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$TEST_TMP/moto.log" 2>&1 &
MOTO_PID=$!
at_exit "kill $MOTO_PID 2>/dev/null; wait $MOTO_PID 2>/dev/null"
wait_port "$MOTO_PORT" 60 || bail "moto_server did not start (see $TEST_TMP/moto.log)"
MOTO_URL="http://127.0.0.1:$MOTO_PORT"
export AWS_ENDPOINT_URL="$MOTO_URL"

CHECKIP_ADDR=203.0.113.7
CHECKIP_PORT=$(free_port)
python3 "$top_srcdir/tests/fakes/checkip.py" "$CHECKIP_PORT" "$CHECKIP_ADDR" &
CHECKIP_PID=$!
at_exit "kill $CHECKIP_PID 2>/dev/null"
wait_port "$CHECKIP_PORT" 20 || bail "checkip stand-in did not start"
export FANOUT_CHECKIP_URL="http://127.0.0.1:$CHECKIP_PORT/"

# The aws CLI, always against moto (its own endpoint flag, to be sure).
awsq() { aws --endpoint-url "$MOTO_URL" --region us-east-1 --output text "$@"; }

# Forgets everything moto holds (between cases).
moto_reset() { curl -s -X POST "$MOTO_URL/moto-api/reset" >/dev/null; }

# An EC2 Query-API call straight to moto with curl (moto does not check
# signatures; the Authorization header only names region and service).
# Faster than the aws CLI, and just as independent of fanout.
ec2q() { # ec2q Action [k=v ...]
	_q="Action=$1&Version=2016-11-15"
	shift
	for _kv in "$@"; do _q="$_q&$_kv"; done
	curl -s "$MOTO_URL/" -d "$_q" -H 'Authorization: AWS4-HMAC-SHA256 Credential=AKIAFANOUTTESTKEY01/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0'
}

# Counts of fanout-tagged resources still there, as "instances sgs keys".
tagged_counts() {
	_f='Filter.1.Name=tag:managedBy&Filter.1.Value.1=fanout'
	_i=$(ec2q DescribeInstances "$_f" 'Filter.2.Name=instance-state-name' \
		'Filter.2.Value.1=pending' 'Filter.2.Value.2=running' \
		'Filter.2.Value.3=stopping' 'Filter.2.Value.4=stopped' \
		'Filter.2.Value.5=shutting-down' | grep -o '<instanceId>' | wc -l)
	_s=$(ec2q DescribeSecurityGroups "$_f" | grep -o '<groupName>' | wc -l)
	_k=$(ec2q DescribeKeyPairs "$_f" | grep -o '<keyPairId>' | wc -l)
	echo "$_i $_s $_k"
}

# The one record in the history dir (the newest), and a field of it.
newest_id() { ls -t "$FANOUT_HISTORY_DIR"/*.json 2>/dev/null | head -1 | xargs -r basename -s .json; }
rec_get() { # rec_get ID PYTHON-EXPR-ON-r
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$FANOUT_HISTORY_DIR/$1.json" "$2" 2>/dev/null
}

# Starts the fault proxy in front of moto: proxy_start ARGS...; sets
# PROXY_URL and PROXY_LOG.
proxy_start() {
	PROXY_PORT=$(free_port)
	PROXY_LOG="$TEST_TMP/proxy.$PROXY_PORT.log"
	python3 "$top_srcdir/tests/fakes/faultproxy.py" "$PROXY_PORT" "$MOTO_URL" \
		--log "$PROXY_LOG" "$@" 2>"$PROXY_LOG.err" &
	PROXY_PID=$!
	at_exit "kill $PROXY_PID 2>/dev/null"
	wait_port "$PROXY_PORT" 20 || bail "fault proxy did not start"
	PROXY_URL="http://127.0.0.1:$PROXY_PORT"
}
proxy_stop() { kill "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null; }
# The proxy has answered every request it took (a killed client's last
# calls have reached moto, or been refused).
proxy_idle() { [ "$(awk '{print $6}' "$PROXY_LOG" 2>/dev/null)" = 0 ]; }

# What EC2 holds of one run set, by its tag (aws CLI): "instance-states
# security-groups key-pairs", e.g. "stopped 1 1"; "- 0 0" when nothing.
set_of() {
	_f="Name=tag:fanout:run-set,Values=$1"
	_i=$(awsq ec2 describe-instances --filters "$_f" \
		--query 'Reservations[].Instances[].State.Name' | tr -s '\t\n' ' ' |
		sed 's/ *$//')
	_s=$(awsq ec2 describe-security-groups --filters "$_f" \
		--query 'SecurityGroups[].GroupId' | wc -w)
	_k=$(awsq ec2 describe-key-pairs --filters "$_f" \
		--query 'KeyPairs[].KeyPairId' | wc -w)
	echo "${_i:--} $_s $_k"
}
set_is() { [ "$(set_of "$1")" = "$2" ]; }
# The state of run set $1's record is $2.
state_is() { [ "$(rec_get "$1" 'r["state"]')" = "$2" ]; }
# The s3 tests' project in DIR: inputs from GLOB (a folder's or a bucket's),
# results to the bucket URL RESULTS when given; each task reports what it
# read (its size, checksum and first line).
s3_mkproj() { # s3_mkproj DIR GLOB [RESULTS]
	mkdir -p "$1"
	cat >"$1/entrypoint" <<'SH'
#!/bin/sh
set -eu
sum=$(cksum <"$1" | cut -d' ' -f1)
printf '{"bytes": %s, "cksum": %s, "first": "%s"}\n' "$(wc -c <"$1")" "$sum" "$(head -1 "$1")"
SH
	chmod +x "$1/entrypoint"
	printf 'name: s3-demo\nentrypoint: ./entrypoint\ninputs:\n  glob: %s\nworkers: 4\n' \
		"$2" >"$1/fanout.yaml"
	[ -z "${3:-}" ] || printf 'results: %s\n' "$3" >>"$1/fanout.yaml"
}
