/* The local engine. Each attempt is started with posix_spawn in a process
 * group of its own, its stdout and stderr going to files in the log folder.
 * One loop polls a pidfd per running task (no SIGCHLD, so it is safe in a
 * thread beside a TUI), ends tasks past their timeout by killing their
 * group, and dispatches the next input to the free worker slot. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "event.h"
#include "run/pool.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

extern char **environ;

#define POOL_KILL_GRACE	2.0	/* seconds between SIGTERM and SIGKILL */
#define POOL_TAIL_MAX	(1024 * 1024)

static volatile sig_atomic_t pool_signalled;

struct slot {
	pid_t	 pid;		/* 0 when the slot is free */
	int	 pidfd;		/* -1 when pidfd_open is not available */
	int	 task;
	int	 attempt;
	double	 start;		/* wall clock */
	double	 started;	/* monotonic */
	double	 term_at;	/* monotonic time SIGTERM was sent, or 0 */
	int	 timed_out;
	int	 cancelled;
};

struct pool {
	const struct pool_opts	 *o;
	struct record_list	 *out;
	struct slot		 *slots;
	int			 *attempts;	/* per task: attempts made */
	int			 *queue;	/* tasks waiting, FIFO */
	size_t			  qhead, qtail, qcap;
	size_t			  done, failed;
	char			  host[256];
	char			 *entry;	/* absolute entrypoint */
	char			**envbase;	/* environ + project env */
	size_t			  nenvbase;
	int			  stopping;
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

static int
pool_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

static void
pool_push(struct pool *p, int task)
{
	if (p->qtail == p->qcap) {
		/* Compact, then grow when still full. */
		if (p->qhead > 0) {
			memmove(p->queue, p->queue + p->qhead,
			    (p->qtail - p->qhead) * sizeof *p->queue);
			p->qtail -= p->qhead;
			p->qhead = 0;
		}
		if (p->qtail == p->qcap) {
			p->qcap = p->qcap * 2 + 16;
			p->queue = xreallocarray(p->queue, p->qcap,
			    sizeof *p->queue);
		}
	}
	p->queue[p->qtail++] = task;
}

/* A retry goes to the front, so a task's attempts end close together. */
static void
pool_push_front(struct pool *p, int task)
{
	if (p->qhead > 0) {
		p->queue[--p->qhead] = task;
		return;
	}
	pool_push(p, task);
	memmove(p->queue + p->qhead + 1, p->queue + p->qhead,
	    (p->qtail - p->qhead - 1) * sizeof *p->queue);
	p->queue[p->qhead] = task;
}

static void
pool_build_env(struct pool *p)
{
	const struct project *pr = p->o->project;
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
	p->envbase = v;
	p->nenvbase = n;
}

static char *
pool_log_path(struct pool *p, int task, int attempt, const char *ext)
{
	return xprintf("%s/%d-%d.%s", p->o->logdir, task, attempt, ext);
}

static int
pool_spawn(struct pool *p, struct slot *s, int task, char **cause)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, def;
	char *argv[3], **envp, *out, *err;
	const char *input = p->o->inputs[task];
	pid_t pid;
	size_t i, n = p->nenvbase;
	int rc, attempt = p->attempts[task] + 1;

	envp = xcalloc(n + 5, sizeof *envp);
	for (i = 0; i < n; i++)
		envp[i] = p->envbase[i];
	envp[n] = xprintf("FANOUT_INPUT=%s", input);
	envp[n + 1] = xprintf("FANOUT_TASK=%d", task);
	envp[n + 2] = xprintf("FANOUT_WORKER=%d", (int)(s - p->slots) + 1);
	envp[n + 3] = xprintf("FANOUT_ATTEMPT=%d", attempt);

	out = pool_log_path(p, task, attempt, "out");
	err = pool_log_path(p, task, attempt, "err");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out,
	    O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_addopen(&fa, 2, err,
	    O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_addchdir_np(&fa, p->o->project->dir);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGCHLD);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

