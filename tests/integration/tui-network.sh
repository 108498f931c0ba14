#!/bin/bash
# Network calls from the menu (tmux) never hold the screen: with every
# request held at a fault proxy in front of moto_server, the cost note,
# the confirmation's plan and the orphan search show a spinner, Esc
# abandons them at once and the menu goes on answering keys; an
# abandoned call's answer is dropped when it comes. The confirmation, at
# 80 columns, shows each resource's whole detail and the /32 SSH source,
# wrapped at words; so is the help.
# Skipped while no cloud provider is built in.
. "$top_srcdir/tests/integration/lib.sh"
[ -f "$top_srcdir/tests/integration/lib-aws.sh" ] ||
	skip_all "no cloud provider in this build (tests/integration/lib-aws.sh)"
# shellcheck source=/dev/null
. "$top_srcdir/tests/integration/lib-aws.sh"
. "$top_srcdir/tests/integration/lib-tmux.sh"
plan_lazy

# Every request to moto waits 6 s at the proxy.
proxy_start --every 0 --delay 6
export AWS_ENDPOINT_URL="$PROXY_URL"
ex=$(example sleep)
joined() { tmux_screen | tr -s ' \n' '  '; }

TMUX_PASS_ENV="HOME AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
    AWS_DEFAULT_REGION AWS_ENDPOINT_URL FANOUT_CHECKIP_URL"
tmux_start 80 24
tmux_run "$FANOUT; echo fanout-exit=\$?"
tmux_expect "Run on this machine" "the main menu appears"

tmux_keys c
tmux_expect "> Project folder" "create asks the project folder"
tmux_keys '?'
tmux_expect "Keys of the questions" "? lists the form's keys"
like "$(joined)" "back to the previous question \\(Esc on the first leaves\\)" \
    "help text is wrapped at words, not cut"
tmux_keys Escape
tmux_type "$ex"
tmux_keys Enter Enter Enter Enter Enter Enter Enter Enter Enter Enter
tmux_expect "> Clean up everything after the run" "the last question"
tmux_expect "[-|/\\\\] asking the provider for the hourly cost" \
    "the cost note is asked on a thread: a spinner" 2
tmux_keys Up
tmux_expect "> Number of inputs" "the form answers keys meanwhile" 2
tmux_keys Enter
tmux_expect "> Clean up everything after the run" "and goes on" 2

# The confirmation: the plan is asked on a thread too.
tmux_keys Enter
tmux_expect "Check the answers" "the confirmation shows at once" 2
tmux_expect "[-|/\\\\] asking the provider for the plan" "with a spinner for the plan" 2
tmux_keys Enter
tmux_expect "the plan and its cost come first" "Enter waits for the plan and says so" 2
tmux_keys Escape
tmux_expect "> Clean up everything after the run" "Esc: back to the form at once" 2
tmux_keys Up
tmux_expect "> Number of inputs" "the form answers keys" 2

# Again, this time waiting for the plan (the abandoned one ends meanwhile
# and is dropped).
tmux_keys Enter Enter
tmux_expect "Check the answers" "the confirmation again" 2
tmux_expect "Press Enter to start" "the plan comes" 30
tmux_keys G
tmux_expect "Estimated cost" "G: the end of the page"
like "$(joined)" "SSH from 203\\.0\\.113\\.7/32" "the SSH source is shown whole, with its /32"
like "$(joined)" "instance bastion +[0-9.]+ [a-z0-9]+\\.[a-z0-9]+, Amazon Linux 2023, 30 GB encrypted gp3, public IPv4" \
    "the instance's detail (type, image, disk) is shown whole"
like "$(joined)" "security_group security group +[0-9.]+ SSH \\(tcp 22\\) from your address only" \
    "the security group's too"
if tmux_screen | awk 'length($0) > 80 { bad = 1 } END { exit !bad }'; then
	ok 1 "every row fits in 80 columns"
else
	ok 0 "every row fits in 80 columns"
fi
tmux_keys Escape Escape Escape Escape Escape Escape Escape Escape Escape Escape Escape Escape
tmux_expect "Run on this machine" "back to the main menu"

# The orphan search: a spinner; Esc abandons it at once.
tmux_keys h
tmux_expect "No runs yet" "the history (empty)"
tmux_keys o
tmux_expect "[-|/\\\\] looking for orphans" "o: the orphan search shows a spinner" 2
tmux_keys Escape
tmux_expect "abandoned: looking for orphans" "Esc abandons it at once" 2
tmux_keys '?'
tmux_expect "Keys of the history" "the history answers keys" 2
tmux_keys Escape
tmux_keys o
tmux_expect "looking for orphans" "o again" 2
# Six list calls at 6 s each (EC2's four, IAM's roles and profiles).
tmux_expect "no orphans" "this time it answers" 50
tmux_keys Escape
tmux_expect "Run on this machine" "Esc: the main menu"
tmux_keys q
tmux_expect "fanout-exit=0" "q quits"

done_testing
