/* Google Cloud REST calls, errors, retries and operations (gcp.h). */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cloud/gcp-auth.h"
#include "cloud/gcp.h"
#include "cloud/http.h"
#include "cloud/provider.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

#define GCP_CAUSE_MAX 400	/* bytes of a server's message in a cause */

/* The backoff's random numbers, one generator per thread. */
static _Thread_local unsigned short gcp_rand[3];
static _Thread_local int gcp_rand_seeded;

/* A base URL from an override variable, with the trailing "/". */
static char *
gcp_base(const char *var, const char *dflt)
{
	const char *v = getenv(var);
	size_t n;

	if (v == NULL || *v == '\0')
		return xstrdup(dflt);
	n = strlen(v);
	return n > 0 && v[n - 1] == '/' ? xstrdup(v) : xprintf("%s/", v);
}

struct gcp *
gcp_open(char **cause)
{
	struct gcp_auth *auth;
	struct gcp *g;
	const char *p;
	size_t n;

	if ((auth = gcp_auth_open(cause)) == NULL)
		return NULL;
	if ((p = gcp_auth_project(auth)) == NULL) {
		*cause = xprintf("no Google Cloud project: CLOUDSDK_CORE_PROJECT "
		    "and GOOGLE_CLOUD_PROJECT are not set, gcloud's "
		    "configuration sets none and %s names none; run gcloud "
		    "config set project PROJECT_ID, or set "
		    "CLOUDSDK_CORE_PROJECT=PROJECT_ID",
		    gcp_auth_source(auth));
		gcp_auth_free(auth);
		return NULL;
	}
	g = xcalloc(1, sizeof *g);
	g->auth = auth;
	g->project = xstrdup(p);
	g->compute = gcp_base("CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE",
	    GCP_COMPUTE_URL);
	g->storage = gcp_base("CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE",
	    GCP_STORAGE_URL);
	/* Uploads go to /upload/storage/v1/ beside /storage/v1/, as gcloud
	 * sends them when storage is overridden. */
	n = strlen(g->storage);
	if (n >= 11 && strcmp(g->storage + n - 11, "storage/v1/") == 0)
		g->upload = xprintf("%.*supload/storage/v1/", (int)(n - 11),
		    g->storage);
	else
		g->upload = xprintf("%supload/", g->storage);
	g->retry_initial = 1.0;
	g->retry_max = 60.0;
	g->retry_deadline = 120.0;
	g->op_deadline = 600.0;
	return g;
}

void
gcp_free(struct gcp *g)
{
	if (g == NULL)
		return;
	gcp_auth_free(g->auth);
	free(g->project);
	free(g->compute);
	free(g->storage);
	free(g->upload);
	free(g);
}

static char *
gcp_url(const char *base, const char *fmt, va_list ap)
{
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_adds(&sb, base);
	strbuf_vaddf(&sb, fmt, ap);
	return strbuf_detach(&sb);
}

char *
gcp_compute_url(const struct gcp *g, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = gcp_url(g->compute, fmt, ap);
	va_end(ap);
	return s;
}

char *
gcp_storage_url(const struct gcp *g, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = gcp_url(g->storage, fmt, ap);
	va_end(ap);
	return s;
}

double
gcp_backoff(const struct gcp *g, int n)
{
	double d = g->retry_initial * ldexp(1.0, n - 1 > 30 ? 30 : n - 1);
	struct timespec ts;
	unsigned long v;

	if (d > g->retry_max)
		d = g->retry_max;
	if (!gcp_rand_seeded) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		v = (unsigned long)ts.tv_nsec ^ (unsigned long)ts.tv_sec ^
		    (unsigned long)(uintptr_t)&gcp_rand;
		gcp_rand[0] = (unsigned short)v;
		gcp_rand[1] = (unsigned short)(v >> 16);
		gcp_rand[2] = 0x330e;
		gcp_rand_seeded = 1;
	}
	return erand48(gcp_rand) * d;
}

