/* Waiting for a network call (the orphan search): the screen below stays
 * drawn; the status line turns a spinner and shows the call's latest log
 * line; Esc abandons the call, which ends on its own and is dropped. */
#include <stdlib.h>
#include <string.h>

#include "tui/tui-int.h"
#include "util/xmalloc.h"

struct wait {
	struct tui_job	*job;
	char		*what;		/* "looking for orphans" */
	char		*last;		/* the job's latest log line */
	struct screen	*owner;		/* the screen it was started from */
	tui_wait_cb	 done;
};

/* A finished wait, handed to the loop (tui_later). */
struct wait_end {
	struct tui_job	*job;
	struct screen	*owner;
	tui_wait_cb	 done;
};

static const struct tui_key wait_keys[] = {
	{ "Esc", "abandon: stop waiting (the answer is dropped)",
	    "Esc abandon", 0 },
	{ "?", "this help", "? help", 0 },
	{ "q", "quit", "q quit", 0 },
	{ NULL, NULL, NULL, 0 }
};

static void
wait_draw(struct screen *s)
{
	struct wait *w = s->data;
	char *text;

	if (s->below != NULL)
		s->below->ops->draw(s->below);
	/* Over the owner's footer: this screen's keys. */
	tui_draw_hints(s);
	text = xprintf("%c %s ...%s%s  (Esc abandons)", tui_spinner(),
	    w->what, w->last != NULL ? " " : "", w->last != NULL ? w->last :
	    "");
	move(LINES - 2, 0);
	clrtoeol();
	tui_put(LINES - 2, 0, tui_attr(TC_WARN), "%s", text);
	free(text);
}

static void
wait_end(void *arg)
{
	struct wait_end *we = arg;

	if (tui_on_stack(we->owner))
		we->done(we->job, we->owner);
	tui_job_free(we->job);
	free(we);
}

static void
wait_tick(struct screen *s)
{
	struct wait *w = s->data;
	struct tui_event *head, *te;
	struct wait_end *we;
	bool done;

	head = tui_job_events(w->job, &done);
	for (te = head; te != NULL; te = te->next) {
		if (te->type == EV_LOG && te->text != NULL) {
			free(w->last);
			w->last = xstrdup(te->text);
		}
	}
	tui_events_free(head);
	if (!done)
		return;
	we = xcalloc(1, sizeof *we);
	we->job = w->job;
	we->owner = w->owner;
	we->done = w->done;
	w->job = NULL;
	tui_later(wait_end, we);
	tui_pop_above(s->below);
}

static enum tui_rv
wait_key(struct screen *s, int ch)
{
	struct wait *w = s->data;

	switch (ch) {
	case TUI_ESC:
		tui_message(false, "abandoned: %s", w->what);
		return TUI_BACK;
	case '?':
	case KEY_F(1):
	case 'q':
	case 'Q':
	case TUI_CTRL('c'):
	case TUI_CTRL('l'):
		return TUI_UNHANDLED;
	}
	tui_message(false, "still %s: Esc abandons it", w->what);
	return TUI_HANDLED;
}

static void
wait_free(struct screen *s)
{
	struct wait *w = s->data;

	tui_job_abandon(w->job);
	free(w->what);
	free(w->last);
	free(w);
}

static const struct screen_ops wait_ops = {
	.name = "wait",
	.keys = wait_keys,
	.draw = wait_draw,
	.key = wait_key,
	.tick = wait_tick,
	.free = wait_free,
};

void
tui_wait_push(struct screen *owner, struct tui_job *job, const char *what,
    tui_wait_cb done)
{
	struct wait *w = xcalloc(1, sizeof *w);

	w->job = job;
	w->what = xstrdup(what);
	w->owner = owner;
	w->done = done;
	tui_push(&wait_ops, w);
}
