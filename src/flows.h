/* The cloud flows as a front end sees them. A provider layer (src/wizard +
 * src/cloud) fills flow_ops at start-up; a NULL member means "not in this
 * build" and the front end says so instead of offering it. The TUI and the
 * CLI commands both drive the flows only through these calls.
 *
 * Answers are a JSON object with the keys of menus/create.yaml, checked
 * by its rules (src/wizard/answers.c):
 *   project (string, folder with fanout.yaml), name (string, 3 to 63
 *   chars), provider ("aws", "gcp": the providers of this build),
 *   region (one of the provider's regions), zone (a zone of that region,
 *   or null: the provider picks one; only for a provider with zones,
 *   gcp: absent otherwise), engine (a cloud engine of this build, src/engine: "bastion",
 *   "slurm"), nodes (integer 1..100, default 2; only for an engine that
 *   runs on several machines, slurm: absent otherwise), instance_type
 *   (the machines that run tasks: the VM or each node; default the
 *   provider's), head_instance_type (the cluster's head; engines with
 *   nodes only), files (integer >= 0, 0 = all), cleanup_after (boolean,
 *   default true).
 * Progress goes to the sink; sink->cancelled is polled to stop early. Its
 * answer also says what the user wants done with what a create or resume
 * made: FLOW_CANCEL_TEARDOWN tears it all down; any other non-zero answer
 * keeps it (the bastion stopped), whatever cleanup_after said. The flow
 * carries that out itself, and nothing it does after the cancel is itself
 * cancelled. */
#ifndef FANOUT_FLOWS_H
#define FANOUT_FLOWS_H

#include <jansson.h>

struct local_result;
struct sink;

/* sink->cancelled's answers (0: go on). */
#define FLOW_CANCEL_KEEP	1	/* stop; keep what was made */
#define FLOW_CANCEL_TEARDOWN	2	/* stop; tear down what was made */

struct flow_ops {
	/* What a create would make, for the confirmation screen:
	 * {"identity": "account/user", "resources": [{"kind","name",
	 * "detail","hourly_usd"}], "hourly_usd": total}. */
	json_t	*(*plan)(json_t *answers, char **cause);
	/* Creates the run set (and runs the project when the engine can);
	 * sets *id to the new run-set id, even on failure once a record
	 * exists. When the project ran, *run (if not NULL) gets how it went
	 * (its tasks, ok, errors, unfinished, results folder; results_dir
	 * stays NULL when nothing ran); the caller frees it with
	 * local_result_free. Returns 0 (tasks may have failed: see *run),
	 * or -1 with a cause. */
	int	 (*create)(json_t *answers, struct sink *, char **id,
		     struct local_result *run, char **cause);
	/* Runs again on an existing run set; *run as for create. */
	int	 (*resume)(const char *id, struct sink *,
		     struct local_result *run, char **cause);
	/* Tears a run set down (reverse dependency order). */
	int	 (*cleanup)(const char *id, struct sink *, char **cause);
	/* Tagged resources no live record knows: a JSON array of
	 * {"kind","id","region","run_set","provider"}, every provider of
	 * the build with credentials set up searched. */
	json_t	*(*orphans)(struct sink *, char **cause);
	/* Deletes the given orphans (an array as orphans returns). */
	int	 (*cleanup_orphans)(json_t *orphans, struct sink *,
		     char **cause);
};

extern struct flow_ops flow_ops;

#endif
