/* The bastion engine (see remote.h). Remote layout under remote_dir:
 *   tree/, manifest.d/   the project (upload.h)
 *   setup.sha256         the digest of the last setup: that worked
 *                        (remote-setup.c)
 *   bin/fanout-worker-*  the worker, one file per version (remote-worker.c)
 *   runs/ID/             inputs, started (mkdir lock), pid, records.jsonl,
 *                        logs/wN.out|err, worker.log, done (worker.c) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "run/project.h"
#include "run/report.h"
#include "run/rerun.h"
#include "ssh/remote-int.h"
#include "ssh/remote.h"
#include "ssh/session.h"
#include "ssh/upload.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

struct remote {
	const struct remote_opts *o;
	struct remote_result	 *res;
	struct ssh_opts		  so;
	struct ssh_session	 *ss;
	struct project		  pr;
	char			**all;		/* the project's inputs, as
						 * the records name them */
	char			**allpaths;	/* as the tasks get them (a
						 * bucket's objects fetched
						 * on the host), or NULL:
						 * all */
	size_t			  nall;
	struct rerun_plan	  plan;		/* the tasks this run runs */
	char			**inputs;	/* theirs: plan.inputs */
	char			**paths;	/* their allpaths (the
						 * strings not owned), or
						 * NULL */
	size_t			  ninputs;
	int			  workers;
	char			 *rd;		/* remote_dir, shell-quoted */
	char			 *run;		/* runs/ID, shell-quoted */
	struct remote_worker	  worker;
	int			  started;	/* the start said started or
						 * running: watch only */
	unsigned short		 *seen;		/* per task: attempts received
						 * (none counts twice) */
	FILE			 *records;	/* results/records.jsonl */
	long long		  offset;	/* bytes of records.jsonl read */
	char			 *state;	/* "done N" or "dead" when over */
	char			 *error;	/* the worker's "#error" line */
	char			 *ended_badly;	/* the run on the host ended
						 * without finishing: why; the
						 * records that came home still
						 * make the results folder */
	long long		  done, failed;	/* final attempts */
};

int
remote_parse_address(const char *s, char **user, char **host, int *port,
    char **cause)
{
	const char *at = strchr(s, '@'), *h, *colon;
	char *end;
	long p = 0;

	*user = NULL;
	*host = NULL;
	*port = 0;
	h = at != NULL ? at + 1 : s;
	if (*h == '[') {
		colon = strchr(h, ']');
		if (colon == NULL)
			goto bad;
		*host = xstrndup(h + 1, (size_t)(colon - h - 1));
		colon = colon[1] == ':' ? colon + 1 : NULL;
	} else {
		colon = strrchr(h, ':');
		*host = colon != NULL ? xstrndup(h, (size_t)(colon - h)) :
		    xstrdup(h);
	}
	if (colon != NULL) {
		errno = 0;
		p = strtol(colon + 1, &end, 10);
		if (errno != 0 || *end != '\0' || p < 1 || p > 65535)
			goto bad;
	}
	if (**host == '\0' || (at != NULL && at == s))
		goto bad;
	if (at != NULL)
		*user = xstrndup(s, (size_t)(at - s));
	*port = (int)p;
	return 0;
bad:
	free(*host);
	*host = NULL;
	xasprintf(cause, "bad address '%s': give [user@]host[:port], e.g. "
	    "ec2-user@127.0.0.1:2222", s);
	return -1;
}

/* After a failed call: reconnects when the connection was lost (0), else
 * keeps the call's cause (-1). */
static int
remote_reconnect(struct remote *r, char **cause)
{
	if (ssh_last_error(r->ss) != SSH_ERR_LOST)
		return -1;
	free(*cause);
	*cause = NULL;
	if (ssh_reconnect(r->ss, cause) != 0)
		return -1;
	r->res->reconnects++;
	return 0;
}

