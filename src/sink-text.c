#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/record.h"
#include "sink-text.h"
#include "util/fs.h"

static void
sink_text_clear(struct sink_text *st)
{
	if (st->line_open) {
		fputs("\r\033[K", st->out);
		st->line_open = 0;
	}
}

static void
sink_text_progress(struct sink_text *st, const struct event *ev, int force)
{
	double now = time_mono(), el = now - st->started, eta = 0;
	char elapsed[32], etas[32];
	int width = 24, fill;

	if (!st->tty || (!force && now - st->drawn < 0.1))
		return;
	st->drawn = now;
	if (ev->done > 0 && ev->total > ev->done)
		eta = el / (double)ev->done * (double)(ev->total - ev->done);
	time_format_duration(el, elapsed, sizeof elapsed);
	time_format_duration(eta, etas, sizeof etas);
	fill = ev->total > 0 ? (int)(width * ev->done / ev->total) : 0;
	fprintf(st->out, "\r\033[K[%.*s%*s] %lld/%lld done, %lld failed, "
	    "%s elapsed, ETA %s", fill, "########################",
	    width - fill, "", ev->done, ev->total, ev->failed, elapsed,
	    ev->done == 0 || ev->done == ev->total ? "-" : etas);
	fflush(st->out);
	st->line_open = 1;
}

static void
sink_text_emit(struct sink *sink, const struct event *ev)
{
	struct sink_text *st = sink->data;
	const struct record *r;

	switch (ev->type) {
	case EV_TASKS_START:
		st->started = time_mono();
		if (!st->quiet)
			sink_text_progress(st, ev, 1);
		break;
	case EV_TASK_DONE:
		r = ev->record;
		if (!st->quiet && r != NULL && r->status != REC_OK &&
		    r->status != REC_CANCELLED) {
			sink_text_clear(st);
			fprintf(st->out, "task %d (%s) attempt %d: %s\n",
			    r->task, r->input, r->attempt,
			    r->error != NULL ? r->error :
			    record_status_name(r->status));
		}
		if (!st->quiet)
			sink_text_progress(st, ev, ev->done == ev->total);
		break;
	case EV_STEP_START:
		if (st->quiet)
			break;
		sink_text_clear(st);
		fprintf(st->out, "%s ...\n", ev->step);
		break;
	case EV_STEP_DONE:
		if (st->quiet)
			break;
		sink_text_clear(st);
		fprintf(st->out, "%s done (%.1fs)\n", ev->step, ev->seconds);
		break;
	case EV_STEP_FAIL:
		sink_text_clear(st);
		fprintf(st->out, "%s failed: %s\n", ev->step,
		    ev->text != NULL ? ev->text : "");
		break;
	case EV_LOG:
		if (st->quiet)
			break;
		sink_text_clear(st);
		if (ev->step != NULL)
			fprintf(st->out, "[%s] %s\n", ev->step, ev->text);
		else
			fprintf(st->out, "%s\n", ev->text);
		break;
	case EV_BYTES:
		break;
	}
	fflush(st->out);
}

void
sink_text_init(struct sink *sink, struct sink_text *st, FILE *out, int quiet)
{
	memset(st, 0, sizeof *st);
	st->out = out;
	st->tty = isatty(fileno(out));
	st->quiet = quiet;
	st->color = st->tty && getenv("NO_COLOR") == NULL;
	st->started = time_mono();
	sink->emit = sink_text_emit;
	sink->cancelled = NULL;
	sink->data = st;
}

void
sink_text_end(struct sink *sink)
{
	struct sink_text *st = sink->data;

	if (st->line_open) {
		fputc('\n', st->out);
		st->line_open = 0;
	}
}
