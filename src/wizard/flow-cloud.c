/* The create, resume and cleanup flows over a provider (wizard.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloud/provider.h"
#include "event.h"
#include "flows.h"
#include "history/history.h"
#include "run/local.h"
#include "run/project.h"
#include "util/fs.h"
#include "util/xmalloc.h"
#include "wizard/wizard.h"

int	(*wizard_bastion_hook)(struct cloud_run *, struct local_result *,
	    char **cause);

/* Checks the answers a create needs; loads the project into pr. */
int
wizard_check(json_t *answers, struct project *pr, char **cause)
{
	const char *dir = history_str(answers, "project", NULL);
	const char *prov = history_str(answers, "provider", NULL);

	if (!json_is_object(answers)) {
		xasprintf(cause, "the answers are not a map");
		return -1;
	}
	if (dir == NULL) {
		xasprintf(cause, "no project folder given");
		return -1;
	}
	if (prov != NULL && provider_find(prov) == NULL) {
		xasprintf(cause, "provider '%s' is not supported (aws is)",
		    prov);
		return -1;
	}
	/* The rules of menus/create.yaml, as the form and the CLI apply
	 * them. */
	if (wizard_check_answers(answers, cause) != 0)
		return -1;
	return project_load(dir, pr, cause);
}

static const struct provider *
wizard_provider(json_t *answers)
{
	const char *p = history_str(answers, "provider", NULL);

	return provider_find(p != NULL ? p : "aws");
}

json_t *
wizard_plan(json_t *answers, char **cause)
{
	const struct provider *p;
	struct project pr;
	json_t *plan;
	void *s;

	memset(&pr, 0, sizeof pr);
	if (wizard_check(answers, &pr, cause) != 0)
		return NULL;
	project_free(&pr);
	p = wizard_provider(answers);
	if ((s = p->open(history_str(answers, "region", NULL), cause)) == NULL)
		return NULL;
	plan = p->plan(s, answers, cause);
	p->close(s);
	return plan;
}

static void
run_init(struct cloud_run *run, const struct provider *p, void *session,
    json_t *rec, struct sink *sink)
{
	memset(run, 0, sizeof *run);
	run->provider = p;
	run->session = session;
	run->rec = rec;
	run->sink = sink;
	run->id = history_str(rec, "id", NULL);
	run->project = history_str(rec, "project", NULL);
	run->answers = json_object_get(rec, "answers");
	pthread_mutex_init(&run->lock, NULL);
}

static int
run_state(struct cloud_run *run, const char *state, char **cause)
{
	return cloud_record_set(run, "state", json_string(state), cause);
}

static int
record_exists(const char *id)
{
	char *path = history_file(id, ".json");
	int ok = access(path, F_OK) == 0;

	free(path);
	return ok;
}

/* Non-zero when the record of id says it was torn down. */
static int
record_deleted(const char *id)
{
	char *why = NULL;
	json_t *rec = history_load(id, &why);
	int deleted = rec != NULL && history_str(rec, "state", NULL) != NULL &&
	    strcmp(history_str(rec, "state", NULL), "deleted") == 0;

	free(why);
	json_decref(rec);
	return deleted;
}

/* Whether rec has a bastion that is made (created) and not torn down. */
static int
run_has_bastion(json_t *rec)
{
	json_t *res;
	size_t i;

	json_array_foreach(json_object_get(rec, "resources"), i, res) {
		if (strcmp(history_str(res, "name", ""), "bastion") == 0 &&
		    strcmp(history_str(res, "state", ""), "created") == 0)
			return 1;
	}
	return 0;
}

/* Keeps the run set without what costs money: stops the bastion (the
 * provider waits for one still booting first) and sets the record's
 * state to state: "stopped" after a create that finished (a resume
 * starts the bastion again), or NULL to leave it (a create a cancel cut
 * short stays "failed": resume cannot finish it, cleanup removes it). */
