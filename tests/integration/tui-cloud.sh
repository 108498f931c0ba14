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
tmux_keys Enter Enter Enter Enter Enter Enter Enter Enter Enter Enter
tmux_expect "> Clean up everything after the run" "the last question"
tmux_expect 'costs about \$[0-9.]+ an hour' "it tells the hourly cost of keeping everything"
tmux_keys n Enter
tmux_keys Enter	# the idle stop's default (a kept run set)
tmux_expect "Check the answers" "the confirmation"
tmux_expect "Press Enter to start" "once the provider's plan has come" 20
tmux_keys G
tmux_expect "Estimated cost: \\\$[0-9.]+ an hour" "with the provider's estimate (at the end of the page)"
like "$(tmux_screen)" "Estimated run: no estimate before the first run" \
    "and no estimate of the run before the project's first run"
like "$(tmux_screen)" "instance +bastion" "and the resources to be made"
is "0 0 0" "$(tagged_counts)" "nothing is made before Enter"

# The bastion's sshd is down until the test has seen the progress screen,
# as on a VM that is still booting: fanout waits for it.
sshd_stop
tmux_keys Enter
tmux_expect "waiting for" "it waits for the bastion's sshd" 60
like "$(tmux_screen)" "ok +bastion " "the progress screen shows the flow's steps"
sshd_start
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
tmux_expect "Answers" "Enter: its details"
tmux_keys G
# The answers may fill the first page: the resources follow them.
tmux_expect "Resources \\(3\\)" "G: its three resources"
tmux_keys Escape

# r: run again on the kept run set. The bastion is started, the project
# runs into a new results folder, and the bastion is stopped again.
tmux_keys r
tmux_expect "Run again on $id\\? \\(y/n\\)" "r asks once"
tmux_keys y
tmux_expect "Efficiency" "the resume ran the project on the bastion: the results screen" 120
like "$(tmux_screen)" "Succeeded +8 " "all eight tasks ok again"
is 2 "$(rec_get "$id" 'len(r["runs"])')" "the record holds two runs"
ok "$([ "$(rec_get "$id" 'r["runs"][0]["results"]')" != \
    "$(rec_get "$id" 'r["runs"][-1]["results"]')" ]; echo $?)" "each in its own results folder"
is 0 "$(rec_get "$id" 'r["runs"][-1]["files_sent"]')" "nothing changed: no file uploaded again"
tmux_keys Escape
tmux_wait "$id +sleep-demo +aws/us-east-1 +stopped" 30 || tmux_keys Escape
tmux_expect "$id +sleep-demo +aws/us-east-1 +stopped" "back in history: the run set is stopped again"
tmux_keys d
tmux_expect "Tear down every resource of $id\\? \\(y/n\\)" "d asks once"
tmux_keys y
tmux_expect "done: run set $id" "the teardown runs on the progress screen" 120
is "0 0 0" "$(tagged_counts)" "EC2 holds nothing tagged any more"
# Enter: back to the history screen the teardown was started from (not a
# second one over it), which reads the records again.
tmux_keys Enter
tmux_expect "$id +sleep-demo +aws/us-east-1 +deleted" "history shows it deleted"
tmux_keys o
tmux_expect "no orphans" "o: the orphan sweep finds none" 30

# Esc: the menu, since there was one history screen.
tmux_keys Escape
tmux_expect "Run on this machine" "back to the main menu"
tmux_keys c
tmux_expect "> Project folder" "a second create"
tmux_type "$ex"
tmux_keys Enter Enter Enter Enter Enter Enter Enter Enter Enter Enter
tmux_expect "> Clean up everything after the run" "the last question again"
tmux_keys n Enter
tmux_keys Enter	# the idle stop's default (a kept run set)
tmux_expect "Check the answers" "the confirmation again" 20
tmux_expect "Press Enter to start" "with the plan" 20
tmux_keys G
tmux_expect "Estimated run: [0-9]+ s, about \\\$[0-9.]+ \([0-9]+ tasks x [0-9.]+ s /" \
    "the run is now estimated from the earlier runs"
sshd_stop
tmux_keys Enter
tmux_expect "waiting for" "the bastion is made; fanout waits for its sshd" 60
id2=$(newest_id)
tmux_keys c
tmux_expect "Tear down what was made\\? t = tear down, k = keep it" "c asks what to do with what was made"
tmux_keys t
tmux_expect "cancelled: run set $id2 torn down" "the cancel ends with the teardown, and says so" 60
tmux_absent "connection refused" "the cancel is not reported as a failure to connect"
wait_for 30 state_is "$id2" deleted
is "0 0 0" "$(tagged_counts)" "t: EC2 holds nothing of the cancelled create"
is deleted "$(rec_get "$id2" 'r["state"]')" "and its record says deleted"
tmux_keys Escape Escape Escape
tmux_keys q
tmux_expect "fanout-exit=0" "q quits"

done_testing
