# A cluster of hosts on this machine: a head and N nodes, each a network
# namespace with its own address, hostname, OpenSSH sshd (as root, port 22)
# and, under `unshare --mount`, private folders, so that nothing passes
# between hosts through a shared disk. Source it after lib.sh and
# lib-sshd.sh:
#   cluster_setup N        makes the head and node1..nodeN, starts their sshd
#   cluster_exec HOST CMD  runs CMD (sh) on HOST (head, nodeK): in its
#                          network, mount and UTS namespaces
#   cluster_kill_node K    kills every process of nodeK at once, as a crash
#   cluster_start HOST     starts HOST's sshd again (after a kill: a reboot;
#                          its daemons stay down until set up again)
#   cluster_addr HOST      the address HOST is reached at (nodes: through
#                          the head)
#
# The network, as on AWS: the "laptop" (this namespace) reaches the head on
# a link of its own (CLUSTER_HEAD_ADDR); the head and the nodes share a
# bridge in a namespace of its own with no address of this namespace on it,
# so a node is reached only through the head (ProxyJump; here the nodes'
# /25 is an unreachable route, so a direct try fails at once). Nodes route by
# default via the head, so they reach both of its addresses; the head does
# not forward. Addresses come from 198.18.0.0/15 (RFC 2544: tests only),
# one /24 per test, reserved by creating its head namespace (`ip netns add`
# fails when another test holds it) and checked against this machine's
# routes:
#   198.A.B.1/30     this namespace's end of the head's link
#   198.A.B.2/30     the head (CLUSTER_HEAD_ADDR, port 22)
#   198.A.B.129/25   the head on the bridge (CLUSTER_HEAD_PRIVATE)
#   198.A.B.129+K    nodeK
#
# Private per host (bind mounts in the sshd's mount namespace, backed by
# $CLUSTER_DIR/HOST/...): /etc/hosts (its own name only), /etc/munge,
# /etc/slurm, /root (empty: root's login runs none of this machine's shell
# start-up files), /run, /tmp, /var/lib/munge, /var/log, /var/spool and
# /srv, so also the work folder /srv/fanout (CLUSTER_WORK, exported as
# FANOUT_BASTION_DIR). The host's sshd files live in its private /tmp/sshd.
#
# Exports FANOUT_BASTION_ADDRESS="head=root@ADDR:22,node1=root@ADDR:22,...",
# FANOUT_BASTION_DIR, FANOUT_SSH_WAIT=30; sets CLUSTER_N, CLUSTER_NET (the
# 198.A.B prefix), CLUSTER_HEAD_ADDR, CLUSTER_HEAD_PRIVATE, CLUSTER_DIR,
# CLUSTER_KEY (a client key every host accepts) and CLUSTER_SSH_CONFIG (an
# ssh_config: `ssh -F "$CLUSTER_SSH_CONFIG" nodeK` goes through the head).
# Everything is removed at exit, after a failure too.

CLUSTER_WORK=/srv/fanout

# The folders bind-mounted privately on each host, in mount order (/tmp
# last: the others' backing folders are under $TEST_TMP, in /tmp).
cluster_private="/etc/munge /etc/slurm /root /run /var/lib/munge
	/var/log /var/spool /srv /tmp"

# cluster_ns HOST: the namespace of a host (head, nodeK).
cluster_ns() {
	case $1 in
	head) echo "fo${cluster_i}h" ;;
	node*) echo "fo${cluster_i}n${1#node}" ;;
	*) bail "cluster: no host $1" ;;
	esac
}

# cluster_addr HOST: the address the host is reached at over SSH.
cluster_addr() {
	case $1 in
	head) echo "$CLUSTER_HEAD_ADDR" ;;
	node*) echo "$CLUSTER_NET.$((129 + ${1#node}))" ;;
	esac
}

