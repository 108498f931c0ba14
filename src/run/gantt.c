/* runtime.png with cairo: a row per (host, worker), a bar per attempt. */
#include <cairo.h>
#include <ctype.h>
#include <fontconfig/fontconfig.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/gantt.h"
#include "util/xmalloc.h"

#define G_WIDTH		1200
#define G_LEFT		150	/* room for row labels (at least) */
#define G_RIGHT		30
#define G_TOP		56
#define G_BOTTOM	86	/* axis labels and legend */

struct grow {
	const char	*host;
	int		 worker;
};

struct gcolour {
	const char	*label;
	double		 r, g, b;
};

/* By record status; ok first. Colour-blind safe (Okabe-Ito). */
static const struct gcolour gantt_colours[] = {
	[REC_OK] = { "ok", 0.00, 0.45, 0.70 },
	[REC_FAILED] = { "failed", 0.84, 0.37, 0.00 },
	[REC_TIMEOUT] = { "timed out", 0.80, 0.47, 0.65 },
	[REC_BADJSON] = { "bad JSON", 0.90, 0.62, 0.00 },
	[REC_CANCELLED] = { "cancelled", 0.60, 0.60, 0.60 },
};

int
gantt_host_cmp(const char *a, const char *b)
{
	size_t na, nb;

	while (*a != '\0' && *b != '\0') {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			while (*a == '0' && isdigit((unsigned char)a[1]))
				a++;
			while (*b == '0' && isdigit((unsigned char)b[1]))
				b++;
			na = strspn(a, "0123456789");
			nb = strspn(b, "0123456789");
			if (na != nb)
				return na < nb ? -1 : 1;
			if (strncmp(a, b, na) != 0)
				return strncmp(a, b, na);
			a += na;
			b += nb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		a++;
		b++;
	}
	if (*a != *b)
		return (unsigned char)*a - (unsigned char)*b;
	return 0;
}

static int
gantt_row_cmp(const void *a, const void *b)
{
	const struct grow *x = a, *y = b;
	int c = gantt_host_cmp(x->host, y->host);

	if (c == 0)
		c = strcmp(x->host, y->host);	/* node01 and node1 */
	return c != 0 ? c : (x->worker > y->worker) - (x->worker < y->worker);
}

static int
gantt_row_of(const struct grow *rows, size_t n, const struct record *r)
{
	struct grow key = { r->host != NULL ? r->host : "", r->worker };
	const struct grow *f;

	f = bsearch(&key, rows, n, sizeof *rows, gantt_row_cmp);
	return f != NULL ? (int)(f - rows) : 0;
}

/* A step of 1, 2 or 5 times a power of ten giving about target ticks. */
static double
gantt_tick_step(double span, int target)
{
	double raw = span / target, mag = pow(10, floor(log10(raw))), f;

	f = raw / mag;
	if (f <= 1)
		return mag;
	if (f <= 2)
		return 2 * mag;
	if (f <= 5)
		return 5 * mag;
	return 10 * mag;
}

static void
gantt_time_label(char *buf, size_t len, double t, double step)
{
	if (step >= 60 && fmod(t, 60) == 0)
		snprintf(buf, len, "%dm", (int)(t / 60));
	else if (step >= 1)
		snprintf(buf, len, "%gs", t);
	else
		snprintf(buf, len, "%.*fs", step >= 0.1 ? 1 : 2, t);
}

static void
gantt_text(cairo_t *cr, double x, double y, const char *s, double align)
{
	cairo_text_extents_t te;

	cairo_text_extents(cr, s, &te);
	cairo_move_to(cr, x - te.x_advance * align, y);
	cairo_show_text(cr, s);
}

/* What the two passes over the records share. */
struct gantt {
	struct grow	*rows;		/* distinct (host, worker), hosts owned */
	size_t		 nrows, cap;
	double		 t0, t1;
	int		 used[5];	/* statuses seen */
	/* Drawing (second pass). */
	cairo_t		*cr;
	double		 left;		/* x of the plot: room for labels */
	double		 span, rowh, plotw;
};

static int
gantt_scan(void *arg, const struct record *r, long long pos)
{
	struct gantt *g = arg;
	struct grow key = { r->host != NULL ? r->host : "", r->worker };
	size_t j;

	(void)pos;
	for (j = 0; j < g->nrows; j++) {
		if (gantt_row_cmp(&g->rows[j], &key) == 0)
			break;
	}
	if (j == g->nrows) {
		if (g->nrows == g->cap) {
			g->cap = g->cap * 2 + 16;
			g->rows = xreallocarray(g->rows, g->cap,
			    sizeof *g->rows);
		}
		g->rows[g->nrows].host = xstrdup(key.host);
		g->rows[g->nrows++].worker = key.worker;
	}
	if (r->start < g->t0)
		g->t0 = r->start;
	if (r->end > g->t1)
		g->t1 = r->end;
	g->used[r->status < 5 ? r->status : 0] = 1;
	return 0;
}

