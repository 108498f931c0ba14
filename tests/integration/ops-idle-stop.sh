#!/bin/bash
# Idle stop against moto_server (EC2) and a loopback OpenSSH sshd standing
# in for the head: the host set-up starts templates/idle-stop.sh with the
# create's --idle-stop minutes; the watcher (minutes scaled, its poweroff
# replaced by a stop-instances call to moto for that instance) keeps the
# machine while an SSH session is open and while a task runs, then stops
# it; fanout history notices (state stopped, with when) and its cost so
# far counts the stopped time at the stopped price.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
plan_lazy

sshd_setup 127.0.0.1
sshd_start
sshd_as_bastion
dir="$FANOUT_BASTION_DIR"

# The set-up's watcher must not act during the create: an hour a check.
export FANOUT_IDLE_SSHD_PID="$SSHD_PID" FANOUT_IDLE_TICK=3600
proj=$(example sleep)
"$FANOUT" create "$proj" --provider aws --region us-east-1 --files 2 --keep \
    --idle-stop 3 --yes >"$TEST_TMP/id" 2>"$TEST_TMP/create.err"
rc=$?
is 0 "$rc" "create --idle-stop 3 --keep runs and exits 0"
[ "$rc" -eq 0 ] || diag "$(tail -20 "$TEST_TMP/create.err")"
id=$(cat "$TEST_TMP/id")
like "$(cat "$TEST_TMP/create.err")" "Idle stop: a kept machine stops itself after 3 idle minute\(s\)" \
    "the confirmation shows the idle stop"
is 3 "$(rec_get "$id" 'r["answers"]["idle_stop"]')" "the record keeps the answer"
watcher=$(cat "$dir/idle-stop.pid" 2>/dev/null)
ok "$([ -n "$watcher" ] && kill -0 "$watcher" 2>/dev/null; echo $?)" \
    "the host set-up started the idle watcher"
like "$(tr '\0' ' ' <"/proc/$watcher/cmdline" 2>/dev/null)" "idle-stop.sh watch 3 " \
    "with the create's minutes"
is stopped "$(rec_get "$id" 'r["state"]')" "after the run fanout stopped the head itself"

"$FANOUT" resume "$id" --no-run >/dev/null 2>"$TEST_TMP/resume.err"
is 0 $? "resume --no-run starts the head again (kept running)"
iid=$(rec_get "$id" '[x["id"] for x in r["resources"] if x["kind"] == "instance"][0]')
inst_state() { awsq ec2 describe-instances --instance-ids "$iid" --query 'Reservations[0].Instances[0].State.Name'; }
is running "$(inst_state)" "moto sees the head running"

# The watcher as the set-up starts it, minutes scaled to 0.2 s, its
# poweroff a stop-instances call for this instance.
cat >"$TEST_TMP/poweroff.sh" <<SH
#!/bin/sh
aws --endpoint-url "$MOTO_URL" --region us-east-1 ec2 stop-instances --instance-ids "$iid" >/dev/null
SH
chmod +x "$TEST_TMP/poweroff.sh"

# An SSH session open on the head.
"$FANOUT" ssh "$id" -- "while [ ! -e '$TEST_TMP/gate1' ]; do sleep 0.1; done" \
    >/dev/null 2>&1 &
session=$!
at_exit "touch '$TEST_TMP/gate1'"
wait_for 30 sh -c "ps -o pid= --ppid $SSHD_PID | grep -q ."
FANOUT_IDLE_TICK=0.2 FANOUT_IDLE_POWEROFF="$TEST_TMP/poweroff.sh" \
    sh "$dir/idle-stop.sh" start 3 "$dir" >/dev/null
at_exit "kill \$(cat '$dir/idle-stop.pid' 2>/dev/null) 2>/dev/null"
wait_for 30 sh -c "[ -z \"\$(tr -d '\\0' </proc/$watcher/cmdline 2>/dev/null)\" ]"
ok $? "starting it again replaces the watcher that was running"

# check N of the state file, once it is at least N: wait for N checks.
checks_at_least() {
	_n=$(sed -n 's/^check \([0-9]*\):.*/\1/p' "$dir/idle-stop.state" 2>/dev/null)
	[ -n "$_n" ] && [ "$_n" -ge "$1" ]
}
wait_for 60 checks_at_least 6
like "$(cat "$dir/idle-stop.state")" "^check [0-9]+: busy: ssh session" \
    "with a session open the watcher counts the head busy"
is running "$(inst_state)" "and after twice the idle minutes of checks the head still runs"

# A task (fanout-worker on the head, no SSH session): a long sleep.
worker=$(ls "$dir"/bin/fanout-worker-* | head -n 1)
mkdir -p "$dir/runs/idle-test"
echo 600 >"$TEST_TMP/long.txt"
echo "$TEST_TMP/long.txt" >"$dir/runs/idle-test/inputs"
(cd "$dir/runs/idle-test" && "$worker" start . ../../tree ./entrypoint 1 900 0) >/dev/null
at_exit "(cd '$dir/runs/idle-test' && '$worker' stop .) >/dev/null 2>&1"
wait_for 30 sh -c "pgrep -f 'sleep 600' >/dev/null"
touch "$TEST_TMP/gate1"
wait "$session"
n0=$(sed -n 's/^check \([0-9]*\):.*/\1/p' "$dir/idle-stop.state")
wait_for 60 checks_at_least $((n0 + 6))
like "$(cat "$dir/idle-stop.state")" "^check [0-9]+: busy: work: pid" \
    "with a task running (no session) the watcher counts the head busy"
