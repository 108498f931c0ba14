#!/bin/bash
# fanout run --local: bad input, results folders, JSON summary, Ctrl-C,
# timeouts ending the whole process group, history, valgrind.
. "$top_srcdir/tests/integration/lib.sh"
plan_lazy

# --- bad input: one line, exit 2, nothing written -------------------------
sleep_copy=$(example sleep)
mkdir -p "$TEST_TMP/empty"
mkdir -p "$TEST_TMP/noexec" && printf 'name: demo\nentrypoint: ./e\ninputs: {glob: "*"}\n' >"$TEST_TMP/noexec/fanout.yaml" && echo 'echo {}' >"$TEST_TMP/noexec/e"
mkdir -p "$TEST_TMP/noinputs" && printf 'name: demo\nentrypoint: ./e\ninputs: {glob: "data/*.csv"}\n' >"$TEST_TMP/noinputs/fanout.yaml" && printf '#!/bin/sh\necho {}\n' >"$TEST_TMP/noinputs/e" && chmod +x "$TEST_TMP/noinputs/e"
mkdir -p "$TEST_TMP/badyaml" && printf 'name: demo\ninputs: [unclosed\n' >"$TEST_TMP/badyaml/fanout.yaml"
mkdir -p "$TEST_TMP/dupkey" && printf 'name: demo\nentrypoint: ./e\ninputs: {glob: "*", glob: "x/*"}\n' >"$TEST_TMP/dupkey/fanout.yaml" && printf '#!/bin/sh\necho {}\n' >"$TEST_TMP/dupkey/e" && chmod +x "$TEST_TMP/dupkey/e"

bad() { # bad "description" "expected message part" args...
	desc=$1 want=$2
	shift 2
	err=$("$FANOUT" "$@" 2>&1 >/dev/null)
	rc=$?
	is 2 "$rc" "$desc: exit status 2"
	is 1 "$(printf '%s\n' "$err" | wc -l | tr -d ' ')" "$desc: one line"
	like "$err" "^fanout: .*$want" "$desc: says what is wrong"
}
bad "missing folder" "does not exist" run --local "$TEST_TMP/nope"
bad "no fanout.yaml" "has no fanout.yaml" run --local "$TEST_TMP/empty"
bad "entrypoint not executable" "not executable" run --local "$TEST_TMP/noexec"
bad "zero inputs" "no inputs match" run --local "$TEST_TMP/noinputs"
bad "invalid YAML" "fanout.yaml:[0-9]+:[0-9]+: invalid YAML" run --local "$TEST_TMP/badyaml"
bad "a key twice" "fanout.yaml:3:21: duplicate key 'glob' \\(first at line 3\\)" run --local "$TEST_TMP/dupkey"
bad "--workers 0" "--workers must be a whole number from 1" run --local "$sleep_copy" --workers 0
bad "--workers abc" "not 'abc'" run --local "$sleep_copy" --workers abc
bad "--files -1" "--files must be" run --local "$sleep_copy" --files -1
bad "no --local" "say where" run "$sleep_copy"
bad "unknown option" "unknown or incomplete option" run --local "$sleep_copy" --bogus
bad "unknown command" "unknown command 'frobnicate'" frobnicate
ok "$([ ! -e "$sleep_copy/results" ] && [ ! -e "$TEST_TMP/noinputs/results" ]; echo $?)" "bad input writes no results folder"
ok "$([ -z "$(ls -A "$FANOUT_HISTORY_DIR" 2>/dev/null | grep -v '^\.lock$')" ]; echo $?)" "bad input writes no history record"

# --- a quick project to exercise the pool ------------------------------------
p="$TEST_TMP/quick"
mkdir -p "$p/data"
for i in 1 2 3 4 5 6; do echo "$i" >"$p/data/$i.txt"; done
cat >"$p/fanout.yaml" <<'YAML'
name: quick
entrypoint: ./run
inputs: {glob: "data/*.txt"}
workers: 3
timeout: 20
retries: 0
env: {GREETING: "hi there"}
YAML
cat >"$p/run" <<'SH'
#!/bin/sh
echo "to stderr for $1" >&2
printf '{"n": %s, "input_env": "%s", "cwd": "%s", "greeting": "%s", "worker": %s}\n' \
    "$(cat "$1")" "$FANOUT_INPUT" "$(pwd)" "$GREETING" "$FANOUT_WORKER"
SH
chmod +x "$p/run"

