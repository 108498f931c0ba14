/* The Google Cloud create steps: identity, public address, zone, network,
 * image and the run set's SSH key at once; then the SSH firewall rule
 * (the base block); then the bastion, and the wait until it runs (the
 * head block). The blocks' step tables are at the end. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cloud/gcp.h"
#include "cloud/gcp-auth.h"
#include "cloud/gcp-internal.h"
#include "cloud/provider.h"
#include "engine/engine.h"
#include "event.h"
#include "history/history.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

static struct gcp_state *
state_of(struct cloud_run *run)
{
	return run->state;
}

/* The project part of a service account's e-mail
 * ("x@PROJECT.iam.gserviceaccount.com"), or NULL; caller frees. */
static char *
gcp_account_project(const char *email)
{
	const char *at = email != NULL ? strchr(email, '@') : NULL;
	const char *dot;

	if (at == NULL || (dot = strstr(at, ".iam.gserviceaccount.com")) ==
	    NULL)
		return NULL;
	return xprintf("%.*s", (int)(dot - at - 1), at + 1);
}

int
gcp_project_check(struct gcp *g, char **cause)
{
	const char *account = gcp_auth_account(g->auth);
	char *url, *why = NULL, *home;
	json_t *proj = NULL;
	int rc;

	url = gcp_compute_url(g, "projects/%s", g->project);
	rc = gcp_call(g, "GET", url, NULL, &proj, &why);
	free(url);
	json_decref(proj);
	if (rc == CLOUD_ERR || rc == CLOUD_ENOTFOUND) {
		/* Denied, or no such project: the key's project and the one
		 * asked for, in one line. */
		home = gcp_account_project(account);
		if (home != NULL && strcmp(home, g->project) != 0)
			xasprintf(cause, "the credentials of %s (project %s) "
			    "cannot use project %s: %s; set "
			    "CLOUDSDK_CORE_PROJECT or use a key of %s",
			    account, home, g->project, why, g->project);
		else
			xasprintf(cause, "the credentials of %s cannot use "
			    "project %s: %s; check the project ID "
			    "(CLOUDSDK_CORE_PROJECT) and the account's roles",
			    account != NULL ? account :
			    "your gcloud user", g->project, why);
		free(home);
		free(why);
		return 1;
	}
	if (rc != 0) {
		*cause = why;
		return -1;
	}
	return 0;
}

static int
step_identity(struct cloud_run *run, char **cause)
{
	struct gcp *g = gcp_of(run);
	const char *account = gcp_auth_account(g->auth);

	if (gcp_project_check(g, cause) != 0)
		return -1;
	event_log(run->sink, "identity", "%s, project %s", account != NULL ?
	    account : "your gcloud user credentials", g->project);
	cloud_record_put(run, "identity", json_pack("{s:s, s:s, s:s}",
	    "account", account != NULL ? account : "gcloud user credentials",
	    "project", g->project, "source", gcp_auth_source(g->auth)));
	return 0;
}

static int
step_checkip(struct cloud_run *run, char **cause)
{
	struct gcp_state *st = state_of(run);
	char *ip, *why = NULL;

	if ((ip = cloud_checkip(&why)) == NULL) {
		if (!json_is_true(json_object_get(run->answers,
		    "ssh_anywhere"))) {
			xasprintf(cause, "%s; nothing was created. Retry, set "
			    "FANOUT_CHECKIP_URL, or allow SSH from anywhere "
			    "(--ssh-anywhere)", why);
			free(why);
			return -1;
		}
		event_log(run->sink, "public address", "%s; SSH will be open "
		    "to 0.0.0.0/0 as asked", why);
		free(why);
		st->cidr = xstrdup("0.0.0.0/0");
	} else {
		st->cidr = xprintf("%s/32", ip);
		free(ip);
	}
	cloud_record_put(run, "ssh_cidr", json_string(st->cidr));
	return 0;
}

