#!/bin/bash
# Machine size: with cpus/memory and no instance type, `fanout create`
# picks the cheapest type in the region that fits. Table-driven against
# moto_server: for each size, the type expected is computed here from
# moto's DescribeInstanceTypes (through the aws CLI: x86_64, current
# generation, not burstable) and the price table fanout ships
# (data/aws-prices.json), and compared with what fanout picked, said and
# made. Then where the size comes from (CLI > answers file > fanout.yaml),
# "nothing fits", a type the region lacks, cpus 0 and a damaged price
# table: each refused in one line, exit 2 (or 1), nothing made.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
plan_lazy

prices="$top_srcdir/data/aws-prices.json"
awsq ec2 describe-instance-types \
	--filters Name=processor-info.supported-architecture,Values=x86_64 \
	Name=current-generation,Values=true \
	--query 'InstanceTypes[].[InstanceType,VCpuInfo.DefaultVCpus,MemoryInfo.SizeInMiB,BurstablePerformanceSupported]' \
	>"$TEST_TMP/types.txt"
ok $? "the aws CLI lists moto's instance types"
diag "moto lists $(wc -l <"$TEST_TMP/types.txt") x86_64 current types"

# expect CPUS GIB: the cheapest priced type with at least that (0: any),
# ties by name; "none" when none.
expect() {
	python3 - "$prices" "$TEST_TMP/types.txt" "$1" "$2" <<'PY'
import json, sys
od = json.load(open(sys.argv[1]))["on_demand"]
cpus, gib = int(sys.argv[3]), float(sys.argv[4])
fit = []
for line in open(sys.argv[2]):
    name, v, mib, burst = line.split()
    if burst == "True" or name not in od:
        continue
    if int(v) >= cpus and int(mib) / 1024 >= gib:
        fit.append((od[name], name))
print(min(fit)[1] if fit else "none")
PY
}

proj=$(example sleep)
n=0
# cpus memory (0: not given)
for size in "2 0" "0 8" "4 8" "8 16" "2 16" "16 32" "8 64" "32 0" "1 0.5"; do
	set -- $size
	want=$(expect "$1" "$2")
	opts=""
	[ "$1" != 0 ] && opts="$opts --cpus $1"
	[ "$2" != 0 ] && opts="$opts --memory $2"
	n=$((n + 1))
	# shellcheck disable=SC2086
	"$FANOUT" create "$proj" $opts --no-run --cleanup-after --yes \
		>"$TEST_TMP/s$n.out" 2>"$TEST_TMP/s$n.err"
	rc=$?
	id=$(cat "$TEST_TMP/s$n.out")
	is "0 $want" "$rc $(rec_get "$id" 'r["answers"]["instance_type"]')" \
		"cpus $1 memory $2: the record's answers name $want, the cheapest that fits"
	like "$(cat "$TEST_TMP/s$n.err")" "Machines: ${want//./\\.}: [0-9]+ vCPUs? [0-9.]+ GiB, \\\$[0-9.]+/h; the cheapest of [0-9]+ types with >= " \
		"cpus $1 memory $2: the plan says what was picked and why"
	is "$want" "$(awsq ec2 describe-instances --filters "Name=tag:fanout:run-set,Values=$id" \
		--query 'Reservations[].Instances[].InstanceType')" \
		"cpus $1 memory $2: the aws CLI: the bastion made is a $want"
done
like "$(cat "$TEST_TMP/s4.err")" "Machines: c6a\\.2xlarge: 8 vCPUs 16 GiB, \\\$0\\.306/h; the cheapest of [0-9]+ types with >= 8 vCPUs and >= 16 GiB in us-east-1 \\(burstable types left out\\), prices of 2024-06-01; [0-9]+ types that fit have no price in fanout's table and were not considered" \
	"8 vCPUs and 16 GiB: the whole line, the types without a price said"
is "8 16.0 0.306 True" "$(rec_get "$(cat "$TEST_TMP/s4.out")" \
	'" ".join(str(r["answers"]["machine"][k]) for k in ("vcpus", "memory_gib", "hourly_usd", "picked"))')" \
	"the record keeps the machine: 8 vCPUs, 16 GiB, \$0.306/h, picked"
