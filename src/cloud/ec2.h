/* The AWS calls fanout makes: STS identity, SSM public parameters, and
 * EC2 key pairs, security groups, instances and their look-ups. Each
 * returns an enum cloud_err (provider.h: negative) with a cause
 * "<Action>: <Code>: <Message>" on error; a delete of something already
 * gone counts as done. */
#ifndef FANOUT_CLOUD_EC2_H
#define FANOUT_CLOUD_EC2_H

#include <jansson.h>

struct aws;
struct aws_params;

/* The tags every resource gets (DESIGN.md "Cloud rules"). */
struct aws_tags {
	const char	*run_set;	/* fanout:run-set */
	const char	*project;	/* fanout:project */
	const char	*name;		/* Name */
	const char	*role;		/* fanout:role ("head", "compute"),
					 * or NULL */
	const char	*token;		/* fanout:client-token: the
					 * ClientToken of the call that made
					 * it (recovery finds exactly its
					 * instances), or NULL */
};

struct aws_instance {
	char	*id;
	char	*state;		/* pending, running, stopped, terminated... */
	char	*public_ip;	/* or NULL */
	char	*private_ip;	/* in its subnet, or NULL */
	char	*http_tokens;	/* metadata options: "required" */
	char	*spot_request;	/* its spot request (sir-...), or NULL */
	char	*reason;	/* StateTransitionReason ("User initiated
				 * (2026-11-30 17:00:00 GMT)"), or NULL */
};

/* Spot capacity asked of RunInstances (InstanceMarketOptions). */
struct aws_spot {
	int		 persistent;	/* a persistent request (relaunches
					 * after an interruption or a
					 * terminate until cancelled; may be
					 * stopped), else one-time */
	const char	*interruption;	/* "stop" or "terminate" */
};

struct aws_run_spec {
	const char	*ami;
	const char	*type;		/* e.g. t3.micro */
	const char	*key_name;
	const char	*group_id;
	const char	*subnet_id;
	const char	*user_data;	/* plain text; encoded here */
	const char	*token;		/* ClientToken */
	const char	*profile;	/* IamInstanceProfile.Name, or NULL */
	struct aws_tags	 tags;
	const struct aws_spot *spot;	/* spot capacity, or NULL: on-demand */
};

int	aws_sts_identity(struct aws *, char **account, char **arn,
	    char **cause);
char	*aws_ssm_parameter(struct aws *, const char *name, char **cause);
/* The current x86_64 image of a system: the SSM public parameter
 * (Amazon's or the distribution's), else the newest available image of
 * owner whose name matches pattern (DescribeImages); label names the
 * system in the cause ("Debian 12"). */
char	*aws_ec2_image(struct aws *, const char *parameter, const char *owner,
	    const char *pattern, const char *label, char **cause);
/* TagSpecification.n for resource_type: fanout's tags (aws_param_tags)
 * and t's role and token when set. */
struct aws_params;
void	aws_ec2_param_tags(struct aws_params *, int n,
	    const char *resource_type, const struct aws_tags *t);
/* Default VPC and its default subnets (array of ids, sorted by AZ). */
int	aws_ec2_default_vpc(struct aws *, char **vpc, json_t **subnets,
	    char **cause);

int	aws_ec2_create_key_pair(struct aws *, const char *name,
	    const struct aws_tags *, char **id, char **material, char **cause);
/* 1 found (id set), 0 not found, < 0 error. */
int	aws_ec2_find_key_pair(struct aws *, const char *name, char **id,
	    char **cause);
int	aws_ec2_delete_key_pair(struct aws *, const char *name, char **cause);

int	aws_ec2_create_security_group(struct aws *, const char *name,
	    const char *vpc, const struct aws_tags *, char **id, char **cause);
int	aws_ec2_find_security_group(struct aws *, const char *name,
	    char **id, char **cause);
/* tcp 22 from cidr; an existing identical rule counts as done. */
int	aws_ec2_authorize_ssh(struct aws *, const char *group_id,
	    const char *cidr, char **cause);
int	aws_ec2_delete_security_group(struct aws *, const char *group_id,
	    char **cause);

int	aws_ec2_run_instance(struct aws *, const struct aws_run_spec *,
	    char **id, char **cause);
/* 1 found, 0 not found, < 0 error. */
int	aws_ec2_describe_instance(struct aws *, const char *id,
	    struct aws_instance *, char **cause);
/* Instances (ids) not terminated tagged key=value, and key2=value2
 * when key2 is not NULL, in the order they were launched (reservation,
 * then launch index). */
int	aws_ec2_instances_tagged(struct aws *, const char *key,
	    const char *value, const char *key2, const char *value2,
	    json_t **ids, char **cause);
int	aws_ec2_terminate_instance(struct aws *, const char *id, char **cause);
int	aws_ec2_start_instance(struct aws *, const char *id, char **cause);
int	aws_ec2_stop_instance(struct aws *, const char *id, char **cause);
void	aws_instance_free(struct aws_instance *);

