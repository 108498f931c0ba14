#!/bin/bash
# setup: and a command-line entrypoint with run --local: the setup is
# skipped with a note unless --setup is given; with it, it runs once in
# the project folder and again after requirements.txt changes (its digest
# under results/); a failing one stops the run with its last line, before
# any task; a program that is nowhere is named before any task;
# examples/python runs in the venv its setup makes.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-setup.sh"
plan_lazy

setup_project setup-local 2
setup_yaml 'echo "ran in $(basename "$PWD") with $GREETING" >>../setup-runs && cat requirements.txt' \
    'sh ./task.sh --flag'
runs() { cat "$TEST_TMP/setup-runs" 2>/dev/null | wc -l | tr -d ' '; }

"$FANOUT" run --local "$p" --results "$TEST_TMP/r1" >/dev/null 2>"$TEST_TMP/err1"
rc=$?
is 0 "$rc" "run --local with a setup: exits 0"
[ "$rc" -eq 0 ] || diag "$(tail -5 "$TEST_TMP/err1")"
like "$(cat "$TEST_TMP/err1")" "setup: skipped on this machine \(a local run; give --setup to run it here\)" \
    "the setup is skipped with a note"
is 0 "$(runs)" "and did not run"
is "$(setup_results 2)" "$(cat "$TEST_TMP/r1/results.csv")" \
    "the command-line entrypoint: its words, the input last and in FANOUT_INPUT"

"$FANOUT" run --local --setup "$p" --results "$TEST_TMP/r2" >/dev/null 2>"$TEST_TMP/err2"
is 0 $? "run --local --setup exits 0"
is "ran in proj with hello" "$(cat "$TEST_TMP/setup-runs")" \
    "the setup ran once, in the project folder, with its env"
like "$(cat "$TEST_TMP/err2")" "\[setup\] # none yet" "its output is in the log"
check "its digest is kept under results/" test -s "$p/results/.setup.sha256"
"$FANOUT" run --local --setup "$p" --results "$TEST_TMP/r3" >/dev/null 2>"$TEST_TMP/err3"
is 1 "$(runs)" "a second run --local --setup does not run it again"
printf 'requests==2.31.0\n' >"$p/requirements.txt"
"$FANOUT" run --local --setup "$p" --results "$TEST_TMP/r4" >/dev/null 2>&1
is 2 "$(runs)" "after requirements.txt changed it runs again"
"$FANOUT" run --local --setup "$p" --results "$TEST_TMP/r5" >/dev/null 2>&1
is 2 "$(runs)" "and not on the run after that"

"$FANOUT" run --host 127.0.0.1 --setup "$p" >/dev/null 2>"$TEST_TMP/err-usage"
is 2 $? "--setup with --host: exit 2"
like "$(cat "$TEST_TMP/err-usage")" "--setup goes with --local" "one line says why"

setup_yaml "$SETUP_FAILING" 'sh ./task.sh --flag'
"$FANOUT" run --local --setup "$p" --results "$TEST_TMP/r6" >/dev/null 2>"$TEST_TMP/err6"
is 1 $? "a failing setup: exit 1"
like "$(tail -1 "$TEST_TMP/err6")" "setup failed on this machine \(exit 4\): no such package: zzz$" \
    "its last line is the cause"
ok "$([ ! -e "$TEST_TMP/r6" ]; echo $?)" "no results folder, no task record"

# A program that is nowhere: the setup may install it, so the project
# loads; run --local names it before any task.
setup_yaml '"true"' 'no-such-prog-3e1 --x'
"$FANOUT" run --local --setup "$p" --results "$TEST_TMP/r7" >/dev/null 2>"$TEST_TMP/err7"
is 1 $? "a missing program: exit 1"
like "$(cat "$TEST_TMP/err7")" "the entrypoint's program no-such-prog-3e1 is not on PATH" \
    "one line names it"
ok "$([ ! -e "$TEST_TMP/r7" ]; echo $?)" "no results folder, no task record"

py=$(example python)
"$FANOUT" run --local "$py" --results "$TEST_TMP/py0" >/dev/null 2>"$TEST_TMP/errpy0"
is 1 $? "examples/python without --setup and no venv: exit 1"
like "$(tail -1 "$TEST_TMP/errpy0")" "\.venv/bin/python .*give --setup" \
    "the message says the setup was skipped"
"$FANOUT" run --local --setup "$py" --results "$TEST_TMP/py" >/dev/null 2>"$TEST_TMP/errpy"
rc=$?
is 0 "$rc" "examples/python with --setup: exit 0"
[ "$rc" -eq 0 ] || diag "$(tail -8 "$TEST_TMP/errpy")"
like "$(grep points "$TEST_TMP/py/results.csv")" "^2,data/points.csv,.*,4,.*4.0,16.0,5.0,20.0$" \
    "run.py's result for points.csv"
done_testing
