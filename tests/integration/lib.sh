# Shared helpers for shell integration tests: TAP output, a scratch folder,
# free loopback ports. Source it: . "$top_srcdir/tests/integration/lib.sh"
# Environment from make check: FANOUT (the binary), top_srcdir.

: "${FANOUT:=$(pwd)/fanout}"
: "${top_srcdir:=$(pwd)}"
export FANOUT top_srcdir
# Every test's hosts are this machine (loopback sshd, namespace hosts): an
# idle-stop watcher (templates/idle-stop.sh) a test's run set starts there
# must never power it off.
export FANOUT_IDLE_POWEROFF="${FANOUT_IDLE_POWEROFF:-echo idle-stop: would power off}"

tap_n=0
tap_failed=0

plan() { echo "1..$1"; }
plan_lazy() { tap_lazy=1; }
done_testing() {
	[ -n "${tap_lazy:-}" ] && echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}
ok() { # ok CONDITION-STATUS DESCRIPTION; returns 1 when not ok
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
		return 1
	fi
}
check() { # check "description" command args...: ok when the command succeeds
	desc=$1
	shift
	if "$@" >/dev/null 2>&1; then ok 0 "$desc"; else ok 1 "$desc"; fi
}
is() { # is WANTED SEEN DESCRIPTION
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "wanted: $1"
		diag "  seen: $2"
		return 1
	fi
}
like() { # like TEXT REGEX DESCRIPTION (grep -E)
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "text: $(printf '%s' "$1" | head -c 400)"
		diag "does not match: $2"
		return 1
	fi
}
diag() { printf '# %s\n' "$*" | sed '2,$s/^/# /'; }
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n # skip $*"; }
skip_all() { echo "1..0 # skip $*"; exit 0; }
bail() { echo "Bail out! $*"; exit 1; }

# A scratch folder removed at exit (kept when TAP_KEEP is set). Also the
# history dir, so that tests never touch the user's own history.
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/fanout-test.XXXXXX")
export TEST_TMP
FANOUT_HISTORY_DIR="$TEST_TMP/history"
export FANOUT_HISTORY_DIR
tap_cleanup_hooks=""
at_exit() { tap_cleanup_hooks="$1; $tap_cleanup_hooks"; }
tap_cleanup() {
	eval "$tap_cleanup_hooks"
	[ -n "${TAP_KEEP:-}" ] || rm -rf "$TEST_TMP"
}
trap tap_cleanup EXIT
trap 'exit 130' INT TERM

# A copy of an example project in the scratch folder (the source tree may
# be read-only, as under make distcheck).
example() { # example NAME -> prints the copy's path
	rm -rf "$TEST_TMP/$1"
	cp -R "$top_srcdir/examples/$1" "$TEST_TMP/$1"
	chmod -R u+w "$TEST_TMP/$1"
	rm -rf "$TEST_TMP/$1/results"
	echo "$TEST_TMP/$1"
}

# A TCP port free on 127.0.0.1 right now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for SECONDS COMMAND...: runs COMMAND every 0.05 s until it
# succeeds; returns 1 if it did not within SECONDS.
wait_for() {
	_wf_end=$(( $(date +%s) + $1 ))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$_wf_end" ] || return 1
		sleep 0.05
	done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Waits until something listens on 127.0.0.1:PORT (up to SECONDS, def. 20).
wait_port() { wait_for "${2:-20}" port_open "$1"; }
