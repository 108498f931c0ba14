#!/bin/bash
# The slurm engine end to end through the CLI: moto_server makes the head
# and 3 nodes (lib-aws.sh), lib-cluster.sh's hosts in network namespaces
# stand in for them (real munged, slurmctld and slurmd; nodes reached only
# through the head). `fanout create --engine slurm --nodes 3 --yes` sets
# the cluster up and runs wordcount as one job array: run --local's
# results, records naming the 3 nodes; `fanout resume` sends nothing
# unchanged; a 600-task project runs each task once; cleanup leaves
# nothing tagged.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
. "$top_srcdir/tests/integration/lib-cluster.sh"
plan_lazy
cluster_setup 3
export FANOUT_SLURMD_TIMEOUT=10

proj=$(example wordcount)
"$FANOUT" run --local "$proj" --results "$TEST_TMP/local" >/dev/null 2>&1 ||
    bail "run --local failed"
t0=$(date +%s.%N)
"$FANOUT" create "$proj" --engine slurm --nodes 3 --keep --yes \
    >"$TEST_TMP/id" 2>"$TEST_TMP/create.err"
rc=$?
is 0 "$rc" "create --engine slurm --nodes 3 --yes runs wordcount and exits 0" ||
    diag "$(tail -n 30 "$TEST_TMP/create.err")"
id=$(cat "$TEST_TMP/id")
r1=$(rec_get "$id" 'r["runs"][-1]["results"]')
is "$(sort "$TEST_TMP/local/results.csv")" "$(sort "$r1/results.csv")" \
    "results.csv is run --local's"
hosts=$(jq -r .host "$r1/records.jsonl" | sort -u)
is 3 "$(wc -l <<<"$hosts")" "the records name 3 distinct hosts"
is "slurm" "$(rec_get "$id" 'r["runs"][-1]["engine"]')" \
    "the run is recorded with its engine"
for s in "head setup" "nodes setup" "controller" "cluster ready"; do
	like "$(cat "$TEST_TMP/create.err")" "$s" "the create ran step '$s'"
done
first=$(jq -s 'map(.start) | min' "$r1/records.jsonl")
diag "yes to first task: $(echo "$first - $t0" | bc) s"

# Resume: the machines start again, the set-up runs again (quick), the
# project is not sent again.
"$FANOUT" resume "$id" --yes >/dev/null 2>"$TEST_TMP/resume.err"
rc=$?
is 0 "$rc" "resume exits 0" || diag "$(tail -n 30 "$TEST_TMP/resume.err")"
is 0 "$(rec_get "$id" 'r["runs"][-1]["files_sent"]')" \
    "resume uploads nothing unchanged"
r2=$(rec_get "$id" 'r["runs"][-1]["results"]')
ok "$([ "$r1" != "$r2" ]; echo $?)" "a second results folder"
is "$(sort "$TEST_TMP/local/results.csv")" "$(sort "$r2/results.csv")" \
    "with the same results"

"$FANOUT" cleanup "$id" --yes >/dev/null 2>"$TEST_TMP/cleanup.err"
is 0 $? "cleanup exits 0" || diag "$(tail -n 20 "$TEST_TMP/cleanup.err")"
is "deleted" "$(rec_get "$id" 'r["state"]')" "the run set is deleted"

# 600 tiny tasks on 3 nodes.
big="$TEST_TMP/tiny"
mkdir -p "$big"
{
	echo "name: tiny"
	echo "entrypoint: ./task.sh"
	echo "inputs:"
	echo "  list:"
	seq 1 600 | sed 's/^/    - n/'
	echo "workers: 2"
	echo "timeout: 60"
} >"$big/fanout.yaml"
printf '#!/bin/sh\nprintf '"'"'{"n": "%%s"}\\n'"'"' "$1"\n' >"$big/task.sh"
chmod +x "$big/task.sh"
"$FANOUT" create "$big" --engine slurm --nodes 3 --yes --cleanup-after \
    >"$TEST_TMP/id2" 2>"$TEST_TMP/create2.err"
rc=$?
is 0 "$rc" "600 tasks on 3 nodes: create exits 0" ||
    diag "$(tail -n 30 "$TEST_TMP/create2.err")"
id2=$(cat "$TEST_TMP/id2")
r3=$(rec_get "$id2" 'r["runs"][-1]["results"]')
is "$(seq 1 600 | sed 's/^/n/' | sort)" "$(tail -n +2 "$r3/results.csv" |
    cut -d, -f2 | sort)" "each of the 600 inputs once in results.csv"
is 3 "$(jq -r .host "$r3/records.jsonl" | sort -u | wc -l)" \
    "the 600 tasks ran on 3 hosts"
is "deleted" "$(rec_get "$id2" 'r["state"]')" "--cleanup-after deleted it"
diag "600 tasks: $(grep -E 'Efficiency|Parallel span|Total time' "$r3/performance.txt" | tr -s ' ' | tr '\n' ';')"
is "0 0 0" "$(tagged_counts)" "nothing tagged is left (instances, groups, key pairs)"
done_testing
