/* The HTTP helper against a small loopback server: SigV4 headers (and no
 * secret on the wire), retries on 503 and on AWS throttling codes, the
 * attempt limit, and how AWS errors become causes and kinds (enum
 * cloud_err). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cloud/aws.h"
#include "cloud/ec2.h"
#include "cloud/http.h"
#include "cloud/provider.h"
#include "tap.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

/* What the server answers, one entry per request; the last repeats. */
static const char *const *script;
static int served;
static char last_request[8192];
static int listen_fd;

static const char throttle[] = "HTTP/1.1 400 Bad Request\r\n"
    "Content-Type: text/xml\r\nConnection: close\r\n"
    "\r\n<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
    "<Message>Request limit exceeded.</Message></Error></Errors>"
    "<RequestID>x</RequestID></Response>";
static const char unavailable[] = "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Length: 0\r\nConnection: close\r\n\r\n";
static const char identity[] = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"
    "Connection: close\r\n\r\n<GetCallerIdentityResponse><GetCallerIdentity"
    "Result><UserId>U</UserId><Account>111122223333</Account><Arn>arn:aws:"
    "iam::111122223333:user/t</Arn></GetCallerIdentityResult>"
    "</GetCallerIdentityResponse>";
static const char notfound[] = "HTTP/1.1 400 Bad Request\r\n"
    "Content-Type: text/xml\r\nConnection: close\r\n\r\n"
    "<Response><Errors><Error><Code>InvalidKeyPair.NotFound</Code>"
    "<Message>The key pair 'k' does not exist</Message></Error></Errors>"
    "</Response>";
static const char denied[] = "HTTP/1.1 403 Forbidden\r\n"
    "Content-Type: text/xml\r\nConnection: close\r\n\r\n"
    "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
    "<Message>User is not authorized</Message></Error></ErrorResponse>";

static const char inuse[] = "HTTP/1.1 400 Bad Request\r\n"
    "Content-Type: text/xml\r\nConnection: close\r\n\r\n"
    "<Response><Errors><Error><Code>DependencyViolation</Code>"
    "<Message>resource sg-1 has a dependent object</Message></Error>"
    "</Errors></Response>";

static void *
server_main(void *arg)
{
	char buf[8192];
	ssize_t n;
	size_t len;
	int fd, i;

	(void)arg;
	for (;;) {
		if ((fd = accept(listen_fd, NULL, NULL)) < 0)
			return NULL;
		len = 0;
		/* Headers and a small body: read until the client pauses. */
		while (len < sizeof buf - 1 &&
		    (n = recv(fd, buf + len, sizeof buf - 1 - len, 0)) > 0) {
			len += (size_t)n;
			buf[len] = '\0';
			if (strstr(buf, "\r\n\r\n") != NULL &&
			    (strstr(buf, "Content-Length:") == NULL ||
			    strstr(buf, "Action=") != NULL ||
			    strstr(buf, "\"Name\"") != NULL))
				break;
		}
		buf[len] = '\0';
		memcpy(last_request, buf, len + 1);
		for (i = 0; i < served && script[i + 1] != NULL; i++)
			;
		served++;
		if (send(fd, script[i], strlen(script[i]), MSG_NOSIGNAL) < 0)
			diag("send failed");
		close(fd);
	}
}

static struct aws *
test_aws(int port)
{
	char *url = xprintf("http://127.0.0.1:%d", port), *cause = NULL;
	struct aws *a;

	setenv("AWS_ENDPOINT_URL", url, 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIDTESTHTTP", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SeCrEtNeverOnTheWire", 1);
	setenv("AWS_SESSION_TOKEN", "sessiontok", 1);
	setenv("AWS_REGION", "us-east-1", 1);
	free(url);
	if ((a = aws_open(NULL, &cause)) == NULL)
		bail("%s", cause);
	return a;
}

static void
run(const char *const *s)
{
	script = s;
	served = 0;
	last_request[0] = '\0';
}

