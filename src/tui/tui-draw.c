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

void
tui_draw_frame(const char *title, const char *hints)
{
	attr_t a = tui_attr(TC_TITLE);

	attron(a);
	mvhline(0, 0, ' ', COLS);
	attroff(a);
	tui_put(0, 1, a | A_BOLD, "fanout: %s", title);
	move(LINES - 1, 0);
	clrtoeol();
	tui_put(LINES - 1, 0, tui_attr(TC_KEY), "%s", hints);
}

int
tui_wrap(int y, int x, int width, int rows, attr_t attr, const char *text)
{
	const char *p = text, *end, *sp;
	int used = 0;

	while (*p != '\0' && used < rows && width > 0) {
		while (*p == ' ')
			p++;
		end = p + strlen(p);
		if (end - p > width) {
			end = p + width;
			for (sp = end; sp > p && *sp != ' '; sp--)
				;
			if (sp > p)
				end = sp;
		}
		if (end == p)
			break;
		attron(attr);
		mvaddnstr(y + used, x, p, (int)(end - p));
		attroff(attr);
		used++;
		p = end;
	}
	return used;
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
