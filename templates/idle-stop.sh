#!/bin/sh
# fanout's idle stop: a kept head or node powers itself off after MIN idle
# minutes, so a forgotten run set costs its disks only (an EBS-backed EC2
# instance stops on an OS shutdown: InstanceInitiatedShutdownBehavior is
# "stop"; no cloud credentials needed). fanout's host set-up puts this file
# in fanout's folder DIR on each host and runs `start`.
#
#   idle-stop.sh start MIN DIR   starts the watcher (detached; or, on a VM
#                                with systemd, as the service
#                                fanout-idle-stop, which a reboot keeps);
#                                MIN 0 stops any watcher: never
#   idle-stop.sh watch MIN DIR   the watcher: checks once a minute
#   idle-stop.sh busy DIR        says why the host is busy now (exit 0),
#                                or exits 1 when it is idle
#
# The watcher ends (without powering off) once DIR is gone.
#
# Idle: no process works inside DIR (fanout-worker and the tasks it runs,
# a Slurm job step's tasks: their working folders are there) and no SSH
# session is open (a child of the sshd: a login, or fanout connected).
# After MIN idle checks in a row the machine is powered off. The watcher
# writes DIR/idle-stop.state after each check ("check N: idle I of MIN",
# "check N: busy: WHY") and logs to
# DIR/idle-stop.log.
#
# Test hooks (fanout passes them on from its own environment):
#   FANOUT_IDLE_TICK      seconds a "minute" lasts (default 60)
#   FANOUT_IDLE_POWEROFF  command run instead of powering off (never the
#                         systemd service then)
#   FANOUT_IDLE_SSHD_PID  the sshd whose sessions count (default: from
#                         /run/sshd.pid or /var/run/sshd.pid)
set -u

FANOUT_IDLE_TICK=${FANOUT_IDLE_TICK:-60}
FANOUT_IDLE_POWEROFF=${FANOUT_IDLE_POWEROFF-}
FANOUT_IDLE_SSHD_PID=${FANOUT_IDLE_SSHD_PID-}
UNIT=fanout-idle-stop

die() { printf 'idle-stop: %s\n' "$1" >&2; exit "${2:-1}"; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi
}

# The sshd that takes logins, or nothing.
sshd_pid() {
	if [ -n "$FANOUT_IDLE_SSHD_PID" ]; then
		echo "$FANOUT_IDLE_SSHD_PID"
		return
	fi
	for f in /run/sshd.pid /var/run/sshd.pid; do
		[ -r "$f" ] && { head -n 1 "$f"; return; }
	done
}

