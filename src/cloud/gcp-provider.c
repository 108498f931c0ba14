/* The Google Cloud provider's ops table (provider.h): sessions, regions
 * and zones, the plan with its price estimates, and what resume, cleanup
 * and the orphan search call, kind by kind (gcp_kind_table). The create
 * steps are in gcp-steps.c, the Compute Engine pieces in gcp-compute.c. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cloud/aws.h"
#include "cloud/gcp.h"
#include "cloud/gcp-auth.h"
#include "cloud/gcp-internal.h"
#include "cloud/gcp-role.h"
#include "cloud/gcs.h"
#include "cloud/provider.h"
#include "engine/engine.h"
#include "event.h"
#include "history/history.h"
#include "util/fs.h"
#include "util/xmalloc.h"

/* Compute Engine's regions (gcloud compute regions list, 2025). */
static const char *const gcp_regions[] = {
	"africa-south1", "asia-east1", "asia-east2", "asia-northeast1",
	"asia-northeast2", "asia-northeast3", "asia-south1", "asia-south2",
	"asia-southeast1", "asia-southeast2", "australia-southeast1",
	"australia-southeast2", "europe-central2", "europe-north1",
	"europe-north2", "europe-southwest1", "europe-west1", "europe-west2",
	"europe-west3", "europe-west4", "europe-west6", "europe-west8",
	"europe-west9", "europe-west10", "europe-west12", "me-central1",
	"me-central2", "me-west1", "northamerica-northeast1",
	"northamerica-northeast2", "northamerica-south1",
	"southamerica-east1", "southamerica-west1", "us-central1", "us-east1",
	"us-east4", "us-east5", "us-south1", "us-west1", "us-west2",
	"us-west3", "us-west4", NULL
};

static int
gcp_known_region(const char *r)
{
	size_t i;

	for (i = 0; r != NULL && gcp_regions[i] != NULL; i++) {
		if (strcmp(gcp_regions[i], r) == 0)
			return 1;
	}
	return 0;
}

/* "us-central1-b" -> "us-central1": a known region, '-', one letter. */
static char *
gcp_zone_of(const char *zone)
{
	size_t n = zone != NULL ? strlen(zone) : 0;
	char *r;

	if (n < 3 || zone[n - 2] != '-' || !islower((unsigned char)
	    zone[n - 1]))
		return NULL;
	r = xprintf("%.*s", (int)(n - 2), zone);
	if (!gcp_known_region(r)) {
		free(r);
		return NULL;
	}
	return r;
}

/* The region gcloud's settings name: CLOUDSDK_COMPUTE_REGION, gcloud's
 * [compute] region, the region of CLOUDSDK_COMPUTE_ZONE or of [compute]
 * zone, else us-central1. */
static char *
gcp_config_region(char **cause)
{
	const char *v = getenv("CLOUDSDK_COMPUTE_REGION");
	char *s, *r;

	if (v != NULL && *v != '\0')
		return xstrdup(v);
	if ((s = gcp_gcloud_setting("compute", "region", NULL)) != NULL)
		return s;
	if ((v = getenv("CLOUDSDK_COMPUTE_ZONE")) != NULL &&
	    (r = gcp_zone_of(v)) != NULL)
		return r;
	if ((s = gcp_gcloud_setting("compute", "zone", NULL)) != NULL) {
		r = gcp_zone_of(s);
		free(s);
		if (r != NULL)
			return r;
	}
	return xstrdup(GCP_DEFAULT_REGION);
}

char *
gcp_config_zone(const char *region)
{
	const char *v = getenv("CLOUDSDK_COMPUTE_ZONE");
	char *z = v != NULL && *v != '\0' ? xstrdup(v) :
	    gcp_gcloud_setting("compute", "zone", NULL), *r = gcp_zone_of(z);

	if (r == NULL || region == NULL || strcmp(r, region) != 0) {
		free(z);
		z = NULL;
	}
	free(r);
	return z;
}

