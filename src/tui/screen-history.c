/* The history screen: one line per run set (id, project, provider/region,
 * state, age, cost so far) from the history dir. Enter shows every
 * resource; r resumes, d tears down, o sweeps orphans, through flow_ops
 * (or says the action is not in this build). */
#include <stdlib.h>
#include <string.h>

#include "flows.h"
#include "history/history.h"
#include "tui/tui-int.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

struct history_screen {
	char		*mode;		/* NULL, "resume" or "cleanup" */
	json_t		*list;		/* history_list() */
	size_t		 broken;	/* records that did not parse */
	char		*error;		/* why the list is empty */
	size_t		 sel;
	size_t		 top;		/* first line shown */
	bool		 covered;	/* another screen was on top: reload
					 * when back (a job may have run) */
};

static const struct tui_key history_keys[] = {
	{ "Up/Down, j/k", "move" },
	{ "Enter", "details: every resource and run" },
	{ "r", "resume: run again on the run set (a local run: again here)" },
	{ "d", "tear the run set down (asks once)" },
	{ "o", "orphan sweep: tagged resources no record knows" },
	{ "F5, Ctrl-R", "reload" },
	{ "Esc", "back" },
	{ "?", "this help" },
	{ "q", "quit" },
	{ NULL, NULL }
};

static void
history_reload(struct history_screen *h)
{
	json_t *rec = json_array_get(h->list, h->sel);
	char *id = rec != NULL ? xstrdup(history_str(rec, "id", "")) : NULL;
	size_t i;

	free(h->error);
	h->error = NULL;
	json_decref(h->list);
	h->list = history_list(&h->broken, &h->error);
	if (h->list == NULL)
		h->list = json_array();
	/* The same run set stays chosen, wherever it is now. */
	json_array_foreach(h->list, i, rec) {
		if (id != NULL && strcmp(history_str(rec, "id", ""), id) == 0)
			h->sel = i;
	}
	free(id);
	if (h->sel >= json_array_size(h->list))
		h->sel = json_array_size(h->list) > 0 ?
		    json_array_size(h->list) - 1 : 0;
}

static double
history_time(json_t *o, const char *key, double def)
{
	const char *ts = history_str(o, key, NULL);
	double t = ts != NULL ? history_parse_timestamp(ts) : -1;

	return t < 0 ? def : t;
}

/* Cost so far: each resource's hourly_usd times the hours it lived (from
 * its created_at to its deleted_at, the record's deleted_at, or now), as
 * `fanout history` counts it; "-" when no resource has a price. */
static void
history_cost(json_t *rec, char *buf, size_t len)
{
	double now = time_now(), sum = 0, start, end;
	json_t *res, *h;
	size_t i;
	bool priced = false;

	json_array_foreach(json_object_get(rec, "resources"), i, res) {
		h = json_object_get(res, "hourly_usd");
		if (!json_is_number(h))
			continue;
		priced = true;
		start = history_time(res, "created_at", now);
		end = history_time(res, "deleted_at", history_time(rec,
		    "deleted_at", now));
		if (end > start)
			sum += json_number_value(h) * (end - start) / 3600;
	}
	if (priced)
		snprintf(buf, len, "$%.2f", sum);
	else
		snprintf(buf, len, "-");
}

static void
history_draw(struct screen *s)
{
	struct history_screen *h = s->data;
	json_t *rec, *answers;
	char age[32], cost[32], where[64];
	const char *region;
	size_t i, n = json_array_size(h->list);
	int y, rows = LINES - 6;
	attr_t a;

	tui_draw_frame(h->mode == NULL ? "history" : (strcmp(h->mode,
	    "resume") == 0 ? "resume from history" : "clean up resources"),
	    "Enter details  r resume  d tear down  o orphans  Esc back  "
	    "? help");
	if (h->mode != NULL)
		tui_put(1, 2, tui_attr(TC_DIM), "%s", strcmp(h->mode,
		    "resume") == 0 ? "Choose a run set and press r." :
		    "Choose a run set and press d, or o for orphans.");
	tui_put(2, 2, A_BOLD, "%-16s %-14s %-16s %-8s %6s %8s", "id",
	    "project", "provider/region", "state", "age", "cost");
	if (n == 0) {
		tui_put(4, 2, tui_attr(TC_DIM), "%s", h->error != NULL ?
		    h->error : "No runs yet: run a project (Run on this "
		    "machine) and it shows here.");
		return;
	}
	if (h->sel < h->top)
		h->top = h->sel;
	if (rows > 0 && h->sel >= h->top + (size_t)rows)
		h->top = h->sel - (size_t)rows + 1;
	for (i = h->top, y = 3; i < n && y < 3 + rows; i++, y++) {
		rec = json_array_get(h->list, i);
		answers = json_object_get(rec, "answers");
		region = history_str(rec, "region",
		    history_str(answers, "region", NULL));
		snprintf(where, sizeof where, "%s%s%s", history_str(rec,
		    "provider", history_str(answers, "provider", "-")),
		    region != NULL ? "/" : "", region != NULL ? region : "");
		tui_age(history_str(rec, "created_at", NULL), age, sizeof age);
		history_cost(rec, cost, sizeof cost);
		a = i == h->sel ? tui_attr(TC_SELECT) : A_NORMAL;
		if (i == h->sel) {
			attron(a);
			mvhline(y, 0, ' ', COLS);
			attroff(a);
		}
		tui_put(y, 2, a, "%-16.16s %-14.14s %-16.16s %-8.8s %6s %8s",
		    history_str(rec, "id", "?"),
		    history_str(rec, "project", "?"), where,
		    history_str(rec, "state", "?"), age, cost);
	}
	if (h->broken > 0)
		tui_put(LINES - 3, 2, tui_attr(TC_WARN), "%zu record(s) in the "
		    "history dir could not be read", h->broken);
}