static int
run_park(struct cloud_run *run, const char *state, char **cause)
{
	const struct provider *p = run->provider;
	json_t *res;
	size_t i;

	if (p->park == NULL)
		return 0;
	if (state == NULL && !run_has_bastion(run->rec)) {
		event_log(run->sink, NULL, "run set %s kept; no bastion was "
		    "made: remove the rest with 'fanout cleanup %s'", run->id,
		    run->id);
		return 0;
	}
	event_step(run->sink, EV_STEP_START, "stop bastion", NULL, 0);
	json_array_foreach(json_object_get(run->rec, "resources"), i, res) {
		if (strcmp(history_str(res, "state", ""), "created") != 0)
			continue;
		if (p->park(run, res, cause) != 0) {
			event_step(run->sink, EV_STEP_FAIL, "stop bastion",
			    *cause, 0);
			return -1;
		}
	}
	if (state != NULL && run_state(run, state, cause) != 0)
		return -1;
	event_step(run->sink, EV_STEP_DONE, "stop bastion", NULL, 0);
	if (state != NULL)
		event_log(run->sink, NULL, "run set %s kept, its bastion "
		    "stopped: run again with 'fanout resume %s', remove it with "
		    "'fanout cleanup %s'", run->id, run->id, run->id);
	else
		event_log(run->sink, NULL, "run set %s kept, its bastion "
		    "stopped; its create did not finish, so it cannot be "
		    "resumed: remove it with 'fanout cleanup %s'", run->id,
		    run->id);
	return 0;
}

static int	cleanup_held(const char *, struct sink *, char **);
static int	run_recover(struct cloud_run *, const char *, char **);

/* What the user asked with a cancel (flows.h): 0 (none), FLOW_CANCEL_KEEP
 * or FLOW_CANCEL_TEARDOWN. */
static int
run_cancel(struct sink *sink)
{
	int c;

	if (sink == NULL || sink->cancelled == NULL ||
	    (c = sink->cancelled(sink)) == 0)
		return 0;
	return c == FLOW_CANCEL_TEARDOWN ? FLOW_CANCEL_TEARDOWN :
	    FLOW_CANCEL_KEEP;
}

/* A sink that passes events on and is never cancelled: what a flow does
 * once the run is over (stop or tear down, as asked) runs to its end. */
static void
nocancel_emit(struct sink *sink, const struct event *ev)
{
	event_emit(sink->data, ev);
}

static void
nocancel_init(struct sink *out, struct sink *in)
{
	memset(out, 0, sizeof *out);
	out->emit = nocancel_emit;
	out->data = in;
}

/* After the run (rc its result): tears the run set down when the user
 * cancelled with "tear down", or (not cancelled) cleanup_after asked for
 * it; else stops the bastion when it ran or a cancel said "keep". A
 * cancel's answer wins over cleanup_after. made: every create step was
 * done (else a cancel cut the create short: what it made is kept, the
 * bastion stopped, the state left as it is). Returns the new rc. */
static int
run_end(struct cloud_run *run, int ran, int cleanup_after, int made, int rc,
    char **cause)
{
	struct sink *outer = run->sink, quiet;
	int cancel = run_cancel(outer);
	char *why = NULL;

	nocancel_init(&quiet, outer);
	run->sink = &quiet;
	if (cancel == FLOW_CANCEL_TEARDOWN || (cancel == 0 && cleanup_after)) {
		if (cancel != 0)
			event_log(&quiet, NULL, "cancelled: tearing down run "
			    "set %s", run->id);
		run->provider->state_free(run->state);
		run->state = NULL;
		if (cleanup_held(run->id, &quiet, rc == 0 ? cause :
		    &why) != 0)
			rc = -1;
	} else if (cancel == FLOW_CANCEL_KEEP || (ran &&
	    wizard_bastion_hook != NULL)) {
		if (cancel != 0)
			event_log(&quiet, NULL, "cancelled: keeping run set %s",
			    run->id);
		/* A call cut short may have made its resource all the same
		 * (a bastion booting): find it, to stop it. */
		if (!made && run_recover(run, "stop bastion", &why) != 0) {
			event_log(&quiet, NULL, "%s", why);
			free(why);
			why = NULL;
		}
		/* Ran (or failed to), or kept: keep it, but stopped. */
		if (run_park(run, made ? "stopped" : NULL, rc == 0 ? cause :
		    &why) != 0)
			rc = -1;
	}
	free(why);
	run->sink = outer;
	return rc;
}

