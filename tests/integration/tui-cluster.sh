#!/bin/bash
# A cluster driven from the menu (tmux): moto_server makes the head and 3
# nodes (lib-aws.sh), lib-cluster.sh's hosts in network namespaces stand
# in for them (real munged, slurmctld and slurmd). The create form with
# engine "cluster (slurm)", 3 nodes and the types' prices; the
# confirmation's whole cluster (head + 3 x node, per hour); the progress
# screen's fleet and set-up steps; the run to 100 % and the results
# screen with Nodes 3. Then, outside the TUI: run --local's results,
# records from 3 distinct hosts, the run set in history, cleanup.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
. "$top_srcdir/tests/integration/lib-cluster.sh"
. "$top_srcdir/tests/integration/lib-tmux.sh"
plan_lazy
cluster_setup 3
export FANOUT_SLURMD_TIMEOUT=10

proj=$(example wordcount)
"$FANOUT" run --local "$proj" --results "$TEST_TMP/local" >/dev/null 2>&1 ||
    bail "run --local failed"

TMUX_PASS_ENV="HOME AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
    AWS_DEFAULT_REGION AWS_ENDPOINT_URL FANOUT_CHECKIP_URL
    FANOUT_BASTION_ADDRESS FANOUT_BASTION_DIR FANOUT_SSH_WAIT
    FANOUT_SLURMD_TIMEOUT"
tmux_start 120 40
tmux_run "$FANOUT; echo fanout-exit=\$?"
tmux_expect "Run on this machine" "the main menu appears"
tmux_keys c
tmux_expect "> Project folder" "create asks the project folder"
tmux_type "$proj"
tmux_keys Enter Enter Enter Enter
tmux_expect "> Engine +one machine \(bastion\)" "the engine, by its label"
like "$(tmux_screen)" "> Engine +one machine \(bastion\) +cluster \(slurm\)" \
    "both engines offered by their labels"
tmux_keys Right Enter
tmux_expect "> Number of nodes +2" "Right, Enter: a cluster, whose node count is asked"
like "$(tmux_screen)" "Engine +cluster \(slurm\)" "the engine answered by its label"
tmux_absent "Engine +slurm" "not by its name"
tmux_keys C-u
tmux_type 3
tmux_keys Enter Enter Enter
tmux_expect "> Instance type +c6a\.large" "the nodes' instance type (vCPUs and memory left empty)"
like "$(tmux_screen)" "c5\.large  \\\$0\.085/h" "offered with their price per hour"
tmux_keys Enter
tmux_expect "> Head instance type +t3\.small" "the head's instance type, a head's default"
tmux_keys Enter Enter Enter
tmux_expect "> Clean up everything after the run" "the last question"
tmux_keys n Enter
tmux_keys Enter	# the idle stop's default (a kept run set)
tmux_expect "Check the answers" "the confirmation"
tmux_expect "Press Enter to start" "once the provider's plan has come" 30
screen=$(tmux_screen)
like "$screen" "Engine +cluster \(slurm\)" "answer: engine cluster (slurm)"
like "$screen" "Number of nodes +3" "answer: 3 nodes"
tmux_keys G
screen=$(tmux_screen)
like "$screen" "instance +head +0\.0[0-9]+" "the plan: the head, with its price per hour"
like "$screen" "instance +3 x node +0\.[0-9]+" "and 3 x node, with theirs"
like "$screen" "launch_template +launch template" "and the nodes' launch template"
like "$screen" "Estimated cost: \\\$[0-9.]+ an hour" "the whole cluster's cost per hour"
tmux_expect "3 nodes x 2 workers" "the run estimated over 3 nodes"
is "0 0 0" "$(tagged_counts)" "nothing is made before Enter"

# The progress screen is replaced by the results once the run ends: a
# recorder keeps every screen it shows meanwhile.
rec="$TEST_TMP/screens"
: >"$rec"
( while :; do tmux_screen >>"$rec" 2>/dev/null; echo "--" >>"$rec"; sleep 0.05; done ) &
recorder=$!
at_exit "kill $recorder 2>/dev/null"
tmux_keys Enter
for s in "nodes" "nodes running" "head setup" "nodes setup" "controller" "cluster ready"; do
	tmux_expect "ok +$s +[0-9.]+s" "the progress screen shows the step '$s' done" 180