static void
history_details(json_t *rec)
{
	struct strbuf sb;
	json_t *res, *r, *runs, *a;
	const char *k;
	json_t *v;
	char *text;
	size_t i;

	strbuf_init(&sb);
	strbuf_addf(&sb, "Run set   %s\nKind      %s\nProject   %s\n"
	    "Created   %s\nState     %s\n", history_str(rec, "id", "?"),
	    history_str(rec, "kind", "?"), history_str(rec, "project", "?"),
	    history_str(rec, "created_at", "?"),
	    history_str(rec, "state", "?"));
	if (history_str(rec, "project_dir", NULL) != NULL)
		strbuf_addf(&sb, "Folder    %s\n",
		    history_str(rec, "project_dir", ""));
	if ((a = json_object_get(rec, "answers")) != NULL) {
		strbuf_adds(&sb, "\nAnswers\n");
		json_object_foreach(a, k, v) {
			text = question_text(NULL, v);
			strbuf_addf(&sb, "  %-16s %s\n", k, text);
			free(text);
		}
	}
	res = json_object_get(rec, "resources");
	strbuf_addf(&sb, "\nResources (%zu)\n", json_array_size(res));
	if (json_array_size(res) > 0)
		strbuf_addf(&sb, "  %-14s %-24s %-21s %-8s %s\n", "kind",
		    "name", "id", "state", "region");
	json_array_foreach(res, i, r) {
		strbuf_addf(&sb, "  %-14s %-24s %-21s %-8s %s\n",
		    history_str(r, "kind", "?"), history_str(r, "name", "-"),
		    history_str(r, "id", "-"), history_str(r, "state", "?"),
		    history_str(r, "region", "-"));
	}
	runs = json_object_get(rec, "runs");
	strbuf_addf(&sb, "\nRuns (%zu)\n", json_array_size(runs));
	json_array_foreach(runs, i, r) {
		strbuf_addf(&sb, "  %s  %s  %lld task(s), %lld ok, %lld "
		    "error(s)\n    results: %s\n",
		    history_str(r, "started", "?"),
		    history_str(r, "engine", "?"),
		    (long long)json_integer_value(json_object_get(r, "tasks")),
		    (long long)json_integer_value(json_object_get(r, "ok")),
		    (long long)json_integer_value(json_object_get(r, "errors")),
		    history_str(r, "results", "-"));
	}
	text = xprintf("run set %s", history_str(rec, "id", "?"));
	tui_text_push(text, sb.buf);
	free(text);
	strbuf_free(&sb);
}

static bool
history_is_local(json_t *rec)
{
	return strcmp(history_str(rec, "kind", ""), "local") == 0;
}

static void
history_resume(struct screen *s, json_t *rec)
{
	struct tui_job *job;
	json_t *answers;
	const char *dir = history_str(rec, "project_dir", NULL);

	if (history_is_local(rec)) {
		if (dir == NULL || !fs_is_dir(dir)) {
			tui_message(true, "the project folder of this run is "
			    "gone (%s)", dir != NULL ? dir : "not recorded");
			return;
		}
		answers = json_pack("{s:s, s:i, s:i}", "project", dir,
		    "files", 0, "workers", 0);
		job = tui_job_start(JOB_LOCAL, answers, NULL, NULL);
		json_decref(answers);
		tui_progress_push(s, job, "Run on this machine (again)");
		return;
	}
	if (flow_ops.resume == NULL) {
		tui_message(true, "resume is not available in this build (no "
		    "cloud provider is built in)");
		return;
	}
	if (tui_ask("yn", "Run again on %s? (y/n)", history_str(rec, "id", "?"))
	    != 'y')
		return;
	job = tui_job_start(JOB_RESUME, NULL, history_str(rec, "id", ""), NULL);
	tui_progress_push(s, job, "Resume from history");
}

