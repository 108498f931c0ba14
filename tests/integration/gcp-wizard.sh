#!/bin/bash
# The wizard's side of the GCP provider, through the command line: the
# zone question (--zone, and --region taking a zone), refusals made before
# anything (one line, exit 2, no history record): --detach with a provider
# that does not detach, a project's buckets of the other provider's kind,
# a zone outside the region, a zone for aws; the zone shown by history
# and status; orphans looked for with every provider that has credentials
# set up, one with nothing set up skipped with a note. Against moto and
# the GCP stand-in.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
. "$top_srcdir/tests/integration/lib-gcp.sh"
plan_lazy

[ -f "$top_srcdir/src/cloud/gcp-provider.c" ] ||
	skip_all "provider gcp is not in this build"

KEY="$GCP_DIR/sa.json"
gcp_key "$KEY"
unset CLOUDSDK_COMPUTE_REGION CLOUDSDK_COMPUTE_ZONE

mkproj() { # mkproj DIR [GLOB [RESULTS]]
	mkdir -p "$1/data"
	printf '#!/bin/sh\necho "{\\"n\\": 1}"\n' >"$1/entrypoint"
	chmod +x "$1/entrypoint"
	echo 1 >"$1/data/a.txt"
	printf 'name: gcp-wiz\nentrypoint: ./entrypoint\ninputs:\n  glob: %s\nworkers: 2\n' \
		"${2:-data/*.txt}" >"$1/fanout.yaml"
	[ -z "${3:-}" ] || printf 'results: %s\n' "$3" >>"$1/fanout.yaml"
}
proj="$TEST_TMP/proj"
mkproj "$proj"
mkproj "$TEST_TMP/gs-in" 'gs://fanout-wiz/in/*.txt'
mkproj "$TEST_TMP/s3-in" 's3://fanout-wiz/in/*.txt'
mkproj "$TEST_TMP/gs-out" 'data/*.txt' 'gs://fanout-wiz/out'

rec_get() { # rec_get ID PYTHON-EXPR-ON-r
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$FANOUT_HISTORY_DIR/$1.json" "$2" 2>/dev/null
}
records() { find "$FANOUT_HISTORY_DIR" -name '*.json' 2>/dev/null | wc -l; }

# refused REGEX DESCRIPTION -- command...: exit 2, one line, no record.
refused() {
	_re=$1 _d=$2
	shift 3
	_before=$(records)
	"$@" >"$TEST_TMP/bad.out" 2>"$TEST_TMP/bad.err" </dev/null
	is 2 "$?" "$_d: exit 2"
	like "$(cat "$TEST_TMP/bad.err")" "$_re" "$_d: says what is wrong and what to do"
	is 1 "$(grep -c . "$TEST_TMP/bad.err")" "$_d: in one line"
	is "$_before" "$(records)" "$_d: no history record"
}

gcp() { GOOGLE_APPLICATION_CREDENTIALS="$KEY" "$FANOUT" "$@"; }

like "$("$FANOUT" create --help | sed -n '/^  --detach/,/^  --yes/p' | tr '\n' ' ')" \
	"^  --detach .*\(providers that detach: aws\) +--yes" \
	"create --help says, under --detach, which providers it works with"

# The zone and the region: checked before anything.
refused "^fanout: --zone: 'zone' does not apply to provider 'aws', only to provider gcp" \
	"--zone with aws" -- "$FANOUT" create "$proj" --no-run --yes --zone us-central1-b
refused "^fanout: --region: us-central1 is not an AWS region \(it is GCP's\); choose provider gcp \(--provider gcp\)" \
	"a GCP region with aws" -- "$FANOUT" create "$proj" --no-run --yes --region us-central1
refused "^fanout: --region: us-east-1 is not a GCP region \(it is AWS's\); choose provider aws" \
	"an AWS region with gcp" -- gcp create "$proj" --no-run --yes --provider gcp --region us-east-1
refused "^fanout: --zone: zone europe-west1-b is in region europe-west1, not in us-central1; give a zone of us-central1" \
	"a zone outside the region" -- gcp create "$proj" --no-run --yes --provider gcp --region us-central1 --zone europe-west1-b
refused "^fanout: --zone: 'us-central1' is not valid: use a zone name" \
	"a region as the zone" -- gcp create "$proj" --no-run --yes --provider gcp --region us-central1 --zone us-central1
refused "^fanout: create: --region names zone us-central1-b and --zone zone us-central1-c; give one zone$" \
	"--region naming one zone and --zone another" -- \
	gcp create "$proj" --no-run --yes --provider gcp --region us-central1-b --zone us-central1-c
