/* The AWS provider's ops table (provider.h): sessions, the plan with its
 * price estimates, and what resume, cleanup and the orphan search call.
 * The create steps are in aws-steps.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cloud/aws.h"
#include "cloud/aws-internal.h"
#include "cloud/ec2.h"
#include "cloud/iam.h"
#include "cloud/s3.h"
#include "cloud/provider.h"
#include "engine/engine.h"
#include "event.h"
#include "history/history.h"
#include "run/project.h"
#include "util/fs.h"
#include "util/xmalloc.h"

static struct aws *
aws_of(struct cloud_run *run)
{
	return run->session;
}

/* The types the form offers (the table's "menu", else all of it), as
 * provider.h's instance_types. */
static json_t *
aws_provider_instance_types(char **cause)
{
	return aws_price_list(cause);
}

static void *
aws_provider_open(const char *region, char **cause)
{
	double limit;

	if (cloud_wait_limit(&limit, cause) != 0)
		return NULL;
	return aws_open(region, cause);
}

static void
aws_provider_close(void *s)
{
	aws_free(s);
}

static const char *
aws_provider_region(void *s)
{
	return ((struct aws *)s)->region;
}

/* An instance's hourly cost: its type (its spot price when answers ask
 * for spot and one is known), its 30 GB disk, its public IPv4 address.
 * *known is cleared for a type the table lacks. */
static double
aws_instance_hourly(json_t *answers, const char *type, int spot,
    int *known)
{
	double price = spot ? aws_type_hourly(answers, type) : aws_price(type);

	if (price < 0)
		*known = 0;
	return (price > 0 ? price : 0) + AWS_EBS_HOURLY + AWS_IPV4_HOURLY;
}

/* ", spot (persistent, stopped on interruption)" for a machine asked as
 * spot, else "". */
static const char *
aws_spot_words(const struct aws_spot *sp)
{
	if (sp == NULL)
		return "";
	return sp->persistent ? ", spot (persistent request, stopped if "
	    "reclaimed)" : ", spot (one-time request, terminated if "
	    "reclaimed)";
}

/* The plan's machines: the bastion alone, or a cluster's head, its N
 * nodes (one entry, "count": N; hourly_usd of them all, each_hourly_usd
 * of one: a display says "N x node"), their group and launch template.
 * Returns the hourly cost of all, or -1 with a cause. */
static double
aws_plan_machines(json_t *answers, json_t *res, char **cause)
{
	const struct engine *e = engine_of(answers);
	const struct aws_os *os;
	const struct aws_spot *sp;
	const char *type, *head_type;
	json_t *v;
	json_int_t n = 1;
	double head, node;
	int known = 1;

	if ((os = aws_os_find(e, cause)) == NULL)
		return -1;
	if (e == NULL || !e->nodes) {
		type = aws_answer_str(answers, "instance_type",
		    AWS_DEFAULT_TYPE);
		sp = aws_spot_of(answers, 1);
		head = aws_instance_hourly(answers, type, sp != NULL, &known);
		json_array_append_new(res, json_pack("{s:s, s:s, s:s+++++, "
		    "s:f}", "kind", "instance", "name", "bastion", "detail",
		    type, ", ", os->label, ", 30 GB encrypted gp3, public IPv4",
		    aws_spot_words(sp), known ? "" : " (price unknown)",
		    "hourly_usd", head));
		return head;
	}
	if (json_is_integer(v = json_object_get(answers, "nodes")) &&
	    json_integer_value(v) > 0)
		n = json_integer_value(v);
	head_type = aws_answer_str(answers, "head_instance_type",
	    AWS_HEAD_TYPE);
	type = aws_answer_str(answers, "instance_type", AWS_DEFAULT_TYPE);
	head = aws_instance_hourly(answers, head_type, 0, &known);
	json_array_append_new(res, json_pack("{s:s, s:s, s:s++++, s:f, s:i}",
	    "kind", "instance", "name", "head", "detail", head_type, ", ",
	    os->label, ", 30 GB encrypted gp3, public IPv4; runs the "
	    "scheduler", known ? "" : " (price unknown)", "hourly_usd", head,
	    "count", 1));
	known = 1;
	sp = aws_spot_of(answers, 0);
	node = aws_instance_hourly(answers, type, sp != NULL, &known);
	json_array_append_new(res, json_pack("{s:s, s:s, s:s+++++, s:f, s:f, "
	    "s:I}", "kind", "instance", "name", "node", "detail", type, ", ",
	    os->label,
	    ", 30 GB encrypted gp3; runs the tasks", aws_spot_words(sp),
	    known ? "" : " (price unknown)", "hourly_usd", node * (double)n,
	    "each_hourly_usd", node, "count", n));
	json_array_append_new(res, json_pack("{s:s, s:s, s:s, s:f}", "kind",
	    "security_group", "name", "compute group", "detail",
	    "the nodes: traffic from the head and each other only, no SSH "
	    "from outside", "hourly_usd", 0.0));
	json_array_append_new(res, json_pack("{s:s, s:s, s:s+, s:f}", "kind",
	    "launch_template", "name", "launch template", "detail", type,
	    " nodes: IMDSv2 required, encrypted disks", "hourly_usd", 0.0));
	return head + node * (double)n;
}

