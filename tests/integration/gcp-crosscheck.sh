#!/bin/bash
# fanout's Compute Engine requests beside gcloud's. fanout creates a run
# set (--keep: it runs, then the bastion is stopped), resumes it (start,
# run, stop), cleans it up and sweeps for orphans, against the stand-in;
# its requests are taken from the stand-in's log. For each operation
# fanout uses (instances insert/get/delete/start/stop/aggregatedList,
# firewalls insert/delete, zone and global operations wait) its requests
# must be gcloud's as recorded in tests/fakes/gcloud-requests.txt: method,
# path (names aside), query keys and body keys; and the key paths of the
# instance and firewall bodies (disks[].initializeParams.sourceImage, ...)
# must be those of tests/fakes/gcloud-bodies.txt for every top-level key
# both send. Where either side deliberately sends more, the difference is
# listed below as an allowance with its reason. Every other request fanout
# makes must be a read listed below. With gcloud installed, the body
# reference is checked against what gcloud sends now (GCP_RECORD=1
# rewrites it).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-gcp.sh"
. "$top_srcdir/tests/integration/lib-gcp-create.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
plan_lazy

REF="$top_srcdir/tests/fakes/gcloud-requests.txt"
BODIES="$top_srcdir/tests/fakes/gcloud-bodies.txt"

# gcloud's instance and firewall bodies, as key paths (the reference).
gcloud_bodies() {
	python3 - "$GCP_LOG" "$1" <<'PY'
import json, re, sys
es = [json.loads(l) for l in open(sys.argv[1])][int(sys.argv[2]):]
for name, pat in (("instances create", r"/zones/[^/]+/instances$"),
                  ("firewall-rules create", r"/global/firewalls$")):
    e = [e for e in es if e["method"] == "POST" and re.search(pat, e["path"])][0]
    print("## %s\n%s" % (name, " ".join(e["body_paths"])))
PY
}
if command -v gcloud >/dev/null 2>&1; then
	n=$(gcp_log_lines)
	(
		gcloud_setup || exit 1
		gcloud compute instances create vm-a --zone us-central1-a \
			--machine-type e2-small --image-family debian-12 \
			--image-project debian-cloud \
			--labels managed-by=fanout,fanout-run-set=r1 --tags fanout-r1 \
			--metadata 'block-project-ssh-keys=true,ssh-keys=fanout:ssh-ed25519 AAAAC3Nz fanout' \
			--shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring \
			--no-service-account --no-scopes &&
		gcloud compute firewall-rules create fanout-r1-ssh \
			--network default --direction INGRESS --allow tcp:22 \
			--source-ranges 203.0.113.7/32 --target-tags fanout-r1
	) >"$GCP_DIR/gcloud.out" 2>&1
	ok $? "gcloud makes an instance and a rule as fanout's are made" ||
		diag "$(tail -3 "$GCP_DIR/gcloud.out")"
	gcloud_bodies "$n" >"$GCP_DIR/gcloud-bodies.txt"
	if [ -n "${GCP_RECORD:-}" ]; then
		cp "$GCP_DIR/gcloud-bodies.txt" "$BODIES"
		diag "rewrote tests/fakes/gcloud-bodies.txt"
	fi
	is "" "$(diff "$BODIES" "$GCP_DIR/gcloud-bodies.txt")" \
		"gcloud's instance and rule bodies are the recorded reference"
	gcp_ctl reset >/dev/null
else
	skip "gcloud not installed: the body reference is not checked against it"
fi

# fanout: create (run, stop), resume (start, run, stop), cleanup, orphans.
sshd_setup 127.0.0.1
sshd_start
sshd_as_bastion
start=$(gcp_log_lines)
"$FANOUT" create "$GCP_PROJ" --provider gcp --engine bastion --files 2 --keep --yes \
	>"$TEST_TMP/id" 2>"$TEST_TMP/create.err"
