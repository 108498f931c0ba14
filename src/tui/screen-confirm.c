/* The confirmation screen: every answer, and what will be made (with the
 * estimated hourly cost when the provider can plan). Enter starts it. */
#include <stdlib.h>
#include <string.h>

#include "flows.h"
#include "run/project.h"
#include "history/history.h"
#include "tui/tui-int.h"
#include "util/xmalloc.h"

struct confirm {
	char		*flow;		/* "create", "local" */
	const struct menu *menu;	/* the questions asked */
	json_t		*answers;
	struct tui_job	*planning;	/* the plan job, until it answers */
	json_t		*plan;		/* flow_ops.plan's answer, or NULL */
	char		*plan_error;	/* why there is no plan */
	char		*summary;	/* local: what will run */
	bool		 can_start;	/* the action is in this build */
	struct screen	*base;		/* where the flow was started from */
	size_t		 scroll;	/* first line shown */
	int		 row;		/* drawing: next virtual row */
};

static const struct tui_key confirm_keys[] = {
	{ "Enter, y", "start", "Enter start", 0 },
	{ "Esc", "back to the questions (also while the plan is asked)",
	    "Esc back", 0 },
	{ "j/k, Up/Down", "scroll", "j/k scroll", 0 },
	{ "?", "this help", "? help", 0 },
	{ "q", "quit", "q quit", 0 },
	{ NULL, NULL, NULL, 0 }
};

