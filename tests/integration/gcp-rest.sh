#!/bin/bash
# The REST client (src/cloud/gcp.c) through tests/gcp-driver against the
# stand-in: instances and firewall rules with their operations polled to
# DONE, Google error bodies as one-line causes with the reason and kind,
# 503/429 answers retried, an operation that ends with an error, a token
# the API refuses fetched anew, storage listing, the endpoint overrides,
# and nothing off loopback.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-gcp.sh"
plan_lazy

gcp_key "$GCP_DIR/sa.json"
export GOOGLE_APPLICATION_CREDENTIALS="$GCP_DIR/sa.json"
drv() { "$GCP_DRIVER" "$@" 2>&1; }
P=projects/fanout-test
Z=$P/zones/us-central1-a
# statuses PATH-REGEX: the HTTP statuses the log has for it since mark.
mark() { m=$(gcp_log_lines); }
since() { tail -n +"$((m + 1))" "$GCP_LOG"; }
statuses() {
	since | python3 -c '
import json, re, sys
print(" ".join("%s:%s" % (e["method"], e["status"]) for e in map(json.loads, sys.stdin)
               if re.search(sys.argv[1], e["path"])))' "$1"
}
VM='{"name": "vm-1", "machineType": "zones/us-central1-a/machineTypes/e2-small",
 "labels": {"managed-by": "fanout", "fanout-run-set": "r1"},
 "tags": {"items": ["fanout-r1"]},
 "disks": [{"boot": true, "autoDelete": true, "initializeParams": {"sourceImage": "projects/debian-cloud/global/images/family/debian-12"}}],
 "networkInterfaces": [{"network": "global/networks/default", "accessConfigs": [{"type": "ONE_TO_ONE_NAT"}]}],
 "shieldedInstanceConfig": {"enableSecureBoot": true, "enableVtpm": true, "enableIntegrityMonitoring": true}}'

# An instance: insert, its zone operation polled to DONE.
mark
is "DONE insert" "$(drv op POST "$Z/instances?requestId=4f5c0a3e-1b2c-4d5e-8f90-0123456789ab" "$VM")" \
	"an insert's zone operation is polled to DONE"
like "$(since | grep -v /token)" '"method": "POST", "path": "/compute/v1/projects/fanout-test/zones/us-central1-a/operations/operation-[^"]*/wait"' \
	"with operations.wait on the zone's operation"
mark
out=$(drv call POST "$Z/instances?requestId=4f5c0a3e-1b2c-4d5e-8f90-0123456789ab" "$VM" | python3 -c 'import json,sys; print(json.load(sys.stdin)["operationType"])')
is "insert" "$out" "the same insert again with its requestId: the first one's operation, no alreadyExists"
is "POST:200" "$(statuses '/instances$')" "(one answer, 200)"
is "RUNNING" "$(drv call GET "$Z/instances/vm-1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')" \
	"the instance is RUNNING"
is "debian-12-bookworm-v20250610" "$(drv call GET projects/debian-cloud/global/images/family/debian-12 | python3 -c 'import json,sys; print(json.load(sys.stdin)["name"])')" \
	"the Debian 12 family's image"

# Google error bodies: one line with the reason, and the kind.
out=$(drv call GET "$Z/instances/nope")
is "error -2: GET projects/fanout-test/zones/us-central1-a/instances/nope: notFound: The resource 'projects/fanout-test/zones/us-central1-a/instances/nope' was not found (HTTP 404)" \
	"$out" "a 404 body: method, path, reason and message in one line (CLOUD_ENOTFOUND)"
out=$(drv call POST "$Z/instances" "$VM")
like "$out" "^error -3: POST projects/fanout-test/zones/us-central1-a/instances: alreadyExists: " \
	"an insert of a name taken: alreadyExists (CLOUD_EDUPLICATE)"
out=$(drv call GET "$P/zones/mars-north1-a")
like "$out" "^error -2: GET projects/fanout-test/zones/mars-north1-a: notFound: The resource 'projects/fanout-test/zones/mars-north1-a' was not found" \
	"a zone that does not exist is named"
gcp_ctl inject '{"method": "POST", "path": "/instances$", "status": 403, "reason": "quotaExceeded", "message": "Quota '"'CPUS'"' exceeded.  Limit: 8.0 in region us-central1.", "count": 1}' >/dev/null
out=$(drv op POST "$Z/instances" "${VM/vm-1/vm-q}")
is "error -1: POST projects/fanout-test/zones/us-central1-a/instances: quotaExceeded: Quota 'CPUS' exceeded.  Limit: 8.0 in region us-central1. (HTTP 403)" \
	"$out" "a quotaExceeded answer to the insert is final, with its reason"

