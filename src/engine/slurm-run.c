/* The slurm engine's run (slurm.c sets the cluster up): one job array
 * submitted from the head, each element running a contiguous share of the
 * inputs through fanout-worker with W workers on its node, in a folder of
 * its own per start (runs/ID/eE.R, R = SLURM_RESTART_COUNT); --requeue, so
 * that the share of a node Slurm declares down runs again elsewhere.
 *
 * Followed from here: squeue on the head (each element's state and node),
 * and a thread per node reading new records from its element folders
 * through the head (offsets per folder, whole lines only). A task's final
 * record counts once: the records of a requeued share for tasks that
 * finished already are ignored, and attempts are numbered here. A node
 * whose SSH dies is lost (logged), and tried again now and then. When
 * every element has ended, a last read of the records, then the logs come
 * home and the results folder is built. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cloud/provider.h"
#include "engine/engine.h"
#include "engine/slurm-int.h"
#include "event.h"
#include "history/history.h"
#include "run/project.h"
#include "run/report.h"
#include "ssh/remote.h"
#include "ssh/session.h"
#include "ssh/upload.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

#define SL_POLL_MS	500	/* records read this often */
#define SL_QUEUE_MS	1000	/* squeue this often */
#define SL_RECONNECT	10	/* seconds a lost node's SSH is tried */
#define SL_RETRY_LOST	15	/* seconds between tries of a lost node */
#define SL_STOP_WAIT	30	/* seconds a cancelled job's elements get
				 * to record their end before scancel */

int	slurm_run(struct cloud_run *, struct local_result *, char **);


static void
sl_quiet_emit(struct sink *s, const struct event *ev)
{
	event_emit(s->data, ev);
}

static int
sl_quiet_cancelled(struct sink *s)
{
	(void)s;
	return 0;
}

static void
sl_node_emit(struct sink *s, const struct event *ev)
{
	struct sl_node *nd = s->data;

	event_emit(&nd->x->sink, ev);
}

static int
sl_node_cancelled(struct sink *s)
{
	struct sl_node *nd = s->data;
	int c;

	pthread_mutex_lock(&nd->x->lock);
	c = nd->x->phase > 0 && nd->x->complete && nd->lost;
	pthread_mutex_unlock(&nd->x->lock);
	return c;
}

/* One record line of element folder f: checked, made global, counted. */
static void
sl_record(struct sl_node *nd, struct sl_folder *f, const char *line)
{
	struct sl_run *x = nd->x;
	struct sl_elem *e = &x->el[f->elem];
	struct record rec;
	char *why = NULL, *log;
	size_t g;
	int fin;

	if (record_from_json(line, &rec, &why) != 0) {
		event_log(&x->sink, "run", "bad record from %s (%s): %s",
		    nd->h.name, f->name, why);
		free(why);
		return;
	}
	if (rec.task < 0 || (size_t)rec.task >= e->b - e->a ||
	    rec.attempt < 1) {
		event_log(&x->sink, "run", "record of task %d from %s (%s) "
		    "ignored: no such task", rec.task, nd->h.name, f->name);
		record_free(&rec);
		return;
	}
	g = e->a + (size_t)rec.task;
	pthread_mutex_lock(&x->lock);
	if (x->final[g] || x->attempts[g] == 65535) {
		/* A requeued share ran it again: counted once. */
		x->ignored++;
		pthread_mutex_unlock(&x->lock);
		record_free(&rec);
		return;
	}
	fin = rec.status == REC_OK || rec.status == REC_CANCELLED ||
	    rec.attempt > x->pr.retries;
	x->final[g] = (unsigned char)fin;
	rec.attempt = ++x->attempts[g];
	rec.task = (int)g;
	free(rec.input);
	rec.input = xstrdup(x->inputs[g]);
	if (rec.log != NULL) {
		log = xprintf("%s-%s", f->name, rec.log);
		free(rec.log);
		rec.log = log;
	}
	if (fin && rec.status != REC_CANCELLED)
		x->done++;
	if (fin && rec.status != REC_OK && rec.status != REC_CANCELLED)
		x->failed++;
	remote_record_home(x->records, &rec, x->done, x->failed,
	    (long long)x->ninputs, &x->sink);
	pthread_mutex_unlock(&x->lock);
	record_free(&rec);
}

