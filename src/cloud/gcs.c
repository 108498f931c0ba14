/* Cloud Storage JSON API calls (gcs.h). */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cloud/gcp-auth.h"
#include "cloud/gcp.h"
#include "cloud/gcs.h"
#include "cloud/http.h"
#include "cloud/provider.h"
#include "run/project.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

/* One answer of gcs_request. */
struct gcs_answer {
	long	 status;	/* HTTP status, 0: none came */
	char	*reason;	/* Google's error reason, or NULL */
	json_t	*doc;		/* a JSON answer (not with out) or NULL */
};

static void
gcs_sleep(double d)
{
	struct timespec ts;

	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0)
		;
}

static int
gcs_retryable(long status)
{
	return status == 429 || status == 500 || status == 502 ||
	    status == 503 || status == 504;
}

/* One call with gcp_call's retries (gcp.h), which also gives the status:
 * a body (POST, media of type ctype) or NULL; out: the answer goes to that
 * file, else a JSON answer to a->doc. 0, or an enum cloud_err with a
 * cause "what: reason: message (HTTP n)". */
static int
gcs_request(struct gcp *g, const char *method, const char *url,
    const char *what, const char *body, size_t len, const char *ctype,
    FILE *out, struct gcs_answer *a, char **cause)
{
	struct http_request req = { 0 };
	struct http_response resp = { 0 };
	const char *hdrs[4];
	char *auth = NULL, *ct = NULL;
	double start = time_mono(), d;
	int n, rc = 0, reauth = 0, got;

	memset(a, 0, sizeof *a);
	if (ctype != NULL)
		ct = xprintf("Content-Type: %s", ctype);
	req.method = method;
	req.url = url;
	req.body = body;
	req.body_len = len;
	req.headers = hdrs;
	req.out = out;
	req.timeout = out != NULL || body != NULL ? 600 : 60;
	req.max_attempts = 1;
	for (n = 1;; n++) {
		if ((rc = gcp_auth_header(g->auth, &auth, cause)) != 0)
			break;
		hdrs[0] = auth;
		hdrs[1] = "Accept: application/json";
		hdrs[2] = ct;
		hdrs[3] = NULL;
		got = http_perform(&req, &resp) == 0;
		gcp_auth_wipe(auth);
		auth = NULL;
		if (got && resp.status == 401 && !reauth) {
			reauth = 1;
			gcp_auth_invalidate(g->auth);
			http_response_free(&resp);
			n--;
			continue;
		}
		if (got ? !gcs_retryable(resp.status) : resp.final)
			break;
		d = gcp_backoff(g, n);
		if (time_mono() - start + d > g->retry_deadline)
			break;
		http_response_free(&resp);
		gcs_sleep(d);
	}
	if (rc != 0)
		goto out;
	a->status = resp.status;
	if (resp.status == 0) {
		*cause = xprintf("%s: no answer from %s: %s", what, url,
		    resp.error != NULL ? resp.error : "?");
		rc = resp.final ? CLOUD_ERR : CLOUD_ETRANSIENT;
	} else if (resp.status < 200 || resp.status > 299) {
		*cause = gcp_error_cause(what, resp.status, resp.body, resp.len,
		    &a->reason);
		rc = gcp_error_kind(resp.status, a->reason);
	} else if (out == NULL && resp.len > 0 &&
	    (a->doc = json_loadb(resp.body, resp.len, 0, NULL)) == NULL) {
		*cause = xprintf("%s: the answer is not JSON (HTTP %ld)", what,
		    resp.status);
		rc = CLOUD_ERR;
	}
out:
	free(ct);
	http_response_free(&resp);
	return rc;
}

static void
gcs_answer_free(struct gcs_answer *a)
{
	free(a->reason);
	json_decref(a->doc);
	memset(a, 0, sizeof *a);
}

const char *
gcs_who(struct gcp *g)
{
	const char *who = gcp_auth_account(g->auth);

	return who != NULL ? who : gcp_auth_source(g->auth);
}

/* The one-line cause of a failed call on u's bucket (what: the setting;
 * write: the call meant to create objects), naming the fix; the call's
 * own cause is freed. */
