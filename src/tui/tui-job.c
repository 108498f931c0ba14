/* A flow run on a worker thread: the local run, or one of flow_ops. The UI
 * thread never blocks on it; it reads events and the end through the
 * queue in tui-sink.c. */
#include <stdlib.h>
#include <string.h>

#include "flows.h"
#include "tui/tui-int.h"
#include "util/xmalloc.h"

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
	job->rv = local_run(&lo, &job->local, &job->cause);
	if (job->rv == LOCAL_OK)
		event_step(&job->sink, EV_STEP_DONE, "run on this machine",
		    NULL, job->local.perf.total);
	else
		event_step(&job->sink, EV_STEP_FAIL, "run on this machine",
		    job->cause, 0);
}

/* After a cancel the user may have asked to tear down what was made. */
static void
tui_job_teardown(struct tui_job *job)
{
	char *cause = NULL;
	int teardown;

	pthread_mutex_lock(&job->lock);
	teardown = job->cancel && job->teardown;
	job->cancelled = job->cancel != 0;
	job->cancel = 0;	/* the teardown itself must not stop */
	pthread_mutex_unlock(&job->lock);
	if (!teardown || job->id == NULL)
		return;
	if (flow_ops.cleanup == NULL) {
		event_log(&job->sink, NULL, "cannot tear down %s: cleanup is "
		    "not available in this build", job->id);
		return;
	}
	event_log(&job->sink, NULL, "tearing down %s", job->id);
	if (flow_ops.cleanup(job->id, &job->sink, &cause) != 0) {
		event_log(&job->sink, NULL, "teardown of %s failed: %s",
		    job->id, cause);
		free(cause);
		job->torn_down = -1;
	} else
		job->torn_down = 1;
}

static void *
tui_job_main(void *arg)
{
	struct tui_job *job = arg;
	json_t *res;

	switch (job->kind) {
	case JOB_LOCAL:
		tui_job_local(job);
		break;
	case JOB_CREATE:
		job->rv = flow_ops.create(job->answers, &job->sink, &job->id,
		    &job->local, &job->cause);
		tui_job_teardown(job);
		break;
	case JOB_RESUME:
		job->rv = flow_ops.resume(job->id, &job->sink, &job->local,
		    &job->cause);
		tui_job_teardown(job);
		break;
	case JOB_CLEANUP:
		job->rv = flow_ops.cleanup(job->id, &job->sink, &job->cause);
		break;
	case JOB_ORPHANS:
		res = job->orphans;
		job->rv = flow_ops.cleanup_orphans(res, &job->sink,
		    &job->cause);
		break;
	}
	pthread_mutex_lock(&job->lock);
	job->done = true;
	pthread_mutex_unlock(&job->lock);
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
	job->answers = answers != NULL ? json_incref(answers) : NULL;
	job->id = id != NULL ? xstrdup(id) : NULL;
	job->orphans = orphans != NULL ? json_incref(orphans) : NULL;
	if (pthread_create(&job->thread, NULL, tui_job_main, job) != 0) {
		job->rv = -1;
		job->cause = xstrdup("cannot start a thread for the run");
		job->done = true;
	} else
		job->started = true;
	return job;
}

void
tui_job_cancel(struct tui_job *job, bool teardown)
{
	pthread_mutex_lock(&job->lock);
	job->cancel = 1;
	job->teardown = teardown;
	pthread_mutex_unlock(&job->lock);
}

void
tui_job_free(struct tui_job *job)
{
	if (job == NULL)
		return;
	if (job->started)
		pthread_join(job->thread, NULL);
	tui_events_free(job->head);
	json_decref(job->answers);
	json_decref(job->orphans);
	free(job->id);
	free(job->cause);
	local_result_free(&job->local);
	pthread_mutex_destroy(&job->lock);
	free(job);
}
