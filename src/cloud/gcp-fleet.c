/* CLOUD_BLOCK_FLEET on Google Cloud: a cluster's compute nodes (DESIGN.md
 * "Clusters"). A firewall rule of the cluster's own (every protocol
 * slurmd, slurmctld and munge use, from the run set's network tag to that
 * tag only: no address range at all), then N instances inserted at once,
 * one instances.insert per node on its own thread, each with a requestId
 * the record holds first (gcp-internal.h, "Journal"), and the wait until
 * all run.
 *
 * One insert per node rather than one bulkInsert: each node is then a
 * resource of its own with its own requestId and name in the record
 * before its call, found again by that name after a crash (bulkInsert
 * names its instances from a pattern and answers with one operation for
 * all: a crash in it leaves instances the record cannot name one by
 * one); a failed node (a quota) fails alone with Compute Engine's own
 * error for it; and the call is the one `gcloud compute instances create`
 * makes, which the gcloud cross-check already holds the stand-in to. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/gcp.h"
#include "cloud/gcp-internal.h"
#include "cloud/provider.h"
#include "event.h"
#include "history/history.h"
#include "util/xmalloc.h"

#define GCP_MAX_NODES 100	/* as menus/create.yaml allows */

static struct gcp_state *
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
	if (!json_is_integer(v) || n < 1 || n > GCP_MAX_NODES) {
		xasprintf(cause, "nodes must be a whole number from 1 to %d",
		    GCP_MAX_NODES);
		return -1;
	}
	return (int)n;
}

/* The run set's network tag: every machine has it (state->tag, set by
 * "ssh key"; else its form "fanout-<id>"). Caller frees. */
static char *
fleet_tag(struct cloud_run *run)
{
	struct gcp_state *st = state_of(run);

	return st->tag != NULL ? xstrdup(st->tag) : xprintf("fanout-%s", run->id);
}

/* The cluster's internal rule: its machines reach each other on every
 * port (slurmctld 6817, slurmd 6818, srun's own ports, ICMP), and no one
 * else does: source and target are the run set's tag, no sourceRanges. */
static int
step_internal_firewall(struct cloud_run *run, char **cause)
{
	char *name = gcp_name(run, "internal"), *tag = fleet_tag(run);
	json_t *body, *res = NULL;
	int rc = -1;

	body = json_pack("{s:[{s:s}, {s:s}, {s:s}], s:[s], s:[s]}",
	    "allowed", "IPProtocol", "tcp", "IPProtocol", "udp", "IPProtocol",
	    "icmp", "sourceTags", tag, "targetTags", tag);
	if (gcp_firewall_make(run, name, body, &res, cause) != 0)
		goto out;
	/* As the record says on AWS: the source "group" is here the
	 * network tag the rule lets in. */
	if (cloud_resource_set(run, res, "ingress", json_pack("[{s:s, s:s}, "
	    "{s:s, s:s}, {s:s, s:s}]", "protocol", "tcp", "group", tag,
	    "protocol", "udp", "group", tag, "protocol", "icmp", "group", tag),
	    cause) != 0)
		goto out;
	event_log(run->sink, "internal firewall", "%s: the cluster's traffic "
	    "(tag %s to tag %s) only", name, tag, tag);
	rc = 0;
out:
	json_decref(body);
	free(name);
	free(tag);
	return rc;
}

/* One node's insert, on a thread of its own. */
struct fleet_job {
	struct cloud_run	*run;
	char			*name;		/* instance name */
	const char		*type;		/* machine type */
	const char *const	*tags;		/* extra network tags */
	json_t			*res;		/* its resource (the record's) */
	char			*cause;		/* why it failed */
	int			 rc;		/* gcp_instance_make's */
	int			 started;	/* the thread was made */
	pthread_t		 thread;
};

static void *
fleet_insert(void *arg)
{
	struct fleet_job *j = arg;

	j->rc = gcp_instance_make(j->run, "node", j->name, j->type, j->tags,
	    &j->res, &j->cause);
	return NULL;
}

