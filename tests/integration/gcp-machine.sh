#!/bin/bash
# The machines and places of a GCP create, against the recording stand-in
# (--no-run: nothing runs): the plan's identity and prices, the default
# machine type, a type named checked in the zone (machineTypes.get), the
# cheapest type of the price table that fits --cpus/--memory in the zone
# (machineTypes.list, shared-core types left out), spot, the region and
# zone from gcloud's settings, zones that are down, and bad input (exit
# 2, one line, nothing made).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-gcp.sh"
plan_lazy

CHECKIP_PORT=$(free_port)
python3 "$top_srcdir/tests/fakes/checkip.py" "$CHECKIP_PORT" 203.0.113.9 &
at_exit "kill $! 2>/dev/null"
wait_port "$CHECKIP_PORT" 20 || bail "checkip stand-in did not start"
export FANOUT_CHECKIP_URL="http://127.0.0.1:$CHECKIP_PORT/"
gcp_key "$GCP_DIR/sa.json"
export GOOGLE_APPLICATION_CREDENTIALS="$GCP_DIR/sa.json"
unset CLOUDSDK_COMPUTE_REGION CLOUDSDK_COMPUTE_ZONE

rec_get() { # rec_get ID PYTHON-EXPR-ON-r
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$FANOUT_HISTORY_DIR/$1.json" "$2" 2>/dev/null
}
gcp_state() { # gcp_state PYTHON-EXPR-ON-s
	curl -s --noproxy '*' "$GCP_URL/_fake/state" -X POST -H 'Content-Type: application/json' -d '{}' |
		python3 -c 'import json,sys; s=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}
inserted() { # the last instance body inserted: inserted PYTHON-SUFFIX
	gcp_state "[i['body'] for i in s['inserts'] if i['path'].endswith('/instances')][-1]$1"
}
proj=$(example sleep)
mk() { # mk NAME ARGS...: create --no-run, then cleanup; stderr in NAME.err
	_n=$1
	shift
	"$FANOUT" create --no-run "$proj" --provider gcp --yes "$@" >"$TEST_TMP/$_n.id" 2>"$TEST_TMP/$_n.err"
	_rc=$?
	[ -s "$TEST_TMP/$_n.id" ] && "$FANOUT" cleanup "$(cat "$TEST_TMP/$_n.id")" --yes >/dev/null 2>&1
	return $_rc
}
refused() { # refused NAME PATTERN DESCRIPTION ARGS...: exit 2, one line
	_n=$1 _p=$2 _d=$3
	shift 3
	_before=$(gcp_state 'len(s["inserts"])')
	mk "$_n" "$@"
	is "2 1" "$? $(wc -l <"$TEST_TMP/$_n.err")" "$_d: exit 2, one line"
	like "$(cat "$TEST_TMP/$_n.err")" "$_p" "$_d: the line says what to fix"
	is "$_before" "$(gcp_state 'len(s["inserts"])')" "$_d: nothing was made"
}

mk plain
ok $? "create --no-run --provider gcp exits 0"
like "$(cat "$TEST_TMP/plain.err")" 'Account: fanout-test@fanout-test.iam.gserviceaccount.com \(project fanout-test\)' \
	"the plan names the service account and the project"
like "$(cat "$TEST_TMP/plain.err")" 'Machines: e2-standard-2: 2 vCPUs 8 GiB, \$0.067006/h, the default' \
	"the default machine type, with its price"
like "$(cat "$TEST_TMP/plain.err")" 'us-central1 on-demand prices of 20[0-9-]+ \(data/gcp-prices.json\)' \
	"the prices are dated estimates of the table"
is "e2-standard-2" "$(inserted '["machineType"]' | sed 's|.*/||')" "the instance is an e2-standard-2"

mk cpus --cpus 4 --memory 10
ok $? "--cpus 4 --memory 10 exits 0"
like "$(cat "$TEST_TMP/cpus.err")" 'Machines: e2-standard-4: 4 vCPUs 16 GiB, \$0.134012/h; the cheapest of [0-9]+ types with >= 4 vCPUs and >= 10 GiB in us-central1-a \(shared-core types left out\)' \
	"the cheapest type of the table that fits, in the zone, and why"
is "e2-standard-4" "$(inserted '["machineType"]' | sed 's|.*/||')" "the instance is that type"

mk named --instance-type n2d-standard-4
ok $? "--instance-type n2d-standard-4 exits 0"
is "n2d-standard-4" "$(inserted '["machineType"]' | sed 's|.*/||')" "the instance is the type named"
like "$(cat "$TEST_TMP/named.err")" 'n2d-standard-4: 4 vCPUs 16 GiB, \$0.168984/h, as given' "the plan says it was given"

mk spot --spot
ok $? "--spot exits 0"
is "SPOT STOP" "$(inserted '["scheduling"]["provisioningModel"]') $(inserted '["scheduling"]["instanceTerminationAction"]')" \
	"spot: provisioningModel SPOT, stopped (not deleted) when reclaimed"

refused bogus "machine type 'e9-huge-7' is not offered in zone us-central1-a; choose one the zone has \(.gcloud compute machine-types list --zones us-central1-a.\)" \
	"a machine type the zone lacks" --instance-type e9-huge-7
refused big "nothing fits: no machine type of zone us-central1-a .* has >= 64 vCPUs and >= 1000 GiB" \
	"a size nothing fits" --cpus 64 --memory 1000
refused region "mars-1" "a region GCP does not have" --region mars-1
refused mem "nothing fits: no machine type of zone us-central1-a .* has >= 5000 GiB; the largest is [a-z0-9-]+ \([0-9]+ vCPUs, [0-9.]+ GiB\); ask for less" \
	"memory alone nothing fits: says only what was asked, and the largest type" --memory 5000
# The zone's machine types over several pages: the same pick.
gcp_ctl page '{"size": 3}' >/dev/null
mk paged --cpus 4 --memory 10
like "$(cat "$TEST_TMP/paged.err")" 'Machines: e2-standard-4: 4 vCPUs 16 GiB, \$0.134012/h; the cheapest of [0-9]+ types' \
	"machineTypes.list read page after page (3 a page): the same cheapest type"
gcp_ctl page '{"size": 0}' >/dev/null

# Zones that are down are passed over; none up is bad input.
gcp_ctl zone '{"name": "europe-west1-b", "status": "DOWN"}' >/dev/null
gcp_ctl zone '{"name": "europe-west1-c", "status": "DOWN"}' >/dev/null
mk eu --region europe-west1
ok $? "europe-west1 with two zones down exits 0"
is "europe-west1-d" "$(inserted '["machineType"]' | cut -d/ -f2)" "the instance goes to the zone that is up"
refused c2d "machine type 'c2d-standard-2' is not offered in zone europe-west1-d" \
	"a type that zone lacks" --region europe-west1 --instance-type c2d-standard-2
gcp_ctl zone '{"name": "europe-west1-d", "status": "DOWN"}' >/dev/null
refused nozone "region europe-west1 has no zone that is UP in project fanout-test" \
	"a region with no zone up" --region europe-west1
gcp_ctl reset >/dev/null

# The region and zone from gcloud's settings.
CLOUDSDK_COMPUTE_REGION=europe-west1 mk env
is "europe-west1" "$(rec_get "$(cat "$TEST_TMP/env.id")" 'r["region"]')" "CLOUDSDK_COMPUTE_REGION names the region"
CLOUDSDK_COMPUTE_ZONE=europe-west1-c mk envz
is "europe-west1 europe-west1-c" "$(rec_get "$(cat "$TEST_TMP/envz.id")" 'r["region"] + " " + r["zone"]')" \
	"CLOUDSDK_COMPUTE_ZONE names the zone, and its region"
mkdir -p "$TEST_TMP/gc/configurations"
echo work >"$TEST_TMP/gc/active_config"
printf '[core]\nproject = fanout-test\n\n[compute]\nregion = europe-west1\nzone = europe-west1-d\n' \
	>"$TEST_TMP/gc/configurations/config_work"
CLOUDSDK_CONFIG="$TEST_TMP/gc" mk conf
is "europe-west1 europe-west1-d" "$(rec_get "$(cat "$TEST_TMP/conf.id")" 'r["region"] + " " + r["zone"]')" \
	"gcloud's active configuration names region and zone"
CLOUDSDK_CONFIG="$TEST_TMP/gc" mk confr --region us-central1
is "us-central1 us-central1-a" "$(rec_get "$(cat "$TEST_TMP/confr.id")" 'r["region"] + " " + r["zone"]')" \
	"--region wins; the configured zone of another region is not taken"
is "0" "$(gcp_state 'len(s["instances"])')" "every run set was cleaned up"
done_testing
