/* The progress screen: a job's steps (pending, running with a spinner and
 * its elapsed time, done with its duration, failed with the cause), bars
 * for bytes moved and tasks done, and a scrollable pane of the latest log
 * lines. It is the job's sink (through the queue in tui-sink.c). */
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
	struct pstep	*steps;
	size_t		 nsteps;
	char	       **log;		/* every line, oldest first */
	size_t		 nlog;
	int		 log_scroll;	/* lines up from the newest */
	long long	 bytes_done, bytes_total;
	long long	 tasks_done, tasks_failed, tasks_total;
	int		 workers;
	double		 started;	/* monotonic: screen opened */
	double		 tasks_started;	/* monotonic: EV_TASKS_START */
	bool		 done;		/* the job has ended */
	bool		 asking;	/* a prompt is open: stay put */
};

static const struct tui_key progress_keys[] = {
	{ "l", "the full log" },
	{ "c", "cancel (asks whether to tear down what was made)" },
	{ "j/k, PgUp/PgDn", "scroll the log pane" },
	{ "End", "back to the newest log lines" },
	{ "Esc", "back, once the run has ended" },
	{ "Enter", "the history, once a cloud job has ended" },
	{ "?", "this help" },
	{ "q", "quit (cancels a running job first)" },
	{ NULL, NULL }
};

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
	char *cause = NULL, *d, *name;

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
	json_decref(rec);
	tui_pop_above(base);
	tui_results_push_dir(name, d);
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

	p->done = true;
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
	if (job->cancelled && job->id != NULL) {
		/* What the user chose when cancelling, and how it went. */
		if (job->torn_down > 0)
			progress_log(p, "cancelled: run set %s torn down, "
			    "nothing of it is left", job->id);
		else if (job->torn_down < 0)
			progress_log(p, "cancelled: the teardown of run set "
			    "%s failed; Enter, then d tries again", job->id);
		else
			progress_log(p, "cancelled: run set %s kept; Enter, "
			    "then r runs again or d tears it down", job->id);
		tui_message(false, "cancelled");
		return;
	}
	if (job->rv != 0)
		progress_log(p, "failed: %s", job->cause != NULL ? job->cause :
		    "unknown error");
	if (job->rv != 0 && job->id != NULL)
		progress_log(p, "run set %s is in history: Enter, then d tears "
		    "it down", job->id);
	else if (job->id != NULL)
		progress_log(p, "done: run set %s", job->id);
	else
		progress_log(p, "done");
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

static int
progress_draw_steps(struct progress *p, int y, int rows)
{
	static const char spin[] = "|/-\\";
	struct pstep *ps;
	size_t i, first = 0;
	char dur[32];
	int n = 0;

	if (p->nsteps > (size_t)rows)
		first = p->nsteps - (size_t)rows;
	for (i = first; i < p->nsteps; i++, n++) {
		ps = &p->steps[i];
		switch (ps->state) {
		case PSTEP_PENDING:
			tui_put(y + n, 2, tui_attr(TC_DIM), "   %s", ps->name);
			break;
		case PSTEP_RUNNING:
			time_format_duration(time_mono() - ps->started, dur,
			    sizeof dur);
			tui_put(y + n, 2, tui_attr(TC_WARN), " %c %-40s %s",
			    spin[(int)(time_mono() * 8) % 4], ps->name, dur);
			break;
		case PSTEP_DONE:
			time_format_duration(ps->seconds, dur, sizeof dur);
			tui_put(y + n, 2, tui_attr(TC_OK), "ok %-40s %s",
			    ps->name, dur);
			break;
		case PSTEP_FAILED:
			tui_put(y + n, 2, tui_attr(TC_FAIL), " x %s: %s",
			    ps->name, ps->cause);
			break;
		}
	}
	return n;
}

