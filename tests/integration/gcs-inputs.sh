#!/bin/bash
# Inputs in a Cloud Storage bucket (inputs.glob: gs://...) and results to
# one, run --local against the stand-in (tests/fakes/gcp_fake.py): 30
# objects listed over 2 pages (FANOUT_GCS_PAGE_SIZE=20), fetched with the
# user's own credentials into the project's cache (.fanout/gs/), reused by
# the next run, fetched again when changed; the records name the gs:// URL;
# the results equal those of the same files as a local glob; results:
# gs://... copies the results folder. Bad input: no such bucket, a bucket
# these credentials may not read, nothing matches, a results bucket that
# does not exist: each one line naming the fix, exit 2, nothing run.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-gcp.sh"
plan_lazy

CHECKIP_PORT=$(free_port)
python3 "$top_srcdir/tests/fakes/checkip.py" "$CHECKIP_PORT" 203.0.113.9 &
at_exit "kill $! 2>/dev/null"
wait_port "$CHECKIP_PORT" 20 || bail "checkip stand-in did not start"
export FANOUT_CHECKIP_URL="http://127.0.0.1:$CHECKIP_PORT/"
export CLOUDSDK_API_ENDPOINT_OVERRIDES_IAM="$GCP_URL/iam/"
unset CLOUDSDK_COMPUTE_REGION CLOUDSDK_COMPUTE_ZONE
gcp_key "$GCP_DIR/sa.json"
export GOOGLE_APPLICATION_CREDENTIALS="$GCP_DIR/sa.json"
SA=fanout-test@fanout-test.iam.gserviceaccount.com

mkproj() { # mkproj DIR GLOB [RESULTS]
	mkdir -p "$1"
	cat >"$1/entrypoint" <<'SH'
#!/bin/sh
set -eu
sum=$(cksum <"$1" | cut -d' ' -f1)
printf '{"bytes": %s, "cksum": %s, "first": "%s"}\n' "$(wc -c <"$1")" "$sum" "$(head -1 "$1")"
SH
	chmod +x "$1/entrypoint"
	printf 'name: gs-demo\nentrypoint: ./entrypoint\ninputs:\n  glob: %s\nworkers: 4\n' \
		"$2" >"$1/fanout.yaml"
	[ -z "${3:-}" ] || printf 'results: %s\n' "$3" >>"$1/fanout.yaml"
}
put() { # put BUCKET NAME FILE
	python3 -c 'import json, sys; print(json.dumps({"bucket": sys.argv[1], "name": sys.argv[2], "data": open(sys.argv[3]).read()}))' \
		"$1" "$2" "$3" >"$TEST_TMP/obj.json"
	gcp_ctl object "$(cat "$TEST_TMP/obj.json")" >/dev/null
}

