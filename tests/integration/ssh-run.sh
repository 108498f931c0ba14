#!/bin/bash
# The bastion engine (remote_run) against a loopback sshd: the results
# folder of examples/sleep matches a `fanout run --local` of the same
# project; a second run after one change uploads that file only; failures
# (timeout, retries, bad JSON) come back as the local engine writes them;
# a run id already started is watched, not started again; cancel stops it.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
plan_lazy
sshd_setup
sshd_start

# (task, input, status, attempt, result without the worker it ran on)
summary() {
	python3 - "$1" <<'PY'
import json, sys
rows = []
for l in open(sys.argv[1]):
    r = json.loads(l)
    res = r["result"]
    if isinstance(res, dict):
        res.pop("worker", None)
    rows.append((r["task"], r["input"], r["status"], r["attempt"],
                 json.dumps(res, sort_keys=True)))
for row in sorted(rows):
    print(*row)
PY
}

p=$(example sleep)
sed -i 's/SLEEP_SCALE: "1"/SLEEP_SCALE: "0.2"/' "$p/fanout.yaml"
"$FANOUT" run --local --files 6 --workers 3 --results "$TEST_TMP/local" "$p" >/dev/null 2>&1
ok $? "run --local of the example"

out=$(drv -d "$TEST_TMP/bastion" -f 6 -w 3 -C "$TEST_TMP/cache" -r "$TEST_TMP/remote1" run "$p" 2>"$TEST_TMP/err")
is true "$(jfield "$out" ok)" "remote_run of the example"
for f in results.csv errors.csv logs.csv performance.txt records.jsonl runtime.png; do
	check "results folder has $f" test -s "$TEST_TMP/remote1/$f"
done
is "$(summary "$TEST_TMP/local/records.jsonl")" "$(summary "$TEST_TMP/remote1/records.jsonl")" \
    "records match the local run's (task, input, status, attempt, result)"
is 6 "$(jfield "$out" ok_tasks)" "six tasks ok"
like "$(cat "$TEST_TMP/remote1/performance.txt")" "bastion engine" "performance.txt names the engine"
like "$("$FANOUT" logs "$TEST_TMP/remote1" 0 2>/dev/null)" '^\{.*\}$' "task logs downloaded (fanout logs shows task 0's output)"
is "$(jfield "$out" files)" "$(jfield "$out" files_sent)" "first run: every project file sent"
is 6 "$(grep -c '^task ' "$TEST_TMP/err")" "progress: one task event per attempt"
check "the host key was recorded" test -s "$SSHD_KNOWN"
check "the upload hash cache was written" test -s "$TEST_TMP/cache"
like "$(cat "$TEST_TMP/bastion/.setup-1")" "^[0-9]+$" "the bastion was set up"

# Resume: one file changed (and its mtime, even on a file system that
# keeps whole seconds), a new results folder.
echo 0.1 >"$p/data/task-02.txt"
touch -d @1000000000 "$p/data/task-02.txt"
size=$(wc -c <"$p/data/task-02.txt")
out=$(drv -d "$TEST_TMP/bastion" -f 6 -w 3 -C "$TEST_TMP/cache" -F "$(jfield "$out" fingerprint)" run "$p" 2>/dev/null)
is true "$(jfield "$out" ok)" "second run"
is 1 "$(jfield "$out" files_sent)" "only the changed file is uploaded"
is "$size" "$(jfield "$out" bytes_sent)" "its bytes only"
r2=$(jfield "$out" results)
like "$r2" "^$p/results/[0-9]{8}-[0-9]{6}" "a new results folder in the project"
check "with its records" test -s "$r2/records.jsonl"

# The same run id again: watched, not started twice.
id=$(jfield "$out" run_id)
out=$(drv -d "$TEST_TMP/bastion" -f 6 -w 3 -i "$id" -r "$TEST_TMP/again" run "$p" 2>"$TEST_TMP/err")
is true "$(jfield "$out" ok)" "the same run id again"
like "$(cat "$TEST_TMP/err")" "started already" "is not started again"
is 6 "$(wc -l <"$TEST_TMP/bastion/runs/$id/records.jsonl")" "no second set of records"

# Failures the way the local engine records them.
f="$TEST_TMP/flaky"
mkdir -p "$f/in"
cat >"$f/entrypoint" <<'SH'
#!/bin/sh
case $(cat "$1") in
ok) echo '{"fine": true}' ;;
bad) echo "no json" ;;
fail) echo "Traceback (most recent call last):" >&2
	printf 'ValueError:\tbad input\r\n\n' >&2; exit 4 ;;
slow) sleep 30 ;;
flaky) [ "$FANOUT_ATTEMPT" -ge 2 ] || exit 1; echo '{"second": true}' ;;
esac
SH
chmod +x "$f/entrypoint"
for w in ok bad fail slow flaky; do echo "$w" >"$f/in/$w.txt"; done
cat >"$f/fanout.yaml" <<'YAML'
name: flaky-test
entrypoint: ./entrypoint
inputs:
  glob: in/*.txt
workers: 5
timeout: 2
retries: 1
YAML
"$FANOUT" run --local --results "$TEST_TMP/flocal" "$f" >/dev/null 2>&1
out=$(drv -d "$TEST_TMP/bastion2" -r "$TEST_TMP/fremote" run "$f" 2>/dev/null)
is true "$(jfield "$out" ok)" "a run with failing tasks completes"
is 3 "$(jfield "$out" errors)" "three tasks failed (bad JSON, exit, timeout)"
is "$(summary "$TEST_TMP/flocal/records.jsonl")" "$(summary "$TEST_TMP/fremote/records.jsonl")" \
    "timeout, retries and bad JSON recorded as by the local engine"
is "$(cut -d, -f1 "$TEST_TMP/flocal/errors.csv" | sort)" "$(cut -d, -f1 "$TEST_TMP/fremote/errors.csv" | sort)" \
    "errors.csv lists the same tasks"
is "$(cut -d, -f1,2,6- "$TEST_TMP/flocal/errors.csv" | sort)" "$(cut -d, -f1,2,6- "$TEST_TMP/fremote/errors.csv" | sort)" \
    "with the same error column"
like "$(cat "$TEST_TMP/fremote/errors.csv")" ",exit status 4: ValueError: bad input$" \
    "which ends with the last line of the task's stderr on the bastion too"

# Cancel after the first task: the remote run is stopped.
sed -i 's/timeout: 2/timeout: 60/' "$f/fanout.yaml"
echo slow >"$f/in/ok.txt"
# (the remote folder from FANOUT_BASTION_DIR this time)
out=$(FANOUT_BASTION_DIR="$TEST_TMP/bastion2" drv -c 1 -r "$TEST_TMP/fcancel" run "$f" 2>/dev/null)
is true "$(jfield "$out" cancelled)" "cancel is reported"
id=$(jfield "$out" run_id)
is 130 "$(cat "$TEST_TMP/bastion2/runs/$id/done")" "the remote run is marked stopped (in FANOUT_BASTION_DIR)"
none_left() { ! pgrep -s "$(cat "$TEST_TMP/bastion2/runs/$id/pid")" >/dev/null; }
wait_for 20 none_left
ok $? "no task of it still runs"

done_testing
