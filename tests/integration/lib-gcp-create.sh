# Helpers for the tests that run fanout's GCP provider end to end against
# the stand-in (gcp-crash.sh, gcp-bad-input.sh, gcp-faults.sh,
# gcp-crosscheck.sh): a key in GOOGLE_APPLICATION_CREDENTIALS, a checkip
# stand-in, no SSH host (a create with --no-run reaches none), what the
# stand-in still holds, and the records. Source after lib-gcp.sh.
# shellcheck shell=bash

gcp_key "$GCP_DIR/sa.json"
export GOOGLE_APPLICATION_CREDENTIALS="$GCP_DIR/sa.json"

CHECKIP_ADDR=203.0.113.7
CHECKIP_PORT=$(free_port)
python3 "$top_srcdir/tests/fakes/checkip.py" "$CHECKIP_PORT" "$CHECKIP_ADDR" &
CHECKIP_PID=$!
at_exit "kill $CHECKIP_PID 2>/dev/null"
wait_port "$CHECKIP_PORT" 20 || bail "checkip stand-in did not start"
export FANOUT_CHECKIP_URL="http://127.0.0.1:$CHECKIP_PORT/"
# The stand-in's addresses are made up: a run that would reach one goes to
# this closed loopback port and gives up soon.
export FANOUT_BASTION_ADDRESS="$(id -un)@127.0.0.1:$(free_port)"
export FANOUT_SSH_WAIT=3

# What the stand-in holds of fanout's: "INSTANCES FIREWALLS", counting
# instances labelled managed-by=fanout and rules named fanout-*.
gcp_left() {
	curl -s --noproxy '*' "$GCP_URL/_fake/state" | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(sum(1 for i in s["instances"]
          if i.get("labels", {}).get("managed-by") == "fanout"),
      sum(1 for f in s["firewalls"] if f["name"].startswith("fanout-")))'
}
gcp_reset() { gcp_ctl reset >/dev/null; rm -rf "$FANOUT_HISTORY_DIR"; }

newest_id() { ls -t "$FANOUT_HISTORY_DIR"/*.json 2>/dev/null | head -1 | xargs -r basename -s .json; }
rec_get() { # rec_get ID PYTHON-EXPR-ON-r
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$FANOUT_HISTORY_DIR/$1.json" "$2" 2>/dev/null
}
# res_get ID KIND EXPR-ON-x: of the record's first resource of KIND.
res_get() {
	rec_get "$1" "[x for x in r['resources'] if x['kind']=='$2'][0]$3"
}

# A project to create for: the sleep example.
GCP_PROJ=$(example sleep)
gcp_create() { # gcp_create ARGS...: fanout create --provider gcp --no-run
	"$FANOUT" create --provider gcp --no-run "$GCP_PROJ" --yes "$@"
}