/* Every resource tagged managedBy=fanout in the region: an array of
 * {"kind","id","name","region","run_set"}, in deletion order (instances,
 * launch templates, security groups, key pairs). */
json_t	*aws_ec2_tagged(struct aws *, char **cause);

/* Clusters (ec2-fleet.c). */

/* What the compute nodes are made from. */
struct aws_template_spec {
	const char	*name;		/* LaunchTemplateName */
	const char	*ami;
	const char	*type;		/* instance type */
	const char	*key_name;
	const char	*group_id;	/* the compute group */
	const char	*token;		/* ClientToken */
	const char	*profile;	/* IamInstanceProfile.Name, or NULL */
	struct aws_tags	 tags;		/* the template's own */
	struct aws_tags	 launch;	/* its instances' and volumes' */
	const struct aws_spot *spot;	/* its instances' spot capacity, or
					 * NULL: on demand */
};

/* CreateLaunchTemplate: IMDSv2 required, encrypted 30 GB gp3 root. */
int	aws_ec2_create_launch_template(struct aws *,
	    const struct aws_template_spec *, char **id, char **cause);
/* By name: 1 found (id set), 0 not found, < 0 error. */
int	aws_ec2_find_launch_template(struct aws *, const char *name,
	    char **id, char **cause);
/* By id: 1 exists, 0 gone, < 0 error. */
int	aws_ec2_launch_template_exists(struct aws *, const char *id,
	    char **cause);
int	aws_ec2_delete_launch_template(struct aws *, const char *id,
	    char **cause);
/* One RunInstances of count instances (MinCount = MaxCount) from the
 * launch template, in subnet, with s's token and tags (tags repeated
 * with the call: the launch template's are kept by AWS, not by every
 * endpoint). *ids: the new ids in launch order. */
int	aws_ec2_run_from_template(struct aws *, const char *template_id,
	    const char *subnet_id, int count, const char *token,
	    const struct aws_tags *, json_t **ids, char **cause);
/* All traffic into group_id from the group from_id; an existing
 * identical rule counts as done. */
int	aws_ec2_authorize_group(struct aws *, const char *group_id,
	    const char *from_id, char **cause);
/* Takes that rule away (description: the rule's, as the ties say); a
 * rule or group already gone counts as done. */
int	aws_ec2_revoke_group(struct aws *, const char *group_id,
	    const char *from_id, const char *description, char **cause);
/* The rules that tie group_id to other groups, as [group, from,
 * description or null] (traffic into group from from): its own rules
 * naming another group,
 * and other groups' rules naming it. A group referenced by another
 * cannot be deleted (DependencyViolation). */
int	aws_ec2_group_ties(struct aws *, const char *group_id, json_t **ties,
	    char **cause);

/* Machine types and spot capacity (ec2-types.c). */

/* The region's instance types, or type alone when not NULL: an array of
 * {"name", "vcpus", "memory_gib", "spot" (spot capacity offered),
 * "burstable" (a t2/t3 type: CPU credits, throttled or billed extra
 * under a sustained load)}; all:
 * x86_64 and current generation only, every page. A type that does not
 * exist: an empty array. */
int	aws_ec2_instance_types(struct aws *, const char *type, json_t **types,
	    char **cause);
/* 1 when the region offers type (DescribeInstanceTypeOfferings), 0 when
 * not, < 0 error. */
int	aws_ec2_type_offered(struct aws *, const char *type, char **cause);
/* The latest Linux spot price of each of names (an array of types) in
 * the region: {"type": usd per hour}, each the highest of its zones'
 * latest prices; a type without one is absent. */
int	aws_ec2_spot_prices(struct aws *, json_t *names, json_t **prices,
	    char **cause);
/* Spot requests (ids) not cancelled, closed or failed, tagged key=value
 * (and key2=value2 when key2 is not NULL). */
int	aws_ec2_spot_requests(struct aws *, const char *key, const char *value,
	    const char *key2, const char *value2, json_t **ids, char **cause);
/* CancelSpotInstanceRequests; one already gone counts as done. Cancelling
 * leaves the request's instance running. */
int	aws_ec2_cancel_spot_request(struct aws *, const char *id,
	    char **cause);
/* InstanceMarketOptions of s (nothing when s is NULL), with prefix
 * ("" or "LaunchTemplateData."). */
void	aws_ec2_param_spot(struct aws_params *, const char *prefix,
	    const struct aws_spot *s);

/* IMDSv2 required and an encrypted 30 GB gp3 root volume: the
 * RunInstances parameters every machine of fanout's gets. */
void	aws_ec2_param_hardening(struct aws_params *);
/* Runs an EC2 call (and frees its parameters). NotFound, when gone_ok,
 * is no error: 0 with *doc NULL. Else as aws_query. */
int	aws_ec2_query(struct aws *, struct aws_params *, int gone_ok,
	    struct _xmlDoc **doc, char **cause);

#endif
