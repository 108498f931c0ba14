#!/bin/bash
# The hosts of a Slurm cluster, with real daemons: a head and three nodes
# (network namespaces, each with its own sshd and private folders; nodes
# reached only through the head), set up by templates/slurm-setup.sh over
# OpenSSH's client with ProxyJump, then a job array that fills every node,
# a second set-up that changes nothing, a node that dies mid-array (its
# elements run again on the others, once each) and comes back.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
. "$top_srcdir/tests/integration/lib-cluster.sh"

for d in /usr/sbin/slurmctld /usr/sbin/slurmd /usr/sbin/munged \
    /usr/bin/sbatch /usr/bin/sinfo; do
	[ -x "$d" ] || skip_all "no $d (apt-get install slurm-wlm munge)"
done
cluster_setup 3
plan_lazy

SETUP="$top_srcdir/templates/slurm-setup.sh"
WORK=$CLUSTER_WORK

# on HOST ASSIGNMENTS ROLE ARGS...: slurm-setup.sh on HOST as fanout runs
# it, the shell assignments before the script; its stderr in $TEST_TMP/err.
on() {
	_host=$1
	_vars=$2
	shift 2
	{ printf '%s\n' "$_vars"; cat "$SETUP"; } |
	    ssh -F "$CLUSTER_SSH_CONFIG" "$_host" sh -s -- "$@" 2>"$TEST_TMP/err"
}

# shq TEXT: TEXT quoted for sh.
shq() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

# since T0 [T1]: seconds from T0 to T1 (now), for a diag line.
since() { awk -v a="$1" -v b="${2:-$(date +%s.%N)}" 'BEGIN { printf "%.1f", b - a }'; }

# The first lines of a failed role's stderr.
why() { diag "$(head -c 600 "$TEST_TMP/err")"; }

# Every output but the key role's, to check that none shows the key.
said="$TEST_TMP/said"
: >"$said"

if command -v shellcheck >/dev/null; then
	check "slurm-setup.sh passes shellcheck" shellcheck -s sh "$SETUP"
else
	skip "shellcheck not installed"
fi

# A node takes no SSH but through the head.
ssh -F "$CLUSTER_SSH_CONFIG" -o ProxyJump=none node1 true 2>/dev/null
direct=$?
ok "$([ "$direct" -ne 0 ] && echo 0 || echo 1)" "node1 cannot be reached but through the head"
is node2 "$(ssh -F "$CLUSTER_SSH_CONFIG" node2 hostname)" "node2 answers through the head"

# The machine's own Slurm and work folders, which nothing here may touch.
mine_before=$(ls -lA /etc/slurm /etc/munge /srv 2>&1)

out=$(on head "" head)
is 0 $? "head: exits 0" || why
printf '%s\n' "$out" >>"$said"
like "$out" "^#hostname head$" "head: prints the head's hostname"
is 400 "$(cluster_exec head 'stat -c %a /etc/munge/munge.key')" \
    "head: the munge key is 0400"
is munge "$(cluster_exec head 'stat -c %U /etc/munge/munge.key')" \
    "head: owned by munge"

key=$(on head "" key)
is 0 $? "key: exits 0" || why
is 1 "$(printf '%s\n' "$key" | wc -l)" "key: one line"
is 1024 "$(printf '%s' "$key" | base64 -d | wc -c)" "key: 1024 bytes, base64"

for k in 1 2 3; do
	out=$(on "node$k" "FANOUT_MUNGE_KEY=$(shq "$key")" node "node$k")
	is 0 $? "node node$k: exits 0" || why
	printf '%s\n' "$out" >>"$said"
	is "$key" "$(cluster_exec "node$k" 'base64 -w 0 /etc/munge/munge.key')" \
	    "node node$k: has the head's key"
done
cluster_exec node2 'munge -n' | cluster_exec head unmunge >/dev/null 2>&1
is 0 $? "the head accepts a credential made on node2"

# slurm.conf from the template, as fanout fills it.
lines="$TEST_TMP/node-lines"
list=
: >"$lines"
for k in 1 2 3; do
	echo "NodeName=node$k NodeAddr=$(cluster_addr "node$k") CPUs=2 RealMemory=1000 State=UNKNOWN" >>"$lines"
	list="$list${list:+,}node$k"
