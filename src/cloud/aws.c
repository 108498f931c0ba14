/* AWS settings and API calls (aws.h). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "cloud/aws.h"
#include "cloud/http.h"
#include "cloud/provider.h"
#include "cloud/xml.h"
#include "util/fs.h"
#include "util/xmalloc.h"

const char *const aws_regions[] = {
	"us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1",
	"ap-east-1", "ap-south-1", "ap-south-2", "ap-southeast-1",
	"ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
	"ap-southeast-5", "ap-southeast-7", "ap-northeast-1",
	"ap-northeast-2", "ap-northeast-3", "ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2",
	"eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1",
	"il-central-1", "me-south-1", "me-central-1", "mx-central-1",
	"sa-east-1", NULL
};

/* Throttling and transient codes of botocore's standard retry mode. */
static const char *const aws_transient_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException",
	"RequestThrottledException", "TooManyRequestsException",
	"ProvisionedThroughputExceededException",
	"TransactionInProgressException", "RequestLimitExceeded",
	"BandwidthLimitExceeded", "LimitExceededException",
	"RequestThrottled", "SlowDown", "PriorRequestNotComplete",
	"EC2ThrottledException", "RequestTimeout", "RequestTimeoutException",
	"IDPCommunicationError", NULL
};

/* Codes of a resource another one still uses. */
static const char *const aws_inuse_codes[] = {
	"DependencyViolation", "ResourceInUse", "resourceInUse",
	"ResourceInUseException", "DeleteConflict", "InvalidGroup.InUse",
	NULL
};

static int
aws_code_in(const char *code, const char *const *list)
{
	size_t i;

	for (i = 0; list[i] != NULL; i++) {
		if (strcmp(code, list[i]) == 0)
			return 1;
	}
	return 0;
}

static int
aws_code_ends(const char *code, const char *suffix)
{
	size_t n = strlen(code), m = strlen(suffix);

	return n >= m && strcmp(code + n - m, suffix) == 0;
}

int
aws_error_kind(const char *code, long status)
{
	if (status == 0 || status == 500 || status == 502 || status == 503 ||
	    status == 504)
		return CLOUD_ETRANSIENT;
	if (code == NULL)
		return CLOUD_ERR;
	if (aws_code_in(code, aws_transient_codes))
		return CLOUD_ETRANSIENT;
	/* EC2's launch templates say NotFoundException and
	 * AlreadyExistsException. */
	if (aws_code_ends(code, "NotFound") || aws_code_ends(code,
	    "NotFoundException") || strcmp(code, "NoSuchEntity") == 0)
		return CLOUD_ENOTFOUND;
	if (aws_code_ends(code, ".Duplicate") || aws_code_ends(code,
	    "AlreadyExists") || aws_code_ends(code, "AlreadyExistsException"))
		return CLOUD_EDUPLICATE;
	if (aws_code_in(code, aws_inuse_codes))
		return CLOUD_EINUSE;
	return CLOUD_ERR;
}

int
aws_region_known(const char *r)
{
	size_t i;

	for (i = 0; r != NULL && aws_regions[i] != NULL; i++) {
		if (strcmp(aws_regions[i], r) == 0)
			return 1;
	}
	return 0;
}

static char *
aws_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Value of key in [section] of an INI file, or NULL (also when the file
 * is missing; *found says whether the file was read). */
