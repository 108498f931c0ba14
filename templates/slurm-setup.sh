#!/bin/sh
# fanout's set-up of a Slurm cluster's hosts (engine slurm), run over SSH
# as `sh -s -- ROLE ARGS... < slurm-setup.sh`, with shell assignments of
# the FANOUT_* variables below put before this text:
#   head               installs munge and slurmctld when missing, makes the
#                      munge key when absent, starts munged; prints
#                      `#hostname NAME` (`hostname -s`: slurmctld runs only
#                      on the host its SlurmctldHost names)
#   key                prints the munge key, base64, on one line (and
#                      nothing else)
#   node NAME          installs munge and slurmd when missing, installs the
#                      key from FANOUT_MUNGE_KEY (base64) when it differs,
#                      (re)starts munged
#   conf head          writes /etc/slurm/slurm.conf and cgroup.conf from
#   conf node NAME     FANOUT_SLURM_CONF and FANOUT_CGROUP_CONF; starts
#                      slurmctld (head) or `slurmd -N NAME` (node) when it
#                      is not running, restarts it when the files changed
#   wait N SECONDS     (head) waits until N nodes are idle, allocated or
#                      mixed, printing `#nodes READY/N` as the count
#                      changes; exit 1 and the nodes' states when the time
#                      is up
# Idempotent, and quick when nothing changed: a resume runs it again (after
# a reboot the daemons are down and start again). Runs as root or as a user
# with sudo without a password. With systemd (a cloud VM) the daemons are
# its services; without (the test hosts) they run with pid files. The munge
# key is printed by `key` alone, never otherwise. Exit 2: bad usage or
# input; 1: the set-up failed.
set -eu

FANOUT_MUNGE_KEY=${FANOUT_MUNGE_KEY-}
FANOUT_SLURM_CONF=${FANOUT_SLURM_CONF-}
FANOUT_CGROUP_CONF=${FANOUT_CGROUP_CONF-}
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export PATH

SLURM_CONF=/etc/slurm/slurm.conf
CGROUP_CONF=/etc/slurm/cgroup.conf
MUNGE_KEY=/etc/munge/munge.key
MUNGE_PID=/run/munge/munged.pid

say() { printf '%s\n' "$*"; }
die() { printf 'slurm-setup: %s\n' "$1" >&2; exit "${2:-1}"; }

usage() {
	die "usage: slurm-setup.sh head | key | node NAME | conf head | conf node NAME | wait N SECONDS" 2
}

# as_root CMD...: CMD as root (sudo -n when this user is not root).
as_root() {
	if [ -z "$sudo" ]; then "$@"; else sudo -n "$@"; fi
}

# as_user USER CMD...: CMD as USER.
as_user() {
	_u=$1
	shift
	if [ -z "$sudo" ]; then
		runuser -u "$_u" -- "$@"
	else
		sudo -n -u "$_u" -- "$@"
	fi
}

privileged() {
	sudo=
	[ "$(id -u)" != 0 ] || return 0
	if ! command -v sudo >/dev/null 2>&1 || ! sudo -n true 2>/dev/null; then
		die "runs as root or as a user with sudo without a password"
	fi
	sudo=1
}

with_systemd() { [ -d /run/systemd/system ]; }

# need "FILE..." "PACKAGE...": installs the packages when a file is missing.
need() {
	_missing=
	for _f in $1; do
		[ -x "$_f" ] || _missing="$_missing $_f"
	done
	[ -n "$_missing" ] || return 0
	command -v apt-get >/dev/null 2>&1 ||
	    die "missing:$_missing, and no apt-get to install $2"
	say "installing $2"
	_apt="env DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300"
	# shellcheck disable=SC2086
	as_root $_apt update >/dev/null || die "apt-get update failed"
	# shellcheck disable=SC2086
	as_root $_apt install -y --no-install-recommends $2 >/dev/null ||
	    die "apt-get install $2 failed"
	for _f in $1; do
		[ -x "$_f" ] || die "$_f missing after installing $2"
	done
}