ok $? "fanout create --keep (runs, then stops the bastion)" || diag "$(tail -5 "$TEST_TMP/create.err")"
id=$(cat "$TEST_TMP/id")
"$FANOUT" resume "$id" >/dev/null 2>"$TEST_TMP/resume.err"
ok $? "fanout resume (starts the bastion, runs, stops it)" || diag "$(tail -5 "$TEST_TMP/resume.err")"
"$FANOUT" cleanup "$id" --yes >/dev/null 2>"$TEST_TMP/cleanup.err"
ok $? "fanout cleanup" || diag "$(tail -5 "$TEST_TMP/cleanup.err")"
# The orphan sweep (aggregatedList) when cleanup can be pointed at GCP.
if "$FANOUT" cleanup --help 2>&1 | grep -q -- '--provider'; then
	"$FANOUT" cleanup --orphans --provider gcp --yes >/dev/null 2>"$TEST_TMP/orphans.err"
	ok $? "fanout cleanup --orphans --provider gcp" || diag "$(tail -5 "$TEST_TMP/orphans.err")"
	orphans=1
else
	skip "cleanup --orphans has no --provider in this build: aggregatedList is not compared"
	orphans=0
fi
is "0 0" "$(gcp_left)" "nothing is left"

python3 - "$GCP_LOG" "$start" "$REF" "$BODIES" "$orphans" >"$GCP_DIR/cross.tap" <<'PY'
import json, re, sys

log, start, ref, bodies = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
orphans = sys.argv[5] == "1"
P = "/compute/v1/projects/fanout-test"
# Names (zones, instances, rules, operations: the reference's are OP).

# The operations compared: gcloud's step in the reference and the path
# of the call (both sides' paths must match it, names aside).
OPS = [
    ("instances insert", "instances create", "POST", P + r"/zones/N/instances"),
    ("instances get", "instances describe", "GET", P + r"/zones/N/instances/N"),
    ("instances stop", "instances stop", "POST", P + r"/zones/N/instances/N/stop"),
    ("instances start", "instances start", "POST", P + r"/zones/N/instances/N/start"),
    ("instances delete", "instances delete", "DELETE", P + r"/zones/N/instances/N"),
    ("instances aggregatedList", "instances list", "GET", P + r"/aggregated/instances"),

    ("firewalls insert", "firewall-rules create", "POST", P + r"/global/firewalls"),
    ("firewalls delete", "firewall-rules delete", "DELETE", P + r"/global/firewalls/N"),
    ("zone operations wait", "instances stop", "POST", P + r"/zones/N/operations/N/wait"),
    ("global operations wait", "firewall-rules create", "POST", P + r"/global/operations/N/wait"),
]
# Allowances: (operation, "query"|"body"|"path", "+key" fanout sends more
# / "-key" gcloud sends more, reason).
ALLOW = [
    ("*", "query", "-alt", "gcloud asks alt=json; JSON is the API's default answer"),
    ("instances insert", "query", "+requestId", "crash safety: recorded in the intent before the insert, so a retried insert runs once"),
    ("firewalls insert", "query", "+requestId", "crash safety: recorded in the intent before the insert, so a retried insert runs once"),
    ("instances aggregatedList", "query", "+filter", "fanout asks Google for its labels only; gcloud filters on its side"),
    ("instances aggregatedList", "query", "-includeAllScopes", "gcloud asks for every scope, empty ones too; fanout reads the scopes that hold instances"),
    ("instances aggregatedList", "query", "-maxResults", "fanout takes the API's page size (500) and follows nextPageToken"),
    ("instances aggregatedList", "query", "-returnPartialSuccess", "fanout wants an error, not a partial list, when a zone cannot be listed: an orphan must not be missed"),
    ("instances insert", "body", "+description", "names the run set, as the console shows it"),
    ("instances insert", "body", "+serviceAccounts", "sent explicitly: [] (no account) or the run set's own; gcloud --no-service-account leaves the key out, which means the same"),
    ("instances insert", "body", "-canIpForward", "false is the API's default"),
    ("instances insert", "body", "-deletionProtection", "false is the API's default"),
    ("instances insert", "body", "-scheduling", "gcloud sends automaticRestart: true, the API's default (fanout sends scheduling for spot only)"),
    ("instances insert", "paths", "+disks[].initializeParams.diskSizeGb", "a 30 GB boot disk (the image's 10 GB is too small for a project's setup)"),
    ("instances insert", "paths", "+disks[].initializeParams.diskType", "pd-balanced, named"),
    ("instances insert", "paths", "+disks[].initializeParams.labels*", "the boot disk carries the run set's labels, so an orphaned disk is found"),
    ("instances insert", "paths", "+labels.fanout-name", "a label value, not a key of the API: the run set's name"),
    ("instances insert", "paths", "+labels.fanout-project", "a label value, not a key of the API: the project's name"),
    ("firewalls insert", "body", "+description", "rules carry no labels: the description names the run set (orphans are found by it)"),
    ("firewalls insert", "body", "+priority", "1000, the API's default, named"),
]
# Reads fanout makes that gcloud's commands above do not: each with why.
READS = [
    ("GET", P, "the identity step: the project exists and the credentials may use it"),
    ("GET", P + r"/zones", "the region's zones, to pick one that is UP"),
    ("GET", P + r"/zones/N", "the zone's status (gcloud instances create reads it too)"),
    ("GET", P + r"/zones/N/machineTypes/N", "the machine type is checked in the zone before anything is made"),
    ("GET", "/compute/v1/projects/debian-cloud/global/images/family/debian-12", "the newest Debian 12 image, named in the record"),
    ("GET", P + r"/global/networks/default", "the network's selfLink for the rule and the instance"),
    ("GET", P + r"/global/firewalls/N", "the rule's id after its insert (gcloud firewall-rules create reads it too)"),
    ("GET", P + r"/global/firewalls", "the orphan sweep lists fanout's rules"),
    ("GET", P + r"/global/operations", "recovery of an insert in flight (gcp_insert_settle)"),
    ("GET", P + r"/zones/N/operations", "recovery of an insert in flight (gcp_insert_settle)"),
    ("GET", "/iam/v1" + P[len("/compute/v1"):] + r"/serviceAccounts", "the orphan sweep lists fanout's service accounts (IAM; gcp-iam-gcloud.sh checks IAM's requests against gcloud's)"),
]

