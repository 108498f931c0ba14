/* A run of the tasks an earlier run left without a result, merged with it
 * (fanout resume ID --unfinished, fanout run --local --unfinished): the
 * engine runs only those tasks, under their own task numbers, into a new
 * results folder whose records.jsonl starts with the earlier run's records
 * of every other task (their logs copied along), so that the report of the
 * new folder covers the whole run: results.csv has every task once. */
#ifndef FANOUT_RERUN_H
#define FANOUT_RERUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct rerun {
	const char	*from;		/* the earlier run's results folder */
	bool		 failed;	/* also the tasks that failed for good
					 * (a result, but an error) */
};

/* The tasks to run of the project's inputs. */
struct rerun_plan {
	size_t		*tasks;		/* task numbers, ascending */
	char	       **inputs;	/* their inputs (the caller's strings,
					 * not copied) */
	size_t		 n;
};

/* Which of inputs (the project's now: they must be the earlier run's, or
 * -1 with a cause saying they changed) lack a result in the earlier run:
 * no attempt, a cancelled one, or a failed one that retries would have
 * tried again (attempt <= retries); with failed, also those that failed
 * for good. rr NULL: every input. */
int	rerun_plan(const struct rerun *rr, char **inputs, size_t ninputs,
	    int retries, struct rerun_plan *, char **cause);
void	rerun_plan_free(struct rerun_plan *);
/* Appends the earlier run's records of the tasks not in plan to records
 * (the new folder dir's records.jsonl), their logs copied into dir/logs
 * under names of their own. Returns the number of records carried, or -1
 * with a cause. */
long	rerun_carry(const struct rerun *, const struct rerun_plan *,
	    const char *dir, FILE *records, char **cause);
/* How many tasks of the project in project_dir (its first files inputs,
 * 0: all) rr would run (plan_n), of how many (total). -1 with a cause when
 * the project or the earlier run cannot be read. */
int	rerun_count(const struct rerun *rr, const char *project_dir,
	    long files, size_t *plan_n, size_t *total, char **cause);
/* The last run's results folder in a project's results/ (the "latest"
 * link report_new_dir keeps), or NULL with a cause. */
char	*rerun_latest(const char *project_dir, char **cause);

#endif