# conf_get KEY DEFAULT: KEY's value in the installed slurm.conf.
conf_get() {
	_v=$(sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\([^[:space:]#]*\).*/\1/Ip" \
	    "$SLURM_CONF" 2>/dev/null | tail -n 1)
	printf '%s\n' "${_v:-$2}"
}

# alive PIDFILE COMM [NAME]: whether the pid file names a running COMM of
# this host (started with `-N NAME` when NAME is given).
alive() {
	_pid=$(as_root cat "$1" 2>/dev/null) || return 1
	case $_pid in '' | *[!0-9]*) return 1 ;; esac
	[ "$(cat "/proc/$_pid/comm" 2>/dev/null)" = "$2" ] || return 1
	# Test hosts share one kernel: a stale pid file may name another
	# host's daemon.
	[ "$(as_root readlink "/proc/$_pid/ns/net" 2>/dev/null)" = \
	    "$(readlink /proc/self/ns/net)" ] || return 1
	[ -z "${3-}" ] && return 0
	tr '\0' ' ' <"/proc/$_pid/cmdline" | grep -q -- "-N $3 " 2>/dev/null
}

# stop PIDFILE COMM [NAME]: stops the daemon and waits until it is gone.
stop() {
	alive "$@" || return 0
	as_root kill "$(as_root cat "$1")" 2>/dev/null || true
	_i=0
	while alive "$@"; do
		_i=$((_i + 1))
		[ "$_i" -lt 300 ] || die "$2 did not stop"
		sleep 0.1
	done
}

# until_ok SECONDS CMD...: waits until CMD succeeds; 1 when it did not.
until_ok() {
	_end=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.2
	done
}

munge_works() { munge -n </dev/null | unmunge >/dev/null; }

# munged running, restarted when RESTART is 1.
munged_up() {
	as_root install -d -o munge -g munge -m 0700 /etc/munge /var/log/munge
	as_root install -d -o munge -g munge -m 0711 /var/lib/munge
	if with_systemd; then
		as_root systemctl enable --quiet munge 2>/dev/null || true
		if [ "$1" = 1 ] || ! systemctl is-active --quiet munge; then
			as_root systemctl restart munge ||
			    die "munge did not start: $(as_root tail -n 5 /var/log/munge/munged.log 2>/dev/null)"
			say "munged started"
		else
			say "munged running"
		fi
	else
		if [ "$1" = 0 ] && alive "$MUNGE_PID" munged; then
			say "munged running"
			return 0
		fi
		stop "$MUNGE_PID" munged
		as_root install -d -o munge -g munge -m 0755 /run/munge
		as_user munge munged ||
		    die "munged did not start: $(as_root tail -n 5 /var/log/munge/munged.log 2>/dev/null)"
		say "munged started"
	fi
	until_ok 20 munge_works || die "munged does not answer"
}

role_head() {
	need "/usr/sbin/munged /usr/bin/munge /usr/sbin/slurmctld /usr/bin/sinfo /usr/bin/sbatch" \
	    "munge slurmctld slurm-client"
	_restart=0
	if ! as_root test -e "$MUNGE_KEY"; then
		as_root install -d -o munge -g munge -m 0700 /etc/munge
		as_root sh -c "umask 077 &&
		    dd if=/dev/urandom of='$MUNGE_KEY.new' bs=1024 count=1 2>/dev/null &&
		    chown munge:munge '$MUNGE_KEY.new' && chmod 0400 '$MUNGE_KEY.new' &&
		    mv '$MUNGE_KEY.new' '$MUNGE_KEY'" || die "the munge key could not be made"
		say "munge key made"
		_restart=1
	fi
	munged_up "$_restart"
	say "#hostname $(hostname -s)"
}

role_key() {
	as_root test -s "$MUNGE_KEY" || die "no munge key: run the head role first"
	as_root base64 -w 0 "$MUNGE_KEY"
	echo
}

role_node() {
	[ -n "$FANOUT_MUNGE_KEY" ] ||
	    die "node: FANOUT_MUNGE_KEY is empty (the head's key, base64)" 2
	need "/usr/sbin/munged /usr/bin/munge /usr/sbin/slurmd" "munge slurmd"
	as_root install -d -o munge -g munge -m 0700 /etc/munge
	_new="$MUNGE_KEY.new"
	if ! printf '%s' "$FANOUT_MUNGE_KEY" | base64 -d 2>/dev/null |
	    as_root sh -c "umask 077 && cat >'$_new'"; then
		as_root rm -f "$_new"
		die "node: FANOUT_MUNGE_KEY is not base64" 2
	fi
	if [ "$(as_root stat -c %s "$_new")" -lt 32 ]; then
		as_root rm -f "$_new"
		die "node: FANOUT_MUNGE_KEY is shorter than 32 bytes" 2
	fi
	_restart=0
	if as_root cmp -s "$_new" "$MUNGE_KEY"; then
		as_root rm -f "$_new"
	else
		as_root chown munge:munge "$_new"
		as_root chmod 0400 "$_new"
		as_root mv "$_new" "$MUNGE_KEY"
		say "munge key installed"
		_restart=1
	fi
	munged_up "$_restart"
}

# put FILE CONTENT: writes FILE (0644) when its content differs; returns
# 0 when it wrote.
put() {
	if printf '%s\n' "$2" | as_root cmp -s "$1" - 2>/dev/null; then
		return 1
	fi
	printf '%s\n' "$2" | as_root sh -c "cat >'$1.new' && chmod 0644 '$1.new' &&
	    mv '$1.new' '$1'" || die "$1 could not be written"
	say "$1 written"
}

# The slurm.conf and cgroup.conf; sets changed=1 when either changed.
write_conf() {
	case $FANOUT_SLURM_CONF in
	*SlurmctldHost*) ;;
	*) die "conf: FANOUT_SLURM_CONF is empty or names no SlurmctldHost" 2 ;;
	esac
	[ -n "$FANOUT_CGROUP_CONF" ] || die "conf: FANOUT_CGROUP_CONF is empty" 2
	as_root install -d -m 0755 /etc/slurm
	changed=0
	if put "$SLURM_CONF" "$FANOUT_SLURM_CONF"; then changed=1; fi
	if put "$CGROUP_CONF" "$FANOUT_CGROUP_CONF"; then changed=1; fi
}

