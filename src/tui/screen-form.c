/* A flow's questions (menus/<flow>.yaml) as a form: one field at a time,
 * every answer checked by question_check() before moving on. A bad answer
 * shows its cause under the field and the cursor stays there. */
#include <stdlib.h>
#include <string.h>

#include "flows.h"
#include "tui/tui-int.h"
#include "util/xmalloc.h"

struct form {
	char		 *flow;		/* "create", "local" */
	struct menu	 *menu;		/* its questions (owned by tui.c) */
	size_t		  cur;		/* question being answered */
	json_t		 *answers;	/* accepted answers by key */
	char		**text;		/* what is typed, per question */
	size_t		 *pos;		/* cursor in text, per question */
	bool		 *edited;	/* typed by the user, not a default */
	size_t		 *choice;	/* choice: index, per question */
	char		 *error;	/* why the answer was refused */
	char		 *note;		/* e.g. the hourly cost */
	struct tui_job	 *costing;	/* the plan job behind the note */
	char		**alts;		/* completions on offer */
	char		**offer;	/* text question with choices_from:
					 * the answers offered (NULL-ended) */
	char		**shown;	/* and how each is shown (with its
					 * price), as many */
	struct screen	 *base;		/* what was below the form */
};

static const struct tui_key form_keys[] = {
	{ "Enter", "accept the answer and go to the next question",
	    "Enter accept", 0 },
	{ "Esc, Up", "back to the previous question (Esc on the first "
	    "leaves)", "Esc back", 0 },
	{ "Tab", "complete a folder name (path questions); the next "
	    "answer offered (instance types)", "Tab complete", 0 },
	{ "Left/Right", "move in the text; change a choice", NULL, 0 },
	{ "Space, y/n", "change a choice; yes or no", NULL, 0 },
	{ "Ctrl-U", "clear the field", NULL, 0 },
	{ "Ctrl-W", "delete the word before the cursor", NULL, 0 },
	{ "Home/End", "start or end of the field (also Ctrl-A, Ctrl-E)",
	    NULL, 0 },
	{ "?", "this help", "? help", 0 },
	{ "Ctrl-C", "quit fanout", "Ctrl-C quit", 0 },
	{ NULL, NULL, NULL, 0 }
};

static const struct question *
form_q(struct form *f)
{
	return &f->menu->questions[f->cur];
}

static void
form_set_text(struct form *f, size_t i, const char *text)
{
	free(f->text[i]);
	f->text[i] = xstrdup(text != NULL ? text : "");
	f->pos[i] = strlen(f->text[i]);
}

/* The hourly cost note for the question that asks about cleaning up: the
 * provider's plan, asked on a thread (form_tick shows it when it comes). */
static void
form_cost_note(struct form *f)
{
	free(f->note);
	f->note = NULL;
	tui_job_abandon(f->costing);
	f->costing = NULL;
	if (!form_q(f)->cost_note)
		return;
	if (flow_ops.plan == NULL) {
		f->note = xstrdup("The hourly cost of keeping the resources "
		    "comes with the provider; not available in this build.");
		return;
	}
	f->costing = tui_job_start(JOB_PLAN, f->answers, NULL, NULL);
}

static void
form_tick(struct screen *s)
{
	struct form *f = s->data;
	struct tui_event *head;
	json_t *hourly;
	bool done;

	if (f->costing == NULL)
		return;
	head = tui_job_events(f->costing, &done);
	tui_events_free(head);
	if (!done)
		return;
	free(f->note);
	f->note = NULL;
	hourly = json_object_get(f->costing->result, "hourly_usd");
	if (f->costing->result == NULL)
		f->note = xprintf("No cost estimate: %s", f->costing->cause !=
		    NULL ? f->costing->cause : "the provider did not answer");
	else if (json_is_number(hourly))
		f->note = xprintf("Keeping everything costs about $%.2f an "
		    "hour until it is cleaned up.", json_number_value(hourly));
	tui_job_free(f->costing);
	f->costing = NULL;
}

/* The answers a text question offers (choices_from), given the answers
 * so far, and their labels; none when the list cannot be had (any text
 * is still taken). */
