/* Shared by the Google Cloud provider's files: gcp-provider.c (the ops
 * table, resume, teardown, orphans), gcp-steps.c (the base and head
 * create steps), gcp-machine.c (machine types and prices), and the blocks
 * other files add: gcp-fleet.c (CLOUD_BLOCK_FLEET: the slurm nodes and the
 * cluster-internal firewall rule), gcp-role.c (CLOUD_BLOCK_ROLE: the
 * machines' service account and its bucket bindings).
 *
 * Names. Every resource of a run set is named "fanout-<id>-<what>" (the
 * id is "fo-YYYYMMDD-xxxx", lowercase: a valid RFC 1035 name part); the
 * record's resource has the same name as the cloud's:
 *   instances  fanout-<id>-bastion (the head block's machine, for both
 *              engines, as on AWS), fanout-<id>-node<N> (gcpfleet); the
 *              host each is recorded as is the name without
 *              "fanout-<id>-" ("bastion", "node1"), which revive uses
 *   firewalls  fanout-<id>-ssh (tcp:22 from the caller's /32 to the head's tag fanout-<id>-head),
 *              fanout-<id>-internal (gcpfleet: the cluster's own traffic)
 *   ssh_key    fanout-<id>-key (the local key file; its id "fanout-<id>")
 * Instances carry gcp_labels(); firewall rules cannot carry labels: they
 * are known by the "fanout-fo-" name prefix and a description that names
 * the run set ("fanout run set <id>", GCP_FW_DESCRIPTION).
 *
 * Journal. Every insert is: gcp_request_id() -> cloud_intent(kind, name,
 * token = that requestId) [-> zone on the resource for zonal kinds] ->
 * insert with ?requestId= -> gcp_operation_wait -> cloud_created(id).
 * Compute Engine runs a repeated insert with the same requestId once, so a
 * retried call never makes two; recover() finds a resource in intent by
 * its name (names are unique per project/zone). */
#ifndef FANOUT_CLOUD_GCP_INTERNAL_H
#define FANOUT_CLOUD_GCP_INTERNAL_H

#include <jansson.h>

#include "cloud/gcp.h"
#include "cloud/provider.h"

/* The machines that run the tasks: e2-standard-2 (2 vCPUs, 8 GB,
 * $0.067/h in us-central1). Not a shared-core type: e2-micro/small/medium
 * get a fraction of a vCPU under sustained load (a quarter to a half)
 * and 1-4 GB, too little for a pip install and slower per dollar for a
 * busy run. E2 is the cheapest family with whole vCPUs, and offered in
 * every region. */
#define GCP_DEFAULT_TYPE "e2-standard-2"
/* A cluster's head runs slurmctld and munged only: e2-small (2 shared
 * vCPUs, 2 GB). answers "head_instance_type" says otherwise. */
#define GCP_HEAD_TYPE "e2-small"
#define GCP_DEFAULT_REGION "us-central1"
#define GCP_LOGIN_USER "fanout"	/* the user of the ssh-keys entry */
#define GCP_IMAGE_PROJECT "debian-cloud"
#define GCP_IMAGE_FAMILY "debian-12"
#define GCP_DISK_GB 30		/* boot disk, pd-balanced */
/* 30 GB pd-balanced at $0.10/GB-month, 730 h a month. */
#define GCP_DISK_HOURLY (GCP_DISK_GB * 0.10 / 730)
#define GCP_IPV4_HOURLY 0.005	/* an external IPv4 address in use */
/* A stopped (TERMINATED) instance: its disk only. */
#define GCP_STOPPED_HOURLY GCP_DISK_HOURLY
#define GCP_SCOPE_ALL "https://www.googleapis.com/auth/cloud-platform"
/* Firewall rules carry no labels: their description names the run set. */
#define GCP_FW_DESCRIPTION "fanout run set "
#define GCP_NAME_PREFIX "fanout-fo-"

/* provider.open's result (cloud_run.session). */
struct gcp_session {
	struct gcp	*g;		/* credentials, project, endpoints */
	char		*region;	/* "us-central1" */
};

/* The session's REST handle (run->session's g). */
struct gcp	*gcp_of(struct cloud_run *);

/* What the create steps hand to later steps (cloud_run.state). Each
 * member is written by one step (named) and read by later waves only. */
