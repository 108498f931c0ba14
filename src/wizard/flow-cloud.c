/* The create, resume and cleanup flows over a provider (wizard.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloud/provider.h"
#include "engine/engine.h"
#include "event.h"
#include "flows.h"
#include "history/history.h"
#include "run/local.h"
#include "run/project.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"
#include "wizard/wizard.h"

/* A step table made of a provider's blocks and an engine's set-up. */
struct flow_steps {
	struct cloud_step	 *steps;	/* {NULL}-ended */
	const char		***afters;	/* filtered "after" lists */
	size_t			  n;
};

static int
flow_steps_has(const struct flow_steps *fs, const char *name)
{
	size_t i;

	for (i = 0; i < fs->n; i++) {
		if (strcmp(fs->steps[i].name, name) == 0)
			return 1;
	}
	return 0;
}

static void
flow_steps_add(struct flow_steps *fs, const struct cloud_step *t)
{
	for (; t != NULL && t->name != NULL; t++) {
		fs->steps = xreallocarray(fs->steps, fs->n + 2,
		    sizeof *fs->steps);
		fs->steps[fs->n++] = *t;
		memset(&fs->steps[fs->n], 0, sizeof fs->steps[fs->n]);
	}
}

/* The create's steps: the provider's blocks the engine needs, then the
 * engine's set-up (setup_only: the set-up alone, as a resume runs it,
 * its "after" names of steps not in the table dropped; setup 0: none, the
 * machines alone, as --no-run makes them: the run that comes later sets
 * them up). extra: blocks the project needs besides the engine's (the
 * role block for buckets). */
static void
flow_steps_make(struct flow_steps *fs, const struct provider *p,
    const struct engine *e, int setup_only, int setup, unsigned extra)
{
	const char **after;
	size_t i, j, k;
	int b;

	memset(fs, 0, sizeof *fs);
	for (b = 0; b < CLOUD_BLOCKS && !setup_only; b++) {
		if ((e->blocks | extra) & (1u << b))
			flow_steps_add(fs, p->blocks[b]);
	}
	if (setup)
		flow_steps_add(fs, e->setup);
	if (fs->steps == NULL)
		fs->steps = xcalloc(1, sizeof *fs->steps);
	fs->afters = xcalloc(fs->n + 1, sizeof *fs->afters);
	for (i = 0; i < fs->n; i++) {
		for (k = 0; fs->steps[i].after != NULL &&
		    fs->steps[i].after[k] != NULL; k++)
			;
		after = xcalloc(k + 1, sizeof *after);
		for (j = k = 0; fs->steps[i].after != NULL &&
		    fs->steps[i].after[k] != NULL; k++) {
			if (flow_steps_has(fs, fs->steps[i].after[k]))
				after[j++] = fs->steps[i].after[k];
		}
		fs->afters[i] = after;
		fs->steps[i].after = after;
	}
}

static void
flow_steps_free(struct flow_steps *fs)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		free(fs->afters[i]);
	free(fs->afters);
	free(fs->steps);
}

/* The engine of a create's answers, one this build has whose blocks the
 * provider makes; else NULL with a cause. */
static const struct engine *
flow_engine(json_t *answers, const struct provider *p, char **cause)
{
	const struct engine *e = engine_of(answers);
	int b;

	if (e == NULL) {
		xasprintf(cause, "engine '%s' is not in this build",
		    history_str(answers, "engine", "?"));
		return NULL;
	}
	for (b = 0; b < CLOUD_BLOCKS && p != NULL; b++) {
		if ((e->blocks & (1u << b)) && p->blocks[b] == NULL) {
			xasprintf(cause, "provider %s cannot run engine %s "
			    "yet; choose another engine", p->name, e->name);
			return NULL;
		}
	}
	return e;
}

/* "provider 'x' is not in this build; providers: aws, gcp". */
static void
flow_providers_cause(const char *prov, char **cause)
{
	const struct provider *p;
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb);
	for (i = 0; (p = provider_at(i)) != NULL; i++)
		strbuf_addf(&sb, "%s%s", i > 0 ? ", " : "", p->name);
	free(*cause);
	xasprintf(cause, "provider '%s' is not in this build; providers: %s",
	    prov, sb.buf);
	strbuf_free(&sb);
}

/* A project's buckets must be the provider's kind (its store_scheme),
 * and the provider must read and write buckets at all: refused before
 * anything is made, naming the provider that reads them. */
