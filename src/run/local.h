/* A whole local run: project, inputs, pool, results folder, history. Used by
 * `fanout run --local` and by the TUI's "Run on this machine". */
#ifndef FANOUT_LOCAL_H
#define FANOUT_LOCAL_H

#include "run/report.h"

struct sink;

struct local_opts {
	const char	*project_dir;
	long		 files;		/* first N inputs; 0 = the project's */
	int		 workers;	/* 0 = the project's */
	const char	*results;	/* exact results folder, or NULL for
					 * <project>/results/<stamp> */
	struct sink	*sink;
	/* Inputs the caller found (a bucket's objects, fetched): what each
	 * task gets (task_inputs, relative to the project folder) and what
	 * the records name (inputs); NULL: the project's own inputs. */
	char *const	*task_inputs;
	char *const	*inputs;
	size_t		 ninputs;
};

struct local_result {
	char		*project;	/* project name */
	char		*results_dir;	/* absolute */
	char		*history_id;	/* NULL when history could not be kept */
	char		*history_warning; /* why not, or NULL */
	struct perf	 perf;
	int		 cancelled;
};

enum local_status {
	LOCAL_OK = 0,		/* ran; tasks may have failed (see perf) */
	LOCAL_FAILED = -1,	/* failed at run time */
	LOCAL_BAD_INPUT = -2,	/* nothing was written */
};

enum local_status local_run(const struct local_opts *, struct local_result *,
		      char **cause);
void		  local_result_free(struct local_result *);
/* Keeps a finished run in the history as a record of its own (kind
 * "local", or "remote" when host is set), setting lr->history_id or
 * lr->history_warning. lr->project and lr->results_dir must be set. */
void		  local_record_history(const char *engine, const char *host,
		      const char *project_dir, double started, double ended,
		      int workers, struct local_result *lr);

#endif
