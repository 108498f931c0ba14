#!/bin/bash
# Cancel -> keep while the bastion is still being made (tmux), against
# moto_server behind tests/fakes/faultproxy.py holding RunInstances: the
# bastion that comes of the held call is waited for and stopped (nothing
# kept stays on the bill), the record stays `failed` (the create did not
# finish) with everything it made, the screen says so, history offers d
# but not r, and d tears it all down. Checked with the aws CLI.
# Skipped while no cloud provider is built in.
. "$top_srcdir/tests/integration/lib.sh"
[ -f "$top_srcdir/tests/integration/lib-aws.sh" ] ||
	skip_all "no cloud provider in this build (tests/integration/lib-aws.sh)"
# shellcheck source=/dev/null
. "$top_srcdir/tests/integration/lib-aws.sh"
. "$top_srcdir/tests/integration/lib-tmux.sh"
plan_lazy

footer() { tmux_screen | sed -n 24p; }

# fanout talks to moto through the proxy; the aws CLI straight to moto.
proxy_start --every 0 --hold "RunInstances=$TEST_TMP/go"
AWS_ENDPOINT_URL="$PROXY_URL"
ex=$(example sleep)
TMUX_PASS_ENV="HOME AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
    AWS_DEFAULT_REGION AWS_ENDPOINT_URL FANOUT_CHECKIP_URL
    FANOUT_BASTION_ADDRESS FANOUT_SSH_WAIT"
tmux_start 80 24
tmux_run "$FANOUT; echo fanout-exit=\$?"
tmux_expect "Run on this machine" "the main menu appears"

# A create with "Clean up everything after the run" = yes: keep must keep
# whatever that answer was.
tmux_keys c
tmux_expect "> Project folder" "create asks the project folder"
tmux_type "$ex"
tmux_keys Enter Enter Enter Enter Enter Enter Enter Enter Enter Enter
tmux_expect "> Clean up everything after the run" "the last question"
tmux_keys y Enter
tmux_expect "Press Enter to start" "the confirmation, with the plan" 20
tmux_keys Enter
ok "$(wait_for 60 test -e "$TEST_TMP/go.held"; echo $?)" \
    "RunInstances reaches the proxy and is held: the bastion is being made"
id=$(newest_id)
[ -n "$id" ] || bail "no run set recorded"

# c, k while the call is held; then the call goes on and makes the
# instance.
tmux_keys c
tmux_expect "t = tear down, k = keep it" "c asks what to do with what was made"
tmux_keys k
tmux_expect "Steps \\(cancelling \\.\\.\\.\\)" "k: the flow is cancelling"
touch "$TEST_TMP/go"
tmux_expect "Steps \\(cancelled\\)" "the create ends, cancelled" 120
wait_for 30 state_is "$id" failed
is failed "$(rec_get "$id" 'r["state"]')" \
    "the record is failed: the create did not finish (not deleted, not active)"
# (sorted: the key pair and the group are made at once, in either order)
is "instance:created key_pair:created security_group:created" \
    "$(rec_get "$id" '" ".join(sorted(x["kind"] + ":" + x["state"] for x in r["resources"]))')" \
    "the record keeps every resource it made, none deleted"
wait_for 30 set_is "$id" "stopped 1 1"
is "stopped 1 1" "$(set_of "$id")" \
    "EC2: the bastion made by the held call is stopped; its group and key pair are there"
tmux_expect "ok stop bastion" "the step list shows the bastion stopped"
tmux_expect "cancelled: run set $id kept unfinished, its bastion stopped" \
    "the screen says the run set is kept and its bastion stopped"
tmux_expect "d in history tears it down; r cannot resume it" \
    "the screen says how to go on: d, not r"
tmux_absent "torn down" "nothing says it was torn down"

# Enter: the history; the run set is failed, d is offered, r is not.
tmux_keys Enter
tmux_expect "$id +sleep-demo +aws/us-east-1 +failed" "history lists the run set as failed"
tmux_wait_row 24 "d tear down" 10
like "$(footer)" "d tear down" "d (tear down) is offered for it"
ok "$(case "$(footer)" in *"r resume"*) echo 1 ;; *) echo 0 ;; esac)" \
    "r (resume) is not offered for an unfinished create"
tmux_keys r
tmux_expect "$id is failed: it cannot run again; d tears down what it has" \
    "r says why instead of resuming"

# d, y: everything goes.
tmux_keys d
tmux_expect "\\(y/n\\)" "d asks"
tmux_keys y
tmux_expect "Steps \\(finished\\)" "the teardown ends" 120
wait_for 30 state_is "$id" deleted
is deleted "$(rec_get "$id" 'r["state"]')" "the record says deleted"
wait_for 30 set_is "$id" "terminated 0 0"
is "terminated 0 0" "$(set_of "$id")" "EC2: nothing of the run set is left"
tmux_keys Enter
tmux_expect "$id +sleep-demo +aws/us-east-1 +deleted" "history shows it deleted"
tmux_keys q
tmux_expect "fanout-exit=0" "q quits"

done_testing