done
sed -e "s/@CLUSTER@/fo-20260101-test/; s/@HEAD_NAME@/head/" \
    -e "s/@HEAD_ADDR@/$CLUSTER_HEAD_ADDR/; s/@NODE_LIST@/$list/" \
    -e "s/@SLURMD_TIMEOUT@/10/" -e "/@NODE_LINES@/{r $lines" -e 'd}' \
    "$top_srcdir/templates/slurm.conf" >"$TEST_TMP/slurm.conf"
is "" "$(grep @ "$TEST_TMP/slurm.conf")" "every field of the template is filled"
confvars="FANOUT_SLURM_CONF=$(shq "$(cat "$TEST_TMP/slurm.conf")")
FANOUT_CGROUP_CONF=$(shq "$(cat "$top_srcdir/templates/cgroup.conf")")"

out=$(on head "$confvars" conf head)
is 0 $? "conf head: exits 0" || why
printf '%s\n' "$out" >>"$said"
like "$out" "slurmctld started" "conf head: starts slurmctld"
for k in 1 2 3; do
	out=$(on "node$k" "$confvars" conf node "node$k")
	is 0 $? "conf node node$k: exits 0" || why
	printf '%s\n' "$out" >>"$said"
	like "$out" "slurmd started" "conf node node$k: starts slurmd"
done
is "$(cat "$TEST_TMP/slurm.conf")" "$(cluster_exec node3 'cat /etc/slurm/slurm.conf')" \
    "node3 has the configuration"

out=$(on head "" wait 3 60)
is 0 $? "wait 3: exits 0" || { why; cluster_exec head 'tail -20 /var/log/slurm/slurmctld.log' | diag "$(cat)"; }
printf '%s\n' "$out" >>"$said"
like "$out" "#nodes 3/3" "wait 3: prints #nodes 3/3"

# A job array whose elements hold until the test lets them go (a file on
# their own node), so that where they run does not depend on timing.
job() { # job TAG: the element's script
	cat <<EOF
#!/bin/sh
d=$WORK/$1
mkdir -p "\$d/started" "\$d/ended"
echo "\$SLURM_ARRAY_TASK_ID \$(hostname) \$SLURMD_NODENAME \$(date +%s.%N)" >"\$d/started/\$SLURM_ARRAY_TASK_ID"
i=0
while [ ! -e $WORK/go-$1 ]; do
	i=\$((i + 1))
	[ "\$i" -lt 3000 ] || exit 1
	sleep 0.1
done
echo "\$SLURM_ARRAY_TASK_ID \$(hostname) \$SLURMD_NODENAME \$(date +%s.%N)" >"\$d/ended/\$SLURM_ARRAY_TASK_ID"
EOF
}
submit() { # submit TAG RANGE
	job "$1" | ssh -F "$CLUSTER_SSH_CONFIG" head \
	    "sbatch --parsable --array=$2 --requeue --chdir=$WORK -o /dev/null -J $1"
}
# records TAG started|ended HOSTS...: the records on these hosts, sorted.
records() {
	_t=$1
	_w=$2
	shift 2
	for _h in "$@"; do
		cluster_exec "$_h" "cat $WORK/$_t/$_w/* 2>/dev/null"
	done | sort -n
}
count() { records "$@" | grep -c .; }
at_least() { [ "$(count "$2" "$3" "${nodes[@]}")" -ge "$1" ]; }
go() { # go TAG HOSTS...
	_t=$1
	shift
	for _h in "$@"; do cluster_exec "$_h" "touch $WORK/go-$_t"; done
}
nodes=(node1 node2 node3)

submit a1 0-29 >/dev/null
is 0 $? "sbatch --array=0-29 --requeue is accepted" || why
wait_for 60 at_least 6 a1 started
ok $? "six elements start (2 CPUs on each of 3 nodes)"
for k in 1 2 3; do
	is 2 "$(count a1 started "node$k")" "node$k runs two of them"
