/* Shared by the AWS provider's files (aws-steps.c: the create steps;
 * aws-provider.c: the ops table, resume and teardown). */
#ifndef FANOUT_CLOUD_AWS_INTERNAL_H
#define FANOUT_CLOUD_AWS_INTERNAL_H

#include <jansson.h>

#include "cloud/ec2.h"
#include "cloud/provider.h"

/* The machines that run the tasks (the bastion, a cluster's nodes):
 * c6a.large, 2 vCPUs and 4 GiB at $0.0765/h, the cheapest x86 type of
 * the table whose vCPUs are its own all the time. A burstable t3 runs a
 * sustained load at its baseline (t3.micro: 10% of each vCPU; t3.small
 * and medium 20%) once its credits are spent, or, in the "unlimited"
 * mode AWS launches them in, is billed $0.05 per vCPU-hour above it: a
 * t3.micro busy all the time costs more than a c6a.large and does a
 * fifth of the work; and 1 GiB is too little for a pip install. */
#define AWS_DEFAULT_TYPE "c6a.large"
/* The head of a cluster runs slurmctld and munged only, no task: small,
 * but with the 2 GB that slurmctld and the package installs want (a
 * t3.micro has 1 GB). answers "head_instance_type" says otherwise. */
#define AWS_HEAD_TYPE "t3.small"
#define AWS_MAX_NODES 100	/* as menus/create.yaml allows */
#define AWS_EBS_HOURLY (30 * 0.08 / 730)	/* 30 GB gp3 */
#define AWS_IPV4_HOURLY 0.005			/* public IPv4 address */
/* A stopped instance: its disk only (its public IPv4 address is released,
 * no instance hours). */
#define AWS_STOPPED_HOURLY AWS_EBS_HOURLY

/* A system the VMs run (engine.os), and where its image is found. */
struct aws_os {
	const char	*os;		/* engine.os: NULL is the default */
	const char	*label;		/* "Debian 12" */
	const char	*user;		/* the image's login user */
	const char	*parameter;	/* SSM public parameter of the newest */
	const char	*owner;		/* else DescribeImages: owner ... */
	const char	*pattern;	/* ... and name */
};

/* The system of engine e (NULL: the default), or NULL with a cause. */
const struct aws_os *aws_os_find(const struct engine *e, char **cause);

/* What the create steps hand to later steps (see struct cloud_run). */
struct aws_state {
	char	*cidr;		/* SSH source, "a.b.c.d/32" */
	char	*vpc;
	char	*subnet;
	char	*ami;
	const struct aws_os *os;	/* the system of ami */
	char	*key_name;
	char	*group_id;	/* the head's group */
	char	*instance_id;	/* the head */
	char	*compute_group_id;	/* the nodes' group (fleet) */
	char	*template_id;	/* the nodes' launch template */
	json_t	*node_ids;	/* the nodes' instance ids, node1 first */
	char	*profile;	/* the instance profile the machines get
				 * (role block), or NULL */
};

/* Makes security group name in the run's VPC, or finds it when an
 * earlier attempt's answer was lost. 0 with *id, or -1 with a cause. */
int	 aws_group_make(struct cloud_run *, const char *name,
	    const struct aws_tags *, char **id, char **cause);

extern const struct cloud_step aws_base_steps[];
extern const struct cloud_step aws_head_steps[];
extern const struct cloud_step aws_fleet_steps[];
extern const struct cloud_step aws_role_steps[];

/* The role block (aws-role.c). The statements of run's instance role
 * for project pr: its buckets' (aws_role_statements, iam.h); the place
 * to add statements of other needs (a new array). */
struct project;
json_t	*aws_run_role_statements(struct cloud_run *, const struct project *);
int	 aws_recover_role(struct cloud_run *, json_t *, char **, char **);
int	 aws_destroy_role(struct cloud_run *, json_t *, char **);
int	 aws_recover_profile(struct cloud_run *, json_t *, char **, char **);
int	 aws_destroy_profile(struct cloud_run *, json_t *, char **);
/* The login user of the default image (Amazon Linux 2023): a record
 * whose resources do not say (made before "login_user"). */
#define AWS_LOGIN_USER	"ec2-user"
/* The tag that names the ClientToken of the call that made an
 * instance. */
#define AWS_TOKEN_TAG	"fanout:client-token"

void	*aws_state_new(void);
void	 aws_state_free(void *);
/* On-demand hourly USD price of an instance type in the table of
 * data/aws-prices.json (aws-machine.c), or -1 when unknown (or the table
 * is unreadable: aws_prices_note says why). */
double	 aws_price(const char *type);
/* "estimates: us-east-1 on-demand prices of DATE (data/aws-prices.json)",
 * or NULL with a cause when the table is missing or damaged. */
char	*aws_prices_note(char **cause);
/* The table as provider.h's instance_types, or NULL with a cause. */
json_t	*aws_price_list(char **cause);
/* provider.settle: the machines that run the tasks (aws-machine.c). */
int	 aws_machine_settle(void *, json_t *answers, char **cause);
/* The hourly price of one machine of type for answers: its spot price
 * when answers ask for spot and the settling found one, else on demand
 * (-1 when unknown). */
double	 aws_type_hourly(json_t *answers, const char *type);
/* The spot capacity to ask for a machine of answers: NULL (on demand)
 * unless answers say spot; head: the bastion (persistent, stopped on
 * interruption), else a cluster node (one-time, terminated on
 * interruption, unless the run set is kept: then as the head). */
const struct aws_spot *aws_spot_of(json_t *answers, int head);
/* answers[key] as a string, or def. */
const char *aws_answer_str(json_t *answers, const char *key, const char *def);
/* Waits until instance id is in one of the states in want (a
 * space-separated list; "gone" = terminated or not found); fills out
 * when not NULL. A status check that fails with a transient error
 * (throttled, 5xx, no answer, even after its 3 attempts) does not end
 * the wait; the deadline does, with a cause naming the last state seen
 * and the last failed check. Honours cancel. */
int	 aws_wait_instance(struct cloud_run *, const char *step,
	     const char *id, const char *want, struct aws_instance *out,
	     char **cause);
/* Records where an instance answers: its resource's public_ip and its
 * entry in rec.hosts (role and login user from the resource). */
int	 aws_record_address(struct cloud_run *, json_t *res,
	     const struct aws_instance *, char **cause);
/* Terminates the instances tagged with token that are not in keep (an
 * array of ids): duplicates of a retried RunInstances on an endpoint
 * that ignores ClientToken, or of a call whose answer a crash lost.
 * step names the events. */
int	 aws_drop_duplicates(struct cloud_run *, const char *step,
	     const char *token, json_t *keep, char **cause);
/* The fanout tags of a resource of run. */
struct aws_tags aws_tags_of(struct cloud_run *, const char *name);

#endif
