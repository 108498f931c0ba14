/* Cloud Storage over its JSON API (gcp.h's session): list a prefix, get an
 * object to a file (alt=media), upload a file (uploadType=media), check a
 * bucket (testIamPermissions), and run --local with gs:// inputs and
 * results. Errors are enum cloud_err with a one-line cause that names the
 * fix (no such bucket, access denied with the role to grant, nothing
 * matches). The endpoint is CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE, as
 * gcloud reads it. */
#ifndef FANOUT_CLOUD_GCS_H
#define FANOUT_CLOUD_GCS_H

#include <stddef.h>

#include <jansson.h>

#include "run/local.h"

struct gcp;
struct store_url;
struct project;
struct sink;

struct gcs_object {
	char		*name;
	char		*generation;	/* the object's version, as a string */
	char		*md5;		/* md5Hash (base64), "" when none */
	long long	 size;
};

struct gcs_list {
	struct gcs_object *v;		/* sorted by name */
	size_t		  n;
	size_t		  listed;	/* objects listed under the prefix,
					 * matched or not */
	int		  pages;	/* objects.list calls made */
};

/* Lists u's prefix with objects.list, page after page (pageToken;
 * $FANOUT_GCS_PAGE_SIZE objects a page when set, else 1,000), keeps the
 * objects whose name matches u's pattern (fnmatch, FNM_PATHNAME) or,
 * without one, all under the prefix, sorted, the first limit when
 * limit > 0. what names the setting in messages ("inputs.glob"). No
 * object is an error (CLOUD_ENOTFOUND, "no object matches"). */
int	gcs_list_objects(struct gcp *, const struct store_url *, long limit,
	    const char *what, struct gcs_list *, char **cause);
void	gcs_list_free(struct gcs_list *);
/* Checks that u's bucket exists and that these credentials may create
 * objects in it (testIamPermissions storage.objects.create). */
int	gcs_check_bucket(struct gcp *, const struct store_url *,
	    const char *what, char **cause);
/* objects.get alt=media into path (made anew, atomically). */
int	gcs_get_object(struct gcp *, const char *bucket, const char *name,
	    const char *path, char **cause);
/* A media upload of the file at path. */
int	gcs_put_object(struct gcp *, const char *bucket, const char *name,
	    const char *path, char **cause);
/* One JSON call with gcp_call's retries and causes, for the methods
 * gcp_call lacks (PUT with a body: setIamPolicy); *status (may be NULL)
 * gets the HTTP status (0: none). *out (may be NULL) the answer. */
int	gcs_json(struct gcp *, const char *method, const char *url,
	    const char *what, json_t *body, json_t **out, long *status,
	    char **cause);
/* Who the credentials are, for messages ("SA@P.iam.gserviceaccount.com",
 * else the file they came from). */
const char *gcs_who(struct gcp *);

/* run --local with inputs in a bucket: lists them with the user's own
 * credentials, downloads each into the project's cache folder
 * (.fanout/gs/BUCKET/NAME, reused while its generation and size match)
 * and gives the tasks' paths (relative to the project folder) and the
 * records' names (gs://BUCKET/NAME), in the same order. -2 with a cause
 * for bad input (no such bucket, denied, nothing matches), -1 for a
 * failure at run time. */
int	gcs_local_inputs(const struct project *, long limit, struct sink *,
	    char ***paths, char ***names, size_t *n, char **cause);
/* run --local for a project with gs:// inputs or results (s3_run_local
 * hands such a project here). */
enum local_status gcs_run_local(struct local_opts *, struct local_result *,
		      char **cause);

/* The provider's bucket ops (provider.h store_check, store_fetch,
 * store_put) on a Cloud Storage session. */
int	gcs_store_check(struct gcp *, const struct project *, long files,
	    char **cause);
int	gcs_store_fetch(struct gcp *, const struct project *, long files,
	    char ***paths, char ***names, size_t *n, char **list,
	    char **script, char **summary, char **cause);
char	*gcs_store_put(struct gcp *, const struct project *, char **cause);
/* The same on a session of provider_gcp (struct gcp_session), for
 * gcp-provider.c's table. */
int	gcp_store_check(void *, const struct project *, long files,
	    char **cause);
int	gcp_store_fetch(void *, const struct project *, long files,
	    char ***paths, char ***names, size_t *n, char **list,
	    char **script, char **summary, char **cause);
char	*gcp_store_put(void *, const struct project *, char **cause);

#endif