static int
step_nodes(struct cloud_run *run, char **cause)
{
	struct gcp_state *st = state_of(run);
	const char *type = gcp_answer_str(run->answers, "instance_type",
	    GCP_DEFAULT_TYPE);
	char *ntag = gcp_name(run, "node"), what[32];
	const char *tags[] = { ntag, NULL };
	struct fleet_job *jobs = NULL;
	int n, i, failed = 0, rc = -1;

	if ((n = fleet_count(run, cause)) < 0)
		goto out;
	jobs = xcalloc((size_t)n, sizeof *jobs);
	for (i = 0; i < n; i++) {
		snprintf(what, sizeof what, "node%d", i + 1);
		jobs[i].run = run;
		jobs[i].name = gcp_name(run, what);
		jobs[i].type = type;
		jobs[i].tags = tags;
	}
	/* All at once: each thread writes its intent (with its requestId)
	 * and then inserts. */
	for (i = 0; i < n; i++) {
		if (pthread_create(&jobs[i].thread, NULL, fleet_insert,
		    &jobs[i]) == 0)
			jobs[i].started = 1;
		else
			fleet_insert(&jobs[i]);
	}
	/* Every insert is waited for, failed or not: whatever was made is
	 * in the record for the teardown. */
	for (i = 0; i < n; i++) {
		if (jobs[i].started)
			pthread_join(jobs[i].thread, NULL);
	}
	st->node_names = json_array();
	st->node_ids = json_array();
	for (i = 0; i < n; i++) {
		if (jobs[i].rc != 0) {
			if (failed++ == 0) {
				xasprintf(cause, "node%d: %s", i + 1,
				    jobs[i].cause != NULL ? jobs[i].cause :
				    "its insert failed");
			}
			continue;
		}
		json_array_append_new(st->node_names,
		    json_string(jobs[i].name));
		pthread_mutex_lock(&run->lock);
		json_array_append_new(st->node_ids, json_string(history_str(
		    jobs[i].res, "id", "")));
		pthread_mutex_unlock(&run->lock);
	}
	if (failed > 1) {
		char *one = *cause;

		xasprintf(cause, "%s (and %d more of the %d nodes failed)",
		    one, failed - 1, n);
		free(one);
	}
	if (failed == 0) {
		event_log(run->sink, "nodes", "%d nodes, %s, in %s", n, type,
		    st->zone != NULL ? st->zone : "the zone");
		rc = 0;
	}
out:
	for (i = 0; jobs != NULL && i < n; i++) {
		free(jobs[i].name);
		free(jobs[i].cause);
	}
	free(jobs);
	free(ntag);
	return rc;
}

static int
step_nodes_running(struct cloud_run *run, char **cause)
{
	struct gcp_state *st = state_of(run);
	char host[32];
	json_t *name, *res;
	size_t i;

	json_array_foreach(st->node_names, i, name) {
		pthread_mutex_lock(&run->lock);
		res = history_resource(run->rec, "instance",
		    json_string_value(name));
		pthread_mutex_unlock(&run->lock);
		if (res == NULL) {
			xasprintf(cause, "the record lost %s",
			    json_string_value(name));
			return -1;
		}
		/* The engine knows the nodes as node1..nodeN, role
		 * "compute". */
		snprintf(host, sizeof host, "node%zu", i + 1);
		if (gcp_instance_running(run, res, "compute", host,
		    cause) != 0)
			return -1;
	}
	event_log(run->sink, "nodes running", "%zu nodes",
	    json_array_size(st->node_names));
	return 0;
}

static const char *const after_internal[] = { "network", "ssh key", NULL };
static const char *const after_nodes[] = { "zone", "network", "image",
    "ssh key", "firewall", "internal firewall", "service account", NULL };
static const char *const after_running[] = { "nodes", NULL };

/* CLOUD_BLOCK_FLEET: its steps may name BASE's (gcp-steps.c) and ROLE's
 * ("service account", when that block runs). */
const struct cloud_step gcp_fleet_steps[] = {
	{ "internal firewall", after_internal, step_internal_firewall },
	{ "nodes", after_nodes, step_nodes },
	{ "nodes running", after_running, step_nodes_running },
	{ NULL, NULL, NULL }
};