def rx(p):
    """A path pattern: N is a name (the reference's operations are OP)."""
    return p.replace("/N", "/[A-Za-z0-9-]+")

def allowed(op, what, sign):
    return {k[1:] for o, w, k, _ in ALLOW
            if (o == op or o == "*") and w == what and k[0] == sign}

def match_star(keys, pats):
    out = set()
    for k in keys:
        for p in pats:
            if k == p or (p.endswith("*") and k.startswith(p[:-1])):
                out.add(k)
    return out

ref_ops, sec = {}, None
for l in open(ref):
    l = l.rstrip("\n")
    if l.startswith("## "):
        sec = l[3:]
        ref_ops[sec] = []
    elif l:
        m, p, q, b = l.split(" ")
        ref_ops[sec].append((m, p, set(filter(None, q[6:].split(","))),
                             set(filter(None, b[5:].split(",")))))
ref_paths, sec = {}, None
for l in open(bodies):
    l = l.rstrip("\n")
    if l.startswith("## "):
        sec = l[3:]
    elif l:
        ref_paths[sec] = set(l.split())

es = [json.loads(l) for l in open(log)][start:]
es = [e for e in es if e["path"] != "/token" and not e.get("injected")]
n = 0
def ok(cond, desc, diag=None):
    global n
    n += 1
    print("%sok %d - %s" % ("" if cond else "not ", n, desc))
    if not cond and diag:
        print("# " + str(diag).replace("\n", "\n# "))

