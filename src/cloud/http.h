/* One HTTP helper over libcurl, the only place that includes curl.h.
 * Requests can be signed with AWS Signature V4 (CURLOPT_AWS_SIGV4) and are
 * retried as botocore's "standard" mode: up to 3 attempts, full-jitter
 * exponential backoff capped at 20 s, on connection errors (not on a bad
 * URL or a refused certificate: resp->final), HTTP
 * 500/502/503/504 and whatever the caller's classifier calls transient
 * (AWS throttling codes). Nothing here logs headers or bodies. */
#ifndef FANOUT_CLOUD_HTTP_H
#define FANOUT_CLOUD_HTTP_H

#include <stddef.h>
#include <stdio.h>

struct http_response {
	long	 status;	/* HTTP status; 0 when no answer came */
	char	*body;		/* answer body, NUL-terminated (may be "") */
	size_t	 len;		/* body bytes */
	char	*error;		/* transport error text when status is 0 */
	int	 final;		/* no answer, and another attempt cannot
				 * help (a bad URL, a refused certificate):
				 * not retried */
	int	 attempts;	/* attempts made */
};

struct http_request {
	const char	 *method;	/* "GET", "POST", "PUT" (body as
					 * POST's) or "HEAD" */
	const char	 *url;
	const char	 *body;		/* POST body or NULL */
	size_t		  body_len;
	const char *const *headers;	/* extra "Name: value", NULL-ended */
	const char	 *sigv4;	/* "aws:amz:REGION:SERVICE", or NULL */
	const char	 *access_key;	/* SigV4 credentials (never logged) */
	const char	 *secret_key;
	long		  timeout;	/* seconds for one attempt; 0 = 60 */
	int		  max_attempts;	/* 0 = standard (3, or AWS_MAX_ATTEMPTS) */
	/* Non-zero when an answer that came is transient and worth another
	 * attempt (e.g. an AWS throttling code). May be NULL. */
	int		(*transient)(const struct http_response *);
	/* When not NULL, an answer's body goes to this file (emptied
	 * before each attempt) instead of resp->body; an answer of status
	 * >= 300 is read back into resp->body (it is an error text). */
	FILE		 *out;
};

/* Initialises libcurl once (call before starting threads). */
void	http_init(void);
/* Performs the request with retries. Returns 0 when an HTTP answer came
 * (any status: the caller judges it), -1 when none did (resp->error). */
int	http_perform(const struct http_request *, struct http_response *);
void	http_response_free(struct http_response *);
/* Full-jitter backoff before attempt n+1 (n >= 1): uniform in
 * [0, min(20, 2^(n-1))] seconds. Exposed for tests. */
double	http_backoff(int attempt);
/* Percent-encodes a query value (RFC 3986 unreserved kept). */
char	*http_escape(const char *);

#endif
