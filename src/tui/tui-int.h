/* Inside the TUI: screens as ops tables (htop's Panel, tmux's window_mode),
 * a stack of them, and one loop in tui.c that draws the top screen, reads a
 * key and interprets what the screen's handler returns. */
#ifndef FANOUT_TUI_INT_H
#define FANOUT_TUI_INT_H

#include <curses.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>

#include "event.h"
#include "flows.h"
#include "run/local.h"
#include "wizard/questions.h"

#define TUI_ESC		27
#define TUI_CTRL(c)	((c) & 0x1f)

/* What a key handler tells the loop. */
enum tui_rv {
	TUI_HANDLED,	/* done; redraw */
	TUI_UNHANDLED,	/* not this screen's key: the loop's own keys */
	TUI_BACK,	/* pop this screen */
	TUI_QUIT,	/* leave fanout */
};

/* Colours (pairs) and their no-colour fallbacks. */
enum tui_color {
	TC_TITLE = 1,	/* top bar */
	TC_SELECT,	/* selected line */
	TC_OK,		/* done, ok bars */
	TC_FAIL,	/* failed, error messages */
	TC_WARN,	/* running, notes */
	TC_DIM,		/* pending, help text */
	TC_KEY,		/* key names in the footer */
};

/* One key of a screen: '?' lists it, and with a hint the footer shows it.
 * Both show only the keys that apply now (see screen_ops.applies). */
struct tui_key {
	const char	*keys;	/* as shown in the help, e.g. "j/k, Up/Down" */
	const char	*what;	/* what it does */
	const char	*hint;	/* footer text ("r resume"), or NULL */
	unsigned	 when;	/* 0: always; else only while applies()
				 * returns one of these bits */
};

struct screen;

struct screen_ops {
	const char		*name;	/* for the help title */
	const struct tui_key	*keys;	/* listed by '?'; NULL-terminated */
	/* Draws the whole screen on stdscr (already erased). */
	void		 (*draw)(struct screen *);
	/* A key (or KEY_RESIZE); see enum tui_rv. */
	enum tui_rv	 (*key)(struct screen *, int);
	/* Called every loop turn (about 10 a second); may be NULL. */
	void		 (*tick)(struct screen *);
	/* Frees data; may be NULL. */
	void		 (*free)(struct screen *);
	/* The tui_key.when bits that hold now; NULL: every key applies. */
	unsigned	 (*applies)(struct screen *);
};

struct screen {
	const struct screen_ops	*ops;
	const struct tui_key	*keys;	/* ops->keys, or the screen's own */
	void			*data;	/* the screen's own state */
	struct screen		*below;	/* next on the stack */
};

/* tui.c: the stack, the loop, prompts and the status message. */
struct screen	*tui_push(const struct screen_ops *, void *data);
/* Pops (and frees) every screen above s. */
void		 tui_pop_above(struct screen *);
struct screen	*tui_top(void);
/* The nearest screen at or below s drawn by ops, or NULL. */
struct screen	*tui_find(struct screen *s, const struct screen_ops *);
/* A message on the status line until the next key. */
void		 tui_message(bool error, const char *fmt, ...)
		     __attribute__((format(printf, 2, 3)));
/* Asks on the status line; returns one of the characters in answers, or 0
 * for Esc. The screens below keep ticking (a running job stays drawn). */
int		 tui_ask(const char *answers, const char *fmt, ...)
		     __attribute__((format(printf, 2, 3)));
/* The one way a key that deletes or spends asks first: "QUESTION? (y/n)"
 * on the status line; true only for y. */
bool		 tui_confirm(const char *fmt, ...)
		     __attribute__((format(printf, 1, 2)));
/* Runs fn(arg) from the loop, after this turn's ticks, where a key
 * handler would run (it may push screens and ask). */
void		 tui_later(void (*fn)(void *), void *arg);
/* Whether s is on the stack. */
bool		 tui_on_stack(struct screen *s);
/* Non-zero once SIGINT/SIGTERM/SIGHUP asked to leave. */
bool		 tui_interrupted(void);
/* The main menu screen's menus (loaded once). */
struct menu	*tui_menu(const char *name, char **cause);

/* tui-draw.c: colours and common parts of every screen. */
void		 tui_colors_init(void);
attr_t		 tui_attr(enum tui_color);
/* Top bar with the title; footer with the hints of s's keys that apply. */
void		 tui_draw_frame(struct screen *s, const char *title);
/* The footer alone. */
void		 tui_draw_hints(struct screen *s);
/* Whether key k of s applies now. */
bool		 tui_key_applies(struct screen *s, const struct tui_key *k);
/* Text clipped to the width left on the row. */
void		 tui_put(int y, int x, attr_t, const char *fmt, ...)
		     __attribute__((format(printf, 4, 5)));
/* The one word-wrapper: splits text into rows of at most width columns,
 * breaking at spaces (a longer word is cut); '\n' ends a row. Rows that
 * continue a line start with hang spaces. Returns the number of rows in
 * *rows (free with tui_rows_free). */
size_t		 tui_wrap_rows(const char *text, int width, int hang,
		     char ***rows);
void		 tui_rows_free(char **rows, size_t n);
/* Where a table-like line's second column starts (after its first gap of
 * two or more spaces), else its own indent: the hang for tui_wrap_rows. */
int		 tui_hang(const char *line);
/* Draws text wrapped into rows from y, at most rows; returns rows used. */
int		 tui_wrap(int y, int x, int width, int rows, attr_t,
		     const char *text);
/* The list movement every screen shares (htop's Panel_onKey): j/k,
 * Up/Down, PgUp/PgDn, Space, g/G, Home/End move *pos within 0..max; page
 * is a page's length. False for any other key. */
