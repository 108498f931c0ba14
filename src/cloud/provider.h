/* The provider ops table: what a cloud must do for the wizard's flows
 * (create steps, recovery, existence checks, teardown, orphan search).
 * AWS is the one provider today; GCP goes beside it as another table,
 * without touching src/wizard. Also the journal helpers that steps use to
 * write each resource to the history record (intent -> created ->
 * deleted) under the record's lock. */
#ifndef FANOUT_CLOUD_PROVIDER_H
#define FANOUT_CLOUD_PROVIDER_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>

struct engine;
struct project;
struct sink;
struct provider;

/* What kind of failure a cloud call had: returned (instead of a bare -1)
 * together with its cause, so that callers decide on the kind and never
 * parse a provider's error codes. A provider maps its own codes to these
 * (AWS: aws.c). Every kind is negative, so "!= 0" and "< 0" still mean
 * failed. */
enum cloud_err {
	CLOUD_ERR = -1,		/* final: refused, malformed, denied, ... */
	CLOUD_ENOTFOUND = -2,	/* the resource does not exist (now) */
	CLOUD_EDUPLICATE = -3,	/* it exists already (an answer was lost) */
	CLOUD_EINUSE = -4,	/* another resource still depends on it */
	CLOUD_ETRANSIENT = -5,	/* throttled, HTTP 5xx or no answer after
				 * the call's attempts: try again later */
};

/* One flow in progress. Steps of the same wave run on their own threads:
 * rec and sink are shared and guarded by lock (the journal helpers and the
 * wizard's sink wrapper take it); state is the provider's, each member
 * written by one step and read by later waves only. */
struct cloud_run {
	const struct provider	*provider;
	const struct engine	*engine;	/* where the tasks run */
	void			*session;	/* provider's open() result */
	json_t			*rec;		/* the history record */
	pthread_mutex_t		 lock;		/* guards rec and sink */
	struct sink		*sink;		/* thread-safe */
	json_t			*answers;	/* the create answers */
	const char		*id;		/* run-set id */
	const char		*project;	/* name for the tags */
	void			*state;		/* provider's per-flow state */
	const struct rerun	*rerun;		/* NULL: the engine runs every
						 * input; else only the tasks
						 * the last run left without a
						 * result, merged with it
						 * (run/rerun.h) */
};

/* One step of a flow: runs once all steps named in after are done. */
struct cloud_step {
	const char		*name;		/* shown as progress */
	const char *const	*after;		/* step names, NULL-ended */
	int			(*run)(struct cloud_run *, char **cause);
};

/* The provider's building blocks: each a step table; an engine names the
 * blocks it needs (engine.h) and a create runs the steps of those blocks
 * and the engine's set-up steps in one graph, each as soon as the steps
 * it names in "after" are done (a block's steps may name steps of the
 * blocks it is always used with: FLEET names BASE's). */
enum cloud_block {
	CLOUD_BLOCK_BASE,	/* identity, address, network, image, key pair,
				 * the head's security group (SSH from the
				 * caller's /32) */
	CLOUD_BLOCK_HEAD,	/* one VM, the head ("bastion"): steps
				 * "bastion", "bastion running" */
	CLOUD_BLOCK_FLEET,	/* N compute VMs (answers "nodes") from one
				 * template in a group of their own: ends with
				 * step "nodes running" */
	CLOUD_BLOCK_ROLE,	/* the machines' own identity for the
				 * project's buckets (AWS: an IAM role and its
				 * instance profile): made when the project
				 * reads or writes a bucket, whatever the
				 * engine; the machines' steps wait for it */
	CLOUD_BLOCKS
};

/* What a provider does for one resource kind (its kind_ops table); the
 * generic cloud_kind_* below dispatch on res["kind"] through it. */
struct cloud_kind {
	const char	*kind;			/* NULL ends a table */
	int		(*recover)(struct cloud_run *, json_t *res, char **id,
			    char **cause);
	int		(*exists)(struct cloud_run *, json_t *res,
			    char **cause);
	int		(*destroy)(struct cloud_run *, json_t *res,
			    char **cause);
	int		(*park)(struct cloud_run *, json_t *res,
			    char **cause);	/* NULL: nothing to stop */
	int		(*revive)(struct cloud_run *, json_t *res,
			    char **cause);	/* NULL: nothing to start */
};