refused "^fanout: --region: zone europe-west1-b is in region europe-west1, not in us-central1|^fanout: --zone: zone europe-west1-b is in region europe-west1, not in us-central1" \
	"an answers file's region with --region's zone elsewhere" -- \
	gcp create "$proj" --no-run --yes --provider gcp --region us-central1 --zone europe-west1-b

# What the provider cannot do, refused before anything is made.
refused "^fanout: create: --detach does not work with provider gcp yet \(its head cannot tear the run set down itself\); run without --detach .*, or use --provider aws, which detaches$" \
	"--detach with gcp" -- gcp create "$proj" --yes --provider gcp --region us-central1 --detach
refused "^fanout: .*fanout.yaml: gs:// inputs need --provider gcp \(provider aws reads s3:// buckets\); nothing was created$" \
	"gs:// inputs with aws" -- "$FANOUT" create "$TEST_TMP/gs-in" --no-run --yes
refused "^fanout: .*fanout.yaml: gs:// results need --provider gcp" \
	"gs:// results with aws" -- "$FANOUT" create "$TEST_TMP/gs-out" --no-run --yes
refused "^fanout: .*fanout.yaml: s3:// inputs need --provider aws \(provider gcp reads gs:// buckets\); nothing was created$" \
	"s3:// inputs with gcp" -- gcp create "$TEST_TMP/s3-in" --no-run --yes --provider gcp --region us-central1
# gs:// with gcp: refused as a provider without bucket hooks, or by its
# bucket check (no such bucket in the stand-in): before anything either way.
refused "^fanout: .*(cannot read or write|fanout-wiz)" \
	"gs:// inputs with gcp and no such bucket" -- \
	gcp create "$TEST_TMP/gs-in" --no-run --yes --provider gcp --region us-central1

# --region with a zone: its region, and that zone; the record, history
# and status show it. (--no-run: the machines only, nothing to SSH to.)
gcp create "$proj" --provider gcp --region us-central1-b --no-run --yes \
	>"$TEST_TMP/z.out" 2>"$TEST_TMP/z.err" </dev/null
rc=$?
is 0 "$rc" "create --provider gcp --region us-central1-b --no-run exits 0"
[ "$rc" -eq 0 ] || diag "$(tail -5 "$TEST_TMP/z.err")"
id=$(tail -n 1 "$TEST_TMP/z.out")
is "us-central1 us-central1-b us-central1-b" \
	"$(rec_get "$id" 'r["region"] + " " + r["answers"]["zone"] + " " + r["zone"]')" \
	"the region is the zone's, the zone as given (answers and record)"
like "$(gcp status "$id")" "Where: +gcp us-central1 \(zone us-central1-b\)" "status shows the zone"
like "$(gcp history | grep "^$id")" "^$id +cloud +gcp-wiz +[a-z]+ +us-central1-b " \
	"history shows the zone in the REGION column"
is "us-central1-b" "$(gcp history --json | python3 -c 'import json,sys; print([r for r in json.load(sys.stdin) if r["id"] == sys.argv[1]][0]["zone"])' "$id")" \
	"history --json has the zone"
gcp cleanup "$id" --yes >/dev/null 2>&1
ok $? "cleanup of it exits 0"
# --zone with --region: that zone.
gcp create "$proj" --provider gcp --region us-central1 --zone us-central1-c --no-run --yes \
	>"$TEST_TMP/z.out" 2>"$TEST_TMP/z.err" </dev/null
rc=$?
is 0 "$rc" "create --region us-central1 --zone us-central1-c exits 0"
[ "$rc" -eq 0 ] || diag "$(tail -5 "$TEST_TMP/z.err")"
id=$(tail -n 1 "$TEST_TMP/z.out")
is "us-central1 us-central1-c" "$(rec_get "$id" 'r["region"] + " " + r["zone"]')" \
	"the record has the zone asked for"
gcp cleanup "$id" --yes >/dev/null 2>&1
ok $? "cleanup of it exits 0"

# Orphans: aws has credentials (moto), gcp nothing: gcp is skipped with a
# note, aws searched.
env -u GOOGLE_APPLICATION_CREDENTIALS "$FANOUT" cleanup --orphans \
	>"$TEST_TMP/o1.out" 2>"$TEST_TMP/o1.err" </dev/null
is 0 "$?" "orphans with gcp not set up: exit 0"
like "$(cat "$TEST_TMP/o1.err")" "not looking for gcp resources: no Google Cloud credentials" "gcp is skipped with a note"
like "$(cat "$TEST_TMP/o1.err")" "looking for fanout resources in us-east-1 \(aws\)" "aws is searched"
like "$(cat "$TEST_TMP/o1.out")" "^No orphans" "no orphans"
env -u GOOGLE_APPLICATION_CREDENTIALS "$FANOUT" cleanup --orphans --json \
	>"$TEST_TMP/o1.out" 2>"$TEST_TMP/o1.err" </dev/null
