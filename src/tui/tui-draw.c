/* Colours and the parts every screen draws: title bar, footer, bars. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history/history.h"
#include "tui/tui-int.h"
#include "util/fs.h"
#include "util/xmalloc.h"

static bool	tui_color_on;	/* colours in use */

void
tui_colors_init(void)
{
	const char *nc = getenv("NO_COLOR");

	tui_color_on = (nc == NULL || *nc == '\0') && has_colors();
	if (!tui_color_on)
		return;
	start_color();
	use_default_colors();
	init_pair(TC_TITLE, COLOR_BLACK, COLOR_CYAN);
	init_pair(TC_SELECT, COLOR_BLACK, COLOR_YELLOW);
	init_pair(TC_OK, COLOR_GREEN, -1);
	init_pair(TC_FAIL, COLOR_RED, -1);
	init_pair(TC_WARN, COLOR_YELLOW, -1);
	init_pair(TC_DIM, COLOR_BLUE, -1);
	init_pair(TC_KEY, COLOR_CYAN, -1);
}

attr_t
tui_attr(enum tui_color c)
{
	if (tui_color_on)
		return COLOR_PAIR(c) | (c == TC_FAIL ? A_BOLD : 0);
	switch (c) {
	case TC_TITLE:
	case TC_SELECT:
		return A_REVERSE;
	case TC_FAIL:
	case TC_KEY:
		return A_BOLD;
	case TC_DIM:
		return A_DIM;
	default:
		return A_NORMAL;
	}
}

void
tui_put(int y, int x, attr_t attr, const char *fmt, ...)
{
	va_list ap;
	char *text;
	int room = COLS - x;

	if (y < 0 || y >= LINES || room <= 0)
		return;
	va_start(ap, fmt);
	xvasprintf(&text, fmt, ap);
	va_end(ap);
	attron(attr);
	mvaddnstr(y, x, text, room);
	attroff(attr);
	free(text);
}

bool
tui_key_applies(struct screen *s, const struct tui_key *k)
{
	if (k->when == 0 || s->ops->applies == NULL)
		return true;
	return (s->ops->applies(s) & k->when) != 0;
}

void
tui_draw_frame(struct screen *s, const char *title)
{
	attr_t a = tui_attr(TC_TITLE);

	attron(a);
	mvhline(0, 0, ' ', COLS);
	attroff(a);
	tui_put(0, 1, a | A_BOLD, "fanout: %s", title);
	tui_draw_hints(s);
}

void
tui_draw_hints(struct screen *s)
{
	const struct tui_key *k;
	int x = 0;

	move(LINES - 1, 0);
	clrtoeol();
	/* The hints of the keys that apply, as many as fit. */
	for (k = s->keys; k != NULL && k->keys != NULL; k++) {
		if (k->hint == NULL || !tui_key_applies(s, k))
			continue;
		if (x + (int)strlen(k->hint) > COLS)
			break;
		tui_put(LINES - 1, x, tui_attr(TC_KEY), "%s", k->hint);
		x += (int)strlen(k->hint) + 2;
	}
}

/* Bytes of p that fill at most cols columns (a UTF-8 sequence is one
 * column and never split). */
static size_t
tui_cols_bytes(const char *p, size_t len, int cols)
{
	size_t i = 0;
	int c = 0;

	while (i < len) {
		if (((unsigned char)p[i] & 0xc0) != 0x80) {
			if (c == cols)
				break;
			c++;
		}
		i++;
	}
	return i;
}

static size_t
tui_cols(const char *p, size_t len)
{
	size_t i, c = 0;

	for (i = 0; i < len; i++) {
		if (((unsigned char)p[i] & 0xc0) != 0x80)
			c++;
	}
	return c;
}

int
tui_hang(const char *line)
{
	const char *p = line, *gap;

	while (*p == ' ')
		p++;
	if (*p == '\0' || (gap = strstr(p, "  ")) == NULL)
		return (int)(p - line);
	while (*gap == ' ')
		gap++;
	return *gap != '\0' ? (int)tui_cols(line, (size_t)(gap - line)) :
	    (int)(p - line);
}