static void
gcs_explain(struct gcp *g, const struct store_url *u, const char *what,
    int write, const struct gcs_answer *a, char **cause)
{
	const char *acct = gcp_auth_account(g->auth);
	char *why = *cause, *member;

	member = acct != NULL ? xprintf("serviceAccount:%s", acct) :
	    xstrdup("user:YOUR_EMAIL");
	if (a->status == 404)
		xasprintf(cause, "%s gs://%s/%s: bucket '%s' does not exist "
		    "(project %s); check the bucket name in fanout.yaml", what,
		    u->bucket, u->key, u->bucket, g->project);
	else if (a->status == 403)
		xasprintf(cause, "%s gs://%s/%s: the credentials of %s may not "
		    "%s gs://%s: grant %s (gcloud storage buckets "
		    "add-iam-policy-binding gs://%s --member=%s --role=%s)",
		    what, u->bucket, u->key, gcs_who(g), write ? "write to" :
		    "read", u->bucket, write ? "roles/storage.objectCreator" :
		    "roles/storage.objectViewer", u->bucket, member, write ?
		    "roles/storage.objectCreator" :
		    "roles/storage.objectViewer");
	else
		xasprintf(cause, "%s gs://%s/%s: %s", what, u->bucket, u->key,
		    why);
	free(member);
	free(why);
}

static int
gcs_object_cmp(const void *a, const void *b)
{
	return strcmp(((const struct gcs_object *)a)->name,
	    ((const struct gcs_object *)b)->name);
}

/* Whether name is one of u's objects (the rules of s3.c). */
static int
gcs_matches(const struct store_url *u, const char *name)
{
	size_t np = strlen(u->prefix), n = strlen(name);

	if (n == 0 || strncmp(name, u->prefix, np) != 0 || name[n - 1] == '/')
		return 0;
	if (u->pattern)
		return fnmatch(u->key, name, FNM_PATHNAME) == 0;
	return np == 0 || strcmp(name, u->prefix) == 0 ||
	    u->prefix[np - 1] == '/' || name[np] == '/';
}

/* One page of objects.list: appends the matching objects to l. *next gets
 * the page token, or NULL at the end. */
static int
gcs_list_page(struct gcp *g, const struct store_url *u, const char *token,
    long max, struct gcs_list *l, char **next, struct gcs_answer *a,
    char **cause)
{
	struct strbuf q;
	json_t *it;
	const char *name, *size, *gen, *md5;
	char *e, *url, *what;
	size_t i;
	int rc;

	*next = NULL;
	strbuf_init(&q);
	e = http_escape(u->prefix);
	strbuf_addf(&q, "prefix=%s&fields=items(name,size,generation,md5Hash),"
	    "nextPageToken", e);
	free(e);
	if (max > 0)
		strbuf_addf(&q, "&maxResults=%ld", max);
	if (token != NULL) {
		e = http_escape(token);
		strbuf_addf(&q, "&pageToken=%s", e);
		free(e);
	}
	e = http_escape(u->bucket);
	url = gcp_storage_url(g, "b/%s/o?%s", e, q.buf);
	what = xprintf("GET b/%s/o", u->bucket);
	free(e);
	strbuf_free(&q);
	rc = gcs_request(g, "GET", url, what, NULL, 0, NULL, NULL, a, cause);
	free(url);
	free(what);
	l->pages++;
	if (rc != 0)
		return rc;
	json_array_foreach(json_object_get(a->doc, "items"), i, it) {
		name = json_string_value(json_object_get(it, "name"));
		if (name == NULL)
			continue;
		l->listed++;
		if (!gcs_matches(u, name))
			continue;
		size = json_string_value(json_object_get(it, "size"));
		gen = json_string_value(json_object_get(it, "generation"));
		md5 = json_string_value(json_object_get(it, "md5Hash"));
		l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
		l->v[l->n].name = xstrdup(name);
		l->v[l->n].generation = xstrdup(gen != NULL ? gen : "");
		l->v[l->n].md5 = xstrdup(md5 != NULL ? md5 : "");
		l->v[l->n].size = size != NULL ? strtoll(size, NULL, 10) : -1;
		l->n++;
	}
	name = json_string_value(json_object_get(a->doc, "nextPageToken"));
	if (name != NULL && *name != '\0')
		*next = xstrdup(name);
	return 0;
}

int
gcs_list_objects(struct gcp *g, const struct store_url *u, long limit,
    const char *what, struct gcs_list *l, char **cause)
{
	const char *env = getenv("FANOUT_GCS_PAGE_SIZE");
	struct gcs_answer a;
	char *token = NULL, *next;
	long max = env != NULL ? atol(env) : 0;
	size_t i;
	int rc;

	memset(l, 0, sizeof *l);
	if (max < 0 || max > 1000)
		max = 0;
	do {
		rc = gcs_list_page(g, u, token, max, l, &next, &a, cause);
		free(token);
		token = next;
		if (rc != 0) {
			gcs_explain(g, u, what, 0, &a, cause);
			gcs_answer_free(&a);
			free(token);
			gcs_list_free(l);
			return rc;
		}
		gcs_answer_free(&a);
	} while (token != NULL);
	if (l->n == 0) {
		xasprintf(cause, "%s gs://%s/%s: no object matches (%zu "
		    "listed under '%s'); check the prefix and pattern", what,
		    u->bucket, u->key, l->listed, u->prefix);
		gcs_list_free(l);
		return CLOUD_ENOTFOUND;
	}
	qsort(l->v, l->n, sizeof *l->v, gcs_object_cmp);
	if (limit > 0 && (size_t)limit < l->n) {
		for (i = (size_t)limit; i < l->n; i++) {
			free(l->v[i].name);
			free(l->v[i].generation);
			free(l->v[i].md5);
		}
		l->n = (size_t)limit;
	}
	return 0;
}