static int
step_zone(struct cloud_run *run, char **cause)
{
	struct gcp_state *st = state_of(run);
	struct gcp_session *s = run->session;
	const char *zone = gcp_answer_str(run->answers, "zone", NULL);
	int rc;

	st->region = xstrdup(s->region);
	if (zone == NULL)	/* the one the settling picked */
		zone = gcp_answer_str(json_object_get(run->answers,
		    "machine"), "zone", NULL);
	if ((rc = gcp_zone_settle(s, zone, &st->zone, cause)) == 1 &&
	    zone != NULL && gcp_answer_str(run->answers, "zone", NULL) ==
	    NULL) {
		/* The picked one went down since: another. */
		free(*cause);
		*cause = NULL;
		rc = gcp_zone_settle(s, NULL, &st->zone, cause);
	}
	if (rc != 0)
		return -1;
	event_log(run->sink, "zone", "%s (%s)", st->zone,
	    gcp_answer_str(run->answers, "zone", NULL) != NULL ? "as chosen" :
	    zone != NULL ? "picked by fanout: no zone was given" :
	    "the first zone of the region that is up");
	cloud_record_put(run, "zone", json_string(st->zone));
	return 0;
}

static int
step_network(struct cloud_run *run, char **cause)
{
	struct gcp_state *st = state_of(run);
	struct gcp *g = gcp_of(run);
	char *url, *why = NULL;
	json_t *net = NULL;
	int rc;

	url = gcp_compute_url(g, "projects/%s/global/networks/default",
	    g->project);
	rc = gcp_call(g, "GET", url, NULL, &net, &why);
	free(url);
	if (rc == CLOUD_ENOTFOUND) {
		xasprintf(cause, "project %s has no network 'default': %s; "
		    "make one with `gcloud compute networks create default "
		    "--subnet-mode=auto`", g->project, why);
		free(why);
		return -1;
	}
	if (rc != 0) {
		*cause = why;
		return -1;
	}
	if (!json_is_string(json_object_get(net, "selfLink"))) {
		xasprintf(cause, "network default of %s: the answer has no "
		    "selfLink", g->project);
		json_decref(net);
		return -1;
	}
	st->network = xstrdup(history_str(net, "selfLink", ""));
	json_decref(net);
	cloud_record_put(run, "network", json_pack("{s:s}", "network",
	    st->network));
	return 0;
}

static int
step_image(struct cloud_run *run, char **cause)
{
	struct gcp_state *st = state_of(run);
	struct gcp *g = gcp_of(run);
	char *url;
	json_t *img = NULL;
	int rc;

	url = gcp_compute_url(g, "projects/%s/global/images/family/%s",
	    GCP_IMAGE_PROJECT, GCP_IMAGE_FAMILY);
	rc = gcp_call(g, "GET", url, NULL, &img, cause);
	free(url);
	if (rc != 0)
		return -1;
	if (!json_is_string(json_object_get(img, "selfLink"))) {
		xasprintf(cause, "image family %s of %s: the answer has no "
		    "selfLink", GCP_IMAGE_FAMILY, GCP_IMAGE_PROJECT);
		json_decref(img);
		return -1;
	}
	st->image = xstrdup(history_str(img, "selfLink", ""));
	event_log(run->sink, "image", "Debian 12: %s", history_str(img, "name",
	    "?"));
	json_decref(img);
	cloud_record_put(run, "image", json_string(st->image));
	return 0;
}

/* SSH key --------------------------------------------------------------- */

static void
sb_u32(struct strbuf *sb, unsigned v)
{
	strbuf_addc(sb, (char)(v >> 24));
	strbuf_addc(sb, (char)(v >> 16));
	strbuf_addc(sb, (char)(v >> 8));
	strbuf_addc(sb, (char)v);
}

/* An SSH "string": length, then the bytes. */
static void
sb_str(struct strbuf *sb, const void *p, size_t n)
{
	sb_u32(sb, (unsigned)n);
	strbuf_add(sb, p, n);
}