/* The instance role, when the project reads or writes a bucket. */
static void
aws_plan_role(json_t *answers, json_t *res)
{
	const char *dir = json_string_value(json_object_get(answers,
	    "project"));
	const struct store_url *in, *out;
	struct project pr;
	char *why = NULL;

	if (dir == NULL || project_load(dir, &pr, &why) != 0) {
		free(why);
		return;
	}
	in = pr.inputs_url;
	out = pr.results_url;
	if (in != NULL || out != NULL)
		json_array_append_new(res, json_pack("{s:s, s:s, s:s++++++++, "
		    "s:f}", "kind", "iam_role", "name", "instance role",
		    "detail", in != NULL ? "reads s3://" : "",
		    in != NULL ? in->bucket : "", in != NULL ? "/" : "",
		    in != NULL ? in->prefix : "", in != NULL && out != NULL ?
		    "; " : "", out != NULL ? "writes s3://" : "",
		    out != NULL ? out->bucket : "", out != NULL ? "/" : "",
		    out != NULL ? out->prefix : "", "hourly_usd", 0.0));
	project_free(&pr);
}

static json_t *
aws_provider_plan(void *s, json_t *answers, char **cause)
{
	struct aws *a = s;
	const struct engine *e = engine_of(answers);
	char *account, *arn, *ip, *why = NULL, *note;
	double total;
	json_t *plan, *res;

	/* The machines first: nothing is asked of anyone for a type the
	 * region lacks or a size nothing fits. */
	if (aws_machine_settle(s, answers, cause) != 0 ||
	    (note = aws_prices_note(cause)) == NULL)
		return NULL;
	if (aws_sts_identity(a, &account, &arn, cause) != 0) {
		free(note);
		return NULL;
	}
	ip = cloud_checkip(&why);
	res = json_array();
	json_array_append_new(res, json_pack("{s:s, s:s, s:s, s:f}", "kind",
	    "key_pair", "name", "ed25519 key pair", "detail",
	    "private key kept 0600 beside the history record", "hourly_usd",
	    0.0));
	json_array_append_new(res, json_pack("{s:s, s:s, s:s+, s:f}", "kind",
	    "security_group", "name", "security group", "detail",
	    ip != NULL ? "SSH (tcp 22) from your address only" :
	    "SSH (tcp 22): your address is unknown", e != NULL && e->nodes ?
	    "; the nodes' traffic" : "", "hourly_usd", 0.0));
	aws_plan_role(answers, res);
	if ((total = aws_plan_machines(answers, res, cause)) < 0) {
		json_decref(res);
		free(note);
		free(account);
		free(arn);
		free(ip);
		free(why);
		return NULL;
	}
	plan = json_pack("{s:s++, s:s, s:s, s:s, s:s?, s:s?, s:o, s:f, s:s, "
	    "s:s?}", "identity", account, " ", arn, "account", account, "arn",
	    arn, "region", a->region, "ssh_from", ip != NULL ? ip : NULL,
	    "ssh_from_error", why, "resources", res, "hourly_usd", total,
	    "prices", note, "machine", history_str(json_object_get(answers,
	    "machine"), "why", NULL));
	free(note);
	if (ip != NULL) {
		json_object_set_new(plan, "ssh_from", json_sprintf("%s/32",
		    ip));
	}
	free(account);
	free(arn);
	free(ip);
	free(why);
	return plan;
}

