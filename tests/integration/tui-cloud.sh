#!/bin/bash
# The cloud flows driven from the menu (tmux), against moto_server and a
# loopback sshd standing in for the bastion: create with the confirmation's
# plan and costs, the progress screen as the flow's sink, the run on the
# bastion and its results screen, the run set in history with its
# resources, tear down with d, the orphan sweep with o. Checked
# independently with EC2 queries.
# Skipped while no cloud provider is built in (before the aws merge).
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
tmux_absent "not available in this build" \
    "create is available: the provider's flows are registered"

tmux_keys c
tmux_expect "> Project folder" "create asks the project folder"
tmux_type "$ex"
tmux_keys Enter Enter Enter Enter Enter Enter Enter
tmux_expect "> Clean up everything after the run" "the last question"
tmux_expect 'costs about \$[0-9.]+ an hour' "it tells the hourly cost of keeping everything"
tmux_keys n Enter
tmux_expect "Check the answers" "the confirmation"
tmux_expect "Estimated cost: \\\$[0-9.]+ an hour" "with the provider's estimate" 20
like "$(tmux_screen)" "instance +bastion" "and the resources to be made"
is "0 0 0" "$(tagged_counts)" "nothing is made before Enter"

tmux_keys Enter
tmux_expect "ok +security group" "the progress screen shows the flow's steps" 60
tmux_expect "Efficiency" "the project ran on the bastion: the results screen" 120
like "$(tmux_screen)" "Succeeded +8 " "all eight tasks ok"
like "$(tmux_screen)" "Results: $ex/results/" "its results folder is shown"
id=$(newest_id)
like "$id" '^fo-[0-9]{8}-[a-z0-9]{4}$' "the run set is recorded ($id)"
check "the results folder has the Gantt chart" test -s "$(rec_get "$id" 'r["runs"][-1]["results"]')/runtime.png"
counts=$(tagged_counts)
like "$counts" '^1 1 1$' "EC2 holds the bastion, its group and key ($counts)"

# The history, where the run set is kept with its bastion stopped.
tmux_keys Escape
tmux_keys h
tmux_expect "$id +sleep-demo +aws/us-east-1 +stopped" "history lists the run set, stopped"
like "$(tmux_screen)" "$id.*\\\$[0-9]+\\.[0-9]{2}" "with its cost so far"
tmux_keys Enter
tmux_expect "Resources \\(3\\)" "Enter: its three resources"
tmux_keys Escape
tmux_keys d
tmux_expect "Tear down every resource of $id\\? \\(y/n\\)" "d asks once"
tmux_keys y
tmux_expect "done: run set $id" "the teardown runs on the progress screen" 120
is "0 0 0" "$(tagged_counts)" "EC2 holds nothing tagged any more"
tmux_keys Enter
tmux_expect "$id +sleep-demo +aws/us-east-1 +deleted" "history shows it deleted"
tmux_keys o
tmux_expect "no orphans" "o: the orphan sweep finds none" 30
tmux_keys q
tmux_expect "fanout-exit=0" "q quits"

done_testing
