/* The Compute Engine pieces the GCP steps share (gcp-internal.h): names,
 * labels and requestIds; instances made, read and waited for; firewall
 * rules; zones checked or picked. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "cloud/aws.h"
#include "cloud/gcp.h"
#include "cloud/gcp-internal.h"
#include "cloud/http.h"		/* http_escape: the operations filter */
#include "cloud/provider.h"
#include "event.h"
#include "history/history.h"
#include "util/fs.h"
#include "util/xmalloc.h"

struct gcp *
gcp_of(struct cloud_run *run)
{
	return ((struct gcp_session *)run->session)->g;
}

static struct gcp_state *
state_of(struct cloud_run *run)
{
	return run->state;
}

void *
gcp_state_new(void)
{
	return xcalloc(1, sizeof(struct gcp_state));
}

void
gcp_state_free(void *p)
{
	struct gcp_state *st = p;

	if (st == NULL)
		return;
	free(st->region);
	free(st->zone);
	free(st->cidr);
	free(st->network);
	free(st->image);
	free(st->pubkey);
	free(st->user);
	free(st->tag);
	free(st->sa_email);
	free(st->head_name);
	json_decref(st->node_names);
	json_decref(st->node_ids);
	free(st);
}

const char *
gcp_answer_str(json_t *answers, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(answers, key));

	return s != NULL && *s != '\0' ? s : def;
}

char *
gcp_name(struct cloud_run *run, const char *what)
{
	return xprintf("fanout-%s-%s", run->id, what);
}

char *
gcp_request_id(void)
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof b) != 1)
		abort();	/* no randomness: nothing is safe to make */
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	return xprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

char *
gcp_label_value(const char *s)
{
	char *v = xstrdup(s != NULL ? s : "");
	size_t i;

	for (i = 0; v[i] != '\0'; i++) {
		v[i] = (char)tolower((unsigned char)v[i]);
		if (!islower((unsigned char)v[i]) &&
		    !isdigit((unsigned char)v[i]) && v[i] != '_' &&
		    v[i] != '-')
			v[i] = '-';
	}
	if (i > 63)
		v[63] = '\0';
	return v;
}

json_t *
gcp_labels(struct cloud_run *run, const char *name)
{
	char *id = gcp_label_value(run->id), *pr = gcp_label_value(
	    run->project), *nm = name != NULL ? gcp_label_value(name) : NULL;
	json_t *l;

	l = json_pack("{s:s, s:s, s:s}", "managed-by", "fanout",
	    "fanout-run-set", id, "fanout-project", pr);
	if (nm != NULL)
		json_object_set_new(l, "fanout-name", json_string(nm));
	free(id);
	free(pr);
	free(nm);
	return l;
}

/* Non-zero when word is one of the space-separated words of list. */
static int
gcp_word_in(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = list; (p = strstr(p, word)) != NULL; p += n) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' ||
		    p[n] == '\0'))
			return 1;
	}
	return 0;
}

/* The last element of a URL ("zones/us-central1-b" -> "us-central1-b"). */
static const char *
gcp_tail(const char *s)
{
	const char *p = s != NULL ? strrchr(s, '/') : NULL;

	return p != NULL ? p + 1 : (s != NULL ? s : "");
}

int
gcp_instance_get(struct gcp *g, const char *zone, const char *name,
    json_t **out, char **cause)
{
	char *url = gcp_compute_url(g, "projects/%s/zones/%s/instances/%s",
	    g->project, zone, name);
	int rc = gcp_call(g, "GET", url, NULL, out, cause);

	free(url);
	if (rc == CLOUD_ENOTFOUND) {
		free(*cause);
		*cause = NULL;
		return 0;
	}
	return rc == 0 ? 1 : rc;
}

const char *
gcp_res_zone(struct cloud_run *run, json_t *res, char **cause)
{
	const struct gcp_session *s = run->session;
	const char *zone;
	char *region;
	int ok;

	/* An orphan's run has no record (and no lock set up). */
	if (run->rec != NULL)
		pthread_mutex_lock(&run->lock);
	zone = history_str(res, "zone", NULL);
	if (zone == NULL && run->rec != NULL)
		zone = history_str(run->rec, "zone", NULL);
	if (run->rec != NULL)
		pthread_mutex_unlock(&run->lock);
	region = zone != NULL ? provider_gcp.zone_of(zone) : NULL;
	ok = region != NULL && strcmp(region, s->region) == 0;
	free(region);
	if (!ok) {
		xasprintf(cause, "%s %s: its zone is '%.40s', which is not a "
		    "zone of %s; the record is damaged: move it aside or "
		    "restore it", history_str(res, "kind", "?"),
		    history_str(res, "name", "?"), zone != NULL ? zone :
		    "(none)", s->region);
		return NULL;
	}
	return zone;
}

