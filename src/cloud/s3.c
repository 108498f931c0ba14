/* S3 REST calls (s3.h). */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "cloud/aws.h"
#include "cloud/http.h"
#include "cloud/provider.h"
#include "cloud/s3.h"
#include "cloud/xml.h"
#include "event.h"
#include "run/project.h"
#include "cloud/store.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

#define S3_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Percent-encodes a key for a URL path: '/' kept. */
static char *
s3_escape_key(const char *key)
{
	struct strbuf sb;
	const char *p, *e;
	char *seg, *q;

	strbuf_init(&sb);
	for (p = key;; p = e + 1) {
		e = strchr(p, '/');
		seg = e != NULL ? xstrndup(p, (size_t)(e - p)) : xstrdup(p);
		q = http_escape(seg);
		strbuf_adds(&sb, q);
		free(q);
		free(seg);
		if (e == NULL)
			break;
		strbuf_addc(&sb, '/');
	}
	return strbuf_detach(&sb);
}

/* The URL of bucket/key (key may be "", query NULL). */
static char *
s3_url(struct aws *a, const char *bucket, const char *key, const char *query)
{
	char *ep = aws_endpoint(a, "s3"), *k = s3_escape_key(key), *url;
	char *pub = xprintf("https://s3.%s.amazonaws.com/", a->region);

	if (strcmp(ep, pub) != 0 || strchr(bucket, '.') != NULL)
		url = xprintf("%s%s/%s%s%s", ep, bucket, k, query != NULL ?
		    "?" : "", query != NULL ? query : "");
	else
		url = xprintf("https://%s.s3.%s.amazonaws.com/%s%s%s", bucket,
		    a->region, k, query != NULL ? "?" : "", query != NULL ?
		    query : "");
	free(pub);
	free(ep);
	free(k);
	return url;
}

static int
s3_transient(const struct http_response *r)
{
	return r->status == 429 || (r->body != NULL && (strstr(r->body,
	    "<Code>SlowDown</Code>") != NULL || strstr(r->body,
	    "<Code>RequestTimeout</Code>") != NULL));
}

/* One signed request. body/len: PUT data (NULL for none). Returns 0 with
 * resp (status < 300), or an enum cloud_err; *code gets the S3 error
 * code ("NoSuchBucket") when one came. */
