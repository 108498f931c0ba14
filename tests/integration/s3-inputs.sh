#!/bin/bash
# Inputs in a bucket (inputs.glob: s3://...), run --local: 150 objects
# listed over 2 pages (FANOUT_S3_PAGE_SIZE=100), fetched with the user's
# own credentials into the project's cache (.fanout/s3/), reused by the
# next run; the records name the s3:// URL; the results equal those of the
# same files as a local glob (the input column aside). Against moto.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
plan_lazy

data="$TEST_TMP/data"
mkdir -p "$data/data/sub"
for i in $(seq -w 1 150); do
	printf 'row %s\n%s\n' "$i" "$(seq 1 "$((10#$i % 17))" | tr '\n' ' ')" >"$data/data/f$i.csv"
done
echo "not an input" >"$data/data/readme.txt"
echo "below a folder" >"$data/data/sub/deep.csv"
awsq s3 mb s3://fanout-in >/dev/null
awsq s3 cp --recursive --quiet "$data/data" s3://fanout-in/data/
ok $? "150 objects (and 2 that must not match) are in the bucket"
is 152 "$(awsq s3 ls --recursive s3://fanout-in/data/ | wc -l)" "the bucket lists 152 objects under data/"

lp="$TEST_TMP/local"
s3_mkproj "$lp" 'data/*.csv'
cp -R "$data/data" "$lp/data"
"$FANOUT" run --local "$lp" --results "$TEST_TMP/res-local" >/dev/null 2>"$TEST_TMP/local.err"
ok $? "the local glob runs"

sp="$TEST_TMP/s3proj"
s3_mkproj "$sp" 's3://fanout-in/data/*.csv'
FANOUT_S3_PAGE_SIZE=100 "$FANOUT" run --local "$sp" --results "$TEST_TMP/res-s3" >"$TEST_TMP/s3.out" 2>"$TEST_TMP/s3.err"
ok $? "run --local with s3:// inputs runs" || diag "$(tail -5 "$TEST_TMP/s3.err")"
like "$(cat "$TEST_TMP/s3.err")" "150 object\(s\) of s3://fanout-in/data/\*\.csv \(2 page\(s\) listed\)" \
	"150 objects listed over 2 pages"
like "$(cat "$TEST_TMP/s3.err")" "150 downloaded" "each object downloaded once"
is 150 "$(find "$sp/.fanout/s3/fanout-in/data" -name 'f*.csv' | wc -l)" "the cache holds the 150 objects"
is "$(head -1 "$TEST_TMP/res-local/results.csv")" "$(head -1 "$TEST_TMP/res-s3/results.csv")" \
	"results.csv has the same columns"
is "$(tail -n +2 "$TEST_TMP/res-local/results.csv" | sort)" \
	"$(tail -n +2 "$TEST_TMP/res-s3/results.csv" | sed 's|^\([0-9]*\),s3://fanout-in/|\1,|' | sort)" \
	"results.csv: the same rows, the input aside"
is 150 "$(grep -c '"input": *"s3://fanout-in/data/f[0-9]*\.csv"' "$TEST_TMP/res-s3/records.jsonl")" \
	"each record names its s3:// URL as the input"
is 0 "$(grep -c 'readme\|deep' "$TEST_TMP/res-s3/records.jsonl")" "no object outside the pattern ran"

# Again: nothing downloaded, the cache reused; then --files 3.
FANOUT_S3_PAGE_SIZE=100 "$FANOUT" run --local "$sp" --results "$TEST_TMP/res-s3b" >/dev/null 2>"$TEST_TMP/s3b.err"
ok $? "a second run works"
like "$(cat "$TEST_TMP/s3b.err")" "0 downloaded \(0 bytes\), 150 from the cache" "the second run reuses the cache"
echo "changed" | awsq s3 cp - s3://fanout-in/data/f002.csv >/dev/null
"$FANOUT" run --local "$sp" --files 3 --results "$TEST_TMP/res-s3c" >/dev/null 2>"$TEST_TMP/s3c.err"
ok $? "--files 3 runs"
like "$(cat "$TEST_TMP/s3c.err")" "1 downloaded \([0-9]+ bytes\), 2 from the cache" "a changed object is fetched again"
is 3 "$(tail -n +2 "$TEST_TMP/res-s3c/results.csv" | wc -l)" "--files 3: the first three objects"
like "$(grep f002 "$TEST_TMP/res-s3c/results.csv")" '"?changed' "the changed object's new content is read"

# results: s3://... copies the results folder with the user's credentials.
awsq s3 mb s3://fanout-out >/dev/null
printf 'results: s3://fanout-out/local\n' >>"$sp/fanout.yaml"
"$FANOUT" run --local "$sp" --files 5 --results "$TEST_TMP/res-s3d" >/dev/null 2>"$TEST_TMP/s3d.err"
ok $? "run --local with results: in a bucket runs"
like "$(cat "$TEST_TMP/s3d.err")" "results copied to s3://fanout-out/local/res-s3d/ \([0-9]+ files\)" \
	"it says where the results went"
awsq s3 cp s3://fanout-out/local/res-s3d/results.csv "$TEST_TMP/copied.csv" >/dev/null
is "$(cat "$TEST_TMP/res-s3d/results.csv")" "$(cat "$TEST_TMP/copied.csv")" "the bucket's results.csv is the run's"
like "$(awsq s3 ls --recursive s3://fanout-out/local/res-s3d/)" "local/res-s3d/logs/" "the logs folder too"
printf 'name: s3-demo\nentrypoint: ./entrypoint\ninputs:\n  glob: s3://fanout-in/data/*.csv\nresults: s3://no-such-out-3/x\n' >"$sp/fanout.yaml"
"$FANOUT" run --local "$sp" --results "$TEST_TMP/res-s3e" >/dev/null 2>"$TEST_TMP/s3e.err"
is 2 $? "a results bucket that does not exist: exit 2"
like "$(cat "$TEST_TMP/s3e.err")" "^fanout: results s3://no-such-out-3/x: bucket 'no-such-out-3' does not exist" \
	"a results bucket that does not exist: said before anything runs"
check "a results bucket that does not exist: nothing ran" test ! -e "$TEST_TMP/res-s3e"

# The user's credentials are not in the project's cache or results.
is 0 "$(grep -rl "$AWS_SECRET_ACCESS_KEY" "$sp" "$TEST_TMP/res-s3" | wc -l)" "no secret in the project or its results"

done_testing