is running "$(inst_state)" "and the head still runs"

# Nothing left: the task stopped, no session.
(cd "$dir/runs/idle-test" && "$worker" stop .) >/dev/null 2>&1
wait_for 60 sh -c "[ \"\$(aws --endpoint-url '$MOTO_URL' --region us-east-1 --output text ec2 describe-instances --instance-ids '$iid' --query 'Reservations[0].Instances[0].State.Name')\" = stopped ]"
ok $? "once idle for 3 (scaled) minutes the watcher stops the head"
like "$(cat "$dir/idle-stop.state")" "powered off after 3 idle minute" "and says so on the host"
is active "$(rec_get "$id" 'r["state"]')" "the record does not know yet"

# The laptop notices: history asks the cloud.
cost_at() { # cost_at TIME: the record's cost so far at TIME, as documented
	python3 - "$FANOUT_HISTORY_DIR/$id.json" "$1" <<'PY'
import json, sys, calendar, time
r = json.load(open(sys.argv[1])); now = float(sys.argv[2])
ts = lambda s: calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))
total = 0.0
for res in r["resources"]:
    if "hourly_usd" not in res:
        continue
    start = ts(res["created_at"]); end = ts(res["deleted_at"]) if res.get("deleted_at") else now
    run_p = res["hourly_usd"]; stop_p = res.get("stopped_hourly_usd", run_p)
    t, p = start, run_p
    for n in res.get("power", []):
        at = min(ts(n["at"]), end)
        if at > t:
            total += p * (at - t) / 3600; t = at
        p = stop_p if n["state"] == "stopped" else run_p
    if end > t:
        total += p * (end - t) / 3600
print("%.12f" % total)
PY
}
t_before=$(date +%s.%N)
"$FANOUT" history --json >"$TEST_TMP/hist.json" 2>"$TEST_TMP/hist.err"
is 0 $? "history exits 0"
t_after=$(date +%s.%N)
hist_field() { python3 -c 'import json,sys; print([r for r in json.load(open(sys.argv[1])) if r["id"] == sys.argv[2]][0][sys.argv[3]])' "$TEST_TMP/hist.json" "$id" "$1"; }
is stopped "$(hist_field state)" "fanout history shows the run set stopped"
is stopped "$(rec_get "$id" 'r["state"]')" "and records it stopped"
is "stopped noticed" "$(rec_get "$id" '[x for x in r["resources"] if x["kind"] == "instance"][0]["power"][-1]["state"] + " " + [x for x in r["resources"] if x["kind"] == "instance"][0]["power"][-1]["by"]')" \
    "the head's stop is noted, as noticed"
moto_at=$(awsq ec2 describe-instances --instance-ids "$iid" --query 'Reservations[0].Instances[0].StateTransitionReason' |
    sed -n 's/.*(\(.*\) [A-Z]*)$/\1/p')
is "$(date -u -d "$moto_at UTC" +%FT%TZ)" "$(rec_get "$id" 'r["stopped_at"]')" \
    "with when: the time the cloud gives for the stop (StateTransitionReason)"
# history computed its cost at a time between t_before and t_after, from
# the record as it is now: the computed value at those two times bounds it.
lo=$(cost_at "$t_before")
hi=$(cost_at "$t_after")
seen=$(hist_field cost_usd)
ok "$(python3 -c 'import sys; lo,s,hi=map(float,sys.argv[1:]); sys.exit(0 if lo - 1e-9 <= s <= hi + 1e-9 else 1)' "$lo" "$seen" "$hi"; echo $?)" \
    "its cost so far is the computed one: running time at the running price, stopped time at the stopped price"
[ $? -eq 0 ] || diag "computed $lo .. $hi, history says $seen"
allrun=$(rec_get "$id" 'sum(x["hourly_usd"] * ('"$t_before"' - __import__("calendar").timegm(__import__("time").strptime(x["created_at"], "%Y-%m-%dT%H:%M:%SZ"))) / 3600 for x in r["resources"] if "hourly_usd" in x)')
ok "$(python3 -c 'import sys; s,a=map(float,sys.argv[1:]); sys.exit(0 if s < a - 1e-7 else 1)' "$seen" "$allrun"; echo $?)" \
    "and less than the running price all along"
[ $? -eq 0 ] || diag "history says $seen, all running $allrun"
like "$("$FANOUT" status "$id" 2>&1)" "State: +stopped" "fanout status shows it stopped too"

# A cloud that does not answer: the recorded state stays, with a note.
AWS_ENDPOINT_URL="http://127.0.0.1:$(free_port)" AWS_MAX_ATTEMPTS=1 \
    "$FANOUT" history >"$TEST_TMP/hist2.out" 2>"$TEST_TMP/hist2.err"
is 0 $? "history with the cloud unreachable exits 0"
like "$(cat "$TEST_TMP/hist2.err")" "note: run set $id: .*its state is as last recorded" \
    "and notes that the state is as last recorded"
like "$(cat "$TEST_TMP/hist2.out")" "$id .* stopped " "the recorded state is shown"

"$FANOUT" cleanup "$id" --yes >/dev/null 2>&1
is 0 $? "cleanup exits 0"
done_testing
