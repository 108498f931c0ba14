/* The policy statements that let the head of a detached run tear its own
 * run set down and nothing else (added to its instance role's policy). */
#ifndef FANOUT_CLOUD_DETACH_POLICY_H
#define FANOUT_CLOUD_DETACH_POLICY_H

#include <jansson.h>

/* The IAM policy statements (an array) that let a head of run set id
 * stop and tear its own run set down: ec2 Terminate/Stop/Delete actions
 * only on resources tagged fanout:run-set=<id> (aws:ResourceTag), and
 * the Describe calls (which take no resource) to find them. */
json_t	*detach_policy_statements(const char *id);

#endif
