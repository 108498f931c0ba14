#!/bin/bash
# Cancelling a cloud run from the menu (tmux), against moto_server and a
# loopback sshd standing in for the bastion, checked with the aws CLI:
# "keep it" keeps (bastion stopped, nothing deleted) even when "Clean up
# everything after the run" was yes; "tear down" tears down without first
# stopping the bastion; and after a run the results screen says what
# became of the machines.
# Skipped while no cloud provider is built in.
. "$top_srcdir/tests/integration/lib.sh"
[ -f "$top_srcdir/tests/integration/lib-aws.sh" ] ||
	skip_all "no cloud provider in this build (tests/integration/lib-aws.sh)"
# shellcheck source=/dev/null
. "$top_srcdir/tests/integration/lib-aws.sh"
. "$top_srcdir/tests/integration/lib-tmux.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
plan_lazy
sshd_setup 127.0.0.1
sshd_start
sshd_as_bastion

ex=$(example sleep)
TMUX_PASS_ENV="HOME AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
    AWS_DEFAULT_REGION AWS_ENDPOINT_URL FANOUT_CHECKIP_URL
    FANOUT_BASTION_ADDRESS FANOUT_BASTION_DIR FANOUT_SSH_WAIT"
tmux_start 80 24
tmux_run "$FANOUT; echo fanout-exit=\$?"
tmux_expect "Run on this machine" "the main menu appears"

# create_until_ssh CLEANUP: a create from the menu with "Clean up
# everything after the run" = CLEANUP (y/n), the bastion's sshd down: the
# flow has made everything and waits for SSH.
create_until_ssh() {
	tmux_keys c
	tmux_expect "> Project folder" "create asks the project folder"
	tmux_type "$ex"
	tmux_keys Enter Enter Enter Enter Enter Enter Enter Enter Enter Enter
	tmux_expect "> Clean up everything after the run" "the last question"
	tmux_keys "$1" Enter
	# A kept run set: the idle stop is asked too (its default taken).
	[ "$1" = y ] || tmux_keys Enter
	tmux_expect "Press Enter to start" "the confirmation, with the plan" 20
	sshd_stop
	tmux_keys Enter
	tmux_expect "waiting for" "the bastion is made; fanout waits for its sshd" 60
}

# 1. Clean up after = yes, then c, k: everything is kept.
create_until_ssh y
id=$(newest_id)
tmux_keys c
tmux_expect "t = tear down, k = keep it" "c asks what to do with what was made"
tmux_keys k
tmux_expect "cancelled: run set $id kept" "k: the cancel keeps the run set, and says so" 60
tmux_expect "Machines: bastion stopped" "it says the bastion is stopped"
wait_for 30 state_is "$id" stopped
is stopped "$(rec_get "$id" 'r["state"]')" "the record keeps the run set (stopped, not deleted)"
is "stopped 1 1" "$(set_of "$id")" "EC2: the bastion is stopped; its group and key pair are there"
is "" "$(rec_get "$id" '",".join(x["kind"] for x in r["resources"] if x["state"] != "created")')" \
    "no resource of it is marked deleted"
tmux_absent "cancelling" "no 'cancelling' left once the job has ended"
# Every step is listed (two columns at 80, row by row), in the order they
# began.
steps=$(tmux_screen | sed -n '/^  Steps/,/^ *$/p' | sed '1d;/^ *$/d;/^  x /d')
order=$(printf '%s\n' "$steps" | awk '{ print substr($0, 1, 40); print substr($0, 41) }' |
	sed -E 's/ +$//; s/^ *(ok|x|-) +//; s/ +([0-9.]+s|[0-9]+m[0-9]+s|failed)$//' | grep -v '^ *$' | tr '\n' ',')
diag "steps: $order"
for st in identity "public address" network image "key pair" "security group" \
    bastion "bastion running" run connect "stop bastion"; do
	like ",$order" ",$st," "the step list shows '$st'"
done
like "$order" "(key pair|security group),.*bastion,bastion running,run,connect,stop bastion,$" \
    "in the order they began"

# Enter: the history, with the run set ready to run again.
tmux_keys Enter
tmux_expect "$id +sleep-demo +aws/us-east-1 +stopped" "history lists the kept run set"
like "$(tmux_screen | tail -1)" "r resume" "r (resume) is offered for it"

# r on it, the sshd back: the project runs; the results screen says what
# became of the machines.
sshd_start
tmux_keys r
tmux_expect "Run again on $id\\? \\(y/n\\)" "r asks"
tmux_keys y
tmux_expect "Efficiency" "the resume ran the project: the results screen" 120
tmux_expect "Machines: bastion stopped: r in history resumes, d tears down" \
    "the results screen says the bastion is stopped and how to go on"
is "stopped 1 1" "$(set_of "$id")" "EC2: stopped again, nothing deleted"
tmux_keys Escape
tmux_expect "$id +sleep-demo +aws/us-east-1 +stopped" "Esc: back in history"
tmux_keys Escape
tmux_expect "Run on this machine" "Esc: the main menu (one history screen)"

# 2. Clean up after = no, then c, t: torn down, without stopping the
# bastion first (a wasted call and wait).
create_until_ssh n
id2=$(newest_id)
[ "$id2" != "$id" ] || bail "no second run set"
tmux_keys c
tmux_expect "t = tear down, k = keep it" "c asks again"
tmux_keys t
tmux_expect "cancelled: run set $id2 torn down" "t: torn down, and it says so" 60
tmux_absent "stop bastion" "t: no 'stop bastion' step before the teardown"
wait_for 30 state_is "$id2" deleted
is "terminated 0 0" "$(set_of "$id2")" "EC2: nothing of it is left"
is "stopped 1 1" "$(set_of "$id")" "the first run set is untouched"
tmux_keys Enter
tmux_expect "$id2 +sleep-demo +aws/us-east-1 +deleted" "history shows it deleted"
tmux_keys Escape
tmux_expect "Run on this machine" "Esc: the main menu"

# 3. A whole create with clean up after = yes: the results screen says
# the machines are torn down. (The sshd starts once fanout waits for it,
# by when its key is authorized.)
create_until_ssh y
sshd_start
tmux_expect "Efficiency" "the project ran: the results screen" 120
id3=$(newest_id)
tmux_expect "Machines: torn down; nothing of run set $id3 is left" \
    "the results screen says the machines are torn down"
is "terminated 0 0" "$(set_of "$id3")" "EC2: nothing of it is left"
tmux_keys Escape
tmux_keys q
tmux_expect "fanout-exit=0" "q quits"

done_testing