/* Resume, cleanup and orphans ---------------------------------------- */

/* Non-zero when a resource of run's record other than skip names id. */
static int
aws_recorded(struct cloud_run *run, json_t *skip, const char *id)
{
	json_t *res;
	size_t i;
	int found = 0;

	pthread_mutex_lock(&run->lock);
	json_array_foreach(json_object_get(run->rec, "resources"), i, res) {
		if (res != skip && strcmp(history_str(res, "id", ""), id) == 0) {
			found = 1;
			break;
		}
	}
	pthread_mutex_unlock(&run->lock);
	return found;
}

/* The ids of every resource of run's record (orphans: none). */
static json_t *
aws_recorded_ids(struct cloud_run *run)
{
	json_t *ids = json_array(), *res;
	size_t i;

	if (run->rec == NULL)
		return ids;
	pthread_mutex_lock(&run->lock);
	json_array_foreach(json_object_get(run->rec, "resources"), i, res) {
		if (json_is_string(json_object_get(res, "id")))
			json_array_append(ids, json_object_get(res, "id"));
	}
	pthread_mutex_unlock(&run->lock);
	return ids;
}

static int
aws_recover_key_pair(struct cloud_run *run, json_t *res, char **id,
    char **cause)
{
	return aws_ec2_find_key_pair(aws_of(run), history_str(res, "name", ""),
	    id, cause);
}

static int
aws_recover_group(struct cloud_run *run, json_t *res, char **id,
    char **cause)
{
	return aws_ec2_find_security_group(aws_of(run), history_str(res,
	    "name", ""), id, cause);
}

static int
aws_recover_template(struct cloud_run *run, json_t *res, char **id,
    char **cause)
{
	return aws_ec2_find_launch_template(aws_of(run), history_str(res,
	    "name", ""), id, cause);
}

/* An instance whose id the record lacks: one carrying the token tag of
 * its call (node1..N share one: each takes the first one no other
 * resource holds, in launch order), else (a record made before that tag)
 * the bastion by its run-set and Name tags. Never another resource's. */
static int
aws_recover_instance(struct cloud_run *run, json_t *res, char **id,
    char **cause)
{
	const char *token = history_str(res, "token", NULL);
	const char *name = history_str(res, "name", "");
	json_t *ids = NULL, *v;
	char *tag;
	size_t i;
	int rc = 0;

	*id = NULL;
	if (token != NULL && aws_ec2_instances_tagged(aws_of(run),
	    AWS_TOKEN_TAG, token, "fanout:run-set", run->id, &ids, cause) != 0)
		return -1;
	if ((ids == NULL || json_array_size(ids) == 0) &&
	    strcmp(name, "bastion") == 0) {
		json_decref(ids);
		tag = xprintf("fanout-%s", name);
		rc = aws_ec2_instances_tagged(aws_of(run), "fanout:run-set",
		    run->id, "Name", tag, &ids, cause);
		free(tag);
		if (rc != 0)
			return -1;
	}
	json_array_foreach(ids, i, v) {
		if (!aws_recorded(run, res, json_string_value(v))) {
			*id = xstrdup(json_string_value(v));
			rc = 1;
			break;
		}
	}
	json_decref(ids);
	return rc;
}

/* 1 exists, 0 gone, by what recovery finds (the name). */
static int
aws_exists_by_name(struct cloud_run *run, json_t *res, char **cause,
    int (*find)(struct cloud_run *, json_t *, char **, char **))
{
	char *id = NULL;
	int rc = find(run, res, &id, cause);

	free(id);
	return rc;
}

