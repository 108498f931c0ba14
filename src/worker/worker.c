/* fanout-worker: the remote side of a run. fanout uploads it to a host (or
 * builds it there from these sources) and drives it over SSH:
 *
 *   fanout-worker version
 *   fanout-worker start RUN PROJECT PROG WORKERS TIMEOUT RETRIES [ARG...]
 *   fanout-worker run   RUN PROJECT PROG WORKERS TIMEOUT RETRIES [ARG...]
 *   fanout-worker watch RUN OFFSET
 *   fanout-worker stop  RUN
 *
 * RUN is the run folder fanout made, holding `inputs` (one input a line,
 * task I = line I + 1). Each task runs PROG ARG... INPUT (no shell):
 * PROG with a '/' is a file relative to PROJECT, else a program on PATH,
 * found once before any task (missing: a one-line message, exit 1,
 * nothing started). start makes RUN/started (a lock: a run is never
 * started twice; a second start prints "#start running"), then runs the
 * pool detached in a session of its own (it outlives the SSH connection)
 * and prints "#start started" once RUN/pid is written. The pool (in the
 * project folder, with this process's environment) appends a record per
 * attempt to RUN/records.jsonl and the tasks' output to RUN/logs/wN.out|err,
 * and writes RUN/done (its exit status: 0, or 130 when stopped) last. run
 * does the same in the foreground. The records name the host
 * $FANOUT_HOST when it is set (a Slurm node's name), else gethostname's.
 *
 * watch prints records.jsonl from byte OFFSET on, whole lines only, as they
 * are written, then "#state done STATUS" (or "#state dead" when the pool
 * vanished without writing done). stop asks the pool to stop (SIGTERM: it
 * ends the running tasks, records them as cancelled, writes done) and waits
 * for done.
 *
 * libc only, with taskpool.c: built statically with fanout, or on the host
 * with `cc -O2 -o fanout-worker worker.c taskpool.c taskpool-json.c`. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "taskpool.h"

/* Changes whenever the command line or the files above change meaning. */
#define WORKER_PROTOCOL	2
#define WORKER_BATCH_MS	30	/* watch: gathers records this long */

static volatile sig_atomic_t worker_stop_flag;

static void
worker_on_signal(int sig)
{
	(void)sig;
	worker_stop_flag = 1;
}

static int
worker_stop_asked(void *arg)
{
	(void)arg;
	return worker_stop_flag;
}

static int
worker_fail(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "fanout-worker: ");
	fprintf(stderr, fmt, a, b != NULL ? b : "");
	fputc('\n', stderr);
	return 1;
}

static char *
worker_path(const char *run, const char *name)
{
	size_t n = strlen(run) + strlen(name) + 2;
	char *p = malloc(n);

	if (p == NULL)
		abort();
	snprintf(p, n, "%s/%s", run, name);
	return p;
}

/* Writes text to RUN/name through a temporary name and a rename. */
static int
worker_put(const char *run, const char *name, const char *text)
{
	char *tmp, *path = worker_path(run, name);
	size_t n = strlen(path) + 5;
	int fd, rc = -1;

	tmp = malloc(n);
	if (tmp == NULL)
		abort();
	snprintf(tmp, n, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text)
	    && close(fd) == 0)
		rc = rename(tmp, path);
	else if (fd >= 0)
		close(fd);
	free(tmp);
	free(path);
	return rc;
}