# Reserves a free /24 of 198.18.0.0/15: the first index, from this test's
# pid on, whose head namespace could be made and whose prefix no route of
# this machine touches.
cluster_reserve() {
	_start=$(($$ % 512))
	_t=0
	while [ "$_t" -lt 512 ]; do
		_i=$(((_start + _t) % 512))
		_t=$((_t + 1))
		_net="198.$((18 + _i / 256)).$((_i % 256))"
		if ip -4 route show table all | grep -q "$_net\."; then
			continue
		fi
		ip -4 addr show | grep -q "inet $_net\." && continue
		ip netns add "fo${_i}h" 2>/dev/null || continue
		cluster_i=$_i
		CLUSTER_NET=$_net
		return 0
	done
	bail "cluster: no free test subnet in 198.18.0.0/15"
}

# The processes of a namespace, stopped one round after another until no
# new one appears (none can fork meanwhile), then killed at once.
cluster_kill_ns() {
	_ns=$1
	_seen=
	while :; do
		_pids=$(ip netns pids "$_ns" 2>/dev/null | sort -n)
		[ -n "$_pids" ] || break
		[ "$_pids" != "$_seen" ] || break
		# shellcheck disable=SC2086
		kill -STOP $_pids 2>/dev/null
		_seen=$_pids
	done
	# shellcheck disable=SC2086
	[ -z "$_seen" ] || kill -9 $_seen 2>/dev/null
	wait_for 20 cluster_ns_empty "$_ns"
}

cluster_ns_empty() { [ -z "$(ip netns pids "$1" 2>/dev/null)" ]; }

cluster_teardown() {
	[ -n "${cluster_i:-}" ] || return 0
	[ -z "${cluster_keys_pid:-}" ] || kill "$cluster_keys_pid" 2>/dev/null
	for _h in $cluster_hosts; do
		cluster_kill_ns "$(cluster_ns "$_h")"
	done
	for _h in $cluster_hosts; do
		ip netns del "$(cluster_ns "$_h")" 2>/dev/null
	done
	ip netns del "fo${cluster_i}s" 2>/dev/null
	ip link del "fo${cluster_i}r" 2>/dev/null
	ip route del unreachable "$CLUSTER_NET.128/25" 2>/dev/null
	cluster_i=
	return 0
}

cluster_setup() {
	CLUSTER_N=$1
	[ "$(id -u)" = 0 ] || skip_all "cluster tests need root (network namespaces, bind mounts)"
	[ -x "$SSHD_BIN" ] || skip_all "no OpenSSH server at $SSHD_BIN"
	for _t in ip unshare nsenter ssh ssh-keygen; do
		command -v "$_t" >/dev/null || skip_all "no $_t"
	done
	_probe="fo$$probe"
	ip netns add "$_probe" 2>/dev/null ||
	    skip_all "network namespaces cannot be made here (ip netns add failed)"
	ip netns del "$_probe"
	cluster_reserve
	at_exit cluster_teardown
	cluster_hosts="head"
	_k=1
	while [ "$_k" -le "$CLUSTER_N" ]; do
		cluster_hosts="$cluster_hosts node$_k"
		_k=$((_k + 1))
	done
	CLUSTER_HEAD_ADDR="$CLUSTER_NET.2"
	CLUSTER_HEAD_PRIVATE="$CLUSTER_NET.129"
	CLUSTER_DIR="$TEST_TMP/cluster"
	mkdir -p "$CLUSTER_DIR"
	cluster_network || bail "cluster: the network could not be made"

	CLUSTER_KEY="$CLUSTER_DIR/id_ed25519"
	ssh-keygen -q -t ed25519 -N '' -C fanout-cluster-test -f "$CLUSTER_KEY"
	_map=
	for _h in $cluster_hosts; do
		cluster_host_dirs "$_h"
		_map="$_map${_map:+,}$_h=root@$(cluster_addr "$_h"):22"
	done
	cluster_ssh_config
	cluster_authorize
	for _h in $cluster_hosts; do
		cluster_start "$_h"
	done
	export FANOUT_BASTION_ADDRESS="$_map"
	export FANOUT_BASTION_DIR="$CLUSTER_WORK"
	export FANOUT_SSH_WAIT=30
	# The idle stop's watcher runs in the test's hosts, on this machine:
	# it must never power it off.
	export FANOUT_IDLE_POWEROFF="${FANOUT_IDLE_POWEROFF:-echo idle-stop: would power off}"
	export CLUSTER_N CLUSTER_NET CLUSTER_HEAD_ADDR CLUSTER_HEAD_PRIVATE \
	    CLUSTER_DIR CLUSTER_KEY CLUSTER_SSH_CONFIG
}