/* Calls fn until it works, reconnecting when the connection drops. */
static int
remote_retry(struct remote *r, int (*fn)(struct remote *, char **),
    char **cause)
{
	for (;;) {
		if (fn(r, cause) == 0)
			return 0;
		if (remote_reconnect(r, cause) != 0)
			return -1;
	}
}

char *
remote_template(const char *name, char **cause)
{
	char *rel = xprintf("templates/%s", name), *path, *text;

	path = fs_data_path(rel);
	if (path == NULL) {
		xasprintf(cause, "%s not found; set FANOUT_DATA_DIR to "
		    "fanout's data folder", rel);
		free(rel);
		return NULL;
	}
	free(rel);
	text = fs_read_file(path, NULL, cause);
	free(path);
	return text;
}

ssize_t
remote_feed_fn(void *arg, char *buf, size_t len, char **cause)
{
	struct remote_feed *f = arg;

	(void)cause;
	if (len > f->sb->len - f->off)
		len = f->sb->len - f->off;
	memcpy(buf, f->sb->buf + f->off, len);
	f->off += len;
	return (ssize_t)len;
}

int
remote_exec_script(struct ssh_session *ss, struct strbuf *sb,
    struct ssh_exec *x, int *status, char **cause)
{
	struct remote_feed feed = { sb, 0 };

	if (x->command == NULL)
		x->command = "sh -s";
	x->input = remote_feed_fn;
	x->input_arg = &feed;
	return ssh_exec_run(ss, x, status, cause);
}

/* workers: not given in fanout.yaml: one per online CPU of the host,
 * as the host counts them (getconf, POSIX). */
static int
remote_cores(struct remote *r, char **cause)
{
	char *out, *end;
	long n;

	if ((out = ssh_exec_output(r->ss, "getconf _NPROCESSORS_ONLN",
	    cause)) == NULL)
		return -1;
	n = strtol(out, &end, 10);
	if (end == out || (*end != '\0' && *end != '\n') || n < 1 ||
	    n > 4096) {
		xasprintf(cause, "the host's CPU count is unreadable ('%.20s'); "
		    "give workers: in fanout.yaml", out);
		free(out);
		return -1;
	}
	free(out);
	r->workers = (int)n;
	event_log(r->o->sink, "connect", "%d workers, one per CPU of the host "
	    "(fanout.yaml gives no workers:)", r->workers);
	return 0;
}

/* One login: runs bastion-setup.sh (idempotent; quick the second time)
 * and probes for the worker; then puts the worker on the host when it is
 * not there yet (one more login). rd is the remote dir, shell-quoted. */
static int
remote_host_setup_q(struct ssh_session *ss, const char *rd, const char *host,
    struct remote_worker *w, struct sink *sink, char **cause)
{
	struct strbuf sb, out;
	struct ssh_exec x;
	char *setup, *cmd;
	int rc, status;

	if ((setup = remote_template("bastion-setup.sh", cause)) == NULL)
		return -1;
	strbuf_init(&sb);
	strbuf_init(&out);
	strbuf_addf(&sb, "mkdir -p %s || exit 1\n(\n%s\n) || exit 1\n"
	    "cd %s || exit 1\n", rd, setup, rd);
	remote_worker_probe(w, &sb);
	memset(&x, 0, sizeof x);
	x.command = cmd = xprintf("sh -s -- %s", rd);
	x.out = &out;
	rc = remote_exec_script(ss, &sb, &x, &status, cause);
	free(cmd);
	if (rc == 0 && status != 0) {
		xasprintf(cause, "setting up %s failed (exit %d)", host,
		    status);
		rc = -1;
	}
	if (rc == 0)
		rc = remote_worker_install(ss, rd, host, w, out.buf, sink,
		    cause);
	free(setup);
	strbuf_free(&sb);
	strbuf_free(&out);
	return rc;
}

static int
remote_setup(struct remote *r, char **cause)
{
	if (remote_host_setup_q(r->ss, r->rd, r->o->host, &r->worker,
	    r->o->sink, cause) != 0)
		return -1;
	return remote_idle_stop(r->ss, r->res->remote_dir, r->o->idle_stop,
	    cause);
}