data="$TEST_TMP/data"
mkdir -p "$data/data/sub"
for i in $(seq -w 1 30); do
	printf 'row %s\n%s\n' "$i" "$(seq 1 "$((10#$i % 17))" | tr '\n' ' ')" >"$data/data/f$i.csv"
done
echo "not an input" >"$data/data/readme.txt"
echo "below a folder" >"$data/data/sub/deep.csv"
gcp_ctl bucket '{"name": "fanout-in"}' >/dev/null
gcp_ctl bucket '{"name": "fanout-out"}' >/dev/null
for f in "$data"/data/*.csv "$data/data/readme.txt" "$data/data/sub/deep.csv"; do
	put fanout-in "data/${f#"$data/data/"}" "$f"
done
is 32 "$(gcp_ctl state | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["buckets"]["fanout-in"]))')" \
	"the bucket holds 32 objects under data/, 30 of them inputs"

lp="$TEST_TMP/local"
mkproj "$lp" 'data/*.csv'
cp -R "$data/data" "$lp/data"
"$FANOUT" run --local "$lp" --results "$TEST_TMP/res-local" >/dev/null 2>"$TEST_TMP/local.err"
ok $? "the local glob runs"

gp="$TEST_TMP/gsproj"
mkproj "$gp" 'gs://fanout-in/data/*.csv'
m=$(gcp_log_lines)
FANOUT_GCS_PAGE_SIZE=20 "$FANOUT" run --local "$gp" --results "$TEST_TMP/res-gs" >"$TEST_TMP/gs.out" 2>"$TEST_TMP/gs.err"
ok $? "run --local with gs:// inputs runs" || diag "$(tail -5 "$TEST_TMP/gs.err")"
like "$(cat "$TEST_TMP/gs.err")" "30 object\(s\) of gs://fanout-in/data/\*\.csv \(2 page\(s\) listed\)" \
	"30 objects listed over 2 pages"
like "$(cat "$TEST_TMP/gs.err")" "30 downloaded" "each object downloaded once"
is 30 "$(find "$gp/.fanout/gs/fanout-in/data" -name 'f*.csv' | wc -l)" "the cache holds the 30 objects"
is "$(head -1 "$TEST_TMP/res-local/results.csv")" "$(head -1 "$TEST_TMP/res-gs/results.csv")" \
	"results.csv has the same columns"
is "$(tail -n +2 "$TEST_TMP/res-local/results.csv" | sort)" \
	"$(tail -n +2 "$TEST_TMP/res-gs/results.csv" | sed 's|^\([0-9]*\),gs://fanout-in/|\1,|' | sort)" \
	"results.csv: the same rows, the input aside"
is 30 "$(grep -c '"input": *"gs://fanout-in/data/f[0-9]*\.csv"' "$TEST_TMP/res-gs/records.jsonl")" \
	"each record names its gs:// URL as the input"
is 0 "$(grep -c 'readme\|deep' "$TEST_TMP/res-gs/records.jsonl")" "no object outside the pattern ran"
reads=$(tail -n +"$((m + 1))" "$GCP_LOG" | python3 -c '
import json, sys
for e in map(json.loads, sys.stdin):
    if e["path"].startswith("/storage/v1/b/fanout-in/o/"):
        print(e.get("who"), e["query"])' | sort | uniq -c)
like "$reads" "^ *30 user:$SA \['alt'\]$" "the objects are read with alt=media by the user's credentials"

# Again: nothing downloaded, the cache reused; a changed object is
# fetched again; --files 3.
FANOUT_GCS_PAGE_SIZE=20 "$FANOUT" run --local "$gp" --results "$TEST_TMP/res-gs2" >/dev/null 2>"$TEST_TMP/gs2.err"
ok $? "a second run works"
like "$(cat "$TEST_TMP/gs2.err")" "0 downloaded \(0 bytes\), 30 from the cache" "the second run reuses the cache"
echo "changed" >"$TEST_TMP/changed"
put fanout-in data/f02.csv "$TEST_TMP/changed"
"$FANOUT" run --local "$gp" --files 3 --results "$TEST_TMP/res-gs3" >/dev/null 2>"$TEST_TMP/gs3.err"
ok $? "--files 3 runs"
like "$(cat "$TEST_TMP/gs3.err")" "1 downloaded \([0-9]+ bytes\), 2 from the cache" "a changed object is fetched again"
is 3 "$(tail -n +2 "$TEST_TMP/res-gs3/results.csv" | wc -l)" "--files 3: the first three objects"
like "$(grep f02 "$TEST_TMP/res-gs3/results.csv")" '"?changed' "the changed object's new content is read"

# results: gs://... copies the results folder with the user's credentials.
printf 'results: gs://fanout-out/local\n' >>"$gp/fanout.yaml"
"$FANOUT" run --local "$gp" --files 5 --results "$TEST_TMP/res-gs4" >/dev/null 2>"$TEST_TMP/gs4.err"
ok $? "run --local with results: in a bucket runs" || diag "$(tail -5 "$TEST_TMP/gs4.err")"
like "$(cat "$TEST_TMP/gs4.err")" "results copied to gs://fanout-out/local/res-gs4/ \([0-9]+ files\)" \
	"it says where the results went"
is "$(cat "$TEST_TMP/res-gs4/results.csv")" \
	"$(gcp_ctl iam/cat '{"bucket": "fanout-out", "name": "local/res-gs4/results.csv"}')" \
	"the bucket's results.csv is the run's"
like "$(gcp_ctl state)" '"local/res-gs4/logs/' "the logs folder too"

# The user's credentials are not in the project's cache or results.
tokpart=$(python3 -c 'import json,sys; k=json.load(open(sys.argv[1]))["private_key"]; print(k.splitlines()[5])' "$GCP_DIR/sa.json")
is 0 "$(grep -rlF -e "$tokpart" -e "ya29." "$gp" "$TEST_TMP/res-gs" "$TEST_TMP/res-gs4" | wc -l)" \
	"no key or token in the project or its results"

# Bad input: one line, exit 2, nothing run.
# Each for run --local and for create --provider gcp: the same line,
# checked before anything is made (no history record, no instance, no
# firewall rule, no service account in the stand-in).
fails() { # fails REGEX DESCRIPTION RESULTS-DIR
	"$FANOUT" run --local "$gp" --results "$3" >"$TEST_TMP/bad.out" 2>"$TEST_TMP/bad.err"
	is 2 "$?" "$2: exit 2"
	like "$(grep '^fanout: ' "$TEST_TMP/bad.err")" "$1" "$2: says what is wrong and what to do"
	is 1 "$(grep -c . "$TEST_TMP/bad.err")" "$2: in one line"
	check "$2: nothing ran" test ! -e "$3"
	_recs=$(ls "$FANOUT_HISTORY_DIR"/*.json 2>/dev/null | wc -l)
	"$FANOUT" create "$gp" --provider gcp --engine bastion --yes >"$TEST_TMP/bad.out" 2>"$TEST_TMP/bad.err"
	is 2 "$?" "create, $2: exit 2"
	like "$(grep '^fanout: ' "$TEST_TMP/bad.err")" "$1" "create, $2: the same line"
	is 1 "$(grep -c '^fanout: ' "$TEST_TMP/bad.err")" "create, $2: one line"
	is "$_recs" "$(ls "$FANOUT_HISTORY_DIR"/*.json 2>/dev/null | wc -l)" "create, $2: no history record"
	is "0 0 0 0" "$(gcp_ctl state | python3 -c 'import json,sys; s=json.load(sys.stdin); print(len(s["instances"]), len(s["firewalls"]), len(s["operations"]))') $(gcp_ctl iam/state | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["accounts"]))')" \
		"create, $2: no instance, firewall rule, operation or service account" 2>/dev/null
}
setglob() { # setglob GLOB [RESULTS]
	printf 'name: gs-bad\nentrypoint: ./entrypoint\ninputs:\n  glob: %s\n' "$1" >"$gp/fanout.yaml"
	[ -z "${2:-}" ] || printf 'results: %s\n' "$2" >>"$gp/fanout.yaml"
}
setglob 'gs://no-such-bucket-7/data/*.csv'
fails "^fanout: inputs.glob gs://no-such-bucket-7/data/\*\.csv: bucket 'no-such-bucket-7' does not exist \(project fanout-test\); check the bucket name in fanout.yaml$" \
	"a bucket that does not exist" "$TEST_TMP/bad1"
gcp_ctl bucket '{"name": "fanout-closed"}' >/dev/null
put fanout-closed data/a.csv "$TEST_TMP/changed"
gcp_ctl iam/deny '{"bucket": "fanout-closed"}' >/dev/null
setglob 'gs://fanout-closed/data/*.csv'
fails "^fanout: inputs.glob gs://fanout-closed/data/\*\.csv: the credentials of $SA may not read gs://fanout-closed: grant roles/storage.objectViewer \(gcloud storage buckets add-iam-policy-binding gs://fanout-closed --member=serviceAccount:$SA --role=roles/storage.objectViewer\)$" \
	"a bucket without access" "$TEST_TMP/bad2"
setglob 'gs://fanout-in/nothing-here/*.csv'
fails "^fanout: inputs.glob gs://fanout-in/nothing-here/\*\.csv: no object matches \(0 listed under 'nothing-here/'\); check the prefix and pattern$" \
	"an empty prefix" "$TEST_TMP/bad3"
setglob 'gs://fanout-in/data/*.json'
fails "^fanout: inputs.glob gs://fanout-in/data/\*\.json: no object matches \(32 listed under 'data/'\); check the prefix and pattern$" \
	"a pattern nothing matches" "$TEST_TMP/bad4"
setglob 'gs://fanout-in/data/*.csv' 'gs://no-such-out-9/runs'
fails "^fanout: results gs://no-such-out-9/runs: bucket 'no-such-out-9' does not exist \(project fanout-test\); check the bucket name in fanout.yaml$" \
	"a results bucket that does not exist" "$TEST_TMP/bad5"
setglob 'gs://fanout-in/data/*.csv' 'gs://fanout-closed/runs'
fails "^fanout: results gs://fanout-closed/runs: the credentials of $SA may not write to gs://fanout-closed: grant roles/storage.objectCreator \(gcloud storage buckets add-iam-policy-binding gs://fanout-closed --member=serviceAccount:$SA --role=roles/storage.objectCreator\)$" \
	"a results bucket without access" "$TEST_TMP/bad6"
is 0 "$(gcp_outside)" "nothing went off loopback"

done_testing
