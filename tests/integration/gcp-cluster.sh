#!/bin/bash
# The slurm engine on Google Cloud through the CLI: the recording stand-in
# (lib-gcp.sh) makes the head and 2 nodes, lib-cluster.sh's namespace
# hosts stand in for them (real munged, slurmctld and slurmd; nodes reached
# only through the head). `fanout create --provider gcp --engine slurm
# --nodes 2 --keep --yes` runs wordcount: run --local's results, each task
# once. The stand-in shows the 2 node inserts in flight at once, each
# with a requestId that the record held before the call; the cluster's
# internal firewall rule from its tag to its tag only. Kept: every
# instance stopped; resume starts them all again; cleanup leaves no
# labelled instance and no fanout firewall rule. A quota error on one
# node's insert: one line, exit 1; its cleanup leaves nothing. kill -9
# during the node inserts; cleanup leaves nothing. 8 nodes at once.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-gcp.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
export FANOUT_HISTORY_DIR="$TEST_TMP/history"
. "$top_srcdir/tests/integration/lib-cluster.sh"
plan_lazy
cluster_setup 2
export FANOUT_SLURMD_TIMEOUT=10

CHECKIP_PORT=$(free_port)
python3 "$top_srcdir/tests/fakes/checkip.py" "$CHECKIP_PORT" 203.0.113.7 &
at_exit "kill $! 2>/dev/null"
wait_port "$CHECKIP_PORT" 20 || bail "checkip stand-in did not start"
export FANOUT_CHECKIP_URL="http://127.0.0.1:$CHECKIP_PORT/"
gcp_key "$GCP_DIR/key.json"
export GOOGLE_APPLICATION_CREDENTIALS="$GCP_DIR/key.json"

