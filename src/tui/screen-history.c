/* The history screen: one line per run set (id, project, provider/region
 * or provider/zone, state, age, cost so far) from the history dir. Enter shows every
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

/* tui_key.when: what the chosen record (and the build) allows. */
#define HK_CHOSEN	0x01	/* a run set is chosen */
#define HK_RESUME	0x02	/* a cloud run set that can run again */
#define HK_RERUN	0x04	/* a local run whose folder is still there */
#define HK_TEARDOWN	0x08	/* a cloud run set not torn down yet */
#define HK_ORPHANS	0x10	/* the orphan sweep is in this build */

static const struct tui_key history_keys[] = {
	{ "Enter", "details: every resource and run", "Enter details",
	    HK_CHOSEN },
	{ "r", "resume: start the bastion and run the project on it again "
	    "(asks)", "r resume", HK_RESUME },
	{ "r", "run the project again on this machine (asks)", "r run again",
	    HK_RERUN },
	{ "d", "tear every resource of the run set down (asks)",
	    "d tear down", HK_TEARDOWN },
	{ "o", "orphan sweep: lists tagged resources no record knows, then "
	    "asks", "o orphans", HK_ORPHANS },
	{ "Up/Down, j/k", "move", NULL, 0 },
	{ "F5, Ctrl-R", "reload", NULL, 0 },
	{ "Esc", "back", "Esc back", 0 },
	{ "?", "this help", "? help", 0 },
	{ "q", "quit", NULL, 0 },
	{ NULL, NULL, NULL, 0 }
};

static bool
history_is_local(json_t *rec)
{
	return strcmp(history_str(rec, "kind", ""), "local") == 0;
}

static bool
history_state_is(json_t *rec, const char *state)
{
	return strcmp(history_str(rec, "state", ""), state) == 0;
}

/* What the keys may do with rec (HK_* bits), in this build. */
static unsigned
history_allows(json_t *rec)
{
	const char *dir = history_str(rec, "project_dir", NULL);
	unsigned a = 0;

	if (flow_ops.orphans != NULL && flow_ops.cleanup_orphans != NULL)
		a |= HK_ORPHANS;
	if (rec == NULL)
		return a;
	a |= HK_CHOSEN;
	if (history_is_local(rec)) {
		if (dir != NULL && fs_is_dir(dir))
			a |= HK_RERUN;
		return a;
	}
	/* A run on a host of one's own has nothing in the cloud. */
	if (strcmp(history_str(rec, "kind", ""), "cloud") != 0)
		return a;
	if (flow_ops.resume != NULL && (history_state_is(rec, "active") ||
	    history_state_is(rec, "stopped")))
		a |= HK_RESUME;
	if (flow_ops.cleanup != NULL && !history_state_is(rec, "deleted"))
		a |= HK_TEARDOWN;
	return a;
}

static unsigned
history_applies(struct screen *s)
{
	struct history_screen *h = s->data;

	return history_allows(json_array_get(h->list, h->sel));
}

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
	const char *ts = json_string_value(json_object_get(o, key));
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

	tui_draw_frame(s, h->mode == NULL ? "history" : (strcmp(h->mode,
	    "resume") == 0 ? "resume from history" : "clean up resources"));
	if (h->mode != NULL)
		tui_put(1, 2, tui_attr(TC_DIM), "%s", strcmp(h->mode,
		    "resume") == 0 ? "Choose a run set and press r." :
		    "Choose a run set and press d, or o for orphans.");
	tui_put(2, 2, A_BOLD, "%-16s %-14s %-18s %-8s %6s %8s", "id",
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
		/* A zone (GCP) names its region: shown instead. */
		region = history_str(rec, "zone", history_str(rec, "region",
		    history_str(answers, "region", NULL)));
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
		tui_put(y, 2, a, "%-16.16s %-14.14s %-18.18s %-8.8s %6s %8s",
		    history_str(rec, "id", "?"), history_str(rec, "project", "?"),
		    where, history_str(rec, "state", "?"), age, cost);
	}
	if (h->broken > 0)
		tui_put(LINES - 3, 2, tui_attr(TC_WARN), "%zu record(s) in the "
		    "history dir could not be read", h->broken);
}

/* w, or the length of s where that is more (a column's width). */
static int
history_max(int w, const char *s)
{
	size_t n = strlen(s);

	return n > (size_t)w && n < 200 ? (int)n : w;
}

