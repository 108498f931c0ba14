/* The local engine's pool (see pool.h): taskpool_run() does the work; this
 * file gives it the project's entrypoint, folder and environment, and
 * turns each attempt into a record (its result line parsed here, as the
 * remote engine parses the worker's) and an event. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "run/pool.h"
#include "util/fs.h"
#include "util/xmalloc.h"
#include "worker/taskpool.h"

extern char **environ;

static volatile sig_atomic_t pool_signalled;

struct pool {
	const struct pool_opts	*o;
	struct record_list	*out;
	long long		 done, failed;
};

static void
pool_on_signal(int sig)
{
	(void)sig;
	pool_signalled = 1;
}

void
pool_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = pool_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int
pool_interrupted(void)
{
	return pool_signalled;
}

/* environ with the project's env: on top. */
static char **
pool_build_env(const struct project *pr)
{
	size_t n = 0, i, j;
	char **v;

	while (environ[n] != NULL)
		n++;
	v = xcalloc(n + pr->nenv + 1, sizeof *v);
	for (i = 0; i < n; i++)
		v[i] = xstrdup(environ[i]);
	for (j = 0; j < pr->nenv; j++) {
		size_t klen = strcspn(pr->env[j], "=") + 1;

		for (i = 0; i < n; i++) {
			if (strncmp(v[i], pr->env[j], klen) == 0)
				break;
		}
		if (i < n)
			free(v[i]);
		else
			n++;
		v[i] = xstrdup(pr->env[j]);
	}
	return v;
}

static int
pool_stop(void *arg)
{
	struct pool *p = arg;

	return pool_signalled || event_cancelled(p->o->sink);
}

static void
pool_done(void *arg, const struct tp_attempt *a)
{
	struct pool *p = arg;
	const struct pool_opts *o = p->o;
	struct record r;
	struct event ev = { .type = EV_TASK_DONE };
	char *line;

	memset(&r, 0, sizeof r);
	r.task = (int)a->task;
	r.input = o->names != NULL ? o->names[a->task] : o->inputs[a->task];
	r.worker = a->worker;
	r.host = (char *)a->host;
	r.pid = a->pid;
	r.start = a->start;
	r.end = a->end;
	r.exit = a->exit;
	r.attempt = a->attempt;
	r.status = (enum record_status)a->status;
	r.error = (char *)a->error;
	/* Cleaned as a record from another host is (record_stderr_tail). */
	r.stderr_tail = a->stderr_tail != NULL ?
	    record_stderr_tail(a->stderr_tail, strlen(a->stderr_tail)) : NULL;
	r.log = (char *)a->log;
	r.out_off = a->out_off;
	r.out_len = a->out_len;
	r.err_off = a->err_off;
	r.err_len = a->err_len;
	/* The pool checked the line; its parse is the one that counts. */
	if (r.status == REC_OK && record_set_result(&r, a->line) != 0) {
		r.status = REC_BADJSON;
		r.error = (char *)RECORD_BADJSON_ERROR;
	}
	if (a->final || r.status != (enum record_status)a->status) {
		if (r.status != REC_CANCELLED)
			p->done++;
		if (r.status != REC_OK && r.status != REC_CANCELLED)
			p->failed++;
	}
	if (o->records != NULL) {
		line = record_to_json(&r);
		fprintf(o->records, "%s\n", line);
		fflush(o->records);
		free(line);
	}
	if (p->out != NULL)
		record_list_add(p->out, &r);
	ev.record = &r;
	ev.done = p->done;
	ev.failed = p->failed;
	ev.total = (long long)o->ninputs;
	event_emit(o->sink, &ev);
	free(r.result);
	free(r.stderr_tail);
}

int
pool_run(const struct pool_opts *o, struct record_list *out, int *cancelled,
    char **cause)
{
	struct pool p;
	struct tp_opts to;
	char err[512], *entry, **env;
	size_t i;
	int rc;

	memset(&p, 0, sizeof p);
	p.o = o;
	p.out = out;
	entry = fs_join(o->project->dir, o->project->entrypoint);
	env = pool_build_env(o->project);
	memset(&to, 0, sizeof to);
	to.entry = entry;
	to.dir = o->project->dir;
	to.env = env;
	to.inputs = o->inputs;
	to.ninputs = o->ninputs;
	to.workers = o->workers;
	to.timeout = o->project->timeout;
	to.retries = o->project->retries;
	to.logdir = o->logdir;
	to.records_fd = -1;
	to.done = pool_done;
	to.stop = pool_stop;
	to.arg = &p;
	to.tick_ms = o->sink != NULL && o->sink->cancelled != NULL ? 100 : 0;
	rc = taskpool_run(&to, cancelled, err, sizeof err);
	if (rc != 0)
		*cause = xstrdup(err);
	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
	free(entry);
	return rc;
}
