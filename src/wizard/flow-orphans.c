/* Orphans: resources tagged managedBy=fanout that no live record knows,
 * looked for with every provider of the build that has credentials set
 * up, in every region a record of that provider names and the one asked
 * for (wizard.h); and the registration of the flows in flow_ops. */
#include <stdlib.h>
#include <string.h>

#include "cloud/provider.h"
#include "event.h"
#include "flows.h"
#include "history/history.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"
#include "wizard/wizard.h"

/* Non-zero when a live record knows item: it lists its id, or it has a
 * resource of that kind still in intent (a create in progress or crashed:
 * its cleanup will find it). */
static int
orphan_known(json_t *records, json_t *item)
{
	json_t *rec, *res;
	size_t i, j;

	json_array_foreach(records, i, rec) {
		if (strcmp(history_str(rec, "state", ""), "deleted") == 0 ||
		    strcmp(history_str(rec, "kind", ""), "cloud") != 0 ||
		    strcmp(history_str(rec, "provider", "aws"), history_str(
		    item, "provider", "aws")) != 0)
			continue;
		json_array_foreach(json_object_get(rec, "resources"), j, res) {
			const char *st = history_str(res, "state", "");

			if (strcmp(st, "deleted") == 0)
				continue;
			if (strcmp(history_str(res, "id", ""),
			    history_str(item, "id", "")) == 0)
				return 1;
			if (strcmp(st, "intent") == 0 &&
			    strcmp(history_str(res, "kind", ""),
			    history_str(item, "kind", "")) == 0 &&
			    strcmp(history_str(rec, "id", ""),
			    history_str(item, "run_set", "")) == 0)
				return 1;
		}
	}
	return 0;
}

/* Adds region to the array regions unless it is there. */
static void
orphan_add_region(json_t *regions, const char *region)
{
	json_t *v;
	size_t i;

	if (region == NULL || *region == '\0')
		return;
	json_array_foreach(regions, i, v) {
		if (strcmp(json_string_value(v), region) == 0)
			return;
	}
	json_array_append_new(regions, json_string(region));
}

/* Every region a cloud record of provider p names (the record's and its
 * resources'), after first. */
static json_t *
orphan_regions(const struct provider *p, json_t *records, const char *first)
{
	json_t *regions = json_array(), *rec, *res;
	const char *prov;
	size_t i, j;

	orphan_add_region(regions, first);
	json_array_foreach(records, i, rec) {
		prov = history_str(rec, "provider", "aws");
		if (strcmp(history_str(rec, "kind", ""), "cloud") != 0 ||
		    strcmp(prov, p->name) != 0)
			continue;
		orphan_add_region(regions, history_str(rec, "region", NULL));
		json_array_foreach(json_object_get(rec, "resources"), j, res)
			orphan_add_region(regions, history_str(res, "region",
			    NULL));
	}
	return regions;
}

/* Appends the tagged resources of one region to tagged. A region that
 * only a record names and the provider refuses (a damaged record) is
 * left out with a warning. */
static int
orphan_search(const struct provider *p, const char *region, int from_record,
    json_t *tagged, struct sink *sink, char **cause)
{
	json_t *found, *item, *seen;
	char *why = NULL;
	size_t i, j;
	void *s;

	if ((s = p->open(region, &why)) == NULL) {
		if (from_record) {
			event_log(sink, "orphans", "not looking in '%s', which "
			    "a history record names: %s", region, why);
			free(why);
			return 0;
		}
		xasprintf(cause, "cannot look for orphans in %s: %s", region,
		    why);
		free(why);
		return -1;
	}
	found = p->tagged(s, &why);
	p->close(s);
	if (found == NULL) {
		xasprintf(cause, "cannot look for orphans in %s: %s", region,
		    why);
		free(why);
		return -1;
	}
	/* A global resource (an IAM role) is listed in every region: once
	 * here. */
	json_array_foreach(found, i, item) {
		json_array_foreach(tagged, j, seen) {
			if (strcmp(history_str(seen, "kind", ""), history_str(
			    item, "kind", "")) == 0 && strcmp(history_str(seen,
			    "id", ""), history_str(item, "id", "?")) == 0)
				break;
		}
		if (j == json_array_size(tagged))
			json_array_append(tagged, item);
	}
	json_decref(found);
	return 0;
}

