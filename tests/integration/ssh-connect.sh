#!/bin/bash
# The SSH session against a real OpenSSH sshd on loopback: host key trust
# on first use, a changed key refused with both fingerprints, the causes
# of failures, and exec with streamed output and exit status.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
plan_lazy
has() { # has TEXT SUBSTRING DESCRIPTION (no regex)
	case $1 in
	*"$2"*) ok 0 "$3" ;;
	*) ok 1 "$3"; diag "text: $1"; diag "lacks: $2" ;;
	esac
}
sshd_setup
sshd_start

host_fp=$(ssh-keygen -lf "$SSHD_DIR/host_ed25519.pub" | awk '{print $2}')

out=$(drv connect 2>"$TEST_TMP/err")
is true "$(jfield "$out" ok)" "connects with the ed25519 key file"
is "$host_fp" "$(jfield "$out" fingerprint)" "fingerprint as ssh-keygen -l shows it"
check "an unknown host key is recorded" grep -q "^\[$SSHD_ADDR\]:$SSHD_PORT ssh-ed25519 " "$SSHD_KNOWN"
has "$(cat "$TEST_TMP/err")" "new host key $host_fp recorded" "and said so"
check "OpenSSH reads fanout's known_hosts" ssh-keygen -F "[$SSHD_ADDR]:$SSHD_PORT" -f "$SSHD_KNOWN"

out=$(drv connect 2>"$TEST_TMP/err")
is true "$(jfield "$out" ok)" "connects again with the recorded key"
is "" "$(cat "$TEST_TMP/err")" "nothing new recorded"

out=$(drv -F "$host_fp" connect 2>/dev/null)
is true "$(jfield "$out" ok)" "the expected fingerprint matches"

# The same address with another host key: refused, both fingerprints shown.
sshd_stop
sshd_new_hostkey
new_fp=$(ssh-keygen -lf "$SSHD_DIR/host_ed25519.pub" | awk '{print $2}')
sshd_start
out=$(drv connect 2>/dev/null)
is hostkey "$(jfield "$out" error)" "a changed host key is refused"
cause=$(jfield "$out" cause)
has "$cause" "$host_fp" "the message shows the known fingerprint"
has "$cause" "$new_fp" "and the offered one"
is 1 "$(grep -c "^\[$SSHD_ADDR\]:$SSHD_PORT " "$SSHD_KNOWN")" "known_hosts not changed"
out=$(drv -K "$TEST_TMP/other_known" -F "$host_fp" connect 2>/dev/null)
is hostkey "$(jfield "$out" error)" "a recorded fingerprint (history) that differs is refused"
has "$(jfield "$out" cause)" "recorded $host_fp, server offers $new_fp" "with both fingerprints"

# Auth failure: a key the server does not know.
ssh-keygen -q -t ed25519 -N '' -f "$TEST_TMP/stranger"
out=$(SSH_AUTH_SOCK= drv -K "$TEST_TMP/k2" -k "$TEST_TMP/stranger" connect 2>/dev/null)
is auth "$(jfield "$out" error)" "an unknown key: authentication failed"
like "$(jfield "$out" cause)" "authentication failed" "cause says so"

# The ssh-agent: used when no key file is given, or the file's key is
# refused.
if command -v ssh-agent >/dev/null && command -v ssh-add >/dev/null; then
	eval "$(ssh-agent -s -a "$TEST_TMP/agent.sock")" >/dev/null
	at_exit "kill $SSH_AGENT_PID 2>/dev/null"
	ssh-add -q "$SSHD_KEY" 2>/dev/null
	out=$("$SSH_DRIVER" -h "$SSHD_ADDR" -p "$SSHD_PORT" -u "$SSHD_USER" \
	    -K "$TEST_TMP/k6" connect 2>/dev/null)
	is true "$(jfield "$out" ok)" "the ssh-agent's key, with no key file"
	out=$(drv -K "$TEST_TMP/k6" -k "$TEST_TMP/stranger" connect 2>/dev/null)
	is true "$(jfield "$out" ok)" "the ssh-agent after the file's key is refused"
	kill "$SSH_AGENT_PID"
	unset SSH_AUTH_SOCK SSH_AGENT_PID
else
	skip "no ssh-agent"
	skip "no ssh-agent"
fi

# Nothing listening: refused, after retrying until the deadline.
port=$(free_port)
out=$("$SSH_DRIVER" -h 127.0.0.1 -p "$port" -k "$SSHD_KEY" -K "$TEST_TMP/k3" -t 1 connect 2>/dev/null)
like "$(jfield "$out" error)" "^(refused|timeout)$" "a closed port is refused"
like "$(jfield "$out" cause)" "127.0.0.1:$port" "the cause names the address"

# Exec: lines of stdout and stderr, exit status.
out=$(drv -K "$TEST_TMP/k4" exec 'echo one; echo two >&2; printf three; exit 7' 2>/dev/null)
like "$out" "out: one" "stdout line streamed"
like "$out" "err: two" "stderr line streamed"
like "$out" "out: three" "a last line without newline"
like "$out" '"status":7' "exit status returned"

# The test's sshd restarted: a wait until it answers again.
sshd_stop
drv -K "$TEST_TMP/k5" -t 20 connect >"$TEST_TMP/out" 2>"$TEST_TMP/err" &
drv_pid=$!
wait_for 20 grep -q "waiting for" "$TEST_TMP/err"
sshd_start
wait "$drv_pid"
out=$(cat "$TEST_TMP/out")
is true "$(jfield "$out" ok)" "connect retries until sshd answers"
like "$(cat "$TEST_TMP/err")" "waiting for $SSHD_ADDR:$SSHD_PORT" "and says it waits"

done_testing
