#!/bin/bash
# setup: on every node of the slurm engine (tests/slurm-driver on
# lib-cluster.sh's head and 2 nodes: namespaces with private folders, so
# each node keeps its own marker): after two set-ups and runs each node's
# setup ran once; after requirements.txt changes, once more on each; its
# lines are in the log under "nodes setup"; the command-line entrypoint
# runs on the nodes; a failing setup stops the set-up with its last line
# and no task runs; a program missing on the nodes is named before any
# task.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
. "$top_srcdir/tests/integration/lib-cluster.sh"
. "$top_srcdir/tests/integration/lib-setup.sh"
plan_lazy
DRIVER="$(dirname "$FANOUT")/tests/slurm-driver"
[ -x "$DRIVER" ] || bail "no test driver at $DRIVER"
cluster_setup 2
export FANOUT_SLURMD_TIMEOUT=10

driver() {
	_n=$1
	shift
	"$DRIVER" "$@" >"$TEST_TMP/$_n.json" 2>"$TEST_TMP/$_n.log"
}
field() { jq -r "$2" "$TEST_TMP/$1.json"; }
# runs HOST: how many times the setup ran on HOST (its marker's lines).
runs() {
	cluster_exec "$1" "cat $CLUSTER_WORK/setup-runs 2>/dev/null" |
	    wc -l | tr -d ' '
}

setup_project setup-slurm 4
setup_yaml "$SETUP_COUNTING" 'sh ./task.sh --flag'

driver one -k "$CLUSTER_KEY" "$p" 2
is 0 $? "set-up and run with a setup on 2 nodes" ||
    diag "$(tail -n 30 "$TEST_TMP/one.log")"
id=$(field one .id)
for h in node1 node2; do
	is 1 "$(runs $h)" "$h: the setup ran once"
	like "$(cat "$TEST_TMP/one.log")" "nodes setup: $h: installing from requirements.txt" \
	    "$h: its output is in the log"
done
res=$(field one .results)
is "$(setup_results 4)" "$(head -1 "$res/results.csv"; tail -n +2 "$res/results.csv" | sort -n)" \
    "the command-line entrypoint ran on the nodes, the input last"

driver two -i "$id" "$p" 2
is 0 $? "set-up and run again (a resume)" ||
    diag "$(tail -n 30 "$TEST_TMP/two.log")"
for h in node1 node2; do
	is 1 "$(runs $h)" "$h: after two runs the setup ran once"
done
is 2 "$(grep -c 'setup done already' "$TEST_TMP/two.log")" \
    "each node says its setup was current"

printf 'requests==2.31.0\n' >"$p/requirements.txt"
driver three -i "$id" "$p" 2
is 0 $? "set-up and run after requirements.txt changed" ||
    diag "$(tail -n 30 "$TEST_TMP/three.log")"
for h in node1 node2; do
	is 2 "$(runs $h)" "$h: the setup ran again after requirements.txt changed"
done

# A failing setup: the set-up stops with its last line; no task runs.
setup_yaml "$SETUP_FAILING" 'sh ./task.sh --flag'
driver four -i "$id" "$p" 2
is false "$(field four .ok)" "a failing setup: the set-up fails"
like "$(field four .error)" "^setup failed on node[12] \(exit 4\): no such package: zzz" \
    "the cause names a node and the setup's last line"
like "$(cat "$TEST_TMP/four.log")" "nodes setup: node1: step one" \
    "its earlier lines are in the log"
is "null" "$(field four '.results // null')" "no run, no results"
ok "$(! grep -q '^task ' "$TEST_TMP/four.log"; echo $?)" "no task record came"

# A program the nodes lack: named at set-up, before any task.
setup_yaml '"true"' 'no-such-prog-3e1 --x'
driver five -i "$id" "$p" 2
is false "$(field five .ok)" "a program missing on the nodes: the set-up fails"
like "$(field five .error)" "^on node[12] the entrypoint's program no-such-prog-3e1 is not on PATH" \
    "one line names it and the node"
is "null" "$(field five '.results // null')" "no run, no results"
done_testing