static void
progress_draw(struct screen *s)
{
	struct progress *p = s->data;
	char a[32], b[32], el[32], eta[32];
	double t;
	int y = 2, rows, i, bw;
	size_t last;

	tui_draw_frame(p->title, p->done ? (p->job->kind == JOB_LOCAL ?
	    "Esc back  l full log  j/k scroll  ? help  q quit" :
	    "Enter history  Esc back  l full log  ? help  q quit") : "c cancel  l full log  j/k scroll  ? help");
	tui_put(y++, 2, A_BOLD, "Steps%s", p->done ? (p->job->rv == 0 ?
	    " (finished)" : " (failed)") : "");
	y += progress_draw_steps(p, y, 5);
	if (p->nsteps == 0)
		tui_put(y++, 5, tui_attr(TC_DIM), "starting ...");
	y++;
	bw = COLS / 3;
	if (bw < 12)
		bw = 12;
	tui_put(y, 2, A_BOLD, "Tasks");
	tui_bar(y, 9, bw, p->tasks_done, p->tasks_failed, p->tasks_total);
	t = p->tasks_started > 0 ? time_mono() - p->tasks_started : 0;
	time_format_duration(t, el, sizeof el);
	if (p->tasks_done > 0 && p->tasks_total > p->tasks_done)
		time_format_duration(t / (double)p->tasks_done *
		    (double)(p->tasks_total - p->tasks_done), eta, sizeof eta);
	else
		snprintf(eta, sizeof eta, "-");
	tui_put(y++, 10 + bw, A_NORMAL, "%lld/%lld done, %lld failed, ETA %s",
	    p->tasks_done, p->tasks_total, p->tasks_failed, eta);
	tui_put(y, 2, A_BOLD, "Bytes");
	tui_bar(y, 9, bw, p->bytes_done, 0, p->bytes_total);
	if (p->bytes_total > 0) {
		progress_bytes(p->bytes_done, a, sizeof a);
		progress_bytes(p->bytes_total, b, sizeof b);
		tui_put(y++, 10 + bw, A_NORMAL, "%s of %s", a, b);
	} else
		tui_put(y++, 10 + bw, tui_attr(TC_DIM), "none moved");
	time_format_duration(time_mono() - p->started, el, sizeof el);
	tui_put(y++, 2, tui_attr(TC_DIM), "Elapsed %s", el);

	y++;
	tui_put(y++, 2, A_BOLD, "Log%s", p->log_scroll > 0 ?
	    " (scrolled; End for the newest)" : "");
	rows = LINES - 3 - y;
	if (rows < 1)
		return;
	last = p->nlog > (size_t)p->log_scroll ? p->nlog -
	    (size_t)p->log_scroll : 0;
	for (i = rows - 1; i >= 0 && last > 0; i--, last--)
		tui_put(y + i, 2, A_NORMAL, "%s", p->log[last - 1]);
}

static enum tui_rv
progress_cancel(struct progress *p)
{
	int ch;

	p->asking = true;
	if (p->job->kind == JOB_LOCAL)
		ch = tui_ask("yn", "Cancel the run? Running tasks are stopped; "
		    "finished ones are kept. (y/n)");
	else if (p->job->kind == JOB_CREATE || p->job->kind == JOB_RESUME)
		ch = tui_ask("tkn", "Cancel. Tear down what was made? t = tear "
		    "down, k = keep it, n = go on");
	else
		ch = tui_ask("yn", "Stop the teardown? What is left stays in "
		    "history. (y/n)");
	p->asking = false;
	if (ch == 'y' || ch == 'k')
		tui_job_cancel(p->job, false);
	else if (ch == 't')
		tui_job_cancel(p->job, true);
	if (ch == 'y' || ch == 'k' || ch == 't')
		tui_message(false, "cancelling ...");
	return TUI_HANDLED;
}

static enum tui_rv
progress_key(struct screen *s, int ch)
{
	struct progress *p = s->data;
	struct screen *base;
	int page = LINES / 2;

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
		/* What the cloud job left: the run sets in history. */
		base = p->base;
		tui_pop_above(base);
		tui_history_push(NULL);
		return TUI_HANDLED;
	case 'l':
		tui_text_push_lines("Full log", p->log, p->nlog, NULL, NULL,
		    NULL);
		return TUI_HANDLED;
	case 'k':
	case KEY_UP:
	case KEY_PPAGE:
		p->log_scroll += ch == KEY_PPAGE ? page : 1;
		if ((size_t)p->log_scroll >= p->nlog)
			p->log_scroll = p->nlog > 0 ? (int)p->nlog - 1 : 0;
		return TUI_HANDLED;
	case 'j':
	case KEY_DOWN:
	case KEY_NPAGE:
		p->log_scroll -= ch == KEY_NPAGE ? page : 1;
		if (p->log_scroll < 0)
			p->log_scroll = 0;
		return TUI_HANDLED;
	case KEY_END:
	case 'G':
		p->log_scroll = 0;
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
		tui_job_cancel(p->job, false);
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
};

void
tui_progress_push(struct screen *base, struct tui_job *job, const char *title)
{
	struct progress *p = xcalloc(1, sizeof *p);

	p->job = job;
	p->title = xstrdup(title);
	p->base = base;
	p->started = time_mono();
	if (job->kind == JOB_LOCAL)
		progress_step(p, "run on this machine");
	tui_pop_above(base);
	tui_push(&progress_ops, p);
}
