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

/* One line of a screen's help: the keys and what they do. */
struct tui_key {
	const char	*keys;
	const char	*what;
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
};

struct screen {
	const struct screen_ops	*ops;
	void			*data;	/* the screen's own state */
	struct screen		*below;	/* next on the stack */
};

/* tui.c: the stack, the loop, prompts and the status message. */
struct screen	*tui_push(const struct screen_ops *, void *data);
/* Pops (and frees) every screen above s. */
void		 tui_pop_above(struct screen *);
struct screen	*tui_top(void);
/* A message on the status line until the next key. */
void		 tui_message(bool error, const char *fmt, ...)
		     __attribute__((format(printf, 2, 3)));
/* Asks on the status line; returns one of the characters in answers, or 0
 * for Esc. The screens below keep ticking (a running job stays drawn). */
int		 tui_ask(const char *answers, const char *fmt, ...)
		     __attribute__((format(printf, 2, 3)));
/* Non-zero once SIGINT/SIGTERM/SIGHUP asked to leave. */
bool		 tui_interrupted(void);
/* The main menu screen's menus (loaded once). */
struct menu	*tui_menu(const char *name, char **cause);

/* tui-draw.c: colours and common parts of every screen. */
void		 tui_colors_init(void);
attr_t		 tui_attr(enum tui_color);
/* Top bar with the title; footer with the key hints; returns nothing. */
void		 tui_draw_frame(const char *title, const char *hints);
/* Text clipped to the width left on the row. */
void		 tui_put(int y, int x, attr_t, const char *fmt, ...)
		     __attribute__((format(printf, 4, 5)));
/* Wraps text into rows from y, at most rows; returns rows used. */
int		 tui_wrap(int y, int x, int width, int rows, attr_t,
		     const char *text);
/* A bar "[#####.....]" of width cells, done/total filled. */
void		 tui_bar(int y, int x, int width, long long done,
		     long long failed, long long total);
/* "3m05s" style age of a history timestamp. */
void		 tui_age(const char *timestamp, char *buf, size_t len);

/* screen-text.c: a scrollable list of lines; optionally selectable with an
 * open callback (Enter). */
typedef void	 (*tui_text_open_cb)(void *arg, size_t line);
struct screen	*tui_text_push(const char *title, const char *text);
struct screen	*tui_text_push_lines(const char *title, char **lines,
		     size_t n, tui_text_open_cb, void *arg,
		     void (*arg_free)(void *));
void		 tui_help_push(const struct screen *);

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
};

struct tui_job {
	enum tui_job_kind	 kind;
	pthread_t		 thread;
	bool			 started;	/* thread made */
	struct sink		 sink;		/* given to the core */
	pthread_mutex_t		 lock;		/* guards the queue, done */
	struct tui_event	*head, *tail;	/* events not yet drawn */
	int			 cancel;	/* user asked; read by core */
	int			 teardown;	/* tear down after a cancel */
	bool			 done;		/* the thread has ended */
	/* In: what to run. */
	json_t			*answers;	/* create; local: project... */
	char			*id;		/* resume, cleanup; create's */
	json_t			*orphans;	/* cleanup_orphans */
	/* Out: how it went (read once done). */
	int			 rv;		/* 0 ok, -1 failed, -2 input */
	char			*cause;
	struct local_result	 local;		/* JOB_LOCAL; a create or
						 * resume: how its run went */
	bool			 cancelled;	/* the user cancelled it */
	int			 torn_down;	/* after the cancel: 1 torn
						 * down, -1 the teardown
						 * failed, 0 not asked */
};

struct tui_job	*tui_job_start(enum tui_job_kind, json_t *answers,
		     const char *id, json_t *orphans);
/* Takes the queued events (oldest first); caller frees with
 * tui_events_free. Sets *done once the thread has ended. */
struct tui_event *tui_job_events(struct tui_job *, bool *done);
void		 tui_events_free(struct tui_event *);
/* Asks the job to stop (and maybe tear down); does not wait. */
void		 tui_job_cancel(struct tui_job *, bool teardown);
/* Waits for the thread and frees the job. */
void		 tui_job_free(struct tui_job *);
void		 tui_sink_init(struct tui_job *);

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
/* The results folder of a cloud run (performance.txt, records.jsonl). */
void		 tui_results_push_dir(const char *project, const char *dir);
/* mode: NULL (all actions), "resume" or "cleanup" (hint in the title). */
struct screen	*tui_history_push(const char *mode);

#endif
