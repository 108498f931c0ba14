#!/bin/bash
# `fanout create` for a cluster from the command line and from an answers
# file: --engine slurm --nodes N --instance-type T --head-instance-type T,
# the same keys in both; --nodes (and the head's type) refused with one
# line and exit 2 for an engine without nodes; a type the checks refuse;
# the printed plan with its price per hour and the estimated run (none
# before the first run, from the history after one). Against moto_server.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
plan_lazy

proj=$(example sleep)
export FANOUT_HISTORY_DIR="$TEST_TMP/history"

help=$("$FANOUT" create --help)
like "$help" "--nodes N +machines that run tasks \(engines with nodes: slurm\)" \
	"--help: --nodes is for the engines with nodes, named"
like "$help" "--head-instance-type T" "--help names --head-instance-type"

# Refused before anything is made: one line, exit 2.
refused() { # refused DESCRIPTION REGEX fanout-args...
	_d=$1 _re=$2
	shift 2
	"$FANOUT" "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
	is 2 $? "$_d: exit 2"
	is 1 "$(wc -l <"$TEST_TMP/err")" "$_d: one line"
	like "$(cat "$TEST_TMP/err")" "$_re" "$_d: the message"
}
refused "--nodes with the bastion engine" \
	"^fanout: --nodes: 'nodes' does not apply to engine 'bastion', only to engine slurm" \
	create "$proj" --engine bastion --nodes 3 --yes
refused "--nodes without an engine (the default, bastion)" \
	"'nodes' does not apply to engine 'bastion'" create "$proj" --nodes 3 --yes
refused "--head-instance-type with the bastion engine" \
	"^fanout: --head-instance-type: 'head_instance_type' does not apply to engine 'bastion'" \
	create "$proj" --head-instance-type c5.large --yes
refused "--nodes 0" "^fanout: --nodes: must be a whole number from 1 to 100, not '0'" \
	create "$proj" --engine slurm --nodes 0 --yes
refused "a malformed instance type" \
	"^fanout: --instance-type: 'C5 large' is not valid: use an instance type such as c5.large" \
	create "$proj" --engine slurm --instance-type 'C5 large' --yes
printf 'project: %s\nengine: bastion\nnodes: 3\n' "$proj" >"$TEST_TMP/bad.yaml"
refused "nodes: in an answers file with the bastion engine" \
	"^fanout: $TEST_TMP/bad.yaml:3:8: nodes: 'nodes' does not apply to engine 'bastion'" \
	create --answers "$TEST_TMP/bad.yaml" --yes
printf 'project: %s\nengine: slurm\nhead_instance_type: "t3 small"\n' "$proj" >"$TEST_TMP/bad2.yaml"
refused "a malformed head_instance_type in an answers file" \
	"bad2.yaml:3:21: head_instance_type: 't3 small' is not valid" \
	create --answers "$TEST_TMP/bad2.yaml" --yes
is "0 0 0" "$(tagged_counts)" "nothing was made by the refused ones"
is "" "$(ls "$FANOUT_HISTORY_DIR" 2>/dev/null)" "and no record was written"

# The answers a create records: the same keys from the options and from
# a file. (The create then runs into the closed port: no sshd. What is
# checked is what it answered and printed before.) Until the provider
# can make a cluster's fleet, a slurm create stops after the menu's
# checks passed, with a line saying so: then those parts are skipped.
created() { # created NAME fanout-args...: the newest record's id
	_n=$1
	shift
	"$FANOUT" create "$@" --keep --no-run --yes >"$TEST_TMP/$_n.out" 2>"$TEST_TMP/$_n.err"
	newest_id
}
answers_of() { # answers_of ID KEY...
	_id=$1
	shift
	rec_get "$_id" "' '.join(str(r['answers'].get(k)) for k in '$*'.split())"
}
nofleet="provider aws cannot run engine slurm yet"
before=$(newest_id)
id=$(created opts "$proj" --engine slurm --nodes 3 --instance-type c5.large \
	--head-instance-type t3.small)
err=$(cat "$TEST_TMP/opts.err")
if grep -q "$nofleet" "$TEST_TMP/opts.err"; then
	is "$before" "$id" "slurm: the menu's checks pass; the provider lacks the fleet (no record)"
	for i in 1 2 3 4 5; do skip "$nofleet"; done