/* The folder called name on node nd, made when new; NULL when the name
 * is not eE.R of an element of this run. */
static struct sl_folder *
sl_folder(struct sl_node *nd, const char *name)
{
	unsigned long e, r;
	char *end;
	size_t i;

	for (i = 0; i < nd->nf; i++) {
		if (strcmp(nd->f[i].name, name) == 0)
			return &nd->f[i];
	}
	if (name[0] != 'e')
		return NULL;
	errno = 0;
	e = strtoul(name + 1, &end, 10);
	if (errno != 0 || *end != '.' || end == name + 1 ||
	    e >= nd->x->nel)
		return NULL;
	r = strtoul(end + 1, &end, 10);
	if (errno != 0 || *end != '\0' || r > 100000)
		return NULL;
	nd->f = xreallocarray(nd->f, nd->nf + 1, sizeof *nd->f);
	memset(&nd->f[nd->nf], 0, sizeof *nd->f);
	nd->f[nd->nf].name = xstrdup(name);
	nd->f[nd->nf].elem = (size_t)e;
	return &nd->f[nd->nf++];
}

/* One read of the node's new records: a command that prints, for each
 * element folder with bytes past the offset known here, "#r NAME OFF
 * SIZE" and those bytes; "#d NAME" for one whose done is written; and
 * "#end". Folders finished here are skipped there. */
static int
sl_read(struct sl_node *nd, char **cause)
{
	struct sl_run *x = nd->x;
	struct strbuf cmd, out;
	struct sl_folder *f;
	char *q, *p, *end, *nl, name[64];
	long long off, size, n, used;
	size_t i;
	int status, rc;

	strbuf_init(&cmd);
	strbuf_init(&out);
	q = ssh_quote(x->rd);
	strbuf_addf(&cmd, "cd && cd %s/runs/%s 2>/dev/null || { echo '#end'; "
	    "exit 0; }\no() { case $1 in\n", q, x->run_id);
	free(q);
	for (i = 0; i < nd->nf; i++) {
		if (nd->f[i].finished)
			strbuf_addf(&cmd, "%s) echo x;;\n", nd->f[i].name);
		else
			strbuf_addf(&cmd, "%s) echo %lld;;\n", nd->f[i].name,
			    nd->f[i].off);
	}
	strbuf_adds(&cmd, "*) echo 0;;\nesac; }\n"
	    "for d in e*.*; do\n"
	    "\t[ -f \"$d/records.jsonl\" ] || continue\n"
	    "\to=$(o \"$d\"); [ \"$o\" != x ] || continue\n"
	    "\t[ -e \"$d/done\" ] && echo \"#d $d\"\n"
	    "\ts=$(stat -c %s \"$d/records.jsonl\") || continue\n"
	    "\t[ \"$s\" -gt \"$o\" ] || continue\n"
	    "\techo \"#r $d $o $s\"\n"
	    "\ttail -c +$((o + 1)) \"$d/records.jsonl\" | head -c $((s - o))\n"
	    "done\necho; echo '#end'\n");
	rc = sl_exec(nd->ss, "sh -s", cmd.buf, cmd.len, &out, &status, cause);
	strbuf_free(&cmd);
	if (rc != 0) {
		strbuf_free(&out);
		return -1;
	}
	p = out.buf != NULL ? out.buf : "";
	end = p + out.len;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			break;
		*nl = '\0';
		if (sscanf(p, "#d %63s", name) == 1) {
			/* Done, and everything before it printed below or
			 * read already: finished once this read is used. */
			if ((f = sl_folder(nd, name)) != NULL &&
			    !f->finished)
				f->finished = 2;
			p = nl + 1;
			continue;
		}
		if (sscanf(p, "#r %63s %lld %lld", name, &off, &size) != 3) {
			p = nl + 1;
			continue;
		}
		p = nl + 1;
		n = size - off;
		if (n < 0 || n > end - p)
			n = end - p;
		f = sl_folder(nd, name);
		if (f != NULL && f->off == off) {
			/* Whole lines only; the rest next time. */
			for (used = 0; used < n; used = nl - p + 1) {
				nl = memchr(p + used, '\n', (size_t)(n - used));
				if (nl == NULL)
					break;
				*nl = '\0';
				if (p[used] == '{')
					sl_record(nd, f, p + used);
			}
			f->off += used;
			if (used < n && f->finished == 2)
				f->finished = 0;	/* a part line */
		}
		p += n;
	}
	for (i = 0; i < nd->nf; i++) {
		if (nd->f[i].finished == 2)
			nd->f[i].finished = 1;
	}
	strbuf_free(&out);
	return 0;
}

