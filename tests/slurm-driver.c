/* Test driver for the slurm engine (src/engine/slurm*.c) on hosts written
 * into a record by hand: no cloud calls. Makes a cloud record whose hosts
 * are a head and node1..nodeN (reached as $FANOUT_BASTION_ADDRESS maps
 * them), runs the engine's set-up steps in their order and then its run,
 * and prints the outcome as one JSON object. Run with no arguments (as
 * make check does for every check program) it skips.
 *
 *   slurm-driver [-i ID] [-k KEY] [-f FILES] [-c CANCEL_AFTER] [-S] [-R]
 *                PROJECT NODES
 * -i: the record ID again (a resume: set-up and run again), with
 *     PROJECT as its project
 * -k: the hosts' login key (the record's key_file)
 * -f: the first FILES inputs
 * -c: cancel after that many task records
 * -S: set-up only; -R: run only */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloud/provider.h"
#include "engine/engine.h"
#include "event.h"
#include "history/history.h"
#include "run/gantt.h"
#include "run/local.h"
#include "run/record.h"
#include "run/report.h"
#include "util/fs.h"
#include "util/xmalloc.h"

static pthread_mutex_t driver_lock = PTHREAD_MUTEX_INITIALIZER;
static long long driver_tasks;
static long long driver_cancel_after = -1;
static double driver_t0;
static double driver_first_task = -1;

static void
driver_emit(struct sink *sink, const struct event *ev)
{
	(void)sink;
	pthread_mutex_lock(&driver_lock);
	switch (ev->type) {
	case EV_LOG:
		fprintf(stderr, "log %.2f: %s%s%s\n", time_mono() - driver_t0,
		    ev->step != NULL ? ev->step :
		    "", ev->step != NULL ? ": " : "", ev->text);
		break;
	case EV_STEP_START:
		fprintf(stderr, "step %s started (%.2f s)\n", ev->step,
		    time_mono() - driver_t0);
		break;
	case EV_STEP_DONE:
		fprintf(stderr, "step %s done in %.2f s\n", ev->step,
		    ev->seconds);
		break;
	case EV_STEP_FAIL:
		fprintf(stderr, "step %s failed: %s\n", ev->step,
		    ev->text != NULL ? ev->text : "");
		break;
	case EV_TASK_DONE:
		if (driver_tasks++ == 0)
			driver_first_task = time_mono() - driver_t0;
		fprintf(stderr, "task %d attempt %d %s on %s (%lld/%lld)\n",
		    ev->record->task, ev->record->attempt,
		    record_status_name(ev->record->status), ev->record->host,
		    ev->done, ev->total);
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&driver_lock);
}

static int
driver_cancelled(struct sink *sink)
{
	int c;

	(void)sink;
	pthread_mutex_lock(&driver_lock);
	c = driver_cancel_after >= 0 && driver_tasks >= driver_cancel_after;
	pthread_mutex_unlock(&driver_lock);
	return c;
}