int
remote_host_setup(struct ssh_session *ss, const char *remote_dir,
    const char *host, struct sink *sink, char **worker, char **cause)
{
	struct remote_worker w;
	char *rd = ssh_quote(remote_dir);
	int rc;

	*worker = NULL;
	remote_worker_init(&w);
	rc = remote_host_setup_q(ss, rd, host, &w, sink, cause);
	if (rc == 0) {
		*worker = w.path;
		w.path = NULL;
	}
	remote_worker_free(&w);
	free(rd);
	return rc;
}

char *
remote_dir_for(const char *project)
{
	const char *q = getenv("FANOUT_BASTION_DIR");

	if (q != NULL && *q != '\0')
		return xstrdup(q);
	return xprintf("fanout/%s", project);
}

static int
remote_psetup(struct remote *r, char **cause)
{
	return remote_project_setup(r->ss, r->res->remote_dir, r->o->host,
	    &r->pr, r->o->sink, "project setup", cause);
}

static int
remote_upload(struct remote *r, char **cause)
{
	struct upload_opts uo;
	struct upload_stats st;
	int rc;

	memset(&uo, 0, sizeof uo);
	memset(&st, 0, sizeof st);
	uo.local_dir = r->pr.dir;
	uo.remote_dir = r->o->remote_dir != NULL ? r->o->remote_dir :
	    r->res->remote_dir;
	uo.sink = r->o->sink;
	uo.cache = r->o->upload_cache;
	rc = upload_tree_retry(r->ss, &uo, &st, &r->res->reconnects, cause);
	r->res->files = st.files;
	r->res->files_sent = st.files_sent;
	r->res->bytes_sent = st.bytes_sent;
	r->res->wire_bytes = st.wire_bytes;
	upload_stats_free(&st);
	return rc;
}

void
remote_record_home(FILE *records, struct record *rec, long long done,
    long long failed, long long total, struct sink *sink)
{
	struct event ev = { .type = EV_TASK_DONE };
	char *text = record_to_json(rec);

	fprintf(records, "%s\n", text);
	fflush(records);
	free(text);
	ev.record = rec;
	ev.done = done;
	ev.failed = failed;
	ev.total = total;
	event_emit(sink, &ev);
}

/* A record line of the run (as the worker wrote it: checked, its result
 * parsed and written home as the local engine writes it), or a "#" line
 * of the start and the watch. */
static void
remote_line(void *arg, int fd, const char *line)
{
	struct remote *r = arg;
	struct record rec;
	char *why = NULL;

	if (fd != 1)
		return;
	if (strncmp(line, "#start ", 7) == 0) {
		r->started = 1;
		if (strcmp(line + 7, "running") == 0)
			event_log(r->o->sink, "run", "run %s was started "
			    "already; watching it", r->res->run_id);
		return;
	}
	if (strncmp(line, "#state ", 7) == 0) {
		free(r->state);
		r->state = xstrdup(line + 7);
		return;
	}
	if (strncmp(line, "#error ", 7) == 0) {
		free(r->error);
		r->error = xstrdup(line + 7);
		return;
	}
	if (*line != '{' || r->records == NULL)
		return;		/* not ours (a chatty login shell) */
	r->offset += (long long)strlen(line) + 1;
	if (record_from_json(line, &rec, &why) != 0) {
		event_log(r->o->sink, "run", "bad record from %s: %s",
		    r->o->host, why);
		free(why);
		return;
	}
	if (rec.task < 0 || (size_t)rec.task >= r->ninputs || rec.attempt < 1 ||
	    rec.attempt > 65535 || rec.attempt <= r->seen[rec.task]) {
		event_log(r->o->sink, "run", "record of task %d attempt %d "
		    "from %s ignored: %s", rec.task, rec.attempt, r->o->host,
		    rec.task < 0 || (size_t)rec.task >= r->ninputs ?
		    "no such task" : "seen already");
		record_free(&rec);
		return;
	}
	r->seen[rec.task] = (unsigned short)rec.attempt;
	/* The task and its input as this side knows them. */
	rec.task = (int)r->plan.tasks[rec.task];
	free(rec.input);
	rec.input = xstrdup(r->all[rec.task]);
	if (rec.status == REC_OK || rec.status == REC_CANCELLED ||
	    rec.attempt > r->pr.retries) {
		if (rec.status != REC_CANCELLED)
			r->done++;
		if (rec.status != REC_OK && rec.status != REC_CANCELLED)
			r->failed++;
	}
	remote_record_home(r->records, &rec, r->done, r->failed,
	    (long long)r->ninputs, r->o->sink);
	record_free(&rec);
}

