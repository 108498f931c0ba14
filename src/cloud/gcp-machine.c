/* The machines that run the tasks on Google Cloud: the dated price table
 * shipped in the data folder (data/gcp-prices.json, read and checked
 * once), and the settling of a create's answers before anything is made:
 * the zone (answered: checked; else the region's first UP zone), a
 * machine type given checked in that zone (machineTypes.get), or the
 * cheapest type of the table that the zone offers and that fits
 * resources' cpus and memory (machineTypes.list; shared-core types left
 * out), and the answers say what was chosen and why. */
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/gcp.h"
#include "cloud/gcp-auth.h"
#include "cloud/gcp-internal.h"
#include "cloud/gcp-role.h"
#include "cloud/prices.h"
#include "cloud/provider.h"
#include "engine/engine.h"
#include "history/history.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

#define PRICES_FILE "data/gcp-prices.json"

static struct price_table prices = PRICE_TABLE_INIT(PRICES_FILE,
    "^[a-z][a-z0-9-]*[a-z0-9]$", "machine type");

double
gcp_price(const char *type)
{
	return price_table_price(&prices, "on_demand", type);
}

double
gcp_spot_price(const char *type)
{
	return price_table_price(&prices, "spot", type);
}

char *
gcp_prices_note(char **cause)
{
	json_t *t;

	if ((t = price_table_get(&prices, cause)) == NULL)
		return NULL;
	return xprintf("estimates: %s on-demand prices of %s (%s)",
	    history_str(t, "region", "?"), history_str(t, "date", "?"),
	    PRICES_FILE);
}

json_t *
gcp_price_list(char **cause)
{
	json_t *t, *types, *v;
	const char *k;
	size_t i;

	if ((t = price_table_get(&prices, cause)) == NULL)
		return NULL;
	types = json_array();
	if (json_is_array(json_object_get(t, "menu"))) {
		json_array_foreach(json_object_get(t, "menu"), i, v)
			json_array_append_new(types, json_pack("{s:s, s:O}",
			    "name", json_string_value(v), "hourly_usd",
			    json_object_get(json_object_get(t, "on_demand"),
			    json_string_value(v))));
		return types;
	}
	json_object_foreach(json_object_get(t, "on_demand"), k, v)
		json_array_append_new(types, json_pack("{s:s, s:f}", "name", k,
		    "hourly_usd", json_number_value(v)));
	return types;
}

int
gcp_spot(json_t *answers)
{
	return json_is_true(json_object_get(answers, "spot"));
}

double
gcp_type_hourly(json_t *answers, const char *type)
{
	double p;

	if (gcp_spot(answers) && (p = gcp_spot_price(type)) > 0)
		return p;
	return gcp_price(type);
}

/* Settling ------------------------------------------------------------- */

/* {"name", "vcpus", "memory_gib", "hourly_usd"?} of a machineType. */
static json_t *
machine_facts_of(json_t *mt)
{
	const char *name = json_string_value(json_object_get(mt, "name"));
	json_t *t;

	if (name == NULL || !json_is_integer(json_object_get(mt,
	    "guestCpus")) || !json_is_integer(json_object_get(mt, "memoryMb")))
		return NULL;
	t = json_pack("{s:s, s:I, s:f, s:b}", "name", name, "vcpus",
	    json_integer_value(json_object_get(mt, "guestCpus")),
	    "memory_gib", (double)json_integer_value(json_object_get(mt,
	    "memoryMb")) / 1024.0, "shared", json_is_true(json_object_get(mt,
	    "isSharedCpu")));
	if (gcp_price(name) > 0)
		json_object_set_new(t, "hourly_usd", json_real(gcp_price(name)));
	return t;
}

/* "e2-standard-2: 2 vCPUs 8 GiB, $0.067006/h[, how]". */
static char *
machine_why(json_t *t, const char *how)
{
	struct strbuf sb;
	json_int_t n = json_integer_value(json_object_get(t, "vcpus"));

	strbuf_init(&sb);
	strbuf_addf(&sb, "%s: %lld vCPU%s %g GiB", history_str(t, "name", ""),
	    (long long)n, n == 1 ? "" : "s", json_number_value(
	    json_object_get(t, "memory_gib")));
	if (json_is_number(json_object_get(t, "hourly_usd")))
		strbuf_addf(&sb, ", $%g/h", json_number_value(json_object_get(t,
		    "hourly_usd")));
	else
		strbuf_adds(&sb, ", no price in fanout's table");
	if (how != NULL)
		strbuf_addf(&sb, ", %s", how);
	return strbuf_detach(&sb);
}

