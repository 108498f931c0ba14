#!/bin/bash
# fanout run --local PROJECT --unfinished: after a run cut short (Ctrl-C),
# only the tasks without a result run, into a new results folder that has
# the whole run (results.csv as a clean run's, every task once); a task
# that failed for good has a result (its error) and is run again only with
# --failed; nothing left is one line and exit 0; changed inputs and a
# project without results are refused (exit 2).
. "$top_srcdir/tests/integration/lib.sh"
plan_lazy

proj="$TEST_TMP/unf"
mkdir -p "$proj/in"
for i in $(seq -w 1 30); do echo "$i" >"$proj/in/$i.txt"; done
cat >"$proj/fanout.yaml" <<'Y'
name: unf
entrypoint: ./task.sh
inputs:
  glob: in/*.txt
workers: 2
timeout: 60
retries: 0
Y
cat >"$proj/task.sh" <<S
#!/bin/sh
n=\$(sed 's/^0*//' "\$1")
if [ "\$n" = 2 ] && [ ! -e "$TEST_TMP/fixed" ]; then echo boom >&2; exit 3; fi
sleep 0.2
printf '{"n": %d}\n' "\$n"
S
chmod +x "$proj/task.sh"
"$FANOUT" run --local "$proj" --results "$TEST_TMP/clean" >/dev/null 2>&1
rm -rf "$proj/results"

# A run cut short.
"$FANOUT" run --local "$proj" >/dev/null 2>"$TEST_TMP/r1.err" &
pid=$!
some() { [ "$(cat "$proj"/results/*/records.jsonl 2>/dev/null | wc -l)" -ge 6 ]; }
wait_for 60 some
ok $? "the first run made records"
kill -INT "$pid"
wait "$pid"
r1=$(readlink -f "$proj/results/latest")
like "$(cat "$r1/performance.txt")" "Unfinished +[1-9]" "it left tasks unfinished"
had=$(jq -r 'select(.status == "ok" or .status == "failed") | .task' "$r1/records.jsonl" | sort -n)
like "$had" "^1$" "task 1 (input 2) failed for good in it" ||
    diag "$(cat "$r1/records.jsonl")"

"$FANOUT" run --local "$proj" --unfinished >"$TEST_TMP/r2.out" 2>"$TEST_TMP/r2.err"
is 1 $? "run --unfinished exits 1 (task 1 is still an error)"
r2=$(readlink -f "$proj/results/latest")
ok "$([ "$r1" != "$r2" ]; echo $?)" "into a new results folder"
new=$(python3 - "$r1" "$r2" <<'PY'
import json, sys
def recs(d):
    return [json.loads(l) for l in open(d + "/records.jsonl") if l.strip()]
old = {(r["task"], r["start"]) for r in recs(sys.argv[1])}
print("\n".join(str(r["task"]) for r in recs(sys.argv[2])
                if (r["task"], r["start"]) not in old))
PY
)
want=$(comm -23 <(seq 0 29 | sort) <(sort <<<"$had") | sort -n)
is "$want" "$(sort -n <<<"$new")" "exactly the tasks without a result ran"
is "$(sort "$TEST_TMP/clean/results.csv")" "$(sort "$r2/results.csv")" \
    "the merged results.csv is a clean run's: every task once"
is "$(cat "$TEST_TMP/clean/errors.csv")" "$(cat "$r2/errors.csv")" \
    "errors.csv: the failed task, once"
like "$(cat "$r2/performance.txt")" "Total tasks +30" "performance.txt covers the whole run"
is 31 "$(wc -l <"$r2/logs.csv")" "logs.csv: one attempt a task"
tail=$(grep -o 'boom' "$r2"/logs/1-1.err 2>/dev/null)
is "boom" "$tail" "the carried failure's output is in the new folder's logs"

# Nothing left without a result.
n=$(ls "$proj/results" | wc -l)
out=$("$FANOUT" run --local "$proj" --unfinished 2>"$TEST_TMP/r3.err")
is 0 $? "nothing unfinished: exit 0"
like "$out" "every task of the run in .* has a result; nothing to run$" "one line says so"
is "" "$(cat "$TEST_TMP/r3.err")" "nothing else"
is "$n" "$(ls "$proj/results" | wc -l)" "no results folder made"

# --failed alone: refused (it goes with --unfinished).
"$FANOUT" run --local "$proj" --failed >/dev/null 2>"$TEST_TMP/r4.err"
is 2 $? "run --failed without --unfinished exits 2"
like "$(cat "$TEST_TMP/r4.err")" "--failed goes with --unfinished" "and says so"
# --unfinished --failed: the failed task too.
touch "$TEST_TMP/fixed"
"$FANOUT" run --local "$proj" --unfinished --failed >/dev/null 2>"$TEST_TMP/r4.err"
is 0 $? "run --unfinished --failed exits 0 once the task is fixed"
r4=$(readlink -f "$proj/results/latest")
is 30 "$(tail -n +2 "$r4/results.csv" | wc -l)" "results.csv has all 30 tasks"
is 1 "$(wc -l <"$r4/errors.csv")" "errors.csv: none"
is 1 "$(python3 - "$r2" "$r4" <<'PY'
import json, sys
def recs(d):
    return [json.loads(l) for l in open(d + "/records.jsonl") if l.strip()]
old = {(r["task"], r["start"]) for r in recs(sys.argv[1])}
print(sum(1 for r in recs(sys.argv[2]) if (r["task"], r["start"]) not in old))
PY
)" "one task ran"

# Bad input: one line, exit 2.
echo 31 >"$proj/in/31.txt"
"$FANOUT" run --local "$proj" --unfinished >/dev/null 2>"$TEST_TMP/bad.err"
is 2 $? "changed inputs: exit 2"
like "$(cat "$TEST_TMP/bad.err")" "inputs changed since that run; run it anew without --unfinished" \
    "saying the inputs changed"
mkdir -p "$TEST_TMP/fresh"
cp "$proj/fanout.yaml" "$proj/task.sh" "$TEST_TMP/fresh/"
cp -R "$proj/in" "$TEST_TMP/fresh/"
"$FANOUT" run --local "$TEST_TMP/fresh" --unfinished >/dev/null 2>"$TEST_TMP/bad2.err"
is 2 $? "a project never run: exit 2"
like "$(cat "$TEST_TMP/bad2.err")" "no results folder of an earlier run" "saying so"
is 1 "$(wc -l <"$TEST_TMP/bad2.err")" "in one line"
done_testing
