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
#include "cloud/provider.h"
#include "event.h"
#include "history/history.h"
#include "util/fs.h"
#include "util/xmalloc.h"

/* On-demand Linux prices in us-east-1, USD per hour: estimates taken from
 * the AWS price list in June 2024; other regions and later dates differ. */
static const struct {
	const char	*type;
	double		 hourly;
} aws_prices[] = {
	{ "t3.micro", 0.0104 }, { "t3.small", 0.0208 },
	{ "t3.medium", 0.0416 }, { "t3.large", 0.0832 },
	{ "t3.xlarge", 0.1664 }, { "c5.large", 0.085 },
	{ "m5.large", 0.096 }, { NULL, 0 }
};
#define AWS_PRICE_NOTE "estimates: us-east-1 on-demand prices of June 2024"

static struct aws *
aws_of(struct cloud_run *run)
{
	return run->session;
}

double
aws_price(const char *type)
{
	size_t i;

	for (i = 0; aws_prices[i].type != NULL; i++) {
		if (strcmp(aws_prices[i].type, type) == 0)
			return aws_prices[i].hourly;
	}
	return -1;
}

/* The price table as provider.h's instance_types. */
static json_t *
aws_provider_instance_types(char **cause)
{
	json_t *types = json_array();
	size_t i;

	(void)cause;
	for (i = 0; aws_prices[i].type != NULL; i++)
		json_array_append_new(types, json_pack("{s:s, s:f}", "name",
		    aws_prices[i].type, "hourly_usd", aws_prices[i].hourly));
	return types;
}