/* The element folders' logs into the results folder's logs/ as
 * eE.R-wN.out|err (the names the records have), each element's own
 * output as slurm-eE.R.log. */
static int
sl_fetch_logs(struct sl_node *nd, char **cause)
{
	struct sl_run *x = nd->x;
	char *remote, *tmp, *from, *to, *sub;
	const char *ext[] = { "out", "err" };
	size_t i;
	int w, k, rc;

	if (nd->nf == 0)
		return 0;
	remote = xprintf("%s/runs/%s", x->rd, x->run_id);
	tmp = xprintf("%s/.slurm-%s", x->results, nd->h.name);
	rc = download_tree(nd->ss, remote, ".", tmp, &x->sink, &nd->got,
	    cause);
	free(remote);
	if (rc != 0) {
		fs_remove_tree(tmp, NULL);
		free(tmp);
		return -1;
	}
	for (i = 0; i < nd->nf; i++) {
		for (w = 1; w <= x->workers; w++) {
			for (k = 0; k < 2; k++) {
				from = xprintf("%s/%s/logs/w%d.%s", tmp,
				    nd->f[i].name, w, ext[k]);
				to = xprintf("%s/logs/%s-w%d.%s", x->results,
				    nd->f[i].name, w, ext[k]);
				if (fs_is_file(from))
					rename(from, to);
				free(from);
				free(to);
			}
		}
		sub = xprintf("%s/%s/element.log", tmp, nd->f[i].name);
		to = xprintf("%s/logs/slurm-%s.log", x->results,
		    nd->f[i].name);
		if (fs_is_file(sub))
			rename(sub, to);
		free(sub);
		free(to);
	}
	fs_remove_tree(tmp, NULL);
	free(tmp);
	return 0;
}

/* The node's session again (after a loss), trying for SL_RECONNECT s. */
static int
sl_node_connect(struct sl_node *nd, const struct ssh_opts *jump,
    char **cause)
{
	nd->tried = time_mono();
	nd->h.so.connect_timeout = SL_RECONNECT;
	nd->h.so.auth_grace = 0;
	if (nd->ss != NULL) {
		ssh_close(nd->ss);
		nd->ss = NULL;
	}
	nd->ss = sl_connect(nd->x->run, &nd->h, jump, cause);
	return nd->ss != NULL ? 0 : -1;
}

static const struct ssh_opts *sl_jump_of(struct sl_run *);

static void
sl_node_lost(struct sl_node *nd, const char *why)
{
	struct sl_run *x = nd->x;

	pthread_mutex_lock(&x->lock);
	if (!nd->lost) {
		nd->lost = 1;
		nd->lost_at = time_mono();
		event_log(&x->sink, "run", "node %s lost: %s", nd->h.name, why);
	}
	pthread_mutex_unlock(&x->lock);
	if (nd->ss != NULL) {
		ssh_close(nd->ss);
		nd->ss = NULL;
	}
}

/* Whether a task has no last record yet. */
static int
sl_missing(struct sl_run *x)
{
	size_t i;
	int missing = 0;

	pthread_mutex_lock(&x->lock);
	for (i = 0; i < x->ninputs && !missing; i++)
		missing = !x->final[i];
	pthread_mutex_unlock(&x->lock);
	return missing;
}