seen = set()
for op, step, method, pat in OPS:
    show = pat[len(P) + 1:].replace("N", "NAME")
    pat = rx(pat)
    if op == "instances aggregatedList" and not orphans:
        print("ok %d # skip no orphan sweep for GCP in this build" % (n + 1))
        n += 1
        continue
    mine = [e for e in es if e["method"] == method and re.fullmatch(pat, e["path"])]
    for e in mine:
        seen.add(id(e))
    theirs = [r for r in ref_ops.get(step, []) if r[0] == method and re.fullmatch(pat, r[1])]
    if not mine or not theirs:
        ok(False, "fanout's %s is gcloud's" % op,
           "fanout made %d, gcloud's reference has %d" % (len(mine), len(theirs)))
        continue
    _, _, tq, tb = theirs[0]
    bad = []
    for e in mine:
        q, b = set(e["query"]), set(e["body_keys"])
        for what, a, t in (("query", q, tq), ("body", b, tb)):
            more = a - t - allowed(op, what, "+")
            less = t - a - allowed(op, what, "-")
            if more or less:
                bad.append("%s %s: %s keys fanout adds %s, lacks %s" % (
                    e["method"], e["path"], what, sorted(more), sorted(less)))
    ok(not bad, "fanout's %s is gcloud's: %s %s, query and body keys (%d request(s))" % (
        op, method, show, len(mine)), "\n".join(sorted(set(bad))))

# The bodies, key path by key path, under the keys both send.
for op, step, pat in (("instances insert", "instances create", P + r"/zones/N/instances"),
                      ("firewalls insert", "firewall-rules create", P + r"/global/firewalls")):
    e = [e for e in es if e["method"] == "POST" and re.fullmatch(rx(pat), e["path"])]
    if not e or step not in ref_paths:
        ok(False, "the key paths of fanout's %s body" % op, "no request or no reference")
        continue
    mine, theirs = set(e[0]["body_paths"]), ref_paths[step]
    both = {k.split(".")[0].split("[")[0] for k in mine} & \
        {k.split(".")[0].split("[")[0] for k in theirs}
    under = lambda s: {k for k in s if k.split(".")[0].split("[")[0] in both}
    more = under(mine) - under(theirs)
    more -= match_star(more, allowed(op, "paths", "+"))
    less = under(theirs) - under(mine)
    less -= match_star(less, allowed(op, "paths", "-"))
    ok(not more and not less,
       "the key paths of fanout's %s body under the keys gcloud also sends are gcloud's (%d paths)" % (
           op, len(under(theirs))),
       "fanout adds %s, lacks %s" % (sorted(more), sorted(less)))

# Everything else fanout asked for is a listed read.
other = [e for e in es if id(e) not in seen and not any(
    e["method"] == m and re.fullmatch(rx(p), e["path"]) for m, p, _ in READS)]
ok(not other, "every other request of fanout's is a listed read (%d kinds)" % len(READS),
   "\n".join(sorted({"%s %s" % (e["method"], e["path"]) for e in other})))
# Errors: none but the 404 of a read that sees a deleted instance gone.
errs = [e for e in es if e.get("status", 0) >= 400 and not (
    e["method"] == "GET" and e["status"] == 404 and
    re.fullmatch(rx(P + "/zones/N/instances/N"), e["path"]))]
ok(not errs, "every request of fanout's was answered without an error "
   "(but the 404 that shows a deleted instance gone)",
   "\n".join("%s %s %s" % (e["method"], e["path"], e["status"]) for e in errs))
for o, w, k, why in ALLOW:
    print("# allowance: %s %s %s: %s" % (o, w, k, why))
PY
# The comparer's lines are this test's assertions.
while IFS= read -r line; do
	case $line in
	"ok "*"# skip "*) skip "${line#*# skip }" ;;
	"ok "*) ok 0 "${line#ok * - }" ;;
	"not ok "*) ok 1 "${line#not ok * - }" ;;
	"# "*) diag "${line#\# }" ;;
	esac
done <"$GCP_DIR/cross.tap"
[ -s "$GCP_DIR/cross.tap" ] || ok 1 "the comparison ran"
is 0 "$(gcp_outside)" "nothing went off loopback"
done_testing
