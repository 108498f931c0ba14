/* The bastion engine (see remote.h). Remote layout under remote_dir:
 *   tree/, manifest.d/   the project (upload.h)
 *   harness.sh           templates/harness.sh
 *   runs/ID/             run.env, inputs, started (mkdir lock), pid,
 *                        records.jsonl, logs/, harness.log, done */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "run/project.h"
#include "run/report.h"
#include "ssh/remote.h"
#include "ssh/session.h"
#include "ssh/upload.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

#define REMOTE_POLL	0.5	/* seconds between progress polls */

struct remote {
	const struct remote_opts *o;
	struct remote_result	 *res;
	struct ssh_opts		  so;
	struct ssh_session	 *ss;
	struct project		  pr;
	char			**inputs;
	size_t			  ninputs;
	int			  workers;
	char			 *rd;		/* remote_dir, shell-quoted */
	char			 *run;		/* runs/ID, shell-quoted */
	struct record_list	  seen;		/* records polled so far */
	long long		  offset;	/* bytes of records.jsonl read */
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

/* An explicit results folder must be new or empty: never overwrite. */
static int
remote_check_results(const char *dir, char **cause)
{
	struct dirent *de;
	DIR *d;
	int empty = 1;

	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : (xasprintf(cause, "cannot use %s "
		    "for results: %s", dir, strerror(errno)), -1);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			empty = 0;
	}
	closedir(d);
	if (!empty)
		xasprintf(cause, "%s already holds files; give a new or empty "
		    "folder for the results", dir);
	return empty ? 0 : -1;
}

/* Calls fn until it works, reconnecting when the connection drops. */
static int
remote_retry(struct remote *r, int (*fn)(struct remote *, char **),
    char **cause)
{
	for (;;) {
		if (fn(r, cause) == 0)
			return 0;
		if (ssh_last_error(r->ss) != SSH_ERR_LOST)
			return -1;
		free(*cause);
		*cause = NULL;
		if (ssh_reconnect(r->ss, cause) != 0)
			return -1;
		r->res->reconnects++;
	}
}

static int
remote_setup(struct remote *r, char **cause)
{
	char *path, *script, *cmd;
	size_t len;
	int rc;

	if ((path = fs_data_path("templates/bastion-setup.sh")) == NULL) {
		*cause = xstrdup("templates/bastion-setup.sh not found; set "
		    "FANOUT_DATA_DIR to fanout's data folder");
		return -1;
	}
	script = fs_read_file(path, &len, cause);
	free(path);
	if (script == NULL)
		return -1;
	cmd = xprintf("sh -s -- %s", r->rd);
	rc = ssh_exec_input(r->ss, cmd, script, len, cause);
	free(cmd);
	free(script);
	if (rc != 0)
		return -1;

	if ((path = fs_data_path("templates/harness.sh")) == NULL) {
		*cause = xstrdup("templates/harness.sh not found; set "
		    "FANOUT_DATA_DIR to fanout's data folder");
		return -1;
	}
	script = fs_read_file(path, &len, cause);
	free(path);
	if (script == NULL)
		return -1;
	cmd = xprintf("cd %s && cat > harness.sh.new && mv -f harness.sh.new "
	    "harness.sh", r->rd);
	rc = ssh_exec_input(r->ss, cmd, script, len, cause);
	free(cmd);
	free(script);
	return rc;
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
	rc = upload_tree_retry(r->ss, &uo, &st, &r->res->reconnects, cause);
	r->res->files = st.files;
	r->res->files_sent = st.files_sent;
	r->res->bytes_sent = st.bytes_sent;
	r->res->wire_bytes = st.wire_bytes;
	upload_stats_free(&st);
	return rc;
}

/* Writes run.env and inputs, unless this run was started already. */
static int
remote_prepare(struct remote *r, char **cause)
{
	struct strbuf env, in;
	char *q, *cmd;
	size_t i;
	int rc;

	strbuf_init(&env);
	strbuf_init(&in);
	q = ssh_quote(r->pr.entrypoint);
	strbuf_addf(&env, "FANOUT_RUN_ENTRYPOINT=%s\nFANOUT_RUN_WORKERS=%d\n"
	    "FANOUT_RUN_TIMEOUT=%g\nFANOUT_RUN_RETRIES=%d\n"
	    "FANOUT_RUN_NTASKS=%zu\n", q, r->workers, r->pr.timeout,
	    r->pr.retries, r->ninputs);
	free(q);
	for (i = 0; i < r->pr.nenv; i++) {
		size_t klen = strcspn(r->pr.env[i], "=");
		char *k = xstrndup(r->pr.env[i], klen);

		q = ssh_quote(r->pr.env[i] + klen + (r->pr.env[i][klen] != 0));
		strbuf_addf(&env, "%s=%s\nexport %s\n", k, q, k);
		free(q);
		free(k);
	}
	for (i = 0; i < r->ninputs; i++)
		strbuf_addf(&in, "%s\n", r->inputs[i]);
	cmd = xprintf("cd %s && mkdir -p %s && cd %s && if [ -e started ]; "
	    "then cat >/dev/null; else cat > run.env.new && mv -f run.env.new "
	    "run.env; fi", r->rd, r->run, r->run);
	rc = ssh_exec_input(r->ss, cmd, env.buf, env.len, cause);
	free(cmd);
	if (rc == 0) {
		cmd = xprintf("cd %s/%s && if [ -e started ]; then cat "
		    ">/dev/null; else cat > inputs.new && mv -f inputs.new "
		    "inputs; fi", r->rd, r->run);
		rc = ssh_exec_input(r->ss, cmd, in.buf, in.len, cause);
		free(cmd);
	}
	strbuf_free(&env);
	strbuf_free(&in);
	return rc;
}

