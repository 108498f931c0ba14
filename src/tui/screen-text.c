/* A scrollable page of lines: help, the full log, a file, a folder listing
 * (selectable, with an open callback), a run set's details. */
#include <stdlib.h>
#include <string.h>

#include "tui/tui-int.h"
#include "util/xmalloc.h"

struct textview {
	char		 *title;
	char		**lines;
	size_t		  n;
	size_t		  top;		/* first line shown */
	size_t		  sel;		/* selected line (open != NULL) */
	tui_text_open_cb  open;		/* Enter on a line, or NULL */
	void		 *arg;		/* for open */
	void		(*arg_free)(void *);
};

static const struct tui_key text_keys[] = {
	{ "j/k, Up/Down", "scroll (or move the selection)" },
	{ "PgUp/PgDn, Space", "a page up or down" },
	{ "g/G, Home/End", "first or last line" },
	{ "Enter", "open the selected entry (listings)" },
	{ "Esc", "back" },
	{ "?", "this help" },
	{ "q", "quit" },
	{ NULL, NULL }
};

static int
text_rows(void)
{
	return LINES - 4;
}

static void
text_draw(struct screen *s)
{
	struct textview *t = s->data;
	size_t i, len, chunk, width = COLS > 3 ? (size_t)COLS - 2 : 1;
	const char *p;
	int y, rows = text_rows();

	tui_draw_frame(t->title, t->open != NULL ? "Enter open  Esc back  "
	    "j/k move  ? help  q quit" : "Esc back  j/k scroll  PgUp/PgDn "
	    " ? help  q quit");
	if (t->open != NULL) {
		if (t->sel < t->top)
			t->top = t->sel;
		if (rows > 0 && t->sel >= t->top + (size_t)rows)
			t->top = t->sel - (size_t)rows + 1;
	}
	for (i = t->top, y = 1; i < t->n && y <= rows; i++, y++) {
		if (t->open != NULL && i == t->sel) {
			attron(tui_attr(TC_SELECT));
			mvhline(y, 0, ' ', COLS);
			attroff(tui_attr(TC_SELECT));
			tui_put(y, 1, tui_attr(TC_SELECT), "%s", t->lines[i]);
		} else if (t->open != NULL)
			tui_put(y, 1, A_NORMAL, "%s", t->lines[i]);
		else {
			/* Pages wrap long lines (logs, files). */
			p = t->lines[i];
			len = strlen(p);
			do {
				chunk = len > width ? width : len;
				tui_put(y, 1, A_NORMAL, "%.*s", (int)chunk, p);
				p += chunk;
				len -= chunk;
			} while (len > 0 && ++y <= rows);
		}
	}
	if (t->n == 0)
		tui_put(1, 1, tui_attr(TC_DIM), "(empty)");
}

static void
text_move(struct textview *t, long delta)
{
	size_t *v = t->open != NULL ? &t->sel : &t->top;
	size_t max = t->n > 0 ? t->n - 1 : 0;

	if (t->open == NULL && t->n > (size_t)text_rows())
		max = t->n - (size_t)text_rows();
	else if (t->open == NULL)
		max = 0;
	if (delta < 0 && (size_t)-delta > *v)
		*v = 0;
	else if (delta < 0)
		*v -= (size_t)-delta;
	else
		*v = *v + (size_t)delta > max ? max : *v + (size_t)delta;
}

static enum tui_rv
text_key(struct screen *s, int ch)
{
	struct textview *t = s->data;
	long page = text_rows() > 1 ? text_rows() - 1 : 1;

	switch (ch) {
	case 'j':
	case KEY_DOWN:
		text_move(t, 1);
		return TUI_HANDLED;
	case 'k':
	case KEY_UP:
		text_move(t, -1);
		return TUI_HANDLED;
	case ' ':
	case KEY_NPAGE:
		text_move(t, page);
		return TUI_HANDLED;
	case KEY_PPAGE:
		text_move(t, -page);
		return TUI_HANDLED;
	case 'g':
	case KEY_HOME:
		text_move(t, -(long)t->n);
		return TUI_HANDLED;
	case 'G':
	case KEY_END:
		text_move(t, (long)t->n);
		return TUI_HANDLED;
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
tui_help_push(const struct screen *s)
{
	static const struct tui_key global[] = {
		{ "?, F1", "help for the screen shown" },
		{ "Esc", "back" },
		{ "q, Ctrl-C", "quit (in text fields: Ctrl-C)" },
		{ "Ctrl-L", "redraw" },
		{ NULL, NULL }
	};
	const struct tui_key *k;
	char *title, **lines = NULL;
	size_t n = 0, i;

	lines = xreallocarray(lines, n + 1, sizeof *lines);
	lines[n++] = xprintf("Keys of the %s", s->ops->name);
	for (k = s->ops->keys; k != NULL && k->keys != NULL; k++) {
		lines = xreallocarray(lines, n + 1, sizeof *lines);
		lines[n++] = xprintf("  %-20s %s", k->keys, k->what);
	}
	lines = xreallocarray(lines, n + 2, sizeof *lines);
	lines[n++] = xstrdup("");
	lines[n++] = xstrdup("Everywhere");
	for (k = global; k->keys != NULL; k++) {
		lines = xreallocarray(lines, n + 1, sizeof *lines);
		lines[n++] = xprintf("  %-20s %s", k->keys, k->what);
	}
	title = xprintf("help: %s", s->ops->name);
	tui_text_push_lines(title, lines, n, NULL, NULL, NULL);
	free(title);
	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}