static void
form_offer(struct form *f, const struct question *q)
{
	char *why = NULL;
	size_t n;

	question_alts_free(f->offer);
	question_alts_free(f->shown);
	f->offer = f->shown = NULL;
	if (q->type != QUESTION_TEXT || q->choices_from == NULL)
		return;
	if ((f->offer = menu_list(q->choices_from, f->answers, &why)) ==
	    NULL) {
		free(why);
		return;
	}
	for (n = 0; f->offer[n] != NULL; n++)
		;
	f->shown = xcalloc(n + 1, sizeof *f->shown);
	for (n = 0; f->offer[n] != NULL; n++)
		f->shown[n] = menu_label(q->choices_from, f->offer[n],
		    f->answers);
}

/* Tab on a question that offers answers: the next one after what is
 * typed (the first that starts with it, when it is none of them). */
static void
form_offer_next(struct form *f)
{
	const char *t = f->text[f->cur];
	size_t n, i, pick = 0;

	for (n = 0; f->offer[n] != NULL; n++)
		;
	if (n == 0)
		return;
	for (i = 0; i < n; i++) {
		if (strcmp(f->offer[i], t) == 0) {
			pick = (i + 1) % n;
			break;
		}
	}
	if (i == n) {
		for (i = 0; i < n && strncmp(f->offer[i], t, strlen(t)) != 0;
		    i++)
			;
		pick = i < n ? i : 0;
	}
	form_set_text(f, f->cur, f->offer[pick]);
	f->edited[f->cur] = true;
}

/* Moves to question i: offers its default unless the user typed one. */
static void
form_enter(struct form *f, size_t i)
{
	const struct question *q = &f->menu->questions[i];
	char *def;
	size_t c;

	f->cur = i;
	free(f->error);
	f->error = NULL;
	question_alts_free(f->alts);
	f->alts = NULL;
	form_offer(f, q);
	if (!f->edited[i]) {
		def = question_default(q, f->answers);
		form_set_text(f, i, def);
		if (q->type == QUESTION_CHOICE) {
			for (c = 0; c < q->nchoices; c++) {
				if (def != NULL &&
				    strcmp(q->choices[c], def) == 0)
					f->choice[i] = c;
			}
		}
		free(def);
	}
	form_cost_note(f);
}

/* The cause under the field; from the field's column when it fits, else
 * from the left, wrapped. Returns the rows used. */
static int
form_draw_error(const char *error, int y, int x)
{
	char *text = xprintf("! %s", error);
	int rows;

	if ((int)strlen(text) > COLS - x - 1)
		x = 4;
	rows = tui_wrap(y, x, COLS - x - 1, 3, tui_attr(TC_FAIL), text);
	free(text);
	return rows;
}

/* A choice's options, as their labels: on the field's line when they fit
 * in room, else one per line. Returns the rows used after the first. */
static int
form_draw_choices(struct form *f, const struct question *q, size_t i, int y,
    int x, int room)
{
	char **labels = xcalloc(q->nchoices + 1, sizeof *labels);
	size_t c, width = 0;
	int rows = 0;
	attr_t a;

	for (c = 0; c < q->nchoices; c++) {
		labels[c] = q->choices_from != NULL ? menu_label(
		    q->choices_from, q->choices[c], f->answers) :
		    xstrdup(q->choices[c]);
		width += strlen(labels[c]) + 3;
	}
	move(y, x);
	for (c = 0; c < q->nchoices; c++) {
		if (c > 0 && width > (size_t)room)
			move(y + ++rows, x);
		a = c == f->choice[i] ? tui_attr(TC_SELECT) | A_BOLD :
		    A_NORMAL;
		attron(a);
		printw(" %s ", labels[c]);
		attroff(a);
		addch(' ');
	}
	question_alts_free(labels);
	return rows;
}

/* The answers a text question offers, under its field, in columns from
 * the left; the one typed stands out. Returns the rows used. */
