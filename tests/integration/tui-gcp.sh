#!/bin/bash
# The create flow from the menu (tmux) with provider gcp, against the GCP
# stand-in (tests/fakes/gcp_fake.py) and a loopback sshd standing in for
# the VM: gcp chosen at the provider question, the region checked as a
# GCP region, the zone question (a zone of another region refused under
# the field, then one of the region's), engine bastion, the plan, the run
# and the results home; cleanup after leaves nothing in the stand-in. For
# aws the zone question is not asked.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-gcp.sh"
. "$top_srcdir/tests/integration/lib-tmux.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
plan_lazy

[ -f "$top_srcdir/src/cloud/gcp-provider.c" ] ||
	skip_all "provider gcp is not in this build"

CHECKIP_PORT=$(free_port)
python3 "$top_srcdir/tests/fakes/checkip.py" "$CHECKIP_PORT" 203.0.113.9 &
at_exit "kill $! 2>/dev/null"
wait_port "$CHECKIP_PORT" 20 || bail "checkip stand-in did not start"
export FANOUT_CHECKIP_URL="http://127.0.0.1:$CHECKIP_PORT/"
gcp_key "$GCP_DIR/sa.json"
export GOOGLE_APPLICATION_CREDENTIALS="$GCP_DIR/sa.json"
unset CLOUDSDK_COMPUTE_REGION CLOUDSDK_COMPUTE_ZONE AWS_DEFAULT_REGION
export AWS_REGION=us-east-1

rec_get() { # rec_get ID PYTHON-EXPR-ON-r
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$FANOUT_HISTORY_DIR/$1.json" "$2" 2>/dev/null
}
newest_id() { ls -t "$FANOUT_HISTORY_DIR"/*.json 2>/dev/null | head -1 | xargs -r basename -s .json; }
# The instances and firewall rules the stand-in holds.
gcp_counts() {
	curl -s --noproxy '*' "$GCP_URL/_fake/state" |
		python3 -c 'import json,sys; s=json.load(sys.stdin); print(len(s["instances"]), len(s["firewalls"]))'
}

sshd_setup 127.0.0.1
sshd_start
sshd_as_bastion

ex=$(example sleep)
TMUX_PASS_ENV="AWS_REGION GOOGLE_APPLICATION_CREDENTIALS CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE
    CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE HTTP_PROXY HTTPS_PROXY http_proxy
    https_proxy NO_PROXY no_proxy FANOUT_CHECKIP_URL FANOUT_BASTION_ADDRESS
    FANOUT_BASTION_DIR FANOUT_SSH_WAIT"
tmux_start 100 30
tmux_run "$FANOUT; echo fanout-exit=\$?"
tmux_expect "Run on this machine" "the main menu appears"

# aws (the default provider): region, then the engine; no zone asked.
tmux_keys c
tmux_expect "> Project folder" "create asks the project folder"
tmux_type "$ex"
tmux_keys Enter Enter
tmux_expect "> Cloud provider +aws" "the provider question, aws by default"
tmux_keys Enter
tmux_expect "> Region +us-east-1" "then the region, AWS_REGION's"
tmux_keys Enter
tmux_expect "> Engine" "for aws, the engine comes next"
tmux_absent "Zone" "and no zone question"
tmux_keys Escape
tmux_expect "> Region" "Esc: back to the region"
tmux_keys Escape
tmux_expect "> Cloud provider +aws +gcp" "and the provider: the choices are the build's, aws and gcp"

# gcp: the region and the zone.
tmux_keys Right Enter
tmux_expect "> Region +us-central1" "Right, Enter: gcp; the region defaults to gcloud's (none set: us-central1)"
like "$(tmux_screen)" "  Cloud provider +gcp" "the provider answered is gcp"
tmux_keys C-u
tmux_type "us-east-1"
tmux_keys Enter
tmux_expect "us-east-1 is not a GCP region \\(it is AWS's\\)" "an AWS region is refused, naming the provider"
tmux_keys C-u
tmux_type "us-central1"
tmux_keys Enter
tmux_expect "> Zone" "for gcp, the zone question follows the region"
tmux_type "europe-west1-b"
tmux_keys Enter
tmux_expect "zone europe-west1-b is in region europe-west1, not in us-central1" \
	"a zone of another region is refused under the field"
tmux_keys C-u
tmux_type "us-central1-c"
tmux_keys Enter
tmux_expect "> Engine" "then the engine"
# engine (bastion), vCPUs, memory, instance type, spot, inputs.
tmux_keys Enter Enter Enter Enter Enter Enter
tmux_expect "> Clean up everything after the run" "the last question"
tmux_keys Enter
tmux_expect "Check the answers" "the confirmation"
like "$(tmux_screen)" "Zone +us-central1-c" "it shows the zone answered"
tmux_expect "Press Enter to start" "once the provider's plan has come" 30
is "0 0" "$(gcp_counts)" "nothing is made before Enter"
tmux_keys Enter
tmux_expect "Efficiency" "the project ran on the GCP bastion: the results screen" 180
like "$(tmux_screen)" "Succeeded +8 " "all eight tasks ok"
id=$(newest_id)
like "$id" '^fo-[0-9]{8}-[a-z0-9]{4}$' "the run set is recorded ($id)"
is "gcp us-central1 us-central1-c" "$(rec_get "$id" 'r["provider"] + " " + r["region"] + " " + r["zone"]')" \
	"the record: provider gcp, region us-central1, the zone answered"
check "results.csv is home" test -s "$(rec_get "$id" 'r["runs"][-1]["results"]')/results.csv"
wait_for 120 sh -c "[ \"\$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"state\"])' \"$FANOUT_HISTORY_DIR/$id.json\")\" = deleted ]"
is "deleted" "$(rec_get "$id" 'r["state"]')" "cleaned up after the run"
is "0 0" "$(gcp_counts)" "the stand-in holds no instance and no firewall rule"
# The history shows the run set's zone.
tmux_keys Escape
tmux_keys h
tmux_expect "$id +sleep-demo +gcp/us-central1-c +deleted" "history lists it by provider and zone"
tmux_keys Enter
tmux_expect "Where +gcp/us-central1 \(zone us-central1-c\)" "its details name region and zone"
tmux_keys Escape
tmux_keys Escape
tmux_expect "Run on this machine" "back to the main menu"
tmux_keys q
tmux_expect "fanout-exit=0" "q quits, exit 0"
done_testing