rec_get() { # rec_get ID PYTHON-EXPR-ON-r
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$FANOUT_HISTORY_DIR/$1.json" "$2" 2>/dev/null
}
# The newest record of a GCP run set (run --local writes records too).
newest_gcp() {
	# shellcheck disable=SC2012
	ls -t "$FANOUT_HISTORY_DIR"/*.json 2>/dev/null | while read -r _f; do
		_i=$(basename -s .json "$_f")
		if [ "$(rec_get "$_i" 'r.get("provider")')" = gcp ]; then
			echo "$_i"
			break
		fi
	done
}
# gcp_state PYTHON-EXPR-ON-s: a value of what the stand-in holds now.
gcp_state() {
	curl -s --noproxy '*' "$GCP_URL/_fake/state" | python3 -c \
		'import json,sys; s=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}
# What is left of run set $1: "INSTANCES FIREWALLS" (labelled instances
# of the run set; firewall rules named for it or describing it).
left_of() {
	gcp_state "'%d %d' % (len([i for i in s['instances'] if i.get('labels', {}).get('fanout-run-set') == '$1' and i.get('labels', {}).get('managed-by') == 'fanout']), len([f for f in s['firewalls'] if '$1' in f['name'] or '$1' in f.get('description', '')]))"
}
# Everything fanout-labelled or fanout-named: "INSTANCES FIREWALLS".
left_all() {
	gcp_state "'%d %d' % (len([i for i in s['instances'] if i.get('labels', {}).get('managed-by') == 'fanout']), len([f for f in s['firewalls'] if f['name'].startswith('fanout-')]))"
}
held() { curl -s --noproxy '*' "$GCP_URL/_fake/held"; }
held_count() { held | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
held_is() { [ "$(held_count)" = "$1" ]; }

proj=$(example wordcount)
"$FANOUT" run --local "$proj" --results "$TEST_TMP/local" >/dev/null 2>&1 ||
    bail "run --local failed"

# 1. The create; the node inserts held unanswered by the stand-in until
# both are in flight: then the record must already name each one's
# requestId.
gcp_ctl hold '{"method": "POST", "path": "/instances$", "name": "-node[0-9]+$", "count": 2}' >/dev/null
"$FANOUT" create "$proj" --provider gcp --engine slurm --nodes 2 --keep --yes \
    >"$TEST_TMP/id" 2>"$TEST_TMP/create.err" &
cpid=$!
if wait_for 120 held_is 2; then
	ok 0 "the 2 node inserts are in flight at once"
else
	ok 1 "the 2 node inserts are in flight at once" ||
	    diag "held: $(held); $(tail -n 20 "$TEST_TMP/create.err")"
fi
held_ids=$(held | python3 -c 'import json,sys
print("\n".join(sorted("%s %s" % (h["name"], h["requestId"]) for h in json.load(sys.stdin))))')
id=$(newest_gcp)
rec_ids=$(rec_get "$id" '"\n".join(sorted("%s %s" % (x["name"], x.get("token")) for x in r["resources"] if x["kind"] == "instance" and "-node" in x["name"]))')
if [ -n "$held_ids" ]; then
	is "$held_ids" "$rec_ids" \
	    "while they are held, the record names each node insert's requestId already"
else
	ok 1 "while they are held, the record names each node insert's requestId already"
fi
like "$held_ids" "^fanout-$id-node1 [0-9a-f-]{36}
fanout-$id-node2 [0-9a-f-]{36}$" "each node insert has a requestId of its own"
gcp_ctl release >/dev/null
wait "$cpid"
rc=$?
is 0 "$rc" "create --provider gcp --engine slurm --nodes 2 --keep --yes exits 0" ||
    diag "$(tail -n 30 "$TEST_TMP/create.err")"
is "$id" "$(cat "$TEST_TMP/id")" "it printed the run set's id"
r1=$(rec_get "$id" 'r["runs"][-1]["results"]')
[ -n "$r1" ] || r1="$TEST_TMP/no-run"
is "$(sort "$TEST_TMP/local/results.csv")" "$(sort "$r1/results.csv" 2>/dev/null)" \
    "results.csv is run --local's"
is "$(tail -n +2 "$TEST_TMP/local/results.csv" | cut -d, -f1 | sort)" \
    "$(jq -r .task "$r1/records.jsonl" 2>/dev/null | sort)" \
    "every task ran, each once"
is 2 "$(jq -r .host "$r1/records.jsonl" 2>/dev/null | sort -u | wc -l)" \
    "the records name 2 distinct hosts"
for st in "nodes running" "head setup" "nodes setup" "controller" "cluster ready"; do
	like "$(cat "$TEST_TMP/create.err")" "$st" "the create ran step '$st'"
done
is "bastion head, node1 compute, node2 compute" \
    "$(rec_get "$id" '", ".join(sorted("%s %s" % (h["name"], h["role"]) for h in r["hosts"]))')" \
    "the record's hosts: the head and node1, node2, as the slurm engine knows them"

# 2. What the stand-in saw.
inserts=$(grep '"method": "POST"' "$GCP_LOG" | grep "/instances\"" |
    python3 -c 'import json,sys
for l in sys.stdin:
    e = json.loads(l)
    print(e.get("request_id", "-"))')
is 3 "$(wc -l <<<"$inserts")" "3 instance inserts: the head and 2 nodes"
is 0 "$(grep -vc '^[0-9a-f-]\{36\}$' <<<"$inserts")" "each insert carried a requestId"
is "$(rec_get "$id" '"\n".join(sorted(x["token"] for x in r["resources"] if x["kind"] == "instance"))')" \
    "$(sort <<<"$inserts")" "the requestIds sent are the ones the record holds"
is "from fanout-$id to fanout-$id ranges none allow icmp,tcp,udp" \
    "$(gcp_state "' '.join('from %s to %s ranges %s allow %s' % (','.join(f.get('sourceTags', [])), ','.join(f.get('targetTags', [])), ','.join(f.get('sourceRanges', [])) or 'none', ','.join(sorted(a['IPProtocol'] + (':' + ','.join(a['ports']) if 'ports' in a else '') for a in f['allowed']))) for f in s['firewalls'] if f['name'] == 'fanout-$id-internal')")" \
    "the internal rule: tcp/udp/icmp from the run set's tag to its tag, no address range"
is "bastion e2-small fanout-$id,fanout-$id-head
node1 e2-standard-2 fanout-$id,fanout-$id-node
node2 e2-standard-2 fanout-$id,fanout-$id-node" \
    "$(gcp_state "'\\n'.join(sorted('%s %s %s' % (i['name'].rsplit('-', 1)[1], i['machineType'].rsplit('/', 1)[1], ','.join(i['tags']['items'])) for i in s['instances'] if i['labels'].get('fanout-run-set') == '$id' and i['labels'].get('managed-by') == 'fanout'))")" \
    "labelled managed-by=fanout and with the run set: the head (its type e2-small) and 2 nodes (instance_type, e2-standard-2), each with the cluster's tag"
fwlog=$(grep '/global/firewalls"' "$GCP_LOG" | grep '"method": "POST"' |
    grep -c '"request_id"')
is "fanout-$id-head" "$(gcp_state "' '.join(','.join(f['targetTags']) for f in s['firewalls'] if f['name'] == 'fanout-$id-ssh')")" \
    "the SSH rule targets the head's own tag: the nodes take no SSH from outside (reached through the head)"
is 2 "$fwlog" "2 firewall inserts (SSH and internal), each with a requestId"
is "3 2" "$(left_of "$id")" "kept: 3 labelled instances and 2 firewall rules"
is "TERMINATED TERMINATED TERMINATED" \
    "$(gcp_state "' '.join(sorted(i['status'] for i in s['instances'] if i['labels'].get('fanout-run-set') == '$id'))")" \
    "kept: every instance is stopped"

# 3. Resume: every instance started again, the run again.
n0=$(gcp_log_lines)
"$FANOUT" resume "$id" --yes >/dev/null 2>"$TEST_TMP/resume.err"
rc=$?
is 0 "$rc" "resume exits 0" || diag "$(tail -n 30 "$TEST_TMP/resume.err")"
starts=$(gcp_log_from "$n0" | grep -c "^POST /compute/v1/projects/fanout-test/zones/[a-z0-9-]*/instances/fanout-$id-[a-z0-9]*/start ")
is 3 "$starts" "resume started the head and both nodes"
r2=$(rec_get "$id" 'r["runs"][-1]["results"]')
ok "$([ -n "$r2" ] && [ "$r1" != "$r2" ]; echo $?)" "a second results folder"
is "$(sort "$TEST_TMP/local/results.csv")" "$(sort "$r2/results.csv" 2>/dev/null)" \
    "with the same results"
is "TERMINATED TERMINATED TERMINATED" \
    "$(gcp_state "' '.join(sorted(i['status'] for i in s['instances'] if i['labels'].get('fanout-run-set') == '$id'))")" \
    "after the resumed run, every instance is stopped again"

# 4. Cleanup.
"$FANOUT" cleanup "$id" --yes >/dev/null 2>"$TEST_TMP/cleanup.err"
is 0 $? "cleanup exits 0" || diag "$(tail -n 20 "$TEST_TMP/cleanup.err")"
is "deleted" "$(rec_get "$id" 'r["state"]')" "the run set is deleted"
is "0 0" "$(left_all)" "no labelled instance and no fanout firewall rule is left"

# 5. A quota error on one node's insert: its operation ends in
# QUOTA_EXCEEDED. The create fails with one line that names it, and tears
# down what it made (the head, the rules, node1): a failed create cannot be
# resumed, and nothing may stay on the bill.
gcp_ctl inject '{"method": "POST", "path": "/instances$", "name": "-node2$", "op_error": {"code": "QUOTA_EXCEEDED", "message": "Quota '"'"'CPUS'"'"' exceeded.  Limit: 8.0 in region us-central1."}, "count": 1}' >/dev/null
"$FANOUT" create "$proj" --provider gcp --engine slurm --nodes 2 --yes \
    >"$TEST_TMP/q.out" 2>"$TEST_TMP/q.err"
is 1 $? "a quota error on a node's insert: exit 1"
errs=$(grep '^fanout: ' "$TEST_TMP/q.err")
is 1 "$(grep -c . <<<"$errs")" "one line says why" || diag "$(tail -n 20 "$TEST_TMP/q.err")"
diag "$errs"
like "$errs" "node2: .*QUOTA_EXCEEDED.*Quota 'CPUS' exceeded" \
    "it names the node and Compute Engine's quota error"
like "$errs" "ask for more quota .*gcloud compute regions describe us-central1.* or choose a smaller machine type" \
    "and what to do about it"
qid=$(newest_gcp)
ok "$([ -n "$qid" ] && [ "$qid" != "$id" ]; echo $?)" "the failed create has a record of its own"
like "$errs" "what was made is torn down\$" "and says what was made is torn down"
is "deleted" "$(rec_get "$qid" 'r["state"]')" "the failed create's run set is deleted"
is "0 0" "$(left_of "$qid")" "nothing of the failed create is left"
is "0 0" "$(left_all)" "nothing fanout-labelled or -named is left at all"
# 6. kill -9 while the node inserts are in flight (held by the stand-in):
# the record names both nodes (intents with their requestIds), the
# inserts then finish without fanout; cleanup finds them by name and
# leaves nothing.
gcp_ctl hold '{"method": "POST", "path": "/instances$", "name": "-node[0-9]+$", "count": 2}' >/dev/null
"$FANOUT" create "$proj" --provider gcp --engine slurm --nodes 2 --yes \
    >/dev/null 2>"$TEST_TMP/k.err" &
kpid=$!
wait_for 120 held_is 2 || diag "held: $(held); $(tail -n 20 "$TEST_TMP/k.err")"
{ kill -9 "$kpid"; wait "$kpid"; } 2>/dev/null
kid=$(newest_gcp)
is "intent intent" "$(rec_get "$kid" '" ".join(x["state"] for x in r["resources"] if x["kind"] == "instance" and "-node" in x["name"])')" \
    "killed during the node inserts: both nodes are intents in the record"
gcp_ctl release >/dev/null
kid_nodes() { gcp_state "len([i for i in s['instances'] if i['name'].startswith('fanout-$kid-node')])"; }
kid_nodes_are() { [ "$(kid_nodes)" = "$1" ]; }
wait_for 30 kid_nodes_are 2
is "fanout-$kid-node1 fanout-$kid-node2" \
    "$(gcp_state "' '.join(sorted(i['name'] for i in s['instances'] if i['name'].startswith('fanout-$kid-node')))")" \
    "the node inserts finished without fanout: both nodes are there"
"$FANOUT" cleanup "$kid" --yes >/dev/null 2>"$TEST_TMP/kc.err"
is 0 $? "cleanup after the kill exits 0" || diag "$(tail -n 20 "$TEST_TMP/kc.err")"
is "0 0" "$(left_of "$kid")" "cleanup found the nodes by name: nothing is left"

# 7. 8 nodes (--no-run: the machines alone, no set-up on hosts): all 8
# inserts in flight at once; recorded as node1..node8; cleanup.
gcp_ctl hold '{"method": "POST", "path": "/instances$", "name": "-node[0-9]+$", "count": 8}' >/dev/null
"$FANOUT" create "$proj" --provider gcp --engine slurm --nodes 8 --no-run --yes \
    >"$TEST_TMP/e.out" 2>"$TEST_TMP/e.err" &
epid=$!
if wait_for 120 held_is 8; then
	ok 0 "--nodes 8: the 8 node inserts are in flight at once"
else
	ok 1 "--nodes 8: the 8 node inserts are in flight at once" ||
	    diag "held: $(held); $(tail -n 20 "$TEST_TMP/e.err")"
fi
gcp_ctl release >/dev/null
wait "$epid"
is 0 $? "--nodes 8 --no-run exits 0" || diag "$(tail -n 20 "$TEST_TMP/e.err")"
eid=$(cat "$TEST_TMP/e.out")
is "node1 node2 node3 node4 node5 node6 node7 node8 bastion" \
    "$(rec_get "$eid" '" ".join(sorted((h["name"] for h in r["hosts"]), key=lambda n: (len(n), n)))')" \
    "the record's hosts: the head and node1..node8"
is "9 2" "$(left_of "$eid")" "9 labelled instances and 2 firewall rules"
"$FANOUT" cleanup "$eid" --yes >/dev/null 2>"$TEST_TMP/ec.err"
is 0 $? "cleanup exits 0" || diag "$(tail -n 20 "$TEST_TMP/ec.err")"
is "0 0" "$(left_all)" "nothing fanout-labelled or -named is left"

is 0 "$(gcp_unknown)" "fanout called nothing the stand-in does not serve"
done_testing