/* Whether provider p has region (a zoned provider: or a zone of one,
 * which its open reads as that region). */
static int
orphan_has_region(const struct provider *p, const char *region)
{
	char *r = p->zoned && p->zone_of != NULL ? p->zone_of(region) : NULL;
	const char *want = r != NULL ? r : region;
	size_t i;
	int found = 0;

	for (i = 0; p->regions != NULL && p->regions[i] != NULL; i++) {
		if (strcmp(p->regions[i], want) == 0)
			found = 1;
	}
	free(r);
	return found;
}

/* Appends the tagged resources of provider p to tagged (each with its
 * "provider"), in region (else its configured one) and every region its
 * records name. asked: p or region was asked for, so that a provider
 * that cannot open is an error; else 1 is returned with the cause (the
 * caller notes it and goes on: nothing is set up for p). */
static int
orphan_provider(const struct provider *p, const char *region, int asked,
    json_t *records, json_t *tagged, struct sink *sink, char **cause)
{
	json_t *regions, *r, *mine = json_array(), *item;
	struct strbuf names;
	char *why = NULL;
	size_t i;
	void *s;

	/* The region asked for, else the configured one; then the others
	 * any record names (a run set made with --region elsewhere). */
	if ((s = p->open(region, &why)) == NULL) {
		if (asked) {
			xasprintf(cause, "cannot look for orphans with provider "
			    "%s: %s", p->name, why);
			free(why);
			json_decref(mine);
			return -1;
		}
		*cause = why;
		json_decref(mine);
		return 1;
	}
	regions = orphan_regions(p, records, p->region(s));
	p->close(s);
	strbuf_init(&names);
	json_array_foreach(regions, i, r)
		strbuf_addf(&names, "%s%s", i > 0 ? ", " : "",
		    json_string_value(r));
	event_log(sink, "orphans", "looking for fanout resources in %s (%s)",
	    names.buf, p->name);
	strbuf_free(&names);
	json_array_foreach(regions, i, r) {
		if (orphan_search(p, json_string_value(r), i > 0, mine, sink,
		    cause) != 0) {
			json_decref(mine);
			json_decref(regions);
			return -1;
		}
	}
	json_decref(regions);
	json_array_foreach(mine, i, item) {
		if (json_object_get(item, "provider") == NULL)
			json_object_set_new(item, "provider",
			    json_string(p->name));
		json_array_append(tagged, item);
	}
	json_decref(mine);
	return 0;
}

json_t *
wizard_orphans_in(const char *provider, const char *region,
    struct sink *sink, char **cause)
{
	const struct provider *p;
	json_t *tagged, *records, *out, *item;
	struct strbuf skipped;
	char *why;
	size_t i, broken, looked = 0;
	int rc, asked;

