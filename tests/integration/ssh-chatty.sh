#!/bin/bash
# A host whose login shell prints text before every command (a .bashrc
# that greets, a motd on stderr, a line with no newline): what fanout
# reads over SSH must not depend on a silent shell. run --host works,
# uploads, downloads, and the records are intact.
#
# sshd runs commands with the user's login shell (bash here); a
# non-interactive bash reads $BASH_ENV, which this sshd sets (SHLVL=1
# keeps Debian's bash from reading ~/.bashrc instead, as it does for
# ssh: the test must not touch the real home).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
plan_lazy
sshd_setup 127.0.0.1
cat >"$SSHD_DIR/chatty.rc" <<SH
echo "Welcome to the bastion"
echo "motd: the disk is 91% full" >&2
printf 'a greeting without a newline '
printf 'and one on stderr ' >&2
[ ! -e "$SSHD_DIR/exit-now" ] || { echo "bye: no commands today" >&2; exit 0; }
SH
echo "SetEnv BASH_ENV=$SSHD_DIR/chatty.rc ENV=$SSHD_DIR/chatty.rc SHLVL=1" \
    >>"$SSHD_DIR/sshd_config"
sshd_start
seen=$(ssh -i "$SSHD_KEY" -p "$SSHD_PORT" -o BatchMode=yes \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o LogLevel=ERROR "$SSHD_USER@$SSHD_ADDR" true 2>/dev/null)
case $seen in
*Welcome*) ;;
*) skip_all "the login shell of $SSHD_USER does not read BASH_ENV or ENV (not bash or sh?)" ;;
esac
ok 0 "OpenSSH's client sees the greeting before the command's output"

out=$(drv exec 'echo one; echo two >&2; printf "three"' 2>&1)
is "err: two
out: one
out: three" "$(printf '%s\n' "$out" | grep -E '^(out|err): ' | sort)" \
    "a command's stdout and stderr reach fanout without the greeting"

export FANOUT_BASTION_DIR="$TEST_TMP/remote"
addr="$SSHD_USER@$SSHD_ADDR:$SSHD_PORT"

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
                 json.dumps(res, sort_keys=True), r.get("stderr_tail")))
for row in sorted(rows):
    print(*row)
PY
}

p=$(example sleep)
sed -i 's/SLEEP_SCALE: "1"/SLEEP_SCALE: "0.1"/' "$p/fanout.yaml"
# One task that fails, with a line on stderr.
printf '#!/bin/sh\necho "ValueError: not a number" >&2\nexit 1\n' >"$p/fail"
chmod +x "$p/fail"
nfiles=$(find "$p" -type f | wc -l)
ntasks=$(ls "$p/data" | wc -l)
"$FANOUT" run --local "$p" --results "$TEST_TMP/local" >/dev/null 2>&1
"$FANOUT" run --host "$addr" --key "$SSHD_KEY" "$p" --results "$TEST_TMP/r1" \
    >/dev/null 2>"$TEST_TMP/err1"
rc=$?
is 0 "$rc" "run --host through a chatty login shell exits 0"
[ "$rc" -eq 0 ] || diag "$(tail -5 "$TEST_TMP/err1")"
ok "$(grep -q 'bad record' "$TEST_TMP/err1"; [ $? -ne 0 ]; echo $?)" "no bad record from the host"
ok "$(grep -Eq 'Welcome|motd|greeting' "$TEST_TMP/err1"; [ $? -ne 0 ]; echo $?)" "nothing of the greeting in fanout's output"
is $((ntasks + 1)) "$(wc -l <"$TEST_TMP/r1/results.csv" | tr -d ' ')" "a result per task"
is "$(summary "$TEST_TMP/local/records.jsonl")" "$(summary "$TEST_TMP/r1/records.jsonl" 2>&1)" \
    "the records are those of a local run"
like "$(cat "$TEST_TMP/err1")" "uploaded $nfiles of $nfiles file" "the whole project was uploaded"

"$FANOUT" run --host "$addr" --key "$SSHD_KEY" "$p" --results "$TEST_TMP/r2" \
    >/dev/null 2>"$TEST_TMP/err2"
is 0 $? "a second run exits 0"
like "$(cat "$TEST_TMP/err2")" "uploaded 0 of $nfiles file" "and uploads nothing unchanged"

printf '0.2\n' >"$p/data/task-02.txt"
sed -i 's/^entrypoint: .*/entrypoint: .\/fail/' "$p/fanout.yaml"
"$FANOUT" run --host "$addr" --key "$SSHD_KEY" "$p" --files 1 --results "$TEST_TMP/r3" \
    >/dev/null 2>"$TEST_TMP/err3"
is 1 $? "a run with a failed task exits 1"
like "$(cat "$TEST_TMP/err3")" "uploaded 2 of $nfiles file" "after uploading the two changed files"
like "$(cat "$TEST_TMP/r3/errors.csv")" ",exit status 1: ValueError: not a number$" \
    "its stderr's last line is in errors.csv, not the greeting"
like "$(cat "$TEST_TMP/err3")" "1 of 1 task\\(s\\) failed; see $TEST_TMP/r3/errors.csv" "and the summary line says so"
# A start-up file that exits: fanout says the command never ran, and
# shows what the shell said.
touch "$SSHD_DIR/exit-now"
out=$(drv exec 'echo one' 2>&1)
like "$out" "the login shell did not run fanout's command" "a shell that never runs the command is an error"
like "$out" "bye: no commands today" "showing what the shell said on stderr"
done_testing
