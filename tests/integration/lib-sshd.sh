# An OpenSSH sshd of the test's own on a loopback address, with its own host
# key, config and authorized_keys, and a fresh ed25519 client key. Source it
# after lib.sh:
#   . "$top_srcdir/tests/integration/lib-sshd.sh"
#   sshd_setup [ADDR]   keys and config (ADDR defaults to 127.0.0.1)
#   sshd_start          starts it (stopped at exit), waits for the port
#   sshd_stop           stops it and its connections
#   sshd_new_hostkey    replaces the host key (restart to take effect)
# Sets SSHD_DIR, SSHD_ADDR, SSHD_PORT, SSHD_USER, SSHD_KEY (private key
# file), SSHD_KNOWN (a known_hosts path for fanout, not yet created) and
# SSH_DRIVER (the test driver program).

SSHD_BIN=${SSHD_BIN:-/usr/sbin/sshd}
SSH_DRIVER=${SSH_DRIVER:-$(dirname "$FANOUT")/tests/ssh-driver}

sshd_setup() {
	[ -x "$SSHD_BIN" ] || skip_all "no OpenSSH server at $SSHD_BIN"
	command -v ssh-keygen >/dev/null || skip_all "no ssh-keygen"
	[ -x "$SSH_DRIVER" ] || bail "no test driver at $SSH_DRIVER"
	SSHD_ADDR=${1:-127.0.0.1}
	SSHD_DIR="$TEST_TMP/sshd-$SSHD_ADDR"
	mkdir -p "$SSHD_DIR"
	chmod 700 "$SSHD_DIR"
	SSHD_PORT=$(free_port)
	SSHD_USER=$(id -un)
	SSHD_KEY="$SSHD_DIR/id_ed25519"
	SSHD_KNOWN="$TEST_TMP/known_hosts"
	ssh-keygen -q -t ed25519 -N '' -C fanout-test -f "$SSHD_KEY"
	ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/host_ed25519"
	cp "$SSHD_KEY.pub" "$SSHD_DIR/authorized_keys"
	cat >"$SSHD_DIR/sshd_config" <<EOF
ListenAddress $SSHD_ADDR:$SSHD_PORT
HostKey $SSHD_DIR/host_ed25519
PidFile $SSHD_DIR/sshd.pid
AuthorizedKeysFile $SSHD_DIR/authorized_keys
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
MaxStartups 100
MaxSessions 100
LogLevel ERROR
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
	# Privilege separation needs this folder when sshd runs as root.
	[ "$(id -u)" != 0 ] || [ -d /run/sshd ] || mkdir -p /run/sshd
	export SSHD_DIR SSHD_ADDR SSHD_PORT SSHD_USER SSHD_KEY SSHD_KNOWN
}

sshd_start() {
	"$SSHD_BIN" -D -f "$SSHD_DIR/sshd_config" -E "$SSHD_DIR/sshd.log" &
	SSHD_PID=$!
	if [ -z "${sshd_hooked:-}" ]; then
		at_exit sshd_stop
		sshd_hooked=1
	fi
	_i=0
	while ! (exec 3<>"/dev/tcp/$SSHD_ADDR/$SSHD_PORT") 2>/dev/null; do
		_i=$((_i + 1))
		if [ "$_i" -gt 100 ] || ! kill -0 "$SSHD_PID" 2>/dev/null; then
			diag "sshd did not start: $(cat "$SSHD_DIR/sshd.log")"
			bail "sshd did not start"
		fi
		sleep 0.1
	done
}

# Lists a process and everything below it, parents first, stopping each
# before reading its children (so none can fork or react meanwhile).
sshd_freeze_tree() {
	kill -STOP "$1" 2>/dev/null || return 0
	echo "$1"
	for _c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		sshd_freeze_tree "$_c"
	done
}

# Kills a process and everything below it at once, as a crash does: all
# are frozen first, so no sshd sees its shell die and tells the client
# (an exit-signal on the channel is not what a crash looks like).
sshd_kill_tree() {
	_pids=$(sshd_freeze_tree "$1")
	[ -n "$_pids" ] && kill -9 $_pids 2>/dev/null
	return 0
}

# Stops our sshd and the per-connection processes it forked, as a crash
# or a reboot of the bastion would.
sshd_stop() {
	[ -n "${SSHD_PID:-}" ] || return 0
	sshd_kill_tree "$SSHD_PID"
	wait "$SSHD_PID" 2>/dev/null
	SSHD_PID=
	return 0
}

# As EC2 does on a real bastion: authorizes each run set's public key
# (derived from the <id>.key files fanout writes in the history dir) in
# this sshd, in the background until the test ends. Then points fanout at
# this sshd as its bastion.
sshd_as_bastion() {
	mkdir -p "$FANOUT_HISTORY_DIR"
	(
		while :; do
			for _k in "$FANOUT_HISTORY_DIR"/*.key; do
				[ -f "$_k" ] && [ ! -e "$_k.authorized" ] || continue
				ssh-keygen -y -f "$_k" >>"$SSHD_DIR/authorized_keys" \
				    2>/dev/null && touch "$_k.authorized"
			done
			sleep 0.1
		done
	) &
	at_exit "kill $! 2>/dev/null"
	export FANOUT_BASTION_ADDRESS="$SSHD_USER@$SSHD_ADDR:$SSHD_PORT"
	export FANOUT_BASTION_DIR="$TEST_TMP/bastion"
	# The idle stop's watcher (templates/idle-stop.sh) runs on this
	# machine here: it must never power it off. A test that wants the
	# stop sets its own command.
	export FANOUT_IDLE_POWEROFF="${FANOUT_IDLE_POWEROFF:-echo idle-stop: would power off}"
	export FANOUT_SSH_WAIT=30
}

sshd_new_hostkey() {
	rm -f "$SSHD_DIR/host_ed25519" "$SSHD_DIR/host_ed25519.pub"
	ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/host_ed25519"
}

# The driver with this sshd's address, user, key and known_hosts.
drv() {
	"$SSH_DRIVER" -h "$SSHD_ADDR" -p "$SSHD_PORT" -u "$SSHD_USER" \
	    -k "$SSHD_KEY" -K "$SSHD_KNOWN" "$@"
}

# jfield JSON KEY: a top-level value of the driver's JSON output.
jfield() {
	printf '%s' "$1" | python3 -c 'import json, sys
v = json.load(sys.stdin).get(sys.argv[1])
print(json.dumps(v) if isinstance(v, (list, dict)) else
      ("true" if v is True else "false" if v is False else v))' "$2"
}
