/* The bastion engine (see remote.h). Remote layout under remote_dir:
 *   tree/, manifest.d/   the project (upload.h)
 *   harness.sh           templates/harness.sh
 *   runs/ID/             run.env, inputs, started (mkdir lock), pid,
 *                        records.jsonl, logs/, harness.log, done */
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
	char			 *state;	/* "done" or "dead" when over */
	struct strbuf		 *feed;		/* stdin being sent */
	size_t			  feed_off;
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

/* Appends a here-document writing text to file (via a temp name). */
static void
remote_heredoc(struct strbuf *sb, const char *file, const char *text)
{
	size_t len = strlen(text);

	strbuf_addf(sb, "cat > %s.new <<'FANOUT_EOF_7f3a'\n%s%s"
	    "FANOUT_EOF_7f3a\nmv -f %s.new %s\n", file, text,
	    len > 0 && text[len - 1] != '\n' ? "\n" : "", file, file);
}

static char *
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

/* One login: writes harness.sh, then runs bastion-setup.sh (idempotent;
 * quick the second time). */
static int
remote_setup(struct remote *r, char **cause)
{
	struct strbuf sb;
	char *harness, *setup, *cmd;
	int rc;

	if ((harness = remote_template("harness.sh", cause)) == NULL)
		return -1;
	if ((setup = remote_template("bastion-setup.sh", cause)) == NULL) {
		free(harness);
		return -1;
	}
	strbuf_init(&sb);
	strbuf_addf(&sb, "set -e\nmkdir -p %s\n", r->rd);
	cmd = xprintf("%s/harness.sh", r->rd);
	remote_heredoc(&sb, cmd, harness);
	free(cmd);
	strbuf_adds(&sb, "set +e\n");
	strbuf_adds(&sb, setup);
	cmd = xprintf("sh -s -- %s", r->rd);
	rc = ssh_exec_input(r->ss, cmd, sb.buf, sb.len, cause);
	free(cmd);
	free(harness);
	free(setup);
	strbuf_free(&sb);
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
	uo.cache = r->o->upload_cache;
	rc = upload_tree_retry(r->ss, &uo, &st, &r->res->reconnects, cause);
	r->res->files = st.files;
	r->res->files_sent = st.files_sent;
	r->res->bytes_sent = st.bytes_sent;
	r->res->wire_bytes = st.wire_bytes;
	upload_stats_free(&st);
	return rc;
}

static ssize_t
remote_feed(void *arg, char *buf, size_t len, char **cause)
{
	struct remote *r = arg;

	(void)cause;
	if (len > r->feed->len - r->feed_off)
		len = r->feed->len - r->feed_off;
	memcpy(buf, r->feed->buf + r->feed_off, len);
	r->feed_off += len;
	return (ssize_t)len;
}

/* One login: writes run.env and inputs and starts the harness detached,
 * unless this run was started already (the "started" folder is the
 * lock), so a retry after a dropped connection never starts it twice. */
static int
remote_start(struct remote *r, char **cause)
{
	struct strbuf sb, env, in, o;
	struct ssh_exec x;
	char *q, *out;
	size_t i;
	int rc = -1, status;

	strbuf_init(&sb);
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
	strbuf_addf(&sb, "set -e\ncd %s\nmkdir -p %s\ncd %s\n"
	    "if [ ! -e started ]; then\n", r->rd, r->run, r->run);
	remote_heredoc(&sb, "run.env", env.buf);
	remote_heredoc(&sb, "inputs", in.buf);
	strbuf_adds(&sb, "fi\nif mkdir started 2>/dev/null; then\n"
	    "(setsid nohup sh ../../harness.sh . ../../tree >harness.log 2>&1 "
	    "</dev/null &)\necho started\nelse\necho running\nfi\n");
	memset(&x, 0, sizeof x);
	strbuf_init(&o);
	x.command = "sh -s";
	x.out = &o;
	x.input = remote_feed;
	x.input_arg = r;
	r->feed = &sb;
	r->feed_off = 0;
	if (ssh_exec_run(r->ss, &x, &status, cause) == 0) {
		if (status != 0)
			xasprintf(cause, "cannot start the run on the bastion "
			    "(exit %d)", status);
		else
			rc = 0;
	}
	out = strbuf_detach(&o);
	if (rc == 0 && strncmp(out, "running", 7) == 0)
		event_log(r->o->sink, "run", "run %s was started already; "
		    "watching it", r->res->run_id);
	free(out);
	strbuf_free(&sb);
	strbuf_free(&env);
	strbuf_free(&in);
	return rc;
}