int
gcp_wait_instance(struct cloud_run *run, const char *step, const char *zone,
    const char *name, const char *want, json_t **out, char **cause)
{
	struct cloud_poll w;
	const char *status;
	char *last = NULL, *failed = NULL, *why;
	json_t *in;
	int rc;

	if (out != NULL)
		*out = NULL;
	cloud_poll_init(&w);
	for (;;) {
		why = NULL;
		in = NULL;
		rc = gcp_instance_get(gcp_of(run), zone, name, &in, &why);
		if (rc == CLOUD_ETRANSIENT) {
			event_log(run->sink, step, "status check of %s failed "
			    "(%s); still waiting", name, why);
			free(failed);
			failed = why;
		} else if (rc < 0) {
			*cause = why;
			break;
		} else {
			free(failed);
			failed = NULL;
			status = rc == 0 ? "gone" : json_string_value(
			    json_object_get(in, "status"));
			if (status == NULL)
				status = "unknown";
			if (last == NULL || strcmp(last, status) != 0) {
				event_log(run->sink, step, "%s is %s", name,
				    status);
				free(last);
				last = xstrdup(status);
			}
			if (gcp_word_in(want, status)) {
				if (out != NULL)
					*out = in;
				else
					json_decref(in);
				rc = 0;
				break;
			}
			json_decref(in);
			if (rc == 0) {
				xasprintf(cause, "instance %s is gone", name);
				rc = -1;
				break;
			}
		}
		if (cloud_poll_next(run, &w, &why) != 0) {
			if (strcmp(why, "cancelled") == 0)
				xasprintf(cause, "cancelled while waiting for "
				    "%s", name);
			else
				xasprintf(cause, "instance %s is still %s after "
				    "%s (waiting for %s)%s%s", name, last != NULL ?
				    last : "unchecked", why, want, failed !=
				    NULL ? "; its last status check failed: " :
				    "", failed != NULL ? failed : "");
			free(why);
			rc = -1;
			break;
		}
	}
	free(failed);
	free(last);
	return rc == 0 ? 0 : -1;
}

/* The instance body of gcp_instance_make. */
static json_t *
gcp_instance_body(struct cloud_run *run, const char *role, const char *name,
    const char *zone, const char *type, const char *const *tags)
{
	struct gcp_state *st = state_of(run);
	json_t *body, *items, *sa;
	char *keys, *mt, *disk;
	size_t i;

	keys = xprintf("%s:%s", st->user, st->pubkey);
	mt = xprintf("zones/%s/machineTypes/%s", zone, type);
	disk = xprintf("zones/%s/diskTypes/pd-balanced", zone);
	items = json_pack("[s]", st->tag);
	for (i = 0; tags != NULL && tags[i] != NULL; i++)
		json_array_append_new(items, json_string(tags[i]));
	sa = st->sa_email != NULL ? json_pack("[{s:s, s:[s]}]", "email",
	    st->sa_email, "scopes", GCP_SCOPE_ALL) : json_array();
	body = json_pack("{s:s, s:s, s:s+, s:[{s:s, s:s, s:b, s:b, s:{s:s, "
	    "s:s, s:i, s:o}}], s:{s:b, s:b, s:b}, s:{s:[{s:s, s:s}, {s:s, "
	    "s:s}]}, s:o, s:{s:o}, s:[{s:s, s:[{s:s, s:s}]}], s:o}",
	    "name", name, "machineType", mt,
	    "description", "fanout run set ", run->id,
	    "disks", "type", "PERSISTENT", "mode", "READ_WRITE", "boot", 1,
	    "autoDelete", 1, "initializeParams", "sourceImage", st->image,
	    "diskType", disk, "diskSizeGb", GCP_DISK_GB, "labels",
	    gcp_labels(run, name),
	    "shieldedInstanceConfig", "enableSecureBoot", 1, "enableVtpm", 1,
	    "enableIntegrityMonitoring", 1,
	    "metadata", "items", "key", "ssh-keys", "value", keys, "key",
	    "block-project-ssh-keys", "value", "true",
	    "labels", gcp_labels(run, name),
	    "tags", "items", items,
	    "networkInterfaces", "network", st->network, "accessConfigs",
	    "type", "ONE_TO_ONE_NAT", "name", "External NAT",
	    "serviceAccounts", sa);
	/* Spot (docs/cloud.md): stopped, not deleted, when Google takes
	 * the capacity back, so that resume starts the machine again and
	 * the disk keeps what the run made. A cluster's head: on demand. */
	if (gcp_spot(run->answers) && strcmp(role, "head") != 0)
		json_object_set_new(body, "scheduling", json_pack("{s:s, s:s, "
		    "s:b, s:s}", "provisioningModel", "SPOT",
		    "instanceTerminationAction", "STOP", "automaticRestart", 0,
		    "onHostMaintenance", "TERMINATE"));
	free(keys);
	free(mt);
	free(disk);
	return body;
}