is "0 0 0" "$(tagged_counts)" "each was torn down"

# Where the size comes from: the CLI over an answers file over fanout.yaml.
cp -R "$proj" "$TEST_TMP/sized"
printf 'resources:\n  cpus: 16\n  memory: 32\n' >>"$TEST_TMP/sized/fanout.yaml"
printf 'cpus: 4\nmemory: 8\n' >"$TEST_TMP/ans.yaml"
"$FANOUT" create "$TEST_TMP/sized" --no-run --cleanup-after --yes >"$TEST_TMP/p1" 2>/dev/null
is "$(expect 16 32)" "$(rec_get "$(cat "$TEST_TMP/p1")" 'r["answers"]["instance_type"]')" \
	"fanout.yaml's resources alone: the type for 16 vCPUs and 32 GiB"
"$FANOUT" create "$TEST_TMP/sized" --answers "$TEST_TMP/ans.yaml" --no-run --cleanup-after --yes >"$TEST_TMP/p2" 2>/dev/null
is "$(expect 4 8)" "$(rec_get "$(cat "$TEST_TMP/p2")" 'r["answers"]["instance_type"]')" \
	"an answers file's cpus/memory over fanout.yaml's"
"$FANOUT" create "$TEST_TMP/sized" --answers "$TEST_TMP/ans.yaml" --cpus 2 --memory 16 --no-run --cleanup-after --yes >"$TEST_TMP/p3" 2>/dev/null
is "$(expect 2 16) 2" "$(rec_get "$(cat "$TEST_TMP/p3")" 'r["answers"]["instance_type"] + " " + str(r["answers"]["cpus"])')" \
	"--cpus/--memory over both, and the answers keep them"
"$FANOUT" create "$TEST_TMP/sized" --instance-type m5.large --no-run --cleanup-after --yes >"$TEST_TMP/p4" 2>"$TEST_TMP/p4.err"
is "m5.large" "$(rec_get "$(cat "$TEST_TMP/p4")" 'r["answers"]["instance_type"]')" \
	"a type given is taken as given"
like "$(cat "$TEST_TMP/p4.err")" "Machines: m5\\.large: 2 vCPUs 8 GiB, \\\$0\\.096/h, as given, though resources asks for >= 16 vCPUs and >= 32 GiB" \
	"and said to be smaller than resources asks"

# Nothing fits: a clear line naming the largest, exit 2, nothing made.
before=$(ls "$FANOUT_HISTORY_DIR" | wc -l)
largest=$(python3 - "$TEST_TMP/types.txt" <<'PY'
import sys
t = [(int(v), int(m), n) for n, v, m, b in (l.split() for l in open(sys.argv[1])) if b != "True"]
v, m, n = max(t)
print("%s (%d vCPUs %g GiB)" % (n, v, m / 1024))
PY
)
"$FANOUT" create "$proj" --cpus 1024 --yes >"$TEST_TMP/nf.out" 2>"$TEST_TMP/nf.err"
is 2 $? "cpus 1024: nothing fits, exit 2"
is "fanout: nothing fits: no instance type in us-east-1 has >= 1024 vCPUs; the largest available is $largest" \
	"$(cat "$TEST_TMP/nf.err")" "one line naming the largest the region has"
"$FANOUT" create "$proj" --cpus 100 --yes >/dev/null 2>"$TEST_TMP/nf2.err"
is 2 $? "cpus 100: nothing among the priced types fits, exit 2"
like "$(cat "$TEST_TMP/nf2.err")" "^fanout: nothing fits among the types fanout has prices for \\(data/aws-prices\\.json, of 2024-06-01\\): none has >= 100 vCPUs, the largest of them is [a-z0-9.]+ \\([0-9]+ vCPUs [0-9.]+ GiB\\); [0-9]+ types in us-east-1 fit but have no price there: name one with --instance-type" \
	"one line: the largest priced, and that unpriced ones fit"
is 1 "$(wc -l <"$TEST_TMP/nf2.err")" "a single line"

