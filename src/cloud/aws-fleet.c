/* CLOUD_BLOCK_FLEET on AWS: a cluster's compute nodes (DESIGN.md
 * "Clusters"). A security group of their own that lets in only the
 * cluster's traffic (the nodes' and the head's, no SSH from outside; and
 * the head's group lets the nodes in, for slurmd -> slurmctld), a launch
 * template, then N instances from it in one RunInstances whose
 * ClientToken the record holds first, and the wait until all run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/aws.h"
#include "cloud/aws-internal.h"
#include "cloud/ec2.h"
#include "cloud/provider.h"
#include "event.h"
#include "history/history.h"
#include "util/xmalloc.h"

static struct aws *
aws_of(struct cloud_run *run)
{
	return run->session;
}

static struct aws_state *
state_of(struct cloud_run *run)
{
	return run->state;
}

/* The number of nodes the answers ask for (1 when none). */
static int
fleet_count(struct cloud_run *run, char **cause)
{
	json_t *v = json_object_get(run->answers, "nodes");
	json_int_t n;

	if (v == NULL || json_is_null(v))
		return 1;
	n = json_integer_value(v);
	if (!json_is_integer(v) || n < 1 || n > AWS_MAX_NODES) {
		xasprintf(cause, "nodes must be a whole number from 1 to %d",
		    AWS_MAX_NODES);
		return -1;
	}
	return (int)n;
}

/* The instance type of the nodes: the machines that run the tasks. */
static const char *
fleet_type(struct cloud_run *run)
{
	return aws_answer_str(run->answers, "instance_type", AWS_DEFAULT_TYPE);
}

/* Appends rule to the "ingress" list of res, saved. */
static int
fleet_add_ingress(struct cloud_run *run, json_t *res, json_t *rule,
    char **cause)
{
	json_t *list, *v;
	size_t i;

	pthread_mutex_lock(&run->lock);
	list = json_deep_copy(json_object_get(res, "ingress"));
	pthread_mutex_unlock(&run->lock);
	if (!json_is_array(list)) {
		json_decref(list);
		list = json_array();
	}
	json_array_foreach(list, i, v) {
		if (json_equal(v, rule)) {
			json_decref(rule);
			json_decref(list);
			return 0;
		}
	}
	json_array_append_new(list, rule);
	return cloud_resource_set(run, res, "ingress", list, cause);
}

static int
step_compute_group(struct cloud_run *run, char **cause)
{
	struct aws_state *st = state_of(run);
	char *name = xprintf("fanout-%s-compute", run->id);
	char *hname;
	struct aws_tags t = aws_tags_of(run, name);
	json_t *res, *head;
	int rc = -1;

	t.role = "compute";
	if ((res = cloud_intent(run, "security_group", name, NULL, NULL,
	    cause)) == NULL)
		goto out;
	if (cloud_resource_set(run, res, "role", json_string("compute"),
	    cause) != 0)
		goto out;
	if (aws_group_make(run, name, &t, &st->compute_group_id, cause) != 0 ||
	    cloud_created(run, res, st->compute_group_id, cause) != 0)
		goto out;
	/* The nodes talk to each other and the head talks to them; nothing
	 * else comes in (no CIDR rule at all). */
	if (aws_ec2_authorize_group(aws_of(run), st->compute_group_id,
	    st->compute_group_id, cause) != 0 ||
	    fleet_add_ingress(run, res, json_pack("{s:s, s:s}", "protocol",
	    "all", "group", st->compute_group_id), cause) != 0 ||
	    aws_ec2_authorize_group(aws_of(run), st->compute_group_id,
	    st->group_id, cause) != 0 ||
	    fleet_add_ingress(run, res, json_pack("{s:s, s:s}", "protocol",
	    "all", "group", st->group_id), cause) != 0)
		goto out;
	/* slurmd -> slurmctld: the head lets the nodes in. */
	hname = xprintf("fanout-%s", run->id);
	pthread_mutex_lock(&run->lock);
	head = history_resource(run->rec, "security_group", hname);
	pthread_mutex_unlock(&run->lock);
	free(hname);
	if (aws_ec2_authorize_group(aws_of(run), st->group_id,
	    st->compute_group_id, cause) != 0)
		goto out;
	if (head != NULL && fleet_add_ingress(run, head, json_pack("{s:s, "
	    "s:s}", "protocol", "all", "group", st->compute_group_id),
	    cause) != 0)
		goto out;
	event_log(run->sink, "compute group", "%s: traffic from the cluster's "
	    "groups only, no SSH from outside", st->compute_group_id);
	rc = 0;
out:
	free(name);
	return rc;
}