ctld_answers() { scontrol ping 2>/dev/null | grep -q 'is UP'; }

role_conf_head() {
	[ -x /usr/sbin/slurmctld ] || die "conf head: no slurmctld: run the head role first"
	write_conf
	_user=$(conf_get SlurmUser root)
	_group=$(id -gn "$_user") || die "conf head: no user $_user (SlurmUser)"
	as_root install -d -o "$_user" -g "$_group" -m 0755 \
	    "$(conf_get StateSaveLocation /var/spool/slurmctld)" \
	    "$(dirname "$(conf_get SlurmctldLogFile /var/log/slurm/slurmctld.log)")"
	if with_systemd; then
		as_root systemctl enable --quiet slurmctld 2>/dev/null || true
		if [ "$changed" = 1 ] || ! systemctl is-active --quiet slurmctld; then
			as_root systemctl restart slurmctld || die "slurmctld did not start"
			say "slurmctld started"
		else
			say "slurmctld running, configuration unchanged"
		fi
	else
		_pidf=$(conf_get SlurmctldPidFile /run/slurmctld.pid)
		if [ "$changed" = 0 ] && alive "$_pidf" slurmctld; then
			say "slurmctld running, configuration unchanged"
		else
			stop "$_pidf" slurmctld
			as_root slurmctld || die "slurmctld did not start: $(as_root tail -n 5 \
			    "$(conf_get SlurmctldLogFile /var/log/slurm/slurmctld.log)" 2>/dev/null)"
			say "slurmctld started"
		fi
	fi
	until_ok 30 ctld_answers || die "slurmctld does not answer: $(as_root tail -n 5 \
	    "$(conf_get SlurmctldLogFile /var/log/slurm/slurmctld.log)" 2>/dev/null)"
}