cluster_network() {
	_sw="fo${cluster_i}s"
	_h=$(cluster_ns head)
	ip netns add "$_sw" || return 1
	ip -n "$_sw" link add br0 type bridge || return 1
	ip -n "$_sw" link set br0 up || return 1
	# The laptop's link to the head.
	ip link add "fo${cluster_i}r" type veth peer name eth0 netns "$_h" ||
	    return 1
	ip addr add "$CLUSTER_NET.1/30" dev "fo${cluster_i}r" || return 1
	ip link set "fo${cluster_i}r" up || return 1
	# Nothing of the cluster's bridge is reached from here but through
	# the head: fail at once rather than take the default route.
	ip route add unreachable "$CLUSTER_NET.128/25" || return 1
	ip -n "$_h" addr add "$CLUSTER_NET.2/30" dev eth0 || return 1
	ip -n "$_h" link set eth0 up || return 1
	ip -n "$_h" link set lo up || return 1
	cluster_plug "$_h" 0 "$CLUSTER_HEAD_PRIVATE" || return 1
	_k=1
	while [ "$_k" -le "$CLUSTER_N" ]; do
		_n=$(cluster_ns "node$_k")
		ip netns add "$_n" || return 1
		ip -n "$_n" link set lo up || return 1
		cluster_plug "$_n" "$_k" "$(cluster_addr "node$_k")" || return 1
		ip -n "$_n" route add default via "$CLUSTER_HEAD_PRIVATE" ||
		    return 1
		_k=$((_k + 1))
	done
}

# cluster_plug NS PORT ADDR: a veth from the bridge to NS (eth1 on the
# head, eth0 on a node) with ADDR/25.
cluster_plug() {
	_sw="fo${cluster_i}s"
	_if=eth0
	[ "$2" != 0 ] || _if=eth1
	ip -n "$_sw" link add "p$2" type veth peer name "$_if" netns "$1" ||
	    return 1
	ip -n "$_sw" link set "p$2" master br0 up || return 1
	ip -n "$1" addr add "$3/25" dev "$_if" || return 1
	ip -n "$1" link set "$_if" up
}

# The folders behind a host's private mounts, and its sshd's files (in
# its private /tmp/sshd, which is where its sshd sees them).
cluster_host_dirs() {
	_d="$CLUSTER_DIR/$1"
	for _m in $cluster_private; do
		mkdir -p "$_d$_m"
	done
	mkdir -p "$_d/run/sshd" "$_d/srv/fanout"
	chmod 700 "$_d/root"
	# Its own name resolves, as on a cloud VM (munged looks it up).
	_a=$(cluster_addr "$1")
	[ "$1" != head ] || _a=$CLUSTER_HEAD_PRIVATE
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n%s\t%s\n' "$_a" "$1" \
	    >"$_d/hosts"
	chmod 755 "$_d/run/sshd"
	chmod 1777 "$_d/tmp"
	_s="$_d/tmp/sshd"
	mkdir -p "$_s"
	chmod 700 "$_s"
	ssh-keygen -q -t ed25519 -N '' -f "$_s/host_ed25519"
	ssh-keygen -y -f "$CLUSTER_KEY" >"$_s/authorized_keys"
	cat >"$_s/sshd_config" <<EOF
ListenAddress 0.0.0.0:22
HostKey /tmp/sshd/host_ed25519
PidFile /tmp/sshd/sshd.pid
AuthorizedKeysFile /tmp/sshd/authorized_keys
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AllowTcpForwarding yes
MaxStartups 100
MaxSessions 100
LogLevel ERROR
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
}