static int
gcp_in(const char *s, const char *const *list)
{
	for (; s != NULL && *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

int
gcp_error_kind(long status, const char *reason)
{
	static const char *const transient[] = { "rateLimitExceeded",
	    "userRateLimitExceeded", "backendError", "internalError",
	    "RESOURCE_EXHAUSTED", "UNAVAILABLE", "INTERNAL", NULL };
	static const char *const inuse[] = { "resourceInUseByAnotherResource",
	    "resourceNotReady", NULL };

	if (status == 0 || status == 429 || status >= 500 ||
	    gcp_in(reason, transient))
		return CLOUD_ETRANSIENT;
	if (gcp_in(reason, inuse))
		return CLOUD_EINUSE;
	if (status == 404 || (reason != NULL && strcmp(reason, "notFound") == 0))
		return CLOUD_ENOTFOUND;
	if (status == 409 || (reason != NULL &&
	    strcmp(reason, "alreadyExists") == 0))
		return CLOUD_EDUPLICATE;
	return CLOUD_ERR;
}

int
gcp_op_error_kind(const char *code)
{
	static const char *const transient[] = { "INTERNAL_ERROR",
	    "RESOURCE_OPERATION_RATE_EXCEEDED", "RATE_LIMIT_EXCEEDED",
	    "ZONE_RESOURCE_POOL_EXHAUSTED",
	    "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS", NULL };
	static const char *const inuse[] = {
	    "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE", "RESOURCE_NOT_READY", NULL };

	if (gcp_in(code, transient))
		return CLOUD_ETRANSIENT;
	if (gcp_in(code, inuse))
		return CLOUD_EINUSE;
	if (code != NULL && strcmp(code, "RESOURCE_NOT_FOUND") == 0)
		return CLOUD_ENOTFOUND;
	if (code != NULL && strcmp(code, "RESOURCE_ALREADY_EXISTS") == 0)
		return CLOUD_EDUPLICATE;
	return CLOUD_ERR;
}

/* Appends a server's text on one line, control characters as spaces,
 * at most GCP_CAUSE_MAX bytes. */
static void
gcp_add_line(struct strbuf *sb, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < GCP_CAUSE_MAX; i++)
		strbuf_addc(sb, (unsigned char)s[i] < 0x20 ? ' ' : s[i]);
	if (s[i] != '\0')
		strbuf_adds(sb, "...");
}

/* The reason of a Google error object: errors[0].reason, else an
 * ErrorInfo's reason in details, else status. */
static const char *
gcp_reason_of(json_t *err)
{
	json_t *v;
	size_t i;
	const char *t;

	v = json_object_get(json_array_get(json_object_get(err, "errors"), 0),
	    "reason");
	if (json_is_string(v))
		return json_string_value(v);
	json_array_foreach(json_object_get(err, "details"), i, v) {
		t = json_string_value(json_object_get(v, "@type"));
		if (t != NULL && strstr(t, "google.rpc.ErrorInfo") != NULL &&
		    json_is_string(json_object_get(v, "reason")))
			return json_string_value(json_object_get(v, "reason"));
	}
	return json_string_value(json_object_get(err, "status"));
}

char *
gcp_error_cause(const char *what, long status, const char *body, size_t len,
    char **reason)
{
	json_t *doc = body != NULL ? json_loadb(body, len, 0, NULL) : NULL;
	json_t *err = json_object_get(doc, "error");
	const char *r = NULL, *msg = NULL;
	struct strbuf sb;

	if (json_is_object(err)) {
		r = gcp_reason_of(err);
		msg = json_string_value(json_object_get(err, "message"));
	}
	strbuf_init(&sb);
	strbuf_addf(&sb, "%s: ", what);
	if (r != NULL) {
		gcp_add_line(&sb, r);
		strbuf_adds(&sb, ": ");
	}
	if (msg != NULL)
		gcp_add_line(&sb, msg);
	else
		strbuf_adds(&sb, "the answer is not a Google error body");
	strbuf_addf(&sb, " (HTTP %ld)", status);
	if (reason != NULL)
		*reason = r != NULL ? xstrdup(r) : NULL;
	json_decref(doc);
	return strbuf_detach(&sb);
}

/* "METHOD path" for causes: the URL without base nor query. */
static char *
gcp_what(const struct gcp *g, const char *method, const char *url)
{
	const char *bases[] = { g->compute, g->upload, g->storage };
	size_t i, n;

	for (i = 0; i < sizeof bases / sizeof bases[0]; i++) {
		n = strlen(bases[i]);
		if (strncmp(url, bases[i], n) == 0) {
			url += n;
			break;
		}
	}
	return xprintf("%s %.*s", method, (int)strcspn(url, "?"), url);
}

static int
gcp_retryable(long status)
{
	return status == 429 || status == 500 || status == 502 ||
	    status == 503 || status == 504;
}

static void
gcp_sleep(double d)
{
	struct timespec ts;

	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0)
		;
}

