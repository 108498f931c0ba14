/* IAM: the instance role of a run set (a role EC2 may assume, its inline
 * policy, an instance profile holding it), made and deleted with the run
 * set. Roles and profiles live under the path /fanout/ and carry
 * fanout's tags. Each call returns an enum cloud_err (provider.h) with a
 * cause; a delete of something already gone counts as done. */
#ifndef FANOUT_CLOUD_IAM_H
#define FANOUT_CLOUD_IAM_H

#include <jansson.h>

struct aws;
struct aws_tags;
struct store_url;

#define AWS_IAM_PATH	"/fanout/"
/* The inline policy of the role. */
#define AWS_ROLE_POLICY	"fanout-buckets"

/* The statements of the instance role for a project's buckets: inputs
 * (read-only: s3:ListBucket on the bucket with an s3:prefix condition,
 * s3:GetObject on the prefix's objects) and results (write-only:
 * s3:PutObject on the prefix's objects); either may be NULL. A new
 * array; callers may append statements of their own (the detached head's
 * tag-scoped teardown) before aws_iam_policy_document. */
json_t	*aws_role_statements(const struct store_url *inputs,
	    const struct store_url *results);
/* A policy document ({"Version": "2012-10-17", "Statement": [...]}) of
 * statements, as the compact JSON text IAM takes. */
char	*aws_iam_policy_document(json_t *statements);
/* The trust policy of an instance role: ec2.amazonaws.com may assume
 * it. */
char	*aws_iam_trust_ec2(void);

int	aws_iam_create_role(struct aws *, const char *name, const char *trust,
	    const struct aws_tags *, char **id, char **cause);
/* 1 found (*id: its RoleId), 0 not found, < 0 error. */
int	aws_iam_get_role(struct aws *, const char *name, char **id,
	    char **cause);
int	aws_iam_put_role_policy(struct aws *, const char *role,
	    const char *policy, const char *document, char **cause);
/* The policy's document (URL-decoded JSON), or NULL with a cause. */
char	*aws_iam_get_role_policy(struct aws *, const char *role,
	    const char *policy, char **cause);
/* Deletes the role's inline policies, takes it out of its instance
 * profiles, then deletes it. */
int	aws_iam_delete_role(struct aws *, const char *name, char **cause);

int	aws_iam_create_instance_profile(struct aws *, const char *name,
	    const struct aws_tags *, char **id, char **cause);
/* A role already in the profile counts as done. */
int	aws_iam_add_role_to_profile(struct aws *, const char *profile,
	    const char *role, char **cause);
/* 1 found (*id, and *role: the role it holds or NULL), 0 not found. */
int	aws_iam_get_instance_profile(struct aws *, const char *name,
	    char **id, char **role, char **cause);
/* Takes its roles out, then deletes it. */
int	aws_iam_delete_instance_profile(struct aws *, const char *name,
	    char **cause);
/* fanout's roles and profiles (path /fanout/): appends to out
 * {"kind": "iam_role"|"instance_profile", "id", "name", "region",
 * "run_set"} (profiles first: they are deleted first). */
int	aws_iam_tagged(struct aws *, json_t *out, char **cause);

#endif
