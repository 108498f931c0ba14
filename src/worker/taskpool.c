/* The task pool (see taskpool.h). libc only: no header of fanout's, no
 * config.h, so that a host can build it with a bare `cc`. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "taskpool.h"

extern char **environ;

#define TP_KILL_GRACE	2.0		/* seconds from SIGTERM to SIGKILL */
#define TP_TAIL_FIRST	65536		/* bytes read first for a last line */
#define TP_TAIL_MAX	(1024 * 1024)	/* and at most */
#define TP_STDERR_MAX	500		/* bytes kept of a stderr line */

/* posix_spawn_file_actions_addchdir_np came with glibc 2.29. */
#if defined(__GLIBC__) && (__GLIBC__ < 2 || (__GLIBC__ == 2 && \
    __GLIBC_MINOR__ < 29))
#define TP_NO_ADDCHDIR 1
#endif

struct tp_slot {
	pid_t		 pid;		/* 0 when the slot is free */
	int		 pidfd;		/* -1 without pidfd_open */
	size_t		 task;
	int		 attempt;
	double		 start;		/* wall clock */
	double		 started;	/* monotonic */
	double		 term_at;	/* monotonic time of SIGTERM, or 0 */
	int		 timed_out;
	int		 cancelled;
	int		 out_fd, err_fd; /* the slot's logs, O_APPEND */
	int		 out_rd, err_rd; /* the same, to read results back */
	long long	 out_off, err_off; /* where this attempt's bytes
					    * begin */
	posix_spawn_file_actions_t fa;	/* made once, used for every task */
	char		 log[24];	/* "wN" */
	char		**envp;		/* base + the four FANOUT_ vars */
	char		*env_input;	/* "FANOUT_INPUT=..." */
	size_t		 env_input_cap;
	char		 env_task[48], env_worker[32], env_attempt[32];
};

/* A failed task waiting for its next attempt. */
struct tp_retry {
	size_t	task;
	int	attempts;	/* made so far */
};

struct tp {
	const struct tp_opts	*o;
	char			**argv;		/* the words, the input last */
	size_t			 nargv;		/* slot of the input */
	struct tp_slot		*slots;
	struct tp_retry		*retry;		/* FIFO, at most workers */
	size_t			 nretry;
	size_t			 next;		/* next fresh task */
	size_t			 nenv;		/* entries of the base env */
	char			 host[256];
	posix_spawnattr_t	 attr;
	int			 devnull;
	int			 stopping;
	char			*err;
	size_t			 errlen;
};

static void
tp_error(struct tp *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err == NULL || p->errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
}

static void *
tp_alloc(size_t n)
{
	void *v = calloc(1, n == 0 ? 1 : n);

	if (v == NULL) {
		static const char msg[] = "taskpool: out of memory\n";

		(void)!write(2, msg, sizeof msg - 1);
		abort();
	}
	return v;
}

