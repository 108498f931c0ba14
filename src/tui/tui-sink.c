/* The TUI's sink: the core calls it on the worker thread; it copies each
 * event into a mutex-protected queue that the UI thread drains every loop
 * turn (about ten times a second), so no curses call happens off the UI
 * thread. */
#include <stdlib.h>
#include <string.h>

#include "run/record.h"
#include "tui/tui-int.h"
#include "util/xmalloc.h"

static void
tui_sink_emit(struct sink *sink, const struct event *ev)
{
	struct tui_job *job = sink->data;
	const struct record *r = ev->record;
	struct tui_event *te;

	te = xcalloc(1, sizeof *te);
	te->type = ev->type;
	te->step = ev->step != NULL ? xstrdup(ev->step) : NULL;
	te->seconds = ev->seconds;
	te->done = ev->done;
	te->failed = ev->failed;
	te->total = ev->total;
	te->workers = ev->workers;
	if (ev->type == EV_TASK_DONE && r != NULL) {
		/* The record lives only during the call: keep a line. */
		te->task_ok = r->status == REC_OK;
		te->text = xprintf("task %d (%s) %s in %.1fs on %s worker %d%s%s",
		    r->task, r->input != NULL ? r->input : "?",
		    record_status_name(r->status), r->end - r->start,
		    r->host != NULL ? r->host : "?", r->worker,
		    r->error != NULL ? ": " : "",
		    r->error != NULL ? r->error : "");
	} else if (ev->text != NULL)
		te->text = xstrdup(ev->text);
	pthread_mutex_lock(&job->lock);
	if (job->tail != NULL)
		job->tail->next = te;
	else
		job->head = te;
	job->tail = te;
	pthread_mutex_unlock(&job->lock);
}

static int
tui_sink_cancelled(struct sink *sink)
{
	struct tui_job *job = sink->data;
	int c;

	pthread_mutex_lock(&job->lock);
	c = job->cancel;
	pthread_mutex_unlock(&job->lock);
	return c;
}

void
tui_sink_init(struct tui_job *job)
{
	job->sink.emit = tui_sink_emit;
	job->sink.cancelled = tui_sink_cancelled;
	job->sink.data = job;
}

struct tui_event *
tui_job_events(struct tui_job *job, bool *done)
{
	struct tui_event *head;

	pthread_mutex_lock(&job->lock);
	head = job->head;
	job->head = job->tail = NULL;
	*done = job->done;
	pthread_mutex_unlock(&job->lock);
	return head;
}

void
tui_events_free(struct tui_event *te)
{
	struct tui_event *next;

	for (; te != NULL; te = next) {
		next = te->next;
		free(te->step);
		free(te->text);
		free(te);
	}
}
