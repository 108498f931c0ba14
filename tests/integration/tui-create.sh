#!/bin/bash
# The create flow's questions in a real terminal (tmux): defaults from
# fanout.yaml, choices, bad answers kept on their field, the confirmation
# table, and "not available in this build" while no provider is built in.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-tmux.sh"
plan_lazy

ex=$(example sleep)
# The region's default is the one the provider's settings name.
export AWS_REGION=us-east-1
unset AWS_DEFAULT_REGION AWS_PROFILE AWS_DEFAULT_PROFILE AWS_CONFIG_FILE

tmux_start 80 24
tmux_run "$FANOUT; echo fanout-exit=\$?"
tmux_expect "Create cloud resources and run" "the main menu appears"
# Is a cloud provider built in? The menu says so under the create item.
if tmux_screen | grep -q "Not available in this build"; then cloud=0; else cloud=1; fi
diag "cloud provider built in: $cloud"
tmux_keys Enter
tmux_expect "> Project folder" "Create asks the project folder first"
screen=$(tmux_screen)
for q in "Project name" "Cloud provider" "Region" "Engine" \
    "Number of inputs" "Clean up everything after the run"; do
	like "$screen" "$q" "the form lists: $q"
done
tmux_absent "Number of nodes" "no node count: the bastion engine runs on one VM"
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
# The answers the command line refuses (aws-bad-input.sh), refused here at
# the question with the same words.
tmux_keys C-u
tmux_type "-abc"
tmux_keys Enter
tmux_expect "'-abc' is not valid: use letters, digits" "-abc is refused at the question"
tmux_keys C-u
tmux_type "$(printf 'n%.0s' $(seq 64))"
tmux_keys Enter
tmux_expect "must be at most 63 characters long, not 64" "a 64-character name is refused at the question"
tmux_keys C-u
tmux_type "$(printf 'n%.0s' $(seq 45))"
tmux_keys Enter
tmux_expect "> Cloud provider +aws" "a 45-character name is accepted, as by the CLI and the cloud"
tmux_keys Escape
tmux_expect "> Project name" "Esc: back to the name"
tmux_keys C-u
tmux_type "demo-run"
tmux_keys Enter
tmux_expect "> Cloud provider +aws" "the provider is a choice: aws"
tmux_keys Enter
tmux_expect "> Region +us-east-1" "the region defaults to AWS_REGION's"
tmux_keys C-u
tmux_type "zz-nowhere-1"
tmux_keys Enter
tmux_expect "unknown region 'zz-nowhere-1': not an AWS region" "a region the provider lacks is refused at the question"
like "$(tmux_screen)" "> Region +zz-nowhere-1" "the field stays, with what was typed"
tmux_keys C-u
tmux_type "eu-west-1"
tmux_keys Enter
# The engines by their labels; the answer stays the engine's name.
tmux_expect "> Engine +one machine \(bastion\)" "the engine is a choice, shown by its label: one machine (bastion)"
like "$(tmux_screen)" "^ +cluster \(slurm\) *$" "and cluster (slurm), on the line below (too long for one)"
tmux_absent "kubernetes" "kubernetes, which this build lacks, is not offered"
tmux_absent "Number of nodes" "no node count while the engine is one machine"
tmux_keys Enter
# What the machine must have: empty (not asked) unless fanout.yaml says.
tmux_expect "> vCPUs per machine *$" "after one machine: the vCPUs it must have, empty (fanout.yaml asks none)"
tmux_type 0
tmux_keys Enter
tmux_expect "must be a whole number from 1 to 1024, not '0'" "0 vCPUs is refused at the question"
tmux_keys C-u Enter
tmux_expect "> Memory per machine \(GiB\) *$" "empty vCPUs taken; then the memory, empty"
tmux_keys Enter
# The one machine's type: offered with their price, any other typed.
tmux_expect "> Instance type +c6a\.large" "then its instance type, the provider's default (no node count)"
screen=$(tmux_screen)
like "$screen" "c5\.large  \\\$0\.085/h" "the types are offered with their price per hour: c5.large  \$0.085/h"
like "$screen" "t3\.micro  \\\$0\.0104/h" "and t3.micro  \$0.0104/h"
tmux_absent "Number of nodes" "no node count for one machine"
tmux_absent "Head instance type" "no head for one machine"
tmux_keys Tab
tmux_expect "> Instance type +c6a\.xlarge *$" "Tab takes the next type offered"
tmux_keys C-u
tmux_type "c5"
tmux_keys Tab
tmux_expect "> Instance type +c5\.large *$" "Tab completes c5 to the type offered that starts so"
tmux_keys C-u
tmux_type "C5 large"
tmux_keys Enter
tmux_expect "'C5 large' is not valid: use an instance type such as c5\.large" "a malformed type is refused at the question"
tmux_keys C-u
tmux_type "c7i.2xlarge"
tmux_keys Enter
tmux_expect "> Spot capacity" "a type the list lacks is taken; then spot"
tmux_keys Enter
tmux_expect "> Number of inputs +0" "then the inputs"
tmux_keys Escape Escape
tmux_expect "> Instance type +c7i\.2xlarge" "Esc: back to the instance type, as typed"
tmux_keys Enter Enter
tmux_keys C-u
tmux_type abc
tmux_keys Enter
tmux_expect "must be a whole number of at least 0, not 'abc'" "abc inputs is refused with the rule"
like "$(tmux_screen)" "> Number of inputs +abc" "the field stays, with what was typed"
tmux_keys C-u
tmux_type 2
tmux_keys Enter
tmux_expect "> Clean up everything after the run" "inputs 2 accepted; asks about cleaning up"
like "$(tmux_screen)" "hourly cost" "with a word on the hourly cost"
# Its default is the CLI's: yes (aws-defaults.sh).
tmux_keys Enter
tmux_expect "Clean up everything after the run +yes" "Enter takes the default: clean up"
tmux_keys Escape
tmux_expect "> Clean up everything after the run" "Esc goes back to the last question"
tmux_keys n Enter
tmux_expect "> Stop when idle \(minutes\) +30" "kept: the idle stop is asked, 30 minutes by default"
tmux_keys Enter

