/* Google Cloud credentials: service-account JWTs and refresh tokens
 * (gcp-auth.h). */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloud/gcp-auth.h"
#include "cloud/http.h"
#include "cloud/provider.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

#define GCP_JWT_LIFETIME 3600	/* seconds, google-auth's default */

struct gcp_auth {
	int		 service;	/* 1: service account, 0: user */
	char		*source;	/* "FILE (GOOGLE_APPLICATION_CREDENTIALS)"
					 * or "FILE (application-default)" */
	char		*project;	/* or NULL */
	char		*project_from;	/* where project came from */
	char		*email;		/* client_email (service) */
	char		*token_uri;	/* where tokens are fetched */
	char		*key_id;	/* private_key_id, or NULL (no kid) */
	EVP_PKEY	*key;		/* the private key (service); secret */
	char		*client_id;	/* user: OAuth client */
	char		*client_secret;	/* user: secret */
	char		*refresh_token;	/* user: secret */
	char		*token;		/* the access token (secret) or NULL */
	double		 expiry;	/* token's end, clock seconds */
	int		 fetches;	/* tokens fetched (tests) */
	double		(*clock)(void);	/* time_now, or a test's clock for
					 * the token's expiry (a JWT's iat
					 * is always time_now) */
	pthread_mutex_t	 lock;		/* guards token, expiry, fetches */
};

void
gcp_auth_wipe(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void
gcp_auth_free(struct gcp_auth *a)
{
	if (a == NULL)
		return;
	free(a->source);
	free(a->project);
	free(a->project_from);
	free(a->email);
	free(a->token_uri);
	free(a->key_id);
	EVP_PKEY_free(a->key);
	free(a->client_id);
	gcp_auth_wipe(a->client_secret);
	gcp_auth_wipe(a->refresh_token);
	gcp_auth_wipe(a->token);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/* A string member of a key file, or NULL (a cause naming the field) when
 * it is missing, empty or not a string. */
static char *
gcp_auth_field(json_t *doc, const char *field, const char *file,
    int optional, char **cause)
{
	json_t *v = json_object_get(doc, field);

	if (v == NULL && optional)
		return NULL;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		*cause = xprintf("credentials file %s: field \"%s\" is %s; "
		    "make a new key (gcloud iam service-accounts keys create) "
		    "or run gcloud auth application-default login", file, field,
		    v == NULL ? "missing" : "not a non-empty string");
		return NULL;
	}
	return xstrdup(json_string_value(v));
}

/* Reads the key's PEM private key (RSA only, as Google issues them). */
static int
gcp_auth_pem(struct gcp_auth *a, const char *pem, const char *file,
    char **cause)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);

	a->key = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL,
	    (void *)"") : NULL;
	BIO_free(bio);
	ERR_clear_error();
	if (a->key == NULL || EVP_PKEY_base_id(a->key) != EVP_PKEY_RSA) {
		*cause = xprintf("credentials file %s: field \"private_key\" "
		    "is not a PEM RSA private key; make a new key (gcloud iam "
		    "service-accounts keys create)", file);
		return -1;
	}
	return 0;
}