done
t0=$(date +%s.%N)
go a1 "${nodes[@]}"
wait_for 120 at_least 30 a1 ended
ok $? "all 30 elements end" || cluster_exec head 'squeue; tail -20 /var/log/slurm/slurmctld.log' | diag "$(cat)"
diag "the last 24 elements took $(since "$t0") s"
is "$(seq 0 29)" "$(records a1 ended "${nodes[@]}" | awk '{ print $1 }')" \
    "each element ran once"
is "node1 node2 node3" "$(records a1 ended "${nodes[@]}" | awk '{ print $2 }' | sort -u | tr '\n' ' ' | sed 's/ $//')" \
    "on all three nodes"
is 0 "$(records a1 ended "${nodes[@]}" | awk '$2 != $3' | wc -l)" \
    "each on the host Slurm names (hostname = SLURMD_NODENAME)"

# Nothing passes between hosts through a disk.
for k in 1 2 3; do
	cluster_exec "node$k" "echo node$k >$WORK/mine"
done
is "node2" "$(cluster_exec node2 "cat $WORK/mine")" "node2's work folder is its own"
is "" "$(cluster_exec head "ls $WORK/a1 $WORK/mine 2>/dev/null")" \
    "the head sees none of the nodes' records"
n1=$(cluster_exec node1 "ls $WORK/a1/ended" | sort)
n2=$(cluster_exec node2 "ls $WORK/a1/ended" | sort)
is "" "$(comm -12 <(echo "$n1") <(echo "$n2"))" \
    "node1 and node2 see only their own elements' records"
is "$mine_before" "$(ls -lA /etc/slurm /etc/munge /srv 2>&1)" \
    "this machine's /etc/slurm, /etc/munge and /srv are untouched"

# The set-up again, as a resume does: nothing changes, nothing restarts.
pids() {
	for _h in head "${nodes[@]}"; do
		cluster_exec "$_h" 'cat /run/munge/munged.pid /run/slurm*.pid 2>/dev/null'
	done | tr '\n' ' '
}
before=$(pids)
out=$(on head "" head) && out="$out
$(on head "$confvars" conf head)"
is 0 $? "head and conf head again: exit 0" || why
printf '%s\n' "$out" >>"$said"
like "$out" "slurmctld running, configuration unchanged" "conf head again: changes nothing"
again=0
for k in 1 2 3; do
	out=$(on "node$k" "FANOUT_MUNGE_KEY=$(shq "$key")" node "node$k") &&
	    out="$out
$(on "node$k" "$confvars" conf node "node$k")" || again=1
	printf '%s\n' "$out" >>"$said"
	printf '%s\n' "$out" | grep -q "slurmd running, configuration unchanged" || again=1
	printf '%s\n' "$out" | grep -q "munged running" || again=1
done
is 0 "$again" "node and conf node again: change nothing" || why
is "$before" "$(pids)" "no daemon restarted (same pids)"
like "$before" "^([0-9]+ ){8}$" "(munged on 4 hosts, slurmctld, 3 slurmd)"

# A changed configuration (a node more or less, on a resume) restarts
# slurmctld; the same one again changes nothing.
ctld() { cluster_exec head 'cat /run/slurmctld.pid'; }
was=$(ctld)
# (the assignments in the other form fanout may use: quoted here-documents)
changed="FANOUT_SLURM_CONF=\$(cat <<'FANOUT_EOF'
$(cat "$TEST_TMP/slurm.conf")
# changed
FANOUT_EOF
)
FANOUT_CGROUP_CONF=\$(cat <<'FANOUT_EOF'
$(cat "$top_srcdir/templates/cgroup.conf")
FANOUT_EOF
)"
out=$(on head "$changed" conf head)
is 0 $? "conf head with a changed slurm.conf: exits 0" || why
printf '%s\n' "$out" >>"$said"
like "$out" "slurmctld started" "and restarts slurmctld"
isnt_same=$([ "$was" != "$(ctld)" ] && echo 0 || echo 1)
ok "$isnt_same" "(a new pid)"
is "$(cat "$TEST_TMP/slurm.conf")
# changed" "$(cluster_exec head 'cat /etc/slurm/slurm.conf')" \
    "the here-document's text is the file's"