static void
history_teardown(struct screen *s, json_t *rec)
{
	struct tui_job *job;
	const char *id = history_str(rec, "id", "?");

	if (history_is_local(rec)) {
		tui_message(false, "%s was a run on this machine: it made no "
		    "cloud resources", id);
		return;
	}
	if (flow_ops.cleanup == NULL) {
		tui_message(true, "tear down is not available in this build "
		    "(no cloud provider is built in)");
		return;
	}
	if (tui_ask("yn", "Tear down every resource of %s? (y/n)", id) != 'y')
		return;
	job = tui_job_start(JOB_CLEANUP, NULL, id, NULL);
	tui_progress_push(s, job, "Clean up resources");
}

static void
history_orphans(struct screen *s)
{
	struct tui_job *job;
	json_t *orphans;
	char *cause = NULL;

	if (flow_ops.orphans == NULL || flow_ops.cleanup_orphans == NULL) {
		tui_message(true, "the orphan sweep is not available in this "
		    "build (no cloud provider is built in)");
		return;
	}
	tui_message(false, "looking for orphans ...");
	if ((orphans = flow_ops.orphans(NULL, &cause)) == NULL) {
		tui_message(true, "orphan sweep: %s", cause);
		free(cause);
		return;
	}
	if (json_array_size(orphans) == 0) {
		tui_message(false, "no orphans: every tagged resource belongs "
		    "to a run set in history");
		json_decref(orphans);
		return;
	}
	if (tui_ask("yn", "%zu tagged resource(s) no record knows. Delete "
	    "them? (y/n)", json_array_size(orphans)) == 'y') {
		job = tui_job_start(JOB_ORPHANS, NULL, NULL, orphans);
		tui_progress_push(s, job, "Orphan sweep");
	}
	json_decref(orphans);
}

static enum tui_rv
history_key(struct screen *s, int ch)
{
	struct history_screen *h = s->data;
	size_t n = json_array_size(h->list);
	json_t *rec = json_array_get(h->list, h->sel);

	switch (ch) {
	case 'j':
	case KEY_DOWN:
		if (h->sel + 1 < n)
			h->sel++;
		return TUI_HANDLED;
	case 'k':
	case KEY_UP:
		if (h->sel > 0)
			h->sel--;
		return TUI_HANDLED;
	case KEY_F(5):
	case TUI_CTRL('r'):
		history_reload(h);
		return TUI_HANDLED;
	case 'o':
		history_orphans(s);
		return TUI_HANDLED;
	case '\r':
	case '\n':
	case KEY_ENTER:
	case 'r':
	case 'd':
		if (rec == NULL) {
			tui_message(false, "no run set chosen");
			return TUI_HANDLED;
		}
		/* Keep the record alive: the handlers may reload the list. */
		json_incref(rec);
		if (ch == 'r')
			history_resume(s, rec);
		else if (ch == 'd')
			history_teardown(s, rec);
		else
			history_details(rec);
		json_decref(rec);
		return TUI_HANDLED;
	}
	return TUI_UNHANDLED;
}

/* Back on top (from a job, or another history screen that ran one): the
 * states may have changed, so the records are read again. */
static void
history_tick(struct screen *s)
{
	struct history_screen *h = s->data;

	if (tui_top() != s) {
		h->covered = true;
		return;
	}
	if (h->covered) {
		h->covered = false;
		history_reload(h);
	}
}

static void
history_free(struct screen *s)
{
	struct history_screen *h = s->data;

	json_decref(h->list);
	free(h->error);
	free(h->mode);
	free(h);
}

static const struct screen_ops history_ops = {
	.name = "history",
	.keys = history_keys,
	.draw = history_draw,
	.key = history_key,
	.tick = history_tick,
	.free = history_free,
};

struct screen *
tui_history_push(const char *mode)
{
	struct history_screen *h = xcalloc(1, sizeof *h);

	h->mode = mode != NULL ? xstrdup(mode) : NULL;
	history_reload(h);
	return tui_push(&history_ops, h);
}