/* The SSH part, once the bastion runs (see wizard_bastion_hook); out
 * (may be NULL) gets how the run went. */
static int
run_hook(struct cloud_run *run, struct local_result *out, char **cause)
{
	double t0 = time_mono();
	int rc;

	if (wizard_bastion_hook == NULL) {
		event_log(run->sink, NULL, "bastion ready; running the project "
		    "on it comes with the SSH part (not in this build)");
		return 0;
	}
	event_step(run->sink, EV_STEP_START, "run", NULL, 0);
	rc = wizard_bastion_hook(run, out, cause);
	event_step(run->sink, rc == 0 ? EV_STEP_DONE : EV_STEP_FAIL, "run",
	    rc == 0 ? NULL : *cause, time_mono() - t0);
	return rc;
}

int
wizard_create(json_t *answers, struct sink *sink, char **id,
    struct local_result *out, char **cause)
{
	const struct provider *p;
	struct cloud_run run;
	struct project pr;
	char *why = NULL;
	json_t *rec, *copy;
	void *s;
	int rc, lock;

	*id = NULL;
	if (out != NULL)
		memset(out, 0, sizeof *out);
	memset(&pr, 0, sizeof pr);
	if (wizard_check(answers, &pr, cause) != 0)
		return -1;
	p = wizard_provider(answers);
	if ((s = p->open(history_str(answers, "region", NULL), cause)) ==
	    NULL) {
		project_free(&pr);
		return -1;
	}
	copy = json_deep_copy(answers);
	json_object_set_new(copy, "project", json_string(pr.dir));
	if (history_str(copy, "name", NULL) == NULL)
		json_object_set_new(copy, "name", json_string(pr.name));
	rec = history_new("cloud", history_str(copy, "name", NULL));
	/* One command at a time on the run set, from its first record on. */
	if ((lock = history_hold(history_str(rec, "id", NULL), "create",
	    cause)) < 0) {
		json_decref(copy);
		json_decref(rec);
		project_free(&pr);
		p->close(s);
		return -1;
	}
	json_object_set_new(rec, "state", json_string("creating"));
	json_object_set_new(rec, "provider", json_string(p->name));
	json_object_set_new(rec, "region", json_string(p->region(s)));
	json_object_set_new(rec, "project_dir", json_string(pr.dir));
	json_object_set_new(rec, "answers", copy);
	project_free(&pr);
	run_init(&run, p, s, rec, sink);
	run.state = p->state_new();
	event_log(sink, NULL, "run set %s in %s", run.id, p->region(s));
	rc = wizard_run_steps(&run, p->create_steps, cause);
	if (rc == 0)
		rc = run_state(&run, "active", cause);
	if (rc == 0) {
		int do_run = !json_is_false(json_object_get(run.answers,
		    "run"));

		if (do_run)
			rc = run_hook(&run, out, cause);
		else if (run_cancel(sink) == 0)
			event_log(sink, NULL, "run set %s is ready, its bastion "
			    "running; run the project with 'fanout resume %s'",
			    run.id, run.id);
		rc = run_end(&run, do_run, json_is_true(json_object_get(
		    run.answers, "cleanup_after")), 1, rc, cause);
	} else if (record_exists(run.id)) {
		/* Something may have been made: keep the record for cleanup;
		 * a cancel tears it down, or keeps it with the bastion
		 * stopped (the create unfinished: the state stays). */
		if (run_state(&run, "failed", &why) != 0)
			free(why);
		why = NULL;
		if (run_cancel(sink) != 0)
			rc = run_end(&run, 0, 0, 0, rc, &why);
		free(why);
		if (!record_deleted(run.id)) {
			why = *cause;
			xasprintf(cause, "%s; what was made is recorded: remove "
			    "it with 'fanout cleanup %s'", why, run.id);
			free(why);
		}
	}
	if (record_exists(run.id))
		*id = xstrdup(run.id);
	if (run.state != NULL)
		p->state_free(run.state);
	pthread_mutex_destroy(&run.lock);
	json_decref(rec);
	p->close(s);
	history_release(lock);
	return rc;
}

