/* The head's teardown statements of a detached run (detach-policy.h). */
#include "cloud/detach-policy.h"

json_t *
detach_policy_statements(const char *id)
{
	return json_pack("[{s:s, s:s, s:[s, s, s, s, s, s], s:s, "
	    "s:{s:{s:s}}}, {s:s, s:s, s:[s, s, s, s], s:s}]",
	    "Sid", "FanoutTeardownOwnRunSet",
	    "Effect", "Allow",
	    "Action", "ec2:TerminateInstances", "ec2:StopInstances",
	    "ec2:DeleteLaunchTemplate", "ec2:DeleteKeyPair",
	    "ec2:DeleteSecurityGroup", "ec2:DeleteFleets",
	    "Resource", "*",
	    "Condition", "StringEquals", "aws:ResourceTag/fanout:run-set", id,
	    "Sid", "FanoutFindOwnRunSet",
	    "Effect", "Allow",
	    "Action", "ec2:DescribeInstances", "ec2:DescribeLaunchTemplates",
	    "ec2:DescribeKeyPairs", "ec2:DescribeSecurityGroups",
	    "Resource", "*");
}