/* Starts the harness detached; the "started" folder makes a second start
 * of the same run a no-op. */
static int
remote_start(struct remote *r, char **cause)
{
	char *cmd, *out;

	cmd = xprintf("cd %s/%s && if mkdir started 2>/dev/null; then "
	    "(setsid nohup sh ../../harness.sh . ../../tree >harness.log 2>&1 "
	    "</dev/null &); echo started; else echo running; fi", r->rd,
	    r->run);
	out = ssh_exec_output(r->ss, cmd, cause);
	free(cmd);
	if (out == NULL)
		return -1;
	if (strncmp(out, "running", 7) == 0)
		event_log(r->o->sink, "run", "run %s was started already; "
		    "watching it", r->res->run_id);
	free(out);
	return 0;
}

/* Turns new complete lines of records.jsonl into events. */
static void
remote_records(struct remote *r, const char *data, size_t len)
{
	struct event ev = { .type = EV_TASK_DONE };
	struct record rec;
	const char *p = data, *nl;
	char *line, *why = NULL;

	while ((nl = memchr(p, '\n', len - (size_t)(p - data))) != NULL) {
		line = xstrndup(p, (size_t)(nl - p));
		r->offset += (long long)(nl - p) + 1;
		p = nl + 1;
		if (*line == '\0' || record_from_json(line, &rec, &why) != 0) {
			if (why != NULL)
				event_log(r->o->sink, "run", "bad record from "
				    "the bastion: %s", why);
			free(why);
			why = NULL;
			free(line);
			continue;
		}
		free(line);
		if (rec.status == REC_OK || rec.status == REC_CANCELLED ||
		    rec.attempt > r->pr.retries) {
			if (rec.status != REC_CANCELLED)
				r->done++;
			if (rec.status != REC_OK && rec.status != REC_CANCELLED)
				r->failed++;
		}
		record_list_add(&r->seen, &rec);
		record_free(&rec);
		ev.record = &r->seen.v[r->seen.n - 1];
		ev.done = r->done;
		ev.failed = r->failed;
		ev.total = (long long)r->ninputs;
		event_emit(r->o->sink, &ev);
	}
}

/* One poll: "state" line, then the records past the offset. Returns 1
 * when the run is over, 0 while it runs, -1 on error. */
static int
remote_poll_once(struct remote *r, int *over, char **cause)
{
	char *cmd, *out, *nl;
	int rc = 0;

	cmd = xprintf("cd %s/%s && if [ -f done ]; then s=done; elif [ ! -f "
	    "pid ] || kill -0 \"$(cat pid)\" 2>/dev/null; then s=running; "
	    "elif [ -f done ]; then s=done; else s=dead; fi; echo \"$s\"; "
	    "tail -c +%lld records.jsonl 2>/dev/null; true", r->rd, r->run,
	    r->offset + 1);
	out = ssh_exec_output(r->ss, cmd, cause);
	free(cmd);
	if (out == NULL)
		return -1;
	if ((nl = strchr(out, '\n')) == NULL) {
		xasprintf(cause, "unexpected answer from the bastion: %s", out);
		free(out);
		return -1;
	}
	*nl = '\0';
	remote_records(r, nl + 1, strlen(nl + 1));
	if (strcmp(out, "done") == 0)
		*over = 1;
	else if (strcmp(out, "dead") == 0) {
		xasprintf(cause, "the run on the bastion ended without "
		    "finishing (see %s/runs/%s/harness.log there)",
		    r->res->remote_dir, r->res->run_id);
		rc = -1;
	}
	free(out);
	return rc;
}

static int
remote_cancel(struct remote *r, char **cause)
{
	char *cmd;
	int rc;

	cmd = xprintf("cd %s/%s && if [ -f pid ] && [ ! -f done ]; then "
	    "sid=$(cat pid); pkill -TERM -s \"$sid\" 2>/dev/null || "
	    "kill -TERM -- \"-$sid\"; echo 130 > done; fi; true", r->rd,
	    r->run);
	rc = ssh_exec_input(r->ss, cmd, "", 0, cause);
	free(cmd);
	return rc;
}

