/* The progress screen: a job's steps (pending, running with a spinner and
 * its elapsed time, done with its duration, failed with the cause) in a
 * pane that scrolls when they do not all fit, bars for bytes moved and
 * tasks done, and a scrollable pane of the latest log lines (Tab moves
 * the scroll keys between the two). It is the job's sink (through the
 * queue in tui-sink.c). */
#include <stdlib.h>
#include <string.h>

#include "history/history.h"
#include "tui/tui-int.h"
#include "util/fs.h"
#include "util/xmalloc.h"

#define PROGRESS_LOG_MAX 20000	/* lines kept for the full log */

enum pstep_state { PSTEP_PENDING, PSTEP_RUNNING, PSTEP_DONE, PSTEP_FAILED };

struct pstep {
	char			*name;
	enum pstep_state	 state;
	double			 started;	/* monotonic */
	double			 seconds;	/* done: its duration */
	char			*cause;		/* failed: why */
};

struct progress {
	struct tui_job	*job;
	char		*title;
	struct screen	*base;		/* where to go back to */
	struct pstep	*steps;		/* in the order they started */
	size_t		 nsteps;
	char	       **log;		/* every line, oldest first */
	size_t		 nlog;
	size_t		 log_scroll;	/* lines up from the newest */
	/* The step pane: a grid of step_cols columns filled row by row (the
	 * order the steps began reads left to right, then down), of which
	 * step_rows rows show from row step_top. Set at each draw; the keys
	 * use them. */
	int		 step_cols;
	size_t		 step_rows;
	size_t		 step_top;
	bool		 step_more;	/* not every step shows: it scrolls */
	bool		 step_follow;	/* not scrolled by the user (or back
					 * at the end): the newest running
					 * step stays in view */
	bool		 step_focus;	/* the movement keys scroll the steps,
					 * not the log (Tab) */
	long long	 bytes_done, bytes_total;
	long long	 tasks_done, tasks_failed, tasks_total;
	int		 workers;
	double		 started;	/* monotonic: screen opened */
	double		 ended;		/* monotonic: the job ended (0: not
					 * yet); the clocks stop there */
	double		 tasks_started;	/* monotonic: EV_TASKS_START */
	bool		 done;		/* the job has ended */
	bool		 asking;	/* a prompt is open: stay put */
	bool		 cancelling;	/* the user cancelled; not ended */
};

/* tui_key.when bits. */
#define PK_RUNNING	0x1	/* the job runs */
#define PK_ENDED	0x2	/* it has ended */
#define PK_CLOUD_ENDED	0x4	/* a cloud job has ended */
#define PK_STEPS_MORE	0x8	/* the step list does not all fit */

static const struct tui_key progress_keys[] = {
	{ "c", "cancel (asks; a cloud run: tear down or keep what was made)",
	    "c cancel", PK_RUNNING },
	{ "Enter", "the history (back to it when the job came from there)",
	    "Enter history", PK_CLOUD_ENDED },
	{ "Esc", "back", "Esc back", PK_ENDED },
	{ "l", "the full log", "l full log", 0 },
	{ "j/k, PgUp/PgDn, g/G", "scroll the log pane, or the step list "
	    "after Tab", "j/k scroll", 0 },
	{ "Tab", "switch the scroll keys between the log and the step list "
	    "(which shows every step, in the order they began)",
	    "Tab steps/log", PK_STEPS_MORE },
	{ "End", "back to the newest log lines (or the newest steps)", NULL,
	    0 },
	{ "?", "this help", "? help", 0 },
	{ "q", "quit (a running job asks to cancel first)", "q quit",
	    PK_ENDED },
	{ NULL, NULL, NULL, 0 }
};

static unsigned
progress_applies(struct screen *s)
{
	struct progress *p = s->data;
	unsigned more = p->step_more ? PK_STEPS_MORE : 0;

	if (!p->done)
		return PK_RUNNING | more;
	return PK_ENDED | more | (p->job->kind != JOB_LOCAL ?
	    PK_CLOUD_ENDED : 0);
}