int
gcp_call(struct gcp *g, const char *method, const char *url, json_t *body,
    json_t **out, char **cause)
{
	struct http_request req = { 0 };
	struct http_response resp = { 0 };
	const char *hdrs[4];
	char *auth = NULL, *data = NULL, *what, *reason = NULL;
	double start = time_mono(), d;
	int n, rc = 0, reauth = 0, got;
	json_t *doc;

	if (out != NULL)
		*out = NULL;
	if (body != NULL && strcmp(method, "POST") != 0) {
		/* http.c sends a body with POST only. */
		*cause = xprintf("%s %s: a body is sent with POST only", method,
		    url);
		return CLOUD_ERR;
	}
	what = gcp_what(g, method, url);
	if (body != NULL)
		data = json_dumps(body, JSON_COMPACT);
	req.method = method;
	req.url = url;
	req.body = data;
	req.body_len = data != NULL ? strlen(data) : 0;
	req.headers = hdrs;
	req.max_attempts = 1;	/* the retries are ours (gcp.h) */
	for (n = 1;; n++) {
		if ((rc = gcp_auth_header(g->auth, &auth, cause)) != 0)
			break;
		hdrs[0] = auth;
		hdrs[1] = "Accept: application/json";
		hdrs[2] = data != NULL ? "Content-Type: application/json" :
		    NULL;
		hdrs[3] = NULL;
		got = http_perform(&req, &resp) == 0;
		gcp_auth_wipe(auth);
		auth = NULL;
		if (got && resp.status == 401 && !reauth) {
			/* The token was refused: one more with a new one. */
			reauth = 1;
			gcp_auth_invalidate(g->auth);
			http_response_free(&resp);
			n--;
			continue;
		}
		if (got ? !gcp_retryable(resp.status) : resp.final)
			break;
		d = gcp_backoff(g, n);
		if (time_mono() - start + d > g->retry_deadline)
			break;
		http_response_free(&resp);
		gcp_sleep(d);
	}
	if (rc != 0)
		goto out;
	if (resp.status == 0) {
		*cause = xprintf("%s: no answer from %s: %s", what, url,
		    resp.error != NULL ? resp.error : "?");
		rc = resp.final ? CLOUD_ERR : CLOUD_ETRANSIENT;
	} else if (resp.status < 200 || resp.status > 299) {
		*cause = gcp_error_cause(what, resp.status, resp.body, resp.len,
		    &reason);
		rc = gcp_error_kind(resp.status, reason);
	} else if (resp.len == 0) {
		if (out != NULL)
			*out = json_object();
	} else if ((doc = json_loadb(resp.body, resp.len, 0, NULL)) == NULL) {
		*cause = xprintf("%s: the answer is not JSON (HTTP %ld)", what,
		    resp.status);
		rc = CLOUD_ERR;
	} else if (out != NULL)
		*out = doc;
	else
		json_decref(doc);
out:
	free(reason);
	free(data);
	free(what);
	http_response_free(&resp);
	return rc;
}

/* The last path element of a URL (a zone's name from its selfLink). */
static const char *
gcp_basename(const char *s)
{
	const char *p = strrchr(s, '/');

	return p != NULL ? p + 1 : s;
}