/* A type named: 0 with its facts, 1 when the zone lacks it, -1. */
static int
machine_named(struct gcp *g, const char *zone, const char *type,
    json_t **out, char **cause)
{
	char *url = gcp_compute_url(g, "projects/%s/zones/%s/machineTypes/%s",
	    g->project, zone, type);
	json_t *mt = NULL;
	int rc = gcp_call(g, "GET", url, NULL, &mt, cause);

	free(url);
	if (rc == CLOUD_ENOTFOUND) {
		free(*cause);
		xasprintf(cause, "machine type '%s' is not offered in zone %s; "
		    "choose one the zone has (`gcloud compute machine-types "
		    "list --zones %s`)", type, zone, zone);
		return 1;
	}
	if (rc != 0)
		return -1;
	*out = machine_facts_of(mt);
	json_decref(mt);
	if (*out == NULL) {
		xasprintf(cause, "machine type %s: the answer lacks guestCpus "
		    "or memoryMb", type);
		return -1;
	}
	return 0;
}

/* The cheapest priced, not shared-core, type of the zone with at least
 * cpus and memory: 0 with *out and *why, 1 none fits, -1. */
static int
machine_pick(struct gcp *g, const char *zone, int cpus, double memory,
    json_t **out, char **why, char **cause)
{
	char *url = gcp_compute_url(g, "projects/%s/zones/%s/machineTypes",
	    g->project, zone), *asked, *big = NULL;
	json_t *pages, *page, *mt, *t, *best = NULL;
	size_t i, k, nfit = 0;
	double bigv = -1, bigm = -1, v, m;

	pages = gcp_list_pages(g, url, NULL, cause);
	free(url);
	if (pages == NULL)
		return -1;
	json_array_foreach(pages, k, page) {
		json_array_foreach(json_object_get(page, "items"), i, mt) {
			if ((t = machine_facts_of(mt)) == NULL)
				continue;
			if (json_is_true(json_object_get(t, "shared")) ||
			    !json_is_number(json_object_get(t,
			    "hourly_usd"))) {
				json_decref(t);
				continue;
			}
			/* The largest priced one, for "nothing fits". */
			v = (double)json_integer_value(json_object_get(t,
			    "vcpus"));
			m = json_number_value(json_object_get(t, "memory_gib"));
			if (v > bigv || (v == bigv && m > bigm)) {
				bigv = v;
				bigm = m;
				free(big);
				big = xprintf("%s (%.0f vCPUs, %g GiB)",
				    history_str(t, "name", "?"), v, m);
			}
			if (v < cpus || m < memory) {
				json_decref(t);
				continue;
			}
			nfit++;
			if (best == NULL || json_number_value(
			    json_object_get(t, "hourly_usd")) <
			    json_number_value(json_object_get(best,
			    "hourly_usd"))) {
				json_decref(best);
				best = t;
			} else
				json_decref(t);
		}
	}
	json_decref(pages);
	if (cpus > 0 && memory > 0)
		asked = xprintf(">= %d vCPUs and >= %g GiB", cpus, memory);
	else if (cpus > 0)
		asked = xprintf(">= %d vCPUs", cpus);
	else
		asked = xprintf(">= %g GiB", memory);
	if (best == NULL) {
		xasprintf(cause, "nothing fits: no machine type of zone %s "
		    "that fanout has a price for (data/gcp-prices.json) has "
		    "%s; the largest is %s; ask for less, or name a type with "
		    "--instance-type", zone, asked, big != NULL ? big :
		    "none");
		free(asked);
		free(big);
		return 1;
	}
	free(big);
	url = machine_why(best, NULL);
	*why = xprintf("%s; the cheapest of %zu types with %s in %s "
	    "(shared-core types left out), prices of %s", url, nfit, asked,
	    zone,
	    history_str(price_table_get(&prices, NULL), "date",
	    "?"));
	free(url);
	free(asked);
	*out = best;
	return 0;
}