static void
confirm_line(struct confirm *c, attr_t a, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Rows of the scrolled body: 2 .. LINES-5 (below: how much more, and what
 * Enter does). */
static int
confirm_height(void)
{
	return LINES - 6 > 1 ? LINES - 6 : 1;
}

/* One line of the scrolled body. */
static void
confirm_line(struct confirm *c, attr_t a, const char *fmt, ...)
{
	va_list ap;
	char *text;
	int y = 2 + c->row++ - (int)c->scroll;

	if (y < 2 || y >= 2 + confirm_height())
		return;
	va_start(ap, fmt);
	xvasprintf(&text, fmt, ap);
	va_end(ap);
	tui_put(y, 2, a, "%s", text);
	free(text);
}

/* Text over as many body lines as it needs, wrapped at words; lines after
 * the first start at column hang of the body. */
static void
confirm_wrap(struct confirm *c, attr_t a, int hang, const char *text)
{
	char **rows;
	size_t n, i;
	int width = COLS - 4 > 20 ? COLS - 4 : 20;

	n = tui_wrap_rows(text, width, hang, &rows);
	for (i = 0; i < n; i++)
		confirm_line(c, a, "%s", rows[i]);
	tui_rows_free(rows, n);
}

/* The provider's plan: who, where, SSH from where, and every resource
 * with its whole detail (wrapped under its name) and price. */
static void
confirm_draw_plan(struct confirm *c)
{
	json_t *res, *r, *h;
	char *text, *name, price[32];
	long long count;
	size_t i;

	confirm_line(c, A_BOLD, "Resources that will be made");
	if (c->planning != NULL) {
		confirm_line(c, tui_attr(TC_WARN), "  %c asking the provider "
		    "for the plan and its cost ... (Esc goes back)",
		    tui_spinner());
		return;
	}
	if (c->plan == NULL) {
		text = xprintf("  %s", c->plan_error != NULL ?
		    c->plan_error : "The list and the costs come with the "
		    "provider; not available in this build.");
		confirm_wrap(c, tui_attr(c->plan_error != NULL ? TC_FAIL :
		    TC_DIM), 4, text);
		free(text);
		return;
	}
	if (*history_str(c->plan, "identity", "") != '\0') {
		text = xprintf("  As        %s", history_str(c->plan, "identity", ""));
		confirm_wrap(c, A_NORMAL, 12, text);
		free(text);
	}
	if (*history_str(c->plan, "region", "") != '\0')
		confirm_line(c, A_NORMAL, "  Region    %s", history_str(c->plan, "region", ""));
	text = xprintf("  SSH from  %s", *history_str(c->plan, "ssh_from", "") !=
	    '\0' ? history_str(c->plan, "ssh_from", "") : (*history_str(c->plan, "ssh_from_error", "") != '\0' ? history_str(c->plan, "ssh_from_error", "") : "your address (not known yet)"));
	confirm_wrap(c, A_NORMAL, 12, text);
	free(text);
	/* The machines that run the tasks: what was picked and why. */
	if (*history_str(c->plan, "machine", "") != '\0') {
		text = xprintf("  Machines  %s", history_str(c->plan,
		    "machine", ""));
		confirm_wrap(c, A_NORMAL, 12, text);
		free(text);
	}
	confirm_line(c, tui_attr(TC_DIM), "  %-16s %-*s %8s", "kind",
	    COLS - 4 - 2 - 16 - 1 - 9 > 10 ? COLS - 4 - 2 - 16 - 1 - 9 : 10,
	    "name and detail", "$/hour");
	res = json_object_get(c->plan, "resources");
	json_array_foreach(res, i, r) {
		h = json_object_get(r, "hourly_usd");
		if (json_is_number(h))
			snprintf(price, sizeof price, "%8.3f",
			    json_number_value(h));
		else
			snprintf(price, sizeof price, "%8s", "-");
		/* Several alike (a cluster's nodes): how many, the price
		 * the line's. */
		count = json_integer_value(json_object_get(r, "count"));
		name = count > 1 ? xprintf("%lld x %s", count,
		    history_str(r, "name", "")) :
		    xstrdup(history_str(r, "name", ""));
		confirm_line(c, A_NORMAL, "  %-16s %-*s %s", history_str(r, "kind", ""), COLS - 4 - 2 - 16 - 1 - 9 > 10 ?
		    COLS - 4 - 2 - 16 - 1 - 9 : 10, name, price);
		free(name);
		if (*history_str(r, "detail", "") != '\0') {
			text = xprintf("%19s%s", "", history_str(r, "detail", ""));
			confirm_wrap(c, tui_attr(TC_DIM), 19, text);
			free(text);
		}
	}
	h = json_object_get(c->plan, "hourly_usd");
	if (json_is_number(h))
		confirm_line(c, A_BOLD, "  Estimated cost: $%.2f an hour "
		    "while it exists", json_number_value(h));
	if ((h = json_object_get(c->plan, "estimate")) != NULL) {
		text = xprintf("  Estimated run: %s", history_str(h, "text",
		    ""));
		confirm_wrap(c, A_BOLD, 17, text);
		free(text);
	}
	if (*history_str(c->plan, "prices", "") != '\0') {
		text = xprintf("  %s", history_str(c->plan, "prices", ""));
		confirm_wrap(c, tui_attr(TC_DIM), 2, text);
		free(text);
	}
}

static void
confirm_draw(struct screen *s)
{
	struct confirm *c = s->data;
	const struct question *q;
	json_t *v;
	char *text, *line;
	size_t i;

	tui_draw_frame(s, c->menu->title);
	c->row = 0;
	confirm_line(c, A_BOLD, "Check the answers");
	confirm_line(c, A_NORMAL, " ");
	for (i = 0; i < c->menu->nquestions; i++) {
		q = &c->menu->questions[i];
		if (!menu_asks(c->menu, q, c->answers))
			continue;
		v = json_object_get(c->answers, q->key);
		text = v != NULL ? question_shown(q, v, c->answers) :
		    xstrdup("-");
		line = xprintf("  %-36.36s  %s", q->title, text);
		confirm_wrap(c, A_NORMAL, 40, line);
		free(line);
		free(text);
	}
	confirm_line(c, A_NORMAL, " ");
	if (strcmp(c->flow, "create") == 0)
		confirm_draw_plan(c);
	else if (c->summary != NULL)
		confirm_wrap(c, A_NORMAL, 0, c->summary);
	/* Below the body, always in view: more to read, and what Enter
	 * does. */
	if (c->row - (int)c->scroll > confirm_height())
		tui_put(LINES - 4, 2, tui_attr(TC_DIM), "(%d more line(s) "
		    "below: j/k scroll)", c->row - (int)c->scroll -
		    confirm_height());
	if (!c->can_start)
		tui_put(LINES - 3, 2, tui_attr(TC_FAIL), "Creating cloud "
		    "resources is not available in this build. Esc goes back.");
	else if (c->planning != NULL)
		tui_put(LINES - 3, 2, tui_attr(TC_WARN), "%c Waiting for the "
		    "plan and its cost before Enter can start; Esc goes back.",
		    tui_spinner());
	else if (c->plan_error != NULL)	/* a bad zone, no credentials */
		tui_put(LINES - 3, 2, tui_attr(TC_WARN), "The plan failed "
		    "(above): Esc to change an answer; Enter tries anyway.");
	else
		tui_put(LINES - 3, 2, tui_attr(TC_OK) | A_BOLD, "Press Enter "
		    "to start, Esc to change an answer.");
}

/* The plan job's answer, once it comes. */
static void
confirm_tick(struct screen *s)
{
	struct confirm *c = s->data;
	struct tui_event *head;
	bool done;

	if (c->planning == NULL)
		return;
	head = tui_job_events(c->planning, &done);
	tui_events_free(head);
	if (!done)
		return;
	c->plan = c->planning->result;
	c->planning->result = NULL;
	if (c->plan == NULL)
		c->plan_error = xstrdup(c->planning->cause != NULL ?
		    c->planning->cause : "the provider gave no plan");
	tui_job_free(c->planning);
	c->planning = NULL;
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
	if (c->planning != NULL) {
		tui_message(false, "the plan and its cost come first: wait for "
		    "them, or Esc goes back");
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
	}
	if (tui_move_key(ch, &c->scroll, c->row > confirm_height() ?
	    (size_t)(c->row - confirm_height()) : 0,
	    (size_t)confirm_height()))
		return TUI_HANDLED;
	return TUI_UNHANDLED;
}

static void
confirm_free(struct screen *s)
{
	struct confirm *c = s->data;

	free(c->flow);
	tui_job_abandon(c->planning);
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
	.tick = confirm_tick,
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
	if (pr.inputs_url != NULL)
		out = xprintf("The inputs in %s are listed and fetched with "
		    "your credentials when the run starts; %lld worker(s) on "
		    "this machine; results go to %s/results.", pr.glob,
		    (long long)json_integer_value(json_object_get(answers,
		    "workers")), pr.dir);
	else if (project_inputs(&pr, (long)json_integer_value(
	    json_object_get(answers, "files")), &inputs, &n, &cause) != 0) {
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
		/* On a thread: the provider may be slow to answer. */
		if (flow_ops.plan != NULL)
			c->planning = tui_job_start(JOB_PLAN, c->answers, NULL,
			    NULL);
		c->can_start = flow_ops.create != NULL;
	}
	return tui_push(&confirm_ops, c);
}
