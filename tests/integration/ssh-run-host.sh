#!/bin/bash
# fanout run --host: the bastion engine on a machine of the user's own, a
# real OpenSSH sshd on loopback here.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
plan_lazy
sshd_setup 127.0.0.1
sshd_start
export FANOUT_BASTION_DIR="$TEST_TMP/remote"
addr="$SSHD_USER@$SSHD_ADDR:$SSHD_PORT"

proj=$(example sleep)
out=$("$FANOUT" run --host "$addr" --key "$SSHD_KEY" "$proj" --files 3 --json 2>"$TEST_TMP/err")
rc=$?
is 0 "$rc" "run --host exits 0"
[ "$rc" -eq 0 ] || diag "$(tail -5 "$TEST_TMP/err")"
r=$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["results"])')
is "bastion" "$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["engine"])')" "--json names the bastion engine"
for f in results.csv errors.csv logs.csv performance.txt records.jsonl runtime.png; do
	check "run --host: $f" test -s "$r/$f"
done
is 4 "$(wc -l <"$r/results.csv" | tr -d ' ')" "three results"
like "$(cat "$FANOUT_HISTORY_DIR/known_hosts")" "$SSHD_ADDR" "the unknown host key was recorded"
python3 - "$FANOUT_HISTORY_DIR" "$addr" "$r" <<'PY'
import glob, json, sys
recs = [json.load(open(f)) for f in glob.glob(sys.argv[1] + "/*.json")]
sys.exit(0 if any(x["kind"] == "remote" and x["host"] == sys.argv[2] and
                  x["runs"][0]["results"] == sys.argv[3] for x in recs) else 1)
PY
ok $? "the run is in the history, with its host"

"$FANOUT" run --host "$addr" --key "$SSHD_KEY" "$proj" --files 3 >/dev/null 2>"$TEST_TMP/err2"
is 0 $? "a second run --host exits 0"
like "$(cat "$TEST_TMP/err2")" "uploaded 0 of [0-9]+ file" "and uploads nothing unchanged"
cache=$(ls "$FANOUT_HISTORY_DIR"/upload-*.cache 2>/dev/null)
is 1 "$(printf '%s\n' "$cache" | grep -c .)" "one upload cache for this project on this host"
like "$(head -1 "$cache")" "^#remote [0-9a-f]{64}$" "holding the digest of the host's listing"

# Ctrl-C while the tasks run on the host: the run stops there, the
# history records it as interrupted, and with nothing finished there is
# no efficiency to show.
h="$TEST_TMP/hang"
mkdir -p "$h" "$TEST_TMP/marks"
cat >"$h/fanout.yaml" <<YAML
name: hang
entrypoint: ./run
inputs: {list: [a, b]}
workers: 2
timeout: 100
retries: 0
env: {MARKS: "$TEST_TMP/marks"}
YAML
cat >"$h/run" <<'SH'
#!/bin/sh
# Says its pid (the sleep's, after exec), then hangs.
echo $$ >"$MARKS/$1.tmp" && mv "$MARKS/$1.tmp" "$MARKS/$1"
exec sleep 60
SH
chmod +x "$h/run"
"$FANOUT" run --host "$addr" --key "$SSHD_KEY" "$h" >"$TEST_TMP/out7" 2>"$TEST_TMP/err7" &
pid=$!
wait_for 60 test -e "$TEST_TMP/marks/a" -a -e "$TEST_TMP/marks/b"
ok $? "both tasks run on the host"
kill -INT "$pid"
wait "$pid"
is 1 $? "Ctrl-C of run --host exits 1"
like "$(cat "$TEST_TMP/err7")" "interrupted: 2 task\(s\) unfinished" "and says how many tasks are unfinished"
like "$(cat "$TEST_TMP/out7")" "^hang: interrupted" "the summary says interrupted"
rh=$(readlink -f "$h/results/latest")
like "$(cat "$rh/performance.txt" 2>/dev/null)" "Efficiency +-$" "with nothing finished, performance.txt shows no efficiency"
python3 - "$FANOUT_HISTORY_DIR" "$rh" <<'PY'
import glob, json, sys
recs = [json.load(open(f)) for f in glob.glob(sys.argv[1] + "/*.json")]
r = [x for x in recs if x["runs"] and x["runs"][0]["results"] == sys.argv[2]]
print("# %s" % [(x["kind"], x["state"], x["runs"][0].get("state")) for x in r])
sys.exit(0 if len(r) == 1 and r[0]["kind"] == "remote" and
         r[0]["state"] == "interrupted" and
         r[0]["runs"][0]["state"] == "interrupted" else 1)
PY
ok $? "the history records the run on the host as interrupted"
gone() { ! kill -0 "$(cat "$TEST_TMP/marks/a")" 2>/dev/null && ! kill -0 "$(cat "$TEST_TMP/marks/b")" 2>/dev/null; }
wait_for 20 gone
ok $? "the tasks on the host were stopped"

sshd_stop
sshd_new_hostkey
sshd_start
"$FANOUT" run --host "$addr" --key "$SSHD_KEY" "$proj" --files 1 >/dev/null 2>"$TEST_TMP/err3"
is 1 $? "a changed host key fails the run"
like "$(cat "$TEST_TMP/err3")" "SHA256:.*SHA256:" "showing both fingerprints"

"$FANOUT" run --host "$addr" --key "$TEST_TMP/nokey" "$proj" >/dev/null 2>"$TEST_TMP/err4"
is 2 $? "a missing key file is bad input"
like "$(cat "$TEST_TMP/err4")" "^fanout: --key .*nokey: no such file" "and says so"
"$FANOUT" run --local --host "$addr" "$proj" >/dev/null 2>"$TEST_TMP/err5"
is 2 $? "--local with --host is refused"
"$FANOUT" run --host "$addr:notaport" "$proj" >/dev/null 2>"$TEST_TMP/err6"
is 2 $? "a bad address is refused"
like "$(cat "$TEST_TMP/err6")" "^fanout: " "with a message"
done_testing