/* Sets the facts of a machine's resource before it is made. */
static int
gcp_instance_facts(struct cloud_run *run, json_t *res, const char *role,
    const char *zone, const char *type, char **cause)
{
	struct gcp_state *st = state_of(run);
	double price = gcp_type_hourly(run->answers, type);

	if (cloud_resource_set(run, res, "zone", json_string(zone),
	    cause) != 0 ||
	    cloud_resource_set(run, res, "instance_type", json_string(type),
	    cause) != 0 ||
	    cloud_resource_set(run, res, "role", json_string(strcmp(role,
	    "node") == 0 ? "compute" : "head"), cause) != 0 ||
	    cloud_resource_set(run, res, "login_user", json_string(st->user),
	    cause) != 0 ||
	    cloud_resource_set(run, res, "hourly_usd", json_real((price > 0 ?
	    price : 0) + GCP_DISK_HOURLY + GCP_IPV4_HOURLY), cause) != 0 ||
	    cloud_resource_set(run, res, "stopped_hourly_usd",
	    json_real(GCP_STOPPED_HOURLY), cause) != 0)
		return -1;
	if (gcp_spot(run->answers) && strcmp(role, "head") != 0 &&
	    cloud_resource_set(run, res, "spot", json_string("stop"),
	    cause) != 0)
		return -1;
	return 0;
}

int
gcp_instance_make(struct cloud_run *run, const char *role, const char *name,
    const char *type, const char *const *tags, json_t **resp, char **cause)
{
	static const char *const deps[] = { "ssh_key", "firewall", NULL };
	static const char *const deps_sa[] = { "ssh_key", "firewall",
	    "service_account", NULL };
	struct gcp_state *st = state_of(run);
	struct gcp *g = gcp_of(run);
	const char *zone = st->zone, *token;
	char *rid = gcp_request_id(), *url = NULL;
	json_t *res, *body = NULL, *op = NULL, *in = NULL;
	int rc = -1;

	if ((res = cloud_intent(run, "instance", name, rid, st->sa_email !=
	    NULL ? deps_sa : deps, cause)) == NULL)
		goto out;
	if (resp != NULL)
		*resp = res;
	pthread_mutex_lock(&run->lock);
	token = history_str(res, "token", rid);
	if (strcmp(history_str(res, "state", ""), "created") == 0)
		rc = 0;
	pthread_mutex_unlock(&run->lock);
	if (rc == 0)
		goto out;
	/* The intent's own requestId, when an earlier attempt made it. */
	if (token != rid) {
		free(rid);
		rid = xstrdup(token);
	}
	if (gcp_instance_facts(run, res, role, zone, type, cause) != 0)
		goto out;
	body = gcp_instance_body(run, role, name, zone, type, tags);
	url = gcp_compute_url(g, "projects/%s/zones/%s/instances?requestId=%s",
	    g->project, zone, rid);
	event_log(run->sink, strcmp(role, "node") == 0 ? "nodes" : "bastion",
	    "making %s (%s in %s)", name, type, zone);
	if (gcp_call(g, "POST", url, body, &op, cause) != 0 ||
	    gcp_operation_wait(g, op, NULL, cause) != 0) {
		if (*cause != NULL && strstr(*cause, "QUOTA_EXCEEDED") != NULL) {
			char *c = *cause;

			xasprintf(cause, "%s; ask for more quota (`gcloud "
			    "compute regions describe %s` shows it) or choose "
			    "a smaller machine type or another region", c,
			    st->region != NULL ? st->region : "REGION");
			free(c);
		}
		goto out;
	}
	if ((rc = gcp_instance_get(g, zone, name, &in, cause)) != 1) {
		if (rc == 0)
			xasprintf(cause, "instance %s is not there after its "
			    "insert was done", name);
		rc = -1;
		goto out;
	}
	rc = cloud_created(run, res, json_string_value(json_object_get(in,
	    "id")) != NULL ? json_string_value(json_object_get(in, "id")) :
	    name, cause);
out:
	json_decref(in);
	json_decref(op);
	json_decref(body);
	free(url);
	free(rid);
	return rc;
}

