/* A flow or a network call run on a worker thread: the local run, one of
 * flow_ops. The UI thread never blocks on it; it reads events and the end
 * through the queue in tui-sink.c. A job the UI lets go of (Esc on a
 * network call) frees itself when it ends. */
#include <stdlib.h>
#include <string.h>

#include "cloud/s3.h"
#include "flows.h"
#include "history/history.h"
#include "tui/tui-int.h"
#include "util/xmalloc.h"

/* Jobs abandoned and still running (guarded by tui_adrift_lock). */
static pthread_mutex_t	 tui_adrift_lock = PTHREAD_MUTEX_INITIALIZER;
static int		 tui_adrift;

static void
tui_job_local(struct tui_job *job)
{
	struct local_opts lo;
	json_t *a = job->answers;

	memset(&lo, 0, sizeof lo);
	lo.project_dir = json_string_value(json_object_get(a, "project"));
	lo.files = (long)json_integer_value(json_object_get(a, "files"));
	lo.workers = (int)json_integer_value(json_object_get(a, "workers"));
	lo.sink = &job->sink;
	event_step(&job->sink, EV_STEP_START, "run on this machine", NULL, 0);
	job->rv = s3_run_local(&lo, &job->local, &job->cause);
	if (job->rv == LOCAL_OK)
		event_step(&job->sink, EV_STEP_DONE, "run on this machine",
		    NULL, job->local.perf.total);
	else
		event_step(&job->sink, EV_STEP_FAIL, "run on this machine",
		    job->cause, 0);
}

/* The run set's state once the flow has ended (what a cancel, the
 * cleanup_after answer or a teardown made of it). */
static void
tui_job_state(struct tui_job *job)
{
	json_t *rec;
	char *cause = NULL;
	const char *st;

	if (job->id == NULL)
		return;
	if ((rec = history_load(job->id, &cause)) == NULL) {
		free(cause);
		return;
	}
	st = json_string_value(json_object_get(rec, "state"));
	job->state = st != NULL ? xstrdup(st) : NULL;
	json_decref(rec);
}

static void
tui_job_free_data(struct tui_job *job)
{
	tui_events_free(job->head);
	json_decref(job->answers);
	json_decref(job->orphans);
	json_decref(job->result);
	free(job->id);
	free(job->cause);
	free(job->state);
	local_result_free(&job->local);
	pthread_mutex_destroy(&job->lock);
	free(job);
}

static void *
tui_job_main(void *arg)
{
	struct tui_job *job = arg;
	bool abandoned;

	switch (job->kind) {
	case JOB_LOCAL:
		tui_job_local(job);
		break;
	case JOB_CREATE:
		job->rv = flow_ops.create(job->answers, &job->sink, &job->id,
		    &job->local, &job->cause);
		tui_job_state(job);
		break;
	case JOB_RESUME:
		job->rv = flow_ops.resume(job->id, &job->sink, &job->local,
		    &job->cause);
		tui_job_state(job);
		break;
	case JOB_CLEANUP:
		job->rv = flow_ops.cleanup(job->id, &job->sink, &job->cause);
		tui_job_state(job);
		break;
	case JOB_ORPHANS:
		job->rv = flow_ops.cleanup_orphans(job->orphans, &job->sink,
		    &job->cause);
		break;
	case JOB_PLAN:
		job->result = flow_ops.plan(job->answers, &job->cause);
		job->rv = job->result != NULL ? 0 : -1;
		break;
	case JOB_FIND_ORPHANS:
		job->result = flow_ops.orphans(&job->sink, &job->cause);
		job->rv = job->result != NULL ? 0 : -1;
		break;
	}
	pthread_mutex_lock(&job->lock);
	job->cancelled = job->cancel != 0;
	job->done = true;
	abandoned = job->abandoned;
	pthread_mutex_unlock(&job->lock);
	if (abandoned) {
		/* Nobody waits for this thread or reads the result. */
		pthread_detach(pthread_self());
		tui_job_free_data(job);
		pthread_mutex_lock(&tui_adrift_lock);
		tui_adrift--;
		pthread_mutex_unlock(&tui_adrift_lock);
	}
	return NULL;
}

struct tui_job *
tui_job_start(enum tui_job_kind kind, json_t *answers, const char *id,
    json_t *orphans)
{
	struct tui_job *job = xcalloc(1, sizeof *job);

	job->kind = kind;
	pthread_mutex_init(&job->lock, NULL);
	tui_sink_init(job);
	/* Copies: the UI goes on changing its own while the job runs. */
	job->answers = answers != NULL ? json_deep_copy(answers) : NULL;
	job->id = id != NULL ? xstrdup(id) : NULL;
	job->orphans = orphans != NULL ? json_deep_copy(orphans) : NULL;
	if (pthread_create(&job->thread, NULL, tui_job_main, job) != 0) {
		job->rv = -1;
		job->cause = xstrdup("cannot start a thread for the run");
		job->done = true;
	} else
		job->started = true;
	return job;
}

void
tui_job_cancel(struct tui_job *job, int how)
{
	pthread_mutex_lock(&job->lock);
	job->cancel = how;
	pthread_mutex_unlock(&job->lock);
}

void
tui_job_free(struct tui_job *job)
{
	if (job == NULL)
		return;
	if (job->started)
		pthread_join(job->thread, NULL);
	tui_job_free_data(job);
}

void
tui_job_abandon(struct tui_job *job)
{
	bool done;

	if (job == NULL)
		return;
	pthread_mutex_lock(&job->lock);
	done = job->done;
	if (!done) {
		job->abandoned = true;
		job->cancel = FLOW_CANCEL_KEEP;	/* stop early if it can */
		pthread_mutex_lock(&tui_adrift_lock);
		tui_adrift++;
		pthread_mutex_unlock(&tui_adrift_lock);
	}
	pthread_mutex_unlock(&job->lock);
	if (done)
		tui_job_free(job);
}

int
tui_jobs_adrift(void)
{
	int n;

	pthread_mutex_lock(&tui_adrift_lock);
	n = tui_adrift;
	pthread_mutex_unlock(&tui_adrift_lock);
	return n;
}