/* The whole file, NUL-terminated, or NULL. */
static char *
worker_read(const char *path, size_t *lenp)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL)
		abort();
	while (got < (size_t)st.st_size &&
	    (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	if (lenp != NULL)
		*lenp = got;
	return buf;
}

struct worker_run {
	const char	*run, *project, *entry;
	char	       **argv;		/* PROG ARG..., NULL-ended */
	char		*prog;		/* PROG's path, found before the pool */
	int		 workers, retries;
	double		 timeout;
	char		*data;		/* RUN/inputs */
	char	       **inputs;	/* pointers into data */
	size_t		 ninputs;
};

static int
worker_parse(struct worker_run *w, char **argv)
{
	char *end, *path, *p;
	size_t len, n, i;

	w->run = argv[0];
	w->project = argv[1];
	w->entry = argv[2];
	w->workers = (int)strtol(argv[3], &end, 10);
	if (*end != '\0' || w->workers < 1 || w->workers > 100000)
		return worker_fail("bad worker count '%s'", argv[3], NULL);
	w->timeout = strtod(argv[4], &end);
	if (*end != '\0' || w->timeout < 0)
		return worker_fail("bad timeout '%s'", argv[4], NULL);
	w->retries = (int)strtol(argv[5], &end, 10);
	if (*end != '\0' || w->retries < 0)
		return worker_fail("bad retry count '%s'", argv[5], NULL);
	/* PROG and the ARGs after RETRIES, as one NULL-ended list: PROG
	 * takes RETRIES' place (parsed above). */
	w->argv = argv + 5;
	w->argv[0] = argv[2];
	path = worker_path(w->run, "inputs");
	w->data = worker_read(path, &len);
	if (w->data == NULL) {
		worker_fail("cannot read %s: %s", path, strerror(errno));
		free(path);
		return 1;
	}
	free(path);
	for (n = 0, i = 0; i < len; i++)
		n += w->data[i] == '\n';
	if (len > 0 && w->data[len - 1] != '\n')
		n++;
	w->inputs = calloc(n + 1, sizeof *w->inputs);
	if (w->inputs == NULL)
		abort();
	for (p = w->data; *p != '\0' && w->ninputs < n; ) {
		w->inputs[w->ninputs++] = p;
		if ((p = strchr(p, '\n')) == NULL)
			break;
		*p++ = '\0';
	}
	if (w->ninputs == 0)
		return worker_fail("%s/inputs is empty", w->run, NULL);
	return 0;
}

static void worker_sleep_ms(int);

/* Runs the pool in the foreground; returns the exit status for done. */
static int
worker_pool(struct worker_run *w)
{
	struct tp_opts o;
	struct sigaction sa;
	char err[512], *path;
	int fd, cancelled = 0, rc, i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = worker_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);

	path = worker_path(w->run, "records.jsonl");
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		worker_fail("cannot write %s: %s", path, strerror(errno));
		free(path);
		return 1;
	}
	free(path);
	memset(&o, 0, sizeof o);
	o.entry = w->prog;
	o.argv = w->argv;
	o.inputs = w->inputs;
	o.ninputs = w->ninputs;
	o.workers = w->workers;
	o.timeout = w->timeout;
	o.retries = w->retries;
	o.logdir = path = worker_path(w->run, "logs");
	o.records_fd = fd;
	/* The host the records name: $FANOUT_HOST (a cluster's element: its
	 * Slurm node name), else this machine's name. */
	o.host = getenv("FANOUT_HOST");
	if (o.host != NULL && *o.host == '\0')
		o.host = NULL;
	o.stop = worker_stop_asked;
	o.tick_ms = 500;
	/* What a task leaves behind is this process's to reap, not init's:
	 * nothing of the run outlives it. */
	o.reap_all = prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
	rc = taskpool_run(&o, &cancelled, err, sizeof err);
	/* The killed groups' last processes, for up to 2 s. */
	for (i = 0; o.reap_all && i < 200; i++) {
		pid_t pid = waitpid(-1, NULL, WNOHANG);

		if (pid < 0)
			break;
		if (pid == 0)
			worker_sleep_ms(10);
	}
	free(path);
	close(fd);
	if (rc != 0) {
		worker_fail("%s", err, NULL);
		return 1;
	}
	return cancelled ? 130 : 0;
}

/* Takes RUN/lock for the pool's whole life (the kernel drops it when
 * the process ends, however it ends; tasks do not inherit it), so that
 * "is the pool alive" never trusts a pid that may have been reused. */
static void
worker_hold(const char *run)
{
	char *path = worker_path(run, "lock");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	free(path);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		fd = -1;
	}
	(void)fd;	/* kept open until the process ends */
}

/* 1 the pool of RUN holds its lock, 0 it is gone, -1 no lock file (not
 * started yet). */
static int
worker_alive(const char *run)
{
	char *path = worker_path(run, "lock");
	int fd = open(path, O_RDONLY | O_CLOEXEC), alive;

	free(path);
	if (fd < 0)
		return -1;
	alive = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd);	/* drops the lock if this took it */
	return alive;
}