struct provider {
	const char	*name;			/* "aws" */
	/* The resource kinds it makes (and finds and deletes), NULL-ended;
	 * a record naming another kind is refused before any change. */
	const char *const *kinds;
	/* A session for region (NULL: the configured one). */
	void		*(*open)(const char *region, char **cause);
	void		 (*close)(void *);
	const char	*(*region)(void *);
	/* {"identity": "...", "resources": [...], "hourly_usd": n}. */
	json_t		*(*plan)(void *, json_t *answers, char **cause);
	/* The steps of each block, each ending with a {NULL} entry (NULL:
	 * the provider lacks the block); state_new/free make and free
	 * cloud_run.state. */
	const struct cloud_step	*blocks[CLOUD_BLOCKS];
	void		*(*state_new)(void);
	void		 (*state_free)(void *);
	/* One entry per kind of kinds (recover, exists, destroy, park,
	 * revive below may be the generic cloud_kind_* that use it). */
	const struct cloud_kind *kind_ops;
	/* For a resource in state intent (crash between the call and the
	 * record): finds it by name, tags or client token. 1 found (id set
	 * in *id), 0 never made, -1 error. */
	int		 (*recover)(struct cloud_run *, json_t *res, char **id,
			     char **cause);
	/* 1 exists, 0 gone, -1 error. */
	int		 (*exists)(struct cloud_run *, json_t *res,
			     char **cause);
	/* Makes a created resource usable again (starts a stopped
	 * bastion, records its new address). */
	int		 (*revive)(struct cloud_run *, json_t *res,
			     char **cause);
	/* Stops what costs money while the run set is kept (stops the
	 * bastion, waiting first for one still booting); other kinds:
	 * nothing. */
	int		 (*park)(struct cloud_run *, json_t *res,
			     char **cause);
	/* A machine's power state as the cloud sees it now: *state
	 * ("running", "stopped", ..., caller frees) and *since, when the
	 * cloud says when it got there (else -1). 0, or -1 with a cause.
	 * NULL: the provider cannot tell. */
	int		 (*power)(struct cloud_run *, json_t *res, char **state,
			     double *since, char **cause);
	/* Deletes one resource; gone counts as done. Waits as needed. */
	int		 (*destroy)(struct cloud_run *, json_t *res,
			     char **cause);
	/* Resources tagged managedBy=fanout: an array of {"kind","id",
	 * "name","region","run_set"}, in deletion order. */
	json_t		*(*tagged)(void *, char **cause);
	/* The provider's regions (NULL-terminated), which the region
	 * question accepts, and the region its settings name (the
	 * question's default), or NULL with a cause. */
	const char *const *regions;
	char		*(*config_region)(char **cause);
	/* The machine types it knows, with their price: an array of
	 * {"name": "c5.large", "hourly_usd": 0.085} (estimates, see the
	 * plan's "prices"), which the instance-type questions offer; NULL
	 * with a cause when it knows none. default_instance_type: what a
	 * create makes when no type is given; default_head_type: a
	 * cluster's head, which runs the scheduler and no task. */
	json_t		*(*instance_types)(char **cause);
	/* Settles the machines that run the tasks before anything is
	 * made: an instance_type answered is checked against the region;
	 * with cpus/memory answered and no type, the cheapest type that
	 * fits is picked. Sets answers "instance_type" and "machine"
	 * ({"type", "vcpus", "memory_gib", "hourly_usd", "spot_hourly_usd",
	 * "why": what was chosen and why, "picked"}); a second call for
	 * the same answers asks nothing again. 0 done; 1 the answers ask
	 * for what the region cannot give (a type it lacks, a size nothing
	 * fits): bad input, *cause says what; -1 failed. */
	int		 (*settle)(void *, json_t *answers, char **cause);
	const char	*default_instance_type;
	const char	*default_head_type;
	/* Inputs and results in the provider's buckets (NULL: it has
	 * none). store_check, before anything is made: lists the project's
	 * inputs (the first files; 0: its limit) and checks its results
	 * bucket, with the user's credentials; -1 with a one-line cause
	 * naming the fix (no such bucket, denied, nothing matches).
	 * store_fetch: the inputs as the hosts get them: their paths there
	 * (relative to the project's tree on the host), their names for
	 * the records (s3://...), the fetch list (a line per object, in the
	 * inputs' order: a host may fetch a share, lines A to B), a shell
	 * script, run in the project's folder on the host, that fetches
	 * the objects of the list file named by the shell variable
	 * fetch_list into store/ there with the host's own credentials
	 * (the machines' role), exiting 1 after an "#error" line when it
	 * cannot; and a line for the log (how many, listed in how many
	 * pages). store_put: a shell script, run in a run's folder on the
	 * head, that copies its results/ folder
	 * to the project's results bucket, printing "#copied URL N". */
	int		 (*store_check)(void *, const struct project *,
			     long files, char **cause);
	int		 (*store_fetch)(void *, const struct project *,
			     long files, char ***paths, char ***names,
			     size_t *n, char **list, char **script,
			     char **summary, char **cause);
	char		*(*store_put)(void *, const struct project *,
			     char **cause);
	/* The bucket scheme of store_* ("s3", "gs"): a project naming
	 * another scheme is refused before anything is made. */
	const char	*store_scheme;
	/* 1: machines go into a zone of the region (GCP). answers "zone"
	 * (menu question "zone", asked only for such a provider; --zone)
	 * names one, checked by settle (exists, is in the region, is up);
	 * none: the provider picks one of the region's zones and records
	 * it as rec["zone"] and on each machine's resource. zone_of: the
	 * region a zone name belongs to ("us-central1-b" -> "us-central1"),
	 * caller frees, NULL when the name is not a zone's; lets --region
	 * take a zone too. */
	int		 zoned;
	char		*(*zone_of)(const char *zone);
	/* 1: create --detach works (the head tears the run set down
	 * itself, wizard/detach.c); 0: refused before anything is made. */
	int		 detach;
};