# 503, 429: retried with backoff, then the answer.
gcp_ctl inject '{"method": "GET", "path": "/instances/vm-1$", "status": 503, "count": 1}' >/dev/null
mark
out=$(drv call GET "$Z/instances/vm-1")
like "$out" '"name":"vm-1"' "a GET answered 503 once is retried and succeeds"
is "GET:503 GET:200" "$(statuses '/instances/vm-1$')" "503, then the same request again"
gcp_ctl inject '{"method": "GET", "path": "/instances/vm-1$", "status": 429, "reason": "rateLimitExceeded", "count": 2}' >/dev/null
mark
out=$(drv call GET "$Z/instances/vm-1")
like "$out" '"name":"vm-1"' "a GET throttled twice (429) is retried and succeeds"
is "GET:429 GET:429 GET:200" "$(statuses '/instances/vm-1$')" "429, 429, then 200"
gcp_ctl inject '{"method": "GET", "path": "/instances/vm-1$", "status": 503, "count": 100}' >/dev/null
mark
out=$(GCP_DRIVER_RETRY_DEADLINE=1.5 drv call GET "$Z/instances/vm-1")
like "$out" "^error -5: GET projects/fanout-test/zones/us-central1-a/instances/vm-1: backendError: injected error 503 \(HTTP 503\)$" \
	"503 until the retry deadline: CLOUD_ETRANSIENT with the last cause"
n=$(statuses '/instances/vm-1$' | wc -w)
ok $((n < 2)) "more than one attempt was made ($n)"
gcp_ctl clear >/dev/null

# A token the API refuses: one new token, the call again.
gcp_ctl inject '{"method": "GET", "path": "/instances/vm-1$", "status": 401, "reason": "authError", "count": 1}' >/dev/null
mark
out=$(drv call GET "$Z/instances/vm-1")
like "$out" '"name":"vm-1"' "a 401 fetches a new token and the call succeeds"
is "POST:200 GET:401 POST:200 GET:200" "$(statuses '(/instances/vm-1|/token)$')" \
	"a token, 401, a new token, the call again"

# An operation that ends with an error: its errors are the cause.
gcp_ctl inject '{"method": "POST", "path": "/instances$", "op_error": {"code": "QUOTA_EXCEEDED", "message": "Quota '"'CPUS'"' exceeded.  Limit: 8.0 in region us-central1."}, "count": 1}' >/dev/null
out=$(drv op POST "$Z/instances" "${VM/vm-1/vm-2}")
like "$out" "^error -1: operation operation-[0-9a-f-]+ \(insert of vm-2\) failed: QUOTA_EXCEEDED: Quota 'CPUS' exceeded.  Limit: 8.0 in region us-central1.$" \
	"an operation DONE with an error: its code and message in one line"
like "$(drv call GET "$Z/instances/vm-2")" "^error -2: " "nothing was made"