/* The operation's errors as one cause; the kind from the first code. */
static int
gcp_op_failed(json_t *op, char **cause)
{
	json_t *errs = json_object_get(json_object_get(op, "error"), "errors");
	const char *name = json_string_value(json_object_get(op, "name"));
	const char *type = json_string_value(json_object_get(op,
	    "operationType"));
	const char *target = json_string_value(json_object_get(op,
	    "targetLink"));
	const char *code, *msg;
	struct strbuf sb;
	json_t *e;
	size_t i;

	strbuf_init(&sb);
	strbuf_addf(&sb, "operation %s (%s of %s) failed: ",
	    name != NULL ? name : "?", type != NULL ? type : "?",
	    target != NULL ? gcp_basename(target) : "?");
	json_array_foreach(errs, i, e) {
		code = json_string_value(json_object_get(e, "code"));
		msg = json_string_value(json_object_get(e, "message"));
		if (i > 0)
			strbuf_adds(&sb, "; ");
		gcp_add_line(&sb, code != NULL ? code : "?");
		strbuf_adds(&sb, ": ");
		gcp_add_line(&sb, msg != NULL ? msg : "no message");
		if (i == 2 && json_array_size(errs) > 3) {
			strbuf_addf(&sb, "; and %zu more",
			    json_array_size(errs) - 3);
			break;
		}
	}
	if (json_array_size(errs) == 0)
		strbuf_adds(&sb, "no error detail");
	*cause = strbuf_detach(&sb);
	return gcp_op_error_kind(json_string_value(json_object_get(
	    json_array_get(errs, 0), "code")));
}

int
gcp_operation_wait(struct gcp *g, json_t *op, json_t **done, char **cause)
{
	const char *name, *zone, *region, *status;
	double start = time_mono();
	json_t *cur = json_incref(op), *next;
	char *url;
	int n = 0, rc;

	if (done != NULL)
		*done = NULL;
	name = json_string_value(json_object_get(op, "name"));
	if (name == NULL || strpbrk(name, "/?#") != NULL) {
		*cause = xstrdup("a compute answer is not an operation (no "
		    "name)");
		json_decref(cur);
		return CLOUD_ERR;
	}
	zone = json_string_value(json_object_get(op, "zone"));
	region = json_string_value(json_object_get(op, "region"));
	if (zone != NULL)
		url = gcp_compute_url(g, "projects/%s/zones/%s/operations/%s/"
		    "wait", g->project, gcp_basename(zone), name);
	else if (region != NULL)
		url = gcp_compute_url(g, "projects/%s/regions/%s/operations/"
		    "%s/wait", g->project, gcp_basename(region), name);
	else
		url = gcp_compute_url(g, "projects/%s/global/operations/%s/"
		    "wait", g->project, name);
	for (;;) {
		status = json_string_value(json_object_get(cur, "status"));
		if (status != NULL && strcmp(status, "DONE") == 0)
			break;
		if (time_mono() - start > g->op_deadline) {
			*cause = xprintf("operation %s is not done after %.0f s",
			    name, g->op_deadline);
			rc = CLOUD_ETRANSIENT;
			goto out;
		}
		/* operations.wait returns at DONE or after about 2 min;
		 * an early answer is asked again after a short pause. */
		if (n++ > 0)
			gcp_sleep(n < 6 ? 0.05 * n : 0.5);
		if ((rc = gcp_call(g, "POST", url, NULL, &next, cause)) != 0)
			goto out;
		json_decref(cur);
		cur = next;
	}
	if (json_object_get(cur, "error") != NULL) {
		rc = gcp_op_failed(cur, cause);
		goto out;
	}
	rc = 0;
	if (done != NULL)
		*done = json_incref(cur);
out:
	json_decref(cur);
	free(url);
	return rc;
}

/* A page token as a query value (escaped); NULL for an empty one. */
static char *
gcp_page_token(const char *s)
{
	return *s == '\0' ? NULL : http_escape(s);
}

json_t *
gcp_list_pages(struct gcp *g, const char *url, int *kind, char **cause)
{
	json_t *pages = json_array(), *ans = NULL, *t;
	char *u, *tok = NULL;
	int rc;

	for (;;) {
		u = tok == NULL ? xstrdup(url) : xprintf("%s%spageToken=%s",
		    url, strchr(url, '?') != NULL ? "&" : "?", tok);
		free(tok);
		tok = NULL;
		rc = gcp_call(g, "GET", u, NULL, &ans, cause);
		free(u);
		if (rc != 0) {
			if (kind != NULL)
				*kind = rc;
			json_decref(pages);
			return NULL;
		}
		if (json_is_string(t = json_object_get(ans, "nextPageToken")))
			tok = gcp_page_token(json_string_value(t));
		json_array_append_new(pages, ans);
		ans = NULL;
		if (tok == NULL)
			return pages;
	}
}