static int
form_draw_offer(struct form *f, int y)
{
	size_t n, i, w = 0;
	int cols, col;
	attr_t a;

	for (n = 0; f->shown[n] != NULL; n++) {
		if (strlen(f->shown[n]) > w)
			w = strlen(f->shown[n]);
	}
	if (n == 0)
		return 0;
	w += 3;
	cols = (COLS - 6) / (int)w > 0 ? (COLS - 6) / (int)w : 1;
	for (i = 0; i < n; i++) {
		col = (int)i % cols;
		a = strcmp(f->offer[i], f->text[f->cur]) == 0 ?
		    tui_attr(TC_SELECT) | A_BOLD : tui_attr(TC_DIM);
		tui_put(y + (int)i / cols, 4 + col * (int)w, a, " %s ",
		    f->shown[i]);
	}
	return ((int)n + cols - 1) / cols;
}

static void
form_draw(struct screen *s)
{
	struct form *f = s->data;
	const struct question *q;
	const char *shown;
	char *label;
	size_t i, lw = 0, len, first;
	int y = 2, x, room, cx, c;
	attr_t a;

	tui_draw_frame(s, f->menu->title);
	if (f->menu->help != NULL)
		y += tui_wrap(y, 2, COLS - 4, 2, tui_attr(TC_DIM),
		    f->menu->help) + 1;
	for (i = 0; i < f->menu->nquestions; i++) {
		len = strlen(f->menu->questions[i].title);
		if (len > lw)
			lw = len;
	}
	if (lw > 36)
		lw = 36;
	x = 4 + (int)lw + 2;
	room = COLS - x - 2;
	for (i = 0; i < f->menu->nquestions && y < LINES - 6; i++, y++) {
		q = &f->menu->questions[i];
		if (!menu_asks(f->menu, q, f->answers)) {
			y--;
			continue;
		}
		a = i == f->cur ? A_BOLD : (i > f->cur ? tui_attr(TC_DIM) :
		    A_NORMAL);
		tui_put(y, 2, a, "%s %.*s", i == f->cur ? ">" : " ", (int)lw,
		    q->title);
		if (i > f->cur)
			continue;
		if (i < f->cur) {
			if (q->type == QUESTION_CHOICE &&
			    q->choices_from != NULL) {
				label = menu_label(q->choices_from, f->text[i],
				    f->answers);
				tui_put(y, x, A_NORMAL, "%s", label);
				free(label);
			} else
				tui_put(y, x, A_NORMAL, "%s", f->text[i]);
			continue;
		}
		if (q->type == QUESTION_CHOICE)
			y += form_draw_choices(f, q, i, y, x, room);
		else if (q->type == QUESTION_YESNO) {
			move(y, x);
			c = strcmp(f->text[i], "no") == 0;
			attron(c ? A_NORMAL : tui_attr(TC_SELECT) | A_BOLD);
			addstr(" yes ");
			attroff(c ? A_NORMAL : tui_attr(TC_SELECT) | A_BOLD);
			addch(' ');
			attron(!c ? A_NORMAL : tui_attr(TC_SELECT) | A_BOLD);
			addstr(" no ");
			attroff(!c ? A_NORMAL : tui_attr(TC_SELECT) | A_BOLD);
		} else if (room > 2) {
			/* Scroll so that the cursor stays in the field. */
			first = f->pos[i] >= (size_t)room ?
			    f->pos[i] - (size_t)room + 1 : 0;
			shown = f->text[i] + first;
			attron(A_UNDERLINE);
			mvhline(y, x, ' ', room);
			mvaddnstr(y, x, shown, room);
			attroff(A_UNDERLINE);
			cx = x + (int)(f->pos[i] - first);
			attron(A_REVERSE);
			mvaddch(y, cx, f->text[i][f->pos[i]] != '\0' ?
			    (chtype)(unsigned char)f->text[i][f->pos[i]] :
			    ' ');
			attroff(A_REVERSE);
		}
		if (f->error != NULL)
			y += form_draw_error(f->error, y + 1, x);
		if (f->offer != NULL)
			y += form_draw_offer(f, y + 1);
		if (f->alts != NULL) {
			y++;
			move(y, x);
			for (c = 0; f->alts[c] != NULL; c++)
				tui_put(y, getcurx(stdscr), tui_attr(TC_DIM),
				    "%s  ", f->alts[c]);
		}
	}
	q = form_q(f);
	y = LINES - 6;
	if (f->costing != NULL)
		tui_put(y - 1, 2, tui_attr(TC_DIM), "%c asking the provider "
		    "for the hourly cost ...", tui_spinner());
	else if (f->note != NULL)
		tui_wrap(y - 2, 2, COLS - 4, 2, tui_attr(TC_WARN), f->note);
	if (q->help != NULL)
		tui_wrap(y, 2, COLS - 4, 3, tui_attr(TC_DIM), q->help);
}

