# shellcheck shell=bash
# Shared by the SSH benchmarks (bench/upload.sh, bench/remote-pool.sh),
# sourced after tests/integration/lib-sshd.sh and sshd_start.
#
# bench_plain_user: log in as a plain user whose shell reads no rc files.
# On these machines root's ~/.bashrc runs pyenv's init, which bash sources
# for every SSH command (Debian's bash does so when sshd starts it):
# 0.7-1.6 s a login, paid alike by fanout, scp, rsync and ssh, which would
# measure pyenv rather than the tools. BENCH_AS_ROOT=1 keeps the current
# user. Sets R (a folder the login user owns) and SSHD_USER.
bench_plain_user() {
	R="$TEST_TMP"
	[ "$(id -u)" = 0 ] && [ -z "${BENCH_AS_ROOT:-}" ] || return 0
	buser="fobench$$"
	# A password of "*": no password login, but not a locked account
	# (sshd without PAM refuses those).
	useradd -M -p "*" -d "$TEST_TMP/bhome" -s /bin/sh "$buser" ||
	    { echo "bench: useradd failed" >&2; exit 2; }
	at_exit "userdel $buser 2>/dev/null"
	R="$TEST_TMP/bhome"
	mkdir -p "$R"
	chown "$buser" "$R"
	chmod 755 "$TEST_TMP" "$SSHD_DIR"
	chmod 644 "$SSHD_DIR/authorized_keys"
	SSHD_USER=$buser
	echo "logging in as $buser (shell /bin/sh; BENCH_AS_ROOT=1 to log in as root)"
}
