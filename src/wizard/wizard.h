/* The cloud flows (create, resume, cleanup, orphans) over a provider's ops
 * table, and the step runner they use. The TUI reaches them through
 * flow_ops (flows.h, filled by wizard_register); the CLI commands call the
 * same functions, so both share one code path. */
#ifndef FANOUT_WIZARD_H
#define FANOUT_WIZARD_H

#include <jansson.h>
#include <pthread.h>

#include "event.h"

struct cloud_run;
struct provider;
struct cloud_step;
struct local_result;
struct project;
struct rerun;
struct sink;

/* A sink that takes a lock around another: while it is run->sink,
 * several threads may emit to it (the steps of a graph, the machines of a
 * cluster stopping at once). */
struct locked_sink {
	struct sink	 sink;		/* what the threads see */
	struct sink	*inner;		/* the front end's sink */
	pthread_mutex_t	 lock;
};
/* Makes run->sink a locked_sink around it, until wizard_unlock_sink. */
void	 wizard_lock_sink(struct cloud_run *, struct locked_sink *);
void	 wizard_unlock_sink(struct cloud_run *, struct locked_sink *);

/* Runs a step table: each step on its own thread, started as soon as all
 * steps it names in "after" are done (not when a whole wave is). Emits
 * step start/done/fail to run->sink, serialised. The first failure or a
 * cancel of the sink starts no more steps (a log line names the ones
 * still running); the running ones are joined before it returns, with the failing step's cause (or "cancelled"). A
 * duplicate name, an unknown name in "after" or a cycle is refused with
 * a cause before any step starts. */
int	 wizard_run_steps(struct cloud_run *, const struct cloud_step *,
	     char **cause);

/* Checks create answers (project folder, provider, engine, nodes, files)
 * and loads the project into pr (project_free it). -1 with a cause. */
int	 wizard_check(json_t *answers, struct project *pr, char **cause);
/* The menus' hooks (questions.h): engines, engine.nodes and
 * provider.regions lists, the provider.region default. */
void	 wizard_menus_register(void);
/* Checks the menus/create.yaml keys present in answers with the menu's
 * rules (menu_check_answers): the rules of the form and the CLI. */
int	 wizard_check_answers(const json_t *answers, char **cause);

/* Checks that a loaded record is one a cloud flow can work on: a cloud
 * run set (not a local or --host run) of a provider this build has,
 * with kinds and regions that provider knows. Sets *pp (may be NULL).
 * -1 with a cause naming the record and what to do: bad input. */
int	 wizard_cloud_record(json_t *rec, const struct provider **pp,
	     char **cause);

/* The flows (signatures as flows.h). */
/* The provider's settling of the machines (provider.h settle): sets
 * answers "instance_type" and "machine". 0 done, 1 bad input (a type the
 * region lacks, nothing fits: nothing made), -1 failed; with a cause. */
int	 wizard_settle(json_t *answers, char **cause);
json_t	*wizard_plan(json_t *answers, char **cause);
/* How long the run of a create with answers would take, from this
 * project's previous runs in the history (estimate.c): {"seconds",
 * "tasks", "task_s", "setup_s", "nodes", "workers", "runs", "usd" (when
 * hourly_usd >= 0)}, or {"none": "no estimate before the first run"};
 * both with "text", the estimate in words (wizard_estimate_text).
 * wizard_plan puts it in plan["estimate"]. */
json_t	*wizard_estimate(const json_t *answers, double hourly_usd);
/* An estimate in words, "12 min, about $0.41 (600 tasks x ...)"; caller
 * frees. */
char	*wizard_estimate_text(const json_t *estimate);
int	 wizard_create(json_t *answers, struct sink *, char **id,
	     struct local_result *run, char **cause);
int	 wizard_resume(const char *id, struct sink *,
	     struct local_result *run, char **cause);
/* A resume that checks and starts the bastion, and runs the project
 * again only when do_run (else leaves the bastion running). */
int	 wizard_resume_run(const char *id, int do_run, struct sink *,
	     struct local_result *run, char **cause);
/* The same, running only the tasks the last run left without a result
 * (rr: run/rerun.h), into a results folder that merges with its. */
int	 wizard_resume_rerun(const char *id, const struct rerun *rr,
	     struct sink *, struct local_result *run, char **cause);
int	 wizard_cleanup(const char *id, struct sink *, char **cause);

/* Detached runs (detach.c). Checks a create --detach: a results: s3://
 * bucket in the project, the bastion engine, a run; -1 with a cause. */
int	 wizard_detach_check(json_t *answers, struct project *, char **cause);
/* After the engine started a detached run: the record's state
 * "detached", and a line saying where to follow it. */
int	 wizard_detached(struct cloud_run *, char **cause);
/* The record's last run when it is a detached one (it has "detached":
 * {"url", "bucket", "prefix", "action"}), else NULL. Borrowed. */
json_t	*wizard_detach_entry(json_t *rec);
/* The head's status.json of rec's detached run, read from the bucket and
 * checked: 0 with *status (NULL when the head has not written it yet),
 * or -1 with a cause. */
int	 wizard_detach_status(json_t *rec, json_t **status, char **cause);
/* "detached: 120/150 done", or with the outcome once it is over; caller
 * frees. status may be NULL (not written yet). */
char	*wizard_detach_text(json_t *entry, json_t *status);
/* A run set's line for history and status: its detached run's text from
 * the head's status object ("detached: cannot read the head's status
 * (...)" when it cannot be read), or NULL when its last run is not a
 * detached one still out there. *statusp (may be NULL) gets the status
 * object (NULL when not written or not read; caller decrefs). */
char	*wizard_detach_line(json_t *rec, json_t **statusp);
/* Non-zero when the head is done with its run set (tore it down, stopped
 * it, or failed after the run): its results are in the bucket. */
int	 wizard_detach_over(json_t *status);
/* Brings a detached run's results home: the head's records, inputs and
 * logs from the bucket into results (NULL: a new folder under the
 * project's results/), the report built from them as an attached run's;
 * the run's entry in rec updated (the caller saves rec). *dir gets the
 * folder. -1 with a cause. */
int	 wizard_detach_fetch(json_t *rec, json_t *status, const char *results,
	     struct sink *, char **dir, char **cause);
/* Asks the cloud about a kept run set's machines (one DescribeInstances
 * each; nothing for a record torn down, local, or held by another
 * command) and notes in the record what changed: a machine stopped by
 * itself (idle stop) with when (the cloud's transition time, else now),
 * and the run set "stopped" once all are. 0, or -1 with *note (caller
 * frees) saying the cloud did not answer and the state is as recorded. */
int	 wizard_refresh(const char *id, char **note);
/* Orphans in region (NULL: the configured one) of provider (NULL: aws). */
json_t	*wizard_orphans_in(const char *provider, const char *region,
	     struct sink *, char **cause);
json_t	*wizard_orphans(struct sink *, char **cause);
int	 wizard_cleanup_orphans(json_t *orphans, struct sink *,
	     char **cause);

/* Fills flow_ops (flows.h) with the functions above. */
void	 wizard_register(void);
/* The name the lead's main.c calls: same as wizard_register. */
void	 aws_flows_register(void);

#endif