is 0 "$?" "the same with --json: exit 0"
is "[]" "$(tr -d ' \n' <"$TEST_TMP/o1.out")" "an empty array"
# Neither set up: an error naming both.
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_REGION -u AWS_DEFAULT_REGION \
	"$FANOUT" cleanup --orphans --json >"$TEST_TMP/o2.out" 2>"$TEST_TMP/o2.err" </dev/null
is 1 "$?" "orphans with nothing set up: exit 1"
like "$(grep '^fanout: ' "$TEST_TMP/o2.err")" "^fanout: cannot look for orphans: no provider of this build has credentials set up \(aws: .*; gcp: .*\)$" \
	"the error names each provider and why"
# --provider names the one to search: its failure is an error.
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_REGION -u AWS_DEFAULT_REGION \
	"$FANOUT" cleanup --orphans --provider gcp >"$TEST_TMP/o3.out" 2>"$TEST_TMP/o3.err" </dev/null
is 1 "$?" "cleanup --orphans --provider gcp with gcp not set up: exit 1"
like "$(grep '^fanout: ' "$TEST_TMP/o3.err")" "^fanout: cannot look for orphans with provider gcp: " \
	"a provider asked for must open"

refused "^fanout: cleanup: --provider goes with --orphans" "--provider without --orphans" -- \
	"$FANOUT" cleanup fo-20990101-abcd --provider gcp --yes
# Bad input to the orphan search: exit 2, one line naming the fix.
refused "^fanout: cleanup: --provider: no provider 'azure' in this build; providers: aws, gcp$" \
	"orphans with a provider not in the build" -- gcp cleanup --orphans --provider azure --yes
refused "^fanout: cleanup: --region: 'us-east-1' is not a region of provider gcp; give one of its regions \(such as us-central1\) or leave --region out$" \
	"orphans of gcp in an AWS region" -- gcp cleanup --orphans --provider gcp --region us-east-1 --yes
gcp cleanup --orphans --region us-central1-b --yes >"$TEST_TMP/oz.out" 2>"$TEST_TMP/oz.err" </dev/null
is 0 "$?" "orphans with --region a zone (as create takes it): exit 0"
like "$(cat "$TEST_TMP/oz.err")" "looking for fanout resources in us-central1 \(gcp\)" "gcp looks in that zone's region"
refused "^fanout: cleanup: --region: 'nowhere1' is no region of a provider in this build \(aws: us-east-1, .*; gcp: .*\)$" \
	"orphans in a region nobody has" -- gcp cleanup --orphans --region nowhere1 --yes

# A GCP run set whose record is lost: its instance and firewall rule are
# orphans, found with the gcp provider (both providers set up) and
# deleted by it, in their zone.
gcp create "$proj" --provider gcp --region us-central1 --zone us-central1-f --no-run --yes \
	>"$TEST_TMP/z.out" 2>"$TEST_TMP/z.err" </dev/null
ok $? "a kept run set in us-central1-f" || diag "$(tail -5 "$TEST_TMP/z.err")"
id=$(tail -n 1 "$TEST_TMP/z.out")
mv "$FANOUT_HISTORY_DIR/$id.json" "$TEST_TMP/lost.json"
gcp cleanup --orphans --json >"$TEST_TMP/o4.out" 2>"$TEST_TMP/o4.err" </dev/null
is "firewall gcp $id
instance gcp $id us-central1-f" "$(python3 -c '
import json, sys
for o in sorted(json.load(sys.stdin), key=lambda o: o["kind"]):
    print(" ".join(x for x in (o["kind"], o["provider"], o["run_set"] or "-", o.get("zone")) if x))' <"$TEST_TMP/o4.out")" \
	"the lost run set's firewall rule and instance, by provider gcp, the instance with its zone"
gcp cleanup --orphans --yes >"$TEST_TMP/o5.out" 2>"$TEST_TMP/o5.err" </dev/null
ok $? "cleanup --orphans --yes deletes them" || diag "$(tail -5 "$TEST_TMP/o5.err")"
like "$(cat "$TEST_TMP/o5.err")" "looking for fanout resources in us-central1 \(gcp\)" \
	"with both set up, gcp is searched too"
like "$(cat "$TEST_TMP/o5.err")" "looking for fanout resources in us-east-1 \(aws\)" \
	"and aws"
is "0 0" "$(curl -s --noproxy '*' "$GCP_URL/_fake/state" | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(len(s["instances"]), len(s["firewalls"]))')" \
	"the stand-in holds no instance and no firewall rule"

done_testing
