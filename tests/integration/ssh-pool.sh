#!/bin/bash
# One task pool for every engine: `run --local` and `run --host` (the pool
# in fanout-worker on the host) give the same results.csv and errors.csv
# for examples/flaky and for 5,000 tiny tasks; each task's stdout and
# stderr can be read after the run (fanout logs) for a successful and a
# failed task; connections dropped mid-run still end with every record at
# home, none twice.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
plan_lazy
sshd_setup
sshd_start
export FANOUT_BASTION_DIR="$TEST_TMP/host"
addr="$SSHD_USER@$SSHD_ADDR:$SSHD_PORT"

both() { # both NAME PROJECT: runs it with each engine into $TEST_TMP/NAME-*
	"$FANOUT" run --local "$2" --results "$TEST_TMP/$1-local" >/dev/null 2>"$TEST_TMP/$1-local.err"
	echo $? >"$TEST_TMP/$1-local.rc"
	"$FANOUT" run --host "$addr" --key "$SSHD_KEY" "$2" --results "$TEST_TMP/$1-host" >/dev/null 2>"$TEST_TMP/$1-host.err"
	echo $? >"$TEST_TMP/$1-host.rc"
}

# --- examples/flaky: failures, a retry, a timeout, bad JSON -----------------
f=$(example flaky)
both flaky "$f"
is 1 "$(cat "$TEST_TMP/flaky-local.rc")" "flaky, local: exit 1 (tasks failed)"
is 1 "$(cat "$TEST_TMP/flaky-host.rc")" "flaky, host: exit 1 (tasks failed)" ||
    diag "$(tail -3 "$TEST_TMP/flaky-host.err")"
for csv in results.csv errors.csv; do
	cmp -s "$TEST_TMP/flaky-local/$csv" "$TEST_TMP/flaky-host/$csv"
	ok $? "flaky: $csv is the same from both engines" ||
	    diag "$(diff "$TEST_TMP/flaky-local/$csv" "$TEST_TMP/flaky-host/$csv" | head -10)"
done
is 4 "$(grep -c ',' "$TEST_TMP/flaky-host/errors.csv")" "flaky: three errors (and the header)"

# --- 5,000 tiny tasks ------------------------------------------------------------
t="$TEST_TMP/tiny"
mkdir -p "$t/data"
(cd "$t/data" && seq 1 5000 | xargs touch)
cat >"$t/fanout.yaml" <<'YAML'
name: tiny
entrypoint: ./entrypoint
inputs: {glob: "data/*"}
workers: 2
timeout: 60
retries: 1
YAML
cat >"$t/entrypoint" <<'SH'
#!/bin/sh
i=${1#data/}
case $i in
*37) echo "task $i failed on attempt $FANOUT_ATTEMPT" >&2; exit 3 ;;
*13) echo "no JSON for $i" ;;
*) echo "working on $i" >&2; echo "{\"i\": \"$i\", \"sq\": $((i * i))}" ;;
esac
SH
chmod +x "$t/entrypoint"
both tiny "$t"
is 1 "$(cat "$TEST_TMP/tiny-local.rc")" "5,000 tasks, local: exit 1 (some fail)"
is 1 "$(cat "$TEST_TMP/tiny-host.rc")" "5,000 tasks, host: exit 1 (some fail)" ||
    diag "$(tail -3 "$TEST_TMP/tiny-host.err")"
for csv in results.csv errors.csv; do
	cmp -s "$TEST_TMP/tiny-local/$csv" "$TEST_TMP/tiny-host/$csv"
	ok $? "5,000 tasks: $csv is the same from both engines" ||
	    diag "$(diff "$TEST_TMP/tiny-local/$csv" "$TEST_TMP/tiny-host/$csv" | head -10)"
done
is 4901 "$(wc -l <"$TEST_TMP/tiny-host/results.csv" | tr -d ' ')" "5,000 tasks: 4,900 results"
is 5100 "$(($(wc -l <"$TEST_TMP/tiny-host/records.jsonl")))" "5,000 tasks: 5,100 attempts recorded (the 100 failures tried twice)"

