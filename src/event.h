/* Events: the only way the core tells a front end what is happening. The
 * core never prints or draws; it calls event_emit() and a sink (the TUI, the
 * plain-text printer, a test's recorder) decides what to show. */
#ifndef FANOUT_EVENT_H
#define FANOUT_EVENT_H

#include <stdbool.h>

struct record;

enum event_type {
	EV_STEP_START,	/* step begins: step */
	EV_STEP_DONE,	/* step ended well: step, seconds */
	EV_STEP_FAIL,	/* step failed: step, text = cause */
	EV_LOG,		/* a line of log: step (may be NULL), text */
	EV_BYTES,	/* bytes moved: step, done, total */
	EV_TASK_DONE,	/* a task attempt ended: record, done/failed/total */
	EV_TASKS_START,	/* a run begins: total, workers */
};

struct event {
	enum event_type		 type;
	const char		*step;	  /* step name, e.g. "bastion" */
	const char		*text;	  /* log line or failure cause */
	double			 seconds; /* step duration for STEP_DONE */
	long long		 done;	  /* bytes or tasks finished so far */
	long long		 failed;  /* tasks failed so far */
	long long		 total;	  /* bytes or tasks in all */
	int			 workers; /* EV_TASKS_START: pool size */
	const struct record	*record;  /* EV_TASK_DONE: the attempt */
};

struct sink {
	/* Called for every event, on the thread that emitted it. */
	void	 (*emit)(struct sink *, const struct event *);
	/* Non-zero once the user asked to cancel; the core polls it. */
	int	 (*cancelled)(struct sink *);
	void	*data;	/* the front end's own state */
};

void	event_emit(struct sink *, const struct event *);
void	event_log(struct sink *, const char *step, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	event_step(struct sink *, enum event_type, const char *step,
	    const char *text, double seconds);
bool	event_cancelled(struct sink *);

#endif