static int
step_launch_template(struct cloud_run *run, char **cause)
{
	static const char *const deps[] = { "key_pair", "security_group",
	    NULL };
	static const char *const deps_role[] = { "key_pair",
	    "security_group", "instance_profile", NULL };
	struct aws_state *st = state_of(run);
	struct aws_template_spec spec;
	char *name = xprintf("fanout-%s-compute", run->id), *why = NULL;
	char *token = xprintf("fanout-%s-template", run->id);
	json_t *res;
	int rc = -1;

	memset(&spec, 0, sizeof spec);
	spec.name = name;
	spec.ami = st->ami;
	spec.type = fleet_type(run);
	spec.key_name = st->key_name;
	spec.group_id = st->compute_group_id;
	spec.token = token;
	spec.tags = aws_tags_of(run, name);
	spec.launch = aws_tags_of(run, "fanout-node");
	spec.launch.role = "compute";
	spec.spot = aws_spot_of(run->answers, 0);
	spec.profile = st->profile;
	if ((res = cloud_intent(run, "launch_template", name, token,
	    st->profile != NULL ? deps_role : deps, cause)) == NULL)
		goto out;
	if (cloud_resource_set(run, res, "instance_type",
	    json_string(spec.type), cause) != 0 ||
	    cloud_resource_set(run, res, "image", json_string(st->ami),
	    cause) != 0)
		goto out;
	if ((rc = aws_ec2_create_launch_template(aws_of(run), &spec,
	    &st->template_id, &why)) != 0) {
		/* A retried call whose first answer was lost: the name is
		 * ours (it holds the run-set id). */
		if (rc != CLOUD_EDUPLICATE ||
		    aws_ec2_find_launch_template(aws_of(run), name,
		    &st->template_id, cause) != 1) {
			if (*cause == NULL)
				*cause = why;
			else
				free(why);
			rc = -1;
			goto out;
		}
		free(why);
	}
	rc = cloud_created(run, res, st->template_id, cause);
	if (rc == 0)
		event_log(run->sink, "launch template", "%s: %s, %s, IMDSv2, "
		    "encrypted gp3", st->template_id, spec.type,
		    st->os->label);
out:
	free(name);
	free(token);
	return rc;
}

/* Writes the intents of node1..nodeN at once (one save), each with the
 * one ClientToken; res[] gets them. */
static int
fleet_intents(struct cloud_run *run, int n, const char *token, json_t **res,
    char **cause)
{
	static const char *const deps[] = { "key_pair", "security_group",
	    "launch_template", NULL };
	struct aws_state *st = state_of(run);
	const char *region = run->provider->region(run->session);
	const char *type = fleet_type(run);
	const struct aws_spot *spot = aws_spot_of(run->answers, 0);
	double price = spot != NULL ? aws_type_hourly(run->answers, type) :
	    aws_price(type);
	char name[32];
	int i, rc;

	pthread_mutex_lock(&run->lock);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "node%d", i + 1);
		if ((res[i] = history_resource(run->rec, "instance", name)) ==
		    NULL)
			res[i] = history_resource_intent(run->rec, "instance",
			    name, region, token, deps);
		json_object_set_new(res[i], "role", json_string("compute"));
		json_object_set_new(res[i], "login_user",
		    json_string(st->os->user));
		json_object_set_new(res[i], "instance_type",
		    json_string(type));
		json_object_set_new(res[i], "hourly_usd", json_real(
		    (price > 0 ? price : 0) + AWS_EBS_HOURLY +
		    AWS_IPV4_HOURLY));
		if (spot != NULL)
			json_object_set_new(res[i], "spot", json_string(
			    spot->persistent ? "persistent" : "one-time"));
		json_object_set_new(res[i], "stopped_hourly_usd",
		    json_real(AWS_STOPPED_HOURLY));
	}
	rc = history_save(run->rec, cause);
	pthread_mutex_unlock(&run->lock);
	return rc;
}