static void *
sl_node_main(void *arg)
{
	struct sl_node *nd = arg;
	struct sl_run *x = nd->x;
	struct timespec ts;
	char *cause = NULL;
	int phase, last = 0;

	for (;;) {
		pthread_mutex_lock(&x->lock);
		phase = x->phase;
		pthread_mutex_unlock(&x->lock);
		if (phase == 2)
			break;
		last = phase == 1;
		/* A lost node is tried again now and then, and at the end
		 * when a task still lacks its last record. */
		if (nd->ss == NULL && ((last && sl_missing(x)) ||
		    (!last && time_mono() - nd->tried > SL_RETRY_LOST))) {
			if (sl_node_connect(nd, sl_jump_of(x), &cause) == 0) {
				pthread_mutex_lock(&x->lock);
				if (nd->lost)
					event_log(&x->sink, "run", "node %s "
					    "answers again", nd->h.name);
				nd->lost = 0;
				pthread_mutex_unlock(&x->lock);
			} else {
				sl_node_lost(nd, cause);
			}
			free(cause);
			cause = NULL;
		}
		if (nd->ss != NULL && sl_read(nd, &cause) != 0) {
			/* Once more on a new connection, else lost. */
			free(cause);
			cause = NULL;
			if (sl_node_connect(nd, sl_jump_of(x), &cause) != 0 ||
			    sl_read(nd, &cause) != 0)
				sl_node_lost(nd, cause);
			free(cause);
			cause = NULL;
		}
		if (last)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += SL_POLL_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&x->lock);
		if (x->phase == 0)
			pthread_cond_timedwait(&x->wake, &x->lock, &ts);
		pthread_mutex_unlock(&x->lock);
	}
	if (nd->ss != NULL && sl_fetch_logs(nd, &cause) != 0) {
		event_log(&x->sink, "download", "logs of %s: %s", nd->h.name,
		    cause);
		free(cause);
	} else if (nd->ss == NULL && nd->nf > 0)
		event_log(&x->sink, "download", "the logs of %s are lost with "
		    "it", nd->h.name);
	return NULL;
}

static struct sl_host	 sl_head_host;	/* see sl_jump_of */

/* The head, which every node's session goes through. One run at a time
 * per process (the run set's lock). */
static const struct ssh_opts *
sl_jump_of(struct sl_run *x)
{
	(void)x;
	return &sl_head_host.so;
}


/* A head call again after a dropped connection (a few times). */
static int
sl_head_retry(struct ssh_session *hs, int rc, char **cause, int *tries)
{
	if (rc == 0 || ssh_last_error(hs) != SSH_ERR_LOST || ++*tries > 5)
		return -1;
	free(*cause);
	*cause = NULL;
	return ssh_reconnect(hs, cause);
}

static void
sl_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Until every element has ended (or the head is lost: -1, cause). */
static int
sl_follow(struct sl_run *x, struct ssh_session *hs, struct local_result *lr,
    char **cause)
{
	char *last = NULL;
	double cancel_at = 0;
	int rc, tries = 0, killed = 0;

	for (;;) {
		if (cancel_at == 0 && event_cancelled(x->run->sink)) {
			lr->cancelled = 1;
			cancel_at = time_mono();
			event_log(&x->sink, "run", "cancelled: stopping Slurm "
			    "job %s", x->job);
			while ((rc = sl_cancel(x, hs, cause)) != 0 &&
			    sl_head_retry(hs, rc, cause, &tries) == 0)
				;
			if (rc != 0)
				break;
		}
		if (cancel_at > 0 && !killed && time_mono() - cancel_at >
		    SL_STOP_WAIT) {
			char *cmd = xprintf("scancel %s", x->job);

			killed = 1;
			if (ssh_exec_input(hs, cmd, "", 0, cause) != 0) {
				free(*cause);
				*cause = NULL;
			}
			free(cmd);
		}
		rc = sl_queue(x, hs, cause);
		if (rc < 0) {
			if (sl_head_retry(hs, -1, cause, &tries) == 0)
				continue;
			break;
		}
		tries = 0;
		sl_progress(x, &last);
		if (rc == 1)
			break;
		sl_sleep_ms(SL_QUEUE_MS);
	}
	free(last);
	return rc < 0 ? -1 : 0;
}

