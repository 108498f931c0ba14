/* The AWS calls fanout makes: STS identity, SSM public parameters, and
 * EC2 key pairs, security groups, instances and their look-ups. Each
 * returns an enum cloud_err (provider.h: negative) with a cause
 * "<Action>: <Code>: <Message>" on error; a delete of something already
 * gone counts as done. */
#ifndef FANOUT_CLOUD_EC2_H
#define FANOUT_CLOUD_EC2_H

#include <jansson.h>

struct aws;

/* The tags every resource gets (DESIGN.md "Cloud rules"). */
struct aws_tags {
	const char	*run_set;	/* fanout:run-set */
	const char	*project;	/* fanout:project */
	const char	*name;		/* Name */
};

struct aws_instance {
	char	*id;
	char	*state;		/* pending, running, stopped, terminated... */
	char	*public_ip;	/* or NULL */
	char	*private_ip;	/* in its subnet, or NULL */
	char	*http_tokens;	/* metadata options: "required" */
};

struct aws_run_spec {
	const char	*ami;
	const char	*type;		/* e.g. t3.micro */
	const char	*key_name;
	const char	*group_id;
	const char	*subnet_id;
	const char	*user_data;	/* plain text; encoded here */
	const char	*token;		/* ClientToken */
	struct aws_tags	 tags;
};

int	aws_sts_identity(struct aws *, char **account, char **arn,
	    char **cause);
char	*aws_ssm_parameter(struct aws *, const char *name, char **cause);
/* The current Amazon Linux 2023 x86_64 AMI: the SSM public parameter,
 * else DescribeImages (owner amazon, al2023-ami-2023*, newest). */
char	*aws_ec2_al2023_ami(struct aws *, char **cause);
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
/* Instances tagged fanout:run-set=run_set that are not terminated. */
json_t	*aws_ec2_find_instances(struct aws *, const char *run_set,
	    char **cause);
int	aws_ec2_terminate_instance(struct aws *, const char *id, char **cause);
int	aws_ec2_start_instance(struct aws *, const char *id, char **cause);
int	aws_ec2_stop_instance(struct aws *, const char *id, char **cause);
void	aws_instance_free(struct aws_instance *);

/* Every resource tagged managedBy=fanout in the region: an array of
 * {"kind","id","name","region","run_set"}. */
json_t	*aws_ec2_tagged(struct aws *, char **cause);

#endif