# Stop, start (resume), a firewall rule (a global operation), the
# aggregated list by label, delete.
op=$(drv call POST "$Z/instances/vm-1/stop" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], d["name"])')
seen="${op%% *}"
for i in 1 2 3; do
	seen="$seen $(drv call GET "$Z/operations/${op#* }" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')"
done
is "PENDING RUNNING DONE DONE" "$seen" "a zone operation read with get goes PENDING, RUNNING, DONE"
is "DONE start" "$(drv op POST "$Z/instances/vm-1/start")" "start polled to DONE"
is "DONE stop" "$(drv op POST "$Z/instances/vm-1/stop")" "stop polled to DONE"
is "TERMINATED" "$(drv call GET "$Z/instances/vm-1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')" \
	"the instance is TERMINATED"
is "DONE start" "$(drv op POST "$Z/instances/vm-1/start")" "start polled to DONE"
FW='{"name": "fanout-r1-ssh", "network": "global/networks/default", "direction": "INGRESS",
 "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}], "sourceRanges": ["203.0.113.7/32"], "targetTags": ["fanout-r1"]}'
mark
is "DONE insert" "$(drv op POST "$P/global/firewalls" "$FW")" "a firewall insert polled to DONE"
like "$(since)" '"path": "/compute/v1/projects/fanout-test/global/operations/operation-[^"]*/wait"' \
	"on the global operation"
is "fanout-r1-ssh" "$(drv call GET "$P/global/firewalls?filter=name%3Dfanout-r1-ssh" | python3 -c 'import json,sys; print(" ".join(i["name"] for i in json.load(sys.stdin)["items"]))')" \
	"the rule is listed"
out=$(drv call GET "$P/aggregated/instances?filter=labels.fanout-run-set%3Dr1" | python3 -c '
import json, sys
d = json.load(sys.stdin)["items"]
print(" ".join("%s/%s" % (z, i["name"]) for z, v in sorted(d.items()) for i in v.get("instances", [])))')
is "zones/us-central1-a/vm-1" "$out" "aggregatedList finds the run set's instance by label"
is "DONE delete" "$(drv op DELETE "$P/global/firewalls/fanout-r1-ssh")" "the rule's delete polled to DONE"
is "DONE delete" "$(drv op DELETE "$Z/instances/vm-1")" "the instance's delete polled to DONE"
like "$(drv call GET "$Z/instances/vm-1")" "^error -2: .*notFound" "the instance is gone"

# Cloud Storage: a bucket, objects by prefix, pages.
gcp_ctl bucket '{"name": "fanout-bkt"}' >/dev/null
for o in in/a in/b in/c out/x; do
	gcp_ctl object '{"bucket": "fanout-bkt", "name": "'$o'", "data": "'$o'"}' >/dev/null
done
# A media upload as a client sends it, with a token for fanout's JWT.
tok=$(curl -s --noproxy '*' "$GCP_URL/token" \
	-d "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=$("$GCP_DRIVER" jwt)" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
printf 'media body' | curl -s --noproxy '*' -X POST -H "Authorization: Bearer $tok" \
	-H 'Content-Type: text/plain' --data-binary @- \
	"$GCP_URL/upload/storage/v1/b/fanout-bkt/o?uploadType=media&name=up/m" >/dev/null
is "up/m 10 text/plain" "$(drv call GET 'storage:b/fanout-bkt/o/up%2Fm' | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["name"], d["size"], d["contentType"])')" \
	"an uploadType=media upload is an object with its size and type"
like "$(drv call GET 'storage:b/fanout-bkt')" '"kind":"storage#bucket"' "a bucket's metadata"
out=$(drv call GET 'storage:b/fanout-bkt/o?prefix=in/&maxResults=2' | python3 -c '
import json,sys; d=json.load(sys.stdin); print(" ".join(i["name"] for i in d["items"]), d.get("nextPageToken"))')
is "in/a in/b 2" "$out" "objects by prefix, a page of 2 and a page token"
out=$(drv call GET 'storage:b/fanout-bkt/o?prefix=in/&maxResults=2&pageToken=2' | python3 -c '
import json,sys; d=json.load(sys.stdin); print(" ".join(i["name"] for i in d["items"]), d.get("nextPageToken"))')
is "in/c None" "$out" "the next page, the last"
like "$(drv call GET 'storage:b/no-such-bkt/o')" "^error -2: GET b/no-such-bkt/o: notFound: The specified bucket does not exist. \(HTTP 404\)" \
	"a missing bucket is named"

# Endpoints: the overrides are what was called; without a project, the
# message names where it looked.
gcp_key "$GCP_DIR/noproj.json" "" project_id
out=$(GOOGLE_APPLICATION_CREDENTIALS="$GCP_DIR/noproj.json" drv call GET "$P/zones")
is "error -1: no Google Cloud project: CLOUDSDK_CORE_PROJECT and GOOGLE_CLOUD_PROJECT are not set, gcloud's configuration sets none and $GCP_DIR/noproj.json (GOOGLE_APPLICATION_CREDENTIALS) names none; run gcloud config set project PROJECT_ID, or set CLOUDSDK_CORE_PROJECT=PROJECT_ID" \
	"$out" "no project: the message names the variables and the key"
out=$(CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE="http://127.0.0.1:$(free_port)/compute/v1" GCP_DRIVER_RETRY_DEADLINE=0 drv call GET "$P/zones")
like "$out" "^error -5: GET projects/fanout-test/zones: no answer from http://127.0.0.1:[0-9]+/compute/v1/projects/fanout-test/zones: " \
	"an override without a trailing slash is used as the base"
is 0 "$(gcp_outside)" "nothing went off loopback"
is 0 "$(gcp_unknown)" "nothing asked for that the stand-in does not serve"

done_testing
