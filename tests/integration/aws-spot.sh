#!/bin/bash
# Spot capacity against moto_server: `fanout create --spot --no-run` asks
# RunInstances for spot (the aws CLI sees InstanceLifecycle spot; the
# request's parameters, which moto does not keep, are read from the
# requests themselves through tests/fakes/faultproxy.py --bodies): the
# bastion a persistent request stopped on interruption, a cluster's nodes
# (made to be torn down after) one-time requests terminated on
# interruption (their launch template), the head on demand. The plan and the record
# price the machine at its spot price. Teardown cancels every spot
# request of the run set before it terminates (a persistent request
# would relaunch the instance): moto makes none for RunInstances, so the
# request AWS would have made is made here with the aws CLI, tagged as
# fanout tags it, and cleanup must leave no open request.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
plan_lazy

proxy_start --every 0 --bodies "$TEST_TMP/bodies"
proj=$(example sleep)

AWS_ENDPOINT_URL="$PROXY_URL" "$FANOUT" create "$proj" --spot --no-run --yes \
	>"$TEST_TMP/id" 2>"$TEST_TMP/create.err"
is 0 $? "create --spot --no-run exits 0"
id=$(cat "$TEST_TMP/id")
f="Name=tag:fanout:run-set,Values=$id"
is "spot" "$(awsq ec2 describe-instances --filters "$f" \
	--query 'Reservations[].Instances[].InstanceLifecycle')" \
	"the aws CLI: the bastion's InstanceLifecycle is spot"
run=$(grep 'Action=RunInstances' "$TEST_TMP/bodies")
is 1 "$(printf '%s\n' "$run" | grep -c .)" "one RunInstances"
like "$run" "InstanceMarketOptions\\.MarketType=spot" "it asks for the spot market"
like "$run" "InstanceMarketOptions\\.SpotOptions\\.SpotInstanceType=persistent" \
	"a persistent request (a reclaimed bastion comes back, stopped, for resume)"
like "$run" "InstanceMarketOptions\\.SpotOptions\\.InstanceInterruptionBehavior=stop" \
	"stopped on interruption, not terminated"
like "$run" "TagSpecification\\.3\\.ResourceType=spot-instances-request" \
	"the spot request is tagged too (found by its token after a crash)"
is "persistent True" "$(rec_get "$id" '[x.get("spot", "-") for x in r["resources"] if x["kind"] == "instance"][0] + " " + str(r["answers"]["spot"])')" \
	"the record: the bastion made as persistent spot, the answers say spot"
like "$(cat "$TEST_TMP/create.err")" "bastion +c6a\\.large, .*spot \\(persistent request, stopped if reclaimed\\)" \
	"the plan says spot and how"
like "$(cat "$TEST_TMP/create.err")" "Machines: c6a\\.large: 2 vCPUs 4 GiB, \\\$0\\.0765/h on demand, spot \\\$0\\.00001/h, the default" \
	"and the spot price moto's DescribeSpotPriceHistory gives"
# Cost so far: the record's price is the spot price (moto's 0.00001) with
# the disk and address, not the on-demand one.
is "0.00830" "$(rec_get "$id" '"%.5f" % [x["hourly_usd"] for x in r["resources"] if x["kind"] == "instance"][0]')" \
	"the record prices the bastion at its spot price + disk + address"

# The request AWS makes for a spot RunInstances, as fanout tags it.
token=$(rec_get "$id" '[x["token"] for x in r["resources"] if x["kind"] == "instance"][0]')
ami=$(rec_get "$id" 'r["image"]')
sir=$(awsq ec2 request-spot-instances --type persistent --instance-count 1 \
	--launch-specification "{\"ImageId\":\"$ami\",\"InstanceType\":\"c6a.large\"}" \
	--tag-specifications "ResourceType=spot-instances-request,Tags=[{Key=fanout:client-token,Value=$token},{Key=fanout:run-set,Value=$id}]" \
	--query 'SpotInstanceRequests[0].[SpotInstanceRequestId,InstanceId]')
read -r sir extra <<<"$sir"
like "$sir" "^sir-" "a persistent spot request tagged with the bastion's token ($sir)"
open_reqs() {
	awsq ec2 describe-spot-instance-requests --filters Name=state,Values=open,active \
		--query 'SpotInstanceRequests[].SpotInstanceRequestId'
}
is "$sir" "$(open_reqs)" "it is open (active)"

: >"$TEST_TMP/bodies"
AWS_ENDPOINT_URL="$PROXY_URL" "$FANOUT" cleanup "$id" --yes >/dev/null 2>"$TEST_TMP/cleanup.err"
is 0 $? "cleanup exits 0"
like "$(cat "$TEST_TMP/cleanup.err")" "cancelling spot request $sir" "it says it cancels the spot request"
is "" "$(open_reqs)" "the aws CLI: no spot request is left open"
order=$(grep -o 'Action=[A-Za-z]*' "$TEST_TMP/bodies" | grep -n 'CancelSpotInstanceRequests\|TerminateInstances' | head -2 | cut -d= -f2 | tr '\n' ' ')
is "CancelSpotInstanceRequests TerminateInstances " "$order" \
	"the request is cancelled before the instance is terminated"
is "terminated 0 0" "$(set_of "$id")" "nothing of the run set is left (the bastion terminated)"
[ -n "$extra" ] && [ "$extra" != None ] && awsq ec2 terminate-instances --instance-ids "$extra" >/dev/null

# A cluster: the nodes one-time spot (terminated on interruption: Slurm
# requeues their share), the head on demand.
: >"$TEST_TMP/bodies"
AWS_ENDPOINT_URL="$PROXY_URL" "$FANOUT" create "$proj" --engine slurm --nodes 2 --spot \
	--no-run --cleanup-after --yes >"$TEST_TMP/cid" 2>"$TEST_TMP/cluster.err"
is 0 $? "create --engine slurm --spot --no-run --cleanup-after exits 0"
cid=$(cat "$TEST_TMP/cid")
lt=$(grep 'Action=CreateLaunchTemplate' "$TEST_TMP/bodies")
like "$lt" "LaunchTemplateData\\.InstanceMarketOptions\\.SpotOptions\\.SpotInstanceType=one-time" \
	"the nodes' launch template asks for one-time spot requests"
like "$lt" "LaunchTemplateData\\.InstanceMarketOptions\\.SpotOptions\\.InstanceInterruptionBehavior=terminate" \
	"terminated on interruption"
head_run=$(grep 'Action=RunInstances' "$TEST_TMP/bodies" | grep -v 'LaunchTemplate\.LaunchTemplateId')
check "the head (the scheduler) is on demand" test -n "$head_run" -a \
	"$(printf '%s' "$head_run" | grep -c InstanceMarketOptions)" = 0
like "$(cat "$TEST_TMP/cluster.err")" "2 x node +c6a\\.large, .*spot \\(one-time request, terminated if reclaimed\\)" \
	"the plan says the nodes are spot"
is "deleted" "$(rec_get "$cid" 'r["state"]')" "the cluster was torn down"
is "" "$(open_reqs)" "and no spot request is open"

done_testing
