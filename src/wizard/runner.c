/* The step runner (wizard.h): waves of ready steps, each on a thread, with
 * a sink wrapper that serialises events from those threads. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/provider.h"
#include "event.h"
#include "util/fs.h"
#include "util/xmalloc.h"
#include "wizard/wizard.h"

/* A sink that takes a lock around the front end's sink. */
struct locked_sink {
	struct sink	 sink;		/* what steps see */
	struct sink	*inner;		/* the front end's sink */
	pthread_mutex_t	 lock;
};

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

/* One step on its thread. */
struct step_job {
	struct cloud_run	*run;
	const struct cloud_step	*step;
	pthread_t		 thread;
	int			 thread_started;
	int			 rc;
	char			*cause;
};

static void *
step_job_main(void *arg)
{
	struct step_job *j = arg;
	double t0 = time_mono();

	event_step(j->run->sink, EV_STEP_START, j->step->name, NULL, 0);
	j->rc = j->step->run(j->run, &j->cause);
	if (j->rc != 0 && j->cause == NULL)
		j->cause = xprintf("%s failed", j->step->name);
	if (j->rc == 0)
		event_step(j->run->sink, EV_STEP_DONE, j->step->name, NULL,
		    time_mono() - t0);
	else
		event_step(j->run->sink, EV_STEP_FAIL, j->step->name,
		    j->cause, time_mono() - t0);
	return NULL;
}

static int
step_index(const struct cloud_step *steps, const char *name)
{
	int i;

	for (i = 0; steps[i].name != NULL; i++) {
		if (strcmp(steps[i].name, name) == 0)
			return i;
	}
	return -1;
}

static int
step_ready(const struct cloud_step *steps, const struct cloud_step *s,
    const char *done)
{
	int i, k;

	for (i = 0; s->after != NULL && s->after[i] != NULL; i++) {
		k = step_index(steps, s->after[i]);
		if (k < 0 || !done[k])
			return 0;
	}
	return 1;
}

int
wizard_run_steps(struct cloud_run *run, const struct cloud_step *steps,
    char **cause)
{
	struct locked_sink ls;
	struct sink *outer = run->sink;
	struct step_job *jobs;
	char *done;
	int n, i, nj, left, rc = 0;

	for (n = 0; steps[n].name != NULL; n++)
		;
	done = xcalloc((size_t)n + 1, 1);
	jobs = xcalloc((size_t)n + 1, sizeof *jobs);
	ls.inner = outer;
	ls.sink.emit = locked_emit;
	ls.sink.cancelled = locked_cancelled;
	ls.sink.data = &ls;
	pthread_mutex_init(&ls.lock, NULL);
	run->sink = &ls.sink;
	for (left = n; left > 0 && rc == 0; ) {
		if (event_cancelled(run->sink)) {
			*cause = xstrdup("cancelled");
			rc = -1;
			break;
		}
		nj = 0;
		for (i = 0; i < n; i++) {
			if (!done[i] && step_ready(steps, &steps[i], done)) {
				memset(&jobs[nj], 0, sizeof jobs[nj]);
				jobs[nj].run = run;
				jobs[nj].step = &steps[i];
				nj++;
			}
		}
		if (nj == 0) {
			*cause = xstrdup("the step table waits on a step that "
			    "never runs");
			rc = -1;
			break;
		}
		if (nj == 1)
			step_job_main(&jobs[0]);
		else {
			for (i = 0; i < nj; i++) {
				if (pthread_create(&jobs[i].thread, NULL,
				    step_job_main, &jobs[i]) != 0)
					step_job_main(&jobs[i]);
				else
					jobs[i].thread_started = 1;
			}
			for (i = 0; i < nj; i++) {
				if (jobs[i].thread_started)
					pthread_join(jobs[i].thread, NULL);
			}
		}
		for (i = 0; i < nj; i++) {
			done[jobs[i].step - steps] = 1;
			left--;
			if (jobs[i].rc != 0 && rc == 0) {
				rc = -1;
				*cause = jobs[i].cause;
				jobs[i].cause = NULL;
			}
			free(jobs[i].cause);
		}
	}
	run->sink = outer;
	pthread_mutex_destroy(&ls.lock);
	free(jobs);
	free(done);
	return rc;
}