static void
history_details(json_t *rec)
{
	struct strbuf sb;
	json_t *res, *r, *runs, *a;
	const char *k, *region = history_str(rec, "region", NULL);
	json_t *v;
	char *text;
	size_t i;
	int w, kw, nw, iw, rw;

	strbuf_init(&sb);
	strbuf_addf(&sb, "Run set   %s\nKind      %s\nProject   %s\n"
	    "Created   %s\nState     %s\n", history_str(rec, "id", "?"),
	    history_str(rec, "kind", "?"), history_str(rec, "project", "?"),
	    history_str(rec, "created_at", "?"), history_str(rec, "state", "?"));
	if (region != NULL)
		strbuf_addf(&sb, "Where     %s/%s%s%s%s\n", history_str(rec,
		    "provider", "?"), region, history_str(rec, "zone", NULL) !=
		    NULL ? " (zone " : "", history_str(rec, "zone", ""),
		    history_str(rec, "zone", NULL) != NULL ? ")" : "");
	if (history_str(rec, "project_dir", NULL) != NULL)
		strbuf_addf(&sb, "Folder    %s\n", history_str(rec, "project_dir",
		    ""));
	if ((a = json_object_get(rec, "answers")) != NULL) {
		strbuf_adds(&sb, "\nAnswers\n");
		w = 16;
		json_object_foreach(a, k, v)
			w = history_max(w, k);
		json_object_foreach(a, k, v) {
			/* Questions left empty (null: not asked) and what
			 * the create worked out (the machine: an object)
			 * are not answers to show. */
			if (json_is_null(v) || json_is_object(v))
				continue;
			text = question_text(NULL, v);
			strbuf_addf(&sb, "  %-*s  %s\n", w, k, text);
			free(text);
		}
	}
	res = json_object_get(rec, "resources");
	strbuf_addf(&sb, "\nResources (%zu)\n", json_array_size(res));
	/* Columns as wide as their widest entry (a cluster's
	 * launch_template, its compute group's name); a cluster's role
	 * column (head, compute), which a bastion's run set does without. */
	kw = 14, nw = 23, iw = 21, rw = 0;
	json_array_foreach(res, i, r) {
		kw = history_max(kw, history_str(r, "kind", "?"));
		nw = history_max(nw, history_str(r, "name", "-"));
		iw = history_max(iw, history_str(r, "id", "-"));
		if (strcmp(history_str(r, "role", ""), "compute") == 0)
			rw = 7;
	}
	json_array_foreach(res, i, r)
		if (rw > 0)
			rw = history_max(rw, history_str(r, "role", "-"));
	if (json_array_size(res) > 0)
		strbuf_addf(&sb, "  %-*s  %-*s  %-*s%s%-*s  %s\n", kw, "kind",
		    nw, "name", rw, rw > 0 ? "role" : "", rw > 0 ? "  " : "",
		    iw, "id", "state");
	json_array_foreach(res, i, r) {
		/* The region only where it is not the run set's. */
		strbuf_addf(&sb, "  %-*s  %-*s  %-*s%s%-*s  %s%s%s\n",
		    kw, history_str(r, "kind", "?"), nw, history_str(r, "name",
		    "-"), rw, rw > 0 ? history_str(r, "role", "-") : "",
		    rw > 0 ? "  " : "", iw, history_str(r, "id", "-"),
		    history_str(r, "state", "?"),
		    region == NULL || strcmp(history_str(r, "region", region),
		    region) != 0 ? ", in " : "", region == NULL ||
		    strcmp(history_str(r, "region", region), region) != 0 ?
		    history_str(r, "region", "-") : "");
	}
	runs = json_object_get(rec, "runs");
	strbuf_addf(&sb, "\nRuns (%zu)\n", json_array_size(runs));
	json_array_foreach(runs, i, r) {
		strbuf_addf(&sb, "  %s  %s  %lld task(s), %lld ok, %lld "
		    "error(s)\n    results: %s\n", history_str(r, "started", "?"),
		    history_str(r, "engine", "?"), (long long)json_integer_value(
		    json_object_get(r, "tasks")), (long long)json_integer_value(
		    json_object_get(r, "ok")), (long long)json_integer_value(
		    json_object_get(r, "errors")), history_str(r, "results", "-"));
	}
	text = xprintf("run set %s", history_str(rec, "id", "?"));
	tui_text_push(text, sb.buf);
	free(text);
	strbuf_free(&sb);
}

/* Why r cannot apply to rec (its key is not offered). */
static void
history_no_resume(json_t *rec)
{
	const char *id = history_str(rec, "id", "?");
	const char *dir = history_str(rec, "project_dir", NULL);

	if (history_is_local(rec))
		tui_message(true, "the project folder of this run is gone (%s)",
		    dir != NULL ? dir : "not recorded");
	else if (strcmp(history_str(rec, "kind", ""), "cloud") != 0)
		tui_message(false, "%s ran on a host of your own: run it again "
		    "with fanout run --host", id);
	else if (flow_ops.resume == NULL)
		tui_message(true, "resume is not available in this build (no "
		    "cloud provider is built in)");
	else if (history_state_is(rec, "deleted"))
		tui_message(false, "%s was torn down: nothing to run again on; "
		    "create a new run set", id);
	else
		tui_message(false, "%s is %s: it cannot run again; d tears "
		    "down what it has", id, history_str(rec, "state", "?"));
}