static void *
gcp_provider_open(const char *region, char **cause)
{
	struct gcp_session *s;
	struct gcp *g;
	char *r = NULL, *z;
	double limit;

	if (cloud_wait_limit(&limit, cause) != 0)
		return NULL;
	if (region == NULL && (r = gcp_config_region(cause)) == NULL)
		return NULL;
	if (region != NULL && !gcp_known_region(region) &&
	    (z = gcp_zone_of(region)) != NULL) {
		r = z;	/* a zone names its region */
	} else if (region != NULL)
		r = xstrdup(region);
	if (!gcp_known_region(r)) {
		xasprintf(cause, "'%s' is not a Google Cloud region; choose one "
		    "of `gcloud compute regions list` (e.g. %s)", r,
		    GCP_DEFAULT_REGION);
		free(r);
		return NULL;
	}
	if ((g = gcp_open(cause)) == NULL) {
		free(r);
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->g = g;
	s->region = r;
	return s;
}

static void
gcp_provider_close(void *p)
{
	struct gcp_session *s = p;

	if (s == NULL)
		return;
	gcp_free(s->g);
	free(s->region);
	free(s);
}

static const char *
gcp_provider_region(void *p)
{
	return ((struct gcp_session *)p)->region;
}

static json_t *
gcp_provider_instance_types(char **cause)
{
	return gcp_price_list(cause);
}

/* Resume, cleanup and orphans ---------------------------------------- */

/* The host name of an instance of run: its name without "fanout-<id>-"
 * ("bastion", "node1"); caller frees. */
static char *
gcp_host_name(struct cloud_run *run, const char *name)
{
	char *prefix = xprintf("fanout-%s-", run->id != NULL ? run->id : "");
	char *h;

	h = xstrdup(strncmp(name, prefix, strlen(prefix)) == 0 ?
	    name + strlen(prefix) : name);
	free(prefix);
	return h;
}

/* GET (or DELETE, waiting for the operation) a global or zonal
 * resource: 1 there / done, 0 not found, -1 with a cause. */
static int
gcp_res_call(struct cloud_run *run, const char *method, const char *url,
    json_t **out, char **cause)
{
	struct gcp *g = gcp_of(run);
	json_t *op = NULL;
	int rc;

	if (out != NULL)
		*out = NULL;
	rc = gcp_call(g, method, url, NULL, &op, cause);
	if (rc == 0 && strcmp(method, "DELETE") == 0)
		rc = gcp_operation_wait(g, op, NULL, cause);
	else if (rc == 0 && out != NULL) {
		*out = op;
		op = NULL;
	}
	json_decref(op);
	if (rc == CLOUD_ENOTFOUND) {
		free(*cause);
		*cause = NULL;
		return 0;
	}
	return rc == 0 ? 1 : -1;
}

static int
gcp_recover_instance(struct cloud_run *run, json_t *res, char **id,
    char **cause)
{
	const char *zone = gcp_res_zone(run, res, cause);
	json_t *in = NULL;
	int rc;

	*id = NULL;
	if (zone == NULL)
		return -1;
	rc = gcp_instance_get(gcp_of(run), zone, history_str(res, "name", ""),
	    &in, cause);
	if (rc == 1 && json_is_string(json_object_get(in, "id")))
		*id = xstrdup(history_str(in, "id", ""));
	json_decref(in);
	return rc < 0 ? -1 : rc;
}

static int
gcp_exists_instance(struct cloud_run *run, json_t *res, char **cause)
{
	char *id = NULL;
	int rc = gcp_recover_instance(run, res, &id, cause);

	free(id);
	return rc;
}

static int
gcp_destroy_instance(struct cloud_run *run, json_t *res, char **cause)
{
	const char *zone = gcp_res_zone(run, res, cause);
	struct gcp *g = gcp_of(run);
	const char *name = history_str(res, "name", "");
	char *url;
	int rc;

	if (zone == NULL)
		return -1;
	event_log(run->sink, "cleanup", "deleting instance %s", name);
	url = gcp_compute_url(g, "projects/%s/zones/%s/instances/%s",
	    g->project, zone, name);
	rc = gcp_res_call(run, "DELETE", url, NULL, cause);
	free(url);
	if (rc < 0)
		return -1;
	return gcp_wait_instance(run, "cleanup", zone, name, "gone", NULL,
	    cause);
}

/* An RFC 3339 time as Compute Engine gives them
 * ("2026-11-30T19:00:00.123-08:00"), or -1. */
static double
gcp_time(const char *s)
{
	struct tm tm;
	int n = 0, oh = 0, om = 0;
	const char *p;
	double t;

	memset(&tm, 0, sizeof tm);
	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
	    &n) != 6 || tm.tm_year < 2000 || tm.tm_mon < 1 || tm.tm_mon > 12)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = (double)timegm(&tm);
	p = s + n;
	if (*p == '.')
		p += 1 + strspn(p + 1, "0123456789");
	if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh,
	    &om) == 2)
		t -= (*p == '+' ? 1 : -1) * (oh * 3600.0 + om * 60.0);
	else if (*p != 'Z')
		return -1;
	return t;
}

