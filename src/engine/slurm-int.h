/* Inside the slurm engine: slurm.c (the hosts' set-up steps) and
 * slurm-run.c (the job array). */
#ifndef FANOUT_ENGINE_SLURM_INT_H
#define FANOUT_ENGINE_SLURM_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>

#include "event.h"
#include "run/project.h"
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

/* A run of the job array (slurm-run.c, slurm-job.c). */
struct sl_elem {
	size_t		 a, b;		/* its share: tasks [a, b) */
	char		 state[32];	/* Slurm's, last seen ("" none yet) */
	char		 node[64];	/* where it runs or ran */
	int		 ended;
	int		 missing;	/* squeue answers in a row that did
					 * not list it */
	double		 requeued;	/* when it left a node it ran on
					 * without ending (time_mono), or 0 */
	char		 from[64];	/* that node */
};

/* An element folder on a node: eE.R. */
struct sl_folder {
	char		*name;
	size_t		 elem;
	long long	 off;		/* bytes of its records.jsonl read */
	int		 finished;	/* done written and read to the end */
};

struct sl_run;

struct sl_node {
	struct sl_run	*x;
	struct sl_host	 h;
	struct ssh_session *ss;		/* NULL while lost */
	pthread_t	 thread;
	int		 started;	/* thread made */
	struct sl_folder *f;
	size_t		 nf;
	int		 lost;		/* SSH died, not back yet */
	double		 lost_at;	/* time_mono of the loss */
	double		 tried;		/* last reconnect try */
	int		 running, done;	/* elements, from squeue */
	long long	 got;		/* log bytes downloaded */
	struct sink	 sink;		/* the run's, but a lost node's
					 * reconnect is cut short once the
					 * run is over and nothing is
					 * missing */
};

struct sl_run {
	struct cloud_run *run;
	struct sink	 sink;		/* run->sink, never cancelled: the
					 * sessions run to their end */
	struct project	 pr;
	char		**inputs;	/* as the records name them */
	char		**paths;	/* as the tasks get them (a bucket's
					 * objects fetched on the node), or
					 * NULL: inputs */
	char		*fetch_list;	/* the bucket's objects, a line per
					 * input (provider.h store_fetch), or
					 * NULL */
	char		*fetch;		/* the script that fetches a list's
					 * objects on a node */
	size_t		 ninputs;
	int		 workers;
	struct sl_elem	*el;
	size_t		 nel;
	struct sl_node	*nodes;
	size_t		 nnodes;
	char		*rd;		/* the remote dir on the nodes */
	char		*run_id;
	char		*job;		/* Slurm's job id */
	char		*results;	/* the local results folder */
	pthread_mutex_t	 lock;		/* guards what follows, el[] and
					 * the nodes' running/done/lost */
	pthread_cond_t	 wake;
	unsigned short	*attempts;	/* per task: attempts counted */
	unsigned char	*final;		/* per task: its last record came */
	FILE		*records;
	long long	 done, failed, ignored;
	int		 phase;		/* 0 running, 1 last read, 2 end */
	int		 complete;	/* every task has its last record
					 * (set with phase 1) */
};

/* slurm-job.c: the number of elements for tasks on nodes x workers. */
size_t	sl_elements(size_t tasks, size_t nodes, int workers);
/* Submits the array from the head, unless this run's job is there
 * already (never twice); sets x->job. */
int	sl_submit(struct sl_run *, struct ssh_session *, char **cause);
/* Reads squeue's view of the array into x->el (logging requeues): 1
 * when every element has ended, 0 not yet, -1 with a cause. */
int	sl_queue(struct sl_run *, struct ssh_session *, char **cause);
/* Logs the elements running and done per node when that changed since
 * *last (which it keeps). */
void	sl_progress(struct sl_run *, char **last);
/* Cancels the waiting elements, asks the running ones to stop. */
int	sl_cancel(struct sl_run *, struct ssh_session *, char **cause);

#endif
