/* S3 over its REST API (SigV4 by libcurl): list a prefix, get an object to
 * a file, put a file. The endpoint is found as the SDKs find it
 * (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's endpoint_url);
 * with an endpoint of one's own, or a bucket name with a dot, requests
 * are path-style (endpoint/bucket/key), else virtual-hosted
 * (bucket.s3.REGION.amazonaws.com/key). Errors are enum cloud_err with a
 * one-line cause that names the fix. */
#ifndef FANOUT_CLOUD_S3_H
#define FANOUT_CLOUD_S3_H

#include <stddef.h>

#include "run/local.h"

struct aws;
struct store_url;
struct project;
struct sink;

struct s3_object {
	char		*key;
	char		*etag;		/* as S3 gives it, quotes removed */
	long long	 size;
};

struct s3_list {
	struct s3_object *v;		/* sorted by key */
	size_t		  n;
	size_t		  listed;	/* objects listed under the prefix,
					 * matched or not */
	int		  pages;	/* ListObjectsV2 calls made */
};

/* Lists u's prefix with ListObjectsV2, page after page (continuation
 * token; $FANOUT_S3_PAGE_SIZE objects a page when set, else S3's 1,000),
 * keeps the objects whose key matches u's pattern (fnmatch, FNM_PATHNAME)
 * or, without one, all under the prefix, sorted, the first limit when
 * limit > 0. what names the setting in messages ("inputs.glob"). No
 * object is an error (CLOUD_ENOTFOUND, "no object matches"). */
int	s3_list_objects(struct aws *, const struct store_url *, long limit,
	    const char *what, struct s3_list *, char **cause);
void	s3_list_free(struct s3_list *);
/* Checks that bucket exists and may be written to under prefix ... as far
 * as a list of it says (HEAD would not tell denied from absent). */
int	s3_check_bucket(struct aws *, const struct store_url *,
	    const char *what, char **cause);
/* GetObject into path (made anew, atomically). */
int	s3_get_object(struct aws *, const char *bucket, const char *key,
	    const char *path, char **cause);
/* PutObject of the file at path. */
int	s3_put_object(struct aws *, const char *bucket, const char *key,
	    const char *path, char **cause);

/* run --local with inputs in a bucket: lists them with the user's own
 * credentials (AWS_PROFILE...), downloads each into the project's cache
 * folder (.fanout/s3/BUCKET/KEY, reused when its ETag and size match)
 * and gives the tasks' paths (relative to the project folder) and the
 * records' names (s3://BUCKET/KEY), in the same order. -2 with a cause
 * for bad input (no such bucket, denied, nothing matches), -1 for a
 * failure at run time. */
int	s3_local_inputs(const struct project *, long limit, struct sink *,
	    char ***paths, char ***names, size_t *n, char **cause);

/* A run on this machine (local_run) whose project may read its inputs
 * from a bucket: s3_local_inputs first, then the run on the fetched
 * files. */
enum local_status s3_run_local(struct local_opts *, struct local_result *,
		      char **cause);

/* The provider's bucket ops (provider.h store_check, store_fetch,
 * store_put) for a session of aws_open. */
int	aws_store_check(void *, const struct project *, long files,
	    char **cause);
int	aws_store_fetch(void *, const struct project *, long files,
	    char ***paths, char ***names, size_t *n, char **list,
	    char **script, char **summary, char **cause);
char	*aws_store_put(void *, const struct project *, char **cause);

#endif