static void
history_resume(struct screen *s, json_t *rec)
{
	struct tui_job *job;
	json_t *answers;
	const char *dir = history_str(rec, "project_dir", NULL);
	unsigned allows = history_allows(rec);

	if ((allows & (HK_RESUME | HK_RERUN)) == 0) {
		history_no_resume(rec);
		return;
	}
	if (allows & HK_RERUN) {
		if (!tui_confirm("Run %s again on this machine", history_str(rec,
		    "project", "the project")))
			return;
		answers = json_pack("{s:s, s:i, s:i}", "project", dir,
		    "files", 0, "workers", 0);
		job = tui_job_start(JOB_LOCAL, answers, NULL, NULL);
		json_decref(answers);
		tui_progress_push(s, job, "Run on this machine (again)");
		return;
	}
	if (!tui_confirm("Run again on %s", history_str(rec, "id", "?")))
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
	if (strcmp(history_str(rec, "kind", ""), "cloud") != 0) {
		tui_message(false, "%s ran on a host of your own: it made no "
		    "cloud resources", id);
		return;
	}
	if (flow_ops.cleanup == NULL) {
		tui_message(true, "tear down is not available in this build "
		    "(no cloud provider is built in)");
		return;
	}
	if (history_state_is(rec, "deleted")) {
		tui_message(false, "%s was torn down already: nothing of it is "
		    "left", id);
		return;
	}
	if (!tui_confirm("Tear down every resource of %s", id))
		return;
	job = tui_job_start(JOB_CLEANUP, NULL, id, NULL);
	tui_progress_push(s, job, "Clean up resources");
}

/* The orphans found, on a page over the history screen. */
struct orphan_page {
	json_t		*orphans;
	struct screen	*history;	/* below the page */
};

static void
history_orphans_free(void *arg)
{
	struct orphan_page *op = arg;

	json_decref(op->orphans);
	free(op);
}

/* d on the page, or y right after the list: asks, then deletes them. */
static void
history_orphans_delete(void *arg)
{
	struct orphan_page *op = arg;
	struct screen *history = op->history;
	struct tui_job *job;

	if (!tui_confirm("Delete these %zu resource(s)",
	    json_array_size(op->orphans)))
		return;
	job = tui_job_start(JOB_ORPHANS, NULL, NULL, op->orphans);
	/* Pops the page (and frees op). */
	tui_progress_push(history, job, "Orphan sweep");
}

static void
history_orphans_found(struct tui_job *job, struct screen *owner)
{
	struct orphan_page *op;
	struct screen *page;
	json_t *o;
	char **lines;
	size_t i, n;

	if (job->rv != 0 || job->result == NULL) {
		tui_message(true, "orphan sweep: %s", job->cause != NULL ?
		    job->cause : "no answer");
		return;
	}
	if ((n = json_array_size(job->result)) == 0) {
		tui_message(false, "no orphans: every tagged resource belongs "
		    "to a run set in history");
		return;
	}
	tui_pop_above(owner);
	lines = xcalloc(n + 2, sizeof *lines);
	lines[0] = xprintf("%zu tagged resource(s) that no record in history "
	    "knows:", n);
	lines[1] = xprintf("  %-14s  %-21s  %-18s  %s", "kind", "id",
	    "where", "run set");
	json_array_foreach(job->result, i, o) {
		lines[i + 2] = xprintf("  %-14s  %-21s  %s/%-14s  %s",
		    history_str(o, "kind", "?"), history_str(o, "id", "?"),
		    history_str(o, "provider", "aws"), history_str(o, "zone",
		    history_str(o, "region", "-")), history_str(o, "run_set",
		    "-"));
	}
	op = xcalloc(1, sizeof *op);
	op->orphans = json_incref(job->result);
	op->history = owner;
	page = tui_text_push_lines("orphans", lines, n + 2, NULL, op,
	    history_orphans_free);
	tui_text_action(page, 'd', "delete them all (asks)",
	    "d delete them", history_orphans_delete);
	for (i = 0; i < n + 2; i++)
		free(lines[i]);
	free(lines);
	/* Listed first, then asked; n keeps the list on the page. */
	history_orphans_delete(op);
}

static void
history_orphans(struct screen *s)
{
	struct tui_job *job;

	if (flow_ops.orphans == NULL || flow_ops.cleanup_orphans == NULL) {
		tui_message(true, "the orphan sweep is not available in this "
		    "build (no cloud provider is built in)");
		return;
	}
	job = tui_job_start(JOB_FIND_ORPHANS, NULL, NULL, NULL);
	tui_wait_push(s, job, "looking for orphans", history_orphans_found);
}

static enum tui_rv
history_key(struct screen *s, int ch)
{
	struct history_screen *h = s->data;
	size_t n = json_array_size(h->list);
	json_t *rec = json_array_get(h->list, h->sel);

	if (n > 0 && tui_move_key(ch, &h->sel, n - 1, LINES > 8 ?
	    (size_t)LINES - 8 : 1))
		return TUI_HANDLED;
	switch (ch) {
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
	.applies = history_applies,
};

struct screen *
tui_history_find(struct screen *s)
{
	return tui_find(s, &history_ops);
}

struct screen *
tui_history_push(const char *mode)
{
	struct history_screen *h = xcalloc(1, sizeof *h);

	h->mode = mode != NULL ? xstrdup(mode) : NULL;
	history_reload(h);
	return tui_push(&history_ops, h);
}
