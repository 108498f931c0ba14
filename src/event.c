#include <stdarg.h>
#include <stdlib.h>

#include "event.h"
#include "util/xmalloc.h"

void
event_emit(struct sink *sink, const struct event *ev)
{
	if (sink != NULL && sink->emit != NULL)
		sink->emit(sink, ev);
}

void
event_log(struct sink *sink, const char *step, const char *fmt, ...)
{
	struct event ev = { .type = EV_LOG, .step = step };
	va_list ap;
	char *text;

	if (sink == NULL || sink->emit == NULL)
		return;
	va_start(ap, fmt);
	xvasprintf(&text, fmt, ap);
	va_end(ap);
	ev.text = text;
	sink->emit(sink, &ev);
	free(text);
}

void
event_step(struct sink *sink, enum event_type type, const char *step,
    const char *text, double seconds)
{
	struct event ev = { .type = type, .step = step, .text = text,
	    .seconds = seconds };

	event_emit(sink, &ev);
}

bool
event_cancelled(struct sink *sink)
{
	return sink != NULL && sink->cancelled != NULL && sink->cancelled(sink);
}