/* Loads the project, its inputs and the hosts; connects to the head. */
static struct ssh_session *
sl_prepare(struct sl_run *x, char **cause)
{
	struct cloud_run *run = x->run;
	struct ssh_session *hs;
	json_t **nodes, *head;
	size_t n, i;
	long files;

	if (project_load(history_str(run->rec, "project_dir", ""), &x->pr,
	    cause) != 0)
		return NULL;
	files = (long)json_integer_value(json_object_get(run->answers,
	    "files"));
	/* Inputs in a bucket: each element fetches its own share on its
	 * node, with the nodes' role, before its tasks (a requeued share
	 * is fetched by the node that takes it; no node fetches what it
	 * does not run). */
	if (x->pr.inputs_url != NULL) {
		char *summary = NULL;

		if (run->provider->store_fetch == NULL) {
			xasprintf(cause, "provider %s cannot read buckets",
			    run->provider->name);
			return NULL;
		}
		if (run->provider->store_fetch(run->session, &x->pr, files,
		    &x->paths, &x->inputs, &x->ninputs, &x->fetch_list,
		    &x->fetch, &summary, cause) != 0)
			return NULL;
		event_log(run->sink, "inputs", "%s", summary);
		free(summary);
	} else if (project_inputs(&x->pr, files, &x->inputs, &x->ninputs,
	    cause) != 0)
		return NULL;
	for (i = 0; i < x->ninputs; i++) {
		if (strchr(x->inputs[i], '\n') != NULL) {
			xasprintf(cause, "input '%s' has a newline in its "
			    "name; rename it", x->inputs[i]);
			return NULL;
		}
	}
	x->workers = x->pr.workers;
	if ((nodes = sl_nodes(run, &n, cause)) == NULL)
		return NULL;
	x->nodes = xcalloc(n, sizeof *x->nodes);
	for (i = 0; i < n; i++) {
		x->nodes[i].x = x;
		x->nodes[i].sink.emit = sl_node_emit;
		x->nodes[i].sink.cancelled = sl_node_cancelled;
		x->nodes[i].sink.data = &x->nodes[i];
		if (sl_host_init(run, nodes[i], &x->nodes[i].sink,
		    &x->nodes[i].h, cause) != 0)
			break;
		x->nnodes++;
	}
	for (i = 0; i < n; i++)
		json_decref(nodes[i]);
	free(nodes);
	if (x->nnodes < n)
		return NULL;
	pthread_mutex_lock(&run->lock);
	head = json_incref(engine_host(run->rec, "head"));
	pthread_mutex_unlock(&run->lock);
	if (head == NULL) {
		xasprintf(cause, "run set %s has no head host in its record",
		    run->id);
		return NULL;
	}
	i = sl_host_init(run, head, &x->sink, &sl_head_host, cause) == 0;
	json_decref(head);
	if (!i)
		return NULL;
	sl_head_host.so.auth_grace = 0;
	hs = sl_connect(run, &sl_head_host, NULL, cause);
	return hs;
}

