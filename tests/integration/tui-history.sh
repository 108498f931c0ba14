#!/bin/bash
# The history screen's keys (tmux), against moto_server: every key that
# deletes or spends asks the same way; a key that cannot apply to the
# chosen run set is neither in the footer nor in '?' help; details, help
# and the confirmation wrap at words at 80 columns; the orphan sweep lists
# what it would delete before it asks; a teardown's progress screen has
# no task bars and its clock stops when it ends. Checked with the aws CLI.
# Skipped while no cloud provider is built in.
. "$top_srcdir/tests/integration/lib.sh"
[ -f "$top_srcdir/tests/integration/lib-aws.sh" ] ||
	skip_all "no cloud provider in this build (tests/integration/lib-aws.sh)"
# shellcheck source=/dev/null
. "$top_srcdir/tests/integration/lib-aws.sh"
. "$top_srcdir/tests/integration/lib-tmux.sh"
plan_lazy

ex=$(example sleep)
# The screen as one line, runs of blanks squeezed: a sentence wrapped at
# words reads whole; one cut inside a word does not.
joined() { tmux_screen | tr -s ' \n' '  '; }
# The footer (the key hints).
footer() { tmux_screen | sed -n 24p; }
# select_row ID FOOTER: moves the history selection to ID's line (the
# list is in a known order: by the rows shown), then waits until the
# footer shows FOOTER, the keys that apply to it.
select_row() {
	_n=$(tmux_screen | grep -E '^ +fo-' | grep -n "$1" | cut -d: -f1)
	[ -n "$_n" ] || return 1
	tmux_keys g
	for _i in $(seq 2 "$_n"); do tmux_keys j; done
	tmux_wait_row 24 "$2" 10
}

# Three run sets made with the commands: a local run, a cloud run set
# kept (its bastion running), and one torn down.
"$FANOUT" run --local "$ex" --workers 2 >/dev/null 2>&1 || bail "local run failed"
printf 'cleanup_after: false\n' >"$TEST_TMP/keep.yaml"
"$FANOUT" create "$ex" --answers "$TEST_TMP/keep.yaml" --no-run --yes \
    >"$TEST_TMP/create1.out" 2>&1 || bail "create failed: $(cat "$TEST_TMP/create1.out")"
kept=$(newest_id)
"$FANOUT" create "$ex" --answers "$TEST_TMP/keep.yaml" --no-run --yes \
    >"$TEST_TMP/create2.out" 2>&1 || bail "create failed: $(cat "$TEST_TMP/create2.out")"