/* A detached run's lines after the start (in the run folder): the
 * supervisor and the teardown script written beside the run, the
 * supervisor started in a session of its own (once: a login after a
 * dropped one finds it started), then "#state detached". */
static int
remote_detach_lines(struct remote *r, struct strbuf *sb, char **cause)
{
	static const char *const names[] = { "detach-supervise.sh",
	    "detach-teardown.sh" };
	const char *const *a;
	char *text, *q;
	size_t i;

	strbuf_adds(sb, "if [ ! -e supervise.started ]; then\n");
	/* Inputs fetched from a bucket: the records name the objects
	 * (fanout fetch reads names, as an attached run names them). */
	if (r->paths != NULL) {
		strbuf_adds(sb, "cat > names <<'FANOUT_EOF_7f3a'\n");
		for (i = 0; i < r->ninputs; i++)
			strbuf_addf(sb, "%s\n", r->inputs[i]);
		strbuf_adds(sb, "FANOUT_EOF_7f3a\n");
	}
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		if ((text = remote_template(names[i], cause)) == NULL)
			return -1;
		strbuf_addf(sb, "cat > %s <<'FANOUT_EOF_7f3a'\n%s%s"
		    "FANOUT_EOF_7f3a\n", names[i], text, *text != '\0' &&
		    text[strlen(text) - 1] != '\n' ? "\n" : "");
		free(text);
	}
	strbuf_adds(sb, ": > supervise.started\n(setsid sh detach-supervise.sh");
	for (a = r->o->detach; *a != NULL; a++) {
		q = ssh_quote(*a);
		strbuf_addf(sb, " %s", q);
		free(q);
	}
	strbuf_adds(sb, " </dev/null >supervise.log 2>&1 &)\nfi\n"
	    "echo '#state detached'\n");
	return 0;
}

/* One login: the first time, writes the inputs and starts the worker
 * detached (unless "started" shows it was: never twice); then, and after
 * a reconnect alone, the worker's watch streams the records from the
 * offset already read, then "#state done N" (or dead). */
