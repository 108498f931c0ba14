/* What a detached run needs of S3 from this machine, with the user's own
 * credentials: read the objects the head wrote under a run set's results
 * prefix (its status object, records, logs), and the policy statements
 * that let the head tear its own run set down and nothing else. */
#ifndef FANOUT_CLOUD_DETACH_S3_H
#define FANOUT_CLOUD_DETACH_S3_H

#include <stddef.h>

#include <jansson.h>

struct aws;

/* GET s3://bucket/key (path-style, SigV4 from the aws settings). 0 with
 * the body (NUL-terminated) in *body and its length in *len, or an enum
 * cloud_err (CLOUD_ENOTFOUND for NoSuchKey/NoSuchBucket) with a cause. */
int	 detach_s3_get(struct aws *, const char *bucket, const char *key,
	     char **body, size_t *len, char **cause);
/* ListObjectsV2 of bucket under prefix, every page: the keys, NULL-ended
 * (caller frees each and the array), *n of them; or an enum cloud_err. */
int	 detach_s3_list(struct aws *, const char *bucket, const char *prefix,
	     char ***keys, size_t *n, char **cause);
/* The IAM policy statements (an array) that let a head of run set id
 * stop and tear its own run set down: ec2 Terminate/Stop/Delete actions
 * only on resources tagged fanout:run-set=<id> (aws:ResourceTag), and
 * the Describe calls (which take no resource) to find them. */
json_t	*detach_policy_statements(const char *id);

#endif
