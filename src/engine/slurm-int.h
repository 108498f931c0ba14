/* Inside the slurm engine: slurm.c (the hosts' set-up steps) and
 * slurm-run.c (the job array). */
#ifndef FANOUT_ENGINE_SLURM_INT_H
#define FANOUT_ENGINE_SLURM_INT_H

#include <jansson.h>

#include "ssh/session.h"

struct cloud_run;
struct sink;
struct strbuf;

/* A host of the cluster as the engine reaches it: a copy of what its
 * rec["hosts"] entry says, so that no lock is needed once made. */
struct sl_host {
	json_t		*entry;		/* the record's entry (a reference):
					 * its host_key is set here */
	char		*name;		/* "bastion", "node1": Slurm's node
					 * name for a node */
	char		*user;
	char		*addr;		/* where SSH reaches it: the
					 * FANOUT_BASTION_ADDRESS map's, else
					 * the head's public / a node's
					 * private address */
	char		*slurm_addr;	/* where the cluster's hosts reach it
					 * (the map's, else private_ip) */
	int		 port;
	char		*key_file;
	char		*known_hosts;
	char		*host_key;	/* recorded, or NULL: first use */
	struct ssh_opts	 so;		/* for ssh_connect (points into this) */
};

/* Fills h from entry (under run->lock); connect timeouts from
 * FANOUT_SSH_WAIT; sink for the session's logs. -1 with a cause. */
int	sl_host_init(struct cloud_run *, json_t *entry, struct sink *,
	    struct sl_host *, char **cause);
void	sl_host_free(struct sl_host *);
/* Connects to h (through jump when not NULL) and records the host key
 * seen first in its entry. */
struct ssh_session *sl_connect(struct cloud_run *, struct sl_host *h,
	    const struct ssh_opts *jump, char **cause);
/* The compute hosts of the record (references), sorted by name, or NULL
 * with a cause when there are none. Caller frees the array and each. */
json_t	**sl_nodes(struct cloud_run *, size_t *n, char **cause);
/* Workers per node: the project's (answers may not change it). */
int	sl_workers(struct cloud_run *, char **cause);

/* Runs cmd with data as its stdin, its stdout (and what the command
 * sends there) into out; *status its exit status. */
int	sl_exec(struct ssh_session *, const char *cmd, const char *data,
	    size_t len, struct strbuf *out, int *status, char **cause);

/* The upload the last "nodes setup" of run set id made, for the run's
 * entry in the record. */
void	sl_sent_get(const char *id, long long *files, long long *bytes);

#endif