/* 0 when the provider makes every kind of resource rec lists (else it
 * could neither find nor delete it: refused before anything is written). */
static int
wizard_known_kinds(json_t *rec, const struct provider *p, char **cause)
{
	const char *kind;
	json_t *res;
	size_t i, k;

	json_array_foreach(json_object_get(rec, "resources"), i, res) {
		kind = history_str(res, "kind", "");
		for (k = 0; p->kinds != NULL && p->kinds[k] != NULL; k++) {
			if (strcmp(p->kinds[k], kind) == 0)
				break;
		}
		if (p->kinds != NULL && p->kinds[k] == NULL) {
			xasprintf(cause, "history record %s: resources[%zu]."
			    "kind is '%.40s', which provider %s does not "
			    "make; move the record aside or restore it",
			    history_str(rec, "id", ""), i, kind, p->name);
			return -1;
		}
	}
	return 0;
}

/* Non-zero when region is one of p's regions. */
static int
wizard_known_region(const struct provider *p, const char *region)
{
	size_t i;

	for (i = 0; p->regions != NULL && p->regions[i] != NULL; i++) {
		if (strcmp(p->regions[i], region) == 0)
			return 1;
	}
	return p->regions == NULL;
}

int
wizard_cloud_record(json_t *rec, const struct provider **pp, char **cause)
{
	const char *id = history_str(rec, "id", ""), *kind, *region;
	const struct provider *p;
	json_t *res;
	size_t i;

	kind = history_str(rec, "kind", "");
	if (strcmp(kind, "local") == 0) {
		xasprintf(cause, "run set %s ran on this machine (fanout run "
		    "--local): nothing in the cloud to resume or clean up; "
		    "run it again with fanout run --local", id);
		return -1;
	}
	if (strcmp(kind, "cloud") != 0) {
		xasprintf(cause, "run set %s ran on a host of your own (fanout "
		    "run --host): nothing in the cloud to resume or clean up; "
		    "run it again with fanout run --host", id);
		return -1;
	}
	if ((p = provider_find(history_str(rec, "provider", NULL))) == NULL) {
		xasprintf(cause, "run set %s uses provider '%s', which this "
		    "build lacks", id, history_str(rec, "provider", "?"));
		return -1;
	}
	if (wizard_known_kinds(rec, p, cause) != 0)
		return -1;
	region = history_str(rec, "region", "");
	if (!wizard_known_region(p, region)) {
		xasprintf(cause, "history record %s: region is '%.40s', which "
		    "provider %s does not have; move the record aside or "
		    "restore it", id, region, p->name);
		return -1;
	}
	json_array_foreach(json_object_get(rec, "resources"), i, res) {
		region = history_str(res, "region", NULL);
		if (region != NULL && !wizard_known_region(p, region)) {
			xasprintf(cause, "history record %s: resources[%zu]."
			    "region is '%.40s', which provider %s does not "
			    "have; move the record aside or restore it", id, i,
			    region, p->name);
			return -1;
		}
	}
	if (pp != NULL)
		*pp = p;
	return 0;
}

/* Loads a record for resume or cleanup and opens its provider. */
static json_t *
wizard_open(const char *id, const struct provider **pp, void **sp,
    char **cause)
{
	const struct provider *p;
	json_t *rec;

	if ((rec = history_load(id, cause)) == NULL)
		return NULL;
	if (wizard_cloud_record(rec, &p, cause) != 0)
		goto fail;
	if ((*sp = p->open(history_str(rec, "region", NULL), cause)) == NULL)
		goto fail;
	*pp = p;
	return rec;
fail:
	json_decref(rec);
	return NULL;
}

