/* The TUI's entry: terminal set-up and restore (also on a crash signal),
 * the screen stack, and the one loop that drives it. */
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "tui/tui-int.h"
#include "tui/tui.h"
#include "util/xmalloc.h"

static struct screen	*tui_stack;	/* top of the screen stack */
static char		*tui_msg;	/* status line text, or NULL */
static bool		 tui_msg_error;	/* ... shown as an error */
static char		*tui_prompt;	/* question being asked, or NULL */
static volatile sig_atomic_t tui_signalled;
static struct termios	 tui_termios;	/* the terminal before curses */
static bool		 tui_have_termios;
static char		 tui_reset[64];	/* rmcup + cnorm, for crash exits */
static size_t		 tui_reset_len;
static struct menu	*tui_menus[4];	/* loaded menus, by name */
static const char	*tui_menu_names[4] = { "main", "create", "local",
			    NULL };

struct menu *
tui_menu(const char *name, char **cause)
{
	size_t i;

	for (i = 0; tui_menu_names[i] != NULL; i++) {
		if (strcmp(tui_menu_names[i], name) != 0)
			continue;
		if (tui_menus[i] == NULL)
			tui_menus[i] = menu_load(name, cause);
		return tui_menus[i];
	}
	xasprintf(cause, "no menu named %s", name);
	return NULL;
}

struct screen *
tui_push(const struct screen_ops *ops, void *data)
{
	struct screen *s = xcalloc(1, sizeof *s);

	s->ops = ops;
	s->keys = ops->keys;
	s->data = data;
	s->below = tui_stack;
	tui_stack = s;
	return s;
}

static void
tui_pop(void)
{
	struct screen *s = tui_stack;

	if (s == NULL)
		return;
	tui_stack = s->below;
	if (s->ops->free != NULL)
		s->ops->free(s);
	free(s);
}

void
tui_pop_above(struct screen *base)
{
	while (tui_stack != NULL && tui_stack != base)
		tui_pop();
}

struct screen *
tui_top(void)
{
	return tui_stack;
}

struct screen *
tui_find(struct screen *s, const struct screen_ops *ops)
{
	for (; s != NULL; s = s->below) {
		if (s->ops == ops)
			return s;
	}
	return NULL;
}

void
tui_message(bool error, const char *fmt, ...)
{
	va_list ap;

	free(tui_msg);
	va_start(ap, fmt);
	xvasprintf(&tui_msg, fmt, ap);
	va_end(ap);
	tui_msg_error = error;
}

bool
tui_interrupted(void)
{
	return tui_signalled != 0;
}

static void
tui_on_signal(int sig)
{
	tui_signalled = sig;
}

/* A crash: put the terminal back as it was, then die of the signal. */
static void
tui_on_crash(int sig)
{
	ssize_t n;

	if (tui_reset_len > 0)
		n = write(STDOUT_FILENO, tui_reset, tui_reset_len);
	if (tui_have_termios)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &tui_termios);
	(void)n;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
tui_signals(void)
{
	static const int crash[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL,
	    SIGABRT };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = tui_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = tui_on_crash;
	sa.sa_flags = SA_RESETHAND;
	for (i = 0; i < sizeof crash / sizeof crash[0]; i++)
		sigaction(crash[i], &sa, NULL);
}

/* The escape strings that leave the alternate screen and show the cursor,
 * kept for the crash handler (which may not call curses). */
static void
tui_save_reset(void)
{
	const char *caps[] = { "rmcup", "cnorm", "sgr0" };
	char *s;
	size_t i, n;

	tui_reset_len = 0;
	for (i = 0; i < sizeof caps / sizeof caps[0]; i++) {
		s = tigetstr((char *)caps[i]);
		if (s == NULL || s == (char *)-1)
			continue;
		n = strlen(s);
		if (tui_reset_len + n >= sizeof tui_reset)
			break;
		memcpy(tui_reset + tui_reset_len, s, n);
		tui_reset_len += n;
	}
}

/* The status line: a prompt or a message, wrapped up to two rows that end
 * on the row above the footer. */
static void
tui_draw_status(void)
{
	const char *text = tui_prompt != NULL ? tui_prompt : tui_msg;
	attr_t a;
	char **rows;
	size_t n, i;
	int y;

	if (text == NULL || LINES < 4)
		return;
	a = tui_prompt != NULL ? A_BOLD | tui_attr(TC_WARN) :
	    tui_attr(tui_msg_error ? TC_FAIL : TC_WARN);
	n = tui_wrap_rows(text, COLS, 2, &rows);
	y = LINES - 2 - (n > 1 ? 1 : 0);
	for (i = 0; i < n && i < 2; i++) {
		move(y + (int)i, 0);
		clrtoeol();
		tui_put(y + (int)i, 0, a, "%s", rows[i]);
	}
	tui_rows_free(rows, n);
}

static void
tui_draw(void)
{
	struct screen *s = tui_stack;

	erase();
	if (COLS < 40 || LINES < 10) {
		mvaddstr(0, 0, "fanout: the terminal is too small");
		refresh();
		return;
	}
	s->ops->draw(s);
	tui_draw_status();
	refresh();
}