static int
aws_exists_key_pair(struct cloud_run *run, json_t *res, char **cause)
{
	return aws_exists_by_name(run, res, cause, aws_recover_key_pair);
}

static int
aws_exists_group(struct cloud_run *run, json_t *res, char **cause)
{
	return aws_exists_by_name(run, res, cause, aws_recover_group);
}

static int
aws_exists_role(struct cloud_run *run, json_t *res, char **cause)
{
	return aws_exists_by_name(run, res, cause, aws_recover_role);
}

static int
aws_exists_profile(struct cloud_run *run, json_t *res, char **cause)
{
	return aws_exists_by_name(run, res, cause, aws_recover_profile);
}

static int
aws_exists_template(struct cloud_run *run, json_t *res, char **cause)
{
	return aws_ec2_launch_template_exists(aws_of(run), history_str(res,
	    "id", ""), cause);
}

static int
aws_exists_instance(struct cloud_run *run, json_t *res, char **cause)
{
	struct aws_instance in;
	int rc;

	rc = aws_ec2_describe_instance(aws_of(run), history_str(res, "id", ""),
	    &in, cause);
	if (rc == 1 && (strcmp(in.state, "terminated") == 0 ||
	    strcmp(in.state, "shutting-down") == 0))
		rc = 0;
	aws_instance_free(&in);
	return rc;
}

/* The time in an instance's StateTransitionReason ("User initiated
 * (2026-11-30 17:00:00 GMT)"), or -1. */
