#!/bin/bash
# setup: and a command-line entrypoint on a host (`fanout run --host`, a
# real OpenSSH sshd on loopback): the setup runs once across two runs and
# again after requirements.txt changes (counted by a marker it appends to
# on the host), its output in the progress log; a failing setup stops the
# run with its last line, before any task; a program missing on the host
# is named before any task; examples/python runs there in its venv.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
. "$top_srcdir/tests/integration/lib-setup.sh"
plan_lazy
sshd_setup 127.0.0.1
sshd_start
export FANOUT_BASTION_DIR="$TEST_TMP/remote"
addr="$SSHD_USER@$SSHD_ADDR:$SSHD_PORT"
host() { "$FANOUT" run --host "$addr" --key "$SSHD_KEY" "$@"; }
# runs: how many times the setup ran on the host (the marker's lines).
runs() { cat "$FANOUT_BASTION_DIR/setup-runs" 2>/dev/null | wc -l | tr -d ' '; }

setup_project setup-host 2
setup_yaml "$SETUP_COUNTING" 'sh ./task.sh --flag'

host "$p" --results "$TEST_TMP/r1" >"$TEST_TMP/out1" 2>"$TEST_TMP/err1"
rc=$?
is 0 "$rc" "run --host with setup: exits 0"
[ "$rc" -eq 0 ] || diag "$(tail -5 "$TEST_TMP/err1")"
is 1 "$(runs)" "the setup ran once on the host"
like "$(cat "$TEST_TMP/err1")" "\[project setup\] $SSHD_ADDR: installing from requirements.txt" \
    "its output is in the progress log, line by line"
like "$(cat "$TEST_TMP/err1")" "\[project setup\] $SSHD_ADDR: # none yet" \
    "(each line)"
is "$(setup_results 2)" "$(cat "$TEST_TMP/r1/results.csv")" \
    "the command-line entrypoint runs on the host: its words, the input last and in FANOUT_INPUT"

host "$p" --results "$TEST_TMP/r2" >/dev/null 2>"$TEST_TMP/err2"
is 0 $? "a second run exits 0"
is 1 "$(runs)" "the setup did not run again"
like "$(cat "$TEST_TMP/err2")" "setup done already" "the log says it was current"

printf 'requests==2.31.0\n' >"$p/requirements.txt"
host "$p" --results "$TEST_TMP/r3" >/dev/null 2>"$TEST_TMP/err3"
is 0 $? "a run after requirements.txt changed exits 0"
is 2 "$(runs)" "the setup ran again after requirements.txt changed"
host "$p" --results "$TEST_TMP/r4" >/dev/null 2>&1
is 2 "$(runs)" "and not on the run after that"

# A failing setup: its last line in the cause, exit 1, no task, no
# results folder, no run on the host; it runs again next time.
nruns=$(ls "$FANOUT_BASTION_DIR/runs" | wc -l | tr -d ' ')
setup_yaml "$SETUP_FAILING" 'sh ./task.sh --flag'
host "$p" --results "$TEST_TMP/r5" >/dev/null 2>"$TEST_TMP/err5"
is 1 $? "a failing setup: exit 1"
like "$(tail -1 "$TEST_TMP/err5")" "setup failed on $SSHD_ADDR \(exit 4\): no such package: zzz$" \
    "the cause names the host and the setup's last line"
like "$(cat "$TEST_TMP/err5")" "\[project setup\] $SSHD_ADDR: step one" "its earlier lines are in the log"
ok "$([ ! -e "$TEST_TMP/r5" ]; echo $?)" "no results folder, no task record"
is "$nruns" "$(ls "$FANOUT_BASTION_DIR/runs" | wc -l | tr -d ' ')" "no run started on the host"
host "$p" --results "$TEST_TMP/r6" >/dev/null 2>"$TEST_TMP/err6"
like "$(cat "$TEST_TMP/err6")" "\[project setup\] $SSHD_ADDR: step one" "a failed setup runs again on the next run"

# A program the host lacks: named before any task.
setup_yaml '"true"' 'no-such-prog-3e1 --x'
host "$p" --results "$TEST_TMP/r7" >/dev/null 2>"$TEST_TMP/err7"
is 1 $? "a program missing on the host: exit 1"
like "$(tail -1 "$TEST_TMP/err7")" "on $SSHD_ADDR the entrypoint's program no-such-prog-3e1 is not on PATH" \
    "one line names it and the host"
ok "$([ ! -e "$TEST_TMP/r7" ]; echo $?)" "no results folder, no task record"
is "$nruns" "$(ls "$FANOUT_BASTION_DIR/runs" | wc -l | tr -d ' ')" "no run started on the host"

# examples/python: its setup makes a venv on the host (pip with a
# comment-only requirements.txt needs no network), its tasks run there.
py=$(example python)
export FANOUT_BASTION_DIR="$TEST_TMP/remote-py"
host "$py" --results "$TEST_TMP/py" >/dev/null 2>"$TEST_TMP/errpy"
rc=$?
is 0 "$rc" "examples/python on a host exits 0"
[ "$rc" -eq 0 ] || diag "$(tail -8 "$TEST_TMP/errpy")"
check "its venv was made on the host" test -x "$FANOUT_BASTION_DIR/tree/.venv/bin/python"
like "$(grep points "$TEST_TMP/py/results.csv")" "^2,data/points.csv,.*,4,.*4.0,16.0,5.0,20.0$" \
    "run.py's result for points.csv"
# A change to the project: the upload compares with the host's tree.
printf 'notes\n' >"$py/NOTES.txt"
host "$py" --results "$TEST_TMP/py2" >/dev/null 2>"$TEST_TMP/errpy2"
is 0 $? "a second run of it, after a change, exits 0"
like "$(cat "$TEST_TMP/errpy2")" "setup done already" "without setting up again"
check "the upload left the venv made on the host alone" \
    test -f "$FANOUT_BASTION_DIR/tree/.venv/pyvenv.cfg"
done_testing
