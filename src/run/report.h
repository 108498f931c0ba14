/* The results folder, the same for every engine. */
#ifndef FANOUT_REPORT_H
#define FANOUT_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "run/record.h"

struct run_info {
	const char	*project;	/* project name */
	const char	*engine;	/* local, bastion, slurm */
	char	       **inputs;	/* every input, by task index */
	size_t		 ntasks;
	int		 workers;	/* per node */
	int		 nodes;
	double		 started;	/* wall clock: run began (set-up incl.) */
	double		 setup;		/* seconds of set-up before tasks */
	double		 ended;		/* wall clock: run ended */
};

struct perf {
	size_t	 tasks;		/* total tasks */
	size_t	 ok;
	size_t	 errors;	/* tasks whose last attempt failed */
	size_t	 unfinished;	/* tasks with no finished attempt */
	size_t	 attempts;
	double	 avg, min, max;	/* ok task durations (seconds) */
	int	 min_task, max_task;
	double	 span;		/* first start to last end */
	double	 serial;	/* sum of all attempt durations */
	double	 efficiency;	/* serial / (span * workers * nodes); -1
				 * when no attempt finished (nothing but
				 * cancelled ones): no number to show */
	double	 setup;
	double	 total;
	int	 nodes;		/* the run's, or the hosts that ran tasks
				 * when more */
	int	 workers;	/* per node */
	int	 slots;		/* nodes x workers */
};

void	report_perf(const struct record_list *, const struct run_info *,
	    struct perf *);
/* The efficiency as JSON: a number, or null when there is none. */
json_t	*report_efficiency_json(const struct perf *);
/* Adds a run's numbers to its history entry (rec["runs"]): "serial_s",
 * "setup_s", "span_s", "nodes", "workers" (what the next create's
 * estimate reads). */
void	report_run_numbers(json_t *entry, const struct perf *);
/* The performance table (performance.txt and the CLI summary). */
char	*report_perf_text(const struct perf *);
/* Writes results.csv, errors.csv, logs.csv, performance.txt and
 * runtime.png into dir from dir/records.jsonl (which the run wrote as it
 * went), reading it one record at a time, and the numbers into *pf. Also
 * cuts each failed attempt's output out of the worker logs into
 * dir/logs/TASK-ATTEMPT.out|err. */
int	report_write_dir(const char *dir, const struct run_info *,
	    struct perf *, char **cause);
/* The same from records in memory, writing dir/records.jsonl first. */
int	report_write(const char *dir, const struct record_list *,
	    const struct run_info *, char **cause);
/* An explicit results folder (--results) must be new or empty: never
 * overwrite. 0 when dir is missing or empty, else -1 with a cause. */
int	report_check_dir(const char *dir, char **cause);
/* Makes a new results folder under base: base/YYYYmmdd-HHMMSS[-N], never
 * an existing one, and points base/latest at it. */
char	*report_new_dir(const char *base, char **cause);

#endif
