/* Google's error bodies as one-line causes and kinds, operation error
 * codes, and the backoff bounds of gcp.c (no network: gcp-rest.sh calls
 * the stand-in). */
#include <stdlib.h>
#include <string.h>

#include "cloud/gcp.h"
#include "cloud/provider.h"
#include "tap.h"

static const char quota[] = "{\"error\": {\"code\": 403, \"message\": "
    "\"Quota 'CPUS' exceeded.\\n Limit: 8.0 in region us-central1.\", "
    "\"errors\": [{\"message\": \"Quota 'CPUS' exceeded.\", \"domain\": "
    "\"usageLimits\", \"reason\": \"quotaExceeded\"}], \"status\": "
    "\"PERMISSION_DENIED\"}}";
static const char notfound[] = "{\"error\": {\"code\": 404, \"message\": "
    "\"The resource 'projects/p/zones/us-central1-a/instances/x' was not "
    "found\", \"errors\": [{\"reason\": \"notFound\", \"domain\": "
    "\"global\"}], \"status\": \"NOT_FOUND\"}}";
static const char info[] = "{\"error\": {\"code\": 403, \"message\": "
    "\"Compute Engine API has not been used\", \"status\": "
    "\"PERMISSION_DENIED\", \"details\": [{\"@type\": "
    "\"type.googleapis.com/google.rpc.ErrorInfo\", \"reason\": "
    "\"SERVICE_DISABLED\"}]}}";

int
main(void)
{
	struct gcp g;
	char *c, *r;
	double d, most;
	int i;

	plan(19);

	c = gcp_error_cause("POST projects/p/zones/z/instances", 403, quota,
	    strlen(quota), &r);
	is_string("POST projects/p/zones/z/instances: quotaExceeded: Quota "
	    "'CPUS' exceeded.  Limit: 8.0 in region us-central1. (HTTP 403)",
	    c, "an error body becomes one line with its reason");
	is_string("quotaExceeded", r, "the reason is errors[0].reason");
	is_int(CLOUD_ERR, gcp_error_kind(403, r), "quotaExceeded is final");
	free(c);
	free(r);
	c = gcp_error_cause("GET x", 404, notfound, strlen(notfound), &r);
	is_int(CLOUD_ENOTFOUND, gcp_error_kind(404, r),
	    "notFound is CLOUD_ENOTFOUND");
	ok(strchr(c, '\n') == NULL, "the cause is one line");
	free(c);
	free(r);
	c = gcp_error_cause("GET y", 403, info, strlen(info), &r);
	is_string("SERVICE_DISABLED", r,
	    "without errors[] the reason is the ErrorInfo's");
	free(c);
	free(r);
	c = gcp_error_cause("GET z", 502, "<html>bad gateway</html>", 24, &r);
	is_string("GET z: the answer is not a Google error body (HTTP 502)",
	    c, "a body that is not Google's is named as such");
	ok(r == NULL, "and has no reason");
	free(c);
	is_int(CLOUD_EDUPLICATE, gcp_error_kind(409, "alreadyExists"),
	    "alreadyExists is CLOUD_EDUPLICATE");
	is_int(CLOUD_ETRANSIENT, gcp_error_kind(429, "rateLimitExceeded"),
	    "429 is transient");
	is_int(CLOUD_ETRANSIENT, gcp_error_kind(503, "backendError"),
	    "503 is transient");
	is_int(CLOUD_EINUSE, gcp_error_kind(400,
	    "resourceInUseByAnotherResource"), "a resource in use is EINUSE");
	is_int(CLOUD_ERR, gcp_op_error_kind("QUOTA_EXCEEDED"),
	    "an operation's QUOTA_EXCEEDED is final");
	is_int(CLOUD_EINUSE, gcp_op_error_kind(
	    "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE"),
	    "an operation's RESOURCE_IN_USE_BY_ANOTHER_RESOURCE is EINUSE");
	is_int(CLOUD_ETRANSIENT, gcp_op_error_kind(
	    "ZONE_RESOURCE_POOL_EXHAUSTED"),
	    "a zone out of resources is transient");

	memset(&g, 0, sizeof g);
	g.retry_initial = 1.0;
	g.retry_max = 60.0;
	most = 0;
	for (i = 0; i < 1000; i++) {
		d = gcp_backoff(&g, 1);
		most = d > most ? d : most;
		if (d < 0 || d > 1.0)
			break;
	}
	ok(i == 1000, "retry 1 waits within [0, 1] s");
	ok(most > 0.5, "with jitter over the range (max %.3f)", most);
	for (i = 0; i < 1000; i++)
		if ((d = gcp_backoff(&g, 4)) < 0 || d > 8.0)
			break;
	ok(i == 1000, "retry 4 waits within [0, 8] s");
	for (i = 0; i < 1000; i++)
		if ((d = gcp_backoff(&g, 30)) < 0 || d > 60.0)
			break;
	ok(i == 1000, "retry 30 waits at most the 60 s cap");
	return done_testing();
}
