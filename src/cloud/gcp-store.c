/* Cloud Storage buckets in runs (gcs.h): the lists and scripts the hosts
 * run to fetch inputs and put results with their own service account (a
 * token from the instance's metadata server; the user's credentials never
 * go to a host), and run --local with gs:// inputs and results, with the
 * user's credentials. */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cloud/gcp-internal.h"
#include "cloud/gcp.h"
#include "cloud/gcs.h"
#include "event.h"
#include "run/local.h"
#include "run/project.h"
#include "util/fs.h"
#include "cloud/store.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

/* 'text' for sh. */
static void
gcs_sh_quote(struct strbuf *sb, const char *s)
{
	strbuf_addc(sb, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			strbuf_adds(sb, "'\\''");
		else
			strbuf_addc(sb, *s);
	}
	strbuf_addc(sb, '\'');
}

/* The start of a host's script: "ENV=... python3 - ARGS" with the storage
 * endpoint when it is overridden (never a credential) and the template
 * text after. Debian's python3 is enough: the templates use its standard
 * library only. */
static int
gcs_host_python(struct gcp *g, struct strbuf *sb, const char *tmpl,
    const char *args, char **cause)
{
	char *rel = xprintf("templates/%s", tmpl), *path, *text;

	path = fs_data_path(rel);
	if (path == NULL) {
		xasprintf(cause, "%s not found; set FANOUT_DATA_DIR to "
		    "fanout's data folder", rel);
		free(rel);
		return -1;
	}
	free(rel);
	text = fs_read_file(path, NULL, cause);
	free(path);
	if (text == NULL)
		return -1;
	strbuf_adds(sb, "command -v python3 >/dev/null 2>&1 || { echo "
	    "'#error this host has no python3, which fetches and puts bucket "
	    "objects; install python3 there'; exit 1; }\n");
	if (strcmp(g->storage, GCP_STORAGE_URL) != 0) {
		strbuf_adds(sb, "CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE=");
		gcs_sh_quote(sb, g->storage);
		strbuf_adds(sb, " ");
	}
	strbuf_addf(sb, "python3 - %s <<'FANOUT_EOF_py'\n%s\nFANOUT_EOF_py\n",
	    args, text);
	free(text);
	return 0;
}

int
gcs_store_check(struct gcp *g, const struct project *pr, long files,
    char **cause)
{
	struct gcs_list l;

	if (pr->inputs_url != NULL) {
		if (strcmp(pr->inputs_url->scheme, "gs") != 0) {
			xasprintf(cause, "inputs.glob %s: Google Cloud reads "
			    "gs:// buckets; nothing was created", pr->glob);
			return -1;
		}
		if (gcs_list_objects(g, pr->inputs_url, files > 0 ? files :
		    pr->limit, "inputs.glob", &l, cause) != 0)
			return -1;
		gcs_list_free(&l);
	}
	if (pr->results_url != NULL) {
		if (strcmp(pr->results_url->scheme, "gs") != 0) {
			xasprintf(cause, "results %s://%s: Google Cloud writes "
			    "to gs:// buckets; nothing was created",
			    pr->results_url->scheme, pr->results_url->bucket);
			return -1;
		}
		if (gcs_check_bucket(g, pr->results_url, "results",
		    cause) != 0)
			return -1;
	}
	return 0;
}

int
gcs_store_fetch(struct gcp *g, const struct project *pr, long files,
    char ***pathsp, char ***namesp, size_t *np, char **list, char **script,
    char **summary, char **cause)
{
	const struct store_url *u = pr->inputs_url;
	struct store_entry *e;
	struct gcs_list l;
	struct strbuf sb;
	size_t i;
	int rc;

	*pathsp = *namesp = NULL;
	*np = 0;
	*script = *list = NULL;
	*summary = NULL;
	if (gcs_list_objects(g, u, files > 0 ? files : pr->limit,
	    "inputs.glob", &l, cause) != 0)
		return -1;
	e = xcalloc(l.n + 1, sizeof *e);
	for (i = 0; i < l.n; i++) {
		e[i].name = l.v[i].name;
		e[i].size = l.v[i].size;
		e[i].version = l.v[i].generation;
	}
	rc = store_fetch_plan(u, e, l.n, l.pages, pathsp, namesp, list,
	    summary, cause);
	free(e);
	if (rc == 0)
		*np = l.n;
	gcs_list_free(&l);
	if (rc != 0)
		return -1;
	strbuf_init(&sb);
	if (gcs_host_python(g, &sb, "gcs-fetch.py", "\"$fetch_list\"",
	    cause) != 0) {
		store_fetch_free(pathsp, namesp, *np, list, summary);
		*np = 0;
		strbuf_free(&sb);
		return -1;
	}
	*script = strbuf_detach(&sb);
	return 0;
}

