/* S3 reads and the head's teardown statements of a detached run
 * (detach-s3.h). */
#include <stdlib.h>
#include <string.h>

#include "cloud/aws.h"
#include "cloud/detach-s3.h"
#include "cloud/http.h"
#include "cloud/provider.h"
#include "cloud/xml.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

/* A key with each path segment percent-encoded, '/' kept. */
static char *
detach_s3_escape_key(const char *key)
{
	struct strbuf sb;
	const char *p = key, *slash;
	char *seg, *e;

	strbuf_init(&sb);
	for (;;) {
		slash = strchr(p, '/');
		seg = slash != NULL ? xstrndup(p, (size_t)(slash - p)) :
		    xstrdup(p);
		e = http_escape(seg);
		strbuf_adds(&sb, e);
		free(e);
		free(seg);
		if (slash == NULL)
			break;
		strbuf_adds(&sb, "/");
		p = slash + 1;
	}
	return strbuf_detach(&sb);
}

/* One signed GET of url; 0 with the answer, or an enum cloud_err. */
static int
detach_s3_request(struct aws *a, const char *what, const char *url,
    struct http_response *resp, char **cause)
{
	struct http_request req = { 0 };
	const char *headers[3];
	char *sig, *tok = NULL, *code, *msg;
	size_t n = 0;
	int rc;

	sig = xprintf("aws:amz:%s:s3", a->region);
	/* The hash of an empty payload, as S3 wants it signed. */
	headers[n++] = "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb9"
	    "2427ae41e4649b934ca495991b7852b855";
	if (a->session_token != NULL) {
		tok = xprintf("X-Amz-Security-Token: %s", a->session_token);
		headers[n++] = tok;
	}
	headers[n] = NULL;
	req.method = "GET";
	req.url = url;
	req.headers = headers;
	req.sigv4 = sig;
	req.access_key = a->access_key;
	req.secret_key = a->secret_key;
	memset(resp, 0, sizeof *resp);
	if (http_perform(&req, resp) != 0) {
		xasprintf(cause, "%s: cannot reach %s (%s)", what, url,
		    resp->error);
		rc = resp->final ? CLOUD_ERR : CLOUD_ETRANSIENT;
	} else if (resp->status >= 300) {
		code = NULL;
		msg = NULL;
		if (resp->len > 0) {
			xmlDocPtr doc = xml_parse(resp->body, resp->len);

			if (doc != NULL) {
				code = xml_text(xmlDocGetRootElement(doc),
				    "Code");
				msg = xml_text(xmlDocGetRootElement(doc),
				    "Message");
				xmlFreeDoc(doc);
			}
		}
		if (code != NULL)
			xasprintf(cause, "%s: %s: %s", what, code, msg != NULL ?
			    msg : "");
		else
			xasprintf(cause, "%s: HTTP %ld from %s", what,
			    resp->status, url);
		rc = resp->status == 404 ? CLOUD_ENOTFOUND :
		    aws_error_kind(code, resp->status);
		free(code);
		free(msg);
	} else
		rc = 0;
	if (tok != NULL) {
		explicit_bzero(tok, strlen(tok));
		free(tok);
	}
	free(sig);
	return rc;
}

int
detach_s3_get(struct aws *a, const char *bucket, const char *key,
    char **body, size_t *len, char **cause)
{
	struct http_response resp;
	char *ep = aws_endpoint(a, "s3"), *k = detach_s3_escape_key(key), *url;
	char *what = xprintf("GetObject s3://%s/%s", bucket, key);
	int rc;

	*body = NULL;
	*len = 0;
	url = xprintf("%s%s/%s", ep, bucket, k);
	rc = detach_s3_request(a, what, url, &resp, cause);
	if (rc == 0) {
		*body = resp.body;
		*len = resp.len;
		resp.body = NULL;
	}
	http_response_free(&resp);
	free(what);
	free(url);
	free(k);
	free(ep);
	return rc;
}

int
detach_s3_list(struct aws *a, const char *bucket, const char *prefix,
    char ***keys, size_t *n, char **cause)
{
	struct http_response resp;
	xmlDocPtr doc;
	xmlNodePtr root, c;
	char *ep = aws_endpoint(a, "s3"), *url, *p, *t, *token = NULL, *k;
	char *what = xprintf("ListObjectsV2 s3://%s/%s", bucket, prefix);
	size_t cap = 16;
	int rc = 0, more;

	*n = 0;
	*keys = xcalloc(cap, sizeof **keys);
	do {
		p = http_escape(prefix);
		t = token != NULL ? http_escape(token) : NULL;
		url = xprintf("%s%s?list-type=2&prefix=%s%s%s", ep, bucket, p,
		    t != NULL ? "&continuation-token=" : "", t != NULL ? t :
		    "");
		free(p);
		free(t);
		free(token);
		token = NULL;
		rc = detach_s3_request(a, what, url, &resp, cause);
		free(url);
		if (rc != 0) {
			http_response_free(&resp);
			break;
		}
		if ((doc = xml_parse(resp.body, resp.len)) == NULL) {
			xasprintf(cause, "%s: the answer is not XML", what);
			http_response_free(&resp);
			rc = CLOUD_ERR;
			break;
		}
		http_response_free(&resp);
		root = xmlDocGetRootElement(doc);
		for (c = xml_child(root, "Contents"); c != NULL;
		    c = xml_next(c, "Contents")) {
			if ((k = xml_child_text(c, "Key")) == NULL)
				continue;
			if (*n + 1 >= cap) {
				cap *= 2;
				*keys = xreallocarray(*keys, cap,
				    sizeof **keys);
			}
			(*keys)[(*n)++] = k;
			(*keys)[*n] = NULL;
		}
		t = xml_child_text(root, "IsTruncated");
		more = t != NULL && strcmp(t, "true") == 0;
		free(t);
		if (more)
			token = xml_child_text(root, "NextContinuationToken");
		xmlFreeDoc(doc);
	} while (more && token != NULL);
	free(token);
	if (rc != 0) {
		while (*n > 0)
			free((*keys)[--*n]);
		free(*keys);
		*keys = NULL;
	}
	free(what);
	free(ep);
	return rc;
}

json_t *
detach_policy_statements(const char *id)
{
	return json_pack("[{s:s, s:s, s:[s, s, s, s, s, s], s:s, "
	    "s:{s:{s:s}}}, {s:s, s:s, s:[s, s, s, s], s:s}]",
	    "Sid", "FanoutTeardownOwnRunSet",
	    "Effect", "Allow",
	    "Action", "ec2:TerminateInstances", "ec2:StopInstances",
	    "ec2:DeleteLaunchTemplate", "ec2:DeleteKeyPair",
	    "ec2:DeleteSecurityGroup", "ec2:DeleteFleets",
	    "Resource", "*",
	    "Condition", "StringEquals", "aws:ResourceTag/fanout:run-set", id,
	    "Sid", "FanoutFindOwnRunSet",
	    "Effect", "Allow",
	    "Action", "ec2:DescribeInstances", "ec2:DescribeLaunchTemplates",
	    "ec2:DescribeKeyPairs", "ec2:DescribeSecurityGroups",
	    "Resource", "*");
}