static void
tui_tick(void)
{
	struct screen *s, *below;

	/* A tick may pop its own screen (and those above it), never the
	 * ones below: take the next one first. */
	for (s = tui_stack; s != NULL; s = below) {
		below = s->below;
		if (s->ops->tick != NULL)
			s->ops->tick(s);
	}
}

int
tui_ask(const char *answers, const char *fmt, ...)
{
	va_list ap;
	char *text;
	int ch, got = 0;

	va_start(ap, fmt);
	xvasprintf(&text, fmt, ap);
	va_end(ap);
	tui_prompt = text;
	while (!tui_signalled) {
		tui_tick();
		tui_draw();
		ch = getch();
		if (ch == ERR || ch == KEY_RESIZE)
			continue;
		if (ch == TUI_ESC || ch == TUI_CTRL('c'))
			break;
		if (ch > 0 && ch < 256 && strchr(answers, ch) != NULL) {
			got = ch;
			break;
		}
	}
	tui_prompt = NULL;
	free(text);
	return got;
}

/* Calls queued by tui_later, oldest first. */
struct tui_call {
	void		(*fn)(void *);
	void		 *arg;
	struct tui_call	 *next;
};
static struct tui_call	*tui_calls;

void
tui_later(void (*fn)(void *), void *arg)
{
	struct tui_call *c = xcalloc(1, sizeof *c), **tail;

	c->fn = fn;
	c->arg = arg;
	for (tail = &tui_calls; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = c;
}

static void
tui_run_later(void)
{
	struct tui_call *c;

	while ((c = tui_calls) != NULL) {
		tui_calls = c->next;
		c->fn(c->arg);
		free(c);
	}
}

bool
tui_on_stack(struct screen *s)
{
	struct screen *t;

	for (t = tui_stack; t != NULL; t = t->below) {
		if (t == s)
			return true;
	}
	return false;
}

bool
tui_confirm(const char *fmt, ...)
{
	va_list ap;
	char *text;
	int ch;

	va_start(ap, fmt);
	xvasprintf(&text, fmt, ap);
	va_end(ap);
	ch = tui_ask("yn", "%s? (y/n)", text);
	free(text);
	return ch == 'y';
}

/* The keys every screen has, after its own. */
static bool
tui_loop_key(int ch)
{
	struct screen *s = tui_stack;

	switch (ch) {
	case '?':
	case KEY_F(1):
		tui_help_push(s);
		return true;
	case 'q':
	case 'Q':
	case TUI_CTRL('c'):
		return false;
	case TUI_ESC:
		tui_pop();
		return true;
	case TUI_CTRL('l'):
		clearok(curscr, TRUE);
		return true;
	}
	return true;
}

static void
tui_loop(void)
{
	struct screen *s;
	enum tui_rv rv;
	int ch;

	while (tui_stack != NULL) {
		if (tui_signalled)
			break;
		tui_tick();
		tui_run_later();
		if (tui_stack == NULL)
			break;
		tui_draw();
		ch = getch();
		if (ch == ERR)
			continue;
		if (ch == KEY_RESIZE) {
			clearok(curscr, TRUE);
			continue;
		}
		free(tui_msg);
		tui_msg = NULL;
		s = tui_stack;
		rv = s->ops->key(s, ch);
		if (rv == TUI_UNHANDLED && !tui_loop_key(ch))
			rv = TUI_QUIT;
		if (rv == TUI_BACK)
			tui_pop();
		else if (rv == TUI_QUIT)
			break;
	}
}

int
tui_main(void)
{
	struct menu *main_menu;
	SCREEN *sp;
	char *cause = NULL;
	size_t i;
	int rv;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fputs("fanout: the menu needs a terminal; without one use the "
		    "commands (fanout --help), e.g. fanout run --local "
		    "PROJECT\n", stderr);
		return 2;
	}
	if ((main_menu = tui_menu("main", &cause)) == NULL) {
		fprintf(stderr, "fanout: %s\n", cause);
		free(cause);
		return 1;
	}
	setlocale(LC_ALL, "");
	tui_have_termios = tcgetattr(STDIN_FILENO, &tui_termios) == 0;
	if ((sp = newterm(NULL, stdout, stdin)) == NULL) {
		fprintf(stderr, "fanout: cannot use terminal '%s'; set TERM "
		    "(e.g. TERM=xterm-256color)\n", getenv("TERM") ?
		    getenv("TERM") : "");
		return 1;
	}
	tui_save_reset();
	tui_signals();
	raw();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	timeout(100);
	tui_colors_init();

	tui_menu_push(main_menu);
	tui_loop();
	while (tui_stack != NULL)
		tui_pop();
	tui_run_later();	/* frees what is queued; no screen is left */
	endwin();
	delscreen(sp);
	free(tui_msg);
	for (i = 0; tui_menu_names[i] != NULL; i++) {
		menu_free(tui_menus[i]);
		tui_menus[i] = NULL;
	}
	rv = tui_signalled ? 128 + tui_signalled : 0;
	if (tui_jobs_adrift() > 0) {
		/* A network call the user abandoned is still running: leave
		 * without the exit handlers, which would take libraries
		 * from under it. */
		fflush(NULL);
		_exit(rv);
	}
	return rv;
}