static int
remote_watch_once(struct remote *r, char **cause)
{
	struct strbuf sb;
	struct remote_feed feed = { &sb, 0 };
	struct ssh_exec x;
	char *cmd = NULL;
	size_t i;
	int status, rc;

	strbuf_init(&sb);
	memset(&x, 0, sizeof x);
	if (!r->started || r->o->detach != NULL) {
		strbuf_addf(&sb, "cd %s || exit 1\nmkdir -p %s && cd %s || "
		    "exit 1\nif [ ! -e started ]; then\n", r->rd, r->run,
		    r->run);
		strbuf_adds(&sb, "cat > inputs.new <<'FANOUT_EOF_7f3a'\n");
		for (i = 0; i < r->ninputs; i++)
			strbuf_addf(&sb, "%s\n", r->paths != NULL ?
			    r->paths[i] : r->inputs[i]);
		strbuf_adds(&sb, "FANOUT_EOF_7f3a\nmv -f inputs.new inputs\n"
		    "fi\n");
		remote_env_exports(&sb, &r->pr);
		strbuf_addf(&sb, "../../%s start . ../../tree",
		    r->worker.path);
		remote_worker_args(&sb, &r->pr, r->workers);
		strbuf_adds(&sb, " || exit 1\n");
		if (r->o->detach != NULL) {
			if (remote_detach_lines(r, &sb, cause) != 0) {
				strbuf_free(&sb);
				return -1;
			}
		} else
			strbuf_addf(&sb, "exec ../../%s watch . %lld\n",
			    r->worker.path, r->offset);
		x.command = "sh -s";
		x.input = remote_feed_fn;
		x.input_arg = &feed;
	} else {
		x.command = cmd = xprintf("cd %s/%s && exec ../../%s watch . "
		    "%lld", r->rd, r->run, r->worker.path, r->offset);
	}
	x.line = remote_line;
	x.line_arg = r;
	rc = ssh_exec_run(r->ss, &x, &status, cause);
	free(cmd);
	strbuf_free(&sb);
	if (rc != 0)
		return -1;
	if (r->state == NULL) {
		xasprintf(cause, "%s the run on %s failed (exit %d)",
		    r->o->detach != NULL ? "detaching" : "watching",
		    r->o->host, status);
		return -1;
	}
	if (r->o->detach != NULL)
		return 0;
	/* A run that ended badly on the host is over, not lost: no
	 * reconnect; what it finished is reported, the rest unfinished. */
	free(r->ended_badly);
	r->ended_badly = NULL;
	if (strcmp(r->state, "dead") == 0)
		xasprintf(&r->ended_badly, "the run on %s ended without "
		    "finishing (see %s/runs/%s/worker.log there)", r->o->host,
		    r->res->remote_dir, r->res->run_id);
	else if (strcmp(r->state, "done 0") != 0 &&
	    strcmp(r->state, "done 130") != 0)
		xasprintf(&r->ended_badly, "the run on %s failed: %s (see "
		    "%s/runs/%s/worker.log there)", r->o->host, r->error !=
		    NULL ? r->error : r->state, r->res->remote_dir,
		    r->res->run_id);
	return 0;
}

static int
remote_cancel(struct remote *r, char **cause)
{
	char *cmd;
	int rc;

	cmd = xprintf("cd %s/%s && ../../%s stop .", r->rd, r->run,
	    r->worker.path);
	rc = ssh_exec_input(r->ss, cmd, "", 0, cause);
	free(cmd);
	return rc;
}

static int
remote_watch(struct remote *r, char **cause)
{
	for (;;) {
		if (remote_watch_once(r, cause) == 0)
			return 0;
		if (ssh_last_error(r->ss) == SSH_ERR_CANCELLED) {
			free(*cause);
			*cause = NULL;
			r->res->lr.cancelled = 1;
			ssh_ignore_cancel(r->ss, 1);
			event_log(r->o->sink, "run", "cancelled: stopping the run "
			    "on %s", r->o->host);
			if (remote_retry(r, remote_cancel, cause) != 0)
				return -1;
			/* The records of the attempts it ended. */
			free(r->state);
			r->state = NULL;
			r->started = 1;
			return remote_retry(r, remote_watch_once, cause);
		}
		if (remote_reconnect(r, cause) != 0)
			return -1;
	}
}

static int
remote_download(struct remote *r, char **cause)
{
	char *dir = xprintf("%s/runs/%s", r->res->remote_dir, r->res->run_id);
	int rc;

	rc = download_tree(r->ss, dir, "logs", r->res->lr.results_dir,
	    r->o->sink, &r->res->bytes_received, cause);
	free(dir);
	return rc;
}

/* Step "fetch": the host fetches the bucket's inputs itself. */
static int
remote_fetch(struct remote *r, char **cause)
{
	return remote_store_script(r->ss, r->rd, NULL, r->o->fetch,
	    r->o->host, "fetch", "fetching the inputs", r->o->sink, NULL,
	    cause);
}

/* Step "results copy": the results folder built here goes to
 * runs/ID/results on the host, and the host copies it to the bucket. */
