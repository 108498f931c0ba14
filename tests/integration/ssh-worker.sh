#!/bin/bash
# How fanout-worker reaches a host: uploaded (the host is Linux on this
# machine's architecture), built there from its sources (another
# architecture, pretended with FANOUT_WORKER_ARCH, and a C compiler on the
# host), or a clear message naming what is missing (no C compiler on the
# host's PATH either). Each version is put there once.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
plan_lazy
sshd_setup
# A second sshd whose sessions get a PATH with every tool but a C compiler.
nocc="$TEST_TMP/nocc-bin"
mkdir -p "$nocc"
for t in /usr/bin/* /bin/*; do
	b=${t##*/}
	case $b in
	cc | c89 | c99 | gcc* | clang* | tcc | *-gcc* | *-cc) continue ;;
	esac
	[ -e "$nocc/$b" ] || ln -s "$t" "$nocc/$b"
done
sshd_start
addr="$SSHD_USER@$SSHD_ADDR:$SSHD_PORT"
p=$(example sleep)
sed -i 's/SLEEP_SCALE: "1"/SLEEP_SCALE: "0.1"/' "$p/fanout.yaml"

# Same architecture: the static binary is uploaded, once.
export FANOUT_BASTION_DIR="$TEST_TMP/host1"
"$FANOUT" run --host "$addr" --key "$SSHD_KEY" "$p" --files 2 >/dev/null 2>"$TEST_TMP/err1"
is 0 $? "a run on a host of this architecture"
like "$(cat "$TEST_TMP/err1")" "fanout-worker uploaded to $SSHD_ADDR" "uploads the worker"
bin=$(ls "$TEST_TMP/host1/bin/" | grep '^fanout-worker-[0-9a-f]*$')
ok $([ -n "$bin" ] && [ -x "$TEST_TMP/host1/bin/$bin" ]; echo $?) "as bin/fanout-worker-<hash>"
cmp -s "$TEST_TMP/host1/bin/$bin" "$FANOUT_WORKER_BIN"
ok $? "the very binary built here"
"$FANOUT" run --host "$addr" --key "$SSHD_KEY" "$p" --files 2 >/dev/null 2>"$TEST_TMP/err2"
is 0 $? "a second run"
ok $(! grep -q "fanout-worker uploaded" "$TEST_TMP/err2"; echo $?) "does not upload it again"
ls "$TEST_TMP/host1/runs"/*/pid >/dev/null 2>&1
ok $? "runs have their worker's pid"

# Another architecture, a compiler there: built on the host, once.
export FANOUT_BASTION_DIR="$TEST_TMP/host2"
FANOUT_WORKER_ARCH=sparc64 "$FANOUT" run --host "$addr" --key "$SSHD_KEY" "$p" --files 3 --results "$TEST_TMP/res3" >/dev/null 2>"$TEST_TMP/err3"
is 0 $? "a run where the architecture differs"
like "$(cat "$TEST_TMP/err3")" "building fanout-worker on $SSHD_ADDR \(Linux $(uname -m)\) with (cc|gcc|clang)" "builds the worker there from its sources"
ok $(ls "$TEST_TMP/host2/bin/" | grep -q '^fanout-worker-src-[0-9a-f]*$'; echo $?) "as bin/fanout-worker-src-<hash>"
is 4 "$(wc -l <"$TEST_TMP/res3/results.csv" | tr -d ' ')" "and its three tasks ran"
FANOUT_WORKER_ARCH=sparc64 "$FANOUT" run --host "$addr" --key "$SSHD_KEY" "$p" --files 1 >/dev/null 2>"$TEST_TMP/err4"
is 0 $? "a second such run"
ok $(! grep -q "building fanout-worker" "$TEST_TMP/err4"; echo $?) "does not build it again"

# Another architecture and no compiler: nothing runs, the message says why.
sshd_stop
printf 'SetEnv PATH=%s\n' "$nocc" >>"$SSHD_DIR/sshd_config"
sshd_start
export FANOUT_BASTION_DIR="$TEST_TMP/host3"
FANOUT_WORKER_ARCH=sparc64 "$FANOUT" run --host "$addr" --key "$SSHD_KEY" "$p" --files 1 >/dev/null 2>"$TEST_TMP/err5"
is 1 $? "no compiler and another architecture: the run fails"
like "$(cat "$TEST_TMP/err5")" "^fanout: host $SSHD_ADDR is Linux $(uname -m) \(fanout's worker is for Linux sparc64\) and has no C compiler \(looked for cc, gcc, clang\): install gcc there" \
    "with one line naming what is missing and what to do"
is 1 "$(grep -c '^fanout: ' "$TEST_TMP/err5")" "in one line"
ok $([ ! -d "$TEST_TMP/host3/runs" ]; echo $?) "no run was started"
# The same host, this architecture: the binary needs no compiler.
"$FANOUT" run --host "$addr" --key "$SSHD_KEY" "$p" --files 1 >/dev/null 2>&1
is 0 $? "on the same host the uploaded binary runs"
done_testing
