/* HTTP over libcurl with SigV4 and botocore-style retries (http.h). */
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cloud/http.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

#define HTTP_MAX_BACKOFF 20.0	/* seconds, botocore's cap */
#define HTTP_STD_ATTEMPTS 3	/* botocore standard mode */

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
/* The backoff's random numbers, one generator per thread (drand48's one
 * state must not be shared by the steps that run at once). */
static _Thread_local unsigned short http_rand[3];
static _Thread_local int http_rand_seeded;

static void
http_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void
http_init(void)
{
	pthread_once(&http_once, http_init_once);
}

double
http_backoff(int attempt)
{
	double cap = ldexp(1.0, attempt - 1 > 30 ? 30 : attempt - 1);
	struct timespec ts;
	unsigned long v;

	if (cap > HTTP_MAX_BACKOFF)
		cap = HTTP_MAX_BACKOFF;
	if (!http_rand_seeded) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		v = (unsigned long)ts.tv_nsec ^ (unsigned long)ts.tv_sec ^
		    (unsigned long)(uintptr_t)&http_rand;
		http_rand[0] = (unsigned short)v;
		http_rand[1] = (unsigned short)(v >> 16);
		http_rand[2] = 0x330e;
		http_rand_seeded = 1;
	}
	return erand48(http_rand) * cap;
}

char *
http_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct strbuf sb;

	strbuf_init(&sb);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~')
			strbuf_addc(&sb, (char)c);
		else {
			strbuf_addc(&sb, '%');
			strbuf_addc(&sb, hex[c >> 4]);
			strbuf_addc(&sb, hex[c & 15]);
		}
	}
	return strbuf_detach(&sb);
}

static size_t
http_write(char *ptr, size_t size, size_t n, void *arg)
{
	strbuf_add(arg, ptr, size * n);
	return size * n;
}

static size_t
http_write_file(char *ptr, size_t size, size_t n, void *arg)
{
	return fwrite(ptr, size, n, arg) * size;
}

/* Non-zero when a transfer that failed with cc may work another time:
 * the network, the name service or the server, not the request. */
static int
http_transient(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_WEIRD_SERVER_REPLY:
		return 1;
	default:
		return 0;
	}
}

/* An error answer written to out, back into body (the first 64 kB). */
static void
http_read_back(FILE *out, struct strbuf *body)
{
	char buf[4096];
	size_t n;

	if (fseek(out, 0, SEEK_SET) != 0)
		return;
	while (body->len < 65536 && (n = fread(buf, 1, sizeof buf, out)) > 0)
		strbuf_add(body, buf, n);
}

/* One attempt. Returns 0 with an answer, -1 without (resp->error). */
static int
http_once_perform(const struct http_request *req, struct http_response *resp)
{
	char errbuf[CURL_ERROR_SIZE], *userpwd = NULL;
	struct curl_slist *hdrs = NULL;
	struct strbuf body;
	CURLcode cc;
	CURL *c;
	size_t i;
	int rc = 0;

	if ((c = curl_easy_init()) == NULL) {
		resp->error = xstrdup("cannot start libcurl");
		return -1;
	}
	strbuf_init(&body);
	errbuf[0] = '\0';
	if (req->out != NULL) {
		fflush(req->out);
		if (ftruncate(fileno(req->out), 0) != 0 ||
		    fseek(req->out, 0, SEEK_SET) != 0) {
			resp->error = xprintf("cannot empty the output file: "
			    "%s", strerror(errno));
			resp->final = 1;
			strbuf_free(&body);
			curl_easy_cleanup(c);
			return -1;
		}
	}
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT,
	    req->timeout > 0 ? req->timeout : 60L);
	if (req->out != NULL) {
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_write_file);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, req->out);
	} else {
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_write);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	}
	curl_easy_setopt(c, CURLOPT_USERAGENT, "fanout/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (req->method != NULL && strcmp(req->method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (req->method != NULL && (strcmp(req->method, "POST") == 0 ||
	    strcmp(req->method, "PUT") == 0)) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		if (strcmp(req->method, "PUT") == 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS,
		    req->body != NULL ? req->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
		    (long)(req->body != NULL ? req->body_len : 0));
	}
	for (i = 0; req->headers != NULL && req->headers[i] != NULL; i++)
		hdrs = curl_slist_append(hdrs, req->headers[i]);
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (req->sigv4 != NULL) {
		userpwd = xprintf("%s:%s", req->access_key, req->secret_key);
		curl_easy_setopt(c, CURLOPT_AWS_SIGV4, req->sigv4);
		curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
	}
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		resp->error = xprintf("%s", errbuf[0] != '\0' ? errbuf :
		    curl_easy_strerror(cc));
		resp->final = !http_transient(cc);
		rc = -1;
	} else
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	if (req->out != NULL) {
		fflush(req->out);
		if (rc == 0 && resp->status >= 300)
			http_read_back(req->out, &body);
	}
	resp->len = body.len;
	resp->body = strbuf_detach(&body);
	if (userpwd != NULL) {
		explicit_bzero(userpwd, strlen(userpwd));
		free(userpwd);
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return rc;
}

static int
http_max_attempts(const struct http_request *req)
{
	const char *s = getenv("AWS_MAX_ATTEMPTS");
	int n;

	if (req->max_attempts > 0)
		return req->max_attempts;
	if (s != NULL && (n = atoi(s)) >= 1 && n <= 20)
		return n;
	return HTTP_STD_ATTEMPTS;
}

static int
http_retryable(const struct http_request *req, const struct http_response *r,
    int rc)
{
	if (rc != 0)
		return !r->final;
	if (r->status == 500 || r->status == 502 || r->status == 503 ||
	    r->status == 504)
		return 1;
	return req->transient != NULL && req->transient(r);
}

int
http_perform(const struct http_request *req, struct http_response *resp)
{
	int attempt, max = http_max_attempts(req), rc = -1;
	struct timespec ts;
	double d;

	http_init();
	memset(resp, 0, sizeof *resp);
	for (attempt = 1; attempt <= max; attempt++) {
		if (attempt > 1) {
			http_response_free(resp);
			d = http_backoff(attempt - 1);
			ts.tv_sec = (time_t)d;
			ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
			while (nanosleep(&ts, &ts) != 0)
				;
		}
		resp->attempts = attempt;
		rc = http_once_perform(req, resp);
		if (!http_retryable(req, resp, rc))
			break;
	}
	return rc;
}

void
http_response_free(struct http_response *resp)
{
	free(resp->body);
	free(resp->error);
	resp->body = NULL;
	resp->error = NULL;
	resp->len = 0;
	resp->status = 0;
}
