/* A scrollable page of lines: help, the full log, a file, a folder listing
 * (selectable, with an open callback), a run set's details. Pages wrap
 * long lines at words (tui_wrap_rows); listings are one row per line. */
#include <stdlib.h>
#include <string.h>

#include "tui/tui-int.h"
#include "util/xmalloc.h"

#define TEXT_LISTING	0x1	/* tui_key.when: a selectable listing */
#define TEXT_PAGE	0x2	/* ... a page to read */
#define TEXT_ACTION	0x4	/* ... with an extra key (tui_text_action) */

struct textview {
	char		 *title;
	char		**lines;
	size_t		  n;
	char		**rows;		/* pages: lines wrapped to width */
	size_t		  nrows;
	int		  rows_width;	/* the width rows were made for */
	size_t		  top;		/* first row (page) or line shown */
	size_t		  sel;		/* selected line (open != NULL) */
	tui_text_open_cb  open;		/* Enter on a line, or NULL */
	void		 *arg;		/* for open and act */
	void		(*arg_free)(void *);
	int		  act_key;	/* the extra key, or 0 */
	void		(*act)(void *);	/* what it does */
	char		  act_label[2];	/* the extra key, as text */
	struct tui_key	  keys[10];	/* text_keys plus the extra key */
};

static const struct tui_key text_keys[] = {
	{ "Enter", "open the selected entry", "Enter open", TEXT_LISTING },
	{ "Esc", "back", "Esc back", 0 },
	{ "j/k, Up/Down", "scroll (or move the selection)", "j/k move",
	    TEXT_LISTING },
	{ "j/k, Up/Down", "scroll", "j/k scroll", TEXT_PAGE },
	{ "PgUp/PgDn, Space", "a page up or down", "PgUp/PgDn", TEXT_PAGE },
	{ "g/G, Home/End", "first or last line", NULL, 0 },
	{ "?", "this help", "? help", 0 },
	{ "q", "quit", "q quit", 0 },
	{ NULL, NULL, NULL, 0 }
};

static unsigned
text_applies(struct screen *s)
{
	struct textview *t = s->data;

	return (t->open != NULL ? TEXT_LISTING : TEXT_PAGE) |
	    (t->act != NULL ? TEXT_ACTION : 0);
}

static int
text_height(void)
{
	return LINES - 4;
}

/* Pages: the lines wrapped to the width (again after a resize). */
static void
text_rewrap(struct textview *t)
{
	int width = COLS > 3 ? COLS - 2 : 1;
	char **r;
	size_t i, j, n;

	if (t->open != NULL || (t->rows != NULL && t->rows_width == width))
		return;
	tui_rows_free(t->rows, t->nrows);
	t->rows = NULL;
	t->nrows = 0;
	for (i = 0; i < t->n; i++) {
		n = tui_wrap_rows(t->lines[i], width, tui_hang(t->lines[i]),
		    &r);
		t->rows = xreallocarray(t->rows, t->nrows + n + 1,
		    sizeof *t->rows);
		for (j = 0; j < n; j++)
			t->rows[t->nrows++] = r[j];
		free(r);
	}
	t->rows_width = width;
}

/* The last value top (pages) or sel (listings) may take. */
static size_t
text_max(struct textview *t)
{
	size_t h = text_height() > 0 ? (size_t)text_height() : 1;

	if (t->open != NULL)
		return t->n > 0 ? t->n - 1 : 0;
	return t->nrows > h ? t->nrows - h : 0;
}

static void
text_draw(struct screen *s)
{
	struct textview *t = s->data;
	size_t i;
	int y, rows = text_height();

	tui_draw_frame(s, t->title);
	if (t->open == NULL) {
		text_rewrap(t);
		if (t->top > text_max(t))
			t->top = text_max(t);
		for (i = t->top, y = 1; i < t->nrows && y <= rows; i++, y++)
			tui_put(y, 1, A_NORMAL, "%s", t->rows[i]);
	} else {
		if (t->sel < t->top)
			t->top = t->sel;
		if (rows > 0 && t->sel >= t->top + (size_t)rows)
			t->top = t->sel - (size_t)rows + 1;
		for (i = t->top, y = 1; i < t->n && y <= rows; i++, y++) {
			if (i == t->sel) {
				attron(tui_attr(TC_SELECT));
				mvhline(y, 0, ' ', COLS);
				attroff(tui_attr(TC_SELECT));
				tui_put(y, 1, tui_attr(TC_SELECT), "%s",
				    t->lines[i]);
			} else
				tui_put(y, 1, A_NORMAL, "%s", t->lines[i]);
		}
	}
	if (t->n == 0)
		tui_put(1, 1, tui_attr(TC_DIM), "(empty)");
}