else
	is "slurm 3 c5.large t3.small" "$(answers_of "$id" engine nodes instance_type head_instance_type)" \
		"options: engine, nodes, instance_type, head_instance_type recorded"
	like "$err" "About \\\$[0-9.]+ per hour" "the plan says the price per hour"
	like "$err" "Estimated run: no estimate before the first run" \
		"before the first run, the plan says there is no estimate"
	# c5.large $0.085/h, its 30 GB gp3 disk and public IPv4 address.
	like "$err" "3 x node +c5\.large.*\(\\\$0\.2799/h: 3 x \\\$0\.0933\)" \
		"the plan's node line: 3 x node, c5.large (with disk and address), the price of all three and of one"
	like "$err" "head.*t3\.small" "and the head, t3.small"
	"$FANOUT" cleanup "$id" --yes >/dev/null 2>&1
fi

printf 'project: %s\nengine: slurm\nnodes: 4\ninstance_type: m5.large\nhead_instance_type: t3.micro\n' \
	"$proj" >"$TEST_TMP/good.yaml"
id=$(created file --answers "$TEST_TMP/good.yaml")
if grep -q "$nofleet" "$TEST_TMP/file.err"; then
	skip "$nofleet"
else
	is "slurm 4 m5.large t3.micro" "$(answers_of "$id" engine nodes instance_type head_instance_type)" \
		"an answers file: the same keys, recorded alike"
	"$FANOUT" cleanup "$id" --yes >/dev/null 2>&1
fi

# Defaults: a cluster of 2 nodes, the provider's type for nodes and head.
id=$(created defaults "$proj" --engine slurm)
if grep -q "$nofleet" "$TEST_TMP/defaults.err"; then
	skip "$nofleet"
else
	is "2 c6a.large t3.small" "$(answers_of "$id" nodes instance_type head_instance_type)" \
		"--engine slurm alone: 2 nodes, the provider's default type for both"
	"$FANOUT" cleanup "$id" --yes >/dev/null 2>&1
fi
id=$(created bastion "$proj")
is "bastion None c6a.large None" "$(answers_of "$id" engine nodes instance_type head_instance_type)" \
	"the bastion engine: no nodes, no head type, the default instance type"
err=$(cat "$TEST_TMP/bastion.err")
like "$err" "About \\\$[0-9.]+ per hour" "the plan says the price per hour"
like "$err" "Estimated run: no estimate before the first run" \
	"before the first run, the plan says there is no estimate"
"$FANOUT" cleanup "$id" --yes >/dev/null 2>&1
id=$(created type "$proj" --instance-type c5.large)
like "$(cat "$TEST_TMP/type.err")" "bastion +c5\.large, .*\(\\\$0\.0933/h\)" \
	"--instance-type c5.large: the plan's bastion is a c5.large, with its price"
"$FANOUT" cleanup "$id" --yes >/dev/null 2>&1

# After a run of the project (here on this machine), the plan estimates
# the run from it: serial task time / (nodes x workers) + set-up.
"$FANOUT" run --local "$proj" >/dev/null 2>&1
ok $? "a local run of the project"
id=$(created est "$proj")
like "$(cat "$TEST_TMP/est.err")" "Estimated run: [0-9]+ s, about \\\$[0-9.]+ \([0-9]+ tasks x [0-9.]+ s / \(1 node x [0-9]+ workers\) \+ [0-9]+ s set-up; from 1 earlier run\)" \
	"after a run, the plan estimates the run's length and cost from it"
"$FANOUT" cleanup "$id" --yes >/dev/null 2>&1
id=$(created est3 "$proj" --engine slurm --nodes 3)
if grep -q "$nofleet" "$TEST_TMP/est3.err"; then
	skip "$nofleet"
else
	like "$(cat "$TEST_TMP/est3.err")" "Estimated run: .*/ \(3 nodes x [0-9]+ workers\)" \
		"a cluster's estimate divides over its nodes"
	"$FANOUT" cleanup "$id" --yes >/dev/null 2>&1
fi
is "0 0 0" "$(tagged_counts)" "nothing is left"
done_testing