out=$("$FANOUT" run --local "$p" --json 2>"$TEST_TMP/err")
is 0 $? "a good run exits 0"
is "" "$(cat "$TEST_TMP/err")" "--json prints nothing on stderr when all is well"
json_get() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[sys.argv[1]])' "$1"; }
is 6 "$(printf '%s' "$out" | json_get tasks)" "--json: tasks"
is 6 "$(printf '%s' "$out" | json_get ok)" "--json: ok"
is 3 "$(printf '%s' "$out" | json_get workers)" "--json: workers from fanout.yaml"
r1=$(printf '%s' "$out" | json_get results)
check "the results folder is inside the project" test -d "$p/results" -a -f "$r1/results.csv"
is 7 "$(wc -l <"$r1/results.csv" | tr -d ' ')" "results.csv has a header and six rows"
like "$(sed -n 2p "$r1/results.csv")" "^0,data/1.txt,1,data/1.txt,$p,hi there,[1-3]$" "each task got its input, FANOUT_INPUT, the project as cwd and env"
like "$("$FANOUT" logs "$r1" 0 2>&1 >/dev/null)" "to stderr for data/1.txt" "stderr is kept per task (fanout logs)"
is "$(readlink -f "$p/results/latest")" "$(readlink -f "$r1")" "results/latest points at the run"
workers_seen=$(cut -d, -f3 "$r1/logs.csv" | tail -n +2 | sort -u | tr '\n' ' ')
is "1 2 3 " "$workers_seen" "logs.csv shows three workers"

# efficiency in performance.txt is serial / (span x workers), recomputed
# here from records.jsonl
python3 - "$r1" <<'PY'
import json, sys, re
d = sys.argv[1]
rows = [json.loads(l) for l in open(d + "/records.jsonl") if l.strip()]
span = max(r["end"] for r in rows) - min(r["start"] for r in rows)
serial = sum(r["end"] - r["start"] for r in rows)
perf = open(d + "/performance.txt").read()
eff = float(re.search(r"Efficiency\s+([0-9.]+) %", perf).group(1))
want = 100 * serial / (span * 3)
print("# efficiency %.1f, recomputed %.2f" % (eff, want))
sys.exit(0 if abs(eff - want) < 0.11 else 1)
PY
ok $? "performance.txt efficiency matches serial / (span x workers) from records.jsonl"

out2=$("$FANOUT" run --local "$p" --files 2 --workers 1 --json 2>/dev/null)
r2=$(printf '%s' "$out2" | json_get results)
ok "$([ "$r1" != "$r2" ] && [ -f "$r1/results.csv" ]; echo $?)" "a second run gets a new folder and keeps the first"
is 3 "$(wc -l <"$r2/results.csv" | tr -d ' ')" "--files 2 runs two tasks"
is "$(readlink -f "$p/results/latest")" "$(readlink -f "$r2")" "latest moves to the newest run"
"$FANOUT" run --local "$p" --results "$r1" >/dev/null 2>"$TEST_TMP/err"
is 2 $? "--results on a folder holding results is refused"
like "$(cat "$TEST_TMP/err")" "already holds files" "and says why"
"$FANOUT" run --local "$p" --results "$TEST_TMP/chosen" >/dev/null 2>&1
check "--results DIR writes there" test -f "$TEST_TMP/chosen/runtime.png"

