#!/bin/bash
# Sessions through a jump host (ssh_opts.jump, as OpenSSH's ProxyJump):
# two real sshds on loopback, the jump host on 127.0.0.1 and the target
# (a cluster's compute node) on 127.0.0.2. Exec and upload through the
# tunnel, proof that the traffic went through the jump's sshd, host key
# trust on first use for both hosts in one known_hosts file, a target
# that comes up late, a jump host that does not forward, eight tunnels at
# once through one jump host, and a reconnect after the jump's connection
# is killed.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
plan_lazy
has() { # has TEXT SUBSTRING DESCRIPTION (no regex)
	case $1 in
	*"$2"*) ok 0 "$3" ;;
	*) ok 1 "$3"; diag "text: $1"; diag "lacks: $2" ;;
	esac
}

# lib-sshd.sh keeps one sshd in its SSHD_* variables: the jump host's are
# kept in J_*, the target's in T_*, and `use J` / `use T` switch.
sshd_setup 127.0.0.1
J_DIR=$SSHD_DIR J_ADDR=$SSHD_ADDR J_PORT=$SSHD_PORT
sshd_start
J_PID=$SSHD_PID
SSHD_PID=
sshd_setup 127.0.0.2
T_DIR=$SSHD_DIR T_ADDR=$SSHD_ADDR T_PORT=$SSHD_PORT
# One client key for both hosts, as fanout has one per run set.
cp "$T_DIR/authorized_keys" "$J_DIR/authorized_keys"
KEY=$SSHD_KEY
sshd_start
T_PID=$SSHD_PID
cur=T
use() {
	eval "${cur}_PID=\$SSHD_PID"
	cur=$1
	eval "SSHD_DIR=\$${1}_DIR SSHD_ADDR=\$${1}_ADDR SSHD_PORT=\$${1}_PORT SSHD_PID=\$${1}_PID"
}
# The pid of J's or T's sshd now.
pid_of() { if [ "$cur" = "$1" ]; then echo "$SSHD_PID"; else eval "echo \$${1}_PID"; fi; }
# At exit, both.
at_exit 'sshd_stop; if [ "$cur" = T ]; then use J; else use T; fi; sshd_stop'
# The driver to the target through the jump host.
jdrv() {
	"$SSH_DRIVER" -h "$T_ADDR" -p "$T_PORT" -u "$SSHD_USER" -k "$KEY" \
	    -K "$SSHD_KNOWN" -J "$J_ADDR:$J_PORT" "$@"
}
# The jump host's per-connection sshd processes (not its listener).
jump_sessions() { ps -o pid= --ppid "$(pid_of J)" | tr -d ' '; }

j_fp=$(ssh-keygen -lf "$J_DIR/host_ed25519.pub" | awk '{print $2}')
t_fp=$(ssh-keygen -lf "$T_DIR/host_ed25519.pub" | awk '{print $2}')

# Exec through the jump host; both host keys recorded on first use.
out=$(jdrv exec 'echo "conn=$SSH_CONNECTION"; echo two >&2; exit 3' 2>"$TEST_TMP/err")
like "$out" '"status":3' "exec through the jump host: exit status"
like "$out" "out: conn=" "stdout through the tunnel"
like "$out" "err: two" "stderr through the tunnel"
check "the target's host key is recorded under its own name" \
    grep -q "^\[$T_ADDR\]:$T_PORT ssh-ed25519 " "$SSHD_KNOWN"
check "and the jump host's in the same file" \
    grep -q "^\[$J_ADDR\]:$J_PORT ssh-ed25519 " "$SSHD_KNOWN"
has "$(cat "$TEST_TMP/err")" "$T_ADDR:$T_PORT through $J_ADDR:$J_PORT: new host key $t_fp recorded" \
    "the target's new key is logged with both hops"
has "$(cat "$TEST_TMP/err")" "$J_ADDR:$J_PORT: new host key $j_fp recorded" "and the jump host's"
out=$(jdrv connect 2>"$TEST_TMP/err")
is "$t_fp" "$(jfield "$out" fingerprint)" "the fingerprint is the target's"
is "" "$(cat "$TEST_TMP/err")" "nothing new recorded the second time"

# Proof the traffic went through the jump's sshd: the client end of the
# target's TCP connection (its address in $SSH_CONNECTION) belongs to a
# process of the jump host's sshd, not to the driver. (Below, a jump host
# that forwards nothing makes the connect fail.)
jdrv exec "set -- \$SSH_CONNECTION; echo \"client=\$1:\$2\"; while [ ! -e $TEST_TMP/proved ]; do sleep 0.05; done" \
    >"$TEST_TMP/out" 2>"$TEST_TMP/err" &
