/* The bastion engine: a whole run of a project on a machine reached over
 * SSH (the bastion, or any host for `fanout run --host`). It connects
 * (waiting for a fresh VM's sshd), sets the machine up, uploads what
 * changed, starts fanout-worker detached, streams its records into
 * EV_TASK_DONE events, downloads the records and logs, and builds the
 * results folder with the same report code as the local engine.
 * A dropped connection is reconnected and the run goes on: the upload
 * resumes, and the run (known by its id) is never started twice. */
#ifndef FANOUT_SSH_REMOTE_H
#define FANOUT_SSH_REMOTE_H

#include <stdio.h>

#include "run/local.h"

struct record;
struct rerun;
struct sink;

struct remote_opts {
	const char	*host;
	int		 port;		/* 0 = 22 */
	const char	*user;
	const char	*key_file;	/* ed25519 private key (0600) */
	const char	*known_hosts;	/* fanout's own known_hosts file */
	const char	*expected_fp;	/* from the history record, or NULL:
					 * trust on first use */
	double		 connect_timeout; /* seconds to wait for sshd;
					   * 0 = 300 (a booting VM) */
	double		 auth_grace;	/* seconds a refused key is tried
					 * again: a fresh VM whose sshd is up
					 * before its key is installed; 0 (a
					 * machine of one's own): refused at
					 * once */
	const char	*project_dir;
	long		 files;		/* first N inputs; 0 = the project's */
	int		 workers;	/* per node; 0 = the project's */
	int		 nodes;		/* 0 = 1 */
	const char	*results;	/* exact local results folder, or NULL
					 * for <project>/results/<stamp> */
	const char	*remote_dir;	/* on the host; NULL =
					 * $FANOUT_BASTION_DIR when set (tests:
					 * keep out of the remote user's home),
					 * else fanout/<name> */
	const char	*run_id;	/* NULL = a new run; an id already
					 * started there is watched, not
					 * started again */
	const char	*upload_cache;	/* local hash cache for this remote
					 * (upload.h), or NULL */
	const struct rerun *rerun;	/* NULL: every input; else the tasks
					 * an earlier run left without a
					 * result, merged with it (rerun.h) */
	int		 idle_stop;	/* minutes idle before the host powers
					 * off (remote_idle_stop: < 0 never,
					 * 0 leaves the host alone: run
					 * --host) */
	struct sink	*sink;		/* progress; polled for cancel */
	const char *const *detach;	/* a detached run: the arguments of
					 * templates/detach-supervise.sh,
					 * NULL-ended. The run is started,
					 * the supervisor started beside it
					 * (it outlives the login) and
					 * remote_run returns: no records,
					 * no results folder here. NULL:
					 * follow the run to its end */
	/* Inputs the caller found (a bucket's objects): what each task
	 * gets (task_inputs, relative to the project's tree on the host)
	 * and what the records name (inputs); NULL: the project's own. */
	char *const	*task_inputs;
	char *const	*inputs;
	size_t		 ninputs;
	const char	*fetch;		/* shell script run in remote_dir
					 * after the upload, before the tasks
					 * (step "fetch": the host fetches
					 * the inputs itself), or NULL */
	const char	*results_put;	/* shell script run in runs/ID on the
					 * host once the results folder is
					 * built and sent there (into
					 * runs/ID/results): copies it to a
					 * bucket, printing "#copied URL N";
					 * or NULL */
};

struct remote_result {
	struct local_result lr;		/* as local_run's (history_id NULL:
					 * the caller keeps the history) */
	char		*fingerprint;	/* host key seen, "SHA256:..." */
	char		*run_id;	/* remote run id */
	char		*remote_dir;
	long long	 files;		/* files in the project tree */
	long long	 files_sent;
	long long	 bytes_sent;	/* file contents uploaded */
	long long	 wire_bytes;	/* upload bytes on the wire */
	long long	 bytes_received; /* downloaded (tar of records, logs) */
	int		 reconnects;
	char		*lost;		/* the host was lost with the run on
					 * it (LOCAL_FAILED): why; lr holds
					 * the results folder made of what
					 * came home, the rest unfinished */
	char		*results_copy;	/* where results_put copied the
					 * results folder, or NULL */
};