static int
s3_request(struct aws *a, const char *method, const char *url,
    const char *body, size_t len, FILE *out, struct http_response *resp,
    char **code, char **cause)
{
	struct http_request req;
	const char *headers[5];
	unsigned char md[SHA256_DIGEST_LENGTH];
	char *sig, *tok = NULL, *sha, hex[2 * SHA256_DIGEST_LENGTH + 1];
	char *msg = NULL;
	xmlDocPtr doc;
	size_t i, n = 0;
	int rc;

	*code = NULL;
	if (body != NULL) {
		SHA256((const unsigned char *)body, len, md);
		for (i = 0; i < sizeof md; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		sha = xprintf("x-amz-content-sha256: %s", hex);
	} else
		sha = xprintf("x-amz-content-sha256: %s", S3_EMPTY_SHA256);
	headers[n++] = sha;
	/* Not curl's form type for a POST body (a server may parse it). */
	if (body != NULL)
		headers[n++] = "Content-Type: application/octet-stream";
	if (a->session_token != NULL) {
		tok = xprintf("X-Amz-Security-Token: %s", a->session_token);
		headers[n++] = tok;
	}
	headers[n] = NULL;
	memset(&req, 0, sizeof req);
	req.method = method;
	req.url = url;
	req.body = body;
	req.body_len = len;
	req.headers = headers;
	sig = xprintf("aws:amz:%s:s3", a->region);
	req.sigv4 = sig;
	req.access_key = a->access_key;
	req.secret_key = a->secret_key;
	req.transient = s3_transient;
	req.out = out;
	req.timeout = out != NULL || body != NULL ? 600 : 60;
	if (http_perform(&req, resp) != 0) {
		xasprintf(cause, "cannot reach %s (%s)", url, resp->error);
		rc = resp->final ? CLOUD_ERR : CLOUD_ETRANSIENT;
	} else if (resp->status >= 300) {
		if (resp->len > 0 && (doc = xml_parse(resp->body,
		    resp->len)) != NULL) {
			*code = xml_text(xmlDocGetRootElement(doc), "Code");
			msg = xml_text(xmlDocGetRootElement(doc), "Message");
			xmlFreeDoc(doc);
		}
		if (*code == NULL && resp->status == 404)
			*code = xstrdup("NotFound");
		if (*code == NULL && resp->status == 403)
			*code = xstrdup("AccessDenied");
		xasprintf(cause, "%s %s: HTTP %ld%s%s%s%s", method, url,
		    resp->status, *code != NULL ? ": " : "",
		    *code != NULL ? *code : "", msg != NULL ? ": " : "",
		    msg != NULL ? msg : "");
		rc = aws_error_kind(*code, resp->status);
		if (strcmp(*code != NULL ? *code : "", "AccessDenied") == 0)
			rc = CLOUD_ERR;
	} else
		rc = 0;
	free(msg);
	if (tok != NULL) {
		explicit_bzero(tok, strlen(tok));
		free(tok);
	}
	free(sha);
	free(sig);
	return rc;
}

/* The one-line cause of a failed call on u's bucket (what: the setting),
 * naming the fix; the call's own cause is freed. */
static void
s3_explain(struct aws *a, const struct store_url *u, const char *what,
    const char *code, char **cause)
{
	char *why = *cause;

	if (code != NULL && strcmp(code, "NoSuchBucket") == 0)
		xasprintf(cause, "%s s3://%s/%s: bucket '%s' does not exist "
		    "(region %s); check the bucket name in fanout.yaml", what,
		    u->bucket, u->key, u->bucket, a->region);
	else if (code != NULL && (strcmp(code, "AccessDenied") == 0 ||
	    strcmp(code, "AllAccessDisabled") == 0 ||
	    strcmp(code, "InvalidAccessKeyId") == 0 ||
	    strcmp(code, "SignatureDoesNotMatch") == 0))
		xasprintf(cause, "%s s3://%s/%s: access denied (%s) to "
		    "credentials from %s; grant them s3:ListBucket%s on "
		    "bucket '%s', or use a profile that has it", what,
		    u->bucket, u->key, code, a->creds_from,
		    strcmp(what, "results") == 0 ? " and s3:PutObject" :
		    " and s3:GetObject", u->bucket);
	else
		xasprintf(cause, "%s s3://%s/%s: %s", what, u->bucket, u->key,
		    why);
	free(why);
}

static int
s3_object_cmp(const void *a, const void *b)
{
	return strcmp(((const struct s3_object *)a)->key,
	    ((const struct s3_object *)b)->key);
}

/* One page of ListObjectsV2: appends the matching objects to l. *next
 * gets the continuation token, or NULL at the end. */
static int
s3_list_page(struct aws *a, const struct store_url *u, const char *token,
    long max, struct s3_list *l, char **next, char **code, char **cause)
{
	struct http_response resp;
	struct strbuf q;
	xmlDocPtr doc;
	xmlNodePtr root, c;
	char *url, *e, *key, *etag, *size;
	int rc;

	*next = NULL;
	/* Parameters in sorted order: the canonical query of SigV4. */
	strbuf_init(&q);
	if (token != NULL) {
		e = http_escape(token);
		strbuf_addf(&q, "continuation-token=%s&", e);
		free(e);
	}
	strbuf_adds(&q, "list-type=2");
	if (max > 0)
		strbuf_addf(&q, "&max-keys=%ld", max);
	e = http_escape(u->prefix);
	strbuf_addf(&q, "&prefix=%s", e);
	free(e);
	url = s3_url(a, u->bucket, "", q.buf);
	strbuf_free(&q);
	rc = s3_request(a, "GET", url, NULL, 0, NULL, &resp, code, cause);
	free(url);
	l->pages++;
	if (rc != 0) {
		http_response_free(&resp);
		return rc;
	}
	if ((doc = xml_parse(resp.body, resp.len)) == NULL) {
		xasprintf(cause, "ListObjectsV2: the answer is not XML");
		http_response_free(&resp);
		return CLOUD_ERR;
	}
	http_response_free(&resp);
	root = xmlDocGetRootElement(doc);
	for (c = xml_child(root, "Contents"); c != NULL;
	    c = xml_next(c, "Contents")) {
		if ((key = xml_child_text(c, "Key")) == NULL)
			continue;
		l->listed++;
		if (strncmp(key, u->prefix, strlen(u->prefix)) != 0 ||
		    key[strlen(key) - 1] == '/' || (u->pattern &&
		    fnmatch(u->key, key, FNM_PATHNAME) != 0) ||
		    (!u->pattern && *u->prefix != '\0' && strcmp(key,
		    u->prefix) != 0 && u->prefix[strlen(u->prefix) - 1] !=
		    '/' && key[strlen(u->prefix)] != '/')) {
			free(key);
			continue;
		}
		etag = xml_child_text(c, "ETag");
		size = xml_child_text(c, "Size");
		l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
		l->v[l->n].key = key;
		if (etag != NULL && etag[0] == '"') {
			memmove(etag, etag + 1, strlen(etag));
			etag[strcspn(etag, "\"")] = '\0';
		}
		l->v[l->n].etag = etag != NULL ? etag : xstrdup("");
		l->v[l->n].size = size != NULL ? strtoll(size, NULL, 10) : -1;
		free(size);
		l->n++;
	}
	e = xml_child_text(root, "IsTruncated");
	if (e != NULL && strcmp(e, "true") == 0)
		*next = xml_child_text(root, "NextContinuationToken");
	free(e);
	xmlFreeDoc(doc);
	return 0;
}

int
s3_list_objects(struct aws *a, const struct store_url *u, long limit,
    const char *what, struct s3_list *l, char **cause)
{
	const char *env = getenv("FANOUT_S3_PAGE_SIZE");
	char *token = NULL, *next, *code = NULL;
	long max = env != NULL ? atol(env) : 0;
	size_t i;
	int rc;

	memset(l, 0, sizeof *l);
	if (max < 0 || max > 1000)
		max = 0;
	do {
		rc = s3_list_page(a, u, token, max, l, &next, &code, cause);
		free(token);
		token = next;
		if (rc != 0) {
			s3_explain(a, u, what, code, cause);
			free(code);
			free(token);
			s3_list_free(l);
			return rc;
		}
	} while (token != NULL);
	if (l->n == 0) {
		xasprintf(cause, "%s s3://%s/%s: no object matches (%zu "
		    "listed under '%s'); check the prefix and pattern", what,
		    u->bucket, u->key, l->listed, u->prefix);
		s3_list_free(l);
		return CLOUD_ENOTFOUND;
	}
	qsort(l->v, l->n, sizeof *l->v, s3_object_cmp);
	if (limit > 0 && (size_t)limit < l->n) {
		for (i = (size_t)limit; i < l->n; i++) {
			free(l->v[i].key);
			free(l->v[i].etag);
		}
		l->n = (size_t)limit;
	}
	return 0;
}

void
s3_list_free(struct s3_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].etag);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