size_t
tui_wrap_rows(const char *text, int width, int hang, char ***rows)
{
	const char *line = text, *nl, *p, *end, *sp, *lead;
	size_t n = 0, len, take;
	int room, indent;

	*rows = NULL;
	if (width < 1)
		width = 1;
	if (hang < 0 || hang > width / 2)
		hang = 0;
	for (;;) {
		nl = strchr(line, '\n');
		len = nl != NULL ? (size_t)(nl - line) : strlen(line);
		p = line;
		end = line + len;
		indent = 0;
		do {
			room = width - indent;
			take = tui_cols_bytes(p, (size_t)(end - p), room);
			if (p + take < end) {
				/* Break at the last space that fits, if
				 * the row keeps a word. */
				for (lead = p; lead < end && *lead == ' ';
				    lead++)
					;
				for (sp = p + take; sp > lead && *sp != ' ';
				    sp--)
					;
				if (sp > lead)
					take = (size_t)(sp - p);
			}
			*rows = xreallocarray(*rows, n + 1, sizeof **rows);
			(*rows)[n++] = xprintf("%*s%.*s", indent, "",
			    (int)take, p);
			p += take;
			/* The spaces a row broke at are not carried. */
			while (p < end && *p == ' ')
				p++;
			indent = hang;
		} while (p < end);
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	return n;
}

void
tui_rows_free(char **rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(rows[i]);
	free(rows);
}

int
tui_wrap(int y, int x, int width, int rows, attr_t attr, const char *text)
{
	char **r;
	size_t n, i;
	const char *p;
	int used = 0;

	/* Leading spaces do not start a paragraph here. */
	for (p = text; *p == ' '; p++)
		;
	n = tui_wrap_rows(p, width, 0, &r);
	for (i = 0; i < n && used < rows; i++) {
		if (*r[i] == '\0' && i + 1 == n)
			break;
		tui_put(y + used++, x, attr, "%s", r[i]);
	}
	tui_rows_free(r, n);
	return used;
}

bool
tui_move_key(int ch, size_t *pos, size_t max, size_t page)
{
	size_t step = page > 1 ? page : 1;

	switch (ch) {
	case 'j':
	case KEY_DOWN:
		*pos = *pos < max ? *pos + 1 : max;
		return true;
	case 'k':
	case KEY_UP:
		*pos = *pos > 0 ? *pos - 1 : 0;
		return true;
	case ' ':
	case KEY_NPAGE:
		*pos = *pos + step < max ? *pos + step : max;
		return true;
	case KEY_PPAGE:
		*pos = *pos > step ? *pos - step : 0;
		return true;
	case 'g':
	case KEY_HOME:
		*pos = 0;
		return true;
	case 'G':
	case KEY_END:
		*pos = max;
		return true;
	}
	return false;
}

char
tui_spinner(void)
{
	static const char spin[] = "|/-\\";

	return spin[(int)(time_mono() * 8) % 4];
}

void
tui_bar(int y, int x, int width, long long done, long long failed,
    long long total)
{
	int inner = width - 2, fill = 0, bad = 0, i;

	if (inner < 1 || y >= LINES)
		return;
	if (total > 0) {
		fill = (int)((double)inner * (double)done / (double)total);
		bad = (int)((double)inner * (double)failed / (double)total);
		if (fill > inner)
			fill = inner;
		if (bad > fill)
			bad = fill;
	}
	mvaddch(y, x, '[');
	for (i = 0; i < inner; i++) {
		if (i < fill - bad) {
			attron(tui_attr(TC_OK));
			addch('#');
			attroff(tui_attr(TC_OK));
		} else if (i < fill) {
			attron(tui_attr(TC_FAIL));
			addch('x');
			attroff(tui_attr(TC_FAIL));
		} else
			addch('.');
	}
	addch(']');
}

void
tui_age(const char *timestamp, char *buf, size_t len)
{
	double t = timestamp != NULL ? history_parse_timestamp(timestamp) : -1;
	double age = time_now() - t;

	if (t < 0) {
		snprintf(buf, len, "-");
		return;
	}
	if (age < 0)
		age = 0;
	if (age < 60)
		snprintf(buf, len, "%ds", (int)age);
	else if (age < 3600)
		snprintf(buf, len, "%dm", (int)(age / 60));
	else if (age < 86400 * 2)
		snprintf(buf, len, "%dh%02dm", (int)(age / 3600),
		    (int)(age / 60) % 60);
	else
		snprintf(buf, len, "%dd", (int)(age / 86400));
}