extern const struct provider provider_aws;
extern const struct provider provider_gcp;	/* gcp-provider.c */

/* The provider ops recover, exists, destroy, park and revive done by the
 * entry of run->provider->kind_ops for res["kind"] (an unknown kind: -1
 * with a cause; park/revive of a kind without them: 0). */
int	 cloud_kind_recover(struct cloud_run *, json_t *res, char **id,
	    char **cause);
int	 cloud_kind_exists(struct cloud_run *, json_t *res, char **cause);
int	 cloud_kind_destroy(struct cloud_run *, json_t *res, char **cause);
int	 cloud_kind_park(struct cloud_run *, json_t *res, char **cause);
int	 cloud_kind_revive(struct cloud_run *, json_t *res, char **cause);

/* The provider called name, or NULL. */
const struct provider	*provider_find(const char *name);
/* The i-th provider of this build (from 0), or NULL past the last. */
const struct provider	*provider_at(size_t i);

/* Journal: each call takes run->lock and saves the record. */
json_t	*cloud_intent(struct cloud_run *, const char *kind, const char *name,
	    const char *token, const char *const *depends_on, char **cause);
int	 cloud_created(struct cloud_run *, json_t *res, const char *id,
	    char **cause);
int	 cloud_deleted(struct cloud_run *, json_t *res, char **cause);
/* rec[key] = value (stolen), not saved until the next journal call. */
void	 cloud_record_put(struct cloud_run *, const char *key, json_t *value);
/* rec[key] = value (stolen), saved. */
int	 cloud_record_set(struct cloud_run *, const char *key, json_t *value,
	    char **cause);
/* res[key] = value (stolen), saved. */
int	 cloud_resource_set(struct cloud_run *, json_t *res, const char *key,
	    json_t *value, char **cause);

/* Notes a machine's power change in res["power"] (an array of
 * {"state": "running"|"stopped", "at": time, "by": "fanout"|"noticed"};
 * none: running since created_at), when it differs from the last noted
 * one. Saved. The cost so far counts each interval at its price
 * ("hourly_usd" running, "stopped_hourly_usd" stopped). */
int	 cloud_power_note(struct cloud_run *, json_t *res, const char *state,
	    double at, const char *by, char **cause);

/* Records a host the run can reach (rec["hosts"], see engine.h): the
 * entry of that name is replaced or added, keeping its "host_key"; its
 * key_file is the run set's (<id>.key beside the record), user the login
 * user of the host's image. Saved. */
int	 cloud_host_put(struct cloud_run *, const char *role, const char *name,
	    const char *instance_id, const char *public_ip,
	    const char *private_ip, const char *user, char **cause);

#define CLOUD_WAIT_SECONDS 600.0	/* default deadline of a wait */
/* A wait: polls until its own deadline ($FANOUT_CLOUD_WAIT seconds, else
 * CLOUD_WAIT_SECONDS), whatever transient errors the polls meet. */
struct cloud_poll {
	double	start;		/* time_mono() at the first poll */
	double	limit;		/* seconds the wait may take */
	double	delay;		/* pause before the next poll (backoff) */
};

/* The deadline of a wait: $FANOUT_CLOUD_WAIT seconds (1 to 86400), else
 * CLOUD_WAIT_SECONDS; -1 with a cause for a bad value. */
int	 cloud_wait_limit(double *, char **cause);
void	 cloud_poll_init(struct cloud_poll *);
/* Pauses before the next poll (0.5 s doubling to 5 s). Returns 0, or -1
 * when the deadline has passed or the sink was cancelled (*why says
 * which: "cancelled" or the wait's length, e.g. "10 minutes"). */
int	 cloud_poll_next(struct cloud_run *, struct cloud_poll *, char **why);

/* The caller's public IPv4 address from $FANOUT_CHECKIP_URL (default
 * https://checkip.amazonaws.com), or NULL with a cause. */
char	*cloud_checkip(char **cause);

#endif
