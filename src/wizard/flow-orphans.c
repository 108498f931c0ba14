/* Orphans: resources tagged managedBy=fanout that no live record knows
 * (wizard.h), and the registration of the flows in flow_ops. */
#include <stdlib.h>
#include <string.h>

#include "cloud/provider.h"
#include "event.h"
#include "flows.h"
#include "history/history.h"
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
		    strcmp(history_str(rec, "kind", ""), "cloud") != 0)
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

json_t *
wizard_orphans_in(const char *provider, const char *region,
    struct sink *sink, char **cause)
{
	const struct provider *p = provider_find(provider != NULL ? provider :
	    "aws");
	json_t *tagged, *records, *out, *item;
	size_t i, broken;
	void *s;

	if (p == NULL) {
		xasprintf(cause, "provider '%s' is not supported", provider);
		return NULL;
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
	if ((s = p->open(region, cause)) == NULL) {
		json_decref(records);
		return NULL;
	}
	event_log(sink, "orphans", "looking for fanout resources in %s",
	    p->region(s));
	tagged = p->tagged(s, cause);
	p->close(s);
	if (tagged == NULL) {
		json_decref(records);
		return NULL;
	}
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
	const struct provider *p = provider_find("aws");
	struct cloud_run run;
	json_t *item, *res;
	const char *region = NULL;
	size_t i;
	void *s = NULL;
	int rc = 0;

	json_array_foreach(orphans, i, item) {
		if (s == NULL ||
		    strcmp(region, history_str(item, "region", "")) != 0) {
			if (s != NULL)
				p->close(s);
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
		res = json_pack("{s:s, s:s, s:s, s:b}",
		    "kind", history_str(item, "kind", ""),
		    "id", history_str(item, "id", ""),
		    "name", history_str(item, "name", ""), "orphan", 1);
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
	wizard_bastion_hook = wizard_run_bastion;
}

void
aws_flows_register(void)
{
	wizard_register();
}