/* Enter: check the answer; stay with the cause, or go on. */
static void
form_accept(struct form *f)
{
	const struct question *q = form_q(f);
	const char *text;
	json_t *v;
	char *cause = NULL;
	size_t n;

	text = q->type == QUESTION_CHOICE ? q->choices[f->choice[f->cur]] :
	    f->text[f->cur];
	question_alts_free(f->alts);
	f->alts = NULL;
	if (question_check(q, f->answers, text, &v, &cause) != 0) {
		free(f->error);
		f->error = cause;
		return;
	}
	json_object_set_new(f->answers, q->key, v);
	if (q->type == QUESTION_CHOICE)
		form_set_text(f, f->cur, text);
	/* The next question asked (when:); none for those not asked. */
	for (n = f->cur + 1; n < f->menu->nquestions &&
	    !menu_asks(f->menu, &f->menu->questions[n], f->answers); n++)
		json_object_del(f->answers, f->menu->questions[n].key);
	if (n < f->menu->nquestions) {
		form_enter(f, n);
		return;
	}
	free(f->error);
	f->error = NULL;
	tui_confirm_push(f->flow, f->menu, f->answers, f->base);
}

static void
form_complete(struct form *f)
{
	char *done;

	question_alts_free(f->alts);
	f->alts = NULL;
	done = question_complete_path(f->text[f->cur], &f->alts, 8);
	free(f->text[f->cur]);
	f->text[f->cur] = done;
	f->pos[f->cur] = strlen(done);
	f->edited[f->cur] = true;
	if (f->alts == NULL && strcmp(done, "") == 0)
		tui_message(false, "nothing to complete");
}

/* Editing keys of a text field; true when the key was one. */
static bool
form_edit(struct form *f, int ch)
{
	char *t = f->text[f->cur];
	size_t *p = &f->pos[f->cur], len = strlen(t), w;

	switch (ch) {
	case KEY_LEFT:
		if (*p > 0)
			(*p)--;
		return true;
	case KEY_RIGHT:
		if (*p < len)
			(*p)++;
		return true;
	case KEY_HOME:
	case TUI_CTRL('a'):
		*p = 0;
		return true;
	case KEY_END:
	case TUI_CTRL('e'):
		*p = len;
		return true;
	case KEY_BACKSPACE:
	case 127:
	case TUI_CTRL('h'):
		if (*p > 0) {
			memmove(t + *p - 1, t + *p, len - *p + 1);
			(*p)--;
		}
		break;
	case KEY_DC:
	case TUI_CTRL('d'):
		if (*p < len)
			memmove(t + *p, t + *p + 1, len - *p);
		break;
	case TUI_CTRL('u'):
		t[0] = '\0';
		*p = 0;
		break;
	case TUI_CTRL('w'):
		for (w = *p; w > 0 && t[w - 1] == ' '; w--)
			;
		for (; w > 0 && t[w - 1] != ' ' && t[w - 1] != '/'; w--)
			;
		memmove(t + w, t + *p, len - *p + 1);
		*p = w;
		break;
	default:
		if (ch < ' ' || ch > 255 || ch == 127)
			return false;
		t = xreallocarray(t, len + 2, 1);
		memmove(t + *p + 1, t + *p, len - *p + 1);
		t[*p] = (char)ch;
		(*p)++;
		f->text[f->cur] = t;
		break;
	}
	f->edited[f->cur] = true;
	return true;
}

