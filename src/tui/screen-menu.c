/* The main menu: the items of menus/main.yaml, one action each. */
#include <stdlib.h>
#include <string.h>

#include "flows.h"
#include "tui/tui-int.h"
#include "util/xmalloc.h"

struct menu_screen {
	struct menu	*menu;		/* menus/main.yaml (owned by tui.c) */
	size_t		 sel;		/* selected item */
};

static const struct tui_key main_menu_keys[] = {
	{ "Enter", "choose", "Enter choose", 0 },
	{ "Up/Down, j/k", "move", "j/k move", 0 },
	{ "letter", "choose the item with that key", NULL, 0 },
	{ "?", "this help", "? help", 0 },
	{ "q", "quit", "q quit", 0 },
	{ NULL, NULL, NULL, 0 }
};

/* What an item cannot do in this build (flow_ops members left NULL). */
static const char *
menu_missing(const char *action)
{
	if (strcmp(action, "create") == 0 && flow_ops.create == NULL)
		return "Not available in this build: the questions can be "
		    "answered, but no cloud provider is built in to create.";
	if (strcmp(action, "resume") == 0 && flow_ops.resume == NULL)
		return "Cloud resume is not available in this build; local "
		    "runs can be run again from here.";
	if (strcmp(action, "cleanup") == 0 && flow_ops.cleanup == NULL)
		return "Not available in this build: no cloud provider is "
		    "built in.";
	return NULL;
}

static void
menu_draw(struct screen *s)
{
	struct menu_screen *ms = s->data;
	struct menu_item *mi;
	size_t i;
	int y = 2, x = 2;

	tui_draw_frame(s, ms->menu->title);
	if (ms->menu->help != NULL)
		y += tui_wrap(y, x, COLS - 4, 2, A_NORMAL, ms->menu->help) + 1;
	for (i = 0; i < ms->menu->nitems && y < LINES - 4; i++, y++) {
		mi = &ms->menu->items[i];
		if (i == ms->sel) {
			attron(tui_attr(TC_SELECT));
			mvhline(y, x, ' ', COLS - 2 * x);
			attroff(tui_attr(TC_SELECT));
		}
		tui_put(y, x + 1, i == ms->sel ? tui_attr(TC_SELECT) | A_BOLD :
		    A_NORMAL, "%c  %s", mi->key != 0 ? mi->key : ' ',
		    mi->label);
	}
	mi = &ms->menu->items[ms->sel];
	if (mi->help != NULL && y + 1 < LINES - 3)
		y += 1 + tui_wrap(y + 1, x, COLS - 4, LINES - 3 - (y + 1),
		    tui_attr(TC_DIM), mi->help);
	if (menu_missing(mi->action) != NULL && y + 1 < LINES - 3)
		tui_wrap(y + 1, x, COLS - 4, 2, tui_attr(TC_WARN),
		    menu_missing(mi->action));
}

static void
menu_choose(struct menu_screen *ms, const char *action, bool *quit)
{
	*quit = false;
	if (strcmp(action, "quit") == 0)
		*quit = true;
	else if (strcmp(action, "local") == 0)
		tui_form_push("local");
	else if (strcmp(action, "create") == 0)
		tui_form_push("create");
	else if (strcmp(action, "history") == 0)
		tui_history_push(NULL);
	else if (strcmp(action, "resume") == 0)
		tui_history_push("resume");
	else if (strcmp(action, "cleanup") == 0)
		tui_history_push("cleanup");
	else
		tui_message(true, "%s: unknown action '%s'", ms->menu->file,
		    action);
}

static enum tui_rv
menu_key(struct screen *s, int ch)
{
	struct menu_screen *ms = s->data;
	size_t i, n = ms->menu->nitems;
	bool quit;

	if (n > 0 && ch != ' ' && ch != 'g' && ch != 'G' &&
	    tui_move_key(ch, &ms->sel, n - 1, n))
		return TUI_HANDLED;
	switch (ch) {
	case '\r':
	case '\n':
	case KEY_ENTER:
		menu_choose(ms, ms->menu->items[ms->sel].action, &quit);
		return quit ? TUI_QUIT : TUI_HANDLED;
	case TUI_ESC:
		return TUI_HANDLED;	/* nothing below the main menu */
	}
	for (i = 0; i < n; i++) {
		if (ch > 0 && ch == ms->menu->items[i].key) {
			ms->sel = i;
			menu_choose(ms, ms->menu->items[i].action, &quit);
			return quit ? TUI_QUIT : TUI_HANDLED;
		}
	}
	return TUI_UNHANDLED;
}

static void
menu_free_screen(struct screen *s)
{
	free(s->data);
}

static const struct screen_ops menu_ops = {
	.name = "main menu",
	.keys = main_menu_keys,
	.draw = menu_draw,
	.key = menu_key,
	.tick = NULL,
	.free = menu_free_screen,
};

struct screen *
tui_menu_push(struct menu *main_menu)
{
	struct menu_screen *ms = xcalloc(1, sizeof *ms);

	ms->menu = main_menu;
	return tui_push(&menu_ops, ms);
}