static int
gcp_park_instance(struct cloud_run *run, json_t *res, char **cause)
{
	const char *zone = gcp_res_zone(run, res, cause);
	struct gcp *g = gcp_of(run);
	char *name, *url;
	json_t *in = NULL, *op = NULL;
	double since;
	int running, rc;

	if (zone == NULL)
		return -1;
	name = xstrdup(history_str(res, "name", ""));
	if (gcp_wait_instance(run, "stop", zone, name, "RUNNING TERMINATED "
	    "STOPPING SUSPENDED gone", &in, cause) != 0) {
		free(name);
		return -1;
	}
	if (in == NULL) {
		event_log(run->sink, "stop", "%s is gone: nothing to stop",
		    name);
		free(name);
		return 0;
	}
	running = strcmp(history_str(in, "status", ""), "RUNNING") == 0;
	since = running ? -1 : gcp_time(history_str(in, "lastStopTimestamp",
	    NULL));
	json_decref(in);
	rc = 0;
	if (running) {
		event_log(run->sink, "stop", "stopping %s", name);
		url = gcp_compute_url(g, "projects/%s/zones/%s/instances/%s/"
		    "stop", g->project, zone, name);
		rc = gcp_call(g, "POST", url, NULL, &op, cause);
		if (rc == 0)
			rc = gcp_operation_wait(g, op, NULL, cause);
		json_decref(op);
		free(url);
	}
	if (rc == 0)
		rc = gcp_wait_instance(run, "stop", zone, name, "TERMINATED "
		    "SUSPENDED", NULL, cause);
	free(name);
	if (rc != 0)
		return -1;
	return cloud_power_note(run, res, "stopped", since >= 0 ? since :
	    time_now(), running ? "fanout" : "noticed", cause);
}

static int
gcp_revive_instance(struct cloud_run *run, json_t *res, char **cause)
{
	const char *zone = gcp_res_zone(run, res, cause);
	struct gcp *g = gcp_of(run);
	char *name, *host, *url;
	const char *role;
	json_t *in = NULL, *op = NULL;
	int rc = 0;

	if (zone == NULL)
		return -1;
	name = xstrdup(history_str(res, "name", ""));
	host = gcp_host_name(run, name);
	role = history_str(res, "role", "head");
	if (gcp_wait_instance(run, host, zone, name, "RUNNING TERMINATED "
	    "SUSPENDED", &in, cause) != 0) {
		rc = -1;
		goto out;
	}
	if (strcmp(history_str(in, "status", ""), "RUNNING") != 0) {
		double at = gcp_time(history_str(in, "lastStopTimestamp",
		    NULL));

		if (cloud_power_note(run, res, "stopped", at >= 0 ? at :
		    time_now(), "noticed", cause) != 0) {
			rc = -1;
			goto out;
		}
		event_log(run->sink, host, "starting %s", name);
		url = gcp_compute_url(g, "projects/%s/zones/%s/instances/%s/"
		    "start", g->project, zone, name);
		if (gcp_call(g, "POST", url, NULL, &op, cause) != 0 ||
		    gcp_operation_wait(g, op, NULL, cause) != 0)
			rc = -1;
		free(url);
	}
	if (rc == 0)
		rc = cloud_power_note(run, res, "running", time_now(), "fanout",
		    cause);
	if (rc == 0)
		rc = gcp_instance_running(run, res, strcmp(role, "compute") ==
		    0 ? "compute" : "head", host, cause);
out:
	json_decref(in);
	json_decref(op);
	free(name);
	free(host);
	return rc;
}

static int
gcp_power_instance(struct cloud_run *run, json_t *res, char **state,
    double *since, char **cause)
{
	const char *zone = gcp_res_zone(run, res, cause);
	const char *st;
	json_t *in = NULL;
	int rc;

	*state = NULL;
	*since = -1;
	if (zone == NULL)
		return -1;
	rc = gcp_instance_get(gcp_of(run), zone, history_str(res, "name", ""),
	    &in, cause);
	if (rc < 0)
		return -1;
	st = rc == 0 ? "terminated" : history_str(in, "status", "unknown");
	if (strcmp(st, "RUNNING") == 0)
		st = "running";
	else if (strcmp(st, "TERMINATED") == 0 || strcmp(st, "SUSPENDED") ==
	    0)
		st = "stopped";
	else if (strcmp(st, "STOPPING") == 0 || strcmp(st, "SUSPENDING") == 0)
		st = "stopping";
	else if (strcmp(st, "terminated") != 0)
		st = "pending";
	if (strcmp(st, "running") == 0)
		*since = gcp_time(history_str(in, "lastStartTimestamp", NULL));
	else if (strcmp(st, "stopped") == 0)
		*since = gcp_time(history_str(in, "lastStopTimestamp", NULL));
	*state = xstrdup(st);
	json_decref(in);
	return 0;
}