static double
aws_reason_time(const char *reason)
{
	const char *p = reason != NULL ? strchr(reason, '(') : NULL;
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	if (p == NULL || sscanf(p + 1, "%d-%d-%d %d:%d:%d", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6 ||
	    tm.tm_year < 2000 || tm.tm_mon < 1 || tm.tm_mon > 12)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (double)timegm(&tm);
}

static int
aws_revive_instance(struct cloud_run *run, json_t *res, char **cause)
{
	const char *id = history_str(res, "id", NULL);
	const char *step = history_str(res, "name", "bastion");
	struct aws_instance in;
	int rc;

	if (aws_wait_instance(run, step, id, "running stopped", &in,
	    cause) != 0)
		return -1;
	if (strcmp(in.state, "stopped") == 0) {
		/* Stopped by itself (idle) since the record last looked. */
		if (cloud_power_note(run, res, "stopped",
		    aws_reason_time(in.reason), "noticed", cause) != 0) {
			aws_instance_free(&in);
			return -1;
		}
		aws_instance_free(&in);
		event_log(run->sink, step, "starting %s", id);
		if (aws_ec2_start_instance(aws_of(run), id, cause) != 0 ||
		    aws_wait_instance(run, step, id, "running", &in,
		    cause) != 0)
			return -1;
	}
	if (cloud_power_note(run, res, "running", time_now(), "fanout",
	    cause) != 0) {
		aws_instance_free(&in);
		return -1;
	}
	rc = aws_record_address(run, res, &in, cause);
	aws_instance_free(&in);
	return rc;
}

static int
aws_park_instance(struct cloud_run *run, json_t *res, char **cause)
{
	const char *id = history_str(res, "id", NULL);
	const char *step = history_str(res, "name", "bastion");
	struct aws_instance in;
	char *why = NULL;
	double since;
	int running;

	/* Terminated already (a spot reclaim took a node): nothing to stop;
	 * the cleanup finds it gone. */
	if (aws_exists_instance(run, res, &why) == 0) {
		event_log(run->sink, step, "%s was terminated: nothing to stop",
		    id);
		return 0;
	}
	free(why);
	/* A pending instance cannot be stopped (IncorrectInstanceState):
	 * one still booting (a create cut short) is waited for first. */
	if (aws_wait_instance(run, step, id, "running stopping stopped", &in,
	    cause) != 0)
		return -1;
	running = strcmp(in.state, "running") == 0;
	since = running ? -1 : aws_reason_time(in.reason);
	aws_instance_free(&in);
	if (running) {
		event_log(run->sink, step, "stopping %s", id);
		if (aws_ec2_stop_instance(aws_of(run), id, cause) != 0)
			return -1;
	}
	if (aws_wait_instance(run, step, id, "stopped", NULL, cause) != 0)
		return -1;
	return cloud_power_note(run, res, "stopped", since >= 0 ? since :
	    time_now(), running ? "fanout" : "noticed", cause);
}

static int
aws_power_instance(struct cloud_run *run, json_t *res, char **state,
    double *since, char **cause)
{
	struct aws_instance in;
	int rc;

	*state = NULL;
	*since = -1;
	rc = aws_ec2_describe_instance(aws_of(run), history_str(res, "id", ""),
	    &in, cause);
	if (rc < 0)
		return -1;
	*state = xstrdup(rc == 0 || in.state == NULL ? "terminated" :
	    in.state);
	if (rc == 1)
		*since = aws_reason_time(in.reason);
	aws_instance_free(&in);
	return 0;
}

/* The instances that carry token's tag and that no resource of the
 * record holds (duplicates of a retried call that a crash kept from
 * being dropped), polling through transient errors until the wait's
 * deadline. */
static int
aws_unrecorded(struct cloud_run *run, const char *token, json_t **out,
    char **cause)
{
	struct cloud_poll w;
	json_t *ids, *keep, *v, *k;
	char *why = NULL, *late;
	size_t i, j;
	int rc;

	*out = NULL;
	cloud_poll_init(&w);
	while ((rc = aws_ec2_instances_tagged(aws_of(run), AWS_TOKEN_TAG,
	    token, "fanout:run-set", run->id, &ids, &why)) ==
	    CLOUD_ETRANSIENT) {
		event_log(run->sink, "cleanup", "the look for duplicates of %s "
		    "failed (%s); trying again", token, why);
		if (cloud_poll_next(run, &w, &late) != 0) {
			xasprintf(cause, "%s (for %s)", why, late);
			free(late);
			free(why);
			return -1;
		}
		free(why);
		why = NULL;
	}
	if (rc != 0) {
		*cause = why;
		return -1;
	}
	keep = aws_recorded_ids(run);
	*out = json_array();
	json_array_foreach(ids, i, v) {
		json_array_foreach(keep, j, k) {
			if (json_equal(k, v))
				break;
		}
		if (j == json_array_size(keep))
			json_array_append(*out, v);
	}
	json_decref(keep);
	json_decref(ids);
	return 0;
}

/* Cancels the spot requests of an instance of run before it goes (a
 * persistent request would launch another after the terminate): the one
 * the instance names, and, for a resource made as spot, any request
 * tagged with its call's token (one whose instance a crash kept from
 * being recorded, or that has none yet). ids: the instances that go. */
static int
aws_cancel_spot(struct cloud_run *run, json_t *res, json_t *ids,
    char **cause)
{
	const char *token = history_str(res, "token", NULL);
	struct aws_instance in;
	json_t *reqs = NULL, *v;
	size_t i;
	int rc;

	if (json_is_string(json_object_get(res, "spot")) && token != NULL &&
	    run->id != NULL) {
		if (aws_ec2_spot_requests(aws_of(run), AWS_TOKEN_TAG, token,
		    "fanout:run-set", run->id, &reqs, cause) != 0)
			return -1;
	} else
		reqs = json_array();
	json_array_foreach(ids, i, v) {
		rc = aws_ec2_describe_instance(aws_of(run),
		    json_string_value(v), &in, cause);
		if (rc < 0) {
			json_decref(reqs);
			return -1;
		}
		if (rc == 1 && in.spot_request != NULL)
			json_array_append_new(reqs, json_string(
			    in.spot_request));
		if (rc == 1)
			aws_instance_free(&in);
	}
	json_array_foreach(reqs, i, v) {
		event_log(run->sink, "cleanup", "cancelling spot request %s",
		    json_string_value(v));
		if (aws_ec2_cancel_spot_request(aws_of(run),
		    json_string_value(v), cause) != 0) {
			json_decref(reqs);
			return -1;
		}
	}
	json_decref(reqs);
	return 0;
}

/* Terminates the recorded instance, and waits until it is gone. Other
 * instances of the run set are theirs to delete (each is recorded, or
 * recovered first); only those that carry this one's token tag and that
 * no resource holds go with it. An orphan goes alone. */
static int
aws_destroy_instance(struct cloud_run *run, json_t *res, char **cause)
{
	const char *id = history_str(res, "id", NULL);
	const char *token = history_str(res, "token", NULL);
	json_t *ids, *v;
	size_t i;

	if (token != NULL && run->id != NULL &&
	    !json_is_true(json_object_get(res, "orphan"))) {
		if (aws_unrecorded(run, token, &ids, cause) != 0)
			return -1;
		json_array_foreach(ids, i, v)
			event_log(run->sink, "cleanup", "terminating %s, a "
			    "duplicate from a retried request",
			    json_string_value(v));
	} else
		ids = json_array();
	if (id != NULL)
		json_array_insert_new(ids, 0, json_string(id));
	/* Spot: the request goes first, else a persistent one relaunches.
	 * An orphan may be spot too: its own request is asked. */
	if ((json_is_string(json_object_get(res, "spot")) ||
	    json_is_true(json_object_get(res, "orphan"))) &&
	    aws_cancel_spot(run, res, ids, cause) != 0)
		goto fail;
	json_array_foreach(ids, i, v) {
		if (aws_ec2_terminate_instance(aws_of(run),
		    json_string_value(v), cause) != 0)
			goto fail;
	}
	json_array_foreach(ids, i, v) {
		if (aws_wait_instance(run, "cleanup", json_string_value(v),
		    "gone", NULL, cause) != 0)
			goto fail;
	}
	json_decref(ids);
	return 0;
fail:
	json_decref(ids);
	return -1;
}

/* Deletes a security group, waiting while it is still in use (its
 * instance's network interface goes some time after the instance) and
 * through transient errors, until the wait's deadline. Rules that tie it
 * to another group (the head's and the compute group name each other)
 * go first: a group another one names cannot be deleted. */
static int
aws_destroy_group(struct cloud_run *run, json_t *res, char **cause)
{
	const char *id = history_str(res, "id", NULL);
	struct cloud_poll w;
	char *why = NULL, *late;
	json_t *ties, *t;
	size_t i;
	int rc;

	if (id == NULL)
		return 0;
	cloud_poll_init(&w);
	for (;;) {
		rc = aws_ec2_group_ties(aws_of(run), id, &ties, &why);
		json_array_foreach(ties, i, t) {
			event_log(run->sink, "cleanup", "revoking %s's rule "
			    "for traffic from %s", json_string_value(
			    json_array_get(t, 0)), json_string_value(
			    json_array_get(t, 1)));
			if ((rc = aws_ec2_revoke_group(aws_of(run),
			    json_string_value(json_array_get(t, 0)),
			    json_string_value(json_array_get(t, 1)),
			    json_string_value(json_array_get(t, 2)),
			    &why)) != 0)
				break;
		}
		json_decref(ties);
		if (rc == 0)
			rc = aws_ec2_delete_security_group(aws_of(run), id,
			    &why);
		if (rc == 0)
			return 0;
		if (rc != CLOUD_EINUSE && rc != CLOUD_ETRANSIENT) {
			*cause = why;
			return -1;
		}
		event_log(run->sink, "cleanup", "%s %s (%s); retrying", id,
		    rc == CLOUD_EINUSE ? "is still in use" :
		    "could not be deleted yet", why);
		if (cloud_poll_next(run, &w, &late) != 0) {
			if (strcmp(late, "cancelled") == 0)
				xasprintf(cause, "cancelled while deleting "
				    "security group %s: %s", id, why);
			else
				xasprintf(cause, "security group %s is still "
				    "there after %s: %s", id, late, why);
			free(late);
			free(why);
			return -1;
		}
		free(why);
		why = NULL;
	}
}

static int
aws_destroy_template(struct cloud_run *run, json_t *res, char **cause)
{
	const char *id = history_str(res, "id", NULL);

	return id == NULL ? 0 : aws_ec2_delete_launch_template(aws_of(run), id,
	    cause);
}

static int
aws_destroy_key_pair(struct cloud_run *run, json_t *res, char **cause)
{
	char *path;
	int rc = 0;

	if (aws_ec2_delete_key_pair(aws_of(run), history_str(res, "name", ""),
	    cause) != 0)
		return -1;
	if (json_is_true(json_object_get(res, "orphan")) || run->id == NULL)
		return 0;
	path = history_file(run->id, ".key");
	if (unlink(path) != 0 && errno != ENOENT) {
		xasprintf(cause, "cannot remove %s: %s", path,
		    strerror(errno));
		rc = -1;
	}
	free(path);
	return rc;
}

/* What each kind of resource needs done (NULL: nothing for that kind). */
static const struct cloud_kind aws_kind_table[] = {
	{ "key_pair", aws_recover_key_pair, aws_exists_key_pair,
	    aws_destroy_key_pair, NULL, NULL },
	{ "security_group", aws_recover_group, aws_exists_group,
	    aws_destroy_group, NULL, NULL },
	{ "launch_template", aws_recover_template, aws_exists_template,
	    aws_destroy_template, NULL, NULL },
	{ "instance", aws_recover_instance, aws_exists_instance,
	    aws_destroy_instance, aws_park_instance, aws_revive_instance },
	{ "iam_role", aws_recover_role, aws_exists_role, aws_destroy_role,
	    NULL, NULL },
	{ "instance_profile", aws_recover_profile, aws_exists_profile,
	    aws_destroy_profile, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL }
};
/* The same kinds, for provider.kinds. */
static const char *const aws_kinds[] = { "key_pair", "security_group",
    "launch_template", "instance", "iam_role", "instance_profile", NULL };

/* The table's entry for res's kind, or NULL with a cause. */
static int
aws_provider_power(struct cloud_run *run, json_t *res, char **state,
    double *since, char **cause)
{
	if (strcmp(history_str(res, "kind", ""), "instance") != 0) {
		xasprintf(cause, "%s %s has no power state",
		    history_str(res, "kind", ""), history_str(res, "name", ""));
		return -1;
	}
	return aws_power_instance(run, res, state, since, cause);
}

static json_t *
aws_provider_tagged(void *s, char **cause)
{
	json_t *out = aws_ec2_tagged(s, cause);

	/* Profiles and roles last: the instances that use them go
	 * first. */
	if (out != NULL && aws_iam_tagged(s, out, cause) != 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

const struct provider provider_aws = {
	.name = "aws",
	.kinds = aws_kinds,
	.kind_ops = aws_kind_table,
	.open = aws_provider_open,
	.close = aws_provider_close,
	.region = aws_provider_region,
	.plan = aws_provider_plan,
	.blocks = { [CLOUD_BLOCK_BASE] = aws_base_steps,
	    [CLOUD_BLOCK_HEAD] = aws_head_steps,
	    [CLOUD_BLOCK_FLEET] = aws_fleet_steps,
	    [CLOUD_BLOCK_ROLE] = aws_role_steps },
	.state_new = aws_state_new,
	.state_free = aws_state_free,
	.recover = cloud_kind_recover,
	.exists = cloud_kind_exists,
	.revive = cloud_kind_revive,
	.park = cloud_kind_park,
	.power = aws_provider_power,
	.destroy = cloud_kind_destroy,
	.tagged = aws_provider_tagged,
	.regions = aws_regions,
	.config_region = aws_config_region,
	.instance_types = aws_provider_instance_types,
	.settle = aws_machine_settle,
	.default_instance_type = AWS_DEFAULT_TYPE,
	.default_head_type = AWS_HEAD_TYPE,
	.store_check = aws_store_check,
	.store_fetch = aws_store_fetch,
	.store_put = aws_store_put,
	.store_scheme = "s3",
	.detach = 1,
};
