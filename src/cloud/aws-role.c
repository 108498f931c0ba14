/* The AWS role block (CLOUD_BLOCK_ROLE): the instance role of a run set
 * whose project reads inputs from or writes results to a bucket, made
 * with the base steps: an IAM role EC2 may assume, read-only on the
 * inputs' bucket and prefix and write-only on the results' prefix (inline
 * policy), and an instance profile holding it, which RunInstances names.
 * Also what recovery, cleanup and the orphan search do with them. */
#include <stdlib.h>
#include <string.h>

#include "cloud/aws.h"
#include "cloud/aws-internal.h"
#include "cloud/detach-policy.h"
#include "cloud/iam.h"
#include "cloud/provider.h"
#include "event.h"
#include "history/history.h"
#include "run/project.h"
#include "util/xmalloc.h"

static struct aws *
aws_of(struct cloud_run *run)
{
	return run->session;
}

/* The project of run (its record's folder), or -1 with a cause. */
static int
role_project(struct cloud_run *run, struct project *pr, char **cause)
{
	const char *dir;

	pthread_mutex_lock(&run->lock);
	dir = history_str(run->rec, "project_dir", NULL);
	pthread_mutex_unlock(&run->lock);
	if (dir == NULL) {
		xasprintf(cause, "run set %s has no project folder in its "
		    "record", run->id);
		return -1;
	}
	return project_load(dir, pr, cause);
}

json_t *
aws_run_role_statements(struct cloud_run *run, const struct project *pr)
{
	json_t *st = aws_role_statements(pr->inputs_url, pr->results_url), *d;

	/* A detached run's head tears its own run set down (by tag). */
	if (json_is_true(json_object_get(run->answers, "detach"))) {
		d = detach_policy_statements(run->id);
		json_array_extend(st, d);
		json_decref(d);
	}
	return st;
}

static int
step_role(struct cloud_run *run, char **cause)
{
	struct project pr;
	char *name = xprintf("fanout-%s", run->id), *trust, *doc = NULL;
	char *id = NULL, *why = NULL;
	struct aws_tags t = aws_tags_of(run, name);
	json_t *res, *st;
	int rc = -1;

	memset(&pr, 0, sizeof pr);
	if (role_project(run, &pr, cause) != 0)
		goto out;
	if ((res = cloud_intent(run, "iam_role", name, NULL, NULL,
	    cause)) == NULL)
		goto out;
	trust = aws_iam_trust_ec2();
	rc = aws_iam_create_role(aws_of(run), name, trust, &t, &id, &why);
	free(trust);
	if (rc == CLOUD_EDUPLICATE) {
		/* Ours (the name holds the run-set id): an attempt whose
		 * answer was lost. */
		free(why);
		why = NULL;
		rc = aws_iam_get_role(aws_of(run), name, &id, &why) == 1 ?
		    0 : -1;
	}
	if (rc != 0) {
		*cause = why;
		rc = -1;
		goto out;
	}
	rc = -1;
	if (cloud_created(run, res, id, cause) != 0)
		goto out;
	st = aws_run_role_statements(run, &pr);
	doc = aws_iam_policy_document(st);
	json_decref(st);
	if (aws_iam_put_role_policy(aws_of(run), name, AWS_ROLE_POLICY, doc,
	    cause) != 0 || cloud_resource_set(run, res, "policy",
	    json_string(AWS_ROLE_POLICY), cause) != 0)
		goto out;
	event_log(run->sink, "instance role", "%s: %s%s%s%s%s%s%s%s", name,
	    pr.inputs_url != NULL ? "reads s3://" : "",
	    pr.inputs_url != NULL ? pr.inputs_url->bucket : "",
	    pr.inputs_url != NULL ? "/" : "",
	    pr.inputs_url != NULL ? pr.inputs_url->prefix : "",
	    pr.results_url != NULL ? (pr.inputs_url != NULL ?
	    "; writes s3://" : "writes s3://") : "",
	    pr.results_url != NULL ? pr.results_url->bucket : "",
	    pr.results_url != NULL ? "/" : "",
	    pr.results_url != NULL ? pr.results_url->prefix : "");
	rc = 0;
out:
	project_free(&pr);
	free(doc);
	free(id);
	free(name);
	return rc;
}

static int
step_profile(struct cloud_run *run, char **cause)
{
	static const char *const deps[] = { "iam_role", NULL };
	struct aws_state *st = run->state;
	char *name = xprintf("fanout-%s", run->id), *id = NULL, *why = NULL;
	char *held = NULL, *last = NULL;
	struct aws_tags t = aws_tags_of(run, name);
	struct cloud_poll w;
	json_t *res;
	int rc;

	if ((res = cloud_intent(run, "instance_profile", name, NULL, deps,
	    cause)) == NULL) {
		free(name);
		return -1;
	}
	rc = aws_iam_create_instance_profile(aws_of(run), name, &t, &id, &why);
	if (rc == CLOUD_EDUPLICATE) {
		free(why);
		why = NULL;
		rc = aws_iam_get_instance_profile(aws_of(run), name, &id, NULL,
		    &why) == 1 ? 0 : -1;
	}
	if (rc != 0) {
		*cause = why;
		free(name);
		return -1;
	}
	if (cloud_created(run, res, id, cause) != 0 ||
	    aws_iam_add_role_to_profile(aws_of(run), name, name, cause) != 0 ||
	    cloud_resource_set(run, res, "role_name", json_string(name),
	    cause) != 0)
		goto fail;
	free(id);
	id = NULL;
	/* IAM is eventually consistent: wait until the profile is seen
	 * holding the role. */
	cloud_poll_init(&w);
	for (;;) {
		rc = aws_iam_get_instance_profile(aws_of(run), name, &id, &held,
		    &why);
		if (rc == 1 && held != NULL && strcmp(held, name) == 0)
			break;
		free(last);
		last = why != NULL ? why : xstrdup(rc == 1 ? "no role in it "
		    "yet" : "not visible yet");
		why = NULL;
		free(id);
		free(held);
		id = held = NULL;
		if (cloud_poll_next(run, &w, &why) != 0) {
			xasprintf(cause, "instance profile %s not usable after "
			    "%s: %s", name, why, last);
			free(why);
			goto fail;
		}
	}
	event_log(run->sink, "instance profile", "%s holds role %s", name,
	    held);
	st->profile = name;
	free(id);
	free(held);
	free(last);
	return 0;
fail:
	free(last);
	free(id);
	free(held);
	free(name);
	return -1;
}

static const char *const after_role[] = { "instance role", NULL };

const struct cloud_step aws_role_steps[] = {
	{ "instance role", NULL, step_role },
	{ "instance profile", after_role, step_profile },
	{ NULL, NULL, NULL }
};

/* Recovery, existence and teardown (aws-provider.c's kind table). */

int
aws_recover_role(struct cloud_run *run, json_t *res, char **id, char **cause)
{
	return aws_iam_get_role(aws_of(run), history_str(res, "name", ""), id,
	    cause);
}

int
aws_destroy_role(struct cloud_run *run, json_t *res, char **cause)
{
	return aws_iam_delete_role(aws_of(run), history_str(res, "name", ""),
	    cause);
}

int
aws_recover_profile(struct cloud_run *run, json_t *res, char **id,
    char **cause)
{
	return aws_iam_get_instance_profile(aws_of(run), history_str(res,
	    "name", ""), id, NULL, cause);
}

int
aws_destroy_profile(struct cloud_run *run, json_t *res, char **cause)
{
	return aws_iam_delete_instance_profile(aws_of(run), history_str(res,
	    "name", ""), cause);
}
