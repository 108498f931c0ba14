/* How long a create's run would take and what it would cost, for the
 * confirmation (the TUI's and the CLI's printed plan): from this
 * project's previous runs in the history, the serial task time divided
 * over the slots (nodes x workers per node) plus the set-up time. Before
 * the first run there is no basis, and the plan says so. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "history/history.h"
#include "run/project.h"
#include "util/fs.h"
#include "util/xmalloc.h"
#include "wizard/wizard.h"

#define ESTIMATE_NONE "no estimate before the first run"

/* What the previous runs add up to. */
struct basis {
	double	 serial;	/* seconds of task time (every attempt) */
	double	 ran;		/* tasks that ran (ok + errors) */
	double	 setup;		/* set-up of the newest run that says, a
				 * cloud one first; -1 none */
	bool	 setup_cloud;	/* setup is a cloud run's */
	size_t	 runs;		/* runs counted */
};

/* A number >= 0 at o[key], or -1. */
static double
estimate_num(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	double d;

	if (!json_is_number(v))
		return -1;
	d = json_number_value(v);
	return isfinite(d) && d >= 0 ? d : -1;
}

/* A value of performance.txt ("Serial sum              12.500 s"), or
 * -1: for runs recorded before their entries held the numbers. */
static double
estimate_perf_value(const char *text, const char *row)
{
	const char *p = text;
	size_t len = strlen(row);
	double d;
	char *end;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, row, len) == 0 && p[len] == ' ') {
			d = strtod(p + len, &end);
			return end != p + len && isfinite(d) && d >= 0 ? d : -1;
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return -1;
}

/* Adds one run entry of rec["runs"] to b. */
static void
estimate_add_run(struct basis *b, const json_t *run)
{
	const char *results = history_str(run, "results", NULL);
	double serial = estimate_num(run, "serial_s");
	double setup = estimate_num(run, "setup_s"), ok, errors;
	bool cloud = strcmp(history_str(run, "engine", "local"), "local") != 0;
	char *path, *text, *why = NULL;

	ok = estimate_num(run, "ok");
	errors = estimate_num(run, "errors");
	if (serial < 0 && results != NULL) {
		path = fs_join(results, "performance.txt");
		if ((text = fs_read_file(path, NULL, &why)) != NULL) {
			serial = estimate_perf_value(text, "Serial sum");
			setup = estimate_perf_value(text, "Set-up time");
			free(text);
		}
		free(why);
		free(path);
	}
	if (serial < 0 || ok < 0 || errors < 0 || ok + errors < 1)
		return;
	b->serial += serial;
	b->ran += ok + errors;
	b->runs++;
	if (setup >= 0 && (b->setup < 0 || (cloud && !b->setup_cloud))) {
		b->setup = setup;
		b->setup_cloud = cloud;
	}
}

/* The runs of the project in dir (name: its records before they kept the
 * folder), newest first. */
static void
estimate_basis(struct basis *b, const char *dir, const char *name)
{
	json_t *list, *rec, *runs, *run;
	const char *rdir;
	char *why = NULL;
	size_t i, j;

	memset(b, 0, sizeof *b);
	b->setup = -1;
	if ((list = history_list(NULL, &why)) == NULL) {
		free(why);
		return;
	}
	json_array_foreach(list, i, rec) {
		rdir = history_str(rec, "project_dir", NULL);
		if (rdir == NULL)
			rdir = history_str(json_object_get(rec, "answers"),
			    "project", NULL);
		if (rdir != NULL ? strcmp(rdir, dir) != 0 :
		    strcmp(history_str(rec, "project", ""), name) != 0)
			continue;
		runs = json_object_get(rec, "runs");
		/* Newest first: a record's runs are in order. */
		for (j = json_array_size(runs); j > 0; j--) {
			run = json_array_get(runs, j - 1);
			if (json_is_object(run))
				estimate_add_run(b, run);
		}
	}
	json_decref(list);
}

