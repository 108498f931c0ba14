/* The slurm engine: a head VM running slurmctld and munged, and N compute
 * VMs running slurmd (DESIGN.md "Clusters"). This file: the set-up steps
 * that run in the create's step graph beside the provider's (and again on
 * a resume), each through templates/slurm-setup.sh over SSH:
 *   head setup     munge and slurmctld's packages, the munge key, munged
 *   nodes setup    every node at once, through the head: munge with the
 *                  head's key (read into memory, never written here),
 *                  slurmd, fanout-worker, the project (what changed),
 *                  slurm.conf and slurmd
 *   controller     slurm.conf on the head, slurmctld
 *   cluster ready  every node idle in Slurm
 * The run (the job array) is slurm-run.c. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/provider.h"
#include "engine/engine.h"
#include "engine/slurm-int.h"
#include "event.h"
#include "history/history.h"
#include "run/project.h"
#include "ssh/remote.h"
#include "ssh/session.h"
#include "ssh/upload.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

/* How long Slurm waits for a silent slurmd before it declares the node
 * down and requeues its jobs, unless $FANOUT_SLURMD_TIMEOUT says. */
#define SL_SLURMD_TIMEOUT	120
/* How long "cluster ready" waits for every node to be idle. */
#define SL_READY_WAIT		180

int	slurm_run(struct cloud_run *, struct local_result *, char **);

/* The last nodes setup's upload (sl_sent_get). */
static pthread_mutex_t sl_sent_lock = PTHREAD_MUTEX_INITIALIZER;
static char sl_sent_id[64];
static long long sl_sent_files, sl_sent_bytes;

void
sl_sent_get(const char *id, long long *files, long long *bytes)
{
	pthread_mutex_lock(&sl_sent_lock);
	*files = strcmp(sl_sent_id, id) == 0 ? sl_sent_files : 0;
	*bytes = strcmp(sl_sent_id, id) == 0 ? sl_sent_bytes : 0;
	pthread_mutex_unlock(&sl_sent_lock);
}

void
sl_host_free(struct sl_host *h)
{
	json_decref(h->entry);
	free(h->name);
	free(h->user);
	free(h->addr);
	free(h->slurm_addr);
	free(h->key_file);
	free(h->known_hosts);
	free(h->host_key);
	memset(h, 0, sizeof *h);
}

static char *
sl_dup(json_t *o, const char *key)
{
	const char *s = history_str(o, key, NULL);

	return s != NULL ? xstrdup(s) : NULL;
}

int
sl_host_init(struct cloud_run *run, json_t *entry, struct sink *sink,
    struct sl_host *h, char **cause)
{
	json_t *copy;
	char *u = NULL, *a = NULL, *u2 = NULL, *a2 = NULL;
	int port = 0, port2 = 0, rc;

	memset(h, 0, sizeof *h);
	pthread_mutex_lock(&run->lock);
	h->entry = json_incref(entry);
	h->name = sl_dup(entry, "name");
	h->user = sl_dup(entry, "user");
	h->key_file = sl_dup(entry, "key_file");
	h->host_key = sl_dup(entry, "host_key");
	rc = engine_host_address(entry, &u, &a, &port, cause);
	/* Without its public address: what the map says alone. */
	copy = json_deep_copy(entry);
	pthread_mutex_unlock(&run->lock);
	json_object_del(copy, "host");
	if (rc == 0)
		rc = engine_host_address(copy, &u2, &a2, &port2, cause);
	if (rc == 0) {
		if (u != NULL) {
			free(h->user);
			h->user = u;
			u = NULL;
		}
		h->port = port;
		h->slurm_addr = a2 != NULL ? a2 : sl_dup(copy, "private_ip");
		a2 = NULL;
		/* A node is reached through the head at its private
		 * address; the head at its public one. */
		if (strcmp(history_str(copy, "role", ""), "head") == 0)
			h->addr = a;
		else
			h->addr = xstrdup(h->slurm_addr != NULL ?
			    h->slurm_addr : (a != NULL ? a : ""));
		if (h->addr != a)
			free(a);
		a = NULL;
		if (h->addr == NULL || *h->addr == '\0' || h->user == NULL ||
		    h->name == NULL) {
			xasprintf(cause, "host %s has no %s in the record",
			    h->name != NULL ? h->name : "?", h->user == NULL ?
			    "login user" : "address");
			rc = -1;
		}
	}
	free(u);
	free(a);
	free(u2);
	free(a2);
	json_decref(copy);
	if (rc != 0) {
		sl_host_free(h);
		return -1;
	}
	h->known_hosts = history_file(run->id, ".known_hosts");
	h->so.name = h->name;
	h->so.host = h->addr;
	h->so.port = h->port > 0 ? h->port : 22;
	h->so.user = h->user;
	h->so.key_file = h->key_file;
	h->so.known_hosts = h->known_hosts;
	h->so.expected_fp = h->host_key;
	h->so.sink = sink;
	if (engine_ssh_wait(&h->so.connect_timeout, &h->so.auth_grace,
	    cause) != 0) {
		sl_host_free(h);
		return -1;
	}
	if (h->so.connect_timeout <= 0)
		h->so.connect_timeout = 300;
	return 0;
}