# An ssh_config for OpenSSH's client: the hosts by name, nodes through the
# head, the test's key, host keys learnt on first use.
cluster_ssh_config() {
	CLUSTER_SSH_CONFIG="$CLUSTER_DIR/ssh_config"
	{
		printf 'Host *\n'
		printf '\tUser root\n\tPort 22\n\tIdentityFile %s\n' "$CLUSTER_KEY"
		printf '\tIdentitiesOnly yes\n\tBatchMode yes\n'
		printf '\tUserKnownHostsFile %s/known_hosts\n' "$CLUSTER_DIR"
		printf '\tStrictHostKeyChecking accept-new\n'
		printf '\tConnectTimeout 10\n\tLogLevel ERROR\n'
		for _h in $cluster_hosts; do
			printf 'Host %s\n\tHostName %s\n' "$_h" "$(cluster_addr "$_h")"
			[ "$_h" = head ] || printf '\tProxyJump head\n'
		done
	} >"$CLUSTER_SSH_CONFIG"
}

# As EC2 does: the public half of each run set's key (the <id>.key files
# fanout writes in the history dir) is authorized on every host, in the
# background until the test ends.
cluster_authorize() {
	mkdir -p "$FANOUT_HISTORY_DIR"
	(
		while :; do
			for _k in "$FANOUT_HISTORY_DIR"/*.key; do
				if [ ! -f "$_k" ] || [ -e "$_k.authorized" ]; then
					continue
				fi
				_pub=$(ssh-keygen -y -f "$_k" 2>/dev/null) || continue
				for _h in $cluster_hosts; do
					printf '%s\n' "$_pub" >> \
					    "$CLUSTER_DIR/$_h/tmp/sshd/authorized_keys"
				done
				touch "$_k.authorized"
			done
			sleep 0.1
		done
	) &
	cluster_keys_pid=$!
}

# cluster_start HOST: its sshd in its namespaces (hostname HOST), with the
# private folders mounted; waits until it answers.
cluster_start() {
	_d="$CLUSTER_DIR/$1"
	_mounts=
	_mounts="mount --bind '$_d/hosts' /etc/hosts &&"
	for _m in $cluster_private; do
		_mounts="$_mounts mount --bind '$_d$_m' '$_m' &&"
	done
	rm -f "$_d/tmp/sshd/sshd.pid"
	ip netns exec "$(cluster_ns "$1")" unshare --mount --uts \
	    --propagation private sh -c "hostname '$1' && $_mounts
	    exec '$SSHD_BIN' -D -f /tmp/sshd/sshd_config -E /tmp/sshd/sshd.log" \
	    </dev/null >>"$CLUSTER_DIR/$1.out" 2>&1 &
	eval "cluster_pid_$1=$!"
	# Not a job of this shell: it would report the kill of a host.
	disown $!
	wait_for 20 cluster_answers "$1" || {
		diag "$1: sshd did not start: $(cat "$CLUSTER_DIR/$1.out" \
		    "$_d/tmp/sshd/sshd.log" 2>/dev/null)"
		bail "cluster: the sshd of $1 did not start"
	}
}

# Whether HOST's sshd accepts a connection (from inside its namespace).
cluster_answers() {
	ip netns exec "$(cluster_ns "$1")" bash -c \
	    "exec 3<>/dev/tcp/$(cluster_addr "$1")/22" 2>/dev/null
}

# cluster_exec HOST CMD: CMD (sh) in HOST's network, mount and UTS
# namespaces, as its own processes are.
cluster_exec() {
	eval "_p=\${cluster_pid_$1:-}"
	if [ -z "$_p" ] || ! kill -0 "$_p" 2>/dev/null; then
		echo "cluster_exec: $1 is not running" >&2
		return 1
	fi
	nsenter -t "$_p" -n -m -u -- sh -c "$2"
}

# cluster_kill_node K: every process of nodeK killed at once (its sshd,
# munged, slurmd, the jobs), as when the VM dies. Its namespace, address
# and folders stay (cluster_start nodeK boots it again).
cluster_kill_node() {
	cluster_kill_ns "$(cluster_ns "node$1")"
	eval "cluster_pid_node$1="
}