static char *
gcp_firewall_url(struct cloud_run *run, json_t *res)
{
	struct gcp *g = gcp_of(run);

	return gcp_compute_url(g, "projects/%s/global/firewalls/%s",
	    g->project, history_str(res, "name", ""));
}

static int
gcp_recover_firewall(struct cloud_run *run, json_t *res, char **id,
    char **cause)
{
	char *url = gcp_firewall_url(run, res);
	json_t *fw = NULL;
	int rc = gcp_res_call(run, "GET", url, &fw, cause);

	*id = rc == 1 ? xstrdup(history_str(fw, "id", history_str(res, "name",
	    ""))) : NULL;
	json_decref(fw);
	free(url);
	return rc;
}

static int
gcp_exists_firewall(struct cloud_run *run, json_t *res, char **cause)
{
	char *id = NULL;
	int rc = gcp_recover_firewall(run, res, &id, cause);

	free(id);
	return rc;
}

static int
gcp_destroy_firewall(struct cloud_run *run, json_t *res, char **cause)
{
	char *url = gcp_firewall_url(run, res);
	int rc;

	event_log(run->sink, "cleanup", "deleting firewall rule %s",
	    history_str(res, "name", ""));
	rc = gcp_res_call(run, "DELETE", url, NULL, cause);
	free(url);
	return rc < 0 ? -1 : 0;
}

/* The run set's SSH key lives on this machine only (its public half is
 * in the instances' metadata, which goes with them). */
static int
gcp_recover_ssh_key(struct cloud_run *run, json_t *res, char **id,
    char **cause)
{
	char *path = history_file(run->id, ".key");
	int rc = access(path, F_OK) == 0;

	free(path);
	*id = rc ? xprintf("fanout-%s", run->id) : NULL;
	return rc;
}

static int
gcp_exists_ssh_key(struct cloud_run *run, json_t *res, char **cause)
{
	char *id = NULL;
	int rc = gcp_recover_ssh_key(run, res, &id, cause);

	free(id);
	return rc;
}