bool		 tui_move_key(int ch, size_t *pos, size_t max, size_t page);
/* A bar "[#####.....]" of width cells, done/total filled. */
void		 tui_bar(int y, int x, int width, long long done,
		     long long failed, long long total);
/* "3m05s" style age of a history timestamp. */
void		 tui_age(const char *timestamp, char *buf, size_t len);
/* A spinner character that turns with the clock. */
char		 tui_spinner(void);

/* screen-text.c: a scrollable list of lines; optionally selectable with an
 * open callback (Enter). */
typedef void	 (*tui_text_open_cb)(void *arg, size_t line);
struct screen	*tui_text_push(const char *title, const char *text);
struct screen	*tui_text_push_lines(const char *title, char **lines,
		     size_t n, tui_text_open_cb, void *arg,
		     void (*arg_free)(void *));
/* An extra key of a page (e.g. "d" on the orphan list): act(arg) runs on
 * it. what and hint as in struct tui_key. */
void		 tui_text_action(struct screen *, int key, const char *what,
		     const char *hint, void (*act)(void *arg));
void		 tui_help_push(struct screen *);

/* tui-sink.c / tui-job.c: a flow run on a worker thread. Its events reach
 * the UI thread through a mutex-protected queue drained each loop turn. */
struct tui_event {
	enum event_type	 type;
	char		*step;
	char		*text;
	double		 seconds;
	long long	 done, failed, total;
	int		 workers;
	bool		 task_ok;	/* EV_TASK_DONE: the attempt's result */
	struct tui_event *next;
};

enum tui_job_kind {
	JOB_LOCAL,	/* local_run() */
	JOB_CREATE,	/* flow_ops.create */
	JOB_RESUME,	/* flow_ops.resume */
	JOB_CLEANUP,	/* flow_ops.cleanup */
	JOB_ORPHANS,	/* flow_ops.cleanup_orphans */
	JOB_PLAN,	/* flow_ops.plan: result is the plan */
	JOB_FIND_ORPHANS, /* flow_ops.orphans: result is the list */
};

struct tui_job {
	enum tui_job_kind	 kind;
	pthread_t		 thread;
	bool			 started;	/* thread made */
	struct sink		 sink;		/* given to the core */
	pthread_mutex_t		 lock;		/* guards the queue, cancel,
						 * done, abandoned */
	struct tui_event	*head, *tail;	/* events not yet drawn */
	int			 cancel;	/* 0, FLOW_CANCEL_KEEP or
						 * FLOW_CANCEL_TEARDOWN;
						 * read by the core */
	bool			 done;		/* the thread has ended */
	bool			 abandoned;	/* the UI let go: the thread
						 * frees the job at its end */
	/* In: what to run (the job's own copies). */
	json_t			*answers;	/* create, plan; local:
						 * project... */
	char			*id;		/* resume, cleanup; create's */
	json_t			*orphans;	/* cleanup_orphans */
	/* Out: how it went (read once done). */
	int			 rv;		/* 0 ok, -1 failed, -2 input */
	char			*cause;
	json_t			*result;	/* JOB_PLAN, JOB_FIND_ORPHANS */
	struct local_result	 local;		/* JOB_LOCAL; a create or
						 * resume: how its run went */
	bool			 cancelled;	/* the user cancelled it */
	char			*state;		/* create, resume, cleanup:
						 * the run set's state at
						 * the end, or NULL */
};

struct tui_job	*tui_job_start(enum tui_job_kind, json_t *answers,
		     const char *id, json_t *orphans);
/* Takes the queued events (oldest first); caller frees with
 * tui_events_free. Sets *done once the thread has ended. */
struct tui_event *tui_job_events(struct tui_job *, bool *done);
void		 tui_events_free(struct tui_event *);
/* Asks the job to stop: keep (FLOW_CANCEL_KEEP) or tear down
 * (FLOW_CANCEL_TEARDOWN) what it made; does not wait. */
void		 tui_job_cancel(struct tui_job *, int how);
/* Waits for the thread and frees the job. */
void		 tui_job_free(struct tui_job *);
/* Lets go of a job without waiting: a job still running frees itself
 * when it ends and its result is dropped. */
void		 tui_job_abandon(struct tui_job *);
/* Jobs let go of that are still running. */
int		 tui_jobs_adrift(void);
void		 tui_sink_init(struct tui_job *);

/* screen-wait.c: a network call as a job, over the screen owner (the top
 * one): that screen stays drawn, a spinner and the job's latest log line
 * show on the status line, Esc abandons the job. done(job, owner) runs
 * from the loop once the job ends, if owner is still on the stack; the
 * job is freed after. */
typedef void	 (*tui_wait_cb)(struct tui_job *, struct screen *owner);
void		 tui_wait_push(struct screen *owner, struct tui_job *,
		     const char *what, tui_wait_cb done);

/* The screens. */
struct screen	*tui_menu_push(struct menu *main);
/* Asks the questions of menus/<flow>.yaml, then shows the confirmation. */
void		 tui_form_push(const char *flow);
struct screen	*tui_confirm_push(const char *flow, const struct menu *,
		     json_t *answers, struct screen *base);
/* Runs a job with the progress screen as its sink; pops everything above
 * base first. */
void		 tui_progress_push(struct screen *base, struct tui_job *,
		     const char *title);
void		 tui_results_push(struct local_result *);
/* The results folder of a cloud run (performance.txt, records.jsonl);
 * fate: what became of its machines, shown under the title. */
void		 tui_results_push_dir(const char *project, const char *dir,
		     const char *fate);
/* mode: NULL (all actions), "resume" or "cleanup" (hint in the title). */
struct screen	*tui_history_push(const char *mode);
/* The history screen nearest below s (s included), or NULL. */
struct screen	*tui_history_find(struct screen *s);

#endif
