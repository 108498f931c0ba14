/* The confirmation screen: every answer, and what will be made (with the
 * estimated hourly cost when the provider can plan). Enter starts it. */
#include <stdlib.h>
#include <string.h>

#include "flows.h"
#include "history/history.h"
#include "run/project.h"
#include "tui/tui-int.h"
#include "util/xmalloc.h"

struct confirm {
	char		*flow;		/* "create", "local" */
	const struct menu *menu;	/* the questions asked */
	json_t		*answers;
	json_t		*plan;		/* flow_ops.plan's answer, or NULL */
	char		*plan_error;	/* why there is no plan */
	char		*summary;	/* local: what will run */
	bool		 can_start;	/* the action is in this build */
	struct screen	*base;		/* where the flow was started from */
	int		 scroll;	/* first line shown */
	int		 row;		/* drawing: next virtual row */
};

static const struct tui_key confirm_keys[] = {
	{ "Enter, y", "start" },
	{ "Esc", "back to the questions" },
	{ "j/k, Up/Down", "scroll" },
	{ "?", "this help" },
	{ "q", "quit" },
	{ NULL, NULL }
};

static void
confirm_line(struct confirm *c, attr_t a, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One line of the scrolled body, rows 2 .. LINES-4. */
static void
confirm_line(struct confirm *c, attr_t a, const char *fmt, ...)
{
	va_list ap;
	char *text;
	int y = 2 + c->row++ - c->scroll;

	if (y < 2 || y > LINES - 4)
		return;
	va_start(ap, fmt);
	xvasprintf(&text, fmt, ap);
	va_end(ap);
	tui_put(y, 2, a, "%s", text);
	free(text);
}

/* A long sentence over as many body lines as it needs. */
static void
confirm_wrap(struct confirm *c, const char *text)
{
	const char *p = text, *end;
	int width = COLS - 4 > 20 ? COLS - 4 : 20;

	while (*p != '\0') {
		end = p + strlen(p);
		if (end - p > width) {
			for (end = p + width; end > p && *end != ' '; end--)
				;
			if (end == p)
				end = p + width;
		}
		confirm_line(c, A_NORMAL, "%.*s", (int)(end - p), p);
		for (p = end; *p == ' '; p++)
			;
	}
}

static void
confirm_draw_plan(struct confirm *c)
{
	json_t *res, *r, *h;
	size_t i;

	confirm_line(c, A_BOLD, "Resources that will be made");
	if (c->plan == NULL) {
		confirm_line(c, tui_attr(c->plan_error != NULL ? TC_FAIL :
		    TC_DIM), "  %s", c->plan_error != NULL ? c->plan_error :
		    "The list and the costs come with the provider; not "
		    "available in this build.");
		return;
	}
	if (json_string_value(json_object_get(c->plan, "identity")) != NULL)
		confirm_line(c, A_NORMAL, "  as %s", json_string_value(
		    json_object_get(c->plan, "identity")));
	confirm_line(c, tui_attr(TC_DIM), "  %-16s %-24s %-22s %8s", "kind",
	    "name", "detail", "$/hour");
	res = json_object_get(c->plan, "resources");
	json_array_foreach(res, i, r) {
		h = json_object_get(r, "hourly_usd");
		confirm_line(c, A_NORMAL, "  %-16.16s %-24.24s %-22.22s %8s",
		    history_str(r, "kind", ""),
		    history_str(r, "name", ""),
		    history_str(r, "detail", ""),
		    json_is_number(h) ? "" : "-");
		if (json_is_number(h))
			tui_put(2 + c->row - 1 - c->scroll, 2 + 2 + 16 + 1 +
			    24 + 1 + 22 + 1, A_NORMAL, "%8.3f",
			    json_number_value(h));
	}
	h = json_object_get(c->plan, "hourly_usd");
	if (json_is_number(h))
		confirm_line(c, A_BOLD, "  Estimated cost: $%.2f an hour "
		    "while it exists", json_number_value(h));
}

static void
confirm_draw(struct screen *s)
{
	struct confirm *c = s->data;
	const struct question *q;
	json_t *v;
	char *text;
	size_t i;

	tui_draw_frame(c->menu->title, "Enter start  Esc back  j/k scroll  "
	    "? help  q quit");
	c->row = 0;
	confirm_line(c, A_BOLD, "Check the answers");
	confirm_line(c, A_NORMAL, " ");
	for (i = 0; i < c->menu->nquestions; i++) {
		q = &c->menu->questions[i];
		v = json_object_get(c->answers, q->key);
		text = v != NULL ? question_text(q, v) : xstrdup("-");
		confirm_line(c, A_NORMAL, "  %-36.36s %s", q->title, text);
		free(text);
	}
	confirm_line(c, A_NORMAL, " ");
	if (strcmp(c->flow, "create") == 0)
		confirm_draw_plan(c);
	else if (c->summary != NULL)
		confirm_wrap(c, c->summary);
	confirm_line(c, A_NORMAL, " ");
	if (c->can_start)
		confirm_line(c, tui_attr(TC_OK) | A_BOLD, "Press Enter to "
		    "start, Esc to change an answer.");
	else
		confirm_line(c, tui_attr(TC_FAIL), "Creating cloud resources "
		    "is not available in this build. Esc goes back.");
}

static void
confirm_start(struct confirm *c)
{
	struct tui_job *job;

	if (!c->can_start) {
		tui_message(true, "not available in this build: no cloud "
		    "provider is built in");
		return;
	}
	if (strcmp(c->flow, "local") == 0) {
		job = tui_job_start(JOB_LOCAL, c->answers, NULL, NULL);
		tui_progress_push(c->base, job, "Run on this machine");
	} else {
		job = tui_job_start(JOB_CREATE, c->answers, NULL, NULL);
		tui_progress_push(c->base, job, "Create cloud resources and "
		    "run");
	}
	/* c is freed now: the confirmation is off the stack. */
}

static enum tui_rv
confirm_key(struct screen *s, int ch)
{
	struct confirm *c = s->data;

	switch (ch) {
	case '\r':
	case '\n':
	case KEY_ENTER:
	case 'y':
		confirm_start(c);
		return TUI_HANDLED;
	case 'j':
	case KEY_DOWN:
		if (c->scroll < c->row - 1)
			c->scroll++;
		return TUI_HANDLED;
	case 'k':
	case KEY_UP:
		if (c->scroll > 0)
			c->scroll--;
		return TUI_HANDLED;
	}
	return TUI_UNHANDLED;
}

static void
confirm_free(struct screen *s)
{
	struct confirm *c = s->data;

	free(c->flow);
	json_decref(c->answers);
	json_decref(c->plan);
	free(c->plan_error);
	free(c->summary);
	free(c);
}

static const struct screen_ops confirm_ops = {
	.name = "confirmation",
	.keys = confirm_keys,
	.draw = confirm_draw,
	.key = confirm_key,
	.tick = NULL,
	.free = confirm_free,
};

/* What a local run will do, in a sentence. */
static char *
confirm_local_summary(json_t *answers)
{
	struct project pr;
	char **inputs, *cause = NULL, *out;
	size_t n;
	const char *dir = json_string_value(json_object_get(answers,
	    "project"));

	if (project_load(dir, &pr, &cause) != 0) {
		out = xprintf("Cannot run: %s", cause);
		free(cause);
		return out;
	}
	if (project_inputs(&pr, (long)json_integer_value(json_object_get(
	    answers, "files")), &inputs, &n, &cause) != 0) {
		out = xprintf("Cannot run: %s", cause);
		free(cause);
	} else {
		out = xprintf("%zu task(s) of %s will run with %lld worker(s) "
		    "on this machine; results go to %s/results.", n, pr.name,
		    (long long)json_integer_value(json_object_get(answers,
		    "workers")), pr.dir);
		project_inputs_free(inputs, n);
	}
	project_free(&pr);
	return out;
}

struct screen *
tui_confirm_push(const char *flow, const struct menu *mu, json_t *answers,
    struct screen *base)
{
	struct confirm *c = xcalloc(1, sizeof *c);

	c->flow = xstrdup(flow);
	c->menu = mu;
	c->answers = json_deep_copy(answers);
	c->base = base;
	if (strcmp(flow, "local") == 0) {
		c->summary = confirm_local_summary(c->answers);
		c->can_start = true;
	} else {
		if (flow_ops.plan != NULL)
			c->plan = flow_ops.plan(c->answers, &c->plan_error);
		c->can_start = flow_ops.create != NULL;
	}
	return tui_push(&confirm_ops, c);
}