static enum tui_rv
text_key(struct screen *s, int ch)
{
	struct textview *t = s->data;
	size_t page = text_height() > 1 ? (size_t)text_height() - 1 : 1;

	if (t->act != NULL && ch == t->act_key) {
		t->act(t->arg);
		return TUI_HANDLED;
	}
	if (tui_move_key(ch, t->open != NULL ? &t->sel : &t->top,
	    text_max(t), page))
		return TUI_HANDLED;
	switch (ch) {
	case '\r':
	case '\n':
	case KEY_ENTER:
		if (t->open != NULL && t->n > 0)
			t->open(t->arg, t->sel);
		return TUI_HANDLED;
	}
	return TUI_UNHANDLED;
}

static void
text_free(struct screen *s)
{
	struct textview *t = s->data;
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->lines[i]);
	free(t->lines);
	tui_rows_free(t->rows, t->nrows);
	free(t->title);
	if (t->arg_free != NULL)
		t->arg_free(t->arg);
	free(t);
}

static const struct screen_ops text_ops = {
	.name = "page",
	.keys = text_keys,
	.draw = text_draw,
	.key = text_key,
	.tick = NULL,
	.free = text_free,
	.applies = text_applies,
};

struct screen *
tui_text_push_lines(const char *title, char **lines, size_t n,
    tui_text_open_cb open, void *arg, void (*arg_free)(void *))
{
	struct textview *t = xcalloc(1, sizeof *t);
	size_t i;

	t->title = xstrdup(title);
	t->lines = xcalloc(n + 1, sizeof *t->lines);
	for (i = 0; i < n; i++) {
		/* Tabs and other control characters would upset the page. */
		t->lines[i] = xstrdup(lines[i]);
		for (char *c = t->lines[i]; *c != '\0'; c++) {
			if ((unsigned char)*c < ' ')
				*c = ' ';
		}
	}
	t->n = n;
	t->open = open;
	t->arg = arg;
	t->arg_free = arg_free;
	return tui_push(&text_ops, t);
}

void
tui_text_action(struct screen *s, int key, const char *what,
    const char *hint, void (*act)(void *))
{
	struct textview *t = s->data;
	size_t i;

	t->act_key = key;
	t->act = act;
	/* This page's own key table: the extra key first, then the rest. */
	t->act_label[0] = (char)key;
	t->keys[0] = (struct tui_key){ t->act_label, what, hint,
	    TEXT_ACTION };
	for (i = 0; text_keys[i].keys != NULL && i + 2 < sizeof t->keys /
	    sizeof t->keys[0]; i++)
		t->keys[i + 1] = text_keys[i];
	t->keys[i + 1] = (struct tui_key){ NULL, NULL, NULL, 0 };
	s->keys = t->keys;
}

struct screen *
tui_text_push(const char *title, const char *text)
{
	struct screen *s;
	char **lines = NULL, *copy = xstrdup(text), *p, *nl;
	size_t n = 0;

	for (p = copy; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		lines = xreallocarray(lines, n + 1, sizeof *lines);
		lines[n++] = p;
		if (nl == NULL)
			break;
		*nl = '\0';
	}
	s = tui_text_push_lines(title, lines, n, NULL, NULL, NULL);
	free(lines);
	free(copy);
	return s;
}

void
tui_help_push(struct screen *s)
{
	static const struct tui_key global[] = {
		{ "?, F1", "help for the screen shown", NULL, 0 },
		{ "Esc", "back", NULL, 0 },
		{ "q, Ctrl-C", "quit (in text fields: Ctrl-C)", NULL, 0 },
		{ "Ctrl-L", "redraw", NULL, 0 },
		{ NULL, NULL, NULL, 0 }
	};
	const struct tui_key *k;
	char *title, **lines = NULL;
	size_t n = 0, i;

	lines = xreallocarray(lines, n + 1, sizeof *lines);
	lines[n++] = xprintf("Keys of the %s", s->ops->name);
	for (k = s->keys; k != NULL && k->keys != NULL; k++) {
		if (!tui_key_applies(s, k))
			continue;
		lines = xreallocarray(lines, n + 1, sizeof *lines);
		lines[n++] = xprintf("  %-20s  %s", k->keys, k->what);
	}
	lines = xreallocarray(lines, n + 2, sizeof *lines);
	lines[n++] = xstrdup("");
	lines[n++] = xstrdup("Everywhere");
	for (k = global; k->keys != NULL; k++) {
		lines = xreallocarray(lines, n + 1, sizeof *lines);
		lines[n++] = xprintf("  %-20s  %s", k->keys, k->what);
	}
	title = xprintf("help: %s", s->ops->name);
	tui_text_push_lines(title, lines, n, NULL, NULL, NULL);
	free(title);
	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}
