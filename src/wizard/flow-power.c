/* What the cloud says of a kept run set's machines (wizard.h:
 * wizard_refresh): a machine that stopped by itself (idle stop, see
 * templates/idle-stop.sh) is noted stopped in the record, with when, so
 * that `fanout history` and `fanout status` show it and its cost so far
 * counts that time at the stopped price. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/provider.h"
#include "engine/engine.h"
#include "history/history.h"
#include "util/fs.h"
#include "util/xmalloc.h"
#include "wizard/wizard.h"

/* Whether rec is a kept cloud run set with a machine made. */
static int
refresh_wanted(json_t *rec)
{
	const char *state = history_str(rec, "state", "");
	json_t *res;
	size_t i;

	if (strcmp(history_str(rec, "kind", ""), "cloud") != 0 ||
	    (strcmp(state, "active") != 0 && strcmp(state, "stopped") != 0 &&
	    strcmp(state, "failed") != 0))
		return 0;
	json_array_foreach(json_object_get(rec, "resources"), i, res) {
		if (strcmp(history_str(res, "kind", ""), "instance") == 0 &&
		    strcmp(history_str(res, "state", ""), "created") == 0 &&
		    history_str(res, "id", NULL) != NULL)
			return 1;
	}
	return 0;
}

/* Asks for each machine's state and notes the changes; -1 with a cause
 * when the cloud does not answer. */
static int
refresh_machines(struct cloud_run *run, char **cause)
{
	const struct provider *p = run->provider;
	json_t *res;
	char *state, *ts;
	double since, stopped_at = -1;
	size_t i;
	int all_stopped = 1, n = 0;

	json_array_foreach(json_object_get(run->rec, "resources"), i, res) {
		if (strcmp(history_str(res, "kind", ""), "instance") != 0 ||
		    strcmp(history_str(res, "state", ""), "created") != 0)
			continue;
		if (p->power(run, res, &state, &since, cause) != 0)
			return -1;
		n++;
		if (strcmp(state, "stopped") == 0) {
			if (since < 0)
				since = time_now();
			if (cloud_power_note(run, res, "stopped", since,
			    "noticed", cause) != 0) {
				free(state);
				return -1;
			}
			if (since > stopped_at)
				stopped_at = since;
		} else {
			all_stopped = 0;
			if (strcmp(state, "running") == 0 &&
			    cloud_power_note(run, res, "running", time_now(),
			    "noticed", cause) != 0) {
				free(state);
				return -1;
			}
		}
		free(state);
	}
	/* Every machine stopped by itself: the run set is stopped. */
	if (n > 0 && all_stopped && strcmp(history_str(run->rec, "state", ""),
	    "active") == 0) {
		ts = history_timestamp(stopped_at);
		cloud_record_put(run, "stopped_at", json_string(ts));
		free(ts);
		if (cloud_record_set(run, "state", json_string("stopped"),
		    cause) != 0)
			return -1;
	}
	return 0;
}

int
wizard_refresh(const char *id, char **note)
{
	const struct provider *p;
	struct cloud_run run;
	json_t *rec;
	char *cause = NULL;
	void *s;
	int lock, rc = 0;

	*note = NULL;
	if ((rec = history_load(id, &cause)) == NULL) {
		free(cause);
		return 0;
	}
	if (!refresh_wanted(rec)) {
		json_decref(rec);
		return 0;
	}
	json_decref(rec);
	/* A command at work on the run set knows better: leave it. */
	if ((lock = history_hold(id, "refresh", &cause)) < 0) {
		free(cause);
		return 0;
	}
	if ((rec = history_load(id, &cause)) == NULL ||
	    !refresh_wanted(rec) || wizard_cloud_record(rec, &p, &cause) != 0 ||
	    p->power == NULL) {
		free(cause);
		json_decref(rec);
		history_release(lock);
		return 0;
	}
	if ((s = p->open(history_str(rec, "region", NULL), &cause)) == NULL) {
		xasprintf(note, "run set %s: %s; its state is as last recorded",
		    id, cause);
		free(cause);
		json_decref(rec);
		history_release(lock);
		return -1;
	}
	memset(&run, 0, sizeof run);
	run.provider = p;
	run.session = s;
	run.rec = rec;
	run.id = history_str(rec, "id", NULL);
	run.project = history_str(rec, "project", NULL);
	run.answers = json_object_get(rec, "answers");
	run.engine = engine_of(run.answers);
	pthread_mutex_init(&run.lock, NULL);
	if (refresh_machines(&run, &cause) != 0) {
		xasprintf(note, "run set %s: the cloud did not answer (%s); "
		    "its state is as last recorded", id, cause);
		free(cause);
		rc = -1;
	}
	pthread_mutex_destroy(&run.lock);
	p->close(s);
	json_decref(rec);
	history_release(lock);
	return rc;
}