static json_t *
driver_record(const char *project, int nodes, const char *key, char **cause)
{
	json_t *rec, *hosts, *answers;
	char name[32], priv[32];
	int i;

	rec = history_new("cloud", "driver");
	json_object_set_new(rec, "state", json_string("active"));
	json_object_set_new(rec, "provider", json_string("aws"));
	json_object_set_new(rec, "region", json_string("us-east-1"));
	json_object_set_new(rec, "project_dir", json_string(project));
	answers = json_pack("{s:s, s:s, s:i}", "project", project, "engine",
	    "slurm", "nodes", nodes);
	json_object_set_new(rec, "answers", answers);
	hosts = json_array();
	/* Public and private addresses no test reaches: the map wins. */
	json_array_append_new(hosts, json_pack("{s:s, s:s, s:s, s:s, s:s, "
	    "s:s}", "role", "head", "name", "bastion", "host", "192.0.2.1",
	    "private_ip", "192.0.2.129", "user", "root", "key_file", key));
	for (i = 1; i <= nodes; i++) {
		snprintf(name, sizeof name, "node%d", i);
		snprintf(priv, sizeof priv, "192.0.2.%d", 129 + i);
		json_array_append_new(hosts, json_pack("{s:s, s:s, s:s, s:s, "
		    "s:s}", "role", "compute", "name", name, "private_ip", priv,
		    "user", "root", "key_file", key));
	}
	json_object_set_new(rec, "hosts", hosts);
	if (history_save(rec, cause) != 0) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

static int
driver_step(struct cloud_run *run, const struct cloud_step *st, char **cause)
{
	double t = time_mono();
	int rc;

	event_step(run->sink, EV_STEP_START, st->name, NULL, 0);
	rc = st->run(run, cause);
	event_step(run->sink, rc == 0 ? EV_STEP_DONE : EV_STEP_FAIL, st->name,
	    rc == 0 ? NULL : *cause, time_mono() - t);
	return rc;
}

int
main(int argc, char **argv)
{
	struct sink sink = { driver_emit, driver_cancelled, NULL };
	struct cloud_run run;
	struct local_result lr;
	const struct cloud_step *st;
	const char *id = NULL, *key = NULL;
	char *cause = NULL, *s;
	json_t *rec, *o, *last;
	long files = 0;
	int c, nodes, setup = 1, dorun = 1, rc = 0;
	double t_ready = -1;

	while ((c = getopt(argc, argv, "i:k:f:c:SR")) != -1) {
		switch (c) {
		case 'i': id = optarg; break;
		case 'k': key = optarg; break;
		case 'f': files = atol(optarg); break;
		case 'c': driver_cancel_after = atoll(optarg); break;
		case 'S': dorun = 0; break;
		case 'R': setup = 0; break;
		default: return 2;
		}
	}
	if (optind + 2 != argc) {
		printf("1..0 # SKIP slurm-driver is run by the cluster "
		    "tests\n");
		return 0;
	}
	nodes = atoi(argv[optind + 1]);
	driver_t0 = time_mono();
	rec = id != NULL ? history_load(id, &cause) :
	    driver_record(argv[optind], nodes, key != NULL ? key : "", &cause);
	if (rec == NULL) {
		fprintf(stderr, "slurm-driver: %s\n", cause);
		return 1;
	}
	if (id != NULL) {
		/* Another project on the same hosts. */
		json_object_set_new(rec, "project_dir",
		    json_string(argv[optind]));
		json_object_set_new(json_object_get(rec, "answers"), "project",
		    json_string(argv[optind]));
	}
	if (files > 0)
		json_object_set_new(json_object_get(rec, "answers"), "files",
		    json_integer(files));
	memset(&run, 0, sizeof run);
	memset(&lr, 0, sizeof lr);
	pthread_mutex_init(&run.lock, NULL);
	run.engine = &engine_slurm;
	run.rec = rec;
	run.sink = &sink;
	run.answers = json_object_get(rec, "answers");
	run.id = history_str(rec, "id", "");
	run.project = "driver";
	/* One after another, in the order of the table. */
	for (st = engine_slurm.setup; setup && rc == 0 && st->name != NULL;
	    st++)
		rc = driver_step(&run, st, &cause);
	t_ready = time_mono() - driver_t0;
	if (rc == 0 && dorun) {
		event_step(&sink, EV_STEP_START, "run", NULL, 0);
		rc = engine_slurm.run(&run, &lr, &cause);
	}
	o = json_pack("{s:b, s:s, s:f, s:f}", "ok", rc == 0, "id", run.id,
	    "ready_s", t_ready, "first_task_s", driver_first_task);
	if (rc != 0)
		json_object_set_new(o, "error", json_string(cause));
	if (rc == 0 && dorun) {
		json_object_set_new(o, "results", json_string(lr.results_dir));
		json_object_set_new(o, "tasks", json_integer((json_int_t)
		    lr.perf.tasks));
		json_object_set_new(o, "ok_tasks", json_integer((json_int_t)
		    lr.perf.ok));
		json_object_set_new(o, "errors", json_integer((json_int_t)
		    lr.perf.errors));
		json_object_set_new(o, "unfinished", json_integer((json_int_t)
		    lr.perf.unfinished));
		json_object_set_new(o, "efficiency",
		    report_efficiency_json(&lr.perf));
		json_object_set_new(o, "cancelled", json_boolean(lr.cancelled));
		last = json_array_get(json_object_get(rec, "runs"),
		    json_array_size(json_object_get(rec, "runs")) - 1);
		json_object_set(o, "run", last);
	}
	s = json_dumps(o, JSON_COMPACT);
	printf("%s\n", s);
	free(s);
	json_decref(o);
	free(cause);
	local_result_free(&lr);
	json_decref(rec);
	pthread_mutex_destroy(&run.lock);
	gantt_release();
	return rc == 0 ? 0 : 1;
}
