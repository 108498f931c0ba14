/* Google Cloud credentials, found as Google's client libraries (google-auth,
 * "application default credentials") find them:
 *   1. GOOGLE_APPLICATION_CREDENTIALS: a service-account JSON key (or an
 *      authorized_user file); set but unreadable is an error, not a
 *      fall-through;
 *   2. gcloud's application-default file, $CLOUDSDK_CONFIG/
 *      application_default_credentials.json, else ~/.config/gcloud/...
 *      (written by `gcloud auth application-default login`).
 * A service account signs an RS256 JWT (OpenSSL) and exchanges it at the
 * key's token_uri; a user's refresh token is exchanged at token_uri of the
 * file, else CLOUDSDK_AUTH_TOKEN_HOST_OVERRIDE, else Google's endpoint.
 * The access token lives in memory only and is renewed 3 min 45 s before
 * it expires (google-auth's REFRESH_THRESHOLD). No key, token or refresh
 * token is ever logged, written or put in a cause. Thread-safe. */
#ifndef FANOUT_CLOUD_GCP_AUTH_H
#define FANOUT_CLOUD_GCP_AUTH_H

#define GCP_TOKEN_URL	"https://oauth2.googleapis.com/token"
#define GCP_SCOPE	"https://www.googleapis.com/auth/cloud-platform"
#define GCP_REFRESH_EARLY 225.0	/* seconds before expiry (google-auth) */

struct gcp_auth;

/* Finds credentials and the project (CLOUDSDK_CORE_PROJECT, then
 * GOOGLE_CLOUD_PROJECT, then a service-account key's project_id, then
 * gcloud's core/project, then a user file's quota_project_id). Contacts nobody.
 * NULL with a one-line cause: nothing found (the cause lists every place
 * looked at), or a malformed file (the cause names the file and field). */
struct gcp_auth	*gcp_auth_open(char **cause);
void		 gcp_auth_free(struct gcp_auth *);

/* [SECTION] KEY of gcloud's active configuration (CLOUDSDK_ACTIVE_CONFIG_NAME,
 * else active_config, else "default", under CLOUDSDK_CONFIG, else
 * ~/.config/gcloud), or NULL; *config (when not NULL) gets the
 * configuration's name when a value is found. Unreadable: NULL. */
char		*gcp_gcloud_setting(const char *section, const char *key,
		     char **config);

/* The project, or NULL when none was found; where it came from. */
const char	*gcp_auth_project(const struct gcp_auth *);
const char	*gcp_auth_project_from(const struct gcp_auth *);
/* The service account's e-mail, or NULL for a user's credentials. */
const char	*gcp_auth_account(const struct gcp_auth *);
/* The file the credentials came from, and which rule found it. */
const char	*gcp_auth_source(const struct gcp_auth *);

/* An "Authorization: Bearer ..." header with a token valid for at least
 * GCP_REFRESH_EARLY seconds, fetched when needed. The caller wipes and
 * frees it (gcp_auth_wipe). 0, or an enum cloud_err with a cause. */
int		 gcp_auth_header(struct gcp_auth *, char **header,
		     char **cause);
/* Forgets the token (the API answered 401): the next header fetches. */
void		 gcp_auth_invalidate(struct gcp_auth *);
/* Zeroes and frees a secret string. */
void		 gcp_auth_wipe(char *);

/* For tests: the JWT assertion a service account would send now (NULL
 * with a cause for a user's credentials), and the clock the token's
 * expiry is kept by (time_now by default; a JWT's iat is always now). */
char		*gcp_auth_assertion(struct gcp_auth *, char **cause);
void		 gcp_auth_set_clock(struct gcp_auth *, double (*)(void));
/* For tests: how many tokens were fetched. */
int		 gcp_auth_fetches(const struct gcp_auth *);

#endif
