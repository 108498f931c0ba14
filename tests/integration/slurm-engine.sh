#!/bin/bash
# The slurm engine on hosts written into a record by hand (no cloud calls;
# slurm-e2e.sh is the same through `fanout create` against moto): its
# set-up steps and its run through tests/slurm-driver, on lib-cluster.sh's
# head and 3 nodes (network namespaces, nodes reached only through the
# head, real munged, slurmctld and slurmd). wordcount gives run --local's
# results with records naming every node; the munge key stays off this
# machine's disk; a second set-up and run sends nothing unchanged; 600
# tiny tasks each end once; a cancel stops the job and keeps what
# finished.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
. "$top_srcdir/tests/integration/lib-cluster.sh"
plan_lazy
DRIVER="$(dirname "$FANOUT")/tests/slurm-driver"
[ -x "$DRIVER" ] || bail "no test driver at $DRIVER"
cluster_setup 3
export FANOUT_SLURMD_TIMEOUT=10

# driver NAME ARGS...: the driver, its JSON in $TEST_TMP/NAME.json, its
# log in $TEST_TMP/NAME.log; the exit status.
driver() {
	_n=$1
	shift
	"$DRIVER" "$@" >"$TEST_TMP/$_n.json" 2>"$TEST_TMP/$_n.log"
}
field() { jq -r "$2" "$TEST_TMP/$1.json"; }

proj=$(example wordcount)
"$FANOUT" run --local "$proj" --results "$TEST_TMP/local" >/dev/null 2>&1 ||
    bail "run --local failed"
driver wc -k "$CLUSTER_KEY" "$proj" 3
is 0 $? "set-up and run of wordcount on 3 nodes" ||
    diag "$(tail -n 30 "$TEST_TMP/wc.log")"
id=$(field wc .id)
res=$(field wc .results)
is "$(sort "$TEST_TMP/local/results.csv")" "$(sort "$res/results.csv")" \
    "results.csv is run --local's"
is "node1 node2 node3" "$(jq -r .host "$res/records.jsonl" | sort -u |
    tr '\n' ' ' | sed 's/ $//')" "the records name the 3 nodes"
is 6 "$(tail -n +2 "$res/logs.csv" | wc -l)" "6 attempts in logs.csv"
missing=0
for l in $(jq -r .log "$res/records.jsonl"); do
	[ -f "$res/logs/$l.out" ] || missing=$((missing + 1))
done
is 0 "$missing" "every record's log came home"
like "$(jq -r '.hosts[] | .name + " " + (.host_key // "-")' \
    "$FANOUT_HISTORY_DIR/$id.json" | tr '\n' ' ')" \
    "^bastion SHA256:[^ ]+ node1 SHA256:[^ ]+ node2 SHA256:[^ ]+ node3 SHA256:" \
    "the host keys of the head and the nodes are recorded"
is "$(field wc .run.engine)" slurm "the run is in the record as slurm's"
like "$(grep 'Nodes\|Workers per node' "$res/performance.txt" | tr -s ' ' |
    tr '\n' ' ')" "Nodes 3 Workers per node 2" "performance.txt: 3 nodes x 2"
key=$(cluster_exec head 'base64 -w 0 /etc/munge/munge.key')
[ -n "$key" ] || bail "no munge key on the head"
for h in node1 node2 node3; do
	is "$key" "$(cluster_exec "$h" 'base64 -w 0 /etc/munge/munge.key')" \
	    "$h has the head's munge key"
done
short=${key:0:24}
is "" "$(grep -rlF -- "$short" "$FANOUT_HISTORY_DIR" "$TEST_TMP/wc.log" \
    "$res" 2>/dev/null)" "the munge key is in no file here"
diag "wordcount: set-up $(field wc .ready_s) s, first task $(field wc .first_task_s) s"

# Again, as a resume does: quick, nothing sent.
driver again -i "$id" "$proj" 3
is 0 $? "set-up and run again" || diag "$(tail -n 30 "$TEST_TMP/again.log")"
is 0 "$(field again .run.files_sent)" "no file sent the second time"
is 3 "$(grep -c ': 0 of 8 files sent' "$TEST_TMP/again.log")" \
    "each node was asked, and needed nothing"
is "$(sort "$TEST_TMP/local/results.csv")" \
    "$(sort "$(field again .results)/results.csv")" "the same results"
like "$(grep -c 'slurmd started\|slurmctld started\|munged started' \
    "$TEST_TMP/again.log")" "^0$" "no daemon started again"
diag "again: set-up $(field again .ready_s) s, first task $(field again .first_task_s) s"

# 600 tiny tasks.
big="$TEST_TMP/tiny"
mkdir -p "$big"
seq 1 600 | sed 's/^/n/' >"$big/list"
{
	echo "name: tiny"
	echo "entrypoint: ./task.sh"
	echo "inputs:"
	echo "  list:"
	sed 's/^/    - /' "$big/list"
	echo "workers: 2"
	echo "timeout: 60"
	echo "retries: 0"
} >"$big/fanout.yaml"
printf '#!/bin/sh\nprintf '"'"'{"n": "%%s"}\\n'"'"' "$1"\n' >"$big/task.sh"
chmod +x "$big/task.sh"
driver tiny -i "$id" "$big" 3
is 0 $? "600 tasks on 3 nodes" || diag "$(tail -n 30 "$TEST_TMP/tiny.log")"
r=$(field tiny .results)
is 600 "$(field tiny .ok_tasks)" "600 ok"
is "$(seq 1 600 | sed 's/^/n/' | sort)" "$(tail -n +2 "$r/results.csv" |
    cut -d, -f2 | sort)" "each input once in results.csv"
is 3 "$(jq -r .host "$r/records.jsonl" | sort -u | wc -l)" "on 3 hosts"
like "$(grep 'Slurm job' "$TEST_TMP/tiny.log")" "in 12 elements" \
    "12 elements: 4 per node"
diag "600 tasks: efficiency $(field tiny .efficiency), $(grep 'Parallel span\|Total time' "$r/performance.txt" | tr -s ' ' | tr '\n' ';')"

# A cancel after some records: the job goes, what finished is kept.
cat >"$big/task.sh" <<'S'
#!/bin/sh
sleep 0.2
printf '{"n": "%s"}\n' "$1"
S
driver cancel -i "$id" -c 30 "$big" 3
is 0 $? "a cancelled run ends" || diag "$(tail -n 30 "$TEST_TMP/cancel.log")"
r=$(field cancel .results)
is true "$(field cancel .cancelled)" "it says cancelled"
ok "$([ "$(field cancel .ok_tasks)" -ge 30 ] &&
    [ "$(field cancel .ok_tasks)" -lt 600 ]; echo $?)" \
    "what finished is kept ($(field cancel .ok_tasks) ok)"
is 600 "$(($(field cancel .ok_tasks) + $(field cancel .errors) + \
    $(field cancel .unfinished)))" "the rest is unfinished"
is "" "$(cluster_exec head 'squeue -h')" "no job left in Slurm"
done_testing