int
slurm_run(struct cloud_run *run, struct local_result *out, char **cause)
{
	struct sl_run x;
	struct run_info ri;
	struct event ev = { .type = EV_TASKS_START };
	struct ssh_session *hs = NULL;
	struct local_result lr;
	char *base = NULL, *path, *why = NULL, *ended_badly = NULL;
	long long files_sent, bytes_sent;
	size_t i, lost = 0;
	int rc = -1, tries = 0, r;

	memset(&x, 0, sizeof x);
	memset(&ri, 0, sizeof ri);
	memset(&lr, 0, sizeof lr);
	memset(&sl_head_host, 0, sizeof sl_head_host);
	x.run = run;
	x.sink.emit = sl_quiet_emit;
	x.sink.cancelled = sl_quiet_cancelled;
	x.sink.data = run->sink;
	pthread_mutex_init(&x.lock, NULL);
	pthread_cond_init(&x.wake, NULL);
	ri.started = time_now();
	if ((hs = sl_prepare(&x, cause)) == NULL)
		goto out;
	x.rd = remote_dir_for(x.pr.name);
	x.run_id = remote_new_id();
	lr.project = xstrdup(x.pr.name);
	base = fs_join(x.pr.dir, "results");
	if ((lr.results_dir = report_new_dir(base, cause)) == NULL)
		goto out;
	x.results = lr.results_dir;
	path = fs_join(x.results, "logs");
	r = fs_mkdir_p(path, 0755, cause);
	free(path);
	if (r != 0)
		goto out;
	path = fs_join(x.results, "records.jsonl");
	if ((x.records = fopen(path, "w")) == NULL) {
		xasprintf(cause, "cannot write %s: %s", path, strerror(errno));
		free(path);
		goto out;
	}
	free(path);
	x.nel = sl_elements(x.ninputs, x.nnodes, x.workers);
	x.el = xcalloc(x.nel, sizeof *x.el);
	for (i = 0; i < x.nel; i++) {
		x.el[i].a = i * x.ninputs / x.nel;
		x.el[i].b = (i + 1) * x.ninputs / x.nel;
	}
	x.attempts = xcalloc(x.ninputs, sizeof *x.attempts);
	x.final = xcalloc(x.ninputs, sizeof *x.final);

	while ((r = sl_submit(&x, hs, cause)) != 0 &&
	    sl_head_retry(hs, r, cause, &tries) == 0)
		;
	if (r != 0)
		goto out;
	ri.setup = time_now() - ri.started;
	event_log(&x.sink, "run", "Slurm job %s: %zu tasks in %zu elements "
	    "(about %zu each) on %zu nodes x %d workers", x.job, x.ninputs,
	    x.nel, x.ninputs / x.nel, x.nnodes, x.workers);
	ev.total = (long long)x.ninputs;
	ev.workers = x.workers * (int)x.nnodes;
	event_emit(&x.sink, &ev);
	for (i = 0; i < x.nnodes; i++) {
		if (pthread_create(&x.nodes[i].thread, NULL, sl_node_main,
		    &x.nodes[i]) == 0)
			x.nodes[i].started = 1;
	}
	if (sl_follow(&x, hs, &lr, cause) != 0) {
		/* The head is lost: what came home makes the results. */
		ended_badly = *cause;
		*cause = NULL;
		event_log(&x.sink, "run", "following the job failed: %s",
		    ended_badly);
	}
	r = !sl_missing(&x);
	pthread_mutex_lock(&x.lock);
	x.phase = 1;
	x.complete = r;
	pthread_cond_broadcast(&x.wake);
	pthread_mutex_unlock(&x.lock);
	for (i = 0; i < x.nnodes; i++) {
		if (x.nodes[i].started)
			pthread_join(x.nodes[i].thread, NULL);
		if (x.nodes[i].lost) {
			event_log(&x.sink, "run", "host %s was lost during "
			    "the run", x.nodes[i].h.name);
			lost++;
		}
	}
	if (x.ignored > 0)
		event_log(&x.sink, "run", "%lld records of tasks that had "
		    "finished already (their share ran again) ignored",
		    x.ignored);
	fclose(x.records);
	x.records = NULL;

	ri.ended = time_now();
	ri.project = x.pr.name;
	ri.engine = "slurm";
	ri.inputs = x.inputs;
	ri.ntasks = x.ninputs;
	ri.workers = x.workers;
	ri.nodes = (int)x.nnodes;
	if (report_write_dir(x.results, &ri, &lr.perf, cause) != 0)
		goto out;
	if (lr.perf.unfinished == 0)
		lr.cancelled = 0;
	sl_sent_get(run->id, &files_sent, &bytes_sent);
	pthread_mutex_lock(&run->lock);
	history_add_run(run->rec, engine_run_entry("slurm", ri.started, &lr,
	    files_sent, bytes_sent));
	if (history_save(run->rec, &why) != 0)
		free(why);
	pthread_mutex_unlock(&run->lock);
	if (ended_badly != NULL) {
		*cause = ended_badly;
		ended_badly = NULL;
		goto out;
	}
	rc = 0;
	if (out != NULL) {
		*out = lr;
		memset(&lr, 0, sizeof lr);
	}
out:
	for (i = 0; i < x.nnodes; i++) {
		if (x.nodes[i].ss != NULL)
			ssh_close(x.nodes[i].ss);
		while (x.nodes[i].nf > 0)
			free(x.nodes[i].f[--x.nodes[i].nf].name);
		free(x.nodes[i].f);
		sl_host_free(&x.nodes[i].h);
	}
	free(x.nodes);
	if (hs != NULL)
		ssh_close(hs);
	sl_host_free(&sl_head_host);
	if (x.records != NULL)
		fclose(x.records);
	free(ended_badly);
	free(x.el);
	free(x.attempts);
	free(x.final);
	free(x.rd);
	free(x.run_id);
	free(x.job);
	free(base);
	project_inputs_free(x.inputs, x.ninputs);
	if (x.paths != NULL)
		project_inputs_free(x.paths, x.ninputs);
	free(x.fetch_list);
	free(x.fetch);
	project_free(&x.pr);
	local_result_free(&lr);
	pthread_mutex_destroy(&x.lock);
	pthread_cond_destroy(&x.wake);
	return rc;
}