char *
gcs_store_put(struct gcp *g, const struct project *pr, char **cause)
{
	struct strbuf sb, args;

	strbuf_init(&sb);
	strbuf_init(&args);
	strbuf_adds(&args, "results ");
	gcs_sh_quote(&args, pr->results_url->bucket);
	strbuf_addc(&args, ' ');
	gcs_sh_quote(&args, pr->results_url->prefix);
	if (gcs_host_python(g, &sb, "gcs-put.py", args.buf, cause) != 0) {
		strbuf_free(&sb);
		strbuf_free(&args);
		return NULL;
	}
	strbuf_free(&args);
	return strbuf_detach(&sb);
}

/* The cache's index: {"NAME": {"generation": G, "size": N}} of a bucket. */
static json_t *
gcs_cache_index(const char *path)
{
	json_t *j = json_load_file(path, 0, NULL);

	if (!json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	return j;
}

/* Whether the cached copy at abs is object o (same size, generation and
 * md5 as recorded when it was fetched). */
static int
gcs_cached(json_t *index, const struct gcs_object *o, const char *abs)
{
	json_t *ent = json_object_get(index, o->name);
	const char *gen = json_string_value(json_object_get(ent, "generation"));
	const char *md5 = json_string_value(json_object_get(ent, "md5"));
	struct stat sb;

	return stat(abs, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    sb.st_size == o->size && gen != NULL && strcmp(gen,
	    o->generation) == 0 && md5 != NULL && strcmp(md5, o->md5) == 0;
}

/* A name that would leave the cache folder ("..", an absolute path). */
static int
gcs_unsafe_name(const char *name)
{
	const char *p = name;

	if (*name == '/')
		return 1;
	for (;;) {
		if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0'))
			return 1;
		if ((p = strchr(p, '/')) == NULL)
			return 0;
		p++;
	}
}

int
gcs_local_inputs(const struct project *pr, long limit, struct sink *sink,
    char ***pathsp, char ***namesp, size_t *np, char **cause)
{
	const struct store_url *u = pr->inputs_url;
	struct gcs_list l;
	struct gcp *g;
	json_t *index;
	char **paths = NULL, **names = NULL, *cache, *ipath, *rel, *abs, *dir;
	size_t i, fetched = 0;
	long long bytes = 0;
	int rc = -1;

	*pathsp = *namesp = NULL;
	*np = 0;
	if (limit <= 0)
		limit = pr->limit;
	if ((g = gcp_open(cause)) == NULL)
		return -2;
	if (gcs_list_objects(g, u, limit, "inputs.glob", &l, cause) != 0) {
		gcp_free(g);
		return -2;
	}
	for (i = 0; i < l.n; i++) {
		if (gcs_unsafe_name(l.v[i].name)) {
			xasprintf(cause, "gs://%s/%s: a name with '..' cannot "
			    "be an input; rename it", u->bucket, l.v[i].name);
			gcs_list_free(&l);
			gcp_free(g);
			return -2;
		}
	}
	event_log(sink, "inputs", "%zu object(s) of gs://%s/%s (%d page(s) "
	    "listed)", l.n, u->bucket, u->key, l.pages);
	cache = xprintf("%s/.fanout/gs/%s", pr->dir, u->bucket);
	ipath = xprintf("%s/.fanout/gs/%s.index.json", pr->dir, u->bucket);
	if (fs_mkdir_p(cache, 0755, cause) != 0)
		goto out;
	index = gcs_cache_index(ipath);
	paths = xcalloc(l.n + 1, sizeof *paths);
	names = xcalloc(l.n + 1, sizeof *names);
	for (i = 0; i < l.n; i++) {
		rel = xprintf(".fanout/gs/%s/%s", u->bucket, l.v[i].name);
		abs = fs_join(pr->dir, rel);
		if (!gcs_cached(index, &l.v[i], abs)) {
			dir = xstrdup(abs);
			*strrchr(dir, '/') = '\0';
			if (fs_mkdir_p(dir, 0755, cause) != 0 ||
			    gcs_get_object(g, u->bucket, l.v[i].name, abs,
			    cause) != 0) {
				free(dir);
				free(abs);
				free(rel);
				json_decref(index);
				goto out;
			}
			free(dir);
			json_object_set_new(index, l.v[i].name, json_pack(
			    "{s:s, s:s, s:I}", "generation",
			    l.v[i].generation, "md5", l.v[i].md5, "size",
			    (json_int_t)l.v[i].size));
			fetched++;
			bytes += l.v[i].size;
		}
		free(abs);
		paths[i] = rel;
		names[i] = xprintf("gs://%s/%s", u->bucket, l.v[i].name);
	}
	if (json_dump_file(index, ipath, JSON_COMPACT) != 0)
		event_log(sink, "inputs", "cannot write %s", ipath);
	json_decref(index);
	event_log(sink, "inputs", "%zu downloaded (%lld bytes), %zu from the "
	    "cache %s", fetched, bytes, l.n - fetched, cache);
	*pathsp = paths;
	*namesp = names;
	*np = l.n;
	paths = names = NULL;
	rc = 0;
out:
	if (paths != NULL) {
		for (i = 0; i < l.n; i++) {
			free(paths[i]);
			free(names[i]);
		}
		free(paths);
		free(names);
	}
	free(cache);
	free(ipath);
	gcs_list_free(&l);
	gcp_free(g);
	return rc;
}

/* store_put_tree's put: one file into the bucket of a gcs_put. */
struct gcs_put {
	struct gcp	*g;
	const char	*bucket;
};

static int
gcs_put_one(void *arg, const char *name, const char *path, char **cause)
{
	struct gcs_put *p = arg;

	return gcs_put_object(p->g, p->bucket, name, path, cause);
}

enum local_status
gcs_run_local(struct local_opts *lo, struct local_result *lr, char **cause)
{
	struct gcs_put pp;
	struct project pr;
	struct gcp *g = NULL;
	char **paths = NULL, **names = NULL, *dest, *why;
	const char *stamp, *p;
	size_t n = 0, i, put = 0;
	enum local_status ls;
	int rc;

	memset(lr, 0, sizeof *lr);
	if (project_load(lo->project_dir, &pr, cause) != 0)
		return LOCAL_BAD_INPUT;
	if ((pr.inputs_url != NULL && strcmp(pr.inputs_url->scheme,
	    "gs") != 0) || (pr.results_url != NULL &&
	    strcmp(pr.results_url->scheme, "gs") != 0)) {
		xasprintf(cause, "%s: inputs and results are both in gs:// "
		    "buckets or both in s3:// buckets, not one of each",
		    pr.file);
		project_free(&pr);
		return LOCAL_BAD_INPUT;
	}
	/* The results bucket is checked before anything runs. */
	if (pr.results_url != NULL && ((g = gcp_open(cause)) == NULL ||
	    gcs_check_bucket(g, pr.results_url, "results", cause) != 0)) {
		gcp_free(g);
		project_free(&pr);
		return LOCAL_BAD_INPUT;
	}
	if (pr.inputs_url != NULL) {
		rc = gcs_local_inputs(&pr, lo->files, lo->sink, &paths, &names,
		    &n, cause);
		if (rc != 0) {
			gcp_free(g);
			project_free(&pr);
			return rc == -2 ? LOCAL_BAD_INPUT : LOCAL_FAILED;
		}
		lo->task_inputs = paths;
		lo->inputs = names;
		lo->ninputs = n;
	}
	ls = local_run(lo, lr, cause);
	if (ls == LOCAL_OK && g != NULL && !lr->cancelled) {
		/* Into PREFIX/<the results folder's name>/. */
		stamp = (p = strrchr(lr->results_dir, '/')) != NULL ? p + 1 :
		    lr->results_dir;
		p = pr.results_url->prefix;
		dest = xprintf("%s%s%s/", p, *p != '\0' && p[strlen(p) - 1] !=
		    '/' ? "/" : "", stamp);
		pp.g = g;
		pp.bucket = pr.results_url->bucket;
		if (store_put_tree(dest, lr->results_dir, "", gcs_put_one, &pp,
		    &put, cause) != 0) {
			why = *cause;
			xasprintf(cause, "the results are in %s; copying them to "
			    "gs://%s/%s failed: %s", lr->results_dir,
			    pr.results_url->bucket, dest, why);
			free(why);
			ls = LOCAL_FAILED;
		} else
			event_log(lo->sink, NULL, "results copied to gs://%s/%s "
			    "(%zu files)", pr.results_url->bucket, dest, put);
		free(dest);
	}
	for (i = 0; i < n; i++) {
		free(paths[i]);
		free(names[i]);
	}
	free(paths);
	free(names);
	gcp_free(g);
	project_free(&pr);
	return ls;
}

/* The provider's hooks (provider.h), on a session of provider_gcp. */

int
gcp_store_check(void *s, const struct project *pr, long files, char **cause)
{
	return gcs_store_check(((struct gcp_session *)s)->g, pr, files, cause);
}

int
gcp_store_fetch(void *s, const struct project *pr, long files, char ***paths,
    char ***names, size_t *n, char **list, char **script, char **summary,
    char **cause)
{
	return gcs_store_fetch(((struct gcp_session *)s)->g, pr, files, paths,
	    names, n, list, script, summary, cause);
}

char *
gcp_store_put(void *s, const struct project *pr, char **cause)
{
	return gcs_store_put(((struct gcp_session *)s)->g, pr, cause);
}