out=$(on head "$confvars" conf head)
is 0 $? "conf head with the first one again: exits 0" || why
printf '%s\n' "$out" >>"$said"
out=$(on head "" wait 3 60)
is 0 $? "the three nodes are still there" || why
printf '%s\n' "$out" >>"$said"

# A node dies mid-array: its elements are requeued and run again, once
# each, on the two others.
submit a2 0-11 >/dev/null
wait_for 60 at_least 6 a2 started
ok $? "a second array fills the nodes again"
lost=$(records a2 started node3 | awk '{ print $1 }' | tr '\n' ' ')
is 2 "$(echo "$lost" | wc -w)" "node3 runs two of its elements ($lost)"
cluster_kill_node 3
killed=$(date +%s.%N)
go a2 node1 node2
wait_for 180 at_least 12 a2 ended
ok $? "all 12 elements end without node3" ||
    cluster_exec head 'squeue; sinfo; tail -20 /var/log/slurm/slurmctld.log' | diag "$(cat)"
is "$(seq 0 11)" "$(records a2 ended node1 node2 | awk '{ print $1 }')" \
    "each element ran to its end once, on node1 or node2"
rerun=$(records a2 started node1 node2 | awk -v lost=" $lost" \
    'index(lost, " " $1 " ") { print $4 }' | sort -n | tail -1)
[ -n "$rerun" ] && diag "node3's elements started again $(since "$killed" "$rerun") s after it died (SlurmdTimeout=10, MessageTimeout=5, cred_expire=10)"
like "$(cluster_exec head 'sinfo -h -n node3 -o %T')" "^down" "Slurm has node3 down"
is "" "$(cluster_exec head 'squeue -h')" "the queue is empty"

# node3 boots again: its daemons are down until the set-up runs; then it
# is back in service (ReturnToService=2).
cluster_start node3
out=$(on node3 "FANOUT_MUNGE_KEY=$(shq "$key")" node node3) &&
    out="$out
$(on node3 "$confvars" conf node node3)"
is 0 $? "after a reboot, node and conf node: exit 0" || why
printf '%s\n' "$out" >>"$said"
like "$out" "munged started" "they start munged again"
like "$out" "slurmd started" "and slurmd"
out=$(on head "" wait 3 60)
is 0 $? "wait 3: node3 is back" || why
printf '%s\n' "$out" >>"$said"

# Never the key but from the key role.
is 0 "$(grep -c -F "$(printf '%s' "$key" | head -c 24)" "$said")" \
    "no other role printed the munge key"

# Bad usage: exit 2 and one line saying what is wrong.
on head "" bogus >/dev/null
is 2 $? "an unknown role: exit 2"
like "$(cat "$TEST_TMP/err")" "^slurm-setup: usage:" "naming the usage"
on node1 "" node node1 >/dev/null
is 2 $? "node without FANOUT_MUNGE_KEY: exit 2"
like "$(cat "$TEST_TMP/err")" "FANOUT_MUNGE_KEY is empty" "saying so"
on node1 "FANOUT_MUNGE_KEY='not base64!'" node node1 >/dev/null
is 2 $? "a key that is not base64: exit 2"
is "$key" "$(cluster_exec node1 'base64 -w 0 /etc/munge/munge.key')" \
    "and the node's key is left as it was"
on node1 "" conf node node1 >/dev/null
is 2 $? "conf without FANOUT_SLURM_CONF: exit 2"
on node1 "" conf node 'a b' >/dev/null
is 2 $? "a node name with a space: exit 2"
cluster_exec head 'runuser -u nobody -- sh -s -- head' <"$SETUP" \
    >/dev/null 2>"$TEST_TMP/err"
is 1 $? "a user who is not root and has no sudo: exit 1"
like "$(cat "$TEST_TMP/err")" "runs as root or as a user with sudo" "saying so"
on head "" wait three 5 >/dev/null
is 2 $? "wait with a count that is not a number: exit 2"
on head "" wait 4 1 >/dev/null
is 1 $? "wait for more nodes than there are: exit 1 when the time is up"
like "$(cat "$TEST_TMP/err")" "3 of 4 nodes ready" "saying how many are ready"

done_testing