static int
gantt_bar(void *arg, const struct record *r, long long pos)
{
	struct gantt *g = arg;
	cairo_t *cr = g->cr;
	const struct gcolour *c = &gantt_colours[r->status < 5 ?
	    r->status : 0];
	double rowh = g->rowh, plotw = g->plotw;
	double x0 = g->left + plotw * (r->start - g->t0) / g->span;
	double w = plotw * (r->end - r->start) / g->span;
	double y = G_TOP + rowh * gantt_row_of(g->rows, g->nrows, r);
	double pad = rowh >= 14 ? 4 : 1;
	char label[64];

	(void)pos;
	if (w < 1)
		w = 1;
	cairo_set_source_rgb(cr, c->r, c->g, c->b);
	cairo_rectangle(cr, x0, y + pad, w, rowh - 2 * pad);
	cairo_fill_preserve(cr);
	if (w > 3) {
		cairo_set_source_rgb(cr, 1, 1, 1);
		cairo_set_line_width(cr, 0.8);
		cairo_stroke(cr);
	} else
		cairo_new_path(cr);
	/* The task number inside the bar when it fits. */
	if (rowh >= 14) {
		cairo_text_extents_t te;

		snprintf(label, sizeof label, "%d", r->task);
		cairo_set_font_size(cr, 10);
		cairo_text_extents(cr, label, &te);
		if (te.x_advance + 6 < w) {
			cairo_set_source_rgb(cr, 1, 1, 1);
			gantt_text(cr, x0 + w / 2, y + rowh / 2 + 3.5,
			    label, 0.5);
		}
	}
	return 0;
}

static void
gantt_rows_free(struct gantt *g)
{
	size_t i;

	for (i = 0; i < g->nrows; i++)
		free((char *)g->rows[i].host);
	free(g->rows);
	g->rows = NULL;
	g->nrows = 0;
}

/* The first pass: the rows (sorted; one when there is no record), the
 * time range, the statuses seen, and whether several hosts ran tasks. */
static int
gantt_rows(const struct record_source *src, struct gantt *g, int *multihost,
    char **cause)
{
	size_t i;

	memset(g, 0, sizeof *g);
	g->t0 = DBL_MAX;
	*multihost = 0;
	if (record_each(src, gantt_scan, g, cause) != 0) {
		gantt_rows_free(g);
		return -1;
	}
	if (g->nrows == 0) {
		g->rows = xcalloc(1, sizeof *g->rows);
		g->rows[0].host = xstrdup("");
		g->rows[0].worker = 1;
		g->t0 = 0;
		g->t1 = 1;
		g->nrows = 1;
	}
	qsort(g->rows, g->nrows, sizeof *g->rows, gantt_row_cmp);
	for (i = 1; i < g->nrows; i++) {
		if (strcmp(g->rows[i].host, g->rows[0].host) != 0)
			*multihost = 1;
	}
	return 0;
}

static void
gantt_label(const struct grow *row, int multihost, char *buf, size_t len)
{
	if (multihost)
		snprintf(buf, len, "%.24s/w%d", row->host, row->worker);
	else
		snprintf(buf, len, "worker %d", row->worker);
}

char **
gantt_row_labels(const struct record_source *src, size_t *n, char **cause)
{
	struct gantt g;
	char **labels, buf[64];
	int multihost;
	size_t i;

	if (gantt_rows(src, &g, &multihost, cause) != 0)
		return NULL;
	labels = xcalloc(g.nrows + 1, sizeof *labels);
	for (i = 0; i < g.nrows; i++) {
		gantt_label(&g.rows[i], multihost, buf, sizeof buf);
		labels[i] = xstrdup(buf);
	}
	*n = g.nrows;
	gantt_rows_free(&g);
	return labels;
}

