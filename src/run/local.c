#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "event.h"
#include "history/history.h"
#include "run/local.h"
#include "run/pool.h"
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
	struct event ev = { .type = EV_TASKS_START };
	char **inputs = NULL, *base = NULL, *logdir = NULL, *recpath;
	size_t ninputs = 0;
	FILE *rf;
	int cancelled = 0;
	enum local_status rv = LOCAL_BAD_INPUT;

	memset(lr, 0, sizeof *lr);
	if (project_load(o->project_dir, &pr, cause) != 0)
		return LOCAL_BAD_INPUT;
	if (o->task_inputs != NULL) {
		inputs = xcalloc(o->ninputs + 1, sizeof *inputs);
		for (ninputs = 0; ninputs < o->ninputs; ninputs++)
			inputs[ninputs] = xstrdup(o->task_inputs[ninputs]);
	} else if (project_inputs(&pr, o->files, &inputs, &ninputs,
	    cause) != 0)
		goto out;
	if (o->results != NULL && report_check_dir(o->results, cause) != 0)
		goto out;

	/* From here on, things are written: failures are run-time ones. */
	rv = LOCAL_FAILED;
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

	memset(&po, 0, sizeof po);
	po.project = &pr;
	po.inputs = inputs;
	po.names = o->task_inputs != NULL ? o->inputs : NULL;
	po.ninputs = ninputs;
	po.workers = o->workers > 0 ? o->workers : pr.workers;
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
	ev.total = (long long)ninputs;
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
