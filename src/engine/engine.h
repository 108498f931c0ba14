/* The engines this build has: where the tasks of a run execute (DESIGN.md,
 * "engine"), as one ops table each. The menus and `fanout create --engine`
 * offer exactly the cloud engines of this table; the flows (src/wizard)
 * ask the engine which provider blocks to make, which host set-up steps to
 * run beside them, and how to run; they hold no engine's name. A new
 * engine is a new file and a new line in engines[] (engine.c). */
#ifndef FANOUT_ENGINE_H
#define FANOUT_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "run/local.h"

struct cloud_run;
struct remote_opts;
struct remote_result;
struct cloud_step;
struct local_result;

struct engine {
	const char	*name;		/* "bastion": answers, --engine */
	const char	*label;		/* the menu's words: "one machine
					 * (bastion)" */
	const char	*summary;	/* one line for help texts */
	bool		 cloud;		/* runs on machines a create makes
					 * (local runs on this machine) */
	bool		 nodes;		/* runs on several machines, so a
					 * create asks how many */
	unsigned	 blocks;	/* the provider blocks it needs: bits
					 * 1u << CLOUD_BLOCK_* (provider.h) */
	const char	*os;		/* the system its VMs run, as
					 * providers know it: "debian-12"
					 * (Slurm's packages); NULL: the
					 * provider's default */
	/* Host set-up steps run in the create's step graph beside the
	 * provider's (their "after" may name provider steps: "bastion
	 * running", "nodes running"); NULL or {NULL}-ended. A resume runs
	 * them again once the hosts run (their "after" names of steps not
	 * in the table dropped). */
	const struct cloud_step *setup;
	/* The run on hosts that are up (and set up): starts it, follows it
	 * (events to run->sink), fetches the records and logs, builds the
	 * results folder, adds the run to run->rec ("runs") and fills out
	 * (may be NULL). Everything it needs is in run->rec: "hosts",
	 * "answers", "project_dir". 0 when it ran (tasks may have failed),
	 * else -1 with a cause. NULL: the engine runs nothing remote. */
	int		(*run)(struct cloud_run *, struct local_result *out,
			    char **cause);
};

extern const struct engine engine_local;
extern const struct engine engine_bastion;
extern const struct engine engine_slurm;

/* The engine called name, or NULL. */
const struct engine	*engine_find(const char *name);
/* The i-th engine (from 0), or NULL past the last. */
const struct engine	*engine_at(size_t i);
/* The engine of a cloud record's answers ("engine"; none: bastion), or
 * NULL when the record names one this build lacks. */
const struct engine	*engine_of(json_t *answers);

/* The idle stop a create asked for (answers "idle_stop", minutes): as
 * remote_opts.idle_stop, < 0 never, 0 none asked (a record from before
 * idle stop: its hosts are left alone). */
int		 engine_idle_stop(json_t *answers);

/* Hosts of a record (rec["hosts"]: an array of {"role": "head"|
 * "compute", "name", "instance_id", "host", "private_ip", "port", "user",
 * "key_file", "host_key"}); the first of role, or NULL. */
json_t		*engine_host(json_t *rec, const char *role);

/* Where to reach a host (an entry of rec["hosts"]): its "host" and "port",
 * unless $FANOUT_BASTION_ADDRESS says otherwise. That variable is either
 * one [user@]host[:port] (the head: tests and port forwards, as before) or
 * a map "KEY=[user@]host[:port],KEY=..." whose KEY is a host's name
 * ("bastion", "node1"), its role ("head") or its instance id. Sets newly
 * allocated *user (may be NULL: the entry's), *host, and *port (0 = 22).
 * An entry with "pinned": true (run --host: the user's own address) is
 * never overridden.
 * -1 with a cause when the variable is malformed. */
int		 engine_host_address(json_t *host, char **user, char **addr,
		    int *port, char **cause);

/* FANOUT_SSH_WAIT (how long a booting VM's sshd is waited for; 0 = the
 * default) and the time a refused key is tried again (half that, at most
 * a minute). -1 with a cause when the variable is malformed. */
int		 engine_ssh_wait(double *connect_timeout, double *auth_grace,
		    char **cause);
/* The bastion engine's run on one host (an entry as in rec["hosts"]; its
 * address as engine_host_address says): remote_run with ro, whose host,
 * port, user, key_file and expected_fp it sets from the entry. The
 * caller keeps rr->fingerprint (the host key seen) when it had none. */
enum local_status engine_bastion_host(json_t *host, struct remote_opts *ro,
		    struct remote_result *rr, char **cause);
/* A run's entry for rec["runs"] (history_add_run). */
json_t		*engine_run_entry(const char *engine, double started,
		    const struct local_result *, long long files_sent,
		    long long bytes_sent);

#endif