/* run and start: the run folder's files, then the pool. */
static int
worker_start(char **argv, int detach)
{
	struct worker_run w;
	char *path, buf[32], err[512];
	int ready[2], rc, fd;
	pid_t pid;
	char c;

	memset(&w, 0, sizeof w);
	path = worker_path(argv[0], "started");
	if (mkdir(path, 0755) != 0) {
		if (errno != EEXIST)
			return worker_fail("cannot make %s: %s", path,
			    strerror(errno));
		printf("#start running\n");
		fflush(stdout);
		free(path);
		return 0;
	}
	free(path);
	if ((rc = worker_parse(&w, argv)) != 0) {
		/* Not started: a corrected try may start it. */
		path = worker_path(argv[0], "started");
		rmdir(path);
		free(path);
		return rc;
	}
	/* Paths stay valid from the project folder. */
	if (w.run[0] != '/' && (w.run = realpath(w.run, NULL)) == NULL)
		return worker_fail("no run folder %s: %s", argv[0],
		    strerror(errno));
	path = worker_path(w.run, "logs");
	mkdir(path, 0755);
	free(path);
	if (chdir(w.project) != 0)
		return worker_fail("no project folder %s: %s", w.project,
		    strerror(errno));
	/* The program, once, before any task: a missing one is one line
	 * here, not a failure of every task. */
	if ((w.prog = taskpool_find_program(w.entry, NULL, NULL, err,
	    sizeof err)) == NULL) {
		path = worker_path(w.run, "started");
		rmdir(path);
		free(path);
		return worker_fail("%s", err, NULL);
	}
	if (!detach) {
		worker_hold(w.run);
		snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
		worker_put(w.run, "pid", buf);
		snprintf(buf, sizeof buf, "%d\n", rc = worker_pool(&w));
		worker_put(w.run, "done", buf);
		return rc;
	}
	if (pipe(ready) != 0 || (pid = fork()) < 0)
		return worker_fail("cannot start the pool: %s",
		    strerror(errno), NULL);
	if (pid == 0) {
		close(ready[0]);
		setsid();
		fd = open("/dev/null", O_RDONLY);
		dup2(fd, 0);
		path = worker_path(w.run, "worker.log");
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		free(path);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		worker_hold(w.run);
		snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
		worker_put(w.run, "pid", buf);
		close(ready[1]);
		snprintf(buf, sizeof buf, "%d\n", rc = worker_pool(&w));
		worker_put(w.run, "done", buf);
		_exit(rc == 130 ? 0 : rc);
	}
	close(ready[1]);
	while (read(ready[0], &c, 1) < 0 && errno == EINTR)
		;
	close(ready[0]);
	printf("#start started\n");
	fflush(stdout);
	return 0;
}

static long
worker_pid(const char *run)
{
	char *path = worker_path(run, "pid"), *text;
	long pid = 0;

	text = worker_read(path, NULL);
	free(path);
	if (text != NULL)
		pid = strtol(text, NULL, 10);
	free(text);
	return pid;
}

/* done's status, or -1 while there is none. */
static int
worker_done(const char *run)
{
	char *path = worker_path(run, "done"), *text;
	int st = -1;

	text = worker_read(path, NULL);
	free(path);
	if (text != NULL)
		st = (int)strtol(text, NULL, 10);
	free(text);
	return st;
}