drv_pid=$!
wait_for 30 grep -q "out: client=" "$TEST_TMP/out"
client=$(sed -n 's/^out: client=//p' "$TEST_TMP/out")
is "127.0.0.1" "${client%:*}" "the target sees a client on loopback" ||
    diag "$(cat "$TEST_TMP/out" "$TEST_TMP/err")"
descends() { # descends PID ANCESTOR: PID is below ANCESTOR
	_p=$1
	while [ -n "$_p" ] && [ "$_p" -gt 1 ]; do
		[ "$_p" = "$2" ] && return 0
		_p=$(ps -o ppid= -p "$_p" | tr -d ' ')
	done
	return 1
}
owner=$(ss -tnpH state established "( sport = :${client##*:} )" src 127.0.0.1 2>/dev/null |
    grep -o 'pid=[0-9]*' | head -1)
owner=${owner#pid=}
if [ -n "$owner" ]; then
	check "the target's client is a process of the jump host's sshd" descends "$owner" "$J_PID"
	check "not the driver" sh -c "! ps -o comm= -p $owner | grep -q ssh-driver"
else
	skip "ss cannot show which process owns the connection"
	skip "ss cannot show which process owns the connection"
fi
touch "$TEST_TMP/proved"
wait "$drv_pid"
like "$(cat "$TEST_TMP/out")" '"status":0' "(that command ended)"

# An upload through the jump host: the same tree arrives.
mkdir -p "$TEST_TMP/tree/sub/deeper"
printf 'alpha\n' >"$TEST_TMP/tree/a.txt"
head -c 3000000 /dev/urandom >"$TEST_TMP/tree/sub/big.bin"
printf '#!/bin/sh\necho hi\n' >"$TEST_TMP/tree/sub/deeper/run.sh"
chmod 755 "$TEST_TMP/tree/sub/deeper/run.sh"
out=$(jdrv upload "$TEST_TMP/tree" "$TEST_TMP/remote" 2>/dev/null)
is true "$(jfield "$out" ok)" "an upload through the jump host"
is 3 "$(jfield "$out" files_sent)" "every file sent"
check "the uploaded tree is the same" diff -r "$TEST_TMP/tree" "$TEST_TMP/remote/tree"
check "modes kept" test -x "$TEST_TMP/remote/tree/sub/deeper/run.sh"

# The target's host key changes (the node was rebuilt): refused, the
# jump host's key still trusted.
use T
sshd_stop
sshd_new_hostkey
new_fp=$(ssh-keygen -lf "$T_DIR/host_ed25519.pub" | awk '{print $2}')
sshd_start
out=$(jdrv connect 2>/dev/null)
is hostkey "$(jfield "$out" error)" "a changed target host key is refused"
cause=$(jfield "$out" cause)
has "$cause" "$T_ADDR:$T_PORT through $J_ADDR:$J_PORT: host key changed" "the cause names both hops"
has "$cause" "$t_fp" "the known fingerprint"
has "$cause" "$new_fp" "and the offered one"
is 1 "$(grep -c "^\[$T_ADDR\]:$T_PORT " "$SSHD_KNOWN")" "known_hosts not changed"
# Trust the node's new key from here on (as a new run set would).
ssh-keygen -R "[$T_ADDR]:$T_PORT" -f "$SSHD_KNOWN" >/dev/null 2>&1
out=$(jdrv -N node1 connect 2>"$TEST_TMP/err")
is "$new_fp" "$(jfield "$out" fingerprint)" "the new key recorded on first use again"
has "$(cat "$TEST_TMP/err")" "node1 ($T_ADDR:$T_PORT) through $J_ADDR:$J_PORT: new host key" \
    "a named host is shown by its name and address"

# Nothing listens at the target yet (a node booting): the jump host's
# refusals are retried until the target's sshd answers.
sshd_stop
jdrv -t 30 exec 'echo up' >"$TEST_TMP/out" 2>"$TEST_TMP/err" &
drv_pid=$!
wait_for 20 grep -q "waiting for" "$TEST_TMP/err"
has "$(cat "$TEST_TMP/err")" "waiting for $T_ADDR:$T_PORT through $J_ADDR:$J_PORT: $T_ADDR:$T_PORT through $J_ADDR:$J_PORT: connection refused (the jump host could not connect to $T_ADDR:$T_PORT" \
    "a refusal at the target is retried, and named"
sshd_start
wait "$drv_pid"
out=$(cat "$TEST_TMP/out")
like "$out" "out: up" "connects once the target's sshd answers"
like "$out" '"status":0' "and runs the command"
out=$(jdrv -t 1 connect 2>/dev/null)
is true "$(jfield "$out" ok)" "(the target is up)"
sshd_stop
out=$(jdrv -t 2 connect 2>/dev/null)
is refused "$(jfield "$out" error)" "a target down until the deadline: refused"
has "$(jfield "$out" cause)" "$T_ADDR:$T_PORT through $J_ADDR:$J_PORT: connection refused" \
    "the cause names both hops"
sshd_start

# Cancel through the sink: while the target is down (the connect loop)
# and while a command runs through the tunnel.
sshd_stop
jdrv -t 60 -x "$TEST_TMP/cancel1" connect >"$TEST_TMP/out" 2>"$TEST_TMP/err" &
drv_pid=$!
wait_for 20 grep -q "waiting for" "$TEST_TMP/err"
touch "$TEST_TMP/cancel1"
wait "$drv_pid"
out=$(cat "$TEST_TMP/out")
is cancelled "$(jfield "$out" error)" "a cancel while waiting for the target through the jump host"
has "$(jfield "$out" cause)" "cancelled while waiting for $T_ADDR:$T_PORT through $J_ADDR:$J_PORT" "says so"
sshd_start
jdrv -x "$TEST_TMP/cancel2" exec "touch $TEST_TMP/running; sleep 60" >"$TEST_TMP/out" 2>&1 &
drv_pid=$!
wait_for 20 test -e "$TEST_TMP/running"
touch "$TEST_TMP/cancel2"
wait "$drv_pid"
is cancelled "$(jfield "$(tail -1 "$TEST_TMP/out")" error)" "a cancel while a command runs through the tunnel"

# The jump host itself down: its own error, final, naming both hops.
use J
sshd_stop
out=$(jdrv -t 1 connect 2>/dev/null)
like "$(jfield "$out" error)" "^(refused|timeout)$" "a jump host that is down"
has "$(jfield "$out" cause)" "$T_ADDR:$T_PORT: jump host $J_ADDR:$J_PORT" "the cause names the target and the jump host"

# A jump host that forwards nothing (AllowTcpForwarding no): at once, not
# after the retries, with its own message.
cp "$J_DIR/sshd_config" "$J_DIR/sshd_config.keep"
echo "AllowTcpForwarding no" >>"$J_DIR/sshd_config"
sshd_start
out=$(jdrv -t 30 connect 2>"$TEST_TMP/err")
is other "$(jfield "$out" error)" "a jump host with AllowTcpForwarding no"
has "$(jfield "$out" cause)" "$T_ADDR:$T_PORT through $J_ADDR:$J_PORT: the jump host refuses to forward connections" \
    "says the jump host refuses to forward"
check "and did not wait" sh -c "! grep -q 'waiting for' '$TEST_TMP/err'"
sshd_stop
cp "$J_DIR/sshd_config.keep" "$J_DIR/sshd_config"
sshd_start

# Eight tunnels at once through one jump host, a thread each.
out=$(jdrv fan 8 'echo "node:$SSH_CONNECTION"' 2>"$TEST_TMP/err")
is true "$(jfield "$out" ok)" "8 sessions at once through one jump host"
is 8 "$(jfield "$out" good)" "all 8 ran their command"
is 8 "$(printf '%s' "$out" | grep -o 'node:[0-9.]* [0-9]* 127.0.0.2 ' | sort -u | wc -l)" \
    "over 8 distinct tunnels"

# The jump's connection is killed mid-command: the session is lost, and
# a reconnect makes a new jump session and runs the command again.
flag="$TEST_TMP/again"
jdrv again "if [ -e $flag ]; then echo second; exit 0; fi; touch $flag.first; sleep 60" \
    >"$TEST_TMP/out" 2>"$TEST_TMP/err" &
drv_pid=$!
wait_for 20 test -e "$flag.first"
touch "$flag"
for p in $(jump_sessions); do sshd_kill_tree "$p"; done
wait "$drv_pid"
out=$(cat "$TEST_TMP/out")
like "$out" '"reconnects":1' "the killed jump connection was noticed (one reconnect)"
like "$out" "out: second" "the command ran again after the reconnect"
like "$out" '"status":0' "and ended well"
has "$(cat "$TEST_TMP/err")" "connection to $T_ADDR:$T_PORT through $J_ADDR:$J_PORT lost; reconnecting" \
    "the reconnect is logged with both hops"
has "$(cat "$TEST_TMP/err")" "connection lost (" "the loss is an SSH_ERR_LOST"
has "$(cat "$TEST_TMP/err")" "; jump host $J_ADDR:$J_PORT: connection lost)" "whose cause says the jump host's side broke"

done_testing
