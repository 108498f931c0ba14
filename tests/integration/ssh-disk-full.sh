#!/bin/bash
# A host whose disk fills during the run: no record of any task can be
# written there, the run ends with nothing finished, and fanout must say
# so and exit 1 (not 0 with "0 succeeded"). The sshd runs in a mount
# namespace of its own where the remote folder is a 1 MB tmpfs; the first
# task fills it.
. "$top_srcdir/tests/integration/lib.sh"
plan_lazy

full="$TEST_TMP/full"
mkdir -p "$full"
command -v unshare >/dev/null || skip_all "no unshare(1)"
unshare --mount --propagation private sh -c \
    "mount -t tmpfs -o size=1m fanout-full '$full'" 2>/dev/null ||
	skip_all "cannot mount a tmpfs in a mount namespace (not root?)"

# sshd, started by lib-sshd.sh through this wrapper, in its namespace.
cat >"$TEST_TMP/sshd-ns" <<SH
#!/bin/sh
exec unshare --mount --propagation private sh -c \\
    'mount -t tmpfs -o size=1m fanout-full "\$0" && exec /usr/sbin/sshd "\$@"' \\
    "$full" "\$@"
SH
chmod +x "$TEST_TMP/sshd-ns"
[ -x /usr/sbin/sshd ] || skip_all "no OpenSSH server at /usr/sbin/sshd"
SSHD_BIN="$TEST_TMP/sshd-ns"
. "$top_srcdir/tests/integration/lib-sshd.sh"
sshd_setup 127.0.0.1
sshd_start
export FANOUT_BASTION_DIR="$full"
addr="$SSHD_USER@$SSHD_ADDR:$SSHD_PORT"

p="$TEST_TMP/filler"
mkdir -p "$p"
cat >"$p/fanout.yaml" <<'YAML'
name: filler
entrypoint: ./run
inputs: {list: [a, b, c, d, e, f, g, h]}
workers: 1
timeout: 60
retries: 0
YAML
cat >"$p/run" <<'SH'
#!/bin/sh
# Fills the disk the project is on (once), then says all is well.
[ -e .filler ] || cat /dev/zero >.filler 2>/dev/null
echo '{"fine": true}'
SH
chmod +x "$p/run"

"$FANOUT" run --host "$addr" --key "$SSHD_KEY" "$p" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
is 1 $? "a run whose host's disk filled exits 1"
r=$(readlink -f "$p/results/latest")
like "$(cat "$TEST_TMP/err")" "^fanout: 8 of 8 task\\(s\\) unfinished; see $r/errors.csv$" \
    "and says that no task finished"
like "$(cat "$r/performance.txt" 2>/dev/null)" "Unfinished +8" "performance.txt counts them unfinished"
like "$(cat "$r/performance.txt" 2>/dev/null)" "Efficiency +-$" "and shows no efficiency"
is 8 "$(grep -c ',unfinished,' "$r/errors.csv" 2>/dev/null)" "errors.csv lists all eight"
done_testing