static char *
aws_ini_get(const char *path, const char *section, const char *key,
    int *found)
{
	char *text, *line, *save = NULL, *cur = NULL, *val = NULL, *eq, *k;
	char *why = NULL;

	if ((text = fs_read_file(path, NULL, &why)) == NULL) {
		free(why);
		return NULL;
	}
	if (found != NULL)
		*found = 1;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		line = aws_trim(line);
		if (*line == '#' || *line == ';' || *line == '\0')
			continue;
		if (*line == '[') {
			free(cur);
			cur = xstrndup(line + 1, strcspn(line + 1, "]"));
			k = aws_trim(cur);
			memmove(cur, k, strlen(k) + 1);
			continue;
		}
		if (cur == NULL || strcmp(cur, section) != 0 ||
		    (eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		k = aws_trim(line);
		if (strcmp(k, key) == 0) {
			free(val);
			val = xstrdup(aws_trim(eq + 1));
		}
	}
	free(cur);
	free(text);
	return val;
}

static char *
aws_file(const char *env, const char *name)
{
	const char *s = getenv(env), *home = getenv("HOME");

	if (s != NULL && *s != '\0')
		return xstrdup(s);
	return xprintf("%s/.aws/%s", home != NULL ? home : "", name);
}

static const char *
aws_env(const char *name)
{
	const char *s = getenv(name);

	return s != NULL && *s != '\0' ? s : NULL;
}

/* The region the settings name: AWS_REGION, AWS_DEFAULT_REGION, then the
 * profile's in the config file; NULL with a cause naming where it looked. */
static char *
aws_settings_region(const char *profile, const char *cfile,
    const char *csect, char **cause)
{
	char *r;

	if (aws_env("AWS_REGION") != NULL)
		return xstrdup(aws_env("AWS_REGION"));
	if (aws_env("AWS_DEFAULT_REGION") != NULL)
		return xstrdup(aws_env("AWS_DEFAULT_REGION"));
	if ((r = aws_ini_get(cfile, csect, "region", NULL)) == NULL)
		xasprintf(cause, "no AWS region: looked at --region, "
		    "AWS_REGION, AWS_DEFAULT_REGION and profile '%s' in %s; "
		    "say --region (e.g. us-east-1)", profile, cfile);
	return r;
}

char *
aws_config_region(char **cause)
{
	char *cfile = aws_file("AWS_CONFIG_FILE", "config"), *csect, *r;
	const char *profile = aws_env("AWS_PROFILE");

	if (profile == NULL)
		profile = aws_env("AWS_DEFAULT_PROFILE");
	if (profile == NULL)
		profile = "default";
	csect = strcmp(profile, "default") == 0 ? xstrdup("default") :
	    xprintf("profile %s", profile);
	r = aws_settings_region(profile, cfile, csect, cause);
	free(csect);
	free(cfile);
	return r;
}

struct aws *
aws_open(const char *region_override, char **cause)
{
	char *cfile = aws_file("AWS_CONFIG_FILE", "config");
	char *kfile = aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
	char *csect, *r = NULL;
	const char *profile = aws_env("AWS_PROFILE");
	struct aws *a = xcalloc(1, sizeof *a);
	int kfound = 0, cfound = 0;

	xmlInitParser();	/* before any thread parses */
	if (profile == NULL)
		profile = aws_env("AWS_DEFAULT_PROFILE");
	a->profile = xstrdup(profile != NULL ? profile : "default");
	csect = strcmp(a->profile, "default") == 0 ? xstrdup("default") :
	    xprintf("profile %s", a->profile);
	if (aws_env("AWS_ACCESS_KEY_ID") && aws_env("AWS_SECRET_ACCESS_KEY")) {
		a->access_key = xstrdup(aws_env("AWS_ACCESS_KEY_ID"));
		a->secret_key = xstrdup(aws_env("AWS_SECRET_ACCESS_KEY"));
		if (aws_env("AWS_SESSION_TOKEN") != NULL)
			a->session_token = xstrdup(aws_env("AWS_SESSION_TOKEN"));
		a->creds_from = xstrdup("environment");
	} else {
		a->access_key = aws_ini_get(kfile, a->profile,
		    "aws_access_key_id", &kfound);
		a->secret_key = aws_ini_get(kfile, a->profile,
		    "aws_secret_access_key", NULL);
		a->session_token = aws_ini_get(kfile, a->profile,
		    "aws_session_token", NULL);
		if (a->access_key == NULL || a->secret_key == NULL) {
			free(a->access_key);
			free(a->secret_key);
			free(a->session_token);
			a->access_key = aws_ini_get(cfile, csect,
			    "aws_access_key_id", &cfound);
			a->secret_key = aws_ini_get(cfile, csect,
			    "aws_secret_access_key", NULL);
			a->session_token = aws_ini_get(cfile, csect,
			    "aws_session_token", NULL);
		}
		a->creds_from = xprintf("profile '%s'", a->profile);
	}
	if (a->access_key == NULL || a->secret_key == NULL) {
		aws_ini_get(cfile, csect, "region", &cfound);
		xasprintf(cause, "no AWS credentials found: looked at "
		    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profile '%s' "
		    "in %s (%s) and %s (%s); set them or run 'aws configure'",
		    a->profile, kfile, kfound ? "no keys there" : "missing",
		    cfile, cfound ? "no keys there" : "missing");
		goto fail;
	}
	if (region_override != NULL && *region_override != '\0')
		r = xstrdup(region_override);
	else if ((r = aws_settings_region(a->profile, cfile, csect,
	    cause)) == NULL)
		goto fail;
	if (!aws_region_known(r)) {
		xasprintf(cause, "unknown AWS region '%s' (e.g. us-east-1, "
		    "eu-west-1); check --region or AWS_REGION", r);
		free(r);
		goto fail;
	}
	a->region = r;
	a->endpoint_url = aws_ini_get(cfile, csect, "endpoint_url", NULL);
	free(cfile);
	free(kfile);
	free(csect);
	return a;
fail:
	free(cfile);
	free(kfile);
	free(csect);
	aws_free(a);
	return NULL;
}

void
aws_free(struct aws *a)
{
	if (a == NULL)
		return;
	if (a->secret_key != NULL)
		explicit_bzero(a->secret_key, strlen(a->secret_key));
	if (a->session_token != NULL)
		explicit_bzero(a->session_token, strlen(a->session_token));
	free(a->access_key);
	free(a->secret_key);
	free(a->session_token);
	free(a->region);
	free(a->profile);
	free(a->creds_from);
	free(a->endpoint_url);
	free(a);
}

char *
aws_endpoint(const struct aws *a, const char *service)
{
	char name[64], *p;
	const char *s;
	size_t i;

	snprintf(name, sizeof name, "AWS_ENDPOINT_URL_%s", service);
	for (i = strlen("AWS_ENDPOINT_URL_"); name[i] != '\0'; i++)
		name[i] = (char)toupper((unsigned char)name[i]);
	if ((s = aws_env(name)) != NULL || (s = aws_env("AWS_ENDPOINT_URL"))
	    != NULL || (s = a->endpoint_url) != NULL) {
		p = xstrdup(s);
		if (*p != '\0' && p[strlen(p) - 1] != '/') {
			char *q = xprintf("%s/", p);

			free(p);
			p = q;
		}
		return p;
	}
	if (strcmp(service, "iam") == 0)
		return xstrdup("https://iam.amazonaws.com/");
	return xprintf("https://%s.%s.amazonaws.com/", service, a->region);
}

void
aws_params_init(struct aws_params *p, const char *action, const char *version)
{
	strbuf_init(&p->sb);
	p->action = xstrdup(action);
	strbuf_addf(&p->sb, "Action=%s&Version=%s", action, version);
}

void
aws_param(struct aws_params *p, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *v, *e;

	va_start(ap, fmt);
	xvasprintf(&v, fmt, ap);
	va_end(ap);
	e = http_escape(v);
	strbuf_addf(&p->sb, "&%s=%s", key, e);
	free(e);
	free(v);
}

void
aws_param_tags(struct aws_params *p, int n, const char *resource_type,
    const char *run_set, const char *project, const char *name)
{
	const char *kv[] = { "managedBy", "fanout", "fanout:run-set", run_set,
	    "fanout:project", project, "Name", name };
	char key[64];
	int i;

	snprintf(key, sizeof key, "TagSpecification.%d.ResourceType", n);
	aws_param(p, key, "%s", resource_type);
	for (i = 0; i < 4; i++) {
		snprintf(key, sizeof key, "TagSpecification.%d.Tag.%d.Key", n,
		    i + 1);
		aws_param(p, key, "%s", kv[2 * i]);
		snprintf(key, sizeof key, "TagSpecification.%d.Tag.%d.Value",
		    n, i + 1);
		aws_param(p, key, "%s", kv[2 * i + 1]);
	}
}

void
aws_params_free(struct aws_params *p)
{
	strbuf_free(&p->sb);
	free(p->action);
}

/* The code of an AWS error answer (XML or JSON), or NULL. */
static char *
aws_error_code(const char *body, size_t len, char **message)
{
	char *code = NULL;
	json_t *j;
	xmlDocPtr doc;

	*message = NULL;
	if (len == 0)
		return NULL;
	if (body[0] == '{') {
		if ((j = json_loadb(body, len, 0, NULL)) == NULL)
			return NULL;
		const char *t = json_string_value(json_object_get(j, "__type"));
		const char *m = json_string_value(json_object_get(j, "message"));

		if (m == NULL)
			m = json_string_value(json_object_get(j, "Message"));
		if (t != NULL) {
			const char *h = strrchr(t, '#');

			code = xstrdup(h != NULL ? h + 1 : t);
			*message = xstrdup(m != NULL ? m : "");
		}
		json_decref(j);
		return code;
	}
	if ((doc = xml_parse(body, len)) == NULL)
		return NULL;
	code = xml_text(xmlDocGetRootElement(doc), "Code");
	if (code != NULL)
		*message = xml_text(xmlDocGetRootElement(doc), "Message");
	xmlFreeDoc(doc);
	return code;
}

static int
aws_transient(const struct http_response *r)
{
	char *code, *msg;
	int t;

	if (r->status < 400)
		return 0;
	if ((code = aws_error_code(r->body, r->len, &msg)) == NULL)
		return 0;
	t = aws_code_in(code, aws_transient_codes);
	free(code);
	free(msg);
	return t;
}

/* Sends one signed POST. Returns 0 with an answer, or an enum cloud_err
 * with the cause. */
static int
aws_post(struct aws *a, const char *service, const char *action,
    const char *body, size_t len, const char *const *extra,
    struct http_response *resp, char **cause)
{
	struct http_request req = { 0 };
	const char *headers[6];
	char *url = aws_endpoint(a, service), *sig, *tok = NULL, *code, *msg;
	size_t n = 0;
	int rc;

	sig = xprintf("aws:amz:%s:%s", strcmp(service, "iam") == 0 ?
	    "us-east-1" : a->region, service);
	while (extra != NULL && *extra != NULL && n < 3)
		headers[n++] = *extra++;
	if (a->session_token != NULL) {
		tok = xprintf("X-Amz-Security-Token: %s", a->session_token);
		headers[n++] = tok;
	}
	headers[n] = NULL;
	req.method = "POST";
	req.url = url;
	req.body = body;
	req.body_len = len;
	req.headers = headers;
	req.sigv4 = sig;
	req.access_key = a->access_key;
	req.secret_key = a->secret_key;
	req.transient = aws_transient;
	if (http_perform(&req, resp) != 0) {
		if (resp->final) {
			xasprintf(cause, "%s: cannot reach %s (%s)", action,
			    url, resp->error);
			rc = CLOUD_ERR;
		} else {
			xasprintf(cause, "%s: cannot reach %s (%s) after %d "
			    "attempts", action, url, resp->error,
			    resp->attempts);
			rc = CLOUD_ETRANSIENT;
		}
	} else if (resp->status >= 300) {
		code = aws_error_code(resp->body, resp->len, &msg);
		if (code != NULL)
			xasprintf(cause, "%s: %s: %s", action, code, msg);
		else
			xasprintf(cause, "%s: HTTP %ld from %s", action,
			    resp->status, url);
		rc = aws_error_kind(code, resp->status);
		free(code);
		free(msg);
	} else
		rc = 0;
	if (tok != NULL) {
		explicit_bzero(tok, strlen(tok));
		free(tok);
	}
	free(sig);
	free(url);
	return rc;
}

int
aws_query(struct aws *a, const char *service, struct aws_params *p,
    xmlDocPtr *doc, char **cause)
{
	static const char *const hdr[] = {
	    "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
	    NULL };
	struct http_response resp;
	int rc;

	*doc = NULL;
	rc = aws_post(a, service, p->action, p->sb.buf, p->sb.len, hdr, &resp,
	    cause);
	if (rc == 0 && (*doc = xml_parse(resp.body, resp.len)) == NULL) {
		xasprintf(cause, "%s: the answer is not XML", p->action);
		rc = CLOUD_ERR;
	}
	http_response_free(&resp);
	return rc;
}

int
aws_json(struct aws *a, const char *service, const char *target,
    json_t *body, json_t **out, char **cause)
{
	char *text = json_dumps(body, JSON_COMPACT), *th;
	const char *hdr[3];
	const char *action = strchr(target, '.') ? strchr(target, '.') + 1 :
	    target;
	struct http_response resp;
	json_error_t je;
	int rc;

	*out = NULL;
	th = xprintf("X-Amz-Target: %s", target);
	hdr[0] = "Content-Type: application/x-amz-json-1.1";
	hdr[1] = th;
	hdr[2] = NULL;
	rc = aws_post(a, service, action, text, strlen(text), hdr, &resp,
	    cause);
	if (rc == 0 && (*out = json_loadb(resp.body, resp.len, 0, &je)) ==
	    NULL) {
		xasprintf(cause, "%s: the answer is not JSON (%s)", action,
		    je.text);
		rc = CLOUD_ERR;
	}
	http_response_free(&resp);
	free(text);
	free(th);
	return rc;
}

int
aws_query_gone(struct aws *a, const char *service, struct aws_params *p,
    int gone_ok, xmlDocPtr *doc, char **cause)
{
	char *why = NULL;
	int rc;

	rc = aws_query(a, service, p, doc, &why);
	aws_params_free(p);
	if (rc == 0)
		return 0;
	if (gone_ok && rc == CLOUD_ENOTFOUND) {
		free(why);
		return 0;
	}
	*cause = why;
	return rc;
}
