/* The step runner (wizard.h): a dependency scheduler. Each step starts on
 * its own thread the moment every step it names in "after" is done; one
 * condition variable wakes the scheduler whenever a step ends. Events from
 * the step threads go through a sink wrapper that serialises them. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/provider.h"
#include "event.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"
#include "wizard/wizard.h"

static void
locked_emit(struct sink *s, const struct event *ev)
{
	struct locked_sink *ls = s->data;

	pthread_mutex_lock(&ls->lock);
	event_emit(ls->inner, ev);
	pthread_mutex_unlock(&ls->lock);
}

static int
locked_cancelled(struct sink *s)
{
	struct locked_sink *ls = s->data;
	int c;

	pthread_mutex_lock(&ls->lock);
	c = event_cancelled(ls->inner);
	pthread_mutex_unlock(&ls->lock);
	return c;
}

void
wizard_lock_sink(struct cloud_run *run, struct locked_sink *ls)
{
	ls->inner = run->sink;
	ls->sink.emit = locked_emit;
	ls->sink.cancelled = locked_cancelled;
	ls->sink.data = ls;
	pthread_mutex_init(&ls->lock, NULL);
	run->sink = &ls->sink;
}

void
wizard_unlock_sink(struct cloud_run *run, struct locked_sink *ls)
{
	run->sink = ls->inner;
	pthread_mutex_destroy(&ls->lock);
}

enum job_state {
	JOB_WAITING,	/* not started */
	JOB_RUNNING,	/* its thread runs the step */
	JOB_ENDED,	/* the step returned; its thread is not joined yet */
	JOB_DONE,	/* joined, the step went well */
	JOB_FAILED	/* joined (or never started), the step failed */
};

struct runner;

/* One step and its thread. */
struct step_job {
	struct runner		*r;
	const struct cloud_step	*step;
	int			*deps;		/* indexes of the after steps */
	int			 ndeps;
	enum job_state		 state;		/* guarded by r->lock */
	pthread_t		 thread;	/* from RUNNING until joined */
	int			 rc;		/* the step's result, once ENDED */
	char			*cause;		/* its cause when rc != 0 */
};

struct runner {
	struct cloud_run	*run;
	struct step_job		*jobs;
	int			 n;		/* steps in the table */
	pthread_mutex_t		 lock;		/* guards states and ended */
	pthread_cond_t		 cond;		/* signalled when a step ends */
	int			 ended;		/* steps ENDED, not yet joined */
};

static void *
step_job_main(void *arg)
{
	struct step_job *j = arg;
	struct runner *r = j->r;
	double t0 = time_mono();
	char *cause = NULL;
	int rc;

	event_step(r->run->sink, EV_STEP_START, j->step->name, NULL, 0);
	rc = j->step->run(r->run, &cause);
	if (rc != 0 && cause == NULL)
		cause = xprintf("%s failed", j->step->name);
	if (rc == 0) {
		free(cause);
		cause = NULL;
		event_step(r->run->sink, EV_STEP_DONE, j->step->name, NULL,
		    time_mono() - t0);
	} else
		event_step(r->run->sink, EV_STEP_FAIL, j->step->name, cause,
		    time_mono() - t0);

	pthread_mutex_lock(&r->lock);
	j->rc = rc;
	j->cause = cause;
	j->state = JOB_ENDED;
	r->ended++;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static int
step_index(const struct cloud_step *steps, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++) {
		if (strcmp(steps[i].name, name) == 0)
			return i;
	}
	return -1;
}

/* The first dependency of job i not in removed. */
static int
first_left(const struct runner *r, const char *removed, int i)
{
	int k;

	for (k = 0; k < r->jobs[i].ndeps; k++) {
		if (!removed[r->jobs[i].deps[k]])
			return r->jobs[i].deps[k];
	}
	return -1;
}

/* Names a cycle among the steps that never became ready. */
static char *
runner_cycle(const struct runner *r, const char *removed)
{
	struct strbuf sb;
	int i, u, v;

	for (u = 0; u < r->n && removed[u]; u++)
		;
	/* Each step left waits on another step left: following the first
	 * one n times lands on the cycle. */
	for (i = 0; i < r->n; i++)
		u = first_left(r, removed, u);
	strbuf_init(&sb);
	strbuf_addf(&sb, "the step table has a cycle in \"after\" (each "
	    "waits on the next): %s", r->jobs[u].step->name);
	v = u;
	do {
		v = first_left(r, removed, v);
		strbuf_addf(&sb, " -> %s", r->jobs[v].step->name);
	} while (v != u);
	return strbuf_detach(&sb);
}

/* Resolves every "after" name to an index; refuses a duplicate name, an
 * unknown name or a cycle. */
static int
runner_check(struct runner *r, const struct cloud_step *steps, char **cause)
{
	struct step_job *j;
	const char *const *after;
	char *removed;
	int i, k, progress, left;

	for (i = 0; i < r->n; i++) {
		if (step_index(steps, i, steps[i].name) >= 0) {
			xasprintf(cause, "two steps are named \"%s\" in the "
			    "step table", steps[i].name);
			return -1;
		}
	}
	for (i = 0; i < r->n; i++) {
		j = &r->jobs[i];
		after = steps[i].after;
		for (k = 0; after != NULL && after[k] != NULL; k++)
			;
		j->deps = xcalloc((size_t)k + 1, sizeof *j->deps);
		for (k = 0; after != NULL && after[k] != NULL; k++) {
			j->deps[k] = step_index(steps, r->n, after[k]);
			if (j->deps[k] < 0) {
				xasprintf(cause, "step \"%s\" waits on \"%s\", "
				    "which is not in the step table",
				    steps[i].name, after[k]);
				return -1;
			}
		}
		j->ndeps = k;
	}

	/* Takes away the steps whose steps are all taken away until none
	 * is left, or only steps waiting on each other. */
	removed = xcalloc((size_t)r->n + 1, 1);
	left = r->n;
	do {
		progress = 0;
		for (i = 0; i < r->n; i++) {
			if (!removed[i] && first_left(r, removed, i) < 0) {
				removed[i] = 1;
				left--;
				progress = 1;
			}
		}
	} while (progress);
	if (left > 0)
		*cause = runner_cycle(r, removed);
	free(removed);
	return left > 0 ? -1 : 0;
}