# A type the region lacks: made up, and one that moto knows but does not
# offer in us-east-1.
"$FANOUT" create "$proj" --instance-type zz9.large --yes >/dev/null 2>"$TEST_TMP/lack.err"
is 2 $? "an instance type that does not exist: exit 2"
is "fanout: instance type 'zz9.large' is not offered in us-east-1; choose one the region has (aws ec2 describe-instance-type-offerings)" \
	"$(cat "$TEST_TMP/lack.err")" "one line naming it and the region"
awsq ec2 describe-instance-types --query 'InstanceTypes[].InstanceType' | tr '\t' '\n' | sort >"$TEST_TMP/all"
awsq ec2 describe-instance-type-offerings --query 'InstanceTypeOfferings[].InstanceType' | tr '\t' '\n' | sort >"$TEST_TMP/offered"
absent=$(comm -23 "$TEST_TMP/all" "$TEST_TMP/offered" | head -1)
if [ -n "$absent" ]; then
	"$FANOUT" create "$proj" --instance-type "$absent" --yes >/dev/null 2>"$TEST_TMP/lack2.err"
	is 2 $? "$absent, a type moto has but not in us-east-1: exit 2"
	like "$(cat "$TEST_TMP/lack2.err")" "^fanout: instance type '${absent//./\\.}' is not offered in us-east-1" \
		"refused, naming it"
else
	skip "moto offers every type it knows in us-east-1"
fi

# cpus 0: refused by fanout.yaml's reader and by the option.
cp -R "$proj" "$TEST_TMP/zero"
printf 'resources:\n  cpus: 0\n' >>"$TEST_TMP/zero/fanout.yaml"
"$FANOUT" create "$TEST_TMP/zero" --yes >/dev/null 2>"$TEST_TMP/z1.err"
is 2 $? "fanout.yaml's cpus: 0: exit 2"
like "$(cat "$TEST_TMP/z1.err")" "resources\\.cpus" "the message names resources.cpus"
is 1 "$(wc -l <"$TEST_TMP/z1.err")" "in one line"
"$FANOUT" create "$proj" --cpus 0 --yes >/dev/null 2>"$TEST_TMP/z2.err"
is 2 $? "--cpus 0: exit 2"
is "fanout: --cpus: must be a whole number from 1 to 1024, not '0'" "$(cat "$TEST_TMP/z2.err")" \
	"one line: what --cpus takes"
printf 'project: %s\ncpus: 0\n' "$proj" >"$TEST_TMP/zero.yaml"
"$FANOUT" create --answers "$TEST_TMP/zero.yaml" --yes >/dev/null 2>"$TEST_TMP/z3.err"
is 2 $? "cpus: 0 in an answers file: exit 2"
is "$before" "$(ls "$FANOUT_HISTORY_DIR" | wc -l)" "none of the refused made a history record"
is "0 0 0" "$(tagged_counts)" "nor anything in EC2"

# The price table is read and checked: damaged, a clear error, not a crash.
data="$TEST_TMP/data"
mkdir -p "$data/data"
printf '{"date": "2024-06-01", "on_demand": {' >"$data/data/aws-prices.json"
FANOUT_DATA_DIR="$data" "$FANOUT" create "$proj" --no-run --yes >/dev/null 2>"$TEST_TMP/bad.err"
is 1 $? "a truncated price table: exit 1"
like "$(cat "$TEST_TMP/bad.err")" "aws-prices\\.json:1: .*; reinstall fanout or set FANOUT_DATA_DIR" \
	"the message names the file and line"
python3 - "$prices" "$data/data/aws-prices.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
t["on_demand"]["c6a.large"] = -1
json.dump(t, open(sys.argv[2], "w"))
PY
FANOUT_DATA_DIR="$data" "$FANOUT" create "$proj" --no-run --yes >/dev/null 2>"$TEST_TMP/bad2.err"
is 1 $? "a negative price: exit 1"
like "$(cat "$TEST_TMP/bad2.err")" "on_demand\\.c6a\\.large must be a price per hour" \
	"the message names the entry"
is "$before" "$(ls "$FANOUT_HISTORY_DIR" | wc -l)" "nothing recorded"

done_testing