void
gcs_list_free(struct gcs_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].generation);
		free(l->v[i].md5);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

int
gcs_check_bucket(struct gcp *g, const struct store_url *u, const char *what,
    char **cause)
{
	struct gcs_answer a;
	json_t *v;
	char *e = http_escape(u->bucket), *url, *w;
	size_t i;
	int rc, ok = 0;

	url = gcp_storage_url(g, "b/%s/iam/testPermissions?permissions="
	    "storage.objects.create", e);
	w = xprintf("GET b/%s/iam/testPermissions", u->bucket);
	free(e);
	rc = gcs_request(g, "GET", url, w, NULL, 0, NULL, NULL, &a, cause);
	free(url);
	free(w);
	if (rc == 0) {
		json_array_foreach(json_object_get(a.doc, "permissions"), i, v)
			if (json_is_string(v) && strcmp(json_string_value(v),
			    "storage.objects.create") == 0)
				ok = 1;
		if (!ok) {
			/* Granted nothing: as a 403 would say. */
			a.status = 403;
			*cause = xstrdup("storage.objects.create not granted");
			rc = CLOUD_ERR;
		}
	}
	if (rc != 0)
		gcs_explain(g, u, what, 1, &a, cause);
	gcs_answer_free(&a);
	return rc;
}

int
gcs_get_object(struct gcp *g, const char *bucket, const char *name,
    const char *path, char **cause)
{
	struct gcs_answer a;
	char *eb = http_escape(bucket), *en = http_escape(name), *url, *tmp;
	char *what, *why;
	FILE *f;
	int rc;

	url = gcp_storage_url(g, "b/%s/o/%s?alt=media", eb, en);
	what = xprintf("GET b/%s/o/%s", bucket, name);
	free(eb);
	free(en);
	tmp = xprintf("%s.part", path);
	if ((f = fopen(tmp, "w+")) == NULL) {
		xasprintf(cause, "cannot write %s: %s", tmp, strerror(errno));
		free(tmp);
		free(url);
		free(what);
		return CLOUD_ERR;
	}
	rc = gcs_request(g, "GET", url, what, NULL, 0, NULL, f, &a, cause);
	if (fclose(f) != 0 && rc == 0) {
		xasprintf(cause, "cannot write %s: %s", tmp, strerror(errno));
		rc = CLOUD_ERR;
	}
	if (rc == 0 && rename(tmp, path) != 0) {
		xasprintf(cause, "cannot rename %s: %s", tmp, strerror(errno));
		rc = CLOUD_ERR;
	}
	if (rc != 0) {
		unlink(tmp);
		why = *cause;
		xasprintf(cause, "gs://%s/%s: %s", bucket, name, why);
		free(why);
	}
	gcs_answer_free(&a);
	free(tmp);
	free(url);
	free(what);
	return rc;
}

int
gcs_put_object(struct gcp *g, const char *bucket, const char *name,
    const char *path, char **cause)
{
	struct gcs_answer a;
	char *data, *url, *eb, *en, *what;
	size_t len;
	int rc;

	if ((data = fs_read_file(path, &len, cause)) == NULL)
		return CLOUD_ERR;
	eb = http_escape(bucket);
	en = http_escape(name);
	url = xprintf("%sb/%s/o?uploadType=media&name=%s", g->upload, eb, en);
	what = xprintf("POST b/%s/o (upload of %s)", bucket, name);
	rc = gcs_request(g, "POST", url, what, data, len,
	    "application/octet-stream", NULL, &a, cause);
	gcs_answer_free(&a);
	free(what);
	free(url);
	free(eb);
	free(en);
	free(data);
	return rc;
}

int
gcs_json(struct gcp *g, const char *method, const char *url,
    const char *what, json_t *body, json_t **out, long *status,
    char **cause)
{
	struct gcs_answer a;
	char *data = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	int rc;

	rc = gcs_request(g, method, url, what, data, data != NULL ?
	    strlen(data) : 0, data != NULL ? "application/json" : NULL, NULL,
	    &a, cause);
	free(data);
	if (status != NULL)
		*status = a.status;
	if (out != NULL) {
		*out = rc == 0 ? (a.doc != NULL ? json_incref(a.doc) :
		    json_object()) : NULL;
	}
	gcs_answer_free(&a);
	return rc;
}
