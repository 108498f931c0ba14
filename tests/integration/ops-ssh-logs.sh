#!/bin/bash
# fanout ssh ID [-- COMMAND] and fanout logs ID [TASK] against moto_server
# (EC2) and a loopback OpenSSH sshd standing in for the head: a task's
# output read on the head while it runs, then from the results folder; a
# command on the head with its exit status passed through; a stopped run
# set and a changed host key refused.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
plan_lazy

sshd_setup 127.0.0.1
sshd_start
sshd_as_bastion

# Four tasks on two workers; task 3 prints, then waits for the gate file
# (the test opens it once it has read the output so far).
proj="$TEST_TMP/gated"
mkdir -p "$proj/data"
for i in 0 1 2 3; do echo "$i" >"$proj/data/in-$i.txt"; done
cat >"$proj/fanout.yaml" <<YAML
name: gated-demo
entrypoint: ./entrypoint
inputs:
  glob: data/*.txt
workers: 2
timeout: 120
retries: 0
env:
  GATE: "$TEST_TMP/gate"
YAML
cat >"$proj/entrypoint" <<'SH'
#!/bin/sh
echo "task $FANOUT_TASK begins on $1"
echo "stderr of task $FANOUT_TASK" >&2
if [ "$FANOUT_TASK" = 3 ]; then
	while [ ! -e "$GATE" ]; do sleep 0.05; done
	echo "task 3 past the gate"
fi
printf '{"task": %s}\n' "$FANOUT_TASK"
SH
chmod +x "$proj/entrypoint"

"$FANOUT" create "$proj" --provider aws --region us-east-1 --keep --yes \
    >"$TEST_TMP/id" 2>"$TEST_TMP/create.err" &
create_pid=$!
at_exit "touch '$TEST_TMP/gate'; kill $create_pid 2>/dev/null"

live_id() {
	for f in "$FANOUT_HISTORY_DIR"/fo-*.json; do
		[ -f "$f" ] || continue
		python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r.get("live_run") else 1)' "$f" || continue
		basename "$f" .json
		return 0
	done
	return 1
}
wait_for 120 live_id
id=$(live_id)
like "$id" '^fo-[0-9]{8}-[a-z0-9]{4}$' "the create records its run before it starts"

task3_begun() {
	"$FANOUT" logs "$id" 3 >"$TEST_TMP/live.out" 2>"$TEST_TMP/live.err" &&
	    grep -q "task 3 begins" "$TEST_TMP/live.out"
}
wait_for 120 task3_begun
ok $? "fanout logs ID 3 reads task 3's output on the head while it runs"
is "task 3 begins on data/in-3.txt" "$(cat "$TEST_TMP/live.out")" \
    "logs ID 3 during the run: the running task's stdout so far, on stdout"
is "stderr of task 3" "$(cat "$TEST_TMP/live.err")" \
    "logs ID 3 during the run: its stderr so far, on stderr"
ok "$([ -z "$(rec_get "$id" 'r["runs"]')" ] || [ "$(rec_get "$id" 'len(r["runs"])')" = 0 ]; echo $?)" \
    "the run has not come home yet (no run in the record)"
"$FANOUT" logs "$id" 1 >"$TEST_TMP/live1.out" 2>/dev/null
is 0 $? "logs ID 1 during the run exits 0"
is "$(printf 'task 1 begins on data/in-1.txt\n{"task": 1}')" "$(cat "$TEST_TMP/live1.out")" \
    "logs ID 1 during the run: a finished task's whole stdout, from the head"
"$FANOUT" logs "$id" >"$TEST_TMP/live-all.out" 2>/dev/null
like "$(cat "$TEST_TMP/live-all.out")" '^1,data/in-1.txt,' "logs ID during the run lists the attempts so far"

touch "$TEST_TMP/gate"
wait "$create_pid"
rc=$?
is 0 "$rc" "the create ends once the gate opens"
[ "$rc" -eq 0 ] || diag "$(tail -20 "$TEST_TMP/create.err")"
is "stopped" "$(rec_get "$id" 'r["state"]')" "the run set is kept, stopped"
"$FANOUT" logs "$id" 3 >"$TEST_TMP/after.out" 2>"$TEST_TMP/after.err"
is 0 $? "logs ID 3 after the run exits 0"
is "$(printf 'task 3 begins on data/in-3.txt\ntask 3 past the gate\n{"task": 3}')" \
    "$(cat "$TEST_TMP/after.out")" "logs ID 3 after the run: its whole stdout, from the results folder"
is "stderr of task 3" "$(cat "$TEST_TMP/after.err")" "and its stderr on stderr"

# ssh on a stopped run set: one line saying what to do, exit 2.
"$FANOUT" ssh "$id" -- hostname >"$TEST_TMP/ssh0.out" 2>"$TEST_TMP/ssh0.err"
is 2 $? "fanout ssh on a stopped run set exits 2"
like "$(cat "$TEST_TMP/ssh0.err")" "is stopped; start it with 'fanout resume $id" "and says how to start it"
is 1 "$(wc -l <"$TEST_TMP/ssh0.err")" "in one line"

"$FANOUT" resume "$id" --no-run >/dev/null 2>"$TEST_TMP/resume.err"
is 0 $? "resume --no-run starts the head"
"$FANOUT" ssh "$id" -- hostname >"$TEST_TMP/ssh1.out" 2>"$TEST_TMP/ssh1.err"
rc=$?
is 0 "$rc" "fanout ssh ID -- hostname exits 0"
[ "$rc" -eq 0 ] || diag "$(cat "$TEST_TMP/ssh1.err")"
is "$(hostname)" "$(cat "$TEST_TMP/ssh1.out")" "fanout ssh ID -- hostname prints the head's host name"
"$FANOUT" ssh "$id" -- 'printf "a\0b" ; printf err >&2; exit 7' >"$TEST_TMP/ssh2.out" 2>"$TEST_TMP/ssh2.err"
is 7 $? "the command's exit status is fanout ssh's"
is "610062" "$(od -An -tx1 "$TEST_TMP/ssh2.out" | tr -d ' \n')" "its stdout byte for byte"
is "err" "$(cat "$TEST_TMP/ssh2.err")" "its stderr on stderr"

# A changed host key is refused before anything runs.
sshd_stop
sshd_new_hostkey
sshd_start
"$FANOUT" ssh "$id" -- touch "$TEST_TMP/ran" >"$TEST_TMP/ssh3.out" 2>"$TEST_TMP/ssh3.err"
is 1 $? "fanout ssh with a changed host key exits 1"
like "$(cat "$TEST_TMP/ssh3.err")" "host key changed: recorded SHA256:[A-Za-z0-9+/]+, server offers SHA256:" \
    "it names the recorded and the offered key"
ok "$([ ! -e "$TEST_TMP/ran" ]; echo $?)" "and the command did not run"

"$FANOUT" cleanup "$id" --yes >/dev/null 2>&1
"$FANOUT" ssh "$id" >/dev/null 2>"$TEST_TMP/ssh4.err"
is 2 $? "fanout ssh on a cleaned-up run set exits 2"
done_testing
