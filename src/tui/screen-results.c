/* The results screen: the performance table, a Gantt chart drawn in the
 * terminal from <results>/records.jsonl (one row per worker), the results
 * path; 'o' lists the results folder. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "run/record.h"
#include "run/report.h"
#include "tui/tui-int.h"
#include "util/fs.h"
#include "util/xmalloc.h"

struct results {
	struct local_result	 lr;
	struct record_list	 recs;		/* records.jsonl */
	char			*recs_error;	/* why there is no chart */
	char			*table;		/* report_perf_text */
	size_t			 scroll;	/* first body line shown */
	int			 row;		/* drawing: next virtual row */
	bool			 from_dir;	/* a cloud run's folder: table
						 * from performance.txt */
	char			*fate;		/* a cloud run: what became of
						 * its machines */
};

static const struct tui_key results_keys[] = {
	{ "o", "list the results folder (Enter opens a file)",
	    "o open folder", 0 },
	{ "j/k, Up/Down", "scroll", "j/k scroll", 0 },
	{ "Esc", "back", "Esc back", 0 },
	{ "?", "this help", "? help", 0 },
	{ "q", "quit", "q quit", 0 },
	{ NULL, NULL, NULL, 0 }
};

/* The screen's next virtual row, or -1 when it is scrolled away. */
static int
results_row(struct results *r)
{
	int y = 1 + r->row++ - (int)r->scroll;

	return y >= 1 && y <= LINES - 4 ? y : -1;
}

/* Text over as many rows as it needs, wrapped at words. */
static void
results_wrap(struct results *r, attr_t a, const char *text)
{
	char **rows;
	size_t n, i;
	int y;

	n = tui_wrap_rows(text, COLS - 4 > 10 ? COLS - 4 : 10, 2, &rows);
	for (i = 0; i < n; i++) {
		if ((y = results_row(r)) >= 0)
			tui_put(y, 2, a, "%s", rows[i]);
	}
	tui_rows_free(rows, n);
}

/* One worker's row: its attempts as bars, failures in red. */
static void
results_gantt_row(struct results *r, int y, int x, int w, const char *host,
    int worker, double t0, double span)
{
	const struct record *rec;
	size_t i;
	int c0, c1, c, n = 0;
	chtype ch;
	attr_t a;

	for (i = 0; i < r->recs.n; i++) {
		rec = &r->recs.v[i];
		if (rec->worker != worker || strcmp(rec->host != NULL ?
		    rec->host : "", host) != 0)
			continue;
		c0 = (int)((rec->start - t0) / span * w);
		c1 = (int)((rec->end - t0) / span * w);
		if (c1 <= c0)
			c1 = c0 + 1;
		if (c1 > w)
			c1 = w;
		a = rec->status == REC_OK ? tui_attr(TC_OK) : tui_attr(TC_FAIL);
		ch = rec->status == REC_OK ? (n++ % 2 == 0 ? '#' : '=') : 'x';
		attron(a);
		for (c = c0; c < c1; c++)
			mvaddch(y, x + c, ch);
		attroff(a);
	}
}

static int
results_cmp_worker(const void *a, const void *b)
{
	const struct record *ra = *(const struct record *const *)a;
	const struct record *rb = *(const struct record *const *)b;
	int c = strcmp(ra->host != NULL ? ra->host : "",
	    rb->host != NULL ? rb->host : "");

	return c != 0 ? c : ra->worker - rb->worker;
}