/* Starts the steps whose after steps are all done; called with the lock
 * held. -1 with a cause when a thread cannot be made. */
static int
runner_start(struct runner *r, int *running, int *waiting, char **cause)
{
	struct step_job *j;
	int i, k, error;

	for (i = 0; i < r->n; i++) {
		j = &r->jobs[i];
		if (j->state != JOB_WAITING)
			continue;
		for (k = 0; k < j->ndeps; k++) {
			if (r->jobs[j->deps[k]].state != JOB_DONE)
				break;
		}
		if (k < j->ndeps)
			continue;
		j->state = JOB_RUNNING;
		error = pthread_create(&j->thread, NULL, step_job_main, j);
		if (error != 0) {
			j->state = JOB_FAILED;
			xasprintf(cause, "cannot start a thread for step "
			    "\"%s\": %s", j->step->name, strerror(error));
			return -1;
		}
		(*running)++;
		(*waiting)--;
	}
	return 0;
}

/* Says, once stopped, which steps it still waits for. */
static void
runner_tell(struct runner *r)
{
	struct strbuf sb;
	const char *sep = "";
	int i;

	strbuf_init(&sb);
	pthread_mutex_lock(&r->lock);
	for (i = 0; i < r->n; i++) {
		if (r->jobs[i].state == JOB_RUNNING ||
		    r->jobs[i].state == JOB_ENDED) {
			strbuf_addf(&sb, "%s%s", sep, r->jobs[i].step->name);
			sep = ", ";
		}
	}
	pthread_mutex_unlock(&r->lock);
	event_log(r->run->sink, NULL, "no more steps start; waiting for the "
	    "steps still running to end: %s", sb.buf);
	strbuf_free(&sb);
}

int
wizard_run_steps(struct cloud_run *run, const struct cloud_step *steps,
    char **cause)
{
	struct locked_sink ls;
	struct runner r;
	struct step_job *j;
	int *reap;
	int i, nreap, running = 0, waiting, stop = 0, told = 0, rc = 0;

	memset(&r, 0, sizeof r);
	r.run = run;
	for (r.n = 0; steps[r.n].name != NULL; r.n++)
		;
	r.jobs = xcalloc((size_t)r.n + 1, sizeof *r.jobs);
	for (i = 0; i < r.n; i++) {
		r.jobs[i].r = &r;
		r.jobs[i].step = &steps[i];
	}
	if (runner_check(&r, steps, cause) != 0) {
		for (i = 0; i < r.n; i++)
			free(r.jobs[i].deps);
		free(r.jobs);
		return -1;
	}
	reap = xcalloc((size_t)r.n + 1, sizeof *reap);
	waiting = r.n;
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.cond, NULL);
	wizard_lock_sink(run, &ls);

	for (;;) {
		/* Waits for a step to end, unless none runs. */
		pthread_mutex_lock(&r.lock);
		while (running > 0 && r.ended == 0)
			pthread_cond_wait(&r.cond, &r.lock);
		nreap = 0;
		for (i = 0; i < r.n; i++) {
			j = &r.jobs[i];
			if (j->state != JOB_ENDED)
				continue;
			j->state = j->rc == 0 ? JOB_DONE : JOB_FAILED;
			r.ended--;
			running--;
			reap[nreap++] = i;
		}
		pthread_mutex_unlock(&r.lock);

		for (i = 0; i < nreap; i++) {
			j = &r.jobs[reap[i]];
			pthread_join(j->thread, NULL);
			if (j->rc != 0 && rc == 0) {
				rc = -1;
				stop = 1;
				*cause = j->cause;
				j->cause = NULL;
			}
			free(j->cause);
			j->cause = NULL;
		}

		/* The first failure or a cancel starts nothing more; the
		 * steps still running are waited for. */
		if (!stop && waiting > 0 && event_cancelled(run->sink)) {
			*cause = xstrdup("cancelled");
			rc = -1;
			stop = 1;
		}
		if (!stop) {
			pthread_mutex_lock(&r.lock);
			if (runner_start(&r, &running, &waiting, cause) != 0) {
				rc = -1;
				stop = 1;
			}
			pthread_mutex_unlock(&r.lock);
		}
		if (running == 0)
			break;
		if (stop && !told) {
			runner_tell(&r);
			told = 1;
		}
	}
	if (rc == 0 && waiting > 0) {
		/* Cannot happen after runner_check; never report success
		 * for steps that did not run. */
		*cause = xstrdup("the step table waits on a step that never "
		    "runs");
		rc = -1;
	}

	wizard_unlock_sink(run, &ls);
	pthread_cond_destroy(&r.cond);
	pthread_mutex_destroy(&r.lock);
	for (i = 0; i < r.n; i++)
		free(r.jobs[i].deps);
	free(r.jobs);
	free(reap);
	return rc;
}