static int
remote_watch(struct remote *r, char **cause)
{
	double next;
	int over = 0;

	for (;;) {
		if (event_cancelled(r->o->sink)) {
			r->res->lr.cancelled = 1;
			return remote_retry(r, remote_cancel, cause);
		}
		if (remote_poll_once(r, &over, cause) != 0) {
			if (ssh_last_error(r->ss) != SSH_ERR_LOST)
				return -1;
			free(*cause);
			*cause = NULL;
			if (ssh_reconnect(r->ss, cause) != 0)
				return -1;
			r->res->reconnects++;
			continue;
		}
		if (over)
			return 0;
		for (next = time_mono() + REMOTE_POLL; time_mono() < next;) {
			if (event_cancelled(r->o->sink))
				break;
			usleep(50000);
		}
	}
}

static int
remote_download(struct remote *r, char **cause)
{
	char *dir = xprintf("%s/runs/%s", r->res->remote_dir, r->res->run_id);
	int rc;

	rc = download_tree(r->ss, dir, "logs records.jsonl",
	    r->res->lr.results_dir, r->o->sink, &r->res->bytes_received,
	    cause);
	free(dir);
	return rc;
}

static char *
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
	struct record_list recs = { 0 };
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
	if (project_inputs(&r.pr, o->files, &r.inputs, &r.ninputs, cause) != 0)
		goto out;
	for (i = 0; i < r.ninputs; i++) {
		if (strchr(r.inputs[i], '\n') != NULL) {
			xasprintf(cause, "input '%s' has a newline in its "
			    "name; rename it", r.inputs[i]);
			goto out;
		}
	}
	if (o->results != NULL && remote_check_results(o->results, cause) != 0)
		goto out;
	if (o->host == NULL || o->user == NULL) {
		*cause = xstrdup("no host or user to run on");
		goto out;
	}
	r.workers = o->workers > 0 ? o->workers : r.pr.workers;
	res->remote_dir = o->remote_dir != NULL ? xstrdup(o->remote_dir) :
	    xprintf("fanout/%s", r.pr.name);
	res->run_id = o->run_id != NULL ? xstrdup(o->run_id) : remote_new_id();
	res->lr.project = xstrdup(r.pr.name);
	r.rd = ssh_quote(res->remote_dir);
	q = xprintf("runs/%s", res->run_id);
	r.run = ssh_quote(q);
	free(q);

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
	r.so.auth_grace = r.so.connect_timeout >= 120 ? 60 : 0;
	r.so.sink = o->sink;

	t0 = time_mono();
	event_step(o->sink, EV_STEP_START, "connect", NULL, 0);
	r.ss = ssh_connect(&r.so, &res->fingerprint, &err, cause);
	if (r.ss == NULL)
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

	t0 = time_mono();
	event_step(o->sink, EV_STEP_START, "run", NULL, 0);
	if (remote_retry(&r, remote_prepare, cause) != 0 ||
	    remote_retry(&r, remote_start, cause) != 0)
		goto fail_step_run;
	ri.setup = time_now() - ri.started;
	ev.total = (long long)r.ninputs;
	ev.workers = r.workers;
	event_emit(o->sink, &ev);
	if (remote_watch(&r, cause) != 0)
		goto fail_step_run;
	remote_step(&r, "run", t0);

	t0 = time_mono();
	event_step(o->sink, EV_STEP_START, "download", NULL, 0);
	if (o->results != NULL) {
		if (fs_mkdir_p(o->results, 0755, cause) != 0)
			goto fail_step_download;
		res->lr.results_dir = fs_realpath(o->results, cause);
	} else {
		base = fs_join(r.pr.dir, "results");
		res->lr.results_dir = report_new_dir(base, cause);
	}
	if (res->lr.results_dir == NULL ||
	    remote_retry(&r, remote_download, cause) != 0)
		goto fail_step_download;
	remote_step(&r, "download", t0);

	q = fs_join(res->lr.results_dir, "records.jsonl");
	if (record_list_read(q, &recs, cause) != 0) {
		free(q);
		goto out;
	}
	free(q);
	ri.ended = time_now();
	ri.project = r.pr.name;
	ri.engine = "bastion";
	ri.inputs = r.inputs;
	ri.ntasks = r.ninputs;
	ri.workers = r.workers;
	ri.nodes = o->nodes > 0 ? o->nodes : 1;
	if (report_write(res->lr.results_dir, &recs, &ri, cause) != 0)
		goto out;
	report_perf(&recs, &ri, &res->lr.perf);
	rv = LOCAL_OK;
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
	record_list_free(&recs);
	record_list_free(&r.seen);
	project_inputs_free(r.inputs, r.ninputs);
	project_free(&r.pr);
	free(r.rd);
	free(r.run);
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
	memset(res, 0, sizeof *res);
}