/* Fills a from one credentials file; how names the rule that found it. */
static int
gcp_auth_load(struct gcp_auth *a, const char *file, const char *how,
    char **cause)
{
	json_error_t jerr;
	json_t *doc;
	char *text, *type = NULL, *pem = NULL, *why = NULL;
	size_t len;
	int rc = -1;

	if ((text = fs_read_file(file, &len, &why)) == NULL) {
		*cause = xprintf("credentials file %s (%s) cannot be read: %s",
		    file, how, why);
		free(why);
		return -1;
	}
	doc = json_loadb(text, len, 0, &jerr);
	explicit_bzero(text, len);
	free(text);
	if (!json_is_object(doc)) {
		*cause = xprintf("credentials file %s (%s) is not a JSON object "
		    "(line %d); make a new key or run gcloud auth "
		    "application-default login", file, how, jerr.line);
		json_decref(doc);
		return -1;
	}
	a->source = xprintf("%s (%s)", file, how);
	if ((type = gcp_auth_field(doc, "type", file, 0, cause)) == NULL)
		goto out;
	if (strcmp(type, "service_account") == 0) {
		a->service = 1;
		if ((a->email = gcp_auth_field(doc, "client_email", file, 0,
		    cause)) == NULL ||
		    (a->token_uri = gcp_auth_field(doc, "token_uri", file, 0,
		    cause)) == NULL ||
		    (pem = gcp_auth_field(doc, "private_key", file, 0,
		    cause)) == NULL)
			goto out;
		if (json_object_get(doc, "private_key_id") != NULL &&
		    (a->key_id = gcp_auth_field(doc, "private_key_id", file, 0,
		    cause)) == NULL)
			goto out;
		if (gcp_auth_pem(a, pem, file, cause) != 0)
			goto out;
	} else if (strcmp(type, "authorized_user") == 0) {
		if ((a->client_id = gcp_auth_field(doc, "client_id", file, 0,
		    cause)) == NULL ||
		    (a->client_secret = gcp_auth_field(doc, "client_secret",
		    file, 0, cause)) == NULL ||
		    (a->refresh_token = gcp_auth_field(doc, "refresh_token",
		    file, 0, cause)) == NULL)
			goto out;
		if (json_object_get(doc, "token_uri") != NULL) {
			if ((a->token_uri = gcp_auth_field(doc, "token_uri",
			    file, 0, cause)) == NULL)
				goto out;
		} else if (getenv("CLOUDSDK_AUTH_TOKEN_HOST_OVERRIDE") != NULL &&
		    *getenv("CLOUDSDK_AUTH_TOKEN_HOST_OVERRIDE") != '\0')
			a->token_uri = xstrdup(
			    getenv("CLOUDSDK_AUTH_TOKEN_HOST_OVERRIDE"));
		else
			a->token_uri = xstrdup(GCP_TOKEN_URL);
	} else {
		*cause = xprintf("credentials file %s: field \"type\" is \"%s\", "
		    "not service_account or authorized_user (the kinds fanout "
		    "can use)", file, type);
		goto out;
	}
	if (json_object_get(doc, "project_id") != NULL &&
	    (a->project = gcp_auth_field(doc, "project_id", file, 0,
	    cause)) == NULL)
		goto out;
	if (a->project == NULL && !a->service &&
	    json_is_string(json_object_get(doc, "quota_project_id")))
		a->project = xstrdup(json_string_value(json_object_get(doc,
		    "quota_project_id")));
	if (a->project != NULL)
		a->project_from = xprintf("%s", file);
	rc = 0;
out:
	free(type);
	gcp_auth_wipe(pem);
	json_decref(doc);
	return rc;
}

/* gcloud's application-default file. */
static char *
gcp_auth_adc_path(void)
{
	const char *dir = getenv("CLOUDSDK_CONFIG"), *home = getenv("HOME");

	if (dir != NULL && *dir != '\0')
		return fs_join(dir, "application_default_credentials.json");
	return xprintf("%s/.config/gcloud/application_default_credentials.json",
	    home != NULL ? home : "");
}

char *
gcp_gcloud_setting(const char *section, const char *key, char **config)
{
	const char *dir = getenv("CLOUDSDK_CONFIG"), *home = getenv("HOME");
	const char *name = getenv("CLOUDSDK_ACTIVE_CONFIG_NAME");
	char *base, *path, *active = NULL, *text, *line, *save, *val = NULL;
	char *why = NULL;
	int in_section = 0;
	size_t slen = strlen(section);

	if (dir != NULL && *dir != '\0')
		base = xstrdup(dir);
	else if (home != NULL && *home != '\0')
		base = xprintf("%s/.config/gcloud", home);
	else
		return NULL;
	if (name == NULL || *name == '\0') {
		path = xprintf("%s/active_config", base);
		if (access(path, R_OK) == 0)
			active = fs_read_file(path, NULL, &why);
		free(path);
		if (active != NULL)
			active[strcspn(active, " \t\r\n")] = '\0';
		name = active != NULL && *active != '\0' ? active : "default";
	}
	path = xprintf("%s/configurations/config_%s", base, name);
	text = strchr(name, '/') == NULL && access(path, R_OK) == 0 ?
	    fs_read_file(path, NULL, &why) : NULL;
	free(path);
	free(base);
	for (line = text != NULL ? strtok_r(text, "\n", &save) : NULL;
	    line != NULL && val == NULL; line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t");
		if (*line == '[')
			in_section = strncmp(line + 1, section, slen) == 0 &&
			    line[slen + 1] == ']';
		else if (in_section && strncmp(line, key, strlen(key)) == 0) {
			char *p = line + strlen(key);

			p += strspn(p, " \t");
			if (*p++ != '=')
				continue;
			p += strspn(p, " \t");
			p[strcspn(p, " \t\r")] = '\0';
			if (*p != '\0')
				val = xstrdup(p);
		}
	}
	if (val != NULL && config != NULL)
		*config = xstrdup(name);
	free(active);
	free(text);
	free(why);	/* unreadable settings: as none (gcloud's view) */
	return val;
}

