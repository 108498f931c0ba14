/* S3 REST calls (s3.h). */
#include <dirent.h>
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
#include "run/local.h"
#include "run/project.h"
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

/* The cache's index: {"KEY": {"etag": E, "size": N}} of one bucket. */
static json_t *
s3_cache_index(const char *path)
{
	json_t *j = json_load_file(path, 0, NULL);

	if (!json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	return j;
}

int
s3_local_inputs(const struct project *pr, long limit, struct sink *sink,
    char ***pathsp, char ***namesp, size_t *np, char **cause)
{
	const struct store_url *u = pr->inputs_url;
	struct s3_list l;
	struct aws *a;
	struct stat sb;
	json_t *index, *ent;
	char **paths = NULL, **names = NULL, *cache, *ipath, *rel, *abs, *dir;
	size_t i, fetched = 0;
	long long bytes = 0;
	int rc = -1;

	*pathsp = *namesp = NULL;
	*np = 0;
	if (limit <= 0)
		limit = pr->limit;
	if ((a = aws_open(NULL, cause)) == NULL)
		return -2;
	if (s3_list_objects(a, u, limit, "inputs.glob", &l, cause) != 0) {
		aws_free(a);
		return -2;
	}
	event_log(sink, "inputs", "%zu object(s) of s3://%s/%s (%d page(s) "
	    "listed)", l.n, u->bucket, u->key, l.pages);
	cache = xprintf("%s/.fanout/s3/%s", pr->dir, u->bucket);
	ipath = xprintf("%s/.fanout/s3/%s.index.json", pr->dir, u->bucket);
	if (fs_mkdir_p(cache, 0755, cause) != 0)
		goto out;
	index = s3_cache_index(ipath);
	paths = xcalloc(l.n + 1, sizeof *paths);
	names = xcalloc(l.n + 1, sizeof *names);
	for (i = 0; i < l.n; i++) {
		rel = xprintf(".fanout/s3/%s/%s", u->bucket, l.v[i].key);
		abs = fs_join(pr->dir, rel);
		ent = json_object_get(index, l.v[i].key);
		if (stat(abs, &sb) != 0 || sb.st_size != l.v[i].size ||
		    strcmp(json_string_value(json_object_get(ent, "etag")) ?
		    json_string_value(json_object_get(ent, "etag")) : "",
		    l.v[i].etag) != 0) {
			dir = xstrdup(abs);
			*strrchr(dir, '/') = '\0';
			if (fs_mkdir_p(dir, 0755, cause) != 0 ||
			    s3_get_object(a, u->bucket, l.v[i].key, abs,
			    cause) != 0) {
				free(dir);
				free(abs);
				free(rel);
				json_decref(index);
				goto out;
			}
			free(dir);
			json_object_set_new(index, l.v[i].key, json_pack(
			    "{s:s, s:I}", "etag", l.v[i].etag, "size",
			    (json_int_t)l.v[i].size));
			fetched++;
			bytes += l.v[i].size;
		}
		free(abs);
		paths[i] = rel;
		names[i] = xprintf("s3://%s/%s", u->bucket, l.v[i].key);
	}
	if (json_dump_file(index, ipath, JSON_COMPACT) != 0)
		event_log(sink, "inputs", "cannot write %s", ipath);
	json_decref(index);
	event_log(sink, "inputs", "%zu downloaded (%lld bytes), %zu from the "
	    "cache %s", fetched, bytes, l.n - fetched, cache);
	*pathsp = paths;
	*namesp = names;
	*np = l.n;
	paths = names = NULL;
	rc = 0;
out:
	if (paths != NULL) {
		for (i = 0; i < l.n; i++) {
			free(paths[i]);
			free(names[i]);
		}
		free(paths);
		free(names);
	}
	free(cache);
	free(ipath);
	s3_list_free(&l);
	aws_free(a);
	return rc;
}

/* 'text' for sh. */
static void
s3_sh_quote(struct strbuf *sb, const char *s)
{
	strbuf_addc(sb, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			strbuf_adds(sb, "'\\''");
		else
			strbuf_addc(sb, *s);
	}
	strbuf_addc(sb, '\'');
}

/* The start of a host's script: python3 with boto3 (installed when this
 * user may), then "ENV=... python3 - " with the endpoint overrides and
 * the region (never a credential) and the template text after. */
static int
s3_host_python(struct aws *a, struct strbuf *sb, const char *tmpl,
    const char *args, char **cause)
{
	char *rel = xprintf("templates/%s", tmpl), *path, *text, *ep, *pub;

	path = fs_data_path(rel);
	if (path == NULL) {
		xasprintf(cause, "%s not found; set FANOUT_DATA_DIR to "
		    "fanout's data folder", rel);
		free(rel);
		return -1;
	}
	free(rel);
	text = fs_read_file(path, NULL, cause);
	free(path);
	if (text == NULL)
		return -1;
	strbuf_adds(sb,
	    "if ! python3 -c 'import boto3' >/dev/null 2>&1; then\n"
	    "\ts=; [ \"$(id -u)\" = 0 ] || s='sudo -n'\n"
	    "\tif command -v dnf >/dev/null 2>&1; then\n"
	    "\t\t$s dnf install -y -q python3-boto3 >/dev/null 2>&1\n"
	    "\telif command -v apt-get >/dev/null 2>&1; then\n"
	    "\t\t$s apt-get install -y -qq python3-boto3 >/dev/null 2>&1\n"
	    "\tfi\n"
	    "fi\n"
	    "python3 -c 'import boto3' >/dev/null 2>&1 || { echo '#error "
	    "this host has no python3 with boto3, which fetches and puts "
	    "bucket objects; install python3-boto3 there'; exit 1; }\n");
	ep = aws_endpoint(a, "s3");
	pub = xprintf("https://s3.%s.amazonaws.com/", a->region);
	if (strcmp(ep, pub) != 0) {
		strbuf_adds(sb, "AWS_ENDPOINT_URL_S3=");
		s3_sh_quote(sb, ep);
		strbuf_adds(sb, " ");
	}
	free(ep);
	free(pub);
	strbuf_adds(sb, "AWS_DEFAULT_REGION=");
	s3_sh_quote(sb, a->region);
	strbuf_addf(sb, " python3 - %s <<'FANOUT_EOF_py'\n%s\nFANOUT_EOF_py\n",
	    args, text);
	free(text);
	return 0;
}

int
aws_store_check(void *s, const struct project *pr, long files, char **cause)
{
	struct s3_list l;

	if (pr->inputs_url != NULL) {
		if (strcmp(pr->inputs_url->scheme, "s3") != 0) {
			xasprintf(cause, "inputs.glob %s: AWS reads s3:// "
			    "buckets; nothing was created", pr->glob);
			return -1;
		}
		if (s3_list_objects(s, pr->inputs_url, files > 0 ? files :
		    pr->limit, "inputs.glob", &l, cause) != 0)
			return -1;
		s3_list_free(&l);
	}
	if (pr->results_url != NULL) {
		if (strcmp(pr->results_url->scheme, "s3") != 0) {
			xasprintf(cause, "results s3://%s: AWS writes to s3:// "
			    "buckets; nothing was created",
			    pr->results_url->bucket);
			return -1;
		}
		if (s3_check_bucket(s, pr->results_url, "results", cause) != 0)
			return -1;
	}
	return 0;
}

int
aws_store_fetch(void *s, const struct project *pr, long files, char ***pathsp,
    char ***namesp, size_t *np, char **list, char **script, char **summary,
    char **cause)
{
	const struct store_url *u = pr->inputs_url;
	struct s3_list l;
	struct strbuf sb;
	char **paths, **names;
	size_t i;

	*pathsp = *namesp = NULL;
	*np = 0;
	*script = *list = NULL;
	*summary = NULL;
	if (s3_list_objects(s, u, files > 0 ? files : pr->limit,
	    "inputs.glob", &l, cause) != 0)
		return -1;
	for (i = 0; i < l.n; i++) {
		if (strpbrk(l.v[i].key, "\t\n") != NULL) {
			xasprintf(cause, "s3://%s/%s: a key with a tab or a "
			    "newline cannot be an input; rename it", u->bucket,
			    l.v[i].key);
			s3_list_free(&l);
			return -1;
		}
	}
	strbuf_init(&sb);
	paths = xcalloc(l.n + 1, sizeof *paths);
	names = xcalloc(l.n + 1, sizeof *names);
	for (i = 0; i < l.n; i++) {
		strbuf_addf(&sb, "%s\t%s\t%lld\t%s\tstore/%s/%s\n", u->bucket,
		    l.v[i].key, l.v[i].size, l.v[i].etag, u->bucket,
		    l.v[i].key);
		/* The tasks run in the project's tree beside store/. */
		paths[i] = xprintf("../store/%s/%s", u->bucket, l.v[i].key);
		names[i] = xprintf("s3://%s/%s", u->bucket, l.v[i].key);
	}
	*list = strbuf_detach(&sb);
	strbuf_init(&sb);
	*np = l.n;
	xasprintf(summary, "%zu object(s) of s3://%s/%s (%d page(s) listed), "
	    "fetched by the host itself", l.n, u->bucket, u->key, l.pages);
	s3_list_free(&l);
	if (s3_host_python(s, &sb, "s3-fetch.py", "\"$fetch_list\"",
	    cause) != 0) {
		for (i = 0; i < *np; i++) {
			free(paths[i]);
			free(names[i]);
		}
		free(paths);
		free(names);
		*np = 0;
		free(*summary);
		*summary = NULL;
		free(*list);
		*list = NULL;
		strbuf_free(&sb);
		return -1;
	}
	*pathsp = paths;
	*namesp = names;
	*script = strbuf_detach(&sb);
	return 0;
}

char *
aws_store_put(void *s, const struct project *pr, char **cause)
{
	struct strbuf sb, args;
	char *text;

	strbuf_init(&sb);
	strbuf_init(&args);
	strbuf_adds(&args, "results ");
	s3_sh_quote(&args, pr->results_url->bucket);
	strbuf_addc(&args, ' ');
	s3_sh_quote(&args, pr->results_url->prefix);
	if (s3_host_python(s, &sb, "s3-put.py", args.buf, cause) != 0) {
		strbuf_free(&sb);
		strbuf_free(&args);
		return NULL;
	}
	strbuf_free(&args);
	text = strbuf_detach(&sb);
	return text;
}

/* Puts every file under dir/rel into bucket under key prefix dest. */
static int
s3_put_tree(struct aws *a, const char *bucket, const char *dest,
    const char *dir, const char *rel, size_t *n, char **cause)
{
	char *path = *rel != '\0' ? fs_join(dir, rel) : xstrdup(dir), *sub;
	char *key;
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int rc = 0;

	if ((d = opendir(path)) == NULL) {
		xasprintf(cause, "cannot read %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name,
		    "..") == 0)
			continue;
		sub = *rel != '\0' ? xprintf("%s/%s", rel, de->d_name) :
		    xstrdup(de->d_name);
		free(path);
		path = fs_join(dir, sub);
		if (lstat(path, &sb) != 0)
			;	/* gone meanwhile */
		else if (S_ISDIR(sb.st_mode))
			rc = s3_put_tree(a, bucket, dest, dir, sub, n, cause);
		else if (S_ISREG(sb.st_mode)) {
			key = xprintf("%s%s", dest, sub);
			if ((rc = s3_put_object(a, bucket, key, path,
			    cause)) == 0)
				(*n)++;
			free(key);
		}
		free(sub);
	}
	closedir(d);
	free(path);
	return rc;
}