int
gcp_machine_settle(void *p, json_t *answers, char **cause)
{
	struct gcp_session *s = p;
	const struct engine *e = engine_of(answers);
	json_t *m = json_object_get(answers, "machine"), *forv, *t = NULL, *v;
	const char *type = gcp_answer_str(answers, "instance_type", NULL);
	const char *zone = gcp_answer_str(answers, "zone", NULL);
	const char *head;
	char *why = NULL, *picked = NULL, *conf = NULL;
	double memory = 0;
	int cpus = 0, rc, was_picked = 0;

	if (price_table_get(&prices, cause) == NULL)
		return -1;
	if (json_is_integer(v = json_object_get(answers, "cpus")))
		cpus = (int)json_integer_value(v);
	if (json_is_number(v = json_object_get(answers, "memory")))
		memory = json_number_value(v);
	else if (json_is_string(v)) {
		char *end;

		memory = strtod(json_string_value(v), &end);
		if (end == json_string_value(v) || *end != '\0' ||
		    !isfinite(memory))
			memory = -1;
		else
			json_object_set_new(answers, "memory",
			    json_real(memory));
	}
	if (cpus < 0 || memory < 0 || (json_is_integer(json_object_get(answers,
	    "cpus")) && cpus == 0)) {
		xasprintf(cause, "cpus must be 1 or more and memory more than "
		    "0 GiB; leave them out to take the machine type as given");
		return 1;
	}
	forv = json_pack("{s:O?, s:O?, s:b, s:s, s:s?, s:O?, s:O?}", "cpus",
	    json_object_get(answers, "cpus"), "memory",
	    json_object_get(answers, "memory"), "spot", gcp_spot(answers),
	    "region", s->region, "zone", zone, "engine",
	    json_object_get(answers, "engine"), "head",
	    json_object_get(answers, "head_instance_type"));
	if (json_is_object(m) && json_equal(json_object_get(m, "for"), forv) &&
	    type != NULL && strcmp(history_str(m, "type", ""), type) == 0) {
		json_decref(forv);
		return 0;	/* settled already, for the same answers */
	}
	if (json_is_object(m) && json_is_true(json_object_get(m, "picked")) &&
	    type != NULL && strcmp(history_str(m, "type", ""), type) == 0)
		type = NULL;
	if ((rc = gcp_project_check(s->g, cause)) != 0)
		goto out;
	/* No zone answered: gcloud's, when it is one of the region's (and
	 * up); else the region's first that is up. */
	if (zone == NULL && (conf = gcp_config_zone(s->region)) != NULL &&
	    gcp_zone_settle(s, conf, &picked, &why) != 0) {
		free(why);
		why = NULL;
	}
	if (picked == NULL && (rc = gcp_zone_settle(s, zone, &picked,
	    cause)) != 0)
		goto out;
	if (type == NULL && (cpus > 0 || memory > 0)) {
		rc = machine_pick(s->g, picked, cpus, memory, &t, &why, cause);
		was_picked = 1;
	} else {
		const char *how = type == NULL || strcmp(type,
		    GCP_DEFAULT_TYPE) == 0 ? "the default" : "as given";

		if (type == NULL)
			type = GCP_DEFAULT_TYPE;
		if ((rc = machine_named(s->g, picked, type, &t, cause)) == 0)
			why = machine_why(t, how);
	}
	if (rc == 0 && e != NULL && e->nodes) {
		head = gcp_answer_str(answers, "head_instance_type",
		    GCP_HEAD_TYPE);
		if ((rc = machine_named(s->g, picked, head, &v, cause)) == 0)
			json_decref(v);
		else if (rc == 1) {
			free(*cause);
			xasprintf(cause, "head machine type '%s' is not offered "
			    "in zone %s; choose one the zone has", head,
			    picked);
		}
	}
	if (rc != 0)
		goto out;
	json_object_set_new(answers, "instance_type", json_string(
	    history_str(t, "name", "")));
	json_object_set_new(answers, "machine", json_pack("{s:s, s:O, s:O, "
	    "s:O?, s:s, s:b, s:s, s:O}", "type", history_str(t, "name", ""),
	    "vcpus", json_object_get(t, "vcpus"), "memory_gib",
	    json_object_get(t, "memory_gib"), "hourly_usd", json_object_get(t,
	    "hourly_usd"), "why", why, "picked", was_picked, "zone", picked,
	    "for", forv));
out:
	json_decref(t);
	json_decref(forv);
	free(why);
	free(picked);
	free(conf);
	return rc;
}

/* The plan ------------------------------------------------------------ */