/* est with its words ("text"). */
static json_t *
estimate_done(json_t *est)
{
	char *text = wizard_estimate_text(est);

	json_object_set_new(est, "text", json_string(text));
	free(text);
	return est;
}

json_t *
wizard_estimate(const json_t *answers, double hourly_usd)
{
	struct project pr;
	struct basis b;
	json_t *est, *v;
	char **inputs = NULL, *why = NULL;
	size_t ntasks = 0;
	double task_s, seconds;
	long long nodes = 1;
	int workers;

	if ((v = json_object_get(answers, "nodes")) != NULL &&
	    json_integer_value(v) > 0)
		nodes = json_integer_value(v);
	if (project_load(history_str(answers, "project", ""), &pr, &why) !=
	    0) {
		free(why);
		return estimate_done(json_pack("{s:s}", "none",
		    ESTIMATE_NONE));
	}
	/* workers: not given: one per vCPU of the machine settled for the
	 * answers (a local run: this machine's). */
	if (pr.workers_set)
		workers = pr.workers;
	else if (json_integer_value(json_object_get(json_object_get(answers,
	    "machine"), "vcpus")) > 0)
		workers = (int)json_integer_value(json_object_get(
		    json_object_get(answers, "machine"), "vcpus"));
	else
		workers = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (workers < 1)
		workers = 1;
	estimate_basis(&b, pr.dir, pr.name);
	if (b.runs == 0 || project_inputs(&pr, (long)json_integer_value(
	    json_object_get(answers, "files")), &inputs, &ntasks, &why) != 0) {
		free(why);
		project_free(&pr);
		return estimate_done(json_pack("{s:s}", "none",
		    ESTIMATE_NONE));
	}
	project_inputs_free(inputs, ntasks);
	project_free(&pr);
	task_s = b.serial / b.ran;
	if (b.setup < 0)
		b.setup = 0;
	seconds = (double)ntasks * task_s / ((double)nodes * workers) +
	    b.setup;
	est = json_pack("{s:f, s:I, s:f, s:f, s:I, s:i, s:I}", "seconds",
	    seconds, "tasks", (json_int_t)ntasks, "task_s", task_s, "setup_s",
	    b.setup, "nodes", (json_int_t)nodes, "workers", workers, "runs",
	    (json_int_t)b.runs);
	if (hourly_usd >= 0)
		json_object_set_new(est, "usd", json_real(hourly_usd *
		    seconds / 3600.0));
	return estimate_done(est);
}

char *
wizard_estimate_text(const json_t *est)
{
	double s = estimate_num(est, "seconds"), usd = estimate_num(est, "usd");
	long long nodes = json_integer_value(json_object_get(est, "nodes"));
	long long runs = json_integer_value(json_object_get(est, "runs"));
	int workers = (int)json_integer_value(json_object_get(est, "workers"));
	char len[32], cost[48];

	if (s < 0)
		return xstrdup(history_str(est, "none", ESTIMATE_NONE));
	if (s < 120)
		snprintf(len, sizeof len, "%.0f s", s);
	else if (s < 7200)
		snprintf(len, sizeof len, "%.0f min", s / 60);
	else
		snprintf(len, sizeof len, "%.1f h", s / 3600);
	if (usd >= 0)
		snprintf(cost, sizeof cost, ", about $%.2f", usd);
	else
		cost[0] = '\0';
	return xprintf("%s%s (%lld tasks x %.2f s / (%lld node%s x %d "
	    "worker%s) + %.0f s set-up; from %lld earlier run%s)", len, cost,
	    (long long)json_integer_value(json_object_get(est, "tasks")),
	    estimate_num(est, "task_s"), nodes, nodes == 1 ? "" : "s",
	    workers, workers == 1 ? "" : "s", estimate_num(est, "setup_s"),
	    runs, runs == 1 ? "" : "s");
}