struct gcp_state {
	char	*region;	/* the session's region (state_new: NULL;
				 * set by "identity") */
	char	*zone;		/* "us-central1-b": where the machines go
				 * ("zone": answers "zone" checked, or the
				 * region's first UP zone; also rec["zone"]) */
	char	*cidr;		/* SSH source "a.b.c.d/32" ("public
				 * address"; "0.0.0.0/0" with ssh_anywhere) */
	char	*network;	/* selfLink of network "default" ("network") */
	char	*image;		/* selfLink of the newest debian-12 of
				 * debian-cloud ("image") */
	char	*pubkey;	/* "ssh-ed25519 AAAA... fanout-<id>" ("ssh
				 * key"; the private half is
				 * history_file(id, ".key"), 0600) */
	char	*user;		/* login user in ssh-keys (GCP_LOGIN_USER) */
	char	*tag;		/* the run set's network tag "fanout-<id>":
				 * every machine has it, the SSH rule
				 * targets it */
	char	*sa_email;	/* the machines' service account (the role
				 * block, gcp-role.c, sets it before the
				 * machines' steps); NULL: instances get no
				 * service account (serviceAccounts: []) */
	char	*head_name;	/* the head instance's name
				 * ("fanout-<id>-bastion"; step "bastion") */
	json_t	*node_names;	/* the nodes' instance names, node1 first
				 * (gcp-fleet.c) */
	json_t	*node_ids;	/* the nodes' instance ids (gcp-fleet.c) */
};

void	*gcp_state_new(void);
void	 gcp_state_free(void *);

/* answers[key] as a string, or def. */
const char *gcp_answer_str(json_t *answers, const char *key,
	    const char *def);

/* "fanout-<id>-<what>", caller frees. */
char	*gcp_name(struct cloud_run *, const char *what);

/* A fresh requestId (a random UUID v4), caller frees. */
char	*gcp_request_id(void);

/* A label value: lowercase, [a-z0-9_-] (others become '-'), at most 63
 * characters; caller frees. */
char	*gcp_label_value(const char *s);

/* The labels of a resource of run: {"managed-by": "fanout",
 * "fanout-run-set": "<id>", "fanout-project": "<label-safe project>",
 * "fanout-name": "<label-safe name>"} (name may be NULL: left out). New
 * reference. */
json_t	*gcp_labels(struct cloud_run *, const char *name);

/* Makes instance name (its resource: kind "instance", that name) in
 * state->zone, depending on "ssh_key" and "firewall" (and
 * "service_account" when sa_email is set): intent with a fresh requestId
 * as token, "zone", "instance_type", "role" ("head" for role
 * "bastion"/"head", else "compute"), "login_user", "hourly_usd", "stopped_hourly_usd" on the
 * resource, all saved BEFORE the insert; then instances.insert?requestId=
 * with body: machineType, Debian 12 image (state->image), a 30 GB
 * pd-balanced autoDelete boot disk, shieldedInstanceConfig (secure boot,
 * vTPM, integrity monitoring), metadata items ssh-keys "USER:PUBKEY" and
 * block-project-ssh-keys "true", labels, tags {items: [state->tag,
 * tags...]} (tags: extra network tags, NULL-ended, may be NULL), one
 * networkInterface on state->network with a ONE_TO_ONE_NAT accessConfig,
 * serviceAccounts [{email: state->sa_email, scopes: [cloud-platform]}] or
 * [] when sa_email is NULL; spot answers: provisioningModel SPOT,
 * instanceTerminationAction STOP, automaticRestart false,
 * onHostMaintenance TERMINATE (not for role "head": a cluster's head is
 * on demand); resource "spot": "stop". The operation is waited to DONE
 * (its error is the cause), then the instance read for its id:
 * cloud_created(id). role: "bastion", "head" or "node" (also the name
 * of the progress events). *res (may be NULL) gets the resource. A
 * resource already created under the name (a resumed create) is taken
 * as it is. 0, or -1 with a cause. */
int	 gcp_instance_make(struct cloud_run *, const char *role,
	    const char *name, const char *machine_type,
	    const char *const *tags, json_t **res, char **cause);

/* Waits (instances.get, polling to the deadline of a wait:
 * FANOUT_CLOUD_WAIT, honouring cancel, through transient errors) until
 * the instance of res is RUNNING, then records its public_ip and
 * private_ip on res and the host host_name (role: "head" or "compute")
 * with cloud_host_put. Progress events go to step "bastion running"
 * (role "head") or "nodes running". 0, or -1 with a cause. */
int	 gcp_instance_running(struct cloud_run *, json_t *res,
	    const char *role, const char *host_name, char **cause);

/* Makes firewall rule name on state->network: intent (kind "firewall",
 * token a fresh requestId) first, then firewalls.insert?requestId= with
 * body_rest's members (allowed, sourceRanges / sourceTags, targetTags,
 * ...; borrowed, not changed) plus name, network, direction INGRESS and
 * description GCP_FW_DESCRIPTION "<id>"; the operation waited to DONE;
 * cloud_created(id). "ingress" is set on the resource by the caller
 * (history's shape: [{"protocol", "port", "cidr" | "group"}]). *res (may
 * be NULL) gets the resource. 0, or -1 with a cause. */