struct gcp_auth *
gcp_auth_open(char **cause)
{
	const char *env = getenv("GOOGLE_APPLICATION_CREDENTIALS");
	static const char *const pvars[] = { "CLOUDSDK_CORE_PROJECT",
	    "GOOGLE_CLOUD_PROJECT", NULL };
	struct gcp_auth *a = xcalloc(1, sizeof *a);
	char *adc = NULL, *p2, *cfg = NULL;
	const char *p;
	int i, rc;

	pthread_mutex_init(&a->lock, NULL);
	a->clock = time_now;
	if (env != NULL && *env != '\0') {
		if (!fs_is_file(env)) {
			*cause = xprintf("GOOGLE_APPLICATION_CREDENTIALS names %s, "
			    "which is not a file; point it at a service-account "
			    "key file or unset it", env);
			gcp_auth_free(a);
			return NULL;
		}
		rc = gcp_auth_load(a, env, "GOOGLE_APPLICATION_CREDENTIALS",
		    cause);
	} else {
		adc = gcp_auth_adc_path();
		if (!fs_is_file(adc)) {
			*cause = xprintf("no Google Cloud credentials: "
			    "GOOGLE_APPLICATION_CREDENTIALS is not set and %s "
			    "does not exist; run gcloud auth application-default "
			    "login, or set GOOGLE_APPLICATION_CREDENTIALS to a "
			    "service-account key file", adc);
			free(adc);
			gcp_auth_free(a);
			return NULL;
		}
		rc = gcp_auth_load(a, adc, "application-default", cause);
		free(adc);
	}
	if (rc != 0) {
		gcp_auth_free(a);
		return NULL;
	}
	for (i = 0; pvars[i] != NULL; i++) {
		if ((p = getenv(pvars[i])) != NULL && *p != '\0') {
			free(a->project);
			free(a->project_from);
			a->project = xstrdup(p);
			a->project_from = xstrdup(pvars[i]);
			break;
		}
	}
	/* `gcloud config set project`: a user's project (google-auth asks
	 * gcloud for it), before the file's quota project; a key's own
	 * project_id comes first. */
	if (pvars[i] == NULL && (a->project == NULL || !a->service) &&
	    (p2 = gcp_gcloud_setting("core", "project", &cfg)) != NULL) {
		free(a->project);
		free(a->project_from);
		a->project = p2;
		a->project_from = xprintf("gcloud's configuration %s "
		    "(core/project)", cfg);
		free(cfg);
	}
	return a;
}

const char *
gcp_auth_project(const struct gcp_auth *a)
{
	return a->project;
}

const char *
gcp_auth_project_from(const struct gcp_auth *a)
{
	return a->project_from;
}

const char *
gcp_auth_account(const struct gcp_auth *a)
{
	return a->service ? a->email : NULL;
}

const char *
gcp_auth_source(const struct gcp_auth *a)
{
	return a->source;
}

void
gcp_auth_set_clock(struct gcp_auth *a, double (*clock)(void))
{
	a->clock = clock;
}

int
gcp_auth_fetches(const struct gcp_auth *a)
{
	return a->fetches;
}

/* base64url without padding (RFC 7515 section 2). */
static char *
gcp_b64url(const unsigned char *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);
	int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len), i;

	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (i = 0; i < n; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return out;
}

