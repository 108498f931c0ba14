/* The local pool through its API, as a front end drives it: events to a
 * sink, cancel through the sink, retries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "event.h"
#include "run/pool.h"
#include "tap.h"
#include "util/fs.h"
#include "util/xmalloc.h"

struct seen {
	int	 task_events;
	int	 starts;
	long long last_done, last_failed, total;
	int	 cancel_after;	/* ask to cancel once this many events came */
};

static void
seen_emit(struct sink *sink, const struct event *ev)
{
	struct seen *s = sink->data;

	if (ev->type == EV_TASK_DONE) {
		s->task_events++;
		s->last_done = ev->done;
		s->last_failed = ev->failed;
		s->total = ev->total;
	}
}

static int
seen_cancelled(struct sink *sink)
{
	struct seen *s = sink->data;

	return s->cancel_after > 0 && s->task_events >= s->cancel_after;
}

static char *
mkproject(const char *name, const char *script, const char *yaml)
{
	char *dir = xprintf("%s/%s", tap_tmpdir(), name), *p, *cause = NULL;

	fs_mkdir_p(dir, 0755, &cause);
	p = fs_join(dir, "fanout.yaml");
	fs_write_atomic(p, yaml, strlen(yaml), 0644, &cause);
	free(p);
	p = fs_join(dir, "run");
	fs_write_atomic(p, script, strlen(script), 0755, &cause);
	free(p);
	p = fs_join(dir, "logs");
	fs_mkdir_p(p, 0755, &cause);
	free(p);
	return dir;
}

int
main(void)
{
	struct project pr;
	struct pool_opts po;
	struct record_list out = { 0 };
	struct seen seen;
	struct sink sink = { seen_emit, seen_cancelled, &seen };
	char *dir, *cause = NULL, **in, *logdir;
	size_t n, i;
	int cancelled, attempts_of_3 = 0, ok_of_3 = 0;

	plan_lazy();
	/* Task "c" fails on attempt 1 and succeeds on attempt 2. */
	dir = mkproject("retry",
	    "#!/bin/sh\n"
	    "if [ \"$1\" = c ] && [ \"$FANOUT_ATTEMPT\" = 1 ]; then exit 9; fi\n"
	    "echo \"{\\\"in\\\": \\\"$1\\\", \\\"task\\\": $FANOUT_TASK}\"\n",
	    "name: retry\nentrypoint: run\ninputs: {list: [a, b, c, d]}\n"
	    "workers: 2\nretries: 1\n");
	if (project_load(dir, &pr, &cause) != 0)
		bail("%s", cause);
	project_inputs(&pr, 0, &in, &n, &cause);
	logdir = fs_join(dir, "logs");
	memset(&seen, 0, sizeof seen);
	memset(&po, 0, sizeof po);
	po.project = &pr;
	po.inputs = in;
	po.ninputs = n;
	po.workers = 2;
	po.logdir = logdir;
	po.sink = &sink;
	ok(pool_run(&po, &out, &cancelled, &cause) == 0, "the pool runs");
	is_int(0, cancelled, "not cancelled");
	is_int(5, (long long)out.n, "five attempts for four tasks");
	is_int(5, seen.task_events, "one event per attempt");
	is_int(4, seen.last_done, "the last event counts four tasks done");
	is_int(0, seen.last_failed, "and none failed in the end");
	is_int(4, seen.total, "out of four");
	for (i = 0; i < out.n; i++) {
		if (out.v[i].task == 2) {
			attempts_of_3++;
			if (out.v[i].status == REC_OK &&
			    out.v[i].attempt == 2 && out.v[i].result != NULL &&
			    strcmp(out.v[i].result,
			    "{\"in\":\"c\",\"task\":2}") == 0)
				ok_of_3 = 1;
		}
	}
	is_int(2, attempts_of_3, "the failing task was tried twice");
	ok(ok_of_3, "its second attempt succeeded with its JSON result");
	ok(out.v[0].worker >= 1 && out.v[0].worker <= 2 && out.v[0].pid > 0,
	    "records carry a worker slot and a pid");
	record_list_free(&out);
	project_inputs_free(in, n);
	project_free(&pr);
	free(logdir);
	free(dir);

	/* Cancel through the sink once two tasks are done. */
	dir = mkproject("cancel",
	    "#!/bin/sh\ncase $1 in q*) echo '{}';; *) sleep 30;; esac\n",
	    "name: cancel\nentrypoint: run\n"
	    "inputs: {list: [q1, q2, s1, s2, s3, s4]}\nworkers: 2\n"
	    "retries: 3\n");
	project_load(dir, &pr, &cause);
	project_inputs(&pr, 0, &in, &n, &cause);
	logdir = fs_join(dir, "logs");
	memset(&seen, 0, sizeof seen);
	seen.cancel_after = 2;
	po.project = &pr;
	po.inputs = in;
	po.ninputs = n;
	po.logdir = logdir;
	ok(pool_run(&po, &out, &cancelled, &cause) == 0,
	    "a cancelled pool returns normally");
	is_int(1, cancelled, "and says it was cancelled");
	{
		int oks = 0, cancels = 0, retried = 0;

		for (i = 0; i < out.n; i++) {
			if (out.v[i].status == REC_OK)
				oks++;
			else if (out.v[i].status == REC_CANCELLED)
				cancels++;
			if (out.v[i].attempt > 1)
				retried++;
		}
		is_int(2, oks, "the two quick tasks are done");
		is_int((long long)out.n - 2, cancels,
		    "every other attempt is recorded as cancelled");
		is_int(0, retried, "cancelled tasks are not retried");
		ok(out.n < 6, "tasks not yet started were never started");
	}
	record_list_free(&out);
	project_inputs_free(in, n);
	project_free(&pr);
	free(logdir);
	free(dir);
	return done_testing();
}