gone=$(newest_id)
"$FANOUT" cleanup "$gone" --yes >/dev/null 2>&1 || bail "cleanup failed"
local_id=$(for f in "$FANOUT_HISTORY_DIR"/*.json; do
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["id"]) if r["kind"]=="local" else None' "$f"
done)
[ -n "$local_id" ] && [ "$kept" != "$gone" ] || bail "the run sets were not made"

TMUX_PASS_ENV="HOME AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
    AWS_DEFAULT_REGION AWS_ENDPOINT_URL FANOUT_CHECKIP_URL
    FANOUT_BASTION_ADDRESS FANOUT_SSH_WAIT"
tmux_start 80 24
tmux_run "$FANOUT; echo fanout-exit=\$?"
tmux_expect "Run on this machine" "the main menu appears"
tmux_keys h
tmux_expect "$gone .*deleted" "history lists the three run sets"

# The kept run set: r and d; its details wrap at words.
select_row "$kept" "r resume  d tear down" || diag "the footer for $kept did not come"
like "$(footer)" "r resume +d tear down" "kept: r and d are offered"
tmux_keys Enter
tmux_expect "Answers" "Enter: its details"
like "$(tmux_screen)" "Where +aws/us-east-1" "the region reads whole"
tmux_absent "^ *(st-1|n)$" "no word is cut at the edge"
tmux_keys G
# The answers may fill the first page: the resources follow them.
tmux_expect "Resources \\(3\\)" "G: its three resources"
tmux_expect "instance +bastion +i-[0-9a-f]+ +created" "G: a resource's row reads whole"
tmux_absent "^ *(st-1|n)$" "no word is cut at the edge there either"
tmux_keys Escape

# d: asks, then the teardown: no task bars, and the clock stops at the end.
tmux_keys d
tmux_expect "Tear down every resource of $kept\\? \\(y/n\\)" "d asks"
tmux_keys y
tmux_expect "done: run set $kept" "the teardown runs" 60
tmux_absent "Tasks +\\[|Bytes +\\[" "a teardown shows no task or byte bars"
el=$(tmux_screen | grep -o 'Elapsed [^ ]*')
elapsed_changed() { [ "$(tmux_screen | grep -o 'Elapsed [^ ]*')" != "$el" ]; }
if wait_for 2 elapsed_changed; then
	ok 1 "the elapsed time stops when the job ends"
	diag "was '$el', now '$(tmux_screen | grep -o 'Elapsed [^ ]*')'"
else
	ok 0 "the elapsed time stops when the job ends ($el)"
fi
tmux_keys Enter
tmux_expect "$kept .*deleted" "Enter: back in history, deleted"
tmux_keys Escape
tmux_expect "Run on this machine" "Esc: the main menu (Enter went back to the history, no second one)"
tmux_keys h
tmux_expect "$gone .*deleted" "h: the history again"

# A torn-down run set: neither r nor d; pressing them says why.
select_row "$gone" "Enter details  o orphans" || diag "the footer for $gone did not come"
tmux_absent "r resume|r run again" "torn down: r is not offered"
tmux_absent "d tear down" "torn down: d is not offered"
tmux_keys '?'
tmux_expect "Keys of the history" "? on it"
tmux_absent "resume: start the bastion|tear every resource" "torn down: the help lists neither r nor d"
tmux_keys Escape
tmux_keys r
tmux_expect "$gone was torn down: nothing to run again on" "r says there is nothing to resume"
tmux_absent "\\(y/n\\)" "and asks nothing"
tmux_keys d
tmux_expect "$gone was torn down already" "d says it is gone already"
tmux_absent "\\(y/n\\)" "and asks nothing either"

# The orphan sweep: a tagged key pair no record knows, in moto.
oid=$(awsq ec2 create-key-pair --key-name fanout-fo-20990101-orph \
    --tag-specifications 'ResourceType=key-pair,Tags=[{Key=managedBy,Value=fanout},{Key=fanout:run-set,Value=fo-20990101-orph},{Key=Name,Value=fanout-fo-20990101-orph}]' \
    --query KeyPairId)
like "$oid" "^key-" "an orphan key pair is made ($oid)"
tmux_keys o
tmux_expect "Delete these 1 resource\\(s\\)\\? \\(y/n\\)" "o asks" 30
like "$(tmux_screen)" "key_pair +$oid +aws/us-east-1 +fo-20990101-orph" \
    "but lists first: kind, id, provider/region, run set"
tmux_keys n
tmux_expect "d delete them" "n: the list stays, d deletes"
is 1 "$(awsq ec2 describe-key-pairs --key-pair-ids "$oid" --query 'KeyPairs[].KeyPairId' 2>/dev/null | wc -w)" \
    "n: the key pair is still there"
tmux_keys d
tmux_expect "Delete these 1 resource\\(s\\)\\? \\(y/n\\)" "d asks the same way"
tmux_keys y
tmux_expect "Orphan sweep" "the sweep runs" 30
tmux_expect "Steps \\(finished\\)" "and ends" 60
tmux_absent "Tasks +\\[" "a sweep shows no task bars"
is 0 "$(awsq ec2 describe-key-pairs --filters Name=tag:managedBy,Values=fanout --query 'KeyPairs[].KeyPairId' | wc -w)" \
    "the orphan key pair is gone (aws CLI)"
tmux_keys Escape
tmux_expect "$kept .*deleted" "Esc: back in history"

# A local run: r runs it again here (after asking); d is not offered.
select_row "$local_id" "r run again" || diag "the footer for $local_id did not come"
like "$(footer)" "r run again" "local run: the footer offers r (run again)"
tmux_absent "d tear down" "local run: d (tear down) is not offered"
tmux_keys '?'
tmux_expect "Keys of the history" "? lists the keys"
tmux_absent "tear every resource" "local run: the help does not list d"
like "$(joined)" "orphan sweep: lists tagged resources no record knows, then asks" \
    "the help wraps its text at words"
tmux_keys Escape
tmux_keys r
tmux_expect "Run sleep-demo again on this machine\\? \\(y/n\\)" "local run: r asks first"
tmux_keys n
tmux_absent "Tasks +\\[" "n: nothing runs"
is 3 "$(ls "$FANOUT_HISTORY_DIR"/*.json | wc -l)" "n: no new run in history"

tmux_keys Escape
tmux_expect "Run on this machine" "Esc: the main menu"
tmux_keys q
tmux_expect "fanout-exit=0" "q quits"

done_testing