	argv[0] = p->entry;
	argv[1] = (char *)input;
	argv[2] = NULL;
	memset(s, 0, sizeof *s);
	s->start = time_now();
	s->started = time_mono();
	rc = posix_spawn(&pid, p->entry, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	for (i = n; i < n + 4; i++)
		free(envp[i]);
	free(envp);
	free(out);
	free(err);
	if (rc != 0) {
		xasprintf(cause, "cannot start %s: %s", p->entry,
		    strerror(rc));
		return -1;
	}
	s->pid = pid;
	s->pidfd = pool_pidfd_open(pid);
	s->task = task;
	s->attempt = attempt;
	p->attempts[task] = attempt;
	return 0;
}

/* The last non-empty line of the task's stdout, as a compact JSON object;
 * NULL when there is none. */
static char *
pool_result(struct pool *p, int task, int attempt)
{
	char *path = pool_log_path(p, task, attempt, "out"), *buf, *line, *end;
	struct stat st;
	json_t *o;
	char *res = NULL, *s;
	off_t off = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (st.st_size > POOL_TAIL_MAX)
		off = st.st_size - POOL_TAIL_MAX;
	buf = xmalloc((size_t)(st.st_size - off) + 1);
	n = pread(fd, buf, (size_t)(st.st_size - off), off);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	end = buf + n;
	while (end > buf && (end[-1] == '\n' || end[-1] == '\r' ||
	    end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	line = strrchr(buf, '\n');
	line = line != NULL ? line + 1 : buf;
	o = json_loads(line, 0, NULL);
	if (o != NULL && json_is_object(o)) {
		s = json_dumps(o, RECORD_RESULT_FLAGS);
		res = xstrdup(s);
		free(s);
	}
	json_decref(o);
	free(buf);
	return res;
}

/* The last non-empty line of an attempt's stderr (read from the end of
 * its log), cleaned as record_stderr_tail does; NULL when there is none. */
static char *
pool_stderr_tail(struct pool *p, int task, int attempt)
{
	char *path = pool_log_path(p, task, attempt, "err");
	char buf[RECORD_TAIL_READ];
	struct stat st;
	ssize_t n = -1;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		n = pread(fd, buf, sizeof buf, st.st_size > (off_t)sizeof buf ?
		    st.st_size - (off_t)sizeof buf : 0);
	close(fd);
	return n > 0 ? record_stderr_tail(buf, (size_t)n) : NULL;
}

static void
pool_finish(struct pool *p, struct slot *s, int wstatus)
{
	const struct pool_opts *o = p->o;
	struct record r;
	struct event ev = { .type = EV_TASK_DONE };
	char *line;
	int final;

	memset(&r, 0, sizeof r);
	r.task = s->task;
	r.input = o->inputs[s->task];
	r.worker = (int)(s - p->slots) + 1;
	r.host = p->host;
	r.pid = (long)s->pid;
	r.start = s->start;
	r.end = time_now();
	r.attempt = s->attempt;
	if (WIFEXITED(wstatus))
		r.exit = WEXITSTATUS(wstatus);
	else if (WIFSIGNALED(wstatus))
		r.exit = 128 + WTERMSIG(wstatus);
	if (s->cancelled) {
		r.status = REC_CANCELLED;
		r.error = xstrdup("cancelled by the user");
	} else if (s->timed_out) {
		r.status = REC_TIMEOUT;
		r.error = xprintf("timed out after %gs", o->project->timeout);
	} else if (WIFSIGNALED(wstatus)) {
		r.status = REC_FAILED;
		r.error = xprintf("killed by signal %d (%s)",
		    WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
	} else if (r.exit != 0) {
		r.status = REC_FAILED;
		r.error = xprintf("exit status %d", r.exit);
	} else if ((r.result = pool_result(p, s->task, s->attempt)) == NULL) {
		r.status = REC_BADJSON;
		r.error = xstrdup("the last line of output is not a JSON "
		    "object");
	} else
		r.status = REC_OK;
	if (r.status != REC_OK && r.status != REC_CANCELLED)
		r.stderr_tail = pool_stderr_tail(p, s->task, s->attempt);

	final = r.status == REC_OK || r.status == REC_CANCELLED ||
	    s->attempt > o->project->retries;
	if (final) {
		if (r.status != REC_CANCELLED)
			p->done++;
		if (r.status != REC_OK && r.status != REC_CANCELLED)
			p->failed++;
	} else if (!p->stopping)
		pool_push_front(p, s->task);

	if (o->records != NULL) {
		line = record_to_json(&r);
		fprintf(o->records, "%s\n", line);
		fflush(o->records);
		free(line);
	}
	record_list_add(p->out, &r);
	ev.record = &p->out->v[p->out->n - 1];
	ev.done = (long long)p->done;
	ev.failed = (long long)p->failed;
	ev.total = (long long)o->ninputs;
	event_emit(o->sink, &ev);
	free(r.result);
	free(r.error);
	free(r.stderr_tail);

	if (s->pidfd >= 0)
		close(s->pidfd);
	s->pid = 0;
	s->pidfd = -1;
}

/* Reaps every slot whose process has ended. */
static void
pool_reap(struct pool *p)
{
	int i, wstatus;
	pid_t rc;

	for (i = 0; i < p->o->workers; i++) {
		struct slot *s = &p->slots[i];

		if (s->pid == 0)
			continue;
		rc = waitpid(s->pid, &wstatus, WNOHANG);
		if (rc == s->pid) {
			/* End whatever the task left running in its group. */
			kill(-s->pid, SIGKILL);
			pool_finish(p, s, wstatus);
		}
	}
}

static void
pool_kill(struct slot *s, double now)
{
	if (s->term_at == 0) {
		kill(-s->pid, SIGTERM);
		s->term_at = now;
	} else if (now - s->term_at >= POOL_KILL_GRACE)
		kill(-s->pid, SIGKILL);
}

/* Sends signals to tasks past their timeout, or to all when stopping;
 * returns the poll timeout in ms until the next deadline. */
static int
pool_deadlines(struct pool *p)
{
	double now = time_mono(), next = 1e9, t, timeout;
	int i;

	timeout = p->o->project->timeout;
	for (i = 0; i < p->o->workers; i++) {
		struct slot *s = &p->slots[i];

		if (s->pid == 0)
			continue;
		if (p->stopping && !s->timed_out)
			s->cancelled = 1;
		if (!s->cancelled && timeout > 0 &&
		    now - s->started >= timeout)
			s->timed_out = 1;
		if (s->cancelled || s->timed_out) {
			pool_kill(s, now);
			t = s->term_at + POOL_KILL_GRACE;
		} else if (timeout > 0)
			t = s->started + timeout;
		else
			continue;
		if (t < next)
			next = t;
	}
	if (next >= 1e9)
		return -1;
	t = (next - now) * 1000.0 + 1;
	return t < 1 ? 1 : (t > INT_MAX ? INT_MAX : (int)t);
}

int
pool_run(const struct pool_opts *o, struct record_list *out, int *cancelled,
    char **cause)
{
	struct pool p;
	struct pollfd *pfds;
	int i, running, rc = 0, wait_ms, nfds, need_tick;
	size_t k;

	*cancelled = 0;
	if (o->workers < 1 || o->ninputs == 0) {
		xasprintf(cause, "nothing to run (%zu inputs, %d workers)",
		    o->ninputs, o->workers);
		return -1;
	}
	memset(&p, 0, sizeof p);
	p.o = o;
	p.out = out;
	p.slots = xcalloc((size_t)o->workers, sizeof *p.slots);
	p.attempts = xcalloc(o->ninputs, sizeof *p.attempts);
	pfds = xcalloc((size_t)o->workers, sizeof *pfds);
	if (gethostname(p.host, sizeof p.host - 1) != 0)
		strcpy(p.host, "localhost");
	p.entry = fs_join(o->project->dir, o->project->entrypoint);
	pool_build_env(&p);
	for (k = 0; k < o->ninputs; k++)
		pool_push(&p, (int)k);
	need_tick = o->sink != NULL && o->sink->cancelled != NULL;

	for (;;) {
		if (!p.stopping && (pool_signalled || event_cancelled(o->sink)))
			p.stopping = 1;
		/* Fill the free slots. */
		for (i = 0; !p.stopping && i < o->workers; i++) {
			if (p.slots[i].pid != 0 || p.qhead == p.qtail)
				continue;
			if (pool_spawn(&p, &p.slots[i], p.queue[p.qhead],
			    cause) != 0) {
				rc = -1;
				p.stopping = 1;
				break;
			}
			p.qhead++;
		}
		running = 0;
		nfds = 0;
		for (i = 0; i < o->workers; i++) {
			if (p.slots[i].pid == 0)
				continue;
			running++;
			if (p.slots[i].pidfd >= 0) {
				pfds[nfds].fd = p.slots[i].pidfd;
				pfds[nfds].events = POLLIN;
				nfds++;
			}
		}
		if (running == 0)
			break;
		wait_ms = pool_deadlines(&p);
		if (nfds < running && (wait_ms < 0 || wait_ms > 2))
			wait_ms = 2;	/* no pidfd: poll waitpid */
		if (need_tick && (wait_ms < 0 || wait_ms > 100))
			wait_ms = 100;
		if (poll(pfds, (nfds_t)nfds, wait_ms) < 0 && errno != EINTR) {
			xasprintf(cause, "poll: %s", strerror(errno));
			rc = -1;
			p.stopping = 1;
		}
		pool_reap(&p);
	}
	if (p.stopping && rc == 0)
		*cancelled = 1;

	for (k = 0; k < p.nenvbase; k++)
		free(p.envbase[k]);
	free(p.envbase);
	free(p.entry);
	free(p.queue);
	free(p.attempts);
	free(p.slots);
	free(pfds);
	return rc;
}
