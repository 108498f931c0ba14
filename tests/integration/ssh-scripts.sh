#!/bin/bash
# fanout-worker (the remote side; templates/harness.sh before it) and
# bastion-setup.sh, run directly (no SSH): the records the worker writes,
# timeouts, retries, bad JSON, worker slots and their logs, the
# detached-run markers, and set-up idempotence. The worker's shipped
# sources build with a bare cc; bastion-setup.sh passes shellcheck.
. "$top_srcdir/tests/integration/lib.sh"
plan_lazy

worker=${FANOUT_WORKER_BIN:-$(dirname "$FANOUT")/fanout-worker}
setup="$top_srcdir/templates/bastion-setup.sh"

if command -v cc >/dev/null; then
	(cd "$top_srcdir/src/worker" && cc -O2 -Wall -Wextra -Werror \
	    -o "$TEST_TMP/fanout-worker-cc" worker.c taskpool.c taskpool-json.c) >"$TEST_TMP/cc.out" 2>&1
	ok $? "the worker's sources build alone with cc -Wall -Wextra -Werror" ||
	    diag "$(head -5 "$TEST_TMP/cc.out")"
else
	skip "no cc"
fi
if command -v shellcheck >/dev/null; then
	check "bastion-setup.sh passes shellcheck" shellcheck -s sh "$setup"
else
	skip "shellcheck not installed"
fi
# A project whose inputs say what the entrypoint does.
proj="$TEST_TMP/proj"
mkdir -p "$proj/in"
cat >"$proj/entrypoint" <<'SH'
#!/bin/sh
what=$(cat "$1")
echo "starting $FANOUT_TASK on worker $FANOUT_WORKER" >&2
case $what in
ok) printf 'log line\n{"input": "%s", "greeting": "%s", "n": 1}\n' "$1" "$GREETING" ;;
bad) echo "not json" ;;
fail) exit 3 ;;
slow) sleep 30 ;;
flaky) [ "$FANOUT_ATTEMPT" -ge 2 ] || exit 1; echo '{"attempt": 2}' ;;
array) echo '[1, 2]' ;;
esac
SH
chmod +x "$proj/entrypoint"
for w in ok bad fail slow flaky array ok ok; do
	n=$(ls "$proj/in" | wc -l)
	echo "$w" >"$proj/in/$n-$w"
done

run="$TEST_TMP/run"
mkdir -p "$run"
(cd "$proj" && ls in/* ) >"$run/inputs"

GREETING='hi there' "$worker" run "$run" "$proj" ./entrypoint 3 2 1 >"$TEST_TMP/worker.out" 2>&1
is 0 "$?" "the worker ends well"
is 0 "$(cat "$run/done")" "done holds the exit status"
check "pid file written" test -s "$run/pid"
is 13 "$(wc -l <"$run/records.jsonl")" "one record per attempt (8 tasks, 5 retried)"

summary=$(python3 - "$run" <<'PY'
import json, sys
keys = ["task", "input", "worker", "host", "pid", "start", "end", "exit",
        "attempt", "status", "line", "error", "log", "out_off", "out_len",
        "err_off", "err_len"]
out = []
for line in open(sys.argv[1] + "/records.jsonl"):
    r = json.loads(line)
    # stderr_tail (optional) ends a failed attempt's record
    assert list(r) in (keys, keys + ["stderr_tail"]), list(r)
    assert "stderr_tail" not in r or r["status"] != "ok", r
    assert r["end"] >= r["start"] and 1 <= r["worker"] <= 3
    assert r["log"] == "w%d" % r["worker"]
    res = json.loads(r["line"]) if r["line"] is not None else None
    out.append((r["task"], r["attempt"], r["status"], r["exit"],
                json.dumps(res, sort_keys=True)))
for t in sorted(out):
    print(*t)
PY
)
ok $? "records have the keys of src/run/record.h in order (\"line\" for \"result\")"
expect=$(cat <<'TXT'
0 1 ok 0 {"greeting": "hi there", "input": "in/0-ok", "n": 1}
1 1 badjson 0 null
1 2 badjson 0 null
2 1 failed 3 null
2 2 failed 3 null
3 1 timeout 143 null
3 2 timeout 143 null
4 1 failed 1 null
4 2 ok 0 {"attempt": 2}
5 1 badjson 0 null
5 2 badjson 0 null
6 1 ok 0 {"greeting": "hi there", "input": "in/6-ok", "n": 1}
7 1 ok 0 {"greeting": "hi there", "input": "in/7-ok", "n": 1}
TXT
)
is "$expect" "$summary" "statuses, exits, retries and results as the local engine"
slice() { # slice TASK out|err: that stream of the task's first attempt
	python3 - "$run" "$1" "$2" <<'PY'
import json, sys
run, task, ext = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for line in open(run + "/records.jsonl"):
    r = json.loads(line)
    if r["task"] == task and r["attempt"] == 1:
        with open("%s/logs/%s.%s" % (run, r["log"], ext), "rb") as f:
            f.seek(r[ext + "_off"])
            sys.stdout.write(f.read(r[ext + "_len"]).decode())
PY
}
like "$(slice 0 out)" "log line" "stdout kept in the worker's log, at the record's offsets"
like "$(slice 0 err)" "starting 0 on worker" "stderr likewise"
is "starting 2 on worker" "$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["task"] == 2: print(r["stderr_tail"].rsplit(" ", 1)[0]); break' "$run/records.jsonl")" \
    "a failed attempt carries its last stderr line (stderr_tail)"
is 6 "$(ls "$run/logs" | wc -l | tr -d ' ')" "two log files per worker slot, none per task"

# Worker numbers: never two running tasks with the same one.
overlap=$(python3 - "$run/records.jsonl" <<'PY'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
bad = 0
for a in rs:
    for b in rs:
        if a is not b and a["worker"] == b["worker"] and \
           a["start"] < b["end"] and b["start"] < a["end"]:
            bad += 1
print(bad)
PY
)
is 0 "$overlap" "no two overlapping tasks share a worker number"

# stop on a run whose pool died without writing done, and whose pid now
# belongs to another process: that process is not signalled (the pool's
# lock on RUN/lock is gone, so the pid is not trusted); done says 130.
stale="$TEST_TMP/stale-run"
mkdir -p "$stale"
sleep 300 &
other=$!
at_exit "kill $other 2>/dev/null"
echo "$other" >"$stale/pid"
: >"$stale/lock"
"$worker" stop "$stale"
ok $? "stop on a dead pool exits 0"
check "stop leaves a process that took the dead pool's pid alone" kill -0 "$other"
is 130 "$(cat "$stale/done" 2>/dev/null)" "and marks the run stopped"
kill "$other" 2>/dev/null

# Set-up: twice; the second sees its stamp.
out1=$(sh "$setup" "$TEST_TMP/bastion" 2>&1)
ok $? "bastion-setup.sh runs"
out2=$(sh "$setup" "$TEST_TMP/bastion" 2>&1)
ok $? "bastion-setup.sh runs again"
like "$out2" "set up already" "the second run only sees the stamp"
check "the stamp is in the given folder" test -f "$TEST_TMP/bastion/.setup-1"

done_testing