static void
results_draw_gantt(struct results *r)
{
	const struct record **rows;
	double t0 = 0, t1 = 0, span;
	size_t i, n = 0;
	int y, x, w, lw = 0, len;
	char label[64];

	if ((y = results_row(r)) >= 0)
		tui_put(y, 2, A_BOLD, "Gantt: one row per worker, one bar per "
		    "task (# ok, x failed)");
	if (r->recs_error != NULL || r->recs.n == 0) {
		if ((y = results_row(r)) >= 0)
			tui_put(y, 2, tui_attr(TC_DIM), "%s", r->recs_error !=
			    NULL ? r->recs_error : "no task ran");
		return;
	}
	rows = xcalloc(r->recs.n, sizeof *rows);
	for (i = 0; i < r->recs.n; i++) {
		if (i == 0 || r->recs.v[i].start < t0)
			t0 = r->recs.v[i].start;
		if (i == 0 || r->recs.v[i].end > t1)
			t1 = r->recs.v[i].end;
		rows[i] = &r->recs.v[i];
	}
	qsort(rows, r->recs.n, sizeof *rows, results_cmp_worker);
	/* One row per distinct (host, worker). */
	for (i = 0; i < r->recs.n; i++) {
		if (n > 0 && results_cmp_worker(&rows[n - 1], &rows[i]) == 0)
			continue;
		rows[n++] = rows[i];
		len = snprintf(label, sizeof label, "%s w%d", rows[i]->host !=
		    NULL ? rows[i]->host : "?", rows[i]->worker);
		if (len > lw)
			lw = len;
	}
	if (lw > 20)
		lw = 20;
	span = t1 - t0 > 0 ? t1 - t0 : 1;
	x = 2 + lw + 2;
	w = COLS - x - 3;
	for (i = 0; i < n && w > 4; i++) {
		if ((y = results_row(r)) < 0)
			continue;
		snprintf(label, sizeof label, "%s w%d", rows[i]->host !=
		    NULL ? rows[i]->host : "?", rows[i]->worker);
		tui_put(y, 2, A_NORMAL, "%*.*s |", lw, lw, label);
		mvaddch(y, x + w, '|');
		results_gantt_row(r, y, x, w, rows[i]->host != NULL ?
		    rows[i]->host : "", rows[i]->worker, t0, span);
	}
	if ((y = results_row(r)) >= 0 && w > 4) {
		tui_put(y, x, tui_attr(TC_DIM), "0s");
		tui_put(y, x + w - 8, tui_attr(TC_DIM), "%8.1fs", span);
	}
	free(rows);
}

/* The performance table, in two columns when the terminal is wide enough
 * (80 columns are): "label   value" lines re-spaced to fit. */
static void
results_draw_table(struct results *r)
{
	char *copy, *line, *save = NULL, *gap, *val, **cells = NULL;
	size_t n = 0, i, rows;
	int y, cols = COLS >= 80 ? 2 : 1, x;

	copy = xstrdup(r->table);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		cells = xreallocarray(cells, n + 1, sizeof *cells);
		if ((gap = strstr(line, "  ")) != NULL) {
			for (val = gap; *val == ' '; val++)
				;
			cells[n++] = xprintf("%-21.*s %s", (int)(gap - line),
			    line, val);
		} else
			cells[n++] = xstrdup(line);
	}
	free(copy);
	rows = (n + (size_t)cols - 1) / (size_t)cols;
	for (i = 0; i < rows; i++) {
		if ((y = results_row(r)) < 0)
			continue;
		for (x = 0; x < cols; x++) {
			if (i + (size_t)x * rows < n)
				tui_put(y, 2 + x * 39, A_NORMAL, "%-38.38s",
				    cells[i + (size_t)x * rows]);
		}
	}
	for (i = 0; i < n; i++)
		free(cells[i]);
	free(cells);
}

static void
results_draw(struct screen *s)
{
	struct results *r = s->data;
	const struct perf *pf = &r->lr.perf;
	int y;

	tui_draw_frame(s, "results");
	r->row = 0;
	if (r->from_dir) {
		if ((y = results_row(r)) >= 0)
			tui_put(y, 2, A_BOLD, "%s: results", r->lr.project);
		if (r->fate != NULL)
			results_wrap(r, tui_attr(TC_WARN), r->fate);
	} else if ((y = results_row(r)) >= 0)
		tui_put(y, 2, A_BOLD | tui_attr(r->lr.cancelled || pf->errors >
		    0 ? TC_FAIL : TC_OK), "%s: %s, %zu of %zu task(s) ok",
		    r->lr.project, r->lr.cancelled ? "interrupted" :
		    (pf->errors > 0 ? "done with errors" : "done"), pf->ok,
		    pf->tasks);
	results_draw_table(r);
	results_row(r);
	results_draw_gantt(r);
	results_row(r);
	if ((y = results_row(r)) >= 0)
		tui_put(y, 2, A_BOLD, "Results: %s", r->lr.results_dir);
	if (r->lr.history_warning != NULL && (y = results_row(r)) >= 0)
		tui_put(y, 2, tui_attr(TC_WARN), "Not kept in history: %s",
		    r->lr.history_warning);
	if (r->row > LINES - 4 && LINES > 4)
		tui_put(LINES - 3, 2, tui_attr(TC_DIM), "(%d more lines: j/k "
		    "scroll)", r->row - (LINES - 4) - (int)r->scroll > 0 ?
		    r->row - (LINES - 4) - (int)r->scroll : 0);
}

/* A folder listing whose Enter opens files and sub-folders. */
struct listing {
	char	 *dir;
	char	**names;	/* entry names, by line */
	size_t	  n;
};

