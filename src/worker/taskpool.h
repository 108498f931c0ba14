/* The task pool, the one implementation every engine runs: fanout's local
 * engine links it, and so does fanout-worker, the program that runs a
 * project's tasks on a remote host. It needs libc and nothing else, so the
 * worker can be linked statically (or built on a host from these sources).
 *
 * Each attempt is started with posix_spawn in a process group of its own,
 * its stdout and stderr appended to the log files of its worker slot
 * (LOGDIR/wN.out, LOGDIR/wN.err: two files per slot for the whole run, not
 * two per task); the attempt's record says where its bytes are. One loop
 * polls a pidfd per running task, sends SIGTERM and then SIGKILL to the
 * group of a task past its timeout, retries failures, and gives each
 * attempt to a callback and/or appends it as a JSON line to a file. Memory
 * does not grow with the task count: fresh tasks are taken by index and
 * retries wait in a queue of at most one per worker.
 *
 * The result is the last non-empty line of the attempt's stdout. The pool
 * checks that it is a JSON object (to decide on a retry, on the host) and
 * carries the line raw; the caller at home parses it (record.h). */
#ifndef FANOUT_TASKPOOL_H
#define FANOUT_TASKPOOL_H

#include <stddef.h>

/* The same values, in the same order, as enum record_status. */
enum tp_status {
	TP_OK,
	TP_FAILED,	/* non-zero exit or killed by a signal */
	TP_TIMEOUT,	/* killed after the timeout */
	TP_BADJSON,	/* exit 0, but the last line is no JSON object */
	TP_CANCELLED,	/* ended because the pool was asked to stop */
};

/* One finished attempt, valid during the callback only. */
struct tp_attempt {
	size_t		 task;		/* index into the inputs, from 0 */
	const char	*input;
	int		 worker;	/* slot, 1..workers */
	const char	*host;
	long		 pid;
	double		 start, end;	/* seconds since the epoch */
	int		 exit;		/* exit code, or 128 + signal */
	int		 attempt;	/* from 1 */
	enum tp_status	 status;
	const char	*line;		/* TP_OK: the result line, else NULL */
	const char	*error;		/* what went wrong, or NULL */
	const char	*stderr_tail;	/* not ok: the last non-empty line of
					 * its stderr, or NULL */
	const char	*log;		/* log stem, "wN": LOGDIR/wN.out|err */
	long long	 out_off, out_len; /* its stdout bytes in wN.out */
	long long	 err_off, err_len; /* its stderr bytes in wN.err */
	int		 final;		/* no further attempt of this task */
};

struct tp_opts {
	const char	 *entry;	/* the program to start (a path;
					 * relative paths are relative to dir):
					 * see taskpool_find_program */
	char *const	 *argv;		/* its words, NULL-ended (argv[0] as
					 * the program gets it); the input is
					 * appended. NULL: { entry } */
	const char	 *dir;		/* the tasks' working folder; NULL: this
					 * process's own */
	char *const	 *env;		/* every task's environment (FANOUT_
					 * INPUT, _TASK, _WORKER, _ATTEMPT are
					 * added); NULL: environ */
	char *const	 *inputs;
	size_t		  ninputs;
	int		  workers;
	double		  timeout;	/* seconds per attempt; 0 = none */
	int		  retries;	/* extra attempts after a failure */
	const char	 *logdir;	/* the slots' log files go here */
	const char	 *host;		/* for the records; NULL: gethostname */
	int		  records_fd;	/* each attempt appended here as one JSON
					 * line (one write), or -1 */
	/* Called after each attempt (may be NULL). */
	void		(*done)(void *arg, const struct tp_attempt *);
	/* Polled at least every tick_ms (and after each signal): non-zero
	 * stops the pool (may be NULL). */
	int		(*stop)(void *arg);
	void		 *arg;
	int		  tick_ms;	/* 0: no periodic poll */
	int		  reap_all;	/* reap any child (waitpid(-1)), as a
					 * subreaper must; only where no other
					 * code waits for children */
};

/* Runs every input. Returns 0 when the pool ran (tasks may have failed;
 * *cancelled is set when stop() ended it), or -1 with a message in err. */
int	 taskpool_run(const struct tp_opts *, int *cancelled, char *err,
	     size_t errlen);

/* The wire line of an attempt, as records_fd gets it (no newline): the
 * keys of src/run/record.h, with "line" (the raw result line as a JSON
 * string) instead of "result". Caller frees. */
char	*taskpool_record_line(const struct tp_attempt *);

/* Non-zero when s[0..n) is one JSON object (RFC 8259, UTF-8), with
 * nothing but white space around it. */
int	 taskpool_json_object(const char *s, size_t n);
/* s[0..n) as a quoted JSON string; bytes that are not UTF-8 become
 * U+FFFD. Caller frees. */
char	*taskpool_json_quote(const char *s, size_t n);

/* The program a task runs, resolved once before any task: prog with a
 * '/' is a path (relative to dir when not absolute); else it is looked up
 * in the folders of PATH (from env when it has one, else this process's
 * environment). A regular executable file: its path (caller frees), else
 * NULL and a one-line reason in err. */
char	*taskpool_find_program(const char *prog, const char *dir,
	     char *const *env, char *err, size_t errlen);

/* The status names of the records. */
const char *taskpool_status_name(enum tp_status);

#endif