# history keeps local runs
n=$(ls "$FANOUT_HISTORY_DIR"/*.json 2>/dev/null | wc -l)
is 3 "$n" "each local run is recorded in the history"
python3 - "$FANOUT_HISTORY_DIR" "$r1" <<'PY'
import json, glob, sys
recs = [json.load(open(f)) for f in glob.glob(sys.argv[1] + "/*.json")]
ok = any(r["kind"] == "local" and r["project"] == "quick" and
         r["runs"][0]["results"] == sys.argv[2] for r in recs)
sys.exit(0 if ok else 1)
PY
ok $? "a record names the project and its results folder"

# --- timeout ends the whole process group; Ctrl-C writes the report ------------
t="$TEST_TMP/hang"
mkdir -p "$t"
marker="fanout-test-marker-$$"
cat >"$t/fanout.yaml" <<YAML
name: hang
entrypoint: ./run
inputs: {list: [a, b, c, d, e]}
workers: 2
timeout: 1
retries: 0
env: {MARKER: "$marker"}
YAML
cat >"$t/run" <<'SH'
#!/bin/sh
# A child in the background that would outlive the task, then hang.
sh -c "sleep 60; echo $MARKER" &
sleep 60
SH
chmod +x "$t/run"
"$FANOUT" run --local "$t" --files 2 >/dev/null 2>&1
is 1 $? "a run with timeouts exits 1"
markers() { pgrep -cf "echo $marker" || true; }	# children still alive
none_running() { [ "$(markers)" -eq 0 ]; }
both_running() { [ "$(markers)" -ge 2 ]; }
wait_for 10 none_running
ok $? "a timed-out task's whole process group is killed"
rt=$(readlink -f "$t/results/latest")
is 2 "$(grep -c ',timeout,' "$rt/errors.csv")" "timeouts are in errors.csv"

sed -i 's/^timeout: 1$/timeout: 100/' "$t/fanout.yaml"
"$FANOUT" run --local "$t" >"$TEST_TMP/out" 2>"$TEST_TMP/err" &
pid=$!
wait_for 10 both_running	# the two workers' tasks
kill -INT "$pid"
wait "$pid"
is 1 $? "Ctrl-C exits 1"
like "$(cat "$TEST_TMP/err")" "interrupted: 5 task\(s\) unfinished" "and says how many tasks are unfinished"
wait_for 10 none_running
ok $? "Ctrl-C ends the running tasks"
rt=$(readlink -f "$t/results/latest")
check "Ctrl-C still writes the report" test -f "$rt/runtime.png" -a -f "$rt/performance.txt"
like "$(cat "$rt/performance.txt")" "Unfinished +5" "unfinished tasks are counted as such"
like "$(cat "$rt/performance.txt")" "Efficiency +-$" "with nothing finished, performance.txt shows no efficiency"
like "$(cat "$TEST_TMP/out")" "^hang: interrupted" "the summary says interrupted"
python3 - "$FANOUT_HISTORY_DIR" "$rt" <<'PY'
import glob, json, sys
recs = [json.load(open(f)) for f in glob.glob(sys.argv[1] + "/*.json")]
r = [x for x in recs if x["runs"] and x["runs"][0]["results"] == sys.argv[2]]
print("# %s" % [(x["state"], x["runs"][0].get("state"), x["runs"][0].get("efficiency")) for x in r])
sys.exit(0 if len(r) == 1 and r[0]["state"] == "interrupted" and
         r[0]["runs"][0]["state"] == "interrupted" and
         r[0]["runs"][0]["efficiency"] is None else 1)
PY
ok $? "the history records the run as interrupted, with no efficiency"

# --- errors.csv carries the last line of a failed task's stderr ----------------
py="$TEST_TMP/pyfail"
mkdir -p "$py"
cat >"$py/fanout.yaml" <<'YAML'
name: pyfail
entrypoint: ./run
inputs: {list: [good, bad, long, quiet]}
workers: 2
retries: 0
YAML
cat >"$py/run" <<'SH'
#!/bin/sh
# Fails as a Python program does: a traceback on stderr, exit status 1.
case $1 in
good) echo '{"fine": true}' ;;
bad)
	echo "reading $1"
	echo "Traceback (most recent call last):" >&2
	echo '  File "job.py", line 3, in <module>' >&2
	printf 'ValueError: bad\tinput \033[1m%s\033[0m\r\n\n  \n' "$1" >&2
	exit 1 ;;
long)
	printf 'E%.0s' $(seq 500) >&2
	exit 2 ;;
quiet) exit 3 ;;
esac
SH
chmod +x "$py/run"
# error_of RESULTS INPUT: the error column of errors.csv for that input.
error_of() {
	python3 -c 'import csv, sys
print([r for r in csv.DictReader(open(sys.argv[1] + "/errors.csv"))
       if r["input"] == sys.argv[2]][0]["error"])' "$1" "$2"
}
"$FANOUT" run --local "$py" --results "$TEST_TMP/pyres" >/dev/null 2>"$TEST_TMP/err"
is 1 $? "a run with failed tasks exits 1"
like "$(cat "$TEST_TMP/err")" "3 of 4 task\(s\) failed; see $TEST_TMP/pyres/errors.csv" "and says where to look"
is "exit status 1: ValueError: bad input [1mbad[0m" "$(error_of "$TEST_TMP/pyres" bad)" \
    "errors.csv's error column ends with the last stderr line, control characters removed"
is "exit status 2: $(printf 'E%.0s' $(seq 200))" "$(error_of "$TEST_TMP/pyres" long)" \
    "a long stderr line is cut at 200 characters"
is "exit status 3" "$(error_of "$TEST_TMP/pyres" quiet)" \
    "a task with no stderr keeps the bare exit status"
like "$(grep '"input":"bad"' "$TEST_TMP/pyres/records.jsonl")" '"stderr_tail":"ValueError: bad input \[1mbad\[0m"' "the record keeps the stderr tail"

# --- valgrind: no leaks ---------------------------------------------------------
if [ "${FANOUT_SANITIZERS:-no}" = yes ]; then
	skip "valgrind: not with a sanitizer build"
elif ! command -v valgrind >/dev/null; then
	skip "valgrind is not installed"
else
	valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible \
	    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
	    --trace-children=no "$FANOUT" run --local "$sleep_copy" --files 4 \
	    >/dev/null 2>"$TEST_TMP/vg"
	rc=$?
	is 0 "$rc" "valgrind reports no leaks or errors on run --local examples/sleep"
	[ "$rc" -eq 0 ] || diag "$(head -40 "$TEST_TMP/vg")"
fi
done_testing
