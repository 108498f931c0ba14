/* The local engine's pool: the task pool of src/worker/taskpool.h (the one
 * fanout-worker runs on remote hosts) with fanout's records and events. */
#ifndef FANOUT_POOL_H
#define FANOUT_POOL_H

#include <stddef.h>
#include <stdio.h>

#include "run/project.h"
#include "run/record.h"

struct sink;

struct pool_opts {
	const struct project	 *project;
	char			**inputs;
	char *const		 *names;   /* what the records call each
					    * input (a bucket URL), or NULL:
					    * inputs */
	size_t			  ninputs;
	int			  workers;
	const char		 *logdir;  /* the worker slots' logs: wN.out,
					    * wN.err (record.h) */
	FILE			 *records; /* each record appended here */
	struct sink		 *sink;	   /* progress; polled for cancel */
};

/* Runs every input; each attempt is appended to records and out (when not
 * NULL: memory grows with the attempts) and emitted as EV_TASK_DONE.
 * Returns 0 when the pool ran (tasks may have failed), -1 with a cause
 * when it could not run. A cancel (sink or SIGINT/SIGTERM) stops dispatch,
 * ends running tasks, and returns 0 with *cancelled set. */
int	pool_run(const struct pool_opts *, struct record_list *out,
	    int *cancelled, char **cause);
/* Installs SIGINT/SIGTERM handlers that ask a running pool to stop. */
void	pool_catch_signals(void);
/* Non-zero once a catched signal asked to stop. */
int	pool_interrupted(void);

#endif