static int
remote_results_put(struct remote *r, char **cause)
{
	char *dest = xprintf("%s/%s/results", r->rd, r->run);
	int rc;

	rc = remote_send_dir(r->ss, dest, r->res->lr.results_dir, cause);
	free(dest);
	if (rc != 0)
		return -1;
	free(r->res->results_copy);
	r->res->results_copy = NULL;
	if (remote_store_script(r->ss, r->rd, r->run, r->o->results_put,
	    r->o->host, "results copy", "copying the results", r->o->sink,
	    &r->res->results_copy, cause) != 0)
		return -1;
	if (r->res->results_copy == NULL) {
		xasprintf(cause, "copying the results on %s said nothing of "
		    "where they went", r->o->host);
		return -1;
	}
	return 0;
}

char *
remote_new_id(void)
{
	char buf[32];
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
	return xprintf("%s-%04x", buf, (unsigned)(getpid() ^
	    (unsigned)(time_mono() * 1e6)) & 0xffff);
}

static void
remote_step(struct remote *r, const char *step, double since)
{
	event_step(r->o->sink, EV_STEP_DONE, step, NULL, time_mono() - since);
}

enum local_status
remote_run(const struct remote_opts *o, struct remote_result *res,
    char **cause)
{
	struct remote r;
	struct run_info ri;
	struct event ev = { .type = EV_TASKS_START };
	char *base = NULL, *q, *why = NULL;
	enum ssh_error err;
	enum local_status rv = LOCAL_BAD_INPUT;
	double t0;
	size_t i;

	memset(res, 0, sizeof *res);
	memset(&r, 0, sizeof r);
	memset(&ri, 0, sizeof ri);
	r.o = o;
	r.res = res;
	if (project_load(o->project_dir, &r.pr, cause) != 0)
		return LOCAL_BAD_INPUT;
	if (o->task_inputs != NULL) {
		r.all = xcalloc(o->ninputs + 1, sizeof *r.all);
		r.allpaths = xcalloc(o->ninputs + 1, sizeof *r.allpaths);
		for (r.nall = 0; r.nall < o->ninputs; r.nall++) {
			r.all[r.nall] = xstrdup(o->inputs[r.nall]);
			r.allpaths[r.nall] = xstrdup(o->task_inputs[r.nall]);
		}
	} else if (project_inputs(&r.pr, o->files, &r.all, &r.nall,
	    cause) != 0)
		goto out;
	for (i = 0; i < r.nall; i++) {
		if (strchr(r.all[i], '\n') != NULL || (r.allpaths != NULL &&
		    strchr(r.allpaths[i], '\n') != NULL)) {
			xasprintf(cause, "input '%s' has a newline in its "
			    "name; rename it", r.all[i]);
			goto out;
		}
	}
	if (rerun_plan(o->rerun, r.all, r.nall, r.pr.retries, &r.plan,
	    cause) != 0)
		goto out;
	r.inputs = r.plan.inputs;
	r.ninputs = r.plan.n;
	if (r.allpaths != NULL) {
		r.paths = xcalloc(r.ninputs + 1, sizeof *r.paths);
		for (i = 0; i < r.ninputs; i++)
			r.paths[i] = r.allpaths[r.plan.tasks[i]];
	}
	if (o->results != NULL && report_check_dir(o->results, cause) != 0)
		goto out;
	if (o->host == NULL || o->user == NULL) {
		*cause = xstrdup("no host or user to run on");
		goto out;
	}
	/* 0: workers not given: the host's online CPUs, asked once
	 * connected (remote_cores). */
	r.workers = o->workers > 0 ? o->workers : r.pr.workers_set ?
	    r.pr.workers : 0;
	res->remote_dir = o->remote_dir != NULL ? xstrdup(o->remote_dir) :
	    remote_dir_for(r.pr.name);
	res->run_id = o->run_id != NULL ? xstrdup(o->run_id) : remote_new_id();
	res->lr.project = xstrdup(r.pr.name);
	r.rd = ssh_quote(res->remote_dir);
	q = xprintf("runs/%s", res->run_id);
	r.run = ssh_quote(q);
	free(q);
	remote_worker_init(&r.worker);

	rv = LOCAL_FAILED;
	ri.started = time_now();
	r.so.host = o->host;
	r.so.port = o->port > 0 ? o->port : 22;
	r.so.user = o->user;
	r.so.key_file = o->key_file;
	r.so.known_hosts = o->known_hosts;
	r.so.expected_fp = o->expected_fp;
	r.so.connect_timeout = o->connect_timeout > 0 ? o->connect_timeout :
	    300;
	r.so.auth_grace = o->auth_grace < r.so.connect_timeout ?
	    o->auth_grace : r.so.connect_timeout;
	r.so.sink = o->sink;

	t0 = time_mono();
	event_step(o->sink, EV_STEP_START, "connect", NULL, 0);
	r.ss = ssh_connect(&r.so, &res->fingerprint, &err, cause);
	if (r.ss == NULL)
		goto fail_step_connect;
	if (r.workers <= 0 && remote_cores(&r, cause) != 0)
		goto fail_step_connect;
	remote_step(&r, "connect", t0);

	t0 = time_mono();
	event_step(o->sink, EV_STEP_START, "setup", NULL, 0);
	if (remote_retry(&r, remote_setup, cause) != 0)
		goto fail_step_setup;
	remote_step(&r, "setup", t0);

	t0 = time_mono();
	event_step(o->sink, EV_STEP_START, "upload", NULL, 0);
	if (remote_upload(&r, cause) != 0)
		goto fail_step_upload;
	event_log(o->sink, "upload", "%lld of %lld files sent (%lld bytes)",
	    res->files_sent, res->files, res->bytes_sent);
	remote_step(&r, "upload", t0);

	/* The project's setup: (when it has one) and its program, before
	 * anything of the run is made. */
	t0 = time_mono();
	if (r.pr.setup != NULL)
		event_step(o->sink, EV_STEP_START, "project setup", NULL, 0);
	if (remote_retry(&r, remote_psetup, cause) != 0) {
		if (r.pr.setup != NULL)
			goto fail_step_psetup;
		goto out;
	}
	if (r.pr.setup != NULL)
		remote_step(&r, "project setup", t0);

	if (o->fetch != NULL) {
		t0 = time_mono();
		event_step(o->sink, EV_STEP_START, "fetch", NULL, 0);
		if (remote_retry(&r, remote_fetch, cause) != 0)
			goto fail_step_fetch;
		remote_step(&r, "fetch", t0);
	}

	if (o->detach != NULL) {
		/* Started, and left to the supervisor on the host. */
		t0 = time_mono();
		event_step(o->sink, EV_STEP_START, "detach", NULL, 0);
		if (remote_retry(&r, remote_watch_once, cause) != 0)
			goto fail_step_run;
		remote_step(&r, "detach", t0);
		res->lr.perf.tasks = r.ninputs;
		rv = LOCAL_OK;
		goto out;
	}

	t0 = time_mono();
	event_step(o->sink, EV_STEP_START, "run", NULL, 0);
	/* The records come home as they are made: the results folder
	 * first. */
	if (o->results != NULL) {
		if (fs_mkdir_p(o->results, 0755, cause) != 0)
			goto fail_step_run;
		res->lr.results_dir = fs_realpath(o->results, cause);
	} else {
		base = fs_join(r.pr.dir, "results");
		res->lr.results_dir = report_new_dir(base, cause);
	}
	if (res->lr.results_dir == NULL)
		goto fail_step_run;
	q = fs_join(res->lr.results_dir, "records.jsonl");
	r.records = fopen(q, "w");
	if (r.records == NULL) {
		xasprintf(cause, "cannot write %s: %s", q, strerror(errno));
		free(q);
		goto fail_step_run;
	}
	free(q);
	/* The earlier run's records of the tasks not run again. */
	if (o->rerun != NULL && rerun_carry(o->rerun, &r.plan,
	    res->lr.results_dir, r.records, cause) < 0)
		goto fail_step_run;
	r.seen = xcalloc(r.ninputs + 1, sizeof *r.seen);
	ri.setup = time_now() - ri.started;
	ev.total = (long long)r.ninputs;
	ev.workers = r.workers;
	event_emit(o->sink, &ev);
	if (remote_watch(&r, cause) != 0) {
		if (!r.started)
			goto fail_step_run;
		/* The host is lost with the run on it (it died, or was
		 * stopped): the records that came home make the results
		 * folder, the rest is unfinished. */
		res->lost = *cause;
		*cause = NULL;
		event_step(o->sink, EV_STEP_FAIL, "run", res->lost, 0);
		fclose(r.records);
		r.records = NULL;
		goto report;
	}
	if (r.ended_badly != NULL)
		event_step(o->sink, EV_STEP_FAIL, "run", r.ended_badly, 0);
	else
		remote_step(&r, "run", t0);

	fclose(r.records);
	r.records = NULL;

	t0 = time_mono();
	event_step(o->sink, EV_STEP_START, "download", NULL, 0);
	if (remote_retry(&r, remote_download, cause) != 0) {
		if (r.ended_badly == NULL)
			goto fail_step_download;
		/* The host is in trouble (a full disk, say): the records
		 * are home; the logs are what is lost. */
		event_step(o->sink, EV_STEP_FAIL, "download", *cause, 0);
		free(*cause);
		*cause = NULL;
	} else
		remote_step(&r, "download", t0);

report:
	ri.ended = time_now();
	ri.project = r.pr.name;
	ri.engine = "bastion";
	ri.inputs = r.all;
	ri.ntasks = r.nall;
	ri.workers = r.workers;
	ri.nodes = o->nodes > 0 ? o->nodes : 1;
	if (report_write_dir(res->lr.results_dir, &ri, &res->lr.perf,
	    cause) != 0)
		goto out;
	/* A cancel that came after the last task ended stopped nothing. */
	if (res->lr.perf.unfinished == 0)
		res->lr.cancelled = 0;
	if (o->results_put != NULL && !res->lr.cancelled) {
		t0 = time_mono();
		event_step(o->sink, EV_STEP_START, "results copy", NULL, 0);
		if (remote_retry(&r, remote_results_put, cause) != 0) {
			event_step(o->sink, EV_STEP_FAIL, "results copy",
			    *cause, 0);
			goto out;
		}
		remote_step(&r, "results copy", t0);
	}
	rv = LOCAL_OK;
	if (res->lost != NULL) {
		*cause = xstrdup(res->lost);
		rv = LOCAL_FAILED;
	}
	goto out;

fail_step_connect:
	why = xstrdup("connect");
	goto fail;
fail_step_setup:
	why = xstrdup("setup");
	goto fail;
fail_step_upload:
	why = xstrdup("upload");
	goto fail;
fail_step_psetup:
	why = xstrdup("project setup");
	goto fail;
fail_step_fetch:
	why = xstrdup("fetch");
	goto fail;
fail_step_run:
	why = xstrdup("run");
	goto fail;
fail_step_download:
	why = xstrdup("download");
fail:
	event_step(o->sink, EV_STEP_FAIL, why, *cause, 0);
	free(why);
out:
	if (r.ss != NULL)
		ssh_close(r.ss);
	if (r.records != NULL)
		fclose(r.records);
	free(r.seen);
	free(r.error);
	free(r.ended_badly);
	remote_worker_free(&r.worker);
	rerun_plan_free(&r.plan);
	free(r.paths);
	if (r.allpaths != NULL)
		project_inputs_free(r.allpaths, r.nall);
	project_inputs_free(r.all, r.nall);
	project_free(&r.pr);
	free(r.rd);
	free(r.run);
	free(r.state);
	free(base);
	return rv;
}

void
remote_result_free(struct remote_result *res)
{
	local_result_free(&res->lr);
	free(res->fingerprint);
	free(res->run_id);
	free(res->remote_dir);
	free(res->lost);
	free(res->results_copy);
	memset(res, 0, sizeof *res);
}