done
tmux_expect "Efficiency" "the results screen" 180
kill "$recorder" 2>/dev/null
wait "$recorder" 2>/dev/null
ok "$(grep -Eq 'Tasks +\[#+\] 6/6 done, 0 failed' "$rec"; echo $?)" \
    "the run's progress reached 100 % (Tasks [###] 6/6 done, 0 failed)"
screen=$(tmux_screen)
like "$screen" "Succeeded +6 " "the results screen: all six tasks ok"
like "$screen" "Nodes +3" "performance: Nodes 3"
like "$screen" "Slots +6 \(3 nodes x 2 w" "performance: 6 slots (3 nodes x 2 workers)"
for n in 1 2 3; do
	like "$screen" "node$n w1 \|" "the Gantt chart has node$n's rows"
done
like "$screen" "Machines: cluster \(head \+ 3 nodes\) stopped" \
    "the machines' fate names the cluster, not a bastion"
id=$(newest_id)
like "$id" '^fo-[0-9]{8}-[a-z0-9]{4}$' "the run set is recorded ($id)"
r1=$(rec_get "$id" 'r["runs"][-1]["results"]')
is "$(sort "$TEST_TMP/local/results.csv")" "$(sort "$r1/results.csv")" \
    "results.csv is run --local's"
is 3 "$(jq -r .host "$r1/records.jsonl" | sort -u | wc -l)" \
    "the records name 3 distinct hosts"
is stopped "$(rec_get "$id" 'r["state"]')" "kept, as answered, with its machines stopped"
is slurm "$(rec_get "$id" 'r["runs"][-1]["engine"]')" "the run's engine: slurm"
tmux_keys Escape
tmux_keys h
tmux_expect "$id +wordcount" "history lists the run set"
like "$(tmux_screen)" "$id +wordcount +aws/us-east-1 +stopped" "kept (clean up: no), stopped"
tmux_keys Enter
tmux_expect "Resources \\([0-9]+\\)" "Enter: its resources"
screen=$(tmux_screen)
like "$screen" "instance +bastion +head +i-[0-9a-f]+ +created" \
    "the head's instance, with its role"
for n in 1 2 3; do
	like "$screen" "instance +node$n +compute +i-[0-9a-f]+ +created" \
	    "node$n's instance, with its role"
done
like "$screen" "launch_template +fanout-$id-compute +- +lt-[0-9a-f]+ +created" \
    "the nodes' launch template"
cols=$(tmux_screen | grep -E '^ +[a-z_]+ +[^ ]+ +([a-z-]+ +)?(i|sg|lt|key)-[0-9a-f]+ +created' |
    awk '{ print match($0, / (i|sg|lt|key)-[0-9a-f]+ /) }')
is "8 1" "$(wc -l <<<"$cols") $(sort -u <<<"$cols" | wc -l)" \
    "the 8 resources' ids in one column (kinds and names as long as a cluster's)"
like "$screen" "head_instance_type +t3\.small" "the answers: the head's type"
tmux_keys Escape Escape Escape
tmux_keys q
tmux_expect "fanout-exit=0" "q quits"

"$FANOUT" cleanup "$id" --yes >/dev/null 2>"$TEST_TMP/cleanup.err"
is 0 $? "cleanup ID exits 0" || diag "$(tail -n 20 "$TEST_TMP/cleanup.err")"
is deleted "$(rec_get "$id" 'r["state"]')" "the run set is deleted"
is "0 0 0" "$(tagged_counts)" "nothing tagged is left (instances, groups, key pairs)"
is "" "$(awsq ec2 describe-launch-templates --filters Name=tag:managedBy,Values=fanout \
    --query 'LaunchTemplates[].LaunchTemplateId')" "the aws CLI lists no launch template tagged"
is "" "$(awsq ec2 describe-instances --filters Name=tag:managedBy,Values=fanout \
    Name=instance-state-name,Values=pending,running,stopping,stopped \
    --query 'Reservations[].Instances[].InstanceId')" "nor any instance"
done_testing