struct ssh_session *
sl_connect(struct cloud_run *run, struct sl_host *h,
    const struct ssh_opts *jump, char **cause)
{
	struct ssh_session *ss;
	enum ssh_error err;
	char *fp = NULL, *why = NULL;

	h->so.jump = jump;
	ss = ssh_connect(&h->so, &fp, &err, cause);
	if (ss != NULL && fp != NULL && h->host_key == NULL) {
		/* The host key seen first is kept. */
		h->host_key = fp;
		fp = NULL;
		h->so.expected_fp = h->host_key;
		pthread_mutex_lock(&run->lock);
		json_object_set_new(h->entry, "host_key",
		    json_string(h->host_key));
		if (history_save(run->rec, &why) != 0)
			free(why);
		pthread_mutex_unlock(&run->lock);
	}
	free(fp);
	return ss;
}

static int
sl_name_cmp(const void *a, const void *b)
{
	const char *x = history_str(*(json_t *const *)a, "name", "");
	const char *y = history_str(*(json_t *const *)b, "name", "");
	size_t lx = strlen(x), ly = strlen(y);

	/* node2 before node10 */
	return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

json_t **
sl_nodes(struct cloud_run *run, size_t *n, char **cause)
{
	json_t **v = NULL, *h;
	size_t i;

	*n = 0;
	pthread_mutex_lock(&run->lock);
	json_array_foreach(json_object_get(run->rec, "hosts"), i, h) {
		if (strcmp(history_str(h, "role", ""), "compute") != 0)
			continue;
		v = xreallocarray(v, *n + 1, sizeof *v);
		v[(*n)++] = json_incref(h);
	}
	pthread_mutex_unlock(&run->lock);
	if (*n == 0) {
		xasprintf(cause, "run set %s has no compute nodes in its "
		    "record", run->id);
		return NULL;
	}
	qsort(v, *n, sizeof *v, sl_name_cmp);
	return v;
}

int
sl_workers(struct cloud_run *run, char **cause)
{
	struct project pr;
	int w;

	if (project_load(history_str(run->rec, "project_dir", ""), &pr,
	    cause) != 0)
		return -1;
	w = pr.workers;
	/* workers: not given: one per vCPU of the nodes' type, as the
	 * create settled it (answers "machine"); a record made before it
	 * keeps the old default. */
	if (!pr.workers_set && json_integer_value(json_object_get(
	    json_object_get(json_object_get(run->rec, "answers"), "machine"),
	    "vcpus")) > 0)
		w = (int)json_integer_value(json_object_get(json_object_get(
		    json_object_get(run->rec, "answers"), "machine"), "vcpus"));
	project_free(&pr);
	return w;
}

/* The slurmd timeout: $FANOUT_SLURMD_TIMEOUT (tests: a lost node is
 * noticed in seconds), else SL_SLURMD_TIMEOUT. */
static int
sl_slurmd_timeout(char **cause)
{
	const char *s = getenv("FANOUT_SLURMD_TIMEOUT");
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return SL_SLURMD_TIMEOUT;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < 2 || v > 65533) {
		xasprintf(cause, "FANOUT_SLURMD_TIMEOUT must be a number of "
		    "seconds from 2 to 65533, not '%s'", s);
		return -1;
	}
	return (int)v;
}