	if (provider != NULL && provider_find(provider) == NULL) {
		xasprintf(cause, "provider '%s' is not in this build",
		    provider);
		return NULL;
	}
	if (region != NULL && provider == NULL) {
		for (i = 0; (p = provider_at(i)) != NULL; i++) {
			if (orphan_has_region(p, region))
				break;
		}
		if (p == NULL) {
			xasprintf(cause, "'%s' is no region of a provider in "
			    "this build", region);
			return NULL;
		}
	}
	if ((records = history_list(&broken, cause)) == NULL)
		return NULL;
	if (broken > 0) {
		xasprintf(cause, "%zu history record(s) cannot be read, so "
		    "orphans cannot be told apart; fix or move them aside "
		    "first (see fanout history)", broken);
		json_decref(records);
		return NULL;
	}
	/* Every provider of the build (or the one asked for), each in its
	 * configured region unless the region asked for is one of its. */
	tagged = json_array();
	strbuf_init(&skipped);
	for (i = 0; (p = provider_at(i)) != NULL; i++) {
		if (provider != NULL && strcmp(p->name, provider) != 0)
			continue;
		asked = provider != NULL || (region != NULL &&
		    orphan_has_region(p, region));
		why = NULL;
		rc = orphan_provider(p, asked ? region : NULL, asked, records,
		    tagged, sink, &why);
		if (rc > 0) {
			event_log(sink, "orphans", "not looking for %s "
			    "resources: %s", p->name, why);
			strbuf_addf(&skipped, "%s%s: %s", skipped.len > 0 ?
			    "; " : "", p->name, why);
			free(why);
		}
		if (rc < 0) {
			*cause = why;
			strbuf_free(&skipped);
			json_decref(tagged);
			json_decref(records);
			return NULL;
		}
		if (rc == 0)
			looked++;
	}
	if (looked == 0) {
		xasprintf(cause, "cannot look for orphans: no provider of this "
		    "build has credentials set up (%s)", skipped.buf);
		strbuf_free(&skipped);
		json_decref(tagged);
		json_decref(records);
		return NULL;
	}
	strbuf_free(&skipped);
	out = json_array();
	json_array_foreach(tagged, i, item) {
		if (!orphan_known(records, item))
			json_array_append(out, item);
	}
	json_decref(tagged);
	json_decref(records);
	return out;
}

json_t *
wizard_orphans(struct sink *sink, char **cause)
{
	return wizard_orphans_in(NULL, NULL, sink, cause);
}

int
wizard_cleanup_orphans(json_t *orphans, struct sink *sink, char **cause)
{
	const struct provider *p = NULL, *ip;
	struct cloud_run run;
	json_t *item, *res;
	const char *region = NULL;
	size_t i;
	void *s = NULL;
	int rc = 0;

	json_array_foreach(orphans, i, item) {
		/* Each by its own provider, in its region. */
		if ((ip = provider_find(history_str(item, "provider",
		    "aws"))) == NULL) {
			xasprintf(cause, "orphan %s names provider '%s', which "
			    "this build lacks", history_str(item, "id", "?"),
			    history_str(item, "provider", "?"));
			rc = -1;
			break;
		}
		if (s == NULL || ip != p ||
		    strcmp(region, history_str(item, "region", "")) != 0) {
			if (s != NULL)
				p->close(s);
			p = ip;
			region = history_str(item, "region", "");
			if ((s = p->open(*region ? region : NULL, cause)) ==
			    NULL)
				return -1;
		}
		memset(&run, 0, sizeof run);
		run.provider = p;
		run.session = s;
		run.sink = sink;
		run.id = history_str(item, "run_set", NULL);
		/* What the provider found (its own keys, a machine's zone),
		 * marked as an orphan. */
		res = json_deep_copy(item);
		json_object_set_new(res, "orphan", json_true());
		json_object_del(res, "provider");
		json_object_del(res, "run_set");
		event_log(sink, "orphans", "deleting %s %s",
		    history_str(item, "kind", ""), history_str(item, "id", ""));
		rc = p->destroy(&run, res, cause);
		json_decref(res);
		if (rc != 0)
			break;
	}
	if (s != NULL)
		p->close(s);
	return rc;
}

void
wizard_register(void)
{
	flow_ops.plan = wizard_plan;
	flow_ops.create = wizard_create;
	flow_ops.resume = wizard_resume;
	flow_ops.cleanup = wizard_cleanup;
	flow_ops.orphans = wizard_orphans;
	flow_ops.cleanup_orphans = wizard_cleanup_orphans;
	wizard_menus_register();
}

void
aws_flows_register(void)
{
	wizard_register();
}