static enum tui_rv
form_key(struct screen *s, int ch)
{
	struct form *f = s->data;
	const struct question *q = form_q(f);
	size_t n = q->nchoices, i;

	switch (ch) {
	case '\r':
	case '\n':
	case KEY_ENTER:
		form_accept(f);
		return TUI_HANDLED;
	case TUI_ESC:
	case KEY_UP:
	case KEY_BTAB:
		for (i = f->cur; i > 0 && !menu_asks(f->menu,
		    &f->menu->questions[i - 1], f->answers); i--)
			;
		if (i == 0)
			return ch == TUI_ESC ? TUI_BACK : TUI_HANDLED;
		form_enter(f, i - 1);
		return TUI_HANDLED;
	case KEY_DOWN:
		form_accept(f);
		return TUI_HANDLED;
	case '\t':
		if (q->type == QUESTION_PATH)
			form_complete(f);
		else if (f->offer != NULL && f->offer[0] != NULL) {
			free(f->error);
			f->error = NULL;
			form_offer_next(f);
		} else
			form_accept(f);
		return TUI_HANDLED;
	case '?':
	case KEY_F(1):
	case TUI_CTRL('c'):
		return TUI_UNHANDLED;
	}
	free(f->error);
	f->error = NULL;
	if (q->type == QUESTION_CHOICE) {
		if (ch == KEY_LEFT || ch == 'h' || ch == 'k')
			f->choice[f->cur] = (f->choice[f->cur] + n - 1) % n;
		else if (ch == KEY_RIGHT || ch == ' ' || ch == 'l' || ch == 'j')
			f->choice[f->cur] = (f->choice[f->cur] + 1) % n;
		else
			return TUI_UNHANDLED;
		f->edited[f->cur] = true;
		return TUI_HANDLED;
	}
	if (q->type == QUESTION_YESNO) {
		if (ch == 'y' || ch == 'Y')
			form_set_text(f, f->cur, "yes");
		else if (ch == 'n' || ch == 'N')
			form_set_text(f, f->cur, "no");
		else if (ch == KEY_LEFT || ch == KEY_RIGHT || ch == ' ')
			form_set_text(f, f->cur, strcmp(f->text[f->cur],
			    "no") == 0 ? "yes" : "no");
		else
			return TUI_UNHANDLED;
		f->edited[f->cur] = true;
		return TUI_HANDLED;
	}
	question_alts_free(f->alts);
	f->alts = NULL;
	return form_edit(f, ch) ? TUI_HANDLED : TUI_UNHANDLED;
}

static void
form_free(struct screen *s)
{
	struct form *f = s->data;
	size_t i;

	for (i = 0; i < f->menu->nquestions; i++)
		free(f->text[i]);
	free(f->text);
	free(f->pos);
	free(f->edited);
	free(f->choice);
	free(f->error);
	free(f->note);
	tui_job_abandon(f->costing);
	free(f->flow);
	question_alts_free(f->alts);
	question_alts_free(f->offer);
	question_alts_free(f->shown);
	json_decref(f->answers);
	free(f);
}

static const struct screen_ops form_ops = {
	.name = "questions",
	.keys = form_keys,
	.draw = form_draw,
	.key = form_key,
	.tick = form_tick,
	.free = form_free,
};

void
tui_form_push(const char *flow)
{
	struct menu *mu;
	struct form *f;
	char *cause = NULL;
	size_t n;

	if ((mu = tui_menu(flow, &cause)) == NULL) {
		tui_message(true, "%s", cause);
		free(cause);
		return;
	}
	if (mu->nquestions == 0) {
		tui_message(true, "%s has no questions", mu->file);
		return;
	}
	n = mu->nquestions;
	f = xcalloc(1, sizeof *f);
	f->flow = xstrdup(flow);
	f->menu = mu;
	f->answers = json_object();
	f->text = xcalloc(n, sizeof *f->text);
	f->pos = xcalloc(n, sizeof *f->pos);
	f->edited = xcalloc(n, sizeof *f->edited);
	f->choice = xcalloc(n, sizeof *f->choice);
	f->base = tui_top();
	form_enter(f, 0);
	tui_push(&form_ops, f);
}