int
gcp_instance_running(struct cloud_run *run, json_t *res, const char *role,
    const char *host_name, char **cause)
{
	const char *zone, *pub, *priv, *user, *step;
	char *name, *id;
	json_t *in, *nic;
	int rc;

	if ((zone = gcp_res_zone(run, res, cause)) == NULL)
		return -1;
	pthread_mutex_lock(&run->lock);
	name = xstrdup(history_str(res, "name", ""));
	id = xstrdup(history_str(res, "id", ""));
	user = history_str(res, "login_user", GCP_LOGIN_USER);
	pthread_mutex_unlock(&run->lock);
	step = strcmp(role, "head") == 0 ? "bastion running" : "nodes running";
	rc = gcp_wait_instance(run, step, zone, name, "RUNNING", &in,
	    cause);
	if (rc == 0) {
		nic = json_array_get(json_object_get(in, "networkInterfaces"),
		    0);
		priv = json_string_value(json_object_get(nic, "networkIP"));
		pub = json_string_value(json_object_get(json_array_get(
		    json_object_get(nic, "accessConfigs"), 0), "natIP"));
		if (cloud_resource_set(run, res, "public_ip", pub != NULL ?
		    json_string(pub) : json_null(), cause) != 0 ||
		    cloud_resource_set(run, res, "private_ip", priv != NULL ?
		    json_string(priv) : json_null(), cause) != 0 ||
		    cloud_host_put(run, role, host_name, id, pub, priv, user,
		    cause) != 0)
			rc = -1;
		else
			event_log(run->sink, step, "%s at %s", name,
			    pub != NULL ? pub : "(no external address)");
		json_decref(in);
	}
	free(name);
	free(id);
	return rc;
}

int
gcp_firewall_make(struct cloud_run *run, const char *name, json_t *rest,
    json_t **resp, char **cause)
{
	struct gcp_state *st = state_of(run);
	struct gcp *g = gcp_of(run);
	char *rid = gcp_request_id(), *url = NULL, *desc;
	json_t *res, *body = NULL, *op = NULL, *fw = NULL;
	int rc = -1;

	if ((res = cloud_intent(run, "firewall", name, rid, NULL,
	    cause)) == NULL)
		goto out;
	if (resp != NULL)
		*resp = res;
	pthread_mutex_lock(&run->lock);
	if (strcmp(history_str(res, "state", ""), "created") == 0)
		rc = 0;
	else if (strcmp(history_str(res, "token", rid), rid) != 0) {
		free(rid);
		rid = xstrdup(history_str(res, "token", ""));
	}
	pthread_mutex_unlock(&run->lock);
	if (rc == 0)
		goto out;
	desc = xprintf(GCP_FW_DESCRIPTION "%s", run->id);
	body = json_deep_copy(rest);
	json_object_set_new(body, "name", json_string(name));
	json_object_set_new(body, "network", json_string(st->network));
	json_object_set_new(body, "direction", json_string("INGRESS"));
	json_object_set_new(body, "description", json_string(desc));
	free(desc);
	url = gcp_compute_url(g, "projects/%s/global/firewalls?requestId=%s",
	    g->project, rid);
	if (gcp_call(g, "POST", url, body, &op, cause) != 0 ||
	    gcp_operation_wait(g, op, NULL, cause) != 0)
		goto out;
	free(url);
	url = gcp_compute_url(g, "projects/%s/global/firewalls/%s",
	    g->project, name);
	if (gcp_call(g, "GET", url, NULL, &fw, cause) != 0)
		goto out;
	rc = cloud_created(run, res, json_string_value(json_object_get(fw,
	    "id")) != NULL ? json_string_value(json_object_get(fw, "id")) :
	    name, cause);
out:
	json_decref(fw);
	json_decref(op);
	json_decref(body);
	free(url);
	free(rid);
	return rc;
}

/* Zones ---------------------------------------------------------------- */