int
s3_check_bucket(struct aws *a, const struct store_url *u, const char *what,
    char **cause)
{
	struct s3_list l;
	char *next = NULL, *code = NULL;
	int rc;

	memset(&l, 0, sizeof l);
	rc = s3_list_page(a, u, NULL, 1, &l, &next, &code, cause);
	if (rc != 0)
		s3_explain(a, u, what, code, cause);
	free(next);
	free(code);
	s3_list_free(&l);
	return rc;
}

int
s3_get_object(struct aws *a, const char *bucket, const char *key,
    const char *path, char **cause)
{
	struct http_response resp;
	char *url = s3_url(a, bucket, key, NULL), *tmp, *code = NULL, *why;
	FILE *f;
	int rc;

	tmp = xprintf("%s.part", path);
	if ((f = fopen(tmp, "w+")) == NULL) {
		xasprintf(cause, "cannot write %s: %s", tmp, strerror(errno));
		free(tmp);
		free(url);
		return CLOUD_ERR;
	}
	rc = s3_request(a, "GET", url, NULL, 0, f, &resp, &code, cause);
	http_response_free(&resp);
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
		xasprintf(cause, "s3://%s/%s: %s", bucket, key, why);
		free(why);
	}
	free(code);
	free(tmp);
	free(url);
	return rc;
}

int
s3_put_object(struct aws *a, const char *bucket, const char *key,
    const char *path, char **cause)
{
	struct http_response resp;
	char *data, *url, *code = NULL;
	size_t len;
	int rc;

	if ((data = fs_read_file(path, &len, cause)) == NULL)
		return CLOUD_ERR;
	url = s3_url(a, bucket, key, NULL);
	rc = s3_request(a, "PUT", url, data, len, NULL, &resp, &code, cause);
	http_response_free(&resp);
	free(code);
	free(url);
	free(data);
	return rc;
}

/* store_local_fetch's get: one object of the bucket of a s3_get. */
struct s3_get {
	struct aws	*a;
	const char	*bucket;
};

static int
s3_get_one(void *arg, const char *name, const char *path, char **cause)
{
	struct s3_get *p = arg;

	return s3_get_object(p->a, p->bucket, name, path, cause);
}

int
s3_local_inputs(const struct project *pr, long limit, struct sink *sink,
    char ***pathsp, char ***namesp, size_t *np, char **cause)
{
	const struct store_url *u = pr->inputs_url;
	struct s3_get get;
	struct store_entry *e;
	struct s3_list l;
	size_t i;
	int rc;

	*pathsp = *namesp = NULL;
	*np = 0;
	if (limit <= 0)
		limit = pr->limit;
	if ((get.a = aws_open(NULL, cause)) == NULL)
		return -2;
	if (s3_list_objects(get.a, u, limit, "inputs.glob", &l, cause) != 0) {
		aws_free(get.a);
		return -2;
	}
	get.bucket = u->bucket;
	e = xcalloc(l.n + 1, sizeof *e);
	for (i = 0; i < l.n; i++) {
		e[i].name = l.v[i].key;
		e[i].size = l.v[i].size;
		e[i].version = l.v[i].etag;
	}
	rc = store_local_fetch(pr, e, l.n, l.pages, s3_get_one, &get, sink,
	    pathsp, namesp, cause);
	if (rc == 0)
		*np = l.n;
	free(e);
	s3_list_free(&l);
	aws_free(get.a);
	return rc;
}