static int
flow_store_check(const struct provider *p, const struct project *pr,
    char **cause)
{
	const struct store_url *u = pr->inputs_url != NULL ? pr->inputs_url :
	    pr->results_url;
	const char *what = pr->inputs_url != NULL ? "inputs" : "results";
	const struct provider *o;
	size_t i;

	if (pr->inputs_url != NULL && pr->results_url != NULL &&
	    strcmp(pr->inputs_url->scheme, pr->results_url->scheme) != 0) {
		xasprintf(cause, "%s: inputs in %s:// and results in %s:// "
		    "buckets; one run set reads and writes one provider's "
		    "buckets: make both %s:// or both %s://", pr->file,
		    pr->inputs_url->scheme, pr->results_url->scheme,
		    pr->inputs_url->scheme, pr->results_url->scheme);
		return -1;
	}
	if (u == NULL || p == NULL)
		return 0;
	if (p->store_scheme != NULL && strcmp(p->store_scheme, u->scheme) ==
	    0 && p->store_check != NULL && p->store_fetch != NULL &&
	    p->store_put != NULL && p->blocks[CLOUD_BLOCK_ROLE] != NULL)
		return 0;
	for (i = 0; (o = provider_at(i)) != NULL; i++) {
		if (o->store_scheme != NULL && strcmp(o->store_scheme,
		    u->scheme) == 0)
			break;
	}
	if (p->store_scheme != NULL && strcmp(p->store_scheme, u->scheme) ==
	    0)
		xasprintf(cause, "%s: %s in %s:// buckets, which provider %s "
		    "cannot read or write yet; nothing was created", pr->file,
		    what, u->scheme, p->name);
	else if (o != NULL)
		xasprintf(cause, "%s: %s:// %s need --provider %s (provider %s "
		    "reads %s:// buckets); nothing was created", pr->file,
		    u->scheme, what, o->name, p->name, p->store_scheme != NULL ?
		    p->store_scheme : "no");
	else
		xasprintf(cause, "%s: %s:// %s: no provider in this build reads "
		    "%s:// buckets; nothing was created", pr->file, u->scheme,
		    what, u->scheme);
	return -1;
}

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
		flow_providers_cause(prov, cause);
		return -1;
	}
	if (flow_engine(answers, provider_find(prov != NULL ? prov : "aws"),
	    cause) == NULL)
		return -1;
	/* The rules of menus/create.yaml, as the form and the CLI apply
	 * them. */
	if (wizard_check_answers(answers, cause) != 0)
		return -1;
	if (project_load(dir, pr, cause) != 0)
		return -1;
	if (flow_store_check(provider_find(prov != NULL ? prov : "aws"), pr,
	    cause) != 0) {
		project_free(pr);
		return -1;
	}
	return 0;
}

static const struct provider *
wizard_provider(json_t *answers)
{
	const char *p = history_str(answers, "provider", NULL);

	return provider_find(p != NULL ? p : "aws");
}

