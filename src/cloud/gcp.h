/* Google Cloud REST (Compute Engine v1, Cloud Storage JSON v1): JSON
 * requests with a bearer token (gcp-auth.h) over http.c, endpoints as
 * gcloud overrides them, Google's error bodies turned into one-line causes
 * and kinds (enum cloud_err), retries as Google's libraries do them, and
 * zone/global operations polled to DONE.
 *
 * Retries are google-api-core's (google/api_core/retry/retry_base.py):
 * on HTTP 429, 500, 502, 503, 504 (api_core's if_transient_error plus
 * google-cloud-storage's 502/504) and on a connection that failed, sleep
 * uniform(0, d) with d = 1 s, 2 s, 4 s, ... capped at 60 s ("truncated
 * exponential backoff" with full jitter), until a deadline of 120 s from
 * the first attempt. A 401 fetches a new token and tries once more. Every
 * method is retried: inserts must carry a requestId (Compute Engine then
 * runs a repeated insert once). */
#ifndef FANOUT_CLOUD_GCP_H
#define FANOUT_CLOUD_GCP_H

#include <jansson.h>

struct gcp_auth;

#define GCP_COMPUTE_URL	"https://compute.googleapis.com/compute/v1/"
#define GCP_STORAGE_URL	"https://storage.googleapis.com/storage/v1/"

struct gcp {
	struct gcp_auth	*auth;		/* credentials and the token */
	char		*project;	/* the project every call names */
	char		*compute;	/* base URL, ends in "/" */
	char		*storage;	/* base URL, ends in "/" */
	char		*upload;	/* storage's upload base, ends in "/" */
	double		 retry_initial;	/* first backoff bound, s (1) */
	double		 retry_max;	/* backoff cap, s (60) */
	double		 retry_deadline; /* s from the first attempt (120) */
	double		 op_deadline;	/* s an operation may take (600) */
};

/* Credentials (gcp_auth_open), the project and the endpoints:
 * CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE / _STORAGE, else Google's. NULL
 * with a one-line cause (no credentials, a malformed key, no project:
 * the cause names every place looked at). */
struct gcp	*gcp_open(char **cause);
void		 gcp_free(struct gcp *);

/* "BASE" + the path made from fmt (e.g. "projects/%s/zones/%s/instances"). */
char		*gcp_compute_url(const struct gcp *, const char *fmt, ...)
		     __attribute__((format(printf, 2, 3)));
char		*gcp_storage_url(const struct gcp *, const char *fmt, ...)
		     __attribute__((format(printf, 2, 3)));

/* One JSON call: method "GET", "POST" or "DELETE", body (POST only) or
 * NULL. 0 with
 * the answer in *out (an empty object for an empty answer; caller
 * json_decref's; out may be NULL), or an enum cloud_err with a cause
 * "METHOD PATH: reason: message (HTTP n)". */
int		 gcp_call(struct gcp *, const char *method, const char *url,
		     json_t *body, json_t **out, char **cause);

/* Every page of a list call (GET url, then url with pageToken while the
 * answer has a nextPageToken): an array of the answers, in order, or NULL
 * with a cause (an enum cloud_err in *kind when kind is not NULL). */
json_t		*gcp_list_pages(struct gcp *, const char *url, int *kind,
		     char **cause);

/* Polls a compute operation (an answer of insert, delete, start, ...)
 * with operations.wait until it is DONE or op_deadline passes. 0 with
 * the DONE operation in *done (may be NULL), or an enum cloud_err with a
 * cause; an operation that ends with an error gives its errors as the
 * cause ("operation NAME (insert of TARGET) failed: CODE: message") and
 * a kind from its first error code. */
int		 gcp_operation_wait(struct gcp *, json_t *op, json_t **done,
		     char **cause);

/* The kind (enum cloud_err) of a Google error: status is the HTTP status
 * (0: no answer), reason errors[0].reason or NULL. */
int		 gcp_error_kind(long status, const char *reason);
/* The kind of an operation error code ("QUOTA_EXCEEDED", ...). */
int		 gcp_op_error_kind(const char *code);
/* One line for a failed answer: "WHAT: reason: message (HTTP n)". */
char		*gcp_error_cause(const char *what, long status,
		     const char *body, size_t len, char **reason);
/* The backoff before retry n (n >= 1): uniform in [0, min(initial *
 * 2^(n-1), max)]. */
double		 gcp_backoff(const struct gcp *, int n);

#endif