static void
worker_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Copies the whole lines of fd from *off on to stdout. */
static int
worker_copy(int fd, long long *off)
{
	static char buf[1 << 16];
	struct stat st;
	long long end = -1, pos, from;
	ssize_t n, i;

	if (fstat(fd, &st) != 0)
		return -1;
	/* The end of the last whole line, looking back from the end. */
	for (pos = (long long)st.st_size; pos > *off && end < 0; pos = from) {
		from = pos - (long long)sizeof buf;
		if (from < *off)
			from = *off;
		n = pread(fd, buf, (size_t)(pos - from), (off_t)from);
		if (n <= 0)
			return -1;
		for (i = n - 1; i >= 0; i--) {
			if (buf[i] == '\n') {
				end = from + i + 1;
				break;
			}
		}
	}
	while (*off < end) {
		n = pread(fd, buf, end - *off < (long long)sizeof buf ?
		    (size_t)(end - *off) : sizeof buf, (off_t)*off);
		if (n <= 0 || fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return -1;
		*off += n;
	}
	return 0;
}

/* The last line of RUN/worker.log as "#error LINE". */
static void
worker_print_error(const char *run)
{
	char *path = worker_path(run, "worker.log"), *text, *end, *line;

	text = worker_read(path, NULL);
	free(path);
	if (text == NULL)
		return;
	end = text + strlen(text);
	while (end > text && (end[-1] == '\n' || end[-1] == ' '))
		*--end = '\0';
	line = strrchr(text, '\n');
	line = line != NULL ? line + 1 : text;
	if (*line != '\0')
		printf("#error %s\n", line);
	free(text);
}

static int
worker_watch(const char *run, const char *offset)
{
	char *path, *end, ev[4096];
	long long off = strtoll(offset, &end, 10);
	struct pollfd pfd;
	long pid;
	int fd = -1, in, st, waited = 0, alive;

	if (*end != '\0' || off < 0)
		return worker_fail("bad offset '%s'", offset, NULL);
	signal(SIGPIPE, SIG_IGN);
	in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (in >= 0)
		inotify_add_watch(in, run, IN_MODIFY | IN_CLOSE_WRITE |
		    IN_MOVED_TO | IN_CREATE);
	path = worker_path(run, "records.jsonl");
	for (;;) {
		st = worker_done(run);
		if (fd < 0)
			fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && worker_copy(fd, &off) != 0)
			return 1;
		if (st >= 0) {
			if (st != 0 && st != 130)
				worker_print_error(run);
			printf("#state done %d\n", st);
			break;
		}
		pid = worker_pid(run);
		alive = worker_alive(run);
		if (alive == 0 || (alive < 0 && pid > 0 &&
		    kill((pid_t)pid, 0) != 0 && errno == ESRCH) ||
		    (alive < 0 && pid <= 0 && waited > 20000)) {
			/* Gone: done may have come in meanwhile. */
			if ((st = worker_done(run)) >= 0)
				continue;
			printf("#state dead\n");
			break;
		}
		if (fflush(stdout) != 0)
			return 1;
		/* Wait for a change (or a second, to look at the pid), then
		 * let more records gather. */
		pfd.fd = in;
		pfd.events = POLLIN;
		if (in < 0 || poll(&pfd, 1, 1000) == 0)
			waited += 1000;
		while (in >= 0 && read(in, ev, sizeof ev) > 0)
			;
		worker_sleep_ms(WORKER_BATCH_MS);
		waited += WORKER_BATCH_MS;
	}
	free(path);
	return fflush(stdout) != 0;
}

/* Kills every process of session sid (those the pool left behind). */
static void
worker_kill_session(pid_t sid)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	char *end;
	long pid;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		pid = strtol(de->d_name, &end, 10);
		if (*end == '\0' && pid > 0 && getsid((pid_t)pid) == sid)
			kill((pid_t)pid, SIGKILL);
	}
	closedir(d);
}

static int
worker_stop(const char *run)
{
	long pid = worker_pid(run);
	int i;

	if (worker_done(run) >= 0)
		return 0;
	/* Only a pool that still holds the run's lock is signalled: the
	 * pid of one that died may belong to another process by now. */
	if (pid > 0 && worker_alive(run) == 1)
		kill((pid_t)pid, SIGTERM);
	else
		pid = 0;
	/* The pool gives its tasks 2 s after SIGTERM before SIGKILL. */
	for (i = 0; i < 200 && worker_done(run) < 0; i++)
		worker_sleep_ms(50);
	if (worker_done(run) < 0) {
		if (pid > 0)
			worker_kill_session((pid_t)pid);
		worker_put(run, "done", "130\n");
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (strcmp(cmd, "version") == 0 && argc == 2) {
		printf("fanout-worker %d\n", WORKER_PROTOCOL);
		return 0;
	}
	if ((strcmp(cmd, "start") == 0 || strcmp(cmd, "run") == 0) &&
	    argc >= 8)
		return worker_start(argv + 2, strcmp(cmd, "start") == 0);
	if (strcmp(cmd, "watch") == 0 && argc == 4)
		return worker_watch(argv[2], argv[3]);
	if (strcmp(cmd, "stop") == 0 && argc == 3)
		return worker_stop(argv[2]);
	fprintf(stderr, "usage: fanout-worker version | start|run RUN PROJECT "
	    "PROG WORKERS TIMEOUT RETRIES [ARG...] | watch RUN OFFSET | stop "
	    "RUN\n");
	return 2;
}