static int
gcp_destroy_ssh_key(struct cloud_run *run, json_t *res, char **cause)
{
	char *path;
	int rc = 0;

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

/* What each kind needs done (provider.h: struct cloud_kind). Branches
 * add their kinds here, one line each. */
static const struct cloud_kind gcp_kind_table[] = {
	{ "ssh_key", gcp_recover_ssh_key, gcp_exists_ssh_key,
	    gcp_destroy_ssh_key, NULL, NULL },
	{ "firewall", gcp_recover_firewall, gcp_exists_firewall,
	    gcp_destroy_firewall, NULL, NULL },
	{ "instance", gcp_recover_instance, gcp_exists_instance,
	    gcp_destroy_instance, gcp_park_instance, gcp_revive_instance },
	{ "service_account", gcp_recover_sa, gcp_exists_sa, gcp_destroy_sa,
	    NULL, NULL },
	{ "bucket_binding", gcp_recover_binding, gcp_exists_binding,
	    gcp_destroy_binding, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL }
};
/* The same kinds, for provider.kinds. */
static const char *const gcp_kinds[] = { "ssh_key", "firewall",
    "instance", "service_account", "bucket_binding", NULL };

/* As cloud_kind_recover, but a resource not found may be one whose
 * insert is still running: wait for it (gcp_insert_settle), look again. */
static int
gcp_provider_recover(struct cloud_run *run, json_t *res, char **id,
    char **cause)
{
	int rc;

	if ((rc = cloud_kind_recover(run, res, id, cause)) == 0 &&
	    (rc = gcp_insert_settle(run, res, cause)) == 1)
		rc = cloud_kind_recover(run, res, id, cause);
	return rc;
}

static int
gcp_provider_power(struct cloud_run *run, json_t *res, char **state,
    double *since, char **cause)
{
	if (strcmp(history_str(res, "kind", ""), "instance") != 0) {
		xasprintf(cause, "%s %s has no power state",
		    history_str(res, "kind", ""), history_str(res, "name", ""));
		return -1;
	}
	return gcp_power_instance(run, res, state, since, cause);
}

/* The instances of one page of an aggregatedList, appended to out. */
static void
gcp_tagged_instances(json_t *ans, json_t *out)
{
	const char *key, *zone;
	json_t *scope, *in;
	char *region;
	size_t i;

	json_object_foreach(json_object_get(ans, "items"), key, scope) {
		json_array_foreach(json_object_get(scope, "instances"), i,
		    in) {
			zone = strrchr(history_str(in, "zone", key), '/');
			zone = zone != NULL ? zone + 1 : "";
			if ((region = gcp_zone_of(zone)) == NULL ||
			    !json_is_string(json_object_get(in, "name"))) {
				free(region);
				continue;
			}
			json_array_append_new(out, json_pack("{s:s, s:s, s:s, "
			    "s:s, s:s, s:s?, s:s}", "kind", "instance", "id",
			    history_str(in, "id", history_str(in, "name", "")),
			    "name", history_str(in, "name", ""), "region",
			    region, "zone", zone, "run_set", history_str(
			    json_object_get(in, "labels"), "fanout-run-set",
			    NULL), "provider", "gcp"));
			free(region);
		}
	}
}

/* Orphans: the instances labelled managed-by=fanout in every zone
 * (aggregatedList), then the firewall rules fanout names (no labels on
 * those: the "fanout-fo-" prefix and the description with the run set). */
static json_t *
gcp_provider_tagged(void *p, char **cause)
{
	struct gcp_session *s = p;
	struct gcp *g = s->g;
	json_t *out = json_array(), *pages, *ans, *in;
	const char *desc;
	char *url;
	size_t i, k;

	url = gcp_compute_url(g, "projects/%s/aggregated/instances?filter="
	    "labels.managed-by%%20%%3D%%20fanout", g->project);
	pages = gcp_list_pages(g, url, NULL, cause);
	free(url);
	if (pages == NULL)
		goto fail;
	json_array_foreach(pages, k, ans)
		gcp_tagged_instances(ans, out);
	json_decref(pages);
	url = gcp_compute_url(g, "projects/%s/global/firewalls", g->project);
	pages = gcp_list_pages(g, url, NULL, cause);
	free(url);
	if (pages == NULL)
		goto fail;
	json_array_foreach(pages, k, ans) {
		json_array_foreach(json_object_get(ans, "items"), i, in) {
			desc = history_str(in, "description", "");
			if (strncmp(history_str(in, "name", ""),
			    GCP_NAME_PREFIX, strlen(GCP_NAME_PREFIX)) != 0 ||
			    strncmp(desc, GCP_FW_DESCRIPTION,
			    strlen(GCP_FW_DESCRIPTION)) != 0)
				continue;
			json_array_append_new(out, json_pack("{s:s, s:s, s:s, "
			    "s:s, s:s, s:s}", "kind", "firewall", "id",
			    history_str(in, "id", history_str(in, "name", "")),
			    "name", history_str(in, "name", ""), "region",
			    s->region, "run_set", desc +
			    strlen(GCP_FW_DESCRIPTION), "provider", "gcp"));
		}
	}
	json_decref(pages);
	/* The machines' service accounts (gcp-role.c), last. */
	if (gcp_role_tagged(g, s->region, out, cause) != 0)
		goto fail;
	return out;
fail:
	json_decref(out);
	return NULL;
}

const struct provider provider_gcp = {
	.name = "gcp",
	.kinds = gcp_kinds,
	.kind_ops = gcp_kind_table,
	.open = gcp_provider_open,
	.close = gcp_provider_close,
	.region = gcp_provider_region,
	.plan = gcp_plan,
	.blocks = { [CLOUD_BLOCK_BASE] = gcp_base_steps,
	    [CLOUD_BLOCK_HEAD] = gcp_head_steps,
	    [CLOUD_BLOCK_FLEET] = gcp_fleet_steps,
	    [CLOUD_BLOCK_ROLE] = gcp_role_steps },
	.state_new = gcp_state_new,
	.state_free = gcp_state_free,
	.recover = gcp_provider_recover,
	.exists = cloud_kind_exists,
	.revive = cloud_kind_revive,
	.park = cloud_kind_park,
	.power = gcp_provider_power,
	.destroy = cloud_kind_destroy,
	.tagged = gcp_provider_tagged,
	.regions = gcp_regions,
	.config_region = gcp_config_region,
	.instance_types = gcp_provider_instance_types,
	.settle = gcp_machine_settle,
	.default_instance_type = GCP_DEFAULT_TYPE,
	.default_head_type = GCP_HEAD_TYPE,
	.store_check = gcp_store_check,
	.store_fetch = gcp_store_fetch,
	.store_put = gcp_store_put,
	.store_scheme = "gs",
	.zoned = 1,
	.zone_of = gcp_zone_of,
	.detach = 0,
};