static void
wizard_close(struct cloud_run *run, json_t *rec, const struct provider *p,
    void *s)
{
	pthread_mutex_destroy(&run->lock);
	json_decref(rec);
	p->close(s);
}

int
wizard_resume(const char *id, struct sink *sink, struct local_result *out,
    char **cause)
{
	return wizard_resume_run(id, 1, sink, out, cause);
}

int
wizard_resume_run(const char *id, int do_run, struct sink *sink,
    struct local_result *out, char **cause)
{
	const struct provider *p;
	struct cloud_run run;
	const char *state, *kind;
	json_t *rec, *res;
	size_t i;
	void *s;
	int rc = -1, e, lock;

	if (out != NULL)
		memset(out, 0, sizeof *out);
	if ((lock = history_hold(id, "resume", cause)) < 0)
		return -1;
	if ((rec = wizard_open(id, &p, &s, cause)) == NULL) {
		history_release(lock);
		return -1;
	}
	run_init(&run, p, s, rec, sink);
	state = history_str(rec, "state", "");
	if (strcmp(state, "deleted") == 0) {
		xasprintf(cause, "run set %s was cleaned up; create a new one",
		    id);
		goto out;
	}
	if (strcmp(state, "deleting") == 0) {
		xasprintf(cause, "a cleanup of run set %s did not finish; "
		    "finish it with 'fanout cleanup %s'", id, id);
		goto out;
	}
	json_array_foreach(json_object_get(rec, "resources"), i, res) {
		state = history_str(res, "state", "");
		kind = history_str(res, "kind", "");
		if (strcmp(state, "created") != 0) {
			if (strcmp(state, "deleted") == 0)
				xasprintf(cause, "%s %s of run set %s was "
				    "deleted; remove the rest with 'fanout "
				    "cleanup %s'", kind,
				    history_str(res, "name", ""),
				    id, id);
			else
				xasprintf(cause, "the create of run set %s did "
				    "not finish (%s); remove it with 'fanout "
				    "cleanup %s'", id, kind, id);
			goto out;
		}
		if ((e = p->exists(&run, res, cause)) < 0)
			goto out;
		if (e == 0) {
			xasprintf(cause, "%s %s (%s) of run set %s is gone; "
			    "remove the rest with 'fanout cleanup %s'", kind,
			    history_str(res, "name", ""),
			    history_str(res, "id", ""), id, id);
			goto out;
		}
	}
	if (i == 0 || !json_is_object(json_object_get(rec, "ssh"))) {
		xasprintf(cause, "run set %s has no bastion to resume; remove "
		    "it with 'fanout cleanup %s'", id, id);
		goto out;
	}
	json_array_foreach(json_object_get(rec, "resources"), i, res) {
		if (p->revive(&run, res, cause) != 0)
			goto out;
	}
	if (run_state(&run, "active", cause) != 0)
		goto out;
	if (!do_run) {
		event_log(sink, NULL, "run set %s is ready, its bastion "
		    "running", id);
		rc = 0;
		goto out;
	}
	rc = run_hook(&run, out, cause);
	rc = run_end(&run, 1, 0, 1, rc, cause);
out:
	wizard_close(&run, rec, p, s);
	history_release(lock);
	return rc;
}

/* Non-zero when a live resource of rec depends on res's kind. */
static int
has_live_dependent(json_t *rec, json_t *res)
{
	const char *kind = history_str(res, "kind", "");
	json_t *r, *d;
	size_t i, j;

	json_array_foreach(json_object_get(rec, "resources"), i, r) {
		if (r == res ||
		    strcmp(history_str(r, "state", ""), "deleted") == 0)
			continue;
		json_array_foreach(json_object_get(r, "depends_on"), j, d) {
			if (strcmp(json_string_value(d), kind) == 0)
				return 1;
		}
	}
	return 0;
}