/* A machine's hourly cost: its type, its disk, its external address. */
static double
gcp_machine_hourly(json_t *answers, const char *type, int *known)
{
	double p = gcp_type_hourly(answers, type);

	if (p < 0)
		*known = 0;
	return (p > 0 ? p : 0) + GCP_DISK_HOURLY + GCP_IPV4_HOURLY;
}

json_t *
gcp_plan(void *p, json_t *answers, char **cause)
{
	struct gcp_session *s = p;
	const struct engine *e = engine_of(answers);
	const char *account = gcp_auth_account(s->g->auth), *type, *zone;
	char *note, *ip, *why = NULL;
	json_t *res, *plan, *v;
	json_int_t n = 1;
	double total, node;
	int known = 1;

	if (gcp_machine_settle(s, answers, cause) != 0 ||
	    (note = gcp_prices_note(cause)) == NULL)
		return NULL;
	zone = gcp_answer_str(answers, "zone", gcp_answer_str(
	    json_object_get(answers, "machine"), "zone", "?"));
	ip = cloud_checkip(&why);
	res = json_array();
	json_array_append_new(res, json_pack("{s:s, s:s, s:s, s:f}", "kind",
	    "ssh_key", "name", "ed25519 key", "detail", "private key kept "
	    "0600 beside the history record; public half in the instances' "
	    "metadata only", "hourly_usd", 0.0));
	json_array_append_new(res, json_pack("{s:s, s:s, s:s, s:f}", "kind",
	    "firewall", "name", "firewall rule", "detail", ip != NULL ?
	    "SSH (tcp 22) from your address only, to the run set's tag" :
	    "SSH (tcp 22): your address is unknown", "hourly_usd", 0.0));
	if (e != NULL && e->nodes) {
		type = gcp_answer_str(answers, "head_instance_type",
		    GCP_HEAD_TYPE);
		total = gcp_machine_hourly(answers, type, &known);
		json_array_append_new(res, json_pack("{s:s, s:s, s:s+++, s:f, "
		    "s:i}", "kind", "instance", "name", "head", "detail", type,
		    ", Debian 12, Shielded VM, 30 GB pd-balanced, external "
		    "IPv4, in ", zone, known ? "; runs the scheduler" :
		    " (price unknown)", "hourly_usd", total, "count", 1));
		if (json_is_integer(v = json_object_get(answers, "nodes")) &&
		    json_integer_value(v) > 0)
			n = json_integer_value(v);
		known = 1;
		type = gcp_answer_str(answers, "instance_type",
		    GCP_DEFAULT_TYPE);
		node = gcp_machine_hourly(answers, type, &known);
		json_array_append_new(res, json_pack("{s:s, s:s, s:s++, s:f, "
		    "s:f, s:I}", "kind", "instance", "name", "node", "detail",
		    type, ", Debian 12, Shielded VM, 30 GB pd-balanced; runs "
		    "the tasks", known ? "" : " (price unknown)", "hourly_usd",
		    node * (double)n, "each_hourly_usd", node, "count", n));
		total += node * (double)n;
	} else {
		type = gcp_answer_str(answers, "instance_type",
		    GCP_DEFAULT_TYPE);
		total = gcp_machine_hourly(answers, type, &known);
		json_array_append_new(res, json_pack("{s:s, s:s, s:s++++, "
		    "s:f}", "kind", "instance", "name", "bastion", "detail",
		    type, ", Debian 12, Shielded VM, 30 GB pd-balanced, "
		    "external IPv4, in ", zone, gcp_spot(answers) ? ", spot "
		    "(stopped if reclaimed; shown at its on-demand price)" : "",
		    known ? "" : " (price unknown)", "hourly_usd", total));
	}
	gcp_role_plan(answers, res);	/* the service account, if any */
	plan = json_pack("{s:s+++, s:s, s:s, s:s, s:s, s:s?, s:s?, s:o, s:f, "
	    "s:s, s:s?}", "identity", account != NULL ? account :
	    "your gcloud user credentials", " (project ", s->g->project, ")",
	    "account", account != NULL ? account : "gcloud user credentials",
	    "project", s->g->project, "region", s->region, "zone", zone,
	    "ssh_from", NULL, "ssh_from_error", why, "resources", res,
	    "hourly_usd", total, "prices", note, "machine",
	    history_str(json_object_get(answers, "machine"), "why", NULL));
	if (ip != NULL)
		json_object_set_new(plan, "ssh_from", json_sprintf("%s/32",
		    ip));
	free(note);
	free(ip);
	free(why);
	return plan;
}