/* Returns LOCAL_OK (ran; tasks may have failed), LOCAL_BAD_INPUT (the
 * project or options are wrong; nothing was made) or LOCAL_FAILED, with
 * a cause. */
enum local_status remote_run(const struct remote_opts *,
		      struct remote_result *, char **cause);
void		  remote_result_free(struct remote_result *);

struct ssh_session;

/* The folder a project lives in on a host: $FANOUT_BASTION_DIR when set
 * (tests: keep out of the remote user's home), else fanout/<project>
 * (relative to the remote home). Caller frees. */
char		 *remote_dir_for(const char *project);
/* A run's host set up on a session the caller holds (a cluster's node,
 * reached through its head): templates/bastion-setup.sh in remote_dir
 * (idempotent, quick once done), then fanout-worker put there when it is
 * not yet (uploaded, or built there). *worker (caller frees) gets its path
 * relative to remote_dir. host names it in messages. A lost connection is
 * the caller's to retry (ssh_last_error). */
int		  remote_host_setup(struct ssh_session *, const char *remote_dir,
		      const char *host, struct sink *, char **worker,
		      char **cause);

struct project;
/* The entrypoint's program as fanout-worker takes it: "./NAME" for a
 * file of the project named without a '/', else argv[0]. Caller frees. */
char		 *remote_program(const struct project *);
struct strbuf;
/* Appends fanout-worker's " PROG WORKERS TIMEOUT RETRIES ARG..." for the
 * project's entrypoint, each word shell-quoted. */
void		  remote_worker_args(struct strbuf *, const struct project *,
		      int workers);
/* Appends "KEY='value'\nexport KEY\n" for each of the project's env:. */
void		  remote_env_exports(struct strbuf *, const struct project *);
/* After the upload, one login on ss: the project's setup: in
 * remote_dir/tree unless its digest (remote_dir/setup.sha256, written
 * after a setup that worked) is current, each line of its output an
 * EV_LOG under step ("HOST: line"); then the entrypoint's program looked
 * for there. -1 with a cause naming host and the setup's last line, or
 * the missing program. A lost connection is the caller's to retry. */
int		  remote_project_setup(struct ssh_session *,
		      const char *remote_dir, const char *host,
		      const struct project *, struct sink *, const char *step,
		      char **cause);
/* Idle stop on a host (cloud heads and nodes): templates/idle-stop.sh
 * put into remote_dir and started there with minutes (its watcher powers
 * the machine off after that many idle minutes); minutes < 0 stops a
 * watcher (never), 0 does nothing. FANOUT_IDLE_TICK, FANOUT_IDLE_POWEROFF
 * and FANOUT_IDLE_SSHD_PID (test hooks, see the script) are passed on. */
int		  remote_idle_stop(struct ssh_session *, const char *remote_dir,
		      int minutes, char **cause);

/* Splits "[user@]host[:port]" (FANOUT_BASTION_ADDRESS, --host) into
 * newly allocated parts; user is NULL when absent, port 0. */
int		  remote_parse_address(const char *, char **user, char **host,
		      int *port, char **cause);

/* A record that came home: appended to records (results/records.jsonl,
 * flushed) and emitted as EV_TASK_DONE with the run's counts. */
void		  remote_record_home(FILE *records, struct record *,
		      long long done, long long failed, long long total,
		      struct sink *);
/* The text of templates/<name> in fanout's data folder, or NULL with a
 * cause. */
char		 *remote_template(const char *name, char **cause);
/* A new run id: the UTC time and four hex digits. */
char		 *remote_new_id(void);

#endif
