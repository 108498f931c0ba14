#!/bin/bash
# templates/harness.sh and bastion-setup.sh, run directly (no SSH): the
# records they write, timeouts, retries, bad JSON, worker slots, the
# detached-run markers, and set-up idempotence. Both pass shellcheck.
. "$top_srcdir/tests/integration/lib.sh"
plan_lazy

harness="$top_srcdir/templates/harness.sh"
setup="$top_srcdir/templates/bastion-setup.sh"

if command -v shellcheck >/dev/null; then
	check "harness.sh passes shellcheck" shellcheck -s sh "$harness"
	check "bastion-setup.sh passes shellcheck" shellcheck -s sh "$setup"
else
	skip "shellcheck not installed"
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
cat >"$run/run.env" <<'ENV'
FANOUT_RUN_ENTRYPOINT='./entrypoint'
FANOUT_RUN_WORKERS=3
FANOUT_RUN_TIMEOUT=2
FANOUT_RUN_RETRIES=1
FANOUT_RUN_NTASKS=8
GREETING='hi there'
export GREETING
ENV

sh "$harness" "$run" "$proj" >"$TEST_TMP/harness.out" 2>&1
is 0 "$?" "the harness ends well"
is 0 "$(cat "$run/done")" "done holds the exit status"
check "pid file written" test -s "$run/pid"
is 13 "$(wc -l <"$run/records.jsonl")" "one record per attempt (8 tasks, 5 retried)"

summary=$(python3 - "$run/records.jsonl" <<'PY'
import json, sys
keys = ["task", "input", "worker", "host", "pid", "start", "end", "exit",
        "attempt", "status", "result", "error"]
out = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    # stderr_tail (optional) ends a failed attempt's record
    assert list(r) in (keys, keys + ["stderr_tail"]), list(r)
    assert "stderr_tail" not in r or r["status"] != "ok", r
    assert r["end"] >= r["start"] and 1 <= r["worker"] <= 3
    out.append((r["task"], r["attempt"], r["status"], r["exit"],
                json.dumps(r["result"], sort_keys=True)))
for t in sorted(out):
    print(*t)
PY
)
ok $? "records have the keys of src/run/record.h in order"
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
like "$(cat "$run/logs/0-1.out")" "log line" "stdout kept in logs/TASK-ATTEMPT.out"
like "$(cat "$run/logs/0-1.err")" "starting 0 on worker" "stderr kept in logs/TASK-ATTEMPT.err"
is "" "$(ls "$run/slots")" "every worker slot released"

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

# Set-up: twice; the second sees its stamp.
out1=$(sh "$setup" "$TEST_TMP/bastion" 2>&1)
ok $? "bastion-setup.sh runs"
out2=$(sh "$setup" "$TEST_TMP/bastion" 2>&1)
ok $? "bastion-setup.sh runs again"
like "$out2" "set up already" "the second run only sees the stamp"
check "the stamp is in the given folder" test -f "$TEST_TMP/bastion/.setup-1"

done_testing