static char *
gcp_b64url_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER), *out;

	out = gcp_b64url((const unsigned char *)s, strlen(s));
	free(s);
	json_decref(j);
	return out;
}

/* header.claims.signature, signed RS256 at time now. */
static char *
gcp_auth_jwt(struct gcp_auth *a, double now, char **cause)
{
	json_t *hdr = json_pack("{s:s, s:s}", "alg", "RS256", "typ", "JWT");
	json_int_t iat = (json_int_t)now;
	unsigned char *sig = NULL;
	char *h, *c, *input, *s, *jwt = NULL;
	EVP_MD_CTX *ctx;
	size_t siglen = 0;

	if (a->key_id != NULL)
		json_object_set_new(hdr, "kid", json_string(a->key_id));
	h = gcp_b64url_json(hdr);
	/* The claims google-auth sends: aud is Google's token endpoint
	 * whatever token_uri says (google/oauth2/service_account.py). */
	c = gcp_b64url_json(json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss",
	    a->email, "scope", GCP_SCOPE, "aud", GCP_TOKEN_URL, "iat", iat,
	    "exp", iat + GCP_JWT_LIFETIME));
	input = xprintf("%s.%s", h, c);
	free(h);
	free(c);
	if ((ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, a->key) == 1 &&
	    EVP_DigestSign(ctx, NULL, &siglen, (unsigned char *)input,
	    strlen(input)) == 1) {
		sig = xmalloc(siglen);
		if (EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)input,
		    strlen(input)) == 1) {
			s = gcp_b64url(sig, siglen);
			jwt = xprintf("%s.%s", input, s);
			free(s);
		}
	}
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	free(sig);
	free(input);
	if (jwt == NULL)
		*cause = xprintf("cannot sign a token request with the key of "
		    "%s", a->source);
	return jwt;
}

char *
gcp_auth_assertion(struct gcp_auth *a, char **cause)
{
	if (!a->service) {
		*cause = xstrdup("user credentials have no JWT assertion");
		return NULL;
	}
	return gcp_auth_jwt(a, time_now(), cause);
}