enum local_status
s3_run_local(struct local_opts *lo, struct local_result *lr, char **cause)
{
	struct project pr;
	struct aws *a = NULL;
	char **paths = NULL, **names = NULL, *dest, *why;
	const char *stamp;
	size_t n = 0, i, put = 0;
	enum local_status ls;
	int rc;

	memset(lr, 0, sizeof *lr);
	if (project_load(lo->project_dir, &pr, cause) != 0)
		return LOCAL_BAD_INPUT;
	if (pr.inputs_url == NULL && pr.results_url == NULL) {
		project_free(&pr);
		return local_run(lo, lr, cause);
	}
	if ((pr.inputs_url != NULL && strcmp(pr.inputs_url->scheme,
	    "s3") != 0) || (pr.results_url != NULL &&
	    strcmp(pr.results_url->scheme, "s3") != 0)) {
		xasprintf(cause, "%s: gs:// buckets are not supported yet; use "
		    "s3:// or local files", pr.file);
		project_free(&pr);
		return LOCAL_BAD_INPUT;
	}
	/* The results bucket is checked before anything runs. */
	if (pr.results_url != NULL && ((a = aws_open(NULL, cause)) == NULL ||
	    s3_check_bucket(a, pr.results_url, "results", cause) != 0)) {
		aws_free(a);
		project_free(&pr);
		return LOCAL_BAD_INPUT;
	}
	if (pr.inputs_url != NULL) {
		rc = s3_local_inputs(&pr, lo->files, lo->sink, &paths, &names,
		    &n, cause);
		if (rc != 0) {
			aws_free(a);
			project_free(&pr);
			return rc == -2 ? LOCAL_BAD_INPUT : LOCAL_FAILED;
		}
		lo->task_inputs = paths;
		lo->inputs = names;
		lo->ninputs = n;
	}
	ls = local_run(lo, lr, cause);
	if (ls == LOCAL_OK && a != NULL && !lr->cancelled) {
		/* Into PREFIX/<the results folder's name>/. */
		stamp = strrchr(lr->results_dir, '/') != NULL ?
		    strrchr(lr->results_dir, '/') + 1 : lr->results_dir;
		dest = xprintf("%s%s%s/", pr.results_url->prefix,
		    *pr.results_url->prefix != '\0' && pr.results_url->prefix[
		    strlen(pr.results_url->prefix) - 1] != '/' ? "/" : "",
		    stamp);
		if (s3_put_tree(a, pr.results_url->bucket, dest,
		    lr->results_dir, "", &put, cause) != 0) {
			why = *cause;
			xasprintf(cause, "the results are in %s; copying them to "
			    "s3://%s/%s failed: %s", lr->results_dir,
			    pr.results_url->bucket, dest, why);
			free(why);
			ls = LOCAL_FAILED;
		} else
			event_log(lo->sink, NULL, "results copied to s3://%s/%s "
			    "(%zu files)", pr.results_url->bucket, dest, put);
		free(dest);
	}
	for (i = 0; i < n; i++) {
		free(paths[i]);
		free(names[i]);
	}
	free(paths);
	free(names);
	aws_free(a);
	project_free(&pr);
	return ls;
}