static char *
b64(const void *p, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

/* A new ed25519 key: the private key in OpenSSH's format
 * (PROTOCOL.key: "openssh-key-v1", not encrypted), which OpenSSH and
 * libssh2 read, and the public line "ssh-ed25519 AAAA... comment". */
static int
gcp_ssh_key(const char *comment, char **priv, char **pub, char **cause)
{
	unsigned char sk[32], pk[32], check[4];
	size_t skn = sizeof sk, pkn = sizeof pk, i;
	struct strbuf blob, inner, all, pem;
	EVP_PKEY *key = NULL;
	EVP_PKEY_CTX *ctx;
	char *enc;

	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0 ||
	    EVP_PKEY_keygen(ctx, &key) <= 0 ||
	    EVP_PKEY_get_raw_private_key(key, sk, &skn) <= 0 ||
	    EVP_PKEY_get_raw_public_key(key, pk, &pkn) <= 0 ||
	    RAND_bytes(check, sizeof check) != 1) {
		EVP_PKEY_CTX_free(ctx);
		EVP_PKEY_free(key);
		*cause = xstrdup("cannot make an ed25519 key (OpenSSL)");
		return -1;
	}
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(key);
	strbuf_init(&blob);
	sb_str(&blob, "ssh-ed25519", 11);
	sb_str(&blob, pk, 32);
	strbuf_init(&inner);
	strbuf_add(&inner, (const char *)check, 4);
	strbuf_add(&inner, (const char *)check, 4);
	sb_str(&inner, "ssh-ed25519", 11);
	sb_str(&inner, pk, 32);
	sb_u32(&inner, 64);
	strbuf_add(&inner, (const char *)sk, 32);
	strbuf_add(&inner, (const char *)pk, 32);
	sb_str(&inner, comment, strlen(comment));
	for (i = 1; inner.len % 8 != 0; i++)
		strbuf_addc(&inner, (char)i);
	strbuf_init(&all);
	strbuf_add(&all, "openssh-key-v1", 15);	/* with its NUL */
	sb_str(&all, "none", 4);
	sb_str(&all, "none", 4);
	sb_str(&all, "", 0);
	sb_u32(&all, 1);
	sb_str(&all, blob.buf, blob.len);
	sb_str(&all, inner.buf, inner.len);
	enc = b64(all.buf, all.len);
	strbuf_init(&pem);
	strbuf_adds(&pem, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
	for (i = 0; i < strlen(enc); i += 70)
		strbuf_addf(&pem, "%.70s\n", enc + i);
	strbuf_adds(&pem, "-----END OPENSSH PRIVATE KEY-----\n");
	*priv = strbuf_detach(&pem);
	free(enc);
	enc = b64(blob.buf, blob.len);
	*pub = xprintf("ssh-ed25519 %s %s", enc, comment);
	free(enc);
	explicit_bzero(sk, sizeof sk);
	explicit_bzero(inner.buf, inner.len);
	explicit_bzero(all.buf, all.len);
	strbuf_free(&blob);
	strbuf_free(&inner);
	strbuf_free(&all);
	return 0;
}

static int
step_ssh_key(struct cloud_run *run, char **cause)
{
	struct gcp_state *st = state_of(run);
	char *name = gcp_name(run, "key"), *priv = NULL, *path;
	char *comment = xprintf("fanout-%s", run->id);
	json_t *res;
	int rc = -1;

	st->user = xstrdup(GCP_LOGIN_USER);
	st->tag = xprintf("fanout-%s", run->id);
	if ((res = cloud_intent(run, "ssh_key", name, NULL, NULL,
	    cause)) == NULL)
		goto out;
	if (gcp_ssh_key(comment, &priv, &st->pubkey, cause) != 0)
		goto out;
	path = history_file(run->id, ".key");
	rc = fs_write_atomic(path, priv, strlen(priv), 0600, cause);
	free(path);
	if (rc == 0)
		rc = cloud_resource_set(run, res, "public_key",
		    json_string(st->pubkey), cause);
	if (rc == 0)
		rc = cloud_created(run, res, comment, cause);
out:
	if (priv != NULL) {
		explicit_bzero(priv, strlen(priv));
		free(priv);
	}
	free(comment);
	free(name);
	return rc;
}

static int
step_firewall(struct cloud_run *run, char **cause)
{
	struct gcp_state *st = state_of(run);
	char *name = gcp_name(run, "ssh"), *head = gcp_name(run, "head");
	json_t *rest, *res;
	int rc;

	/* To the head only (its own tag): a cluster's nodes are reached
	 * through the head, as on AWS, and take no SSH from outside. */
	rest = json_pack("{s:[{s:s, s:[s]}], s:[s], s:[s], s:i}", "allowed",
	    "IPProtocol", "tcp", "ports", "22", "sourceRanges", st->cidr,
	    "targetTags", head, "priority", 1000);
	rc = gcp_firewall_make(run, name, rest, &res, cause);
	json_decref(rest);
	if (rc == 0)
		rc = cloud_resource_set(run, res, "ingress", json_pack("[{s:s, "
		    "s:i, s:s}]", "protocol", "tcp", "port", 22, "cidr",
		    st->cidr), cause);
	if (rc == 0)
		event_log(run->sink, "firewall", "%s: SSH from %s to tag %s "
		    "(the head) only", name, st->cidr, head);
	free(head);
	free(name);
	return rc;
}

/* The machine of the head block: the bastion (a cluster's head too, as on
 * AWS: the resource and host are "bastion" for both engines). */
static int
step_bastion(struct cloud_run *run, char **cause)
{
	struct gcp_state *st = state_of(run);
	const char *type;

	if (run->engine != NULL && run->engine->nodes)
		type = gcp_answer_str(run->answers, "head_instance_type",
		    GCP_HEAD_TYPE);
	else
		type = gcp_answer_str(run->answers, "instance_type",
		    GCP_DEFAULT_TYPE);
	const char *tags[2] = { NULL, NULL };
	char *head = gcp_name(run, "head");
	int rc;

	st->head_name = gcp_name(run, "bastion");
	tags[0] = head;		/* the SSH rule's target (step_firewall) */
	rc = gcp_instance_make(run, run->engine != NULL &&
	    run->engine->nodes ? "head" : "bastion", st->head_name, type,
	    tags, NULL, cause);
	free(head);
	return rc;
}

static int
step_bastion_running(struct cloud_run *run, char **cause)
{
	struct gcp_state *st = state_of(run);
	json_t *res;

	pthread_mutex_lock(&run->lock);
	res = history_resource(run->rec, "instance", st->head_name);
	pthread_mutex_unlock(&run->lock);
	if (res == NULL) {
		xasprintf(cause, "the record lacks instance %s", st->head_name);
		return -1;
	}
	return gcp_instance_running(run, res, "head", "bastion", cause);
}

static const char *const after_wave1[] = { "identity", "public address",
    "zone", "network", "image", "ssh key", NULL };
static const char *const after_base[] = { "ssh key", "firewall",
    "service account", NULL };
static const char *const after_bastion[] = { "bastion", NULL };

/* CLOUD_BLOCK_BASE: who and where and the key, then the SSH rule. */
const struct cloud_step gcp_base_steps[] = {
	{ "identity", NULL, step_identity },
	{ "public address", NULL, step_checkip },
	{ "zone", NULL, step_zone },
	{ "network", NULL, step_network },
	{ "image", NULL, step_image },
	{ "ssh key", NULL, step_ssh_key },
	{ "firewall", after_wave1, step_firewall },
	{ NULL, NULL, NULL }
};

/* CLOUD_BLOCK_HEAD: the bastion, and the wait until it runs. */
const struct cloud_step gcp_head_steps[] = {
	{ "bastion", after_base, step_bastion },
	{ "bastion running", after_bastion, step_bastion_running },
	{ NULL, NULL, NULL }
};
