/* What the providers' bucket hooks share (provider.h store_fetch): the
 * host's fetch list, the tasks' paths and the records' names of the
 * objects a listing found, whatever the store. */
#ifndef FANOUT_CLOUD_STORE_H
#define FANOUT_CLOUD_STORE_H

#include <stddef.h>

struct project;
struct sink;
struct store_url;

/* One object the inputs' listing found. */
struct store_entry {
	const char	*name;		/* its key/name in the bucket */
	long long	 size;
	const char	*version;	/* what tells a changed object (S3: its
					 * ETag; GCS: its generation) */
};

/* For the n objects of v under u (u->scheme names them: "s3://B/NAME"):
 * *list, a line per object "BUCKET\tNAME\tSIZE\tVERSION\tstore/BUCKET/
 * NAME" (the host script's input); *paths, where the tasks find them
 * ("../store/BUCKET/NAME", beside the project's tree); *names, for the
 * records; *summary, a line for the log ("N object(s) of s3://B/K (P
 * page(s) listed), fetched by the host itself"). A name with a tab or a
 * newline is refused: -1 with a cause, nothing set. */
int	 store_fetch_plan(const struct store_url *u, const struct store_entry *v,
	    size_t n, int pages, char ***paths, char ***names, char **list,
	    char **summary, char **cause);
/* Frees what store_fetch_plan made (any may be NULL) and clears them. */
void	 store_fetch_free(char ***paths, char ***names, size_t n, char **list,
	    char **summary);

/* `run --local` with bucket inputs: fetches the n objects of v (the
 * project's inputs.glob, pages its listing's pages) with get(arg, NAME,
 * PATH, cause) into PROJECT/.fanout/SCHEME/BUCKET/NAME, keeping a copy
 * whose size and version are the ones recorded when it was fetched (the
 * index PROJECT/.fanout/SCHEME/BUCKET.index.json); *paths (relative to
 * the project) and *names (SCHEME://BUCKET/NAME) for the tasks and the
 * records. 0; -2 bad input (a name with ".." or a leading "/" would
 * leave the cache), -1 a failed fetch; with a cause. */
int	 store_local_fetch(const struct project *, const struct store_entry *v,
	    size_t n, int pages,
	    int (*get)(void *, const char *, const char *, char **),
	    void *arg, struct sink *, char ***paths, char ***names,
	    char **cause);

/* Puts every regular file under dir/rel (rel "" for all of dir) with
 * put(arg, NAME, PATH, cause), NAME being dest + the file's path under
 * dir; counts them in *n. 0, or the first failed put's result with its
 * cause. */
int	 store_put_tree(const char *dest, const char *dir, const char *rel,
	    int (*put)(void *, const char *, const char *, char **),
	    void *arg, size_t *n, char **cause);

#endif