/* One shell assignment NAME='value' and a newline. */
static void
sl_assign(struct strbuf *sb, const char *name, const char *value)
{
	char *q = ssh_quote(value);

	strbuf_addf(sb, "%s=%s\n", name, q);
	free(q);
}

/* stdin for ssh_exec_run from a buffer. */
struct sl_feed {
	const char	*buf;
	size_t		 len, off;
};

static ssize_t
sl_feed_fn(void *arg, char *buf, size_t len, char **cause)
{
	struct sl_feed *f = arg;

	(void)cause;
	if (len > f->len - f->off)
		len = f->len - f->off;
	memcpy(buf, f->buf + f->off, len);
	f->off += len;
	return (ssize_t)len;
}

/* Runs a command with data as its stdin, its stdout and stderr together
 * into out; *status its exit status. */
int
sl_exec(struct ssh_session *ss, const char *cmd, const char *data,
    size_t len, struct strbuf *out, int *status, char **cause)
{
	struct sl_feed feed = { data, len, 0 };
	struct ssh_exec x;

	memset(&x, 0, sizeof x);
	x.command = cmd;
	x.input = sl_feed_fn;
	x.input_arg = &feed;
	x.out = out;
	return ssh_exec_run(ss, &x, status, cause);
}

/* The last non-empty line of text (at most 300 bytes), for a message. */
static char *
sl_last_line(const char *text)
{
	const char *end = text + strlen(text), *p;

	while (end > text && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	for (p = end; p > text && p[-1] != '\n'; p--)
		;
	if (end - p > 300)
		p = end - 300;
	return xstrndup(p, (size_t)(end - p));
}

/* Runs slurm-setup.sh with args (shell words) on ss, with vars (shell
 * assignments, may hold the munge key: never in a message or a log)
 * before its text. With out, its stdout goes there and nothing is
 * logged; else each line but "#" ones is logged under step ("#nodes"
 * lines too). On a non-zero exit the cause has stderr's last line. */
static int
sl_script(struct ssh_session *ss, struct sink *sink, const char *step,
    const char *host, const char *vars, const char *args,
    struct strbuf *out, char **cause)
{
	struct strbuf sb, o;
	char *text, *cmd, *p, *nl, *last;
	int rc, status = 0;

	if ((text = remote_template("slurm-setup.sh", cause)) == NULL)
		return -1;
	strbuf_init(&sb);
	strbuf_init(&o);
	if (vars != NULL)
		strbuf_adds(&sb, vars);
	strbuf_adds(&sb, text);
	free(text);
	/* stdout to out, stderr after it (2>&1 would mix the key in). */
	cmd = xprintf("t=$(mktemp) || exit 1; sh -s -- %s 2>\"$t\"; s=$?; "
	    "[ $s = 0 ] || { echo '#stderr'; cat \"$t\"; }; rm -f \"$t\"; "
	    "exit $s", args);
	rc = sl_exec(ss, cmd, sb.buf, sb.len, &o, &status, cause);
	free(cmd);
	if (sb.len > 0)
		memset(sb.buf, 0, sb.len);	/* the key */
	strbuf_free(&sb);
	if (rc == 0 && status != 0) {
		p = strstr(o.buf != NULL ? o.buf : "", "#stderr\n");
		last = sl_last_line(p != NULL ? p + 8 : "");
		xasprintf(cause, "slurm-setup.sh %s on %s failed (exit %d)%s%s",
		    args, host, status, *last != '\0' ? ": " : "", last);
		free(last);
		rc = -1;
	}
	if (rc == 0 && out != NULL && o.len > 0)
		strbuf_add(out, o.buf, o.len);
	for (p = o.buf; rc == 0 && out == NULL && p != NULL && *p != '\0';
	    p = nl) {
		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		if (strncmp(p, "#nodes ", 7) == 0)
			event_log(sink, step, "nodes ready in Slurm: %s", p + 7);
		else if (*p != '#' && *p != '\0')
			event_log(sink, step, "%s: %s", host, p);
	}
	if (o.len > 0)
		memset(o.buf, 0, o.len);
	strbuf_free(&o);
	return rc;
}

/* sl_script, again after a dropped connection (a few times). */
static int
sl_script_retry(struct ssh_session *ss, struct sink *sink, const char *step,
    const char *host, const char *vars, const char *args,
    struct strbuf *out, char **cause)
{
	int i;

	for (i = 0;; i++) {
		if (out != NULL)
			strbuf_reset(out);
		if (sl_script(ss, sink, step, host, vars, args, out,
		    cause) == 0)
			return 0;
		if (i == 3 || ssh_last_error(ss) != SSH_ERR_LOST)
			return -1;
		free(*cause);
		*cause = NULL;
		if (ssh_reconnect(ss, cause) != 0)
			return -1;
	}
}

/* The head's entry in the record, connected to (a reference in h). */
static struct ssh_session *
sl_head(struct cloud_run *run, struct sl_host *h, char **cause)
{
	struct ssh_session *ss;
	json_t *e;

	pthread_mutex_lock(&run->lock);
	e = json_incref(engine_host(run->rec, "head"));
	pthread_mutex_unlock(&run->lock);
	if (e == NULL) {
		xasprintf(cause, "run set %s has no head host in its record",
		    run->id);
		return NULL;
	}
	if (sl_host_init(run, e, run->sink, h, cause) != 0) {
		json_decref(e);
		return NULL;
	}
	json_decref(e);
	if ((ss = sl_connect(run, h, NULL, cause)) == NULL)
		sl_host_free(h);
	return ss;
}

static int
sl_head_setup(struct cloud_run *run, char **cause)
{
	struct sl_host h;
	struct ssh_session *ss;
	char *rd;
	int rc;

	if ((ss = sl_head(run, &h, cause)) == NULL)
		return -1;
	rc = sl_script_retry(ss, run->sink, "head setup", h.name, NULL, "head",
	    NULL, cause);
	if (rc == 0 && engine_idle_stop(run->answers) != 0) {
		rd = remote_dir_for(run->project != NULL ? run->project :
		    "fanout");
		rc = remote_idle_stop(ss, rd, engine_idle_stop(run->answers),
		    cause);
		free(rd);
	}
	ssh_close(ss);
	sl_host_free(&h);
	return rc;
}

/* Replaces every @key@ of sb's text with value. */
static void
sl_fill(struct strbuf *sb, const char *key, const char *value)
{
	struct strbuf o;
	char *at = xprintf("@%s@", key), *p, *q;
	size_t n = strlen(at);

	strbuf_init(&o);
	for (p = sb->buf; (q = strstr(p, at)) != NULL; p = q + n) {
		strbuf_add(&o, p, (size_t)(q - p));
		strbuf_adds(&o, value);
	}
	strbuf_adds(&o, p);
	strbuf_reset(sb);
	strbuf_add(sb, o.buf, o.len);
	strbuf_free(&o);
	free(at);
}

/* The shell assignments of slurm.conf and cgroup.conf for the cluster:
 * the head's Slurm name (uname -n, read on ss) and address, and each
 * node's with CPUs = the workers per node. Same on every host. */
static char *
sl_conf(struct cloud_run *run, struct ssh_session *ss, struct sl_host *head,
    char **cause)
{
	struct strbuf sb, lines, list, vars;
	struct sl_host h;
	json_t **nodes;
	char *tmpl = NULL, *cg = NULL, *name = NULL, *t;
	size_t n, i;
	int w, to, rc = -1;

	strbuf_init(&sb);
	strbuf_init(&lines);
	strbuf_init(&list);
	strbuf_init(&vars);
	if ((nodes = sl_nodes(run, &n, cause)) == NULL)
		return NULL;
	if ((w = sl_workers(run, cause)) < 0 ||
	    (to = sl_slurmd_timeout(cause)) < 0 ||
	    (tmpl = remote_template("slurm.conf", cause)) == NULL ||
	    (cg = remote_template("cgroup.conf", cause)) == NULL)
		goto out;
	if ((name = ssh_exec_output(ss, "uname -n", cause)) == NULL)
		goto out;
	name[strcspn(name, "\r\n")] = '\0';
	if (*name == '\0' || strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != strlen(name)) {
		xasprintf(cause, "the head's host name '%.40s' cannot be "
		    "Slurm's", name);
		goto out;
	}
	if (head->slurm_addr == NULL) {
		xasprintf(cause, "the head has no private address in the "
		    "record");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (sl_host_init(run, nodes[i], NULL, &h, cause) != 0)
			goto out;
		strbuf_addf(&lines, "%sNodeName=%s NodeAddr=%s CPUs=%d "
		    "State=UNKNOWN", i > 0 ? "\n" : "", h.name, h.slurm_addr,
		    w);
		strbuf_addf(&list, "%s%s", i > 0 ? "," : "", h.name);
		sl_host_free(&h);
	}
	strbuf_adds(&sb, tmpl);
	/* One name for every run set's cluster: slurmctld refuses to start
	 * on state saved under another name (hosts used again). */
	sl_fill(&sb, "CLUSTER", "fanout");
	sl_fill(&sb, "HEAD_NAME", name);
	sl_fill(&sb, "HEAD_ADDR", head->slurm_addr);
	sl_fill(&sb, "NODE_LINES", lines.buf != NULL ? lines.buf : "");
	sl_fill(&sb, "NODE_LIST", list.buf != NULL ? list.buf : "");
	t = xprintf("%d", to);
	sl_fill(&sb, "SLURMD_TIMEOUT", t);
	free(t);
	/* A requeued job waits the credential lifetime (default 120 s)
	 * before it starts again: as long as a lost node takes to be
	 * noticed, 10 s to 60 s. */
	if (strstr(sb.buf, "cred_expire") == NULL)
		strbuf_addf(&sb, "%sAuthInfo=cred_expire=%d\n",
		    sb.len > 0 && sb.buf[sb.len - 1] != '\n' ? "\n" : "",
		    to < 10 ? 10 : (to > 60 ? 60 : to));
	sl_assign(&vars, "FANOUT_SLURM_CONF", sb.buf);
	sl_assign(&vars, "FANOUT_CGROUP_CONF", cg);
	rc = 0;
out:
	for (i = 0; i < n; i++)
		json_decref(nodes[i]);
	free(nodes);
	free(tmpl);
	free(cg);
	free(name);
	strbuf_free(&sb);
	strbuf_free(&lines);
	strbuf_free(&list);
	if (rc != 0) {
		strbuf_free(&vars);
		return NULL;
	}
	return strbuf_detach(&vars);
}

static int
sl_controller(struct cloud_run *run, char **cause)
{
	struct sl_host h;
	struct ssh_session *ss;
	char *vars;
	int rc = -1;

	if ((ss = sl_head(run, &h, cause)) == NULL)
		return -1;
	if ((vars = sl_conf(run, ss, &h, cause)) != NULL)
		rc = sl_script_retry(ss, run->sink, "controller", h.name, vars,
		    "conf head", NULL, cause);
	free(vars);
	ssh_close(ss);
	sl_host_free(&h);
	return rc;
}

/* One node's set-up, on a thread of its own. */
struct sl_node_job {
	struct cloud_run	*run;
	json_t			*entry;
	const struct ssh_opts	*jump;		/* the head's */
	const char		*key_vars;	/* FANOUT_MUNGE_KEY=... */
	const char		*conf_vars;
	const char		*project_dir;
	const struct project	*pr;		/* its setup: and entrypoint */
	const char		*remote_dir;
	pthread_t		 thread;
	int			 rc;
	char			*cause;
	char			*name;
	struct upload_stats	 st;
};

static int
sl_node_once(struct sl_node_job *j, struct sl_host *h,
    struct ssh_session *ss)
{
	struct sink *sink = j->run->sink;
	struct upload_opts uo;
	char *worker = NULL, *cmd, *args, *rd, *cache, *suffix;
	const char *base;
	int rc, reconnects = 0, i;

	args = xprintf("node %s", h->name);
	rc = sl_script_retry(ss, sink, "nodes setup", h->name, j->key_vars,
	    args, NULL, &j->cause);
	free(args);
	if (rc != 0)
		return -1;
	if (remote_host_setup(ss, j->remote_dir, h->name, sink, &worker,
	    &j->cause) != 0)
		return -1;
	/* The job's elements run the worker by one name on every node. */
	base = strrchr(worker, '/') != NULL ? strrchr(worker, '/') + 1 :
	    worker;
	rd = ssh_quote(j->remote_dir);
	cmd = xprintf("cd %s && ln -sfn %s bin/fanout-worker-slurm", rd,
	    base);
	rc = ssh_exec_input(ss, cmd, "", 0, &j->cause);
	free(cmd);
	free(rd);
	free(worker);
	if (rc != 0)
		return -1;
	memset(&uo, 0, sizeof uo);
	uo.local_dir = j->project_dir;
	uo.remote_dir = j->remote_dir;
	uo.sink = sink;
	suffix = xprintf(".upload-cache.%s", h->name);
	uo.cache = cache = history_file(j->run->id, suffix);
	free(suffix);
	rc = upload_tree_retry(ss, &uo, &j->st, &reconnects, &j->cause);
	free(cache);
	if (rc != 0)
		return -1;
	event_log(sink, "nodes setup", "%s: %lld of %lld files sent (%lld "
	    "bytes)", h->name, j->st.files_sent, j->st.files,
	    j->st.bytes_sent);
	/* The project's setup: (once per node and digest) and its program,
	 * after that node's upload. */
	for (i = 0; remote_project_setup(ss, j->remote_dir, h->name, j->pr,
	    sink, "nodes setup", &j->cause) != 0; i++) {
		if (i == 3 || ssh_last_error(ss) != SSH_ERR_LOST)
			return -1;
		free(j->cause);
		j->cause = NULL;
		if (ssh_reconnect(ss, &j->cause) != 0)
			return -1;
	}
	args = xprintf("conf node %s", h->name);
	rc = sl_script_retry(ss, sink, "nodes setup", h->name, j->conf_vars,
	    args, NULL, &j->cause);
	free(args);
	if (rc == 0)
		rc = remote_idle_stop(ss, j->remote_dir,
		    engine_idle_stop(j->run->answers), &j->cause);
	return rc;
}

static void *
sl_node_main(void *arg)
{
	struct sl_node_job *j = arg;
	struct sl_host h;
	struct ssh_session *ss;

	j->rc = -1;
	if (sl_host_init(j->run, j->entry, j->run->sink, &h, &j->cause) != 0)
		return NULL;
	j->name = xstrdup(h.name);
	if ((ss = sl_connect(j->run, &h, j->jump, &j->cause)) != NULL) {
		j->rc = sl_node_once(j, &h, ss);
		ssh_close(ss);
	}
	sl_host_free(&h);
	return NULL;
}

/* The munge key of the head (base64, one line) as a shell assignment;
 * checked, so that nothing else can pass for it. */
static char *
sl_key_vars(struct ssh_session *ss, struct sink *sink, const char *host,
    char **cause)
{
	struct strbuf out, vars;
	size_t len;

	strbuf_init(&out);
	if (sl_script_retry(ss, sink, "nodes setup", host, NULL, "key", &out,
	    cause) != 0) {
		strbuf_free(&out);
		return NULL;
	}
	len = out.len;
	while (len > 0 && (out.buf[len - 1] == '\n' || out.buf[len - 1] ==
	    '\r'))
		len--;
	if (len < 44 || strspn(out.buf, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/=") != len) {
		memset(out.buf, 0, out.len);
		strbuf_free(&out);
		xasprintf(cause, "the munge key the head %s gave is not one "
		    "line of base64", host);
		return NULL;
	}
	out.buf[len] = '\0';
	strbuf_init(&vars);
	sl_assign(&vars, "FANOUT_MUNGE_KEY", out.buf);
	memset(out.buf, 0, out.len);
	strbuf_free(&out);
	return strbuf_detach(&vars);
}

static int
sl_nodes_setup(struct cloud_run *run, char **cause)
{
	struct sl_host head;
	struct ssh_session *ss;
	struct sl_node_job *jobs = NULL;
	struct project pr;
	json_t **nodes = NULL;
	char *key = NULL, *conf = NULL, *rd = NULL;
	long long files = 0, bytes = 0;
	size_t n = 0, i, failed = 0;
	int rc = -1;

	memset(&pr, 0, sizeof pr);
	if ((ss = sl_head(run, &head, cause)) == NULL)
		return -1;
	if (project_load(history_str(run->rec, "project_dir", ""), &pr,
	    cause) != 0 ||
	    (nodes = sl_nodes(run, &n, cause)) == NULL ||
	    (key = sl_key_vars(ss, run->sink, head.name, cause)) == NULL ||
	    (conf = sl_conf(run, ss, &head, cause)) == NULL)
		goto out;
	rd = remote_dir_for(pr.name);
	jobs = xcalloc(n, sizeof *jobs);
	for (i = 0; i < n; i++) {
		jobs[i].run = run;
		jobs[i].entry = nodes[i];
		jobs[i].jump = &head.so;
		jobs[i].key_vars = key;
		jobs[i].conf_vars = conf;
		jobs[i].project_dir = pr.dir;
		jobs[i].pr = &pr;
		jobs[i].remote_dir = rd;
		if (pthread_create(&jobs[i].thread, NULL, sl_node_main,
		    &jobs[i]) != 0) {
			jobs[i].thread = 0;
			sl_node_main(&jobs[i]);
		}
	}
	for (i = 0; i < n; i++) {
		if (jobs[i].thread != 0)
			pthread_join(jobs[i].thread, NULL);
		if (jobs[i].rc != 0) {
			if (failed++ == 0) {
				*cause = jobs[i].cause;
				jobs[i].cause = NULL;
			} else
				event_log(run->sink, "nodes setup", "%s",
				    jobs[i].cause != NULL ? jobs[i].cause :
				    "failed");
		}
		files += jobs[i].st.files_sent;
		bytes += jobs[i].st.bytes_sent;
	}
	if (failed > 1) {
		char *c = *cause;

		xasprintf(cause, "%s (and %zu more nodes failed)", c,
		    failed - 1);
		free(c);
	}
	rc = failed > 0 ? -1 : 0;
	pthread_mutex_lock(&sl_sent_lock);
	snprintf(sl_sent_id, sizeof sl_sent_id, "%s", run->id);
	sl_sent_files = files;
	sl_sent_bytes = bytes;
	pthread_mutex_unlock(&sl_sent_lock);
out:
	for (i = 0; jobs != NULL && i < n; i++) {
		free(jobs[i].cause);
		free(jobs[i].name);
		upload_stats_free(&jobs[i].st);
	}
	free(jobs);
	for (i = 0; i < n; i++)
		json_decref(nodes[i]);
	free(nodes);
	if (key != NULL)
		memset(key, 0, strlen(key));
	free(key);
	free(conf);
	free(rd);
	project_free(&pr);
	ssh_close(ss);
	sl_host_free(&head);
	return rc;
}

static int
sl_cluster_ready(struct cloud_run *run, char **cause)
{
	struct sl_host h;
	struct ssh_session *ss;
	json_t **nodes;
	char *args;
	size_t n, i;
	int rc = -1;

	if ((nodes = sl_nodes(run, &n, cause)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		json_decref(nodes[i]);
	free(nodes);
	if ((ss = sl_head(run, &h, cause)) == NULL)
		return -1;
	args = xprintf("wait %zu %d", n, SL_READY_WAIT);
	rc = sl_script_retry(ss, run->sink, "cluster ready", h.name, NULL,
	    args, NULL, cause);
	free(args);
	ssh_close(ss);
	sl_host_free(&h);
	return rc;
}

static const char *const sl_after_head[] = { "bastion running", NULL };
static const char *const sl_after_nodes[] = { "nodes running", "head setup",
	NULL };
static const char *const sl_after_ctl[] = { "head setup", "nodes running",
	NULL };
static const char *const sl_after_ready[] = { "controller", "nodes setup",
	NULL };

static const struct cloud_step sl_setup[] = {
	{ "head setup", sl_after_head, sl_head_setup },
	{ "controller", sl_after_ctl, sl_controller },
	{ "nodes setup", sl_after_nodes, sl_nodes_setup },
	{ "cluster ready", sl_after_ready, sl_cluster_ready },
	{ NULL, NULL, NULL }
};

const struct engine engine_slurm = {
	.name = "slurm",
	.label = "cluster (slurm)",
	.summary = "a head VM and N compute VMs running a Slurm job array",
	.cloud = true,
	.nodes = true,
	.blocks = 1u << CLOUD_BLOCK_BASE | 1u << CLOUD_BLOCK_HEAD |
	    1u << CLOUD_BLOCK_FLEET,
	.os = "debian-12",
	.setup = sl_setup,
	.run = slurm_run,
};