int
gcp_zone_settle(struct gcp_session *s, const char *zone, char **picked,
    char **cause)
{
	struct gcp *g = s->g;
	json_t *z = NULL, *list = NULL, *v;
	char *url, *region;
	const char *status;
	size_t i;
	int rc;

	if (picked != NULL)
		*picked = NULL;
	if (zone != NULL) {
		region = provider_gcp.zone_of(zone);
		if (region == NULL || strcmp(region, s->region) != 0) {
			xasprintf(cause, "zone %s is not in region %s; choose "
			    "a zone of %s (e.g. %s-b) or leave --zone out",
			    zone, s->region, s->region, s->region);
			free(region);
			return 1;
		}
		free(region);
		url = gcp_compute_url(g, "projects/%s/zones/%s", g->project,
		    zone);
		rc = gcp_call(g, "GET", url, NULL, &z, cause);
		free(url);
		if (rc == CLOUD_ENOTFOUND) {
			free(*cause);
			xasprintf(cause, "zone %s does not exist in project %s; "
			    "`gcloud compute zones list` shows them", zone,
			    g->project);
			return 1;
		}
		if (rc != 0)
			return -1;
		status = json_string_value(json_object_get(z, "status"));
		if (status == NULL || strcmp(status, "UP") != 0 ||
		    strcmp(gcp_tail(json_string_value(json_object_get(z,
		    "region"))), s->region) != 0) {
			xasprintf(cause, "zone %s is %s; choose another zone "
			    "of %s (`gcloud compute zones list`)", zone,
			    status != NULL ? status : "not usable", s->region);
			json_decref(z);
			return 1;
		}
		json_decref(z);
		if (picked != NULL)
			*picked = xstrdup(zone);
		return 0;
	}
	url = gcp_compute_url(g, "projects/%s/zones", g->project);
	rc = gcp_call(g, "GET", url, NULL, &list, cause);
	free(url);
	if (rc != 0)
		return -1;
	json_array_foreach(json_object_get(list, "items"), i, v) {
		if (strcmp(gcp_tail(json_string_value(json_object_get(v,
		    "region"))), s->region) == 0 && strcmp(history_str(v,
		    "status", ""), "UP") == 0 && json_is_string(
		    json_object_get(v, "name"))) {
			if (picked != NULL)
				*picked = xstrdup(history_str(v, "name", ""));
			json_decref(list);
			return 0;
		}
	}
	json_decref(list);
	xasprintf(cause, "region %s has no zone that is UP in project %s; "
	    "choose another region (`gcloud compute zones list`)", s->region,
	    g->project);
	return 1;
}

/* Inserts in flight ---------------------------------------------------- */

int
gcp_insert_settle(struct cloud_run *run, json_t *res, char **cause)
{
	struct gcp *g = gcp_of(run);
	const char *kind, *zone = NULL;
	char *rid, *flt, *esc, *url, *why = NULL;
	json_t *list = NULL, *op;
	int rc;

	pthread_mutex_lock(&run->lock);
	kind = history_str(res, "kind", "");
	rid = xstrdup(history_str(res, "token", ""));
	rc = strcmp(kind, "instance") == 0 ? 1 :
	    strcmp(kind, "firewall") == 0 ? 0 : -1;
	pthread_mutex_unlock(&run->lock);
	/* A requestId fanout made is a UUID: anything else read from the
	 * record is not sent. */
	if (rc < 0 || *rid == '\0' || strlen(rid) > 64 ||
	    rid[strspn(rid, "0123456789abcdef-")] != '\0') {
		free(rid);
		return 0;
	}
	if (rc == 1 && (zone = gcp_res_zone(run, res, cause)) == NULL) {
		free(rid);
		return -1;
	}
	flt = xprintf("clientOperationId = \"%s\"", rid);
	esc = http_escape(flt);
	if (zone != NULL)
		url = gcp_compute_url(g, "projects/%s/zones/%s/operations?"
		    "filter=%s", g->project, zone, esc);
	else
		url = gcp_compute_url(g, "projects/%s/global/operations?"
		    "filter=%s", g->project, esc);
	free(esc);
	free(flt);
	free(rid);
	rc = gcp_call(g, "GET", url, NULL, &list, &why);
	free(url);
	if (rc == CLOUD_ERR) {
		/* The filter refused: no worse than not looking. */
		free(why);
		return 0;
	}
	if (rc != 0) {
		*cause = why;
		return -1;
	}
	why = NULL;
	op = json_array_get(json_object_get(list, "items"), 0);
	if (!json_is_object(op)) {
		json_decref(list);
		return 0;
	}
	/* Its outcome is the resource's: an insert that failed made
	 * nothing, which the caller's look-up then finds. */
	if (gcp_operation_wait(g, op, NULL, &why) == CLOUD_ETRANSIENT) {
		*cause = why;
		json_decref(list);
		return -1;
	}
	free(why);
	json_decref(list);
	return 1;
}