int
gantt_write_png(const char *path, const struct record_source *src,
    const char *title, char **cause)
{
	cairo_surface_t *surf;
	cairo_t *cr;
	cairo_status_t st;
	struct gantt g;
	struct grow *rows;
	size_t nrows, i;
	double t0, t1, span, rowh, plotw, ploth, step, t, x, left;
	int height, multihost, *used = g.used;
	char label[64];

	if (gantt_rows(src, &g, &multihost, cause) != 0)
		return -1;
	nrows = g.nrows;
	rows = g.rows;
	t0 = g.t0;
	t1 = g.t1;
	span = t1 - t0 > 0.001 ? t1 - t0 : 0.001;
	rowh = nrows <= 16 ? 28 : (nrows <= 64 ? 14 : 6);
	ploth = rowh * (double)nrows;
	height = (int)(G_TOP + ploth + G_BOTTOM);
	/* Room for the longest label ("ip-10-0-1-23/w2"), 7 pixels a
	 * character at most, between G_LEFT and a third of the width. */
	left = G_LEFT;
	for (i = 0; i < nrows; i++) {
		gantt_label(&rows[i], multihost, label, sizeof label);
		if (16 + 7.0 * (double)strlen(label) > left)
			left = 16 + 7.0 * (double)strlen(label);
	}
	if (left > G_WIDTH / 3)
		left = G_WIDTH / 3;
	plotw = G_WIDTH - left - G_RIGHT;

	surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, G_WIDTH, height);
	cr = cairo_create(surf);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
	    CAIRO_FONT_WEIGHT_BOLD);
	cairo_set_font_size(cr, 16);
	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	gantt_text(cr, left, 30, title != NULL ? title : "fanout run", 0);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
	    CAIRO_FONT_WEIGHT_NORMAL);

	/* Zebra rows and their labels. */
	cairo_set_font_size(cr, rowh >= 14 ? 12 : 8);
	for (i = 0; i < nrows; i++) {
		double y = G_TOP + rowh * (double)i;

		if (i % 2 == 0) {
			cairo_set_source_rgb(cr, 0.96, 0.96, 0.97);
			cairo_rectangle(cr, left, y, plotw, rowh);
			cairo_fill(cr);
		}
		if (rowh < 14 && i % 4 != 0)
			continue;
		gantt_label(&rows[i], multihost, label, sizeof label);
		cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
		gantt_text(cr, left - 8, y + rowh / 2 + 4, label, 1);
	}

	/* Grid lines and the time axis. */
	step = gantt_tick_step(span, 10);
	cairo_set_font_size(cr, 11);
	for (t = 0; t <= span + step * 1e-9; t += step) {
		x = left + plotw * t / span;
		cairo_set_source_rgb(cr, 0.85, 0.85, 0.87);
		cairo_set_line_width(cr, 1);
		cairo_move_to(cr, floor(x) + 0.5, G_TOP);
		cairo_line_to(cr, floor(x) + 0.5, G_TOP + ploth + 4);
		cairo_stroke(cr);
		gantt_time_label(label, sizeof label, t, step);
		cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
		gantt_text(cr, x, G_TOP + ploth + 18, label, 0.5);
	}
	gantt_text(cr, left + plotw / 2, G_TOP + ploth + 38,
	    "time since the first task started", 0.5);

	/* The bars. */
	g.cr = cr;
	g.left = left;
	g.span = span;
	g.rowh = rowh;
	g.plotw = plotw;
	if (record_each(src, gantt_bar, &g, cause) != 0) {
		cairo_destroy(cr);
		cairo_surface_destroy(surf);
		for (i = 0; i < nrows; i++)
			free((char *)rows[i].host);
		free(rows);
		return -1;
	}

	/* Frame and legend. */
	cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
	cairo_set_line_width(cr, 1);
	cairo_rectangle(cr, left + 0.5, G_TOP + 0.5, plotw - 1, ploth);
	cairo_stroke(cr);
	x = left;
	cairo_set_font_size(cr, 12);
	for (i = 0; i < 5; i++) {
		cairo_text_extents_t te;

		if (i != REC_OK && !used[i])
			continue;
		cairo_set_source_rgb(cr, gantt_colours[i].r,
		    gantt_colours[i].g, gantt_colours[i].b);
		cairo_rectangle(cr, x, G_TOP + ploth + 56, 14, 14);
		cairo_fill(cr);
		cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
		cairo_move_to(cr, x + 20, G_TOP + ploth + 68);
		cairo_show_text(cr, gantt_colours[i].label);
		cairo_text_extents(cr, gantt_colours[i].label, &te);
		x += 20 + te.x_advance + 24;
	}

	cairo_destroy(cr);
	st = cairo_surface_write_to_png(surf, path);
	cairo_surface_destroy(surf);
	for (i = 0; i < nrows; i++)
		free((char *)rows[i].host);
	free(rows);
	if (st != CAIRO_STATUS_SUCCESS) {
		xasprintf(cause, "cannot write %s: %s", path,
		    cairo_status_to_string(st));
		return -1;
	}
	return 0;
}

void
gantt_release(void)
{
	cairo_debug_reset_static_data();
	FcFini();
}