static void results_listing_push(const char *dir);

static void
results_listing_free(void *arg)
{
	struct listing *l = arg;
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	free(l->dir);
	free(l);
}

static void
results_listing_open(void *arg, size_t line)
{
	struct listing *l = arg;
	char *path, *text, *cause = NULL;
	size_t len;

	if (line >= l->n)
		return;
	path = fs_join(l->dir, l->names[line]);
	if (fs_is_dir(path))
		results_listing_push(path);
	else if ((text = fs_read_file(path, &len, &cause)) == NULL) {
		tui_message(true, "%s", cause);
		free(cause);
	} else {
		if (memchr(text, '\0', len) != NULL)
			tui_message(false, "%s is not text; open it with "
			    "another program", path);
		else
			tui_text_push(path, text);
		free(text);
	}
	free(path);
}

static int
results_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
results_listing_push(const char *dir)
{
	struct listing *l;
	struct dirent *de;
	struct stat st;
	char **lines, *p;
	size_t i;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		tui_message(true, "cannot list %s", dir);
		return;
	}
	l = xcalloc(1, sizeof *l);
	l->dir = xstrdup(dir);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		l->names = xreallocarray(l->names, l->n + 1,
		    sizeof *l->names);
		l->names[l->n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(l->names, l->n, sizeof *l->names, results_name_cmp);
	lines = xcalloc(l->n + 1, sizeof *lines);
	for (i = 0; i < l->n; i++) {
		p = fs_join(dir, l->names[i]);
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
			lines[i] = xprintf("%-40s %12s", l->names[i], "folder");
		else
			lines[i] = xprintf("%-40s %12lld", l->names[i],
			    stat(p, &st) == 0 ? (long long)st.st_size : -1LL);
		free(p);
	}
	tui_text_push_lines(dir, lines, l->n, results_listing_open, l,
	    results_listing_free);
	for (i = 0; i < l->n; i++)
		free(lines[i]);
	free(lines);
}

static enum tui_rv
results_key(struct screen *s, int ch)
{
	struct results *r = s->data;

	switch (ch) {
	case 'o':
		results_listing_push(r->lr.results_dir);
		return TUI_HANDLED;
	}
	if (tui_move_key(ch, &r->scroll, r->row > LINES - 4 ?
	    (size_t)(r->row - (LINES - 4)) : 0, LINES > 8 ?
	    (size_t)LINES - 8 : 1))
		return TUI_HANDLED;
	return TUI_UNHANDLED;
}

static void
results_free(struct screen *s)
{
	struct results *r = s->data;

	local_result_free(&r->lr);
	record_list_free(&r->recs);
	free(r->recs_error);
	free(r->table);
	free(r->fate);
	free(r);
}

static const struct screen_ops results_ops = {
	.name = "results",
	.keys = results_keys,
	.draw = results_draw,
	.key = results_key,
	.tick = NULL,
	.free = results_free,
};

void
tui_results_push(struct local_result *lr)
{
	struct results *r = xcalloc(1, sizeof *r);
	char *path;

	r->lr = *lr;
	memset(lr, 0, sizeof *lr);
	r->table = report_perf_text(&r->lr.perf);
	path = fs_join(r->lr.results_dir, "records.jsonl");
	if (record_list_read(path, &r->recs, &r->recs_error) != 0)
		record_list_free(&r->recs);
	free(path);
	tui_push(&results_ops, r);
}

void
tui_results_push_dir(const char *project, const char *dir, const char *fate)
{
	struct results *r = xcalloc(1, sizeof *r);
	char *path, *cause = NULL, *body;

	r->from_dir = true;
	r->fate = fate != NULL ? xstrdup(fate) : NULL;
	r->lr.project = xstrdup(project);
	r->lr.results_dir = xstrdup(dir);
	path = fs_join(dir, "performance.txt");
	if ((r->table = fs_read_file(path, NULL, &cause)) == NULL)
		r->table = cause;
	else if (strncmp(r->table, "fanout performance:", 19) == 0 &&
	    (body = strstr(r->table, "\n\n")) != NULL) {
		/* The table alone, without the file's title lines. */
		body = xstrdup(body + 2);
		free(r->table);
		r->table = body;
	}
	free(path);
	path = fs_join(dir, "records.jsonl");
	if (record_list_read(path, &r->recs, &r->recs_error) != 0)
		record_list_free(&r->recs);
	free(path);
	tui_push(&results_ops, r);
}