int
main(void)
{
	static const char *const ok_first[] = { identity, NULL };
	static const char *const two_503[] = { unavailable, unavailable,
	    identity, NULL };
	static const char *const throttled[] = { throttle, identity, NULL };
	static const char *const always_503[] = { unavailable, NULL };
	static const char *const nf[] = { notfound, NULL };
	static const char *const dn[] = { denied, NULL };
	static const char *const always_throttled[] = { throttle, NULL };
	static const char *const in_use[] = { inuse, NULL };
	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;
	pthread_t t;
	struct aws *a;
	char *account = NULL, *arn = NULL, *cause = NULL, *id = NULL;
	int rc;

	plan_lazy();
	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(listen_fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    listen(listen_fd, 8) != 0 ||
	    getsockname(listen_fd, (struct sockaddr *)&sin, &sl) != 0)
		bail("cannot listen on loopback");
	pthread_create(&t, NULL, server_main, NULL);
	pthread_detach(t);
	a = test_aws(ntohs(sin.sin_port));

	run(ok_first);
	rc = aws_sts_identity(a, &account, &arn, &cause);
	ok(rc == 0, "GetCallerIdentity answers");
	is_string("111122223333", account, "the account is read");
	is_string("arn:aws:iam::111122223333:user/t", arn, "the ARN is read");
	free(account);
	free(arn);
	ok(strstr(last_request, "Authorization: AWS4-HMAC-SHA256 "
	    "Credential=AKIDTESTHTTP/") != NULL &&
	    strstr(last_request, "/us-east-1/sts/aws4_request") != NULL,
	    "the request is signed with SigV4 for sts in the region");
	ok(strstr(last_request, "X-Amz-Date: ") != NULL ||
	    strstr(last_request, "x-amz-date: ") != NULL,
	    "the signature has its date header");
	ok(strstr(last_request, "X-Amz-Security-Token: sessiontok") != NULL,
	    "the session token is sent");
	ok(strstr(last_request, "SeCrEtNeverOnTheWire") == NULL,
	    "the secret key never goes on the wire");
	ok(strstr(last_request, "Action=GetCallerIdentity&Version="
	    "2011-06-15") != NULL, "the Query-API body");

	run(two_503);
	rc = aws_sts_identity(a, &account, &arn, &cause);
	ok(rc == 0 && served == 3, "two 503s, then success on attempt 3");
	if (rc == 0) {
		free(account);
		free(arn);
	}
	run(throttled);
	rc = aws_sts_identity(a, &account, &arn, &cause);
	ok(rc == 0 && served == 2, "RequestLimitExceeded is retried");
	if (rc == 0) {
		free(account);
		free(arn);
	}
	run(always_503);
	rc = aws_sts_identity(a, &account, &arn, &cause);
	ok(rc != 0 && served == 3, "gives up after 3 attempts (served %d)",
	    served);
	is_int(CLOUD_ETRANSIENT, rc, "three 503s: a transient failure");
	ok(cause != NULL && strstr(cause, "GetCallerIdentity: HTTP 503") !=
	    NULL, "the cause names the call and the status: %s", cause);
	free(cause);
	cause = NULL;
	setenv("AWS_MAX_ATTEMPTS", "1", 1);
	run(always_503);
	rc = aws_sts_identity(a, &account, &arn, &cause);
	ok(rc != 0 && served == 1, "AWS_MAX_ATTEMPTS=1: one attempt");
	free(cause);
	cause = NULL;
	unsetenv("AWS_MAX_ATTEMPTS");

	run(nf);
	rc = aws_ec2_find_key_pair(a, "k", &id, &cause);
	ok(rc == 0 && served == 1 && id == NULL,
	    "NotFound is an answer, not retried: not found");
	run(nf);
	rc = aws_ec2_start_instance(a, "i-1", &cause);
	is_int(CLOUD_ENOTFOUND, rc, "a NotFound code is the not-found kind");
	free(cause);
	cause = NULL;
	run(always_throttled);
	rc = aws_ec2_start_instance(a, "i-1", &cause);
	ok(rc == CLOUD_ETRANSIENT && served == 3,
	    "throttled three times: a transient failure (served %d)", served);
	free(cause);
	cause = NULL;
	run(in_use);
	rc = aws_ec2_delete_security_group(a, "sg-1", &cause);
	is_int(CLOUD_EINUSE, rc, "DependencyViolation is the in-use kind");
	ok(served == 1, "DependencyViolation is not retried by the call");
	free(cause);
	cause = NULL;
	is_int(CLOUD_EDUPLICATE, aws_error_kind("InvalidKeyPair.Duplicate",
	    400), "InvalidKeyPair.Duplicate is the duplicate kind");
	is_int(CLOUD_EDUPLICATE, aws_error_kind("InvalidGroup.Duplicate",
	    400), "InvalidGroup.Duplicate is the duplicate kind");
	is_int(CLOUD_ENOTFOUND, aws_error_kind("ParameterNotFound", 400),
	    "SSM's ParameterNotFound is the not-found kind");
	is_int(CLOUD_ETRANSIENT, aws_error_kind("InternalError", 500),
	    "HTTP 500 is transient");
	is_int(CLOUD_ETRANSIENT, aws_error_kind(NULL, 0),
	    "no answer is transient");
	is_int(CLOUD_ERR, aws_error_kind("UnauthorizedOperation", 403),
	    "UnauthorizedOperation is final");
	run(nf);
	ok(aws_ec2_delete_key_pair(a, "k", &cause) == 0,
	    "deleting what is gone counts as done");
	run(dn);
	rc = aws_sts_identity(a, &account, &arn, &cause);
	is_string("GetCallerIdentity: AccessDenied: User is not authorized",
	    cause, "an AWS error becomes '<Action>: <Code>: <Message>'");
	is_int(CLOUD_ERR, rc, "AccessDenied is a final failure");
	ok(served == 1, "AccessDenied is not retried");
	free(cause);
	cause = NULL;
	aws_free(a);

	/* Nobody listens: connection errors are retried, then named. */
	{
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in s2;
		socklen_t l2 = sizeof s2;

		memset(&s2, 0, sizeof s2);
		s2.sin_family = AF_INET;
		s2.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		bind(fd, (struct sockaddr *)&s2, sizeof s2);
		getsockname(fd, (struct sockaddr *)&s2, &l2);
		close(fd);	/* the port is free and closed now */
		a = test_aws(ntohs(s2.sin_port));
	}
	setenv("AWS_MAX_ATTEMPTS", "2", 1);
	rc = aws_sts_identity(a, &account, &arn, &cause);
	ok(rc != 0 && cause != NULL && strstr(cause, "GetCallerIdentity: "
	    "cannot reach http://127.0.0.1:") != NULL &&
	    strstr(cause, "after 2 attempts") != NULL,
	    "a refused connection is retried and named: %s", cause);
	is_int(CLOUD_ETRANSIENT, rc, "a refused connection is transient");
	free(cause);
	cause = NULL;
	aws_free(a);

	/* A URL that can never work is not retried, and not transient. */
	setenv("AWS_ENDPOINT_URL", "ftp://127.0.0.1:1", 1);
	if ((a = aws_open(NULL, &cause)) == NULL)
		bail("%s", cause);
	rc = aws_sts_identity(a, &account, &arn, &cause);
	is_int(CLOUD_ERR, rc, "an endpoint of another protocol is final");
	ok(cause != NULL && strstr(cause, "GetCallerIdentity: cannot reach "
	    "ftp://127.0.0.1:1/") != NULL && strstr(cause, "attempts") ==
	    NULL, "after one attempt: %s", cause);
	free(cause);
	unsetenv("AWS_MAX_ATTEMPTS");
	aws_free(a);
	close(listen_fd);
	return done_testing();
}
