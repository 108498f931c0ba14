#!/bin/bash
# The slurm engine at scale, through the CLI: moto_server makes the head
# and 8 nodes (lib-aws.sh), lib-cluster.sh's hosts in network namespaces
# stand in for them (real munged, slurmctld and slurmd). 5,000 tiny tasks
# (a list of inputs, each task printing a JSON object) through
# `fanout create --engine slurm --nodes 8 --yes --cleanup-after`: exit 0,
# each input exactly once in results.csv, no errors, records naming the 8
# nodes, and nothing tagged left in moto afterwards (aws CLI).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
. "$top_srcdir/tests/integration/lib-cluster.sh"
plan_lazy
cluster_setup 8
export FANOUT_SLURMD_TIMEOUT=10

n=5000
p="$TEST_TMP/tiny"
mkdir -p "$p"
{
	echo "name: tiny"
	echo "entrypoint: ./task.sh"
	echo "inputs:"
	echo "  list:"
	seq 1 "$n" | sed 's/^/    - n/'
	echo "workers: 2"
	echo "timeout: 60"
	echo "retries: 0"
} >"$p/fanout.yaml"
printf '#!/bin/sh\nprintf '"'"'{"n": "%%s"}\\n'"'"' "$1"\n' >"$p/task.sh"
chmod +x "$p/task.sh"

# The create has a deadline (5 minutes), not a sleep: it runs in the
# background and is killed if it has not ended by then.
"$FANOUT" create "$p" --engine slurm --nodes 8 --yes --cleanup-after \
    >"$TEST_TMP/id" 2>"$TEST_TMP/create.err" &
cpid=$!
create_ended() { ! kill -0 "$cpid" 2>/dev/null; }
if ! wait_for 300 create_ended; then
	kill "$cpid" 2>/dev/null
	diag "$(tail -n 30 "$TEST_TMP/create.err")"
fi
wait "$cpid"
rc=$?
is 0 "$rc" "$n tasks on 8 nodes: create --engine slurm --nodes 8 exits 0" ||
    diag "$(tail -n 30 "$TEST_TMP/create.err")"
id=$(cat "$TEST_TMP/id")
[ -n "$id" ] || id=$(newest_id)
r=$(rec_get "$id" 'r["runs"][-1]["results"]')
[ -n "$r" ] && [ -d "$r" ] || bail "no results folder for run set '$id'"
is "$(seq 1 "$n" | sed 's/^/n/' | sort)" "$(tail -n +2 "$r/results.csv" |
    cut -d, -f2 | sort)" "each of the $n inputs exactly once in results.csv"
errs=0
[ ! -f "$r/errors.csv" ] || errs=$(tail -n +2 "$r/errors.csv" | grep -c .)
is 0 "$errs" "no errors (errors.csv holds no row)"
is "$n" "$(jq -r 'select(.status == "ok") | .input' "$r/records.jsonl" |
    sort -u | wc -l)" "$n records with status ok, one per input"
is 8 "$(jq -r .host "$r/records.jsonl" | sort -u | wc -l)" \
    "the records name 8 distinct hosts"
is "deleted" "$(rec_get "$id" 'r["state"]')" "--cleanup-after deleted the run set"
is "0 0 0" "$(tagged_counts)" \
    "nothing tagged is left (instances, groups, key pairs)"
is 0 "$(awsq ec2 describe-launch-templates \
    --filters Name=tag:managedBy,Values=fanout \
    --query 'LaunchTemplates[].LaunchTemplateId' | wc -w)" \
    "no launch template tagged is left (aws CLI)"
diag "$n tasks: $(grep -E 'Efficiency|Parallel span|Total time' "$r/performance.txt" | tr -s ' ' | tr '\n' ';')"
done_testing