int
wizard_cleanup(const char *id, struct sink *sink, char **cause)
{
	int lock, rc;

	if ((lock = history_hold(id, "cleanup", cause)) < 0)
		return -1;
	rc = cleanup_held(id, sink, cause);
	history_release(lock);
	return rc;
}

/* Resources in state intent (a crash, or a call whose answer was lost,
 * between the call and its record): each found by its name or tags is
 * recorded as created, one never made as deleted. Logs as step. */
static int
run_recover(struct cloud_run *run, const char *step, char **cause)
{
	json_t *res;
	char *rid;
	size_t i;
	int found, rc;

	json_array_foreach(json_object_get(run->rec, "resources"), i, res) {
		if (strcmp(history_str(res, "state", ""), "intent") != 0)
			continue;
		if ((found = run->provider->recover(run, res, &rid,
		    cause)) < 0)
			return -1;
		if (found) {
			event_log(run->sink, step, "found %s %s by its name "
			    "or tags", history_str(res, "kind", ""), rid);
			rc = cloud_created(run, res, rid, cause);
			free(rid);
		} else {
			event_log(run->sink, step, "%s %s was never made",
			    history_str(res, "kind", ""),
			    history_str(res, "name", ""));
			rc = cloud_deleted(run, res, cause);
		}
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* The cleanup, by a caller that holds the run set (history_hold). */
static int
cleanup_held(const char *id, struct sink *sink, char **cause)
{
	const struct provider *p;
	struct cloud_run run;
	json_t *rec, *res, *pick;
	char *ts, *path;
	size_t i;
	double t0 = time_mono();
	void *s;
	int rc = -1;

	if ((rec = wizard_open(id, &p, &s, cause)) == NULL)
		return -1;
	run_init(&run, p, s, rec, sink);
	event_step(sink, EV_STEP_START, "cleanup", NULL, 0);
	if (strcmp(history_str(rec, "state", ""), "deleted") == 0) {
		event_log(sink, "cleanup", "run set %s was already cleaned up",
		    id);
		rc = 0;
		goto out;
	}
	if (run_state(&run, "deleting", cause) != 0)
		goto out;
	/* A crash between a call and its record: find what was made. */
	if (run_recover(&run, "cleanup", cause) != 0)
		goto out;
	/* Reverse dependency order: a resource goes once nothing live
	 * depends on it. */
	for (;;) {
		pick = NULL;
		json_array_foreach(json_object_get(rec, "resources"), i, res) {
			if (strcmp(history_str(res, "state", ""),
			    "deleted") != 0 && !has_live_dependent(rec, res)) {
				pick = res;
				break;
			}
		}
		if (pick == NULL)
			break;
		event_log(sink, "cleanup", "deleting %s %s",
		    history_str(pick, "kind", ""), history_str(pick, "id",
		    history_str(pick, "name", "")));
		if (p->destroy(&run, pick, cause) != 0 ||
		    cloud_deleted(&run, pick, cause) != 0)
			goto out;
	}
	json_array_foreach(json_object_get(rec, "resources"), i, res) {
		if (strcmp(history_str(res, "state", ""), "deleted") != 0) {
			xasprintf(cause, "resources of %s depend on each other "
			    "in a circle; nothing more deleted", id);
			goto out;
		}
	}
	path = history_file(id, ".key");
	if (unlink(path) != 0 && errno != ENOENT) {
		xasprintf(cause, "cannot remove %s: %s", path,
		    strerror(errno));
		free(path);
		goto out;
	}
	free(path);
	ts = history_timestamp(time_now());
	cloud_record_put(&run, "deleted_at", json_string(ts));
	free(ts);
	rc = run_state(&run, "deleted", cause);
out:
	if (rc == 0)
		event_step(sink, EV_STEP_DONE, "cleanup", NULL,
		    time_mono() - t0);
	else
		event_step(sink, EV_STEP_FAIL, "cleanup", *cause,
		    time_mono() - t0);
	wizard_close(&run, rec, p, s);
	return rc;
}
