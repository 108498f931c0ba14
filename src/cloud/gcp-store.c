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

/* store_local_fetch's get: one object of the bucket of a gcs_get. */
struct gcs_get {
	struct gcp	*g;
	const char	*bucket;
};

static int
gcs_get_one(void *arg, const char *name, const char *path, char **cause)
{
	struct gcs_get *p = arg;

	return gcs_get_object(p->g, p->bucket, name, path, cause);
}

int
gcs_local_inputs(const struct project *pr, long limit, struct sink *sink,
    char ***pathsp, char ***namesp, size_t *np, char **cause)
{
	const struct store_url *u = pr->inputs_url;
	struct gcs_get get;
	struct store_entry *e;
	struct gcs_list l;
	size_t i;
	int rc;

	*pathsp = *namesp = NULL;
	*np = 0;
	if (limit <= 0)
		limit = pr->limit;
	if ((get.g = gcp_open(cause)) == NULL)
		return -2;
	if (gcs_list_objects(get.g, u, limit, "inputs.glob", &l, cause) != 0) {
		gcp_free(get.g);
		return -2;
	}
	get.bucket = u->bucket;
	e = xcalloc(l.n + 1, sizeof *e);
	for (i = 0; i < l.n; i++) {
		e[i].name = l.v[i].name;
		e[i].size = l.v[i].size;
		e[i].version = l.v[i].generation;
	}
	rc = store_local_fetch(pr, e, l.n, l.pages, gcs_get_one, &get, sink,
	    pathsp, namesp, cause);
	if (rc == 0)
		*np = l.n;
	free(e);
	gcs_list_free(&l);
	gcp_free(get.g);
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