int	 gcp_firewall_make(struct cloud_run *, const char *name,
	    json_t *body_rest, json_t **res, char **cause);

/* For a resource in intent that its look-up did not find: the insert may
 * have been sent and its operation not be done yet (a crash while it
 * ran; Compute Engine runs it to its end all the same). Finds the
 * operation that carries the intent's requestId (token; the operation's
 * clientOperationId) among the zone's (instance) or global (firewall)
 * operations and waits for it to end. 1 there was one (done now, made or
 * not), 0 none (or a kind without compute operations), -1 with a cause.
 * (gcp-compute.c) */
int	 gcp_insert_settle(struct cloud_run *, json_t *res, char **cause);

/* The zone a resource lives in (res["zone"], else rec["zone"]), checked
 * to be a zone of the run's region; NULL with a cause. */
const char *gcp_res_zone(struct cloud_run *, json_t *res, char **cause);

/* An instance as instances.get answers it: 1 with *out (new reference),
 * 0 not found, or an enum cloud_err with a cause. */
int	 gcp_instance_get(struct gcp *, const char *zone, const char *name,
	    json_t **out, char **cause);

/* What each kind of resource needs done, the provider's kind table
 * (gcp-provider.c: gcp_kind_table, and gcp_kinds beside it, which
 * provider.kinds is: add the name there too). A branch adds a kind with
 * one line there and its functions in its own file, declared here:
 *   { "service_account", gcp_recover_sa, gcp_exists_sa, gcp_destroy_sa,
 *     NULL, NULL },
 * recover: for a resource in intent: 1 found (*id set), 0 never made,
 * -1; exists: 1 / 0 gone / -1; destroy: gone counts as done, waits;
 * park/revive: NULL = nothing to do for the kind (struct cloud_kind,
 * provider.h). The table's order is the kinds' order in provider.kinds. */

/* The blocks' steps. BASE (gcp-steps.c): "identity", "public address",
 * "zone", "network", "image", "ssh key" at once, then "firewall" (after
 * them all). HEAD (gcp-steps.c): "bastion" (after "ssh key", "firewall",
 * and "service account" when the role block runs), "bastion running".
 * FLEET (gcp-fleet.c) ends with "nodes running"; ROLE (gcp-role.c) names
 * its step "service account" and sets state->sa_email. */
extern const struct cloud_step gcp_base_steps[];
extern const struct cloud_step gcp_head_steps[];
extern const struct cloud_step gcp_fleet_steps[];	/* gcp-fleet.c */

/* Machine types and prices (gcp-machine.c, data/gcp-prices.json). */
/* On-demand hourly USD price of a machine type, or -1 when unknown. */
double	 gcp_price(const char *type);
/* Its spot price, or -1. */
double	 gcp_spot_price(const char *type);
/* "estimates: us-central1 on-demand prices of DATE (...)", or NULL with
 * a cause. */
char	*gcp_prices_note(char **cause);
/* provider.instance_types. */
json_t	*gcp_price_list(char **cause);
/* provider.plan: identity, the resources with their hourly prices. */
json_t	*gcp_plan(void *, json_t *answers, char **cause);
/* provider.settle (answers "zone" too: checked, or picked and set). */
int	 gcp_machine_settle(void *, json_t *answers, char **cause);
/* The hourly price of one machine of type for answers (spot when asked),
 * -1 when unknown. */
double	 gcp_type_hourly(json_t *answers, const char *type);
/* Non-zero when answers ask for spot machines. */
int	 gcp_spot(json_t *answers);

/* The zone gcloud's settings name (CLOUDSDK_COMPUTE_ZONE, else [compute]
 * zone of the active configuration) when it is one of region's, else
 * NULL; caller frees (gcp-provider.c). */
char	*gcp_config_zone(const char *region);

/* The credentials can use the project (projects.get): 0; 1 (bad input)
 * with one line naming the account, its own project and the one asked
 * for; -1 failed (gcp-steps.c). */
int	 gcp_project_check(struct gcp *, char **cause);

/* Zones (gcp-compute.c). Checks zone for the session's region: 0 it exists
 * in the project, is in the region and is UP; 1 bad input (*cause says
 * what: "zone X does not exist in project P; `gcloud compute zones list`
 * shows them"); -1 failed. With zone NULL, picks the region's first UP
 * zone into *picked. */
int	 gcp_zone_settle(struct gcp_session *, const char *zone,
	    char **picked, char **cause);

/* Waits (instances.get) until an instance's status is one of want
 * (space-separated: "RUNNING", "TERMINATED", "gone"); fills *out (may be
 * NULL). step names the progress events. */
int	 gcp_wait_instance(struct cloud_run *, const char *step,
	    const char *zone, const char *name, const char *want,
	    json_t **out, char **cause);

#endif