static void *
aws_provider_open(const char *region, char **cause)
{
	double limit;

	if (aws_wait_limit(&limit, cause) != 0)
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

static json_t *
aws_provider_plan(void *s, json_t *answers, char **cause)
{
	struct aws *a = s;
	const char *type = aws_answer_str(answers, "instance_type",
	    AWS_DEFAULT_TYPE);
	char *account, *arn, *ip, *why = NULL;
	double hourly = aws_price(type), total;
	json_t *plan, *res;

	if (aws_sts_identity(a, &account, &arn, cause) != 0)
		return NULL;
	ip = cloud_checkip(&why);
	res = json_array();
	json_array_append_new(res, json_pack("{s:s, s:s, s:s, s:f}", "kind",
	    "key_pair", "name", "ed25519 key pair", "detail",
	    "private key kept 0600 beside the history record", "hourly_usd",
	    0.0));
	json_array_append_new(res, json_pack("{s:s, s:s, s:s, s:f}", "kind",
	    "security_group", "name", "security group", "detail",
	    ip != NULL ? "SSH (tcp 22) from your address only" :
	    "SSH (tcp 22): your address is unknown", "hourly_usd", 0.0));
	total = (hourly > 0 ? hourly : 0) + AWS_EBS_HOURLY + AWS_IPV4_HOURLY;
	json_array_append_new(res, json_pack("{s:s, s:s, s:s++, s:f}", "kind",
	    "instance", "name", "bastion", "detail", type,
	    ", Amazon Linux 2023, 30 GB encrypted gp3, public IPv4",
	    hourly > 0 ? "" : " (price unknown)", "hourly_usd", total));
	plan = json_pack("{s:s++, s:s, s:s, s:s, s:s?, s:s?, s:o, s:f, s:s}",
	    "identity", account, " ", arn, "account", account, "arn", arn,
	    "region", a->region, "ssh_from", ip != NULL ? ip : NULL,
	    "ssh_from_error", why, "resources", res, "hourly_usd", total,
	    "prices", AWS_PRICE_NOTE);
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

static int
aws_provider_recover(struct cloud_run *run, json_t *res, char **id,
    char **cause)
{
	const char *kind = history_str(res, "kind", "");
	const char *name = history_str(res, "name", "");
	json_t *ids;
	int rc;

	*id = NULL;
	if (strcmp(kind, "key_pair") == 0)
		return aws_ec2_find_key_pair(aws_of(run), name, id, cause);
	if (strcmp(kind, "security_group") == 0)
		return aws_ec2_find_security_group(aws_of(run), name, id,
		    cause);
	if (strcmp(kind, "instance") == 0) {
		/* moto and older regions lack the client-token filter: the
		 * run-set tag finds it as well. */
		if ((ids = aws_ec2_find_instances(aws_of(run), run->id,
		    cause)) == NULL)
			return -1;
		rc = json_array_size(ids) > 0;
		if (rc)
			*id = xstrdup(json_string_value(json_array_get(ids,
			    0)));
		json_decref(ids);
		return rc;
	}
	xasprintf(cause, "unknown resource kind '%s' in the record", kind);
	return -1;
}

static int
aws_provider_exists(struct cloud_run *run, json_t *res, char **cause)
{
	const char *kind = history_str(res, "kind", "");
	struct aws_instance in;
	char *id = NULL;
	int rc;

	if (strcmp(kind, "instance") == 0) {
		rc = aws_ec2_describe_instance(aws_of(run),
		    history_str(res, "id", ""), &in, cause);
		if (rc == 1 && (strcmp(in.state, "terminated") == 0 ||
		    strcmp(in.state, "shutting-down") == 0))
			rc = 0;
		aws_instance_free(&in);
		return rc;
	}
	rc = aws_provider_recover(run, res, &id, cause);
	free(id);
	return rc;
}

static int
aws_provider_revive(struct cloud_run *run, json_t *res, char **cause)
{
	const char *id = history_str(res, "id", NULL);
	struct aws_instance in;
	int rc;

	if (strcmp(history_str(res, "kind", ""), "instance") != 0)
		return 0;
	if (aws_wait_instance(run, "bastion", id, "running stopped", &in,
	    cause) != 0)
		return -1;
	if (strcmp(in.state, "stopped") == 0) {
		aws_instance_free(&in);
		event_log(run->sink, "bastion", "starting %s", id);
		if (aws_ec2_start_instance(aws_of(run), id, cause) != 0 ||
		    aws_wait_instance(run, "bastion", id, "running", &in,
		    cause) != 0)
			return -1;
	}
	rc = aws_record_address(run, res, &in, cause);
	aws_instance_free(&in);
	return rc;
}

static int
aws_provider_park(struct cloud_run *run, json_t *res, char **cause)
{
	const char *id = history_str(res, "id", NULL);
	struct aws_instance in;
	int running;

	if (strcmp(history_str(res, "kind", ""), "instance") != 0)
		return 0;
	/* A pending instance cannot be stopped (IncorrectInstanceState):
	 * one still booting (a create cut short) is waited for first. */
	if (aws_wait_instance(run, "bastion", id, "running stopping stopped",
	    &in, cause) != 0)
		return -1;
	running = strcmp(in.state, "running") == 0;
	aws_instance_free(&in);
	if (running) {
		event_log(run->sink, "bastion", "stopping %s", id);
		if (aws_ec2_stop_instance(aws_of(run), id, cause) != 0)
			return -1;
	}
	return aws_wait_instance(run, "bastion", id, "stopped", NULL, cause);
}

static int
aws_destroy_instance(struct cloud_run *run, json_t *res, char **cause)
{
	json_t *ids, *v;
	size_t i;
	const char *id = history_str(res, "id", NULL);

	/* The recorded one and any other instance of this run set (an
	 * orphan is deleted alone: its run set may be live). */
	if (json_is_true(json_object_get(res, "orphan")) || run->id == NULL)
		ids = json_array();
	else if ((ids = aws_ec2_find_instances(aws_of(run), run->id,
	    cause)) == NULL)
		return -1;
	if (id != NULL) {
		json_array_foreach(ids, i, v) {
			if (strcmp(json_string_value(v), id) == 0)
				break;
		}
		if (i == json_array_size(ids))
			json_array_append_new(ids, json_string(id));
	}
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
 * through transient errors, until the wait's deadline. */
static int
aws_destroy_group(struct cloud_run *run, const char *id, char **cause)
{
	struct aws_poll w;
	char *why = NULL, *late;
	int rc;

	aws_poll_init(&w);
	for (;;) {
		rc = aws_ec2_delete_security_group(aws_of(run), id, &why);
		if (rc == 0)
			return 0;
		if (rc != CLOUD_EINUSE && rc != CLOUD_ETRANSIENT) {
			*cause = why;
			return -1;
		}
		event_log(run->sink, "cleanup", "%s %s (%s); retrying", id,
		    rc == CLOUD_EINUSE ? "is still in use" :
		    "could not be deleted yet", why);
		if (aws_poll_next(run, &w, &late) != 0) {
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
aws_provider_destroy(struct cloud_run *run, json_t *res, char **cause)
{
	const char *kind = history_str(res, "kind", "");
	const char *id = history_str(res, "id", NULL);
	char *path;
	int rc = 0;

	if (strcmp(kind, "instance") == 0)
		return aws_destroy_instance(run, res, cause);
	if (strcmp(kind, "security_group") == 0)
		return id == NULL ? 0 : aws_destroy_group(run, id, cause);
	if (strcmp(kind, "key_pair") == 0) {
		if (aws_ec2_delete_key_pair(aws_of(run),
		    history_str(res, "name", ""), cause) != 0)
			return -1;
		if (json_is_true(json_object_get(res, "orphan")) ||
		    run->id == NULL)
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
	xasprintf(cause, "unknown resource kind '%s' in the record", kind);
	return -1;
}

static json_t *
aws_provider_tagged(void *s, char **cause)
{
	return aws_ec2_tagged(s, cause);
}

static const char *const aws_kinds[] = { "key_pair", "security_group",
    "instance", NULL };

const struct provider provider_aws = {
	.name = "aws",
	.kinds = aws_kinds,
	.open = aws_provider_open,
	.close = aws_provider_close,
	.region = aws_provider_region,
	.plan = aws_provider_plan,
	.blocks = { [CLOUD_BLOCK_BASE] = aws_base_steps,
	    [CLOUD_BLOCK_HEAD] = aws_head_steps },
	.state_new = aws_state_new,
	.state_free = aws_state_free,
	.recover = aws_provider_recover,
	.exists = aws_provider_exists,
	.revive = aws_provider_revive,
	.park = aws_provider_park,
	.destroy = aws_provider_destroy,
	.tagged = aws_provider_tagged,
	.regions = aws_regions,
	.config_region = aws_config_region,
	.instance_types = aws_provider_instance_types,
	.default_instance_type = AWS_DEFAULT_TYPE,
};