role_conf_node() {
	[ -x /usr/sbin/slurmd ] || die "conf node: no slurmd: run the node role first"
	write_conf
	_spool=$(conf_get SlurmdSpoolDir /var/spool/slurmd | sed "s/%n/$1/")
	_log=$(conf_get SlurmdLogFile /var/log/slurm/slurmd.log | sed "s/%n/$1/")
	as_root install -d -m 0755 "$_spool" "$(dirname "$_log")"
	if with_systemd; then
		if put /etc/default/slurmd "SLURMD_OPTIONS=\"-N $1\""; then
			changed=1
		fi
		as_root systemctl enable --quiet slurmd 2>/dev/null || true
		if [ "$changed" = 1 ] || ! systemctl is-active --quiet slurmd; then
			as_root systemctl restart slurmd || die "slurmd did not start"
			say "slurmd started"
		else
			say "slurmd running, configuration unchanged"
		fi
		return 0
	fi
	_pidf=$(conf_get SlurmdPidFile /run/slurmd.pid | sed "s/%n/$1/")
	if [ "$changed" = 0 ] && alive "$_pidf" slurmd "$1"; then
		say "slurmd running, configuration unchanged"
		return 0
	fi
	stop "$_pidf" slurmd "$1"
	if ! as_root slurmd -N "$1" || ! until_ok 20 alive "$_pidf" slurmd "$1"; then
		die "slurmd did not start: $(as_root tail -n 5 "$_log" 2>/dev/null)"
	fi
	say "slurmd started"
}

role_wait() {
	_want=$1
	_end=$(($(date +%s) + $2))
	_last=
	while :; do
		_ready=$(sinfo -h -N -o '%N %T' 2>/dev/null |
		    awk '$2 ~ /^(idle|allocated|mixed)$/ { print $1 }' | sort -u |
		    wc -l)
		if [ "$_ready" != "$_last" ]; then
			say "#nodes $_ready/$_want"
			_last=$_ready
		fi
		[ "$_ready" -lt "$_want" ] || return 0
		if [ "$(date +%s)" -ge "$_end" ]; then
			printf 'slurm-setup: %s of %s nodes ready after %s s:\n' \
			    "$_ready" "$_want" "$2" >&2
			sinfo -N -o '%N %T %E' >&2 2>&1 || true
			exit 1
		fi
		sleep 0.5
	done
}

number() {
	case $1 in '' | *[!0-9]*) die "$2: not a number: $1" 2 ;; esac
}

# NAME: a Slurm node name (it goes into paths and a sed expression).
node_name() {
	case $1 in
	'' | *[!A-Za-z0-9_.-]*) die "not a node name: '$1'" 2 ;;
	esac
}

main() {
	[ $# -ge 1 ] || usage
	_role=$1
	shift
	case $_role in
	head)
		[ $# -eq 0 ] || usage
		privileged
		role_head
		;;
	key)
		[ $# -eq 0 ] || usage
		privileged
		role_key
		;;
	node)
		[ $# -eq 1 ] || usage
		node_name "$1"
		privileged
		role_node "$1"
		;;
	conf)
		case ${1-}:$# in
		head:1) privileged && role_conf_head ;;
		node:2) node_name "$2" && privileged && role_conf_node "$2" ;;
		*) usage ;;
		esac
		;;
	wait)
		[ $# -eq 2 ] || usage
		number "$1" "wait: node count"
		number "$2" "wait: seconds"
		role_wait "$1" "$2"
		;;
	*) usage ;;
	esac
}

# The whole text is read before anything runs, and nothing run reads it:
# it comes on the standard input.
main "$@" </dev/null