static int
step_nodes(struct cloud_run *run, char **cause)
{
	struct aws_state *st = state_of(run);
	struct aws_tags t = aws_tags_of(run, "fanout-node");
	char *token = xprintf("fanout-%s-nodes", run->id), *why = NULL;
	json_t **res = NULL, *ids = NULL;
	int n, i, rc = -1;

	if ((n = fleet_count(run, cause)) < 0)
		goto out;
	res = xcalloc((size_t)n, sizeof *res);
	if (fleet_intents(run, n, token, res, cause) != 0)
		goto out;
	t.role = "compute";
	t.token = token;
	rc = aws_ec2_run_from_template(aws_of(run), st->template_id,
	    st->subnet, n, token, &t, &ids, &why);
	if (rc != 0 && ids != NULL && json_array_size(ids) > 0) {
		/* Fewer than asked: give back what came. */
		json_decref(ids);
		ids = json_array();
	}
	if (rc != 0) {
		*cause = why;
		rc = -1;
		if (ids != NULL && aws_drop_duplicates(run, "nodes", token, ids,
		    &why) != 0)
			free(why);
		goto out;
	}
	/* An endpoint that ignores ClientToken made a second set for a
	 * retried call: those are not ours to keep. */
	if (aws_drop_duplicates(run, "nodes", token, ids, cause) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (cloud_created(run, res[i], json_string_value(
		    json_array_get(ids, (size_t)i)), cause) != 0)
			goto out;
	}
	event_log(run->sink, "nodes", "%d nodes, %s, from %s", n, fleet_type(run),
	    st->template_id);
	st->node_ids = ids;
	ids = NULL;
	rc = 0;
out:
	json_decref(ids);
	free(res);
	free(token);
	return rc;
}

static int
step_nodes_running(struct cloud_run *run, char **cause)
{
	struct aws_state *st = state_of(run);
	struct aws_instance in;
	char name[32];
	json_t *id, *res;
	size_t i;

	json_array_foreach(st->node_ids, i, id) {
		if (aws_wait_instance(run, "nodes running",
		    json_string_value(id), "running", &in, cause) != 0)
			return -1;
		snprintf(name, sizeof name, "node%zu", i + 1);
		pthread_mutex_lock(&run->lock);
		res = history_resource(run->rec, "instance", name);
		pthread_mutex_unlock(&run->lock);
		if (res == NULL || aws_record_address(run, res, &in,
		    cause) != 0) {
			if (res == NULL)
				xasprintf(cause, "the record lost %s", name);
			aws_instance_free(&in);
			return -1;
		}
		aws_instance_free(&in);
	}
	event_log(run->sink, "nodes running", "%zu nodes",
	    json_array_size(st->node_ids));
	return 0;
}

static const char *const after_group[] = { "network", "security group",
    NULL };
static const char *const after_template[] = { "image", "key pair",
    "compute group", "instance profile", NULL };
static const char *const after_nodes[] = { "network", "launch template",
    NULL };
static const char *const after_running[] = { "nodes", NULL };

/* CLOUD_BLOCK_FLEET: its steps may name BASE's. */
const struct cloud_step aws_fleet_steps[] = {
	{ "compute group", after_group, step_compute_group },
	{ "launch template", after_template, step_launch_template },
	{ "nodes", after_nodes, step_nodes },
	{ "nodes running", after_running, step_nodes_running },
	{ NULL, NULL, NULL }
};
