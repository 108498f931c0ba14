/* The Google Cloud role block (gcp-role.c): the machines' service account
 * and its bucket bindings, their kinds' functions for gcp-provider.c's
 * kind table, and the orphan search's part. */
#ifndef FANOUT_CLOUD_GCP_ROLE_H
#define FANOUT_CLOUD_GCP_ROLE_H

#include <jansson.h>

#include "cloud/provider.h"

struct gcp;

/* CLOUD_BLOCK_ROLE: one step, "service account" (sets state->sa_email). */
extern const struct cloud_step gcp_role_steps[];

/* The account id of a run set: "fanout-<id>", lower-case, [a-z0-9-],
 * at most 30 characters. Caller frees. */
char	*gcp_role_account_id(const char *run_id);

/* Adds (add 1) or removes member's role on bucket's IAM policy (get, then
 * set with the etag read; again on a conflict). Removing from a bucket
 * that is gone counts as done. 0, or an enum cloud_err with a cause. */
int	 gcp_role_binding(struct gcp *, const char *bucket, const char *role,
	    const char *member, int add, char **cause);
/* 1 the bucket's policy binds member to role, 0 not (or no bucket), or
 * an enum cloud_err with a cause. */
int	 gcp_role_binding_has(struct gcp *, const char *bucket,
	    const char *role, const char *member, char **cause);

/* The plan's line for the account (kind "service_account", "detail":
 * what it may read and write), appended to resources when the project
 * (answers "project") names a bucket. */
void	 gcp_role_plan(json_t *answers, json_t *resources);

/* Kind "service_account" (id: its e-mail) and "bucket_binding". */
int	 gcp_recover_sa(struct cloud_run *, json_t *res, char **id,
	    char **cause);
int	 gcp_exists_sa(struct cloud_run *, json_t *res, char **cause);
int	 gcp_destroy_sa(struct cloud_run *, json_t *res, char **cause);
int	 gcp_recover_binding(struct cloud_run *, json_t *res, char **id,
	    char **cause);
int	 gcp_exists_binding(struct cloud_run *, json_t *res, char **cause);
int	 gcp_destroy_binding(struct cloud_run *, json_t *res, char **cause);

/* The orphan search's part: appends to out {"kind": "service_account",
 * "id": EMAIL, "name": ACCOUNT-ID, "region": region (accounts have
 * none: the session's), "run_set": ID, "provider": "gcp"} for
 * each account of fanout's (description "fanout run set ID ...", or an id
 * "fanout-fo-..."). 0, or -1 with a cause. */
int	 gcp_role_tagged(struct gcp *, const char *region, json_t *out,
	    char **cause);

#endif