tmux_expect "Check the answers" "the confirmation screen"
screen=$(tmux_screen)
like "$screen" "Project name +demo-run" "answer: name"
like "$screen" "Region +eu-west-1" "answer: region"
like "$screen" "Engine +one machine \(bastion\)" "answer: engine, by its label"
like "$screen" "Instance type +c7i\.2xlarge" "answer: instance type"
like "$screen" "Spot capacity +no" "answer: spot"
like "$screen" "Number of inputs +2" "answer: inputs"
like "$screen" "Clean up everything after the run +no" "answer: clean up"
like "$screen" "Stop when idle \(minutes\) +30" "answer: idle stop"
tmux_absent "Number of nodes" "no node count on the confirmation either"
like "$screen" "Resources that will be made" "the resources part"
if [ "$cloud" = 0 ]; then
	like "$screen" "not available in this build" "create is not in this build yet"
	tmux_keys Enter
	tmux_expect "not available in this build: no cloud provider" "Enter does not start anything"
else
	# With a provider, Enter would create: tui-cloud.sh does that. (The
	# plan is asked on a thread first; here it fails: no credentials.)
	tmux_expect "The plan failed \\(above\\): Esc to change an answer; Enter tries anyway" \
		"a plan that failed says so under it, not 'Press Enter to start'" 30
fi

# Esc walks back through the questions, keeping the answers.
tmux_keys Escape
tmux_expect "> Stop when idle" "Esc goes back to the last question"
tmux_keys Escape Escape Escape Escape Escape Escape Escape
tmux_expect "> Engine +one machine" "Esc seven times more: the engine (no node count between)"
# A cluster: the node count (default 2, 1 to 100), the nodes' type and
# the head's.
tmux_keys Right Enter
tmux_expect "> Number of nodes +2" "cluster (slurm): the node count is asked, 2 by default"
like "$(tmux_screen)" "Engine +cluster \(slurm\)" "the engine answered, by its label"
tmux_keys C-u
tmux_type 101
tmux_keys Enter
tmux_expect "must be a whole number from 1 to 100, not '101'" "101 nodes is refused with the rule"
tmux_keys C-u
tmux_type 3
tmux_keys Enter Enter Enter
tmux_expect "> Instance type +c7i\.2xlarge" "then the nodes' type (the answer kept)"
tmux_keys Enter
tmux_expect "> Head instance type +t3\.small" "then the head's type, the provider's default for a head (it runs no task)"
like "$(tmux_screen)" "m5\.large  \\\$0\.096/h" "offered with their price per hour"
tmux_keys Tab
tmux_expect "> Head instance type +t3\.medium *$" "Tab takes the next type offered"
tmux_keys Enter Enter
tmux_expect "> Number of inputs +2" "then spot and the inputs, as answered"
tmux_keys Enter Enter Enter
tmux_expect "Check the answers" "the confirmation screen, for a cluster"
screen=$(tmux_screen)
like "$screen" "Engine +cluster \(slurm\)" "answer: engine cluster (slurm)"
like "$screen" "Number of nodes +3" "answer: 3 nodes"
like "$screen" "Instance type +c7i\.2xlarge" "answer: the nodes' type"
like "$screen" "Head instance type +t3\.medium" "answer: the head's type"
# Back to one machine: the node count and the head's type go.
tmux_keys Escape Escape Escape Escape Escape Escape Escape Escape Escape Escape
tmux_expect "> Engine +one machine" "Esc back to the engine"
tmux_keys Left Enter Enter Enter
tmux_expect "> Instance type +c7i\.2xlarge" "one machine again: its type next, no node count"
tmux_keys Enter Enter Enter Enter Enter
tmux_expect "Check the answers" "the confirmation screen"
tmux_absent "Number of nodes" "no node count for one machine"
tmux_absent "Head instance type" "nor a head's type"
tmux_keys Escape Escape Escape Escape Escape Escape Escape Escape
tmux_expect "> Engine +one machine" "Esc back to the engine"
tmux_keys Escape Escape Escape Escape Escape
tmux_expect "Run on this machine" "Esc on the first question leaves the form"
tmux_keys q
tmux_expect "fanout-exit=0" "q quits"

done_testing
