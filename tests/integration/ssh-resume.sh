#!/bin/bash
# A dropped connection mid-upload: the sshd (and its sessions) is killed
# while a large tree is on its way, then started again on the same port.
# The upload reconnects and finishes without resending the files the
# remote had already taken in (those in a complete manifest fragment).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
plan_lazy
sshd_setup
sshd_start

p="$TEST_TMP/proj"
r="$TEST_TMP/remote"
mkdir -p "$p/data"
head -c $((160 * 1024 * 1024)) /dev/urandom | split -b 262144 -a 3 - "$p/data/part-"
nfiles=$(ls "$p/data" | wc -l)

drv -t 60 upload "$p" "$r" >"$TEST_TMP/out" 2>"$TEST_TMP/err" &
up=$!
has_fragment() { ls "$1"/manifest.d/f* >/dev/null 2>&1; }
wait_for 30 has_fragment "$r"
sshd_stop
wait_for 30 grep -q "waiting for" "$TEST_TMP/err"	# the client saw it go
# What the remote holds for sure: files of complete fragments.
committed=$(python3 - "$r/manifest.d" <<'PY'
import os, sys
d = sys.argv[1]
names = set()
for f in sorted(os.listdir(d)):
    if not f.startswith("f"):
        continue
    lines = open(os.path.join(d, f)).read().split("\n")
    if "#end" not in lines:
        continue
    for l in lines:
        parts = l.split(" ", 4)
        if len(parts) == 5:
            names.add(parts[4])
for n in sorted(names):
    print(n)
PY
)
ncommitted=$(printf '%s\n' "$committed" | grep -c .)
sshd_start
wait "$up"
out=$(cat "$TEST_TMP/out")

is true "$(jfield "$out" ok)" "the upload finishes after sshd comes back" ||
    diag "$(tail -5 "$TEST_TMP/err")"
like "$(jfield "$out" reconnects)" "^[1-9]" "it reconnected"
like "$(cat "$TEST_TMP/err")" "reconnecting" "and said so"
ok $(( ncommitted > 0 && ncommitted < nfiles ? 0 : 1 )) "killed midway: $ncommitted of $nfiles files were in"
resent=$(printf '%s\n' "$out" | python3 -c '
import json, sys
sent = json.load(sys.stdin)["sent"]
done = set(l for l in open(sys.argv[1]).read().split("\n") if l)
print(sum(1 for s in sent if s in done) - len(done))' <(printf '%s\n' "$committed"))
is 0 "$resent" "no file the remote had taken in was sent again"
ok $(( $(jfield "$out" files_sent) < 2 * nfiles ? 0 : 1 )) "files sent in all: $(jfield "$out" files_sent) for $nfiles"
check "the remote tree equals the local one" diff -r "$p" "$r/tree"

out=$(drv upload "$p" "$r" 2>/dev/null)
is 0 "$(jfield "$out" bytes_sent)" "an upload after that sends nothing"

# The remote tar dies of a signal while the connection stays up (as on a
# bastion going down for a reboot, where sshd may report the signal
# before it goes): the upload tries again and finishes.
r2="$TEST_TMP/remote2"
drv -t 60 upload "$p" "$r2" >"$TEST_TMP/out" 2>"$TEST_TMP/err" &
up=$!
wait_for 30 has_fragment "$r2"
tars() { # the tar processes below our sshd
	for _c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		[ "$(ps -o comm= -p "$_c")" = tar ] && echo "$_c"
		tars "$_c"
	done
}
killed=$(tars "$SSHD_PID")
[ -n "$killed" ] && kill -9 $killed
wait "$up"
out=$(cat "$TEST_TMP/out")
ok $([ -n "$killed" ]; echo $?) "the remote tar was killed midway"
is true "$(jfield "$out" ok)" "the upload finishes after its remote tar was killed" ||
    diag "$out" &&
    diag "$(tail -5 "$TEST_TMP/err")"
like "$(cat "$TEST_TMP/err")" "tar was killed; trying again" "and said why it tried again"
check "the remote tree equals the local one" diff -r "$p" "$r2/tree"

# The connection drops while the run is watched: fanout reconnects, the
# run (detached on the remote) goes on and is not started twice.
e=$(example sleep)
sed -i 's/SLEEP_SCALE: "1"/SLEEP_SCALE: "0.5"/' "$e/fanout.yaml"
drv -d "$TEST_TMP/bastion" -f 6 -w 2 -t 60 -r "$TEST_TMP/res" run "$e" \
    >"$TEST_TMP/out" 2>"$TEST_TMP/err" &
run=$!
wait_for 30 grep -q '^task ' "$TEST_TMP/err"
sshd_stop
wait_for 30 grep -q "waiting for" "$TEST_TMP/err"	# the client saw it go
sshd_start
wait "$run"
out=$(cat "$TEST_TMP/out")
is true "$(jfield "$out" ok)" "the run finishes after the connection came back" ||
    diag "$(tail -5 "$TEST_TMP/err")"
like "$(jfield "$out" reconnects)" "^[1-9]" "it reconnected during the run"
is 6 "$(jfield "$out" ok_tasks)" "all six tasks done"
is 6 "$(wc -l <"$TEST_TMP/res/records.jsonl")" "six records: the run was not started twice"
is 6 "$(grep -c '^task ' "$TEST_TMP/err")" "each task reported once"

done_testing