static double
tp_now(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
tp_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

const char *
taskpool_status_name(enum tp_status s)
{
	static const char *names[] = { "ok", "failed", "timeout", "badjson",
	    "cancelled" };

	return (unsigned)s < 5 ? names[s] : "unknown";
}

/* --- records ------------------------------------------------------------- */

struct tp_buf {
	char	*p;
	size_t	 len, cap;
};

static void
tp_buf_add(struct tp_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *q = realloc(b->p, cap);

		if (q == NULL)
			abort();
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
tp_buf_addf(struct tp_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		tp_buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n :
		    sizeof tmp - 1);
}

static void
tp_buf_str(struct tp_buf *b, const char *key, const char *s)
{
	char *q;

	tp_buf_addf(b, ",\"%s\":", key);
	if (s == NULL) {
		tp_buf_add(b, "null", 4);
		return;
	}
	q = taskpool_json_quote(s, strlen(s));
	tp_buf_add(b, q, strlen(q));
	free(q);
}

char *
taskpool_record_line(const struct tp_attempt *a)
{
	struct tp_buf b = { NULL, 0, 0 };
	char *q;

	tp_buf_addf(&b, "{\"task\":%zu,\"input\":", a->task);
	q = taskpool_json_quote(a->input, strlen(a->input));
	tp_buf_add(&b, q, strlen(q));
	free(q);
	tp_buf_addf(&b, ",\"worker\":%d", a->worker);
	tp_buf_str(&b, "host", a->host);
	tp_buf_addf(&b, ",\"pid\":%ld,\"start\":%.6f,\"end\":%.6f,\"exit\":%d,"
	    "\"attempt\":%d,\"status\":\"%s\"", a->pid, a->start, a->end,
	    a->exit, a->attempt, taskpool_status_name(a->status));
	tp_buf_str(&b, "line", a->line);
	tp_buf_str(&b, "error", a->error);
	tp_buf_str(&b, "log", a->log);
	tp_buf_addf(&b, ",\"out_off\":%lld,\"out_len\":%lld,\"err_off\":%lld,"
	    "\"err_len\":%lld", a->out_off, a->out_len, a->err_off,
	    a->err_len);
	if (a->stderr_tail != NULL)
		tp_buf_str(&b, "stderr_tail", a->stderr_tail);
	tp_buf_add(&b, "}", 1);
	return b.p;
}

/* --- the pool ------------------------------------------------------------ */

/* The last non-empty line of fd's bytes [off, off + len), NUL-terminated
 * (caller frees), or NULL when there is none. At most max bytes of a
 * longer line are read: its end. */
static char *
tp_last_line(int fd, long long off, long long len, long long max)
{
	long long want = len < TP_TAIL_FIRST ? len : TP_TAIL_FIRST;
	char *buf, *end, *nl;
	ssize_t n;

	for (;;) {
		if (want > max)
			want = max;
		if (want <= 0)
			return NULL;
		buf = tp_alloc((size_t)want + 1);
		n = pread(fd, buf, (size_t)want, (off_t)(off + len - want));
		if (n <= 0) {
			free(buf);
			return NULL;
		}
		buf[n] = '\0';
		end = buf + n;
		while (end > buf && (end[-1] == '\n' || end[-1] == '\r' ||
		    end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		nl = memrchr(buf, '\n', (size_t)(end - buf));
		if (nl != NULL || want >= len || want >= max) {
			if (end == buf) {
				free(buf);
				return NULL;
			}
			if (nl != NULL)
				memmove(buf, nl + 1, (size_t)(end - nl));
			return buf;
		}
		free(buf);
		want *= 8;
	}
}

static long long
tp_size(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? (long long)st.st_size : 0;
}

static int
tp_slot_open(struct tp *p, struct tp_slot *s, int n)
{
	const struct tp_opts *o = p->o;
	char path[PATH_MAX];
	size_t i;

	s->pid = 0;
	s->pidfd = -1;
	snprintf(s->log, sizeof s->log, "w%d", n);
	snprintf(path, sizeof path, "%s/%s.out", o->logdir, s->log);
	s->out_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0644);
	s->out_rd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof path, "%s/%s.err", o->logdir, s->log);
	s->err_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0644);
	s->err_rd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->out_fd < 0 || s->out_rd < 0 || s->err_fd < 0 ||
	    s->err_rd < 0) {
		tp_error(p, "cannot open the task logs in %s: %s", o->logdir,
		    strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_init(&s->fa);
	posix_spawn_file_actions_adddup2(&s->fa, p->devnull, 0);
	posix_spawn_file_actions_adddup2(&s->fa, s->out_fd, 1);
	posix_spawn_file_actions_adddup2(&s->fa, s->err_fd, 2);
	if (o->dir != NULL) {
#ifdef TP_NO_ADDCHDIR
		tp_error(p, "this C library cannot start a task in %s", o->dir);
		return -1;
#else
		posix_spawn_file_actions_addchdir_np(&s->fa, o->dir);
#endif
	}
	s->envp = tp_alloc((p->nenv + 5) * sizeof *s->envp);
	for (i = 0; i < p->nenv; i++)
		s->envp[i] = o->env != NULL ? o->env[i] : environ[i];
	s->envp[p->nenv + 1] = s->env_task;
	s->envp[p->nenv + 2] = s->env_worker;
	s->envp[p->nenv + 3] = s->env_attempt;
	snprintf(s->env_worker, sizeof s->env_worker, "FANOUT_WORKER=%d", n);
	return 0;
}

static void
tp_slot_close(struct tp_slot *s)
{
	if (s->envp == NULL)
		return;
	posix_spawn_file_actions_destroy(&s->fa);
	free(s->envp);
	free(s->env_input);
	s->envp = NULL;
}

static int
tp_spawn(struct tp *p, struct tp_slot *s, size_t task, int attempt)
{
	const struct tp_opts *o = p->o;
	const char *input = o->inputs[task];
	size_t need = strlen(input) + sizeof "FANOUT_INPUT=";
	pid_t pid;
	int rc;

	if (need > s->env_input_cap) {
		free(s->env_input);
		s->env_input_cap = need * 2;
		s->env_input = tp_alloc(s->env_input_cap);
	}
	snprintf(s->env_input, s->env_input_cap, "FANOUT_INPUT=%s", input);
	s->envp[p->nenv] = s->env_input;
	snprintf(s->env_task, sizeof s->env_task, "FANOUT_TASK=%zu", task);
	snprintf(s->env_attempt, sizeof s->env_attempt, "FANOUT_ATTEMPT=%d",
	    attempt);
	p->argv[p->nargv] = (char *)input;
	s->out_off = tp_size(s->out_fd);
	s->err_off = tp_size(s->err_fd);
	s->start = tp_now(CLOCK_REALTIME);
	s->started = tp_now(CLOCK_MONOTONIC);
	s->term_at = 0;
	s->timed_out = s->cancelled = 0;
	rc = posix_spawn(&pid, o->entry, &s->fa, &p->attr, p->argv, s->envp);
	if (rc != 0) {
		tp_error(p, "cannot start %s: %s", o->entry, strerror(rc));
		return -1;
	}
	s->pid = pid;
	s->pidfd = tp_pidfd_open(pid);
	s->task = task;
	s->attempt = attempt;
	return 0;
}

static void
tp_finish(struct tp *p, struct tp_slot *s, int wstatus)
{
	const struct tp_opts *o = p->o;
	struct tp_attempt a;
	char error[128], *line = NULL, *tail = NULL, *rec;
	size_t n;

	memset(&a, 0, sizeof a);
	a.task = s->task;
	a.input = o->inputs[s->task];
	a.worker = (int)(s - p->slots) + 1;
	a.host = p->host;
	a.pid = (long)s->pid;
	a.start = s->start;
	a.end = tp_now(CLOCK_REALTIME);
	a.attempt = s->attempt;
	a.log = s->log;
	a.out_off = s->out_off;
	a.out_len = tp_size(s->out_fd) - s->out_off;
	a.err_off = s->err_off;
	a.err_len = tp_size(s->err_fd) - s->err_off;
	if (WIFEXITED(wstatus))
		a.exit = WEXITSTATUS(wstatus);
	else if (WIFSIGNALED(wstatus))
		a.exit = 128 + WTERMSIG(wstatus);
	a.error = error;
	if (s->cancelled) {
		a.status = TP_CANCELLED;
		snprintf(error, sizeof error, "cancelled by the user");
	} else if (s->timed_out) {
		a.status = TP_TIMEOUT;
		snprintf(error, sizeof error, "timed out after %gs", o->timeout);
	} else if (WIFSIGNALED(wstatus)) {
		a.status = TP_FAILED;
		snprintf(error, sizeof error, "killed by signal %d (%s)",
		    WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
	} else if (a.exit != 0) {
		a.status = TP_FAILED;
		snprintf(error, sizeof error, "exit status %d", a.exit);
	} else if ((line = tp_last_line(s->out_rd, a.out_off, a.out_len,
	    TP_TAIL_MAX)) != NULL && taskpool_json_object(line,
	    strlen(line))) {
		a.status = TP_OK;
		a.line = line;
		a.error = NULL;
	} else {
		a.status = TP_BADJSON;
		snprintf(error, sizeof error, "the last line of output is not "
		    "a JSON object");
	}
	if (a.status != TP_OK && a.err_len > 0 &&
	    (tail = tp_last_line(s->err_rd, a.err_off, a.err_len, 4096)) !=
	    NULL) {
		if ((n = strlen(tail)) > TP_STDERR_MAX)
			tail[TP_STDERR_MAX] = '\0';
		a.stderr_tail = tail;
	}
	a.final = a.status == TP_OK || a.status == TP_CANCELLED ||
	    s->attempt > o->retries;
	if (!a.final && !p->stopping) {
		p->retry[p->nretry].task = s->task;
		p->retry[p->nretry].attempts = s->attempt;
		p->nretry++;
	}
	if (o->records_fd >= 0) {
		rec = taskpool_record_line(&a);
		n = strlen(rec);
		rec[n] = '\n';	/* the NUL was allocated: one write */
		(void)!write(o->records_fd, rec, n + 1);
		free(rec);
	}
	if (o->done != NULL)
		o->done(o->arg, &a);
	free(line);
	free(tail);
	if (s->pidfd >= 0)
		close(s->pidfd);
	s->pid = 0;
	s->pidfd = -1;
}

/* Reaps every slot whose process has ended. */
static void
tp_reap(struct tp *p)
{
	int i, wstatus;
	pid_t pid;

	while (p->o->reap_all && (pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
		for (i = 0; i < p->o->workers; i++) {
			if (p->slots[i].pid == pid) {
				kill(-pid, SIGKILL);
				tp_finish(p, &p->slots[i], wstatus);
				break;
			}
		}
		/* Else an orphan of a task, handed to this subreaper. */
	}
	for (i = 0; i < p->o->workers; i++) {
		struct tp_slot *s = &p->slots[i];

		if (s->pid == 0)
			continue;
		if (waitpid(s->pid, &wstatus, WNOHANG) == s->pid) {
			/* End whatever the task left running in its group. */
			kill(-s->pid, SIGKILL);
			tp_finish(p, s, wstatus);
		}
	}
}

static void
tp_kill(struct tp_slot *s, double now)
{
	if (s->term_at == 0) {
		kill(-s->pid, SIGTERM);
		s->term_at = now;
	} else if (now - s->term_at >= TP_KILL_GRACE)
		kill(-s->pid, SIGKILL);
}

/* Signals tasks past their timeout, or all when stopping; returns the
 * poll timeout in ms until the next deadline (-1: none). */
static int
tp_deadlines(struct tp *p)
{
	double now = tp_now(CLOCK_MONOTONIC), next = 1e18, t;
	double timeout = p->o->timeout;
	int i;

	for (i = 0; i < p->o->workers; i++) {
		struct tp_slot *s = &p->slots[i];

		if (s->pid == 0)
			continue;
		if (p->stopping && !s->timed_out)
			s->cancelled = 1;
		if (!s->cancelled && timeout > 0 &&
		    now - s->started >= timeout)
			s->timed_out = 1;
		if (s->cancelled || s->timed_out) {
			tp_kill(s, now);
			t = s->term_at + TP_KILL_GRACE;
		} else if (timeout > 0)
			t = s->started + timeout;
		else
			continue;
		if (t < next)
			next = t;
	}
	if (next >= 1e18)
		return -1;
	t = (next - now) * 1000.0 + 1;
	return t < 1 ? 1 : (t > INT_MAX ? INT_MAX : (int)t);
}

/* Starts the next attempt in every free slot: retries first. */
static int
tp_dispatch(struct tp *p)
{
	int i;

	for (i = 0; !p->stopping && i < p->o->workers; i++) {
		struct tp_slot *s = &p->slots[i];
		size_t task;
		int attempt;

		if (s->pid != 0)
			continue;
		if (p->nretry > 0) {
			task = p->retry[0].task;
			attempt = p->retry[0].attempts + 1;
			memmove(p->retry, p->retry + 1, --p->nretry *
			    sizeof *p->retry);
		} else if (p->next < p->o->ninputs) {
			task = p->next++;
			attempt = 1;
		} else
			break;
		if (tp_spawn(p, s, task, attempt) != 0)
			return -1;
	}
	return 0;
}

static void
tp_setup_attr(struct tp *p)
{
	sigset_t none, def;

	posix_spawnattr_init(&p->attr);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGCHLD);
	sigaddset(&def, SIGHUP);
	posix_spawnattr_setsigmask(&p->attr, &none);
	posix_spawnattr_setsigdefault(&p->attr, &def);
	posix_spawnattr_setpgroup(&p->attr, 0);
	posix_spawnattr_setflags(&p->attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

int
taskpool_run(const struct tp_opts *o, int *cancelled, char *err,
    size_t errlen)
{
	struct tp p;
	struct pollfd *pfds;
	int i, running, nfds, wait_ms, rc = 0, opened = 0;
	char *const *env = o->env != NULL ? o->env : environ;

	*cancelled = 0;
	memset(&p, 0, sizeof p);
	p.o = o;
	p.err = err;
	p.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (o->workers < 1 || o->ninputs == 0) {
		tp_error(&p, "nothing to run (%zu inputs, %d workers)",
		    o->ninputs, o->workers);
		return -1;
	}
	while (env[p.nenv] != NULL)
		p.nenv++;
	while (o->argv != NULL && o->argv[p.nargv] != NULL)
		p.nargv++;
	p.argv = tp_alloc((p.nargv + 2) * sizeof *p.argv);
	if (o->argv != NULL)
		memcpy(p.argv, o->argv, p.nargv * sizeof *p.argv);
	else
		p.argv[p.nargv++] = (char *)o->entry;
	if (o->host != NULL)
		snprintf(p.host, sizeof p.host, "%s", o->host);
	else if (gethostname(p.host, sizeof p.host - 1) != 0)
		strcpy(p.host, "localhost");
	p.slots = tp_alloc((size_t)o->workers * sizeof *p.slots);
	p.retry = tp_alloc((size_t)o->workers * sizeof *p.retry);
	pfds = tp_alloc((size_t)o->workers * sizeof *pfds);
	tp_setup_attr(&p);
	p.devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (p.devnull < 0) {
		tp_error(&p, "cannot open /dev/null: %s", strerror(errno));
		rc = -1;
	}
	for (i = 0; rc == 0 && i < o->workers; i++) {
		opened++;
		if (tp_slot_open(&p, &p.slots[i], i + 1) != 0)
			rc = -1;
	}
	if (rc != 0)
		p.stopping = 1;

	for (;;) {
		if (!p.stopping && o->stop != NULL && o->stop(o->arg))
			p.stopping = 1;
		if (tp_dispatch(&p) != 0) {
			rc = -1;
			p.stopping = 1;
		}
		running = nfds = 0;
		for (i = 0; i < opened; i++) {
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
		wait_ms = tp_deadlines(&p);
		if (nfds < running && (wait_ms < 0 || wait_ms > 2))
			wait_ms = 2;	/* no pidfd: poll waitpid */
		if (o->tick_ms > 0 && (wait_ms < 0 || wait_ms > o->tick_ms))
			wait_ms = o->tick_ms;
		if (poll(pfds, (nfds_t)nfds, wait_ms) < 0 && errno != EINTR) {
			tp_error(&p, "poll: %s", strerror(errno));
			rc = -1;
			p.stopping = 1;
		}
		tp_reap(&p);
	}
	if (p.stopping && rc == 0)
		*cancelled = 1;

	for (i = 0; i < opened; i++) {
		struct tp_slot *s = &p.slots[i];

		tp_slot_close(s);
		if (s->out_fd >= 0)
			close(s->out_fd);
		if (s->out_rd >= 0)
			close(s->out_rd);
		if (s->err_fd >= 0)
			close(s->err_fd);
		if (s->err_rd >= 0)
			close(s->err_rd);
	}
	if (p.devnull >= 0)
		close(p.devnull);
	posix_spawnattr_destroy(&p.attr);
	free(p.slots);
	free(p.retry);
	free(pfds);
	free(p.argv);
	return rc;
}

static int
tp_is_program(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0;
}

char *
taskpool_find_program(const char *prog, const char *dir, char *const *env,
    char *err, size_t errlen)
{
	const char *path = NULL, *d, *end;
	char *f;
	size_t i, n;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (*prog == '\0') {
		snprintf(err, errlen, "the program's name is empty");
		return NULL;
	}
	if (strchr(prog, '/') != NULL) {
		n = (dir != NULL ? strlen(dir) : 0) + strlen(prog) + 2;
		f = tp_alloc(n);
		if (prog[0] == '/' || dir == NULL)
			snprintf(f, n, "%s", prog);
		else
			snprintf(f, n, "%s/%s", dir, prog);
		if (tp_is_program(f))
			return f;
		snprintf(err, errlen, "program %s is not an executable file "
		    "(%s)", prog, access(f, F_OK) == 0 ? "not executable" :
		    "no such file");
		free(f);
		return NULL;
	}
	for (i = 0; env != NULL && env[i] != NULL; i++) {
		if (strncmp(env[i], "PATH=", 5) == 0)
			path = env[i] + 5;
	}
	if (env == NULL)
		path = getenv("PATH");
	if (path == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (d = path;; d = end + 1) {
		end = strchr(d, ':');
		n = end != NULL ? (size_t)(end - d) : strlen(d);
		f = tp_alloc(n + strlen(prog) + 3);
		/* An empty entry is the working folder, as for execvp. */
		if (n == 0)
			snprintf(f, strlen(prog) + 3, "./%s", prog);
		else
			snprintf(f, n + strlen(prog) + 2, "%.*s/%s", (int)n, d,
			    prog);
		if (tp_is_program(f))
			return f;
		free(f);
		if (end == NULL)
			break;
	}
	snprintf(err, errlen, "program %s is not on PATH (%s)", prog, path);
	return NULL;
}
