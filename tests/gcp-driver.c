/* Test driver for src/cloud/gcp-auth.c and gcp.c against the stand-in
 * (tests/fakes/gcp_fake.py): finds credentials as fanout does and makes
 * the calls named on the command line. Prints answers, never a token.
 * Run with no arguments it skips.
 *
 *   gcp-driver whoami             source, project, where from, account
 *   gcp-driver jwt                the JWT assertion a key would send now
 *   gcp-driver tokens N           N headers; prints how many fetches
 *   gcp-driver refresh            a token, then the clock moved to just
 *                                 before and just inside the refresh
 *                                 margin: prints the fetches each time
 *   gcp-driver call METHOD PATH [JSON]   PATH under the compute base, or
 *                                 "storage:PATH"; prints the answer
 *   gcp-driver op METHOD PATH [JSON]     a call, then its operation
 *                                 polled to DONE; prints status, type
 * Failures print "error KIND: CAUSE" and exit 1; bad input exits 2. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/gcp-auth.h"
#include "cloud/gcp.h"
#include "cloud/provider.h"
#include "util/fs.h"
#include "util/xmalloc.h"

static double fake_now;

static double
fake_clock(void)
{
	return fake_now;
}

static int
fail(int kind, char *cause)
{
	printf("error %d: %s\n", kind, cause);
	free(cause);
	return 1;
}

static int
whoami(void)
{
	struct gcp_auth *a;
	char *cause = NULL;

	if ((a = gcp_auth_open(&cause)) == NULL)
		return fail(CLOUD_ERR, cause);
	printf("source=%s\nproject=%s\nproject_from=%s\naccount=%s\n",
	    gcp_auth_source(a), gcp_auth_project(a) ? gcp_auth_project(a) :
	    "-", gcp_auth_project_from(a) ? gcp_auth_project_from(a) : "-",
	    gcp_auth_account(a) ? gcp_auth_account(a) : "-");
	gcp_auth_free(a);
	return 0;
}

static int
tokens(const char *what, int n)
{
	struct gcp_auth *a;
	char *cause = NULL, *h, *jwt;
	int i, rc;

	if ((a = gcp_auth_open(&cause)) == NULL)
		return fail(CLOUD_ERR, cause);
	if (strcmp(what, "jwt") == 0) {
		if ((jwt = gcp_auth_assertion(a, &cause)) == NULL) {
			gcp_auth_free(a);
			return fail(CLOUD_ERR, cause);
		}
		printf("%s\n", jwt);
		gcp_auth_wipe(jwt);
		gcp_auth_free(a);
		return 0;
	}
	if (strcmp(what, "refresh") == 0) {
		fake_now = time_now();
		gcp_auth_set_clock(a, fake_clock);
	}
	for (i = 0; i < n; i++) {
		/* 226 s, then 224 s before the hour's end (the margin is
		 * google-auth's 225 s). */
		if (strcmp(what, "refresh") == 0 && i == 1)
			fake_now += 3600 - 226;
		if (strcmp(what, "refresh") == 0 && i == 2)
			fake_now += 2;
		if ((rc = gcp_auth_header(a, &h, &cause)) != 0) {
			gcp_auth_free(a);
			return fail(rc, cause);
		}
		gcp_auth_wipe(h);
		printf("fetches=%d\n", gcp_auth_fetches(a));
	}
	gcp_auth_free(a);
	return 0;
}

static int
call(int op, const char *method, const char *path, const char *body)
{
	json_t *req = NULL, *out = NULL, *done = NULL;
	struct gcp *g;
	char *cause = NULL, *url, *s;
	int rc;

	if (body != NULL && (req = json_loads(body, 0, NULL)) == NULL) {
		fprintf(stderr, "gcp-driver: the body is not JSON\n");
		return 2;
	}
	if ((g = gcp_open(&cause)) == NULL) {
		json_decref(req);
		return fail(CLOUD_ERR, cause);
	}
	if (getenv("GCP_DRIVER_RETRY_DEADLINE") != NULL)
		g->retry_deadline = atof(getenv("GCP_DRIVER_RETRY_DEADLINE"));
	if (strncmp(path, "storage:", 8) == 0)
		url = gcp_storage_url(g, "%s", path + 8);
	else
		url = gcp_compute_url(g, "%s", path);
	rc = gcp_call(g, method, url, req, &out, &cause);
	if (rc == 0 && op)
		rc = gcp_operation_wait(g, out, &done, &cause);
	if (rc != 0)
		rc = fail(rc, cause);
	else if (op)
		printf("%s %s\n", json_string_value(json_object_get(done,
		    "status")), json_string_value(json_object_get(done,
		    "operationType")));
	else {
		s = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
		printf("%s\n", s);
		free(s);
	}
	json_decref(req);
	json_decref(out);
	json_decref(done);
	free(url);
	gcp_free(g);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		printf("1..0 # skip gcp-driver is run by the gcp tests\n");
		return 0;
	}
	if (strcmp(argv[1], "whoami") == 0)
		return whoami();
	if (strcmp(argv[1], "jwt") == 0)
		return tokens("jwt", 0);
	if (strcmp(argv[1], "tokens") == 0 && argc == 3)
		return tokens("tokens", atoi(argv[2]));
	if (strcmp(argv[1], "refresh") == 0)
		return tokens("refresh", 3);
	if ((strcmp(argv[1], "call") == 0 || strcmp(argv[1], "op") == 0) &&
	    (argc == 4 || argc == 5))
		return call(argv[1][0] == 'o', argv[2], argv[3],
		    argc == 5 ? argv[4] : NULL);
	fprintf(stderr, "usage: gcp-driver whoami|jwt|tokens N|refresh|"
	    "call|op METHOD PATH [JSON]\n");
	return 2;
}