/* Whether the job runs tasks (bars for tasks and bytes). */
static bool
progress_has_tasks(struct progress *p)
{
	return p->job->kind == JOB_LOCAL || p->job->kind == JOB_CREATE ||
	    p->job->kind == JOB_RESUME;
}

/* Now, or the moment the job ended. */
static double
progress_now(struct progress *p)
{
	return p->ended > 0 ? p->ended : time_mono();
}

static void
progress_log(struct progress *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
progress_log(struct progress *p, const char *fmt, ...)
{
	va_list ap;
	size_t i, drop;

	if (p->nlog == PROGRESS_LOG_MAX) {
		drop = PROGRESS_LOG_MAX / 2;
		for (i = 0; i < drop; i++)
			free(p->log[i]);
		memmove(p->log, p->log + drop, (p->nlog - drop) *
		    sizeof *p->log);
		p->nlog -= drop;
	}
	p->log = xreallocarray(p->log, p->nlog + 1, sizeof *p->log);
	va_start(ap, fmt);
	xvasprintf(&p->log[p->nlog++], fmt, ap);
	va_end(ap);
	if (p->log_scroll > 0)
		p->log_scroll++;	/* keep the same lines in view */
}

static struct pstep *
progress_step(struct progress *p, const char *name)
{
	struct pstep *ps;
	size_t i;

	if (name == NULL)
		name = "(step)";
	for (i = 0; i < p->nsteps; i++) {
		if (strcmp(p->steps[i].name, name) == 0)
			return &p->steps[i];
	}
	p->steps = xreallocarray(p->steps, p->nsteps + 1, sizeof *p->steps);
	ps = &p->steps[p->nsteps++];
	memset(ps, 0, sizeof *ps);
	ps->name = xstrdup(name);
	ps->state = PSTEP_PENDING;
	return ps;
}

/* Whether the step called name is listed and in state st. */
static bool
progress_step_is(struct progress *p, const char *name, enum pstep_state st)
{
	size_t i;

	for (i = 0; i < p->nsteps; i++) {
		if (strcmp(p->steps[i].name, name) == 0)
			return p->steps[i].state == st;
	}
	return false;
}

static void
progress_event(struct progress *p, const struct tui_event *te)
{
	struct pstep *ps;

	switch (te->type) {
	case EV_STEP_START:
		ps = progress_step(p, te->step);
		ps->state = PSTEP_RUNNING;
		ps->started = time_mono();
		progress_log(p, "%s ...", ps->name);
		break;
	case EV_STEP_DONE:
		ps = progress_step(p, te->step);
		ps->state = PSTEP_DONE;
		ps->seconds = te->seconds > 0 ? te->seconds :
		    time_mono() - ps->started;
		progress_log(p, "%s done (%.1fs)", ps->name, ps->seconds);
		break;
	case EV_STEP_FAIL:
		ps = progress_step(p, te->step);
		ps->state = PSTEP_FAILED;
		free(ps->cause);
		ps->cause = xstrdup(te->text != NULL ? te->text : "failed");
		progress_log(p, "%s failed: %s", ps->name, ps->cause);
		break;
	case EV_LOG:
		if (te->step != NULL)
			progress_log(p, "[%s] %s", te->step, te->text);
		else
			progress_log(p, "%s", te->text);
		break;
	case EV_BYTES:
		p->bytes_done = te->done;
		p->bytes_total = te->total;
		break;
	case EV_TASKS_START:
		p->tasks_total = te->total;
		p->tasks_done = p->tasks_failed = 0;
		p->workers = te->workers;
		p->tasks_started = time_mono();
		progress_log(p, "%lld task(s), %d worker(s)", te->total,
		    te->workers);
		break;
	case EV_TASK_DONE:
		p->tasks_done = te->done;
		p->tasks_failed = te->failed;
		p->tasks_total = te->total;
		if (te->text != NULL)
			progress_log(p, "%s", te->text);
		break;
	}
}

/* The run set's machines by name: "cluster (head + N nodes)" for a slurm
 * engine's (its answers in the record), else "bastion". */
static char *
progress_machines(const char *id)
{
	json_t *rec, *ans;
	char *cause = NULL, *what;
	json_int_t n;

	if ((rec = history_load(id, &cause)) == NULL) {
		free(cause);
		return xstrdup("bastion");
	}
	ans = json_object_get(rec, "answers");
	n = json_integer_value(json_object_get(ans, "nodes"));
	if (strcmp(history_str(ans, "engine", "bastion"), "slurm") != 0)
		what = xstrdup("bastion");
	else if (n > 0)
		what = xprintf("cluster (head + %lld node%s)", (long long)n,
		    n == 1 ? "" : "s");
	else
		what = xstrdup("cluster");
	json_decref(rec);
	return what;
}

/* What became of a cloud job's machines, from the run set's state at its
 * end; NULL when there is nothing to say. */
static char *
progress_fate(struct tui_job *job)
{
	const char *st = job->state, *id = job->id;
	char *what, *fate;

	if (id == NULL || st == NULL)
		return NULL;
	if (strcmp(st, "deleted") == 0)
		return xprintf("Machines: torn down; nothing of run set %s is "
		    "left", id);
	if (strcmp(st, "stopped") == 0 || strcmp(st, "active") == 0) {
		what = progress_machines(id);
		if (strcmp(st, "stopped") == 0)
			fate = xprintf("Machines: %s stopped: r in history "
			    "resumes, d tears down (run set %s)", what, id);
		else
			fate = xprintf("Machines: %s running: r in history "
			    "runs again, d tears down (run set %s)", what, id);
		free(what);
		return fate;
	}
	if (strcmp(st, "deleting") == 0)
		return xprintf("Machines: the teardown of run set %s did not "
		    "finish: d in history tries again", id);
	if (strcmp(st, "failed") == 0 || strcmp(st, "creating") == 0)
		return xprintf("Machines: unfinished create: d in history tears "
		    "it down; r cannot resume it");
	return xprintf("Machines: run set %s is %s: d in history tears it "
	    "down", id, st);
}

/* A create or resume that ran the project: its results folder is the last
 * run in the run set's history record. Shows it (replacing this screen,
 * which frees p) and returns true, or false when there is none. */
static bool
progress_cloud_results(struct progress *p)
{
	struct tui_job *job = p->job;
	struct screen *base = p->base;
	json_t *rec, *runs;
	const char *dir, *project;
	char *cause = NULL, *d, *name, *fate;

	if ((job->kind != JOB_CREATE && job->kind != JOB_RESUME) ||
	    job->id == NULL)
		return false;
	if ((rec = history_load(job->id, &cause)) == NULL) {
		free(cause);
		return false;
	}
	runs = json_object_get(rec, "runs");
	dir = json_string_value(json_object_get(json_array_get(runs,
	    json_array_size(runs) - 1), "results"));
	project = json_string_value(json_object_get(rec, "project"));
	if (dir == NULL || !fs_is_dir(dir)) {
		json_decref(rec);
		return false;
	}
	d = xstrdup(dir);
	name = xstrdup(project != NULL ? project : job->id);
	fate = progress_fate(job);
	json_decref(rec);
	tui_pop_above(base);
	tui_results_push_dir(name, d, fate);
	free(fate);
	free(name);
	free(d);
	return true;
}

static void
progress_finish(struct progress *p)
{
	struct tui_job *job = p->job;
	struct local_result lr;
	struct screen *base = p->base;
	char *fate;

	p->done = true;
	p->cancelling = false;
	p->ended = time_mono();
	if (job->kind == JOB_LOCAL && job->rv == LOCAL_OK) {
		/* The results screen takes the local result over and
		 * replaces this screen (which frees p). */
		lr = job->local;
		memset(&job->local, 0, sizeof job->local);
		tui_pop_above(base);
		tui_results_push(&lr);
		return;
	}
	if (job->rv == 0 && progress_cloud_results(p))
		return;
	fate = job->kind == JOB_CREATE || job->kind == JOB_RESUME ?
	    progress_fate(job) : NULL;
	if (job->cancelled && job->id != NULL) {
		/* What the user chose when cancelling, and how it went. */
		if (job->state != NULL && strcmp(job->state, "deleted") == 0)
			progress_log(p, "cancelled: run set %s torn down, "
			    "nothing of it is left", job->id);
		else if (job->cancel == FLOW_CANCEL_TEARDOWN)
			progress_log(p, "cancelled: the teardown of run set "
			    "%s failed; Enter, then d tries again", job->id);
		else if (job->state != NULL && (strcmp(job->state,
		    "failed") == 0 || strcmp(job->state, "creating") == 0))
			/* The create was cut short: kept as it is, what
			 * runs stopped (the flow's "stop bastion" step). */
			progress_log(p, "cancelled: run set %s kept unfinished%s",
			    job->id, progress_step_is(p, "stop bastion",
			    PSTEP_DONE) ? ", its bastion stopped" :
			    progress_step_is(p, "stop bastion", PSTEP_FAILED) ?
			    "; its bastion could not be stopped" :
			    progress_step_is(p, "stop cluster", PSTEP_DONE) ?
			    ", its machines stopped" :
			    progress_step_is(p, "stop cluster", PSTEP_FAILED) ?
			    "; its machines could not be stopped" : "");
		else
			progress_log(p, "cancelled: run set %s kept", job->id);
		if (fate != NULL)
			progress_log(p, "%s", fate);
		free(fate);
		return;
	}
	if (job->cancelled)
		progress_log(p, "cancelled");
	else if (job->rv != 0)
		progress_log(p, "failed: %s", job->cause != NULL ? job->cause :
		    "unknown error");
	if (fate != NULL)
		progress_log(p, "%s", fate);
	else if (job->rv != 0 && job->id != NULL)
		progress_log(p, "run set %s is in history: Enter, then d tears "
		    "it down", job->id);
	else if (job->rv == 0 && job->id != NULL)
		progress_log(p, "done: run set %s", job->id);
	else if (job->rv == 0)
		progress_log(p, "done");
	free(fate);
}

static void
progress_tick(struct screen *s)
{
	struct progress *p = s->data;
	struct tui_event *te, *head;
	bool done;

	if (p->done)
		return;
	head = tui_job_events(p->job, &done);
	for (te = head; te != NULL; te = te->next)
		progress_event(p, te);
	tui_events_free(head);
	if (done && !p->asking)
		progress_finish(p);
}

static void
progress_bytes(long long n, char *buf, size_t len)
{
	const char *units[] = { "B", "KB", "MB", "GB", "TB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

/* One step in a cell of width w at (y, x). */
static void
progress_draw_step(struct progress *p, struct pstep *ps, int y, int x,
    int w)
{
	char dur[32];
	int nw = w - 3 - 9 > 8 ? w - 3 - 9 : 8;

	switch (ps->state) {
	case PSTEP_PENDING:
		tui_put(y, x, tui_attr(TC_DIM), "   %-.*s", nw, ps->name);
		break;
	case PSTEP_RUNNING:
		time_format_duration(progress_now(p) - ps->started, dur,
		    sizeof dur);
		/* A step the job left running when it ended: stopped. */
		tui_put(y, x, tui_attr(TC_WARN), " %c %-*.*s %8s", p->done ?
		    '-' : tui_spinner(), nw, nw, ps->name, dur);
		break;
	case PSTEP_DONE:
		time_format_duration(ps->seconds, dur, sizeof dur);
		tui_put(y, x, tui_attr(TC_OK), "ok %-*.*s %8s", nw, nw,
		    ps->name, dur);
		break;
	case PSTEP_FAILED:
		tui_put(y, x, tui_attr(TC_FAIL), " x %-*.*s %8s", nw, nw,
		    ps->name, "failed");
		break;
	}
}

/* The first failed step and its cause ("x name: cause"), or NULL. */
static char *
progress_failure(struct progress *p)
{
	size_t k;

	for (k = 0; k < p->nsteps; k++) {
		if (p->steps[k].state == PSTEP_FAILED)
			return xprintf("x %s: %s", p->steps[k].name,
			    p->steps[k].cause);
	}
	return NULL;
}

/* Lays the step pane out in rows rows at most: how many show, and from
 * which row (kept in view while following: the newest running step, else
 * the last rows). */
static void
progress_layout_steps(struct progress *p, int rows)
{
	size_t lines, maxtop, k, r;

	p->step_cols = COLS >= 70 ? 2 : 1;
	lines = (p->nsteps + (size_t)p->step_cols - 1) / (size_t)p->step_cols;
	p->step_rows = rows < 1 ? 1 : (size_t)rows;
	if (p->step_rows > lines)
		p->step_rows = lines;
	maxtop = lines - p->step_rows;
	p->step_more = maxtop > 0;
	if (!p->step_more)
		p->step_focus = false;
	if (p->step_top > maxtop)
		p->step_top = maxtop;
	if (!p->step_follow)
		return;
	p->step_top = maxtop;
	for (k = p->nsteps; k > 0; k--) {
		if (p->steps[k - 1].state != PSTEP_RUNNING)
			continue;
		r = (k - 1) / (size_t)p->step_cols;
		if (r < p->step_top)
			p->step_top = r;
		break;
	}
}

/* The steps in the order they started, row by row in step_cols columns,
 * the rows of the pane's window; then the first failure's cause, wrapped
 * (at most crows rows). Returns the rows used. */
static int
progress_draw_steps(struct progress *p, int y, const char *failure,
    int crows)
{
	int w = (COLS - 4) / p->step_cols, c;
	size_t r, k;

	for (r = 0; r < p->step_rows; r++) {
		for (c = 0; c < p->step_cols; c++) {
			k = (p->step_top + r) * (size_t)p->step_cols +
			    (size_t)c;
			if (k >= p->nsteps)
				break;
			progress_draw_step(p, &p->steps[k], y + (int)r,
			    2 + c * w, w - 1);
		}
	}
	if (failure == NULL || crows < 1)
		return (int)p->step_rows;
	return (int)p->step_rows + tui_wrap(y + (int)p->step_rows, 2,
	    COLS - 4, crows, tui_attr(TC_FAIL), failure);
}

/* "Steps (failed)", and where the pane is when it scrolls. */
static void
progress_draw_steps_title(struct progress *p, int y)
{
	const char *how = p->done ? (p->job->cancelled ? " (cancelled)" :
	    (p->job->rv == 0 ? " (finished)" : " (failed)")) :
	    (p->cancelling ? " (cancelling ...)" : "");
	size_t above, shown;

	tui_put(y, 2, A_BOLD, "Steps%s", how);
	if (!p->step_more)
		return;
	above = p->step_top * (size_t)p->step_cols;
	shown = above + p->step_rows * (size_t)p->step_cols;
	tui_put(y, 2 + 5 + (int)strlen(how) + 2, p->step_focus ?
	    tui_attr(TC_SELECT) : tui_attr(TC_KEY),
	    "[%zu more above, %zu below; %s]", above, p->nsteps > shown ?
	    p->nsteps - shown : 0, p->step_focus ? "j/k, Tab: log" :
	    "Tab: scroll");
}

static void
progress_draw(struct screen *s)
{
	struct progress *p = s->data;
	char a[32], b[32], el[32], eta[32], *failure, **wr;
	double t;
	int y = 2, rows, i, bw, avail, crows = 0;
	size_t last, n;

	tui_draw_frame(s, p->title);
	/* Rows for the steps and the log: what the title, the bars, the
	 * elapsed time, the headings and the bottom two rows leave, less the
	 * failure's cause (two rows at most). The log keeps 4 rows, or half
	 * when that leaves the steps less; the steps scroll in the rest. */
	if ((failure = progress_failure(p)) != NULL) {
		n = tui_wrap_rows(failure, COLS - 4, 0, &wr);
		crows = n < 2 ? (int)n : 2;
		tui_rows_free(wr, n);
	}
	avail = LINES - 3 - (progress_has_tasks(p) ? 2 : 0) - 6 - crows;
	rows = avail - 4 > (avail + 1) / 2 ? avail - 4 : (avail + 1) / 2;
	progress_layout_steps(p, rows);
	progress_draw_steps_title(p, y++);
	y += progress_draw_steps(p, y, failure, crows);
	free(failure);
	if (p->nsteps == 0)
		tui_put(y++, 5, tui_attr(TC_DIM), "starting ...");
	y++;
	if (progress_has_tasks(p)) {
		bw = COLS / 3;
		if (bw < 12)
			bw = 12;
		tui_put(y, 2, A_BOLD, "Tasks");
		tui_bar(y, 9, bw, p->tasks_done, p->tasks_failed,
		    p->tasks_total);
		t = p->tasks_started > 0 ? progress_now(p) - p->tasks_started :
		    0;
		if (!p->done && p->tasks_done > 0 &&
		    p->tasks_total > p->tasks_done)
			time_format_duration(t / (double)p->tasks_done *
			    (double)(p->tasks_total - p->tasks_done), eta,
			    sizeof eta);
		else
			snprintf(eta, sizeof eta, "-");
		tui_put(y++, 10 + bw, A_NORMAL, "%lld/%lld done, %lld failed, "
		    "ETA %s", p->tasks_done, p->tasks_total, p->tasks_failed,
		    eta);
		tui_put(y, 2, A_BOLD, "Bytes");
		tui_bar(y, 9, bw, p->bytes_done, 0, p->bytes_total);
		if (p->bytes_total > 0) {
			progress_bytes(p->bytes_done, a, sizeof a);
			progress_bytes(p->bytes_total, b, sizeof b);
			tui_put(y++, 10 + bw, A_NORMAL, "%s of %s", a, b);
		} else
			tui_put(y++, 10 + bw, tui_attr(TC_DIM), "none moved");
	}
	time_format_duration(progress_now(p) - p->started, el, sizeof el);
	tui_put(y++, 2, tui_attr(TC_DIM), "Elapsed %s%s", el, p->done ?
	    " (ended)" : "");

	y++;
	tui_put(y++, 2, A_BOLD, "Log%s", p->log_scroll > 0 ? (p->step_focus ?
	    " (scrolled; Tab, then End for the newest)" :
	    " (scrolled; End for the newest)") : "");
	rows = LINES - 3 - y;
	if (rows < 1)
		return;
	last = p->nlog > p->log_scroll ? p->nlog - p->log_scroll : 0;
	for (i = rows - 1; i >= 0 && last > 0; i--, last--)
		tui_put(y + i, 2, A_NORMAL, "%s", p->log[last - 1]);
}

static enum tui_rv
progress_cancel(struct progress *p)
{
	int ch;
	bool yes;

	p->asking = true;
	if (p->job->kind == JOB_CREATE || p->job->kind == JOB_RESUME) {
		ch = tui_ask("tkn", "Cancel. Tear down what was made? t = tear "
		    "down, k = keep it, n = go on");
		if (ch == 't' || ch == 'k')
			tui_job_cancel(p->job, ch == 't' ?
			    FLOW_CANCEL_TEARDOWN : FLOW_CANCEL_KEEP);
		yes = ch == 't' || ch == 'k';
	} else {
		yes = tui_confirm(p->job->kind == JOB_LOCAL ? "Running tasks "
		    "are stopped, finished ones kept. Cancel the run" :
		    "What is left stays in history. Stop now");
		if (yes)
			tui_job_cancel(p->job, FLOW_CANCEL_KEEP);
	}
	p->asking = false;
	if (yes)
		p->cancelling = true;
	return TUI_HANDLED;
}

/* Enter once a cloud job has ended: the history it came from, or a new
 * one over where the job was started (never a second one). */
static void
progress_history(struct progress *p)
{
	struct screen *base = p->base, *h = tui_history_find(base);

	if (h != NULL) {
		tui_pop_above(h);
		return;
	}
	tui_pop_above(base);
	tui_history_push(NULL);
}

static enum tui_rv
progress_key(struct screen *s, int ch)
{
	struct progress *p = s->data;
	size_t pos, lines, max = p->nlog > 0 ? p->nlog - 1 : 0;

	switch (ch) {
	case 'c':
		if (p->done) {
			tui_message(false, "the run has ended");
			return TUI_HANDLED;
		}
		return progress_cancel(p);
	case 'q':
	case TUI_CTRL('c'):
		return p->done ? TUI_UNHANDLED : progress_cancel(p);
	case TUI_ESC:
		if (p->done)
			return TUI_BACK;
		tui_message(false, "still running: c cancels it");
		return TUI_HANDLED;
	case '\r':
	case '\n':
	case KEY_ENTER:
		if (!p->done || p->job->kind == JOB_LOCAL)
			return TUI_UNHANDLED;
		progress_history(p);	/* frees p */
		return TUI_HANDLED;
	case 'l':
		tui_text_push_lines("Full log", p->log, p->nlog, NULL, NULL,
		    NULL);
		return TUI_HANDLED;
	case '\t':
	case KEY_BTAB:
		if (!p->step_more) {
			p->step_focus = false;
			tui_message(false, "every step is shown; j/k scroll the "
			    "log");
			return TUI_HANDLED;
		}
		p->step_focus = !p->step_focus;
		return TUI_HANDLED;
	}
	if (p->step_focus && p->step_more) {
		lines = (p->nsteps + (size_t)p->step_cols - 1) /
		    (size_t)p->step_cols;
		pos = p->step_top;
		if (!tui_move_key(ch, &pos, lines - p->step_rows,
		    p->step_rows))
			return TUI_UNHANDLED;
		/* Back at the end, it follows the newest steps again. */
		p->step_top = pos;
		p->step_follow = pos == lines - p->step_rows;
		return TUI_HANDLED;
	}
	/* The log pane counts from the newest line: turned around for the
	 * shared movement keys (k and PgUp go back in time). */
	pos = max - (p->log_scroll < max ? p->log_scroll : max);
	if (tui_move_key(ch, &pos, max, LINES > 4 ? (size_t)LINES / 2 : 1)) {
		p->log_scroll = max - pos;
		return TUI_HANDLED;
	}
	return TUI_UNHANDLED;
}

static void
progress_free(struct screen *s)
{
	struct progress *p = s->data;
	size_t i;

	if (!p->done)
		tui_job_cancel(p->job, FLOW_CANCEL_KEEP);
	tui_job_free(p->job);
	for (i = 0; i < p->nsteps; i++) {
		free(p->steps[i].name);
		free(p->steps[i].cause);
	}
	free(p->steps);
	for (i = 0; i < p->nlog; i++)
		free(p->log[i]);
	free(p->log);
	free(p->title);
	free(p);
}

static const struct screen_ops progress_ops = {
	.name = "progress",
	.keys = progress_keys,
	.draw = progress_draw,
	.key = progress_key,
	.tick = progress_tick,
	.free = progress_free,
	.applies = progress_applies,
};

void
tui_progress_push(struct screen *base, struct tui_job *job, const char *title)
{
	struct progress *p = xcalloc(1, sizeof *p);

	p->job = job;
	p->title = xstrdup(title);
	p->base = base;
	p->started = time_mono();
	p->step_follow = true;
	if (job->kind == JOB_LOCAL)
		progress_step(p, "run on this machine");
	tui_pop_above(base);
	tui_push(&progress_ops, p);
}
