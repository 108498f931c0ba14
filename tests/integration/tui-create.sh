#!/bin/bash
# The create flow's questions in a real terminal (tmux): defaults from
# fanout.yaml, choices, bad answers kept on their field, the confirmation
# table, and "not available in this build" while no provider is built in.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-tmux.sh"
plan_lazy

ex=$(example sleep)

tmux_start 80 24
tmux_run "$FANOUT; echo fanout-exit=\$?"
tmux_expect "Create cloud resources and run" "the main menu appears"
# Is a cloud provider built in? The menu says so under the create item.
if tmux_screen | grep -q "Not available in this build"; then cloud=0; else cloud=1; fi
diag "cloud provider built in: $cloud"
tmux_keys Enter
tmux_expect "> Project folder" "Create asks the project folder first"
screen=$(tmux_screen)
for q in "Project name" "Cloud provider" "Region" "Engine" "Number of nodes" \
    "Number of inputs" "Clean up everything after the run"; do
	like "$screen" "$q" "the form lists: $q"
done
tmux_type "$ex"
tmux_keys Enter
tmux_expect "> Project name +sleep-demo" "the name defaults to fanout.yaml's"
tmux_keys C-u
tmux_type "ab"
tmux_keys Enter
tmux_expect "must be at least 3 characters" "a 2-letter name is refused"
tmux_keys C-u
tmux_type "my demo"
tmux_keys Enter
tmux_expect "use letters, digits" "a name with a space is refused"
like "$(tmux_screen)" "> Project name" "the field stays"
tmux_keys C-u
tmux_type "demo-run"
tmux_keys Enter
tmux_expect "> Cloud provider +aws" "the provider is a choice: aws"
tmux_keys Enter
tmux_expect "> Region +us-east-1" "the region defaults to us-east-1"
tmux_keys Enter
tmux_expect "> Engine +bastion +kubernetes" "the engine is a choice"
tmux_keys Right Enter
tmux_expect "> Number of nodes +1" "nodes default to 1"
tmux_keys C-u
tmux_type abc
tmux_keys Enter
tmux_expect "must be a whole number from 1 to 100, not 'abc'" "abc nodes is refused with the rule"
like "$(tmux_screen)" "> Number of nodes +abc" "the field stays, with what was typed"
tmux_keys C-u
tmux_type 101
tmux_keys Enter
tmux_expect "not '101'" "101 nodes is refused"
tmux_keys C-u
tmux_type 3
tmux_keys Enter
tmux_expect "> Number of inputs +0" "nodes 3 accepted"
tmux_keys Enter
tmux_expect "> Clean up everything after the run" "asks about cleaning up"
like "$(tmux_screen)" "hourly cost" "with a word on the hourly cost"
tmux_keys n Enter

tmux_expect "Check the answers" "the confirmation screen"
screen=$(tmux_screen)
like "$screen" "Project name +demo-run" "answer: name"
like "$screen" "Engine +kubernetes" "answer: engine"
like "$screen" "Number of nodes +3" "answer: nodes"
like "$screen" "Clean up everything after the run +no" "answer: clean up"
like "$screen" "Resources that will be made" "the resources part"
if [ "$cloud" = 0 ]; then
	like "$screen" "not available in this build" "create is not in this build yet"
	tmux_keys Enter
	tmux_expect "not available in this build: no cloud provider" "Enter does not start anything"
else
	# With a provider, Enter would create: tui-cloud.sh does that. (The
	# plan is asked on a thread first; here it fails: no credentials.)
	tmux_expect "Press Enter to start" "create can start, once the plan has answered" 30
fi

# Esc walks back through the questions, keeping the answers.
tmux_keys Escape
tmux_expect "> Clean up everything after the run" "Esc goes back to the last question"
tmux_keys Escape Escape Escape
tmux_expect "> Engine +bastion +kubernetes" "Esc again: the engine"
tmux_keys Escape Escape Escape Escape Escape Escape
tmux_expect "Run on this machine" "Esc on the first question leaves the form"
tmux_keys q
tmux_expect "fanout-exit=0" "q quits"

done_testing
