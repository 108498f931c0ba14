#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "event.h"
#include "history/history.h"
#include "run/local.h"
#include "run/pool.h"
#include "run/setup.h"
#include "run/rerun.h"
#include "util/fs.h"
#include "util/xmalloc.h"

void
local_record_history(const char *engine, const char *host,
    const char *project_dir, double started, double ended, int workers,
    struct local_result *lr)
{
	char *ts_start, *ts_end, *cause = NULL;
	const char *state = lr->cancelled ? "interrupted" : "done";
	json_t *rec, *run;

	rec = history_new(host != NULL ? "remote" : "local", lr->project);
	json_object_set_new(rec, "project_dir", json_string(project_dir));
	json_object_set_new(rec, "provider", json_string(host != NULL ?
	    "ssh" : "local"));
	if (host != NULL)
		json_object_set_new(rec, "host", json_string(host));
	json_object_set_new(rec, "state", json_string(state));
	ts_start = history_timestamp(started);
	ts_end = history_timestamp(ended);
	run = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:i, "
	    "s:o}", "started", ts_start, "ended", ts_end, "engine", engine,
	    "state", state, "results", lr->results_dir,
	    "tasks", (json_int_t)lr->perf.tasks,
	    "ok", (json_int_t)lr->perf.ok, "errors",
	    (json_int_t)lr->perf.errors, "unfinished",
	    (json_int_t)lr->perf.unfinished, "workers", workers,
	    "efficiency", report_efficiency_json(&lr->perf));
	report_run_numbers(run, &lr->perf);
	history_add_run(rec, run);
	free(ts_start);
	free(ts_end);
	if (history_save(rec, &cause) == 0)
		lr->history_id = xstrdup(json_string_value(
		    json_object_get(rec, "id")));
	else
		lr->history_warning = cause;
	json_decref(rec);
}

enum local_status
local_run(const struct local_opts *o, struct local_result *lr, char **cause)
{
	struct project pr;
	struct run_info ri;
	struct pool_opts po;
	struct rerun_plan pl;
	struct event ev = { .type = EV_TASKS_START };
	char **inputs = NULL, *base = NULL, *logdir = NULL, *recpath, *prog;
	char **names, **paths = NULL;
	size_t ninputs = 0, i;
	FILE *rf;
	int cancelled = 0;
	enum local_status rv = LOCAL_BAD_INPUT;

	memset(lr, 0, sizeof *lr);
	memset(&pl, 0, sizeof pl);
	if (project_load(o->project_dir, &pr, cause) != 0)
		return LOCAL_BAD_INPUT;
	if (o->task_inputs != NULL) {
		inputs = xcalloc(o->ninputs + 1, sizeof *inputs);
		for (ninputs = 0; ninputs < o->ninputs; ninputs++)
			inputs[ninputs] = xstrdup(o->task_inputs[ninputs]);
	} else if (project_inputs(&pr, o->files, &inputs, &ninputs,
	    cause) != 0)
		goto out;
	/* The plan is of the inputs as records name them (a bucket's
	 * objects: their URLs); the tasks get their paths. */
	names = o->task_inputs != NULL ? (char **)o->inputs : inputs;
	if (rerun_plan(o->rerun, names, ninputs, pr.retries, &pl,
	    cause) != 0)
		goto out;
	paths = xcalloc(pl.n + 1, sizeof *paths);
	for (i = 0; i < pl.n; i++)
		paths[i] = inputs[pl.tasks[i]];
	if (o->results != NULL && report_check_dir(o->results, cause) != 0)
		goto out;

	/* From here on, failures are run-time ones. The setup, then the
	 * program it may have made, before anything of the run is made. */
	rv = LOCAL_FAILED;
	if (pr.setup != NULL && !o->setup)
		event_log(o->sink, "setup", "setup: skipped on this machine (a "
		    "local run; give --setup to run it here)");
	else if (pr.setup != NULL) {
		char **env = pool_env(&pr);
		int rc = setup_local(&pr, env, o->sink, cause);

		pool_env_free(env);
		if (rc != 0)
			goto out;
	}
	if ((prog = pool_program(&pr, cause)) == NULL) {
		if (pr.setup != NULL && !o->setup) {
			char *c = *cause;

			xasprintf(cause, "%s (setup: was skipped; give --setup "
			    "to run it here)", c);
			free(c);
		}
		goto out;
	}
	free(prog);
	memset(&ri, 0, sizeof ri);
	ri.started = time_now();
	if (o->results != NULL) {
		if (fs_mkdir_p(o->results, 0755, cause) != 0)
			goto out;
		lr->results_dir = fs_realpath(o->results, cause);
	} else {
		base = fs_join(pr.dir, "results");
		lr->results_dir = report_new_dir(base, cause);
	}
	if (lr->results_dir == NULL)
		goto out;
	lr->project = xstrdup(pr.name);
	logdir = fs_join(lr->results_dir, "logs");
	if (fs_mkdir_p(logdir, 0755, cause) != 0)
		goto out;
	recpath = fs_join(lr->results_dir, "records.jsonl");
	rf = fopen(recpath, "w");
	free(recpath);
	if (rf == NULL) {
		xasprintf(cause, "cannot write records in %s: %s",
		    lr->results_dir, strerror(errno));
		goto out;
	}
	/* The earlier run's records of the tasks not run again. */
	if (o->rerun != NULL && rerun_carry(o->rerun, &pl, lr->results_dir,
	    rf, cause) < 0) {
		fclose(rf);
		goto out;
	}

	memset(&po, 0, sizeof po);
	po.project = &pr;
	po.inputs = paths;
	po.names = o->task_inputs != NULL ? pl.inputs : NULL;
	po.ninputs = pl.n;
	po.tasks = pl.tasks;
	/* workers: not given: one per online CPU of this machine. */
	if (o->workers > 0)
		po.workers = o->workers;
	else if (pr.workers_set)
		po.workers = pr.workers;
	else if ((po.workers = (int)sysconf(_SC_NPROCESSORS_ONLN)) < 1)
		po.workers = 1;
	po.logdir = logdir;
	po.records = rf;
	po.sink = o->sink;
	ri.project = pr.name;
	ri.engine = "local";
	ri.inputs = o->task_inputs != NULL ? (char **)o->inputs : inputs;
	ri.ntasks = ninputs;
	ri.workers = po.workers;
	ri.nodes = 1;
	ri.setup = time_now() - ri.started;
	ev.total = (long long)pl.n;
	ev.workers = po.workers;
	event_emit(o->sink, &ev);
	if (pool_run(&po, NULL, &cancelled, cause) != 0) {
		fclose(rf);
		goto out;
	}
	fclose(rf);
	ri.ended = time_now();
	lr->cancelled = cancelled;
	if (report_write_dir(lr->results_dir, &ri, &lr->perf, cause) != 0)
		goto out;
	/* A cancel that came after the last task ended stopped nothing. */
	if (lr->perf.unfinished == 0)
		lr->cancelled = 0;
	local_record_history("local", NULL, pr.dir, ri.started, ri.ended,
	    ri.workers, lr);
	rv = LOCAL_OK;
out:
	free(paths);
	rerun_plan_free(&pl);
	project_inputs_free(inputs, ninputs);
	project_free(&pr);
	free(base);
	free(logdir);
	return rv;
}

void
local_result_free(struct local_result *lr)
{
	free(lr->project);
	free(lr->results_dir);
	free(lr->history_id);
	free(lr->history_warning);
	memset(lr, 0, sizeof *lr);
}