# --- each task's output after the run -------------------------------------------
for e in local host; do
	r="$TEST_TMP/tiny-$e"
	is '{"i": "42", "sq": 1764}' "$("$FANOUT" logs "$r" data/42 2>/dev/null)" "$e: a successful task's stdout (fanout logs)"
	is "working on 42" "$("$FANOUT" logs "$r" data/42 2>&1 >/dev/null)" "$e: and its stderr"
	is "task 137 failed on attempt 2" "$("$FANOUT" logs "$r" data/137 2>&1 >/dev/null)" "$e: a failed task's stderr, last attempt"
	is "task 137 failed on attempt 1" "$("$FANOUT" logs "$r" data/137 --attempt 1 2>&1 >/dev/null)" "$e: and of its first attempt"
	is "" "$("$FANOUT" logs "$r" data/137 2>/dev/null)" "$e: its (empty) stdout"
	n=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["input"] == "data/137":
        print(r["task"]); break' "$r/records.jsonl")
	is "task 137 failed on attempt 1" "$(cat "$r/logs/$n-1.err")" "$e: a failed attempt also gets logs/T-A.err"
	ok $(ls "$r/logs" | grep -q "^[0-9]*-[0-9]*\.out$" && ! ls "$r/logs" | grep -qx "$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["input"] == "data/42":
        print("%d-1.out" % r["task"]); break' "$r/records.jsonl")"; echo $?) "$e: but not a successful one"
	is 4 "$(ls "$r/logs" | grep -c '^w[12]\.\(out\|err\)$')" "$e: the output lives in one file pair per worker"
done
"$FANOUT" logs "$TEST_TMP/tiny-host" data/nope >/dev/null 2>"$TEST_TMP/nope.err"
is 2 $? "fanout logs of a task that does not exist: exit 2"
like "$(cat "$TEST_TMP/nope.err")" "^fanout: .* has no task data/nope" "and says so"

# --- connections dropped mid-run ------------------------------------------------
d="$TEST_TMP/drop"
mkdir -p "$d"
cat >"$d/fanout.yaml" <<'YAML'
name: drop
entrypoint: ./entrypoint
inputs: {list: [LIST]}
workers: 2
timeout: 60
retries: 1
YAML
sed -i "s/LIST/$(seq -s ', ' 1 400)/" "$d/fanout.yaml"
printf '#!/bin/sh\nsleep 0.02\n[ $(($1 %% 50)) = 0 ] && [ "$FANOUT_ATTEMPT" = 1 ] && exit 1\necho "{\\"n\\": $1}"\n' >"$d/entrypoint"
chmod +x "$d/entrypoint"
drv -d "$TEST_TMP/host-drop" -t 60 -r "$TEST_TMP/drop-res" run "$d" >"$TEST_TMP/drop.out" 2>"$TEST_TMP/drop.err" &
run=$!
events() { [ "$(grep -c '^task ' "$TEST_TMP/drop.err")" -ge "$1" ]; }
wait_for 60 events 40
sshd_stop
sleep 0.5
sshd_start
wait_for 60 events 200
sshd_stop
sleep 0.5
sshd_start
wait "$run"
out=$(cat "$TEST_TMP/drop.out")
is true "$(jfield "$out" ok)" "the run finishes after two dropped connections" ||
    diag "$(tail -5 "$TEST_TMP/drop.err")"
like "$(jfield "$out" reconnects)" "^([2-9]|[1-9][0-9]+)$" "it reconnected (twice or more)"
id=$(jfield "$out" run_id)
is "$(wc -l <"$TEST_TMP/host-drop/runs/$id/records.jsonl")" "$(wc -l <"$TEST_TMP/drop-res/records.jsonl")" \
    "every record of the host is at home"
is 408 "$(wc -l <"$TEST_TMP/drop-res/records.jsonl" | tr -d ' ')" "400 tasks, 8 retried: 408 records"
is 0 "$(python3 -c 'import json,sys
seen = [(r["task"], r["attempt"]) for r in map(json.loads, open(sys.argv[1]))]
print(len(seen) - len(set(seen)))' "$TEST_TMP/drop-res/records.jsonl")" "none twice"
is 408 "$(grep -c '^task ' "$TEST_TMP/drop.err")" "each attempt reported once"
is 401 "$(wc -l <"$TEST_TMP/drop-res/results.csv" | tr -d ' ')" "and all 400 tasks succeeded"
done_testing