# Prints why the host is busy and returns 0, or returns 1 when idle.
busy() {
	_dir=$(cd "$1" 2>/dev/null && pwd -P) || return 1
	_sshd=$(sshd_pid)
	# A cluster's head: a job of the cluster's queued or running.
	if command -v squeue >/dev/null 2>&1 && [ -e /etc/slurm/slurm.conf ] &&
	    squeue -h -o %i 2>/dev/null | grep -q .; then
		echo "slurm jobs"
		return 0
	fi
	for _p in /proc/[0-9]*; do
		_pid=${_p#/proc/}
		[ "$_pid" != "$$" ] || continue
		_cwd=$(readlink "$_p/cwd" 2>/dev/null) || _cwd=
		case $_cwd in
		"$_dir" | "$_dir"/*)
			echo "work: pid $_pid in $_cwd"
			return 0 ;;
		esac
		if [ -n "$_sshd" ] && [ "$_pid" != "$_sshd" ]; then
			# Field 4 of stat is the parent (after "(comm)").
			read -r _st <"$_p/stat" 2>/dev/null || continue
			_st=${_st##*) }
			set -- $_st
			if [ "${2:-}" = "$_sshd" ]; then
				echo "ssh session: pid $_pid"
				return 0
			fi
		fi
	done
	return 1
}

poweroff_now() {
	if [ -n "$FANOUT_IDLE_POWEROFF" ]; then
		sh -c "$FANOUT_IDLE_POWEROFF"
	else
		as_root shutdown -h now 2>/dev/null || as_root poweroff
	fi
}

watch() {
	min=$1
	dir=$2
	idle=0
	n=0
	cd /
	while :; do
		sleep "$FANOUT_IDLE_TICK"
		# fanout's folder removed: nothing of fanout's is kept here.
		if [ ! -d "$dir" ]; then
			echo "idle-stop: $dir is gone; the watcher ends" >&2
			exit 0
		fi
		n=$((n + 1))
		if why=$(busy "$dir"); then
			idle=0
			echo "check $n: busy: $why" >"$dir/idle-stop.state.new"
		else
			idle=$((idle + 1))
			echo "check $n: idle $idle of $min" \
			    >"$dir/idle-stop.state.new"
		fi
		mv -f "$dir/idle-stop.state.new" "$dir/idle-stop.state"
		if [ "$idle" -ge "$min" ]; then
			echo "$(date -u +%FT%TZ) idle for $min minute(s): powering off" \
			    >>"$dir/idle-stop.log"
			echo "powered off after $min idle minute(s)" \
			    >"$dir/idle-stop.state"
			poweroff_now >>"$dir/idle-stop.log" 2>&1
			rm -f "$dir/idle-stop.pid"
			exit 0
		fi
	done
}

stop_watcher() {
	dir=$1
	if [ -f "$dir/idle-stop.pid" ]; then
		# Its session (setsid): the shell and the sleep it waits for.
		_w=$(cat "$dir/idle-stop.pid")
		case $_w in
		'' | *[!0-9]*) ;;
		*) kill -TERM -- "-$_w" 2>/dev/null || kill "$_w" 2>/dev/null ;;
		esac
		rm -f "$dir/idle-stop.pid"
	fi
	if [ -z "$FANOUT_IDLE_POWEROFF" ] && [ -d /run/systemd/system ] &&
	    [ -f "/etc/systemd/system/$UNIT.service" ]; then
		as_root systemctl disable --now "$UNIT" >/dev/null 2>&1
		as_root rm -f "/etc/systemd/system/$UNIT.service"
	fi
	return 0
}

start() {
	min=$1
	dir=$(cd "$2" && pwd -P) || die "no folder $2"
	self="$dir/idle-stop.sh"
	[ -f "$self" ] || die "$self is missing"
	stop_watcher "$dir"
	if [ "$min" = 0 ]; then
		echo "idle stop: never"
		return 0
	fi
	# A VM with systemd: a service, so that it runs again after a stop
	# and a start (a resume without a run does not log in).
	if [ -z "$FANOUT_IDLE_POWEROFF" ] && [ -d /run/systemd/system ] &&
	    { [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then
		printf '[Unit]\nDescription=fanout idle stop\n\n[Service]\nExecStart=/bin/sh %s watch %s %s\nRestart=always\n\n[Install]\nWantedBy=multi-user.target\n' \
		    "$self" "$min" "$dir" |
		    as_root tee "/etc/systemd/system/$UNIT.service" >/dev/null &&
		    as_root systemctl daemon-reload &&
		    as_root systemctl enable --now "$UNIT" >/dev/null 2>&1 &&
		    { echo "idle stop: after $min idle minute(s) (service $UNIT)"; return 0; }
	fi
	FANOUT_IDLE_TICK=$FANOUT_IDLE_TICK \
	FANOUT_IDLE_POWEROFF=$FANOUT_IDLE_POWEROFF \
	FANOUT_IDLE_SSHD_PID=$FANOUT_IDLE_SSHD_PID \
	    nohup setsid sh "$self" watch "$min" "$dir" </dev/null \
	    >>"$dir/idle-stop.log" 2>&1 &
	echo $! >"$dir/idle-stop.pid"
	echo "idle stop: after $min idle minute(s)"
}

case ${1:-} in
start)
	[ $# -eq 3 ] || die "usage: idle-stop.sh start MIN DIR" 2
	case $2 in '' | *[!0-9]*) die "MIN must be a whole number, not '$2'" 2 ;; esac
	start "$2" "$3" ;;
watch)
	[ $# -eq 3 ] || die "usage: idle-stop.sh watch MIN DIR" 2
	case $2 in '' | *[!0-9]* | 0) die "MIN must be a number above 0, not '$2'" 2 ;; esac
	watch "$2" "$3" ;;
busy)
	[ $# -eq 2 ] || die "usage: idle-stop.sh busy DIR" 2
	busy "$2" ;;
*)
	die "usage: idle-stop.sh start MIN DIR | watch MIN DIR | busy DIR" 2 ;;
esac