int
wizard_settle(json_t *answers, char **cause)
{
	const struct provider *p = wizard_provider(answers);
	void *s;
	int rc;

	if (p->settle == NULL)
		return 0;
	if ((s = p->open(history_str(answers, "region", NULL), cause)) == NULL)
		return -1;
	rc = p->settle(s, answers, cause);
	p->close(s);
	return rc;
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
	if (plan != NULL)
		json_object_set_new(plan, "estimate", wizard_estimate(answers,
		    json_is_number(json_object_get(plan, "hourly_usd")) ?
		    json_number_value(json_object_get(plan, "hourly_usd")) :
		    -1));
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
	run->engine = engine_of(run->answers);
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

/* Whether rec has a machine that is made (created) and not torn down. */
static int
run_has_machine(json_t *rec)
{
	json_t *res;
	size_t i;

	json_array_foreach(json_object_get(rec, "resources"), i, res) {
		if (strcmp(history_str(res, "kind", ""), "instance") == 0 &&
		    strcmp(history_str(res, "state", ""), "created") == 0)
			return 1;
	}
	return 0;
}

/* One resource's call of a provider op, on a thread of its own. */
struct flow_job {
	struct cloud_run	*run;
	json_t			*res;
	int			(*fn)(struct cloud_run *, json_t *, char **);
	int			 rc;
	char			*cause;
	pthread_t		 thread;
};

static void *
flow_job_main(void *arg)
{
	struct flow_job *j = arg;

	j->rc = j->fn(j->run, j->res, &j->cause);
	return NULL;
}

/* Calls fn on each of the n resources at once (independent machines stop,
 * start and go together), at most 16 at a time. The first failure's
 * cause. */
static int
flow_each(struct cloud_run *run, json_t **res, size_t n,
    int (*fn)(struct cloud_run *, json_t *, char **), char **cause)
{
	struct flow_job *jobs = xcalloc(n > 0 ? n : 1, sizeof *jobs);
	struct locked_sink ls;
	size_t i, start, end;
	int rc = 0;

	wizard_lock_sink(run, &ls);
	for (start = 0; start < n; start = end) {
		end = start + 16 < n ? start + 16 : n;
		for (i = start; i < end; i++) {
			jobs[i].run = run;
			jobs[i].res = res[i];
			jobs[i].fn = fn;
			if (end - start == 1 || pthread_create(&jobs[i].thread,
			    NULL, flow_job_main, &jobs[i]) != 0) {
				flow_job_main(&jobs[i]);
				jobs[i].thread = pthread_self();
			}
		}
		for (i = start; i < end; i++) {
			if (!pthread_equal(jobs[i].thread, pthread_self()))
				pthread_join(jobs[i].thread, NULL);
		}
	}
	wizard_unlock_sink(run, &ls);
	for (i = 0; i < n; i++) {
		if (jobs[i].rc != 0 && rc == 0) {
			rc = -1;
			*cause = jobs[i].cause;
			jobs[i].cause = NULL;
		}
		free(jobs[i].cause);
	}
	free(jobs);
	return rc;
}

/* The resources of rec in state (NULL: any), as an array of n. */
static json_t **
flow_resources(json_t *rec, const char *state, size_t *n)
{
	json_t *res, **out;
	size_t i;

	out = xcalloc(json_array_size(json_object_get(rec, "resources")) + 1,
	    sizeof *out);
	*n = 0;
	json_array_foreach(json_object_get(rec, "resources"), i, res) {
		if (state == NULL || strcmp(history_str(res, "state", ""),
		    state) == 0)
			out[(*n)++] = res;
	}
	return out;
}

/* The name of the step that stops the machines of run. */
static const char *
run_park_step(struct cloud_run *run)
{
	return run->engine != NULL && run->engine->nodes ? "stop cluster" :
	    "stop bastion";
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
	const char *step = run_park_step(run), *what;
	json_t **res;
	size_t n;
	int rc;

	if (p->park == NULL)
		return 0;
	if (state == NULL && !run_has_machine(run->rec)) {
		event_log(run->sink, NULL, "run set %s kept; no machine was "
		    "made: remove the rest with 'fanout cleanup %s'", run->id,
		    run->id);
		return 0;
	}
	event_step(run->sink, EV_STEP_START, step, NULL, 0);
	pthread_mutex_lock(&run->lock);
	res = flow_resources(run->rec, "created", &n);
	pthread_mutex_unlock(&run->lock);
	rc = flow_each(run, res, n, p->park, cause);
	free(res);
	if (rc != 0) {
		event_step(run->sink, EV_STEP_FAIL, step, *cause, 0);
		return -1;
	}
	if (state != NULL && run_state(run, state, cause) != 0)
		return -1;
	event_step(run->sink, EV_STEP_DONE, step, NULL, 0);
	what = run->engine != NULL && run->engine->nodes ? "machines" :
	    "bastion";
	if (state != NULL)
		event_log(run->sink, NULL, "run set %s kept, its %s stopped: "
		    "run again with 'fanout resume %s', remove it with 'fanout "
		    "cleanup %s'", run->id, what, run->id, run->id);
	else
		event_log(run->sink, NULL, "run set %s kept, its %s stopped; "
		    "its create did not finish, so it cannot be resumed: remove "
		    "it with 'fanout cleanup %s'", run->id, what, run->id);
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
/* Whether the run just made was lost with its machine (engine.h: a run
 * entry in state "lost"), tasks left to finish with --unfinished. */
static int
run_lost(struct cloud_run *run)
{
	json_t *runs;
	int lost;

	pthread_mutex_lock(&run->lock);
	runs = json_object_get(run->rec, "runs");
	lost = strcmp(history_str(json_array_get(runs, json_array_size(runs) -
	    1), "state", ""), "lost") == 0;
	pthread_mutex_unlock(&run->lock);
	return lost;
}

static int
run_end(struct cloud_run *run, int ran, int cleanup_after, int made, int rc,
    char **cause)
{
	struct sink *outer = run->sink, quiet;
	int cancel = run_cancel(outer);
	char *why = NULL;

	nocancel_init(&quiet, outer);
	run->sink = &quiet;
	if (cancel == 0 && cleanup_after && ran && run_lost(run)) {
		/* A lost machine left tasks unfinished: tearing down would
		 * lose the way to finish them. */
		event_log(&quiet, NULL, "run set %s is kept, not torn down: its "
		    "run is unfinished", run->id);
		cleanup_after = 0;
	}
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
	    run->engine != NULL && run->engine->run != NULL)) {
		if (cancel != 0)
			event_log(&quiet, NULL, "cancelled: keeping run set %s",
			    run->id);
		/* A call cut short may have made its resource all the same
		 * (a bastion booting): find it, to stop it. */
		if (!made && run_recover(run, run_park_step(run), &why) !=
		    0) {
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

/* The engine's run, once the hosts are up; out (may be NULL) gets how
 * the run went. */
static int
run_hook(struct cloud_run *run, struct local_result *out, char **cause)
{
	double t0 = time_mono();
	int rc;

	if (run->engine == NULL || run->engine->run == NULL) {
		event_log(run->sink, NULL, "machines ready; engine %s runs "
		    "nothing on them", run->engine != NULL ?
		    run->engine->name : "?");
		return 0;
	}
	event_step(run->sink, EV_STEP_START, "run", NULL, 0);
	rc = run->engine->run(run, out, cause);
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
	struct flow_steps steps;
	struct project pr;
	char *why = NULL;
	json_t *rec, *copy;
	void *s;
	unsigned extra = 0;
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
	/* The machines are settled before any record or resource: a type
	 * the region lacks, or a size nothing fits, makes nothing. */
	if (p->settle != NULL && p->settle(s, answers, cause) != 0) {
		project_free(&pr);
		p->close(s);
		return -1;
	}
	/* Buckets: checked before anything is made; the machines get a
	 * role of their own for them. */
	if (pr.inputs_url != NULL || pr.results_url != NULL) {
		if (p->store_check == NULL || p->blocks[CLOUD_BLOCK_ROLE] ==
		    NULL) {
			xasprintf(cause, "provider %s cannot read or write "
			    "buckets yet; nothing was created", p->name);
			rc = -1;
		} else
			rc = p->store_check(s, &pr, (long)json_integer_value(
			    json_object_get(answers, "files")), cause);
		if (rc != 0) {
			project_free(&pr);
			p->close(s);
			return -1;
		}
		extra = 1u << CLOUD_BLOCK_ROLE;
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
	flow_steps_make(&steps, p, run.engine, 0,
	    !json_is_false(json_object_get(run.answers, "run")), extra);
	rc = wizard_run_steps(&run, steps.steps, cause);
	flow_steps_free(&steps);
	if (rc == 0)
		rc = run_state(&run, "active", cause);
	if (rc == 0) {
		int do_run = !json_is_false(json_object_get(run.answers,
		    "run"));

		if (do_run)
			rc = run_hook(&run, out, cause);
		else if (run_cancel(sink) == 0)
			event_log(sink, NULL, "run set %s is ready, its "
			    "machines running; run the project with 'fanout "
			    "resume %s'", run.id, run.id);
		/* A detached run is the head's to finish (detach.c). */
		if (rc == 0 && do_run && run_cancel(sink) == 0 &&
		    json_is_true(json_object_get(run.answers, "detach")))
			rc = wizard_detached(&run, cause);
		else
			rc = run_end(&run, do_run, json_is_true(
			    json_object_get(run.answers, "cleanup_after")), 1,
			    rc, cause);
	} else if (record_exists(run.id)) {
		/* Something may have been made. A cancel tears it down, or
		 * keeps it with the bastion stopped (the create unfinished:
		 * the state stays). A failure tears it down: a failed create
		 * cannot be resumed (a teardown that fails keeps the record
		 * for 'fanout cleanup'). */
		struct sink quiet;
		int cancel = run_cancel(sink);

		if (run_state(&run, "failed", &why) != 0)
			free(why);
		why = NULL;
		if (cancel != 0)
			rc = run_end(&run, 0, 0, 0, rc, &why);
		else {
			nocancel_init(&quiet, sink);
			p->state_free(run.state);
			run.state = NULL;
			if (cleanup_held(run.id, &quiet, &why) != 0)
				event_log(sink, NULL, "%s", why);
		}
		free(why);
		if (record_deleted(run.id) && cancel == 0) {
			why = *cause;
			xasprintf(cause, "%s; what was made is torn down", why);
			free(why);
		} else if (!record_deleted(run.id)) {
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

/* A zone a record names (where: "" or "resources[N]."): one of the
 * record's region, for a provider with zones; none elsewhere. */
static int
wizard_known_zone(json_t *rec, const struct provider *p, const char *zone,
    const char *where, char **cause)
{
	char *region;
	int ok;

	if (zone == NULL)
		return 0;
	region = p->zoned && p->zone_of != NULL ? p->zone_of(zone) : NULL;
	ok = region != NULL && strcmp(region, history_str(rec, "region",
	    "")) == 0;
	free(region);
	if (!ok)
		xasprintf(cause, "history record %s: %szone is '%.40s', which "
		    "is not a zone of region %s of provider %s; move the "
		    "record aside or restore it", history_str(rec, "id", ""),
		    where, zone, history_str(rec, "region", ""), p->name);
	return ok ? 0 : -1;
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
	if (wizard_known_zone(rec, p, history_str(rec, "zone", NULL), "",
	    cause) != 0)
		return -1;
	json_array_foreach(json_object_get(rec, "resources"), i, res) {
		char where[40];

		snprintf(where, sizeof where, "resources[%zu].", i);
		if (wizard_known_zone(rec, p, history_str(res, "zone", NULL),
		    where, cause) != 0)
			return -1;
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

static int	resume_held(const char *, int, const struct rerun *,
		    struct sink *, struct local_result *, char **);

int
wizard_resume_run(const char *id, int do_run, struct sink *sink,
    struct local_result *out, char **cause)
{
	return resume_held(id, do_run, NULL, sink, out, cause);
}

int
wizard_resume_rerun(const char *id, const struct rerun *rr, struct sink *sink,
    struct local_result *out, char **cause)
{
	return resume_held(id, 1, rr, sink, out, cause);
}

/* A resume; rr: only the tasks the last run left without a result. */
static int
resume_held(const char *id, int do_run, const struct rerun *rr,
    struct sink *sink, struct local_result *out, char **cause)
{
	const struct provider *p;
	struct cloud_run run;
	struct flow_steps steps;
	const char *state, *kind;
	json_t *rec, *res, **all;
	size_t i, n;
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
	run.rerun = rr;
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
	if (strcmp(state, "detached") == 0) {
		xasprintf(cause, "run set %s runs detached on its head; follow "
		    "it with 'fanout status %s', bring its results home with "
		    "'fanout fetch %s'", id, id, id);
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
	if (i == 0 || engine_host(rec, "head") == NULL) {
		xasprintf(cause, "run set %s has no head machine to resume; "
		    "remove it with 'fanout cleanup %s'", id, id);
		goto out;
	}
	if (run.engine == NULL) {
		xasprintf(cause, "run set %s ran on engine '%s', which this "
		    "build lacks", id, history_str(run.answers, "engine", "?"));
		goto out;
	}
	/* The machines start together, then the engine sets them up again
	 * (daemons after a reboot; quick when nothing changed). */
	all = flow_resources(rec, NULL, &n);
	e = flow_each(&run, all, n, p->revive, cause);
	free(all);
	if (e != 0)
		goto out;
	flow_steps_make(&steps, p, run.engine, 1, do_run, 0);
	e = steps.n > 0 ? wizard_run_steps(&run, steps.steps, cause) : 0;
	flow_steps_free(&steps);
	if (e != 0 || run_state(&run, "active", cause) != 0)
		goto out;
	if (!do_run) {
		event_log(sink, NULL, "run set %s is ready, its machines "
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

/* Deletes one resource and records it deleted (flow_each). */
static int
cleanup_one(struct cloud_run *run, json_t *res, char **cause)
{
	event_log(run->sink, "cleanup", "deleting %s %s",
	    history_str(res, "kind", ""), history_str(res, "id",
	    history_str(res, "name", "")));
	if (run->provider->destroy(run, res, cause) != 0)
		return -1;
	return cloud_deleted(run, res, cause);
}

/* The cleanup, by a caller that holds the run set (history_hold). */
static int
cleanup_held(const char *id, struct sink *sink, char **cause)
{
	const struct provider *p;
	struct cloud_run run;
	json_t *rec, *res, **all;
	char *ts, *path;
	size_t i, k, n;
	int e;
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
	 * depends on it; those that nothing live depends on go at once. */
	for (;;) {
		all = flow_resources(rec, NULL, &n);
		for (i = k = 0; i < n; i++) {
			if (strcmp(history_str(all[i], "state", ""),
			    "deleted") != 0 && !has_live_dependent(rec, all[i]))
				all[k++] = all[i];
		}
		e = k > 0 ? flow_each(&run, all, k, cleanup_one, cause) : 0;
		free(all);
		if (e != 0)
			goto out;
		if (k == 0)
			break;
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