/* A record line from the watch stream, or its closing "#state" line. */
static void
remote_line(void *arg, int fd, const char *line)
{
	struct remote *r = arg;
	struct event ev = { .type = EV_TASK_DONE };
	struct record rec;
	char *why = NULL;

	if (fd != 1)
		return;
	if (strncmp(line, "#state ", 7) == 0) {
		free(r->state);
		r->state = xstrdup(line + 7);
		return;
	}
	r->offset += (long long)strlen(line) + 1;
	if (*line == '\0')
		return;
	if (record_from_json(line, &rec, &why) != 0) {
		event_log(r->o->sink, "run", "bad record from the bastion: %s",
		    why);
		free(why);
		return;
	}
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

/* One login for the whole run: the remote loop prints the records as
 * they are appended, then "#state done|dead". After a dropped connection
 * it is started again from the offset already read. */
static int
remote_watch_once(struct remote *r, char **cause)
{
	struct ssh_exec x;
	char *cmd;
	int status, rc;

	cmd = xprintf("cd %s/%s || exit 1; off=%lld; i=0; while :; do "
	    "if [ -f done ]; then s=done; elif [ ! -f pid ]; then "
	    "s=running; [ $i -gt 240 ] && s=dead; elif kill -0 \"$(cat pid)\" "
	    "2>/dev/null; then s=running; elif [ -f done ]; then s=done; "
	    "else s=dead; fi; n=$(wc -c < records.jsonl 2>/dev/null || "
	    "echo 0); if [ \"$n\" -gt \"$off\" ]; then tail -c +$((off + 1)) "
	    "records.jsonl | head -c $((n - off)); off=$n; fi; "
	    "[ $s = running ] || { echo; echo \"#state $s\"; break; }; "
	    "i=$((i + 1)); sleep %g; done", r->rd, r->run, r->offset,
	    REMOTE_POLL);
	memset(&x, 0, sizeof x);
	x.command = cmd;
	x.line = remote_line;
	x.line_arg = r;
	rc = ssh_exec_run(r->ss, &x, &status, cause);
	free(cmd);
	if (rc != 0)
		return -1;
	if (r->state == NULL) {
		xasprintf(cause, "watching the run on the bastion failed "
		    "(exit %d)", status);
		return -1;
	}
	if (strcmp(r->state, "dead") == 0) {
		xasprintf(cause, "the run on the bastion ended without "
		    "finishing (see %s/runs/%s/harness.log there)",
		    r->res->remote_dir, r->res->run_id);
		return -1;
	}
	return 0;
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
	for (;;) {
		if (remote_watch_once(r, cause) == 0)
			return 0;
		if (ssh_last_error(r->ss) == SSH_ERR_CANCELLED) {
			free(*cause);
			*cause = NULL;
			r->res->lr.cancelled = 1;
			ssh_ignore_cancel(r->ss, 1);
			event_log(r->o->sink, "run", "cancelled: stopping the run "
			    "on the bastion");
			return remote_retry(r, remote_cancel, cause);
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
	if (o->results != NULL && report_check_dir(o->results, cause) != 0)
		goto out;
	if (o->host == NULL || o->user == NULL) {
		*cause = xstrdup("no host or user to run on");
		goto out;
	}
	r.workers = o->workers > 0 ? o->workers : r.pr.workers;
	if (o->remote_dir != NULL)
		res->remote_dir = xstrdup(o->remote_dir);
	else if ((q = getenv("FANOUT_BASTION_DIR")) != NULL && *q != '\0')
		res->remote_dir = xstrdup(q);
	else
		res->remote_dir = xprintf("fanout/%s", r.pr.name);
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
	if (remote_retry(&r, remote_start, cause) != 0)
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
	memset(res, 0, sizeof *res);
}