/* One line of the token endpoint's error answer (RFC 6749 5.2). */
static char *
gcp_auth_token_error(const struct gcp_auth *a, const struct http_response *r)
{
	json_t *doc = json_loadb(r->body, r->len, 0, NULL);
	const char *e = json_string_value(json_object_get(doc, "error"));
	const char *d = json_string_value(json_object_get(doc,
	    "error_description"));
	char *out;

	out = xprintf("token endpoint %s refused the credentials of %s: "
	    "%s%s%s (HTTP %ld)", a->token_uri, a->source,
	    e != NULL ? e : "no OAuth error in the answer",
	    d != NULL ? ": " : "", d != NULL ? d : "", r->status);
	for (char *p = out; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	json_decref(doc);
	return out;
}

/* An answer of the token endpoint worth another attempt, as google-auth
 * judges it (google/oauth2/_client.py _can_retry): HTTP 408, 429, 500,
 * 503 (http.c adds 502 and 504), or an OAuth error internal_failure,
 * server_error or temporarily_unavailable whatever the status. */
static int
gcp_auth_transient(const struct http_response *r)
{
	static const char *const codes[] = { "internal_failure",
	    "server_error", "temporarily_unavailable", NULL };
	json_t *doc;
	const char *e, *d;
	int i, yes = 0;

	if (r->status == 408 || r->status == 429)
		return 1;
	if (r->status == 200 ||
	    (doc = json_loadb(r->body, r->len, 0, NULL)) == NULL)
		return 0;
	e = json_string_value(json_object_get(doc, "error"));
	d = json_string_value(json_object_get(doc, "error_description"));
	for (i = 0; codes[i] != NULL; i++)
		if ((e != NULL && strcmp(e, codes[i]) == 0) ||
		    (d != NULL && strcmp(d, codes[i]) == 0))
			yes = 1;
	json_decref(doc);
	return yes;
}

/* Fetches a new token (lock held). */
static int
gcp_auth_fetch(struct gcp_auth *a, char **cause)
{
	static const char *const hdrs[] = {
	    "Content-Type: application/x-www-form-urlencoded",
	    "Accept: application/json", NULL };
	struct http_request req = { 0 };
	struct http_response resp;
	json_t *doc = NULL, *tok, *life;
	char *body, *grant, *esc, *esc2, *esc3;
	double now = a->clock();
	int rc = CLOUD_ERR;

	if (a->service) {
		if ((grant = gcp_auth_jwt(a, time_now(), cause)) == NULL)
			return CLOUD_ERR;
		body = xprintf("grant_type=%s&assertion=%s",
		    "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer",
		    grant);
		gcp_auth_wipe(grant);
	} else {
		esc = http_escape(a->client_id);
		esc2 = http_escape(a->client_secret);
		esc3 = http_escape(a->refresh_token);
		body = xprintf("grant_type=refresh_token&client_id=%s&"
		    "client_secret=%s&refresh_token=%s", esc, esc2, esc3);
		free(esc);
		gcp_auth_wipe(esc2);
		gcp_auth_wipe(esc3);
	}
	req.method = "POST";
	req.url = a->token_uri;
	req.body = body;
	req.body_len = strlen(body);
	req.headers = hdrs;
	req.timeout = 30;
	/* google-auth retries the token call too: the first attempt and
	 * three more (_exponential_backoff.ExponentialBackoff). */
	req.max_attempts = 4;
	req.transient = gcp_auth_transient;
	if (http_perform(&req, &resp) != 0) {
		*cause = xprintf("token endpoint %s did not answer: %s",
		    a->token_uri, resp.error);
		rc = CLOUD_ETRANSIENT;
		goto out;
	}
	if (resp.status != 200 && (gcp_auth_transient(&resp) ||
	    resp.status >= 500)) {
		/* Not a refusal of the credentials: the endpoint is busy. */
		*cause = xprintf("token endpoint %s did not give a token after "
		    "%d attempts: HTTP %ld; try again later", a->token_uri,
		    resp.attempts, resp.status);
		rc = CLOUD_ETRANSIENT;
		goto out;
	}
	if (resp.status != 200) {
		*cause = gcp_auth_token_error(a, &resp);
		rc = CLOUD_ERR;
		goto out;
	}
	doc = json_loadb(resp.body, resp.len, 0, NULL);
	tok = json_object_get(doc, "access_token");
	life = json_object_get(doc, "expires_in");
	if (!json_is_string(tok) || json_string_length(tok) == 0 ||
	    strlen(json_string_value(tok)) != json_string_length(tok) ||
	    strpbrk(json_string_value(tok), "\r\n") != NULL ||
	    (life != NULL && !json_is_integer(life))) {
		*cause = xprintf("token endpoint %s answered without a usable "
		    "access_token", a->token_uri);
		goto out;
	}
	gcp_auth_wipe(a->token);
	a->token = xstrdup(json_string_value(tok));
	/* No expires_in: google-auth treats the token as lasting; an hour
	 * is what Google gives. */
	a->expiry = now + (life != NULL ? (double)json_integer_value(life) :
	    3600.0);
	a->fetches++;
	rc = 0;
out:
	if (doc != NULL) {
		/* The token's copy inside the parsed answer. */
		tok = json_object_get(doc, "access_token");
		if (json_is_string(tok))
			json_string_set(tok, "");
		json_decref(doc);
	}
	if (resp.body != NULL)
		explicit_bzero(resp.body, resp.len);
	http_response_free(&resp);
	gcp_auth_wipe(body);
	return rc;
}

int
gcp_auth_header(struct gcp_auth *a, char **header, char **cause)
{
	int rc = 0;

	*header = NULL;
	pthread_mutex_lock(&a->lock);
	if (a->token == NULL || a->clock() >= a->expiry - GCP_REFRESH_EARLY)
		rc = gcp_auth_fetch(a, cause);
	if (rc == 0)
		*header = xprintf("Authorization: Bearer %s", a->token);
	pthread_mutex_unlock(&a->lock);
	return rc;
}

void
gcp_auth_invalidate(struct gcp_auth *a)
{
	pthread_mutex_lock(&a->lock);
	gcp_auth_wipe(a->token);
	a->token = NULL;
	pthread_mutex_unlock(&a->lock);
}
