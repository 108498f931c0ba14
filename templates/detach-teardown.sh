#!/bin/sh
# The head's teardown of its own run set (a detached run: see
# detach-supervise.sh), with the head's instance role, whose policy allows
# ec2 Terminate/Stop/Delete only on resources tagged fanout:run-set=RUNSET:
#   sh detach-teardown.sh RUNSET REGION terminate|stop others|self
# others: every other instance of the run set terminated (stop: stopped)
# and waited for, then (terminate) its launch templates, key pairs and the
# security groups the head itself is not in deleted, in that order (a
# group goes once no instance uses it; DependencyViolation is retried).
# self: the head stops or terminates itself, last. What it cannot delete
# is left to the laptop (`fanout fetch ID`, `status`, `cleanup`): its own
# security group (in use while it runs) and its instance role and
# profile (deleting the policy would take away the right to delete the
# role); both cost nothing.
set -u

runset=$1 region=$2 action=$3 phase=$4
tag="Name=tag:fanout:run-set,Values=$runset"
live="Name=instance-state-name,Values=pending,running,stopping,stopped"
ec2() { aws --region "$region" --output text ec2 "$@"; }
say() { echo "teardown: $*" >&2; }

# This instance's id, from the instance metadata service (IMDSv2).
imds=${AWS_EC2_METADATA_SERVICE_ENDPOINT:-http://169.254.169.254}
imds=${imds%/}
tok=$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' \
    "$imds/latest/api/token") || tok=
self=$(curl -sf -H "X-aws-ec2-metadata-token: $tok" \
    "$imds/latest/meta-data/instance-id") || self=
if [ -z "$self" ]; then
	say "cannot learn this instance's id from $imds"
	exit 1
fi

if [ "$phase" = self ]; then
	say "$action $self (the head, last)"
	if [ "$action" = terminate ]; then
		ec2 terminate-instances --instance-ids "$self" >/dev/null
	else
		ec2 stop-instances --instance-ids "$self" >/dev/null
	fi
	exit
fi

others=
for i in $(ec2 describe-instances --filters "$tag" "$live" \
    --query 'Reservations[].Instances[].InstanceId'); do
	[ "$i" = "$self" ] || others="$others $i"
done
if [ -n "$others" ]; then
	say "$action$others"
	if [ "$action" = terminate ]; then
		ec2 terminate-instances --instance-ids $others >/dev/null &&
		    ec2 wait instance-terminated --instance-ids $others || exit 1
	else
		ec2 stop-instances --instance-ids $others >/dev/null &&
		    ec2 wait instance-stopped --instance-ids $others || exit 1
	fi
fi
[ "$action" = terminate ] || exit 0

for t in $(ec2 describe-launch-templates --filters "$tag" \
    --query 'LaunchTemplates[].LaunchTemplateId'); do
	say "delete launch template $t"
	ec2 delete-launch-template --launch-template-id "$t" >/dev/null || exit 1
done
for k in $(ec2 describe-key-pairs --filters "$tag" \
    --query 'KeyPairs[].KeyName'); do
	say "delete key pair $k"
	ec2 delete-key-pair --key-name "$k" >/dev/null || exit 1
done
# The head's own groups (on the instance, or on its network interface)
# stay: in use until it is gone.
mine=$(ec2 describe-instances --instance-ids "$self" --query \
    'Reservations[].Instances[].[SecurityGroups[].GroupId, NetworkInterfaces[].Groups[].GroupId]') ||
    exit 1
for g in $(ec2 describe-security-groups --filters "$tag" \
    --query 'SecurityGroups[].GroupId'); do
	case " $(echo $mine) " in *" $g "*) continue ;; esac
	say "delete security group $g"
	n=0
	until ec2 delete-security-group --group-id "$g" >/dev/null; do
		n=$((n + 1))
		[ "$n" -lt 30 ] || exit 1
		sleep 10
	done
done
