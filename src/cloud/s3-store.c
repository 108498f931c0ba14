/* Buckets in runs (s3.h): the provider's bucket ops (the lists and
 * scripts the hosts run to fetch inputs and put results, with their own
 * credentials) and run --local with bucket inputs and results. */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/aws.h"
#include "cloud/gcs.h"
#include "cloud/s3.h"
#include "event.h"
#include "run/local.h"
#include "run/project.h"
#include "util/fs.h"
#include "cloud/store.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

/* 'text' for sh. */
static void
s3_sh_quote(struct strbuf *sb, const char *s)
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

/* The start of a host's script: python3 with boto3 (installed when this
 * user may), then "ENV=... python3 - " with the endpoint overrides and
 * the region (never a credential) and the template text after. */
static int
s3_host_python(struct aws *a, struct strbuf *sb, const char *tmpl,
    const char *args, char **cause)
{
	char *rel = xprintf("templates/%s", tmpl), *path, *text, *ep, *pub;

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
	strbuf_adds(sb,
	    "if ! python3 -c 'import boto3' >/dev/null 2>&1; then\n"
	    "\ts=; [ \"$(id -u)\" = 0 ] || s='sudo -n'\n"
	    "\tif command -v dnf >/dev/null 2>&1; then\n"
	    "\t\t$s dnf install -y -q python3-boto3 >/dev/null 2>&1\n"
	    "\telif command -v apt-get >/dev/null 2>&1; then\n"
	    "\t\t$s apt-get install -y -qq python3-boto3 >/dev/null 2>&1\n"
	    "\tfi\n"
	    "fi\n"
	    "python3 -c 'import boto3' >/dev/null 2>&1 || { echo '#error "
	    "this host has no python3 with boto3, which fetches and puts "
	    "bucket objects; install python3-boto3 there'; exit 1; }\n");
	ep = aws_endpoint(a, "s3");
	pub = xprintf("https://s3.%s.amazonaws.com/", a->region);
	if (strcmp(ep, pub) != 0) {
		strbuf_adds(sb, "AWS_ENDPOINT_URL_S3=");
		s3_sh_quote(sb, ep);
		strbuf_adds(sb, " ");
	}
	free(ep);
	free(pub);
	strbuf_adds(sb, "AWS_DEFAULT_REGION=");
	s3_sh_quote(sb, a->region);
	strbuf_addf(sb, " python3 - %s <<'FANOUT_EOF_py'\n%s\nFANOUT_EOF_py\n",
	    args, text);
	free(text);
	return 0;
}

int
aws_store_check(void *s, const struct project *pr, long files, char **cause)
{
	struct s3_list l;

	if (pr->inputs_url != NULL) {
		if (strcmp(pr->inputs_url->scheme, "s3") != 0) {
			xasprintf(cause, "inputs.glob %s: AWS reads s3:// "
			    "buckets; nothing was created", pr->glob);
			return -1;
		}
		if (s3_list_objects(s, pr->inputs_url, files > 0 ? files :
		    pr->limit, "inputs.glob", &l, cause) != 0)
			return -1;
		s3_list_free(&l);
	}
	if (pr->results_url != NULL) {
		if (strcmp(pr->results_url->scheme, "s3") != 0) {
			xasprintf(cause, "results s3://%s: AWS writes to s3:// "
			    "buckets; nothing was created",
			    pr->results_url->bucket);
			return -1;
		}
		if (s3_check_bucket(s, pr->results_url, "results", cause) != 0)
			return -1;
	}
	return 0;
}

int
aws_store_fetch(void *s, const struct project *pr, long files, char ***pathsp,
    char ***namesp, size_t *np, char **list, char **script, char **summary,
    char **cause)
{
	const struct store_url *u = pr->inputs_url;
	struct store_entry *e;
	struct s3_list l;
	struct strbuf sb;
	size_t i;
	int rc;

	*pathsp = *namesp = NULL;
	*np = 0;
	*script = *list = NULL;
	*summary = NULL;
	if (s3_list_objects(s, u, files > 0 ? files : pr->limit,
	    "inputs.glob", &l, cause) != 0)
		return -1;
	e = xcalloc(l.n + 1, sizeof *e);
	for (i = 0; i < l.n; i++) {
		e[i].name = l.v[i].key;
		e[i].size = l.v[i].size;
		e[i].version = l.v[i].etag;
	}
	rc = store_fetch_plan(u, e, l.n, l.pages, pathsp, namesp, list,
	    summary, cause);
	free(e);
	if (rc == 0)
		*np = l.n;
	s3_list_free(&l);
	if (rc != 0)
		return -1;
	strbuf_init(&sb);
	if (s3_host_python(s, &sb, "s3-fetch.py", "\"$fetch_list\"",
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
aws_store_put(void *s, const struct project *pr, char **cause)
{
	struct strbuf sb, args;
	char *text;

	strbuf_init(&sb);
	strbuf_init(&args);
	strbuf_adds(&args, "results ");
	s3_sh_quote(&args, pr->results_url->bucket);
	strbuf_addc(&args, ' ');
	s3_sh_quote(&args, pr->results_url->prefix);
	if (s3_host_python(s, &sb, "s3-put.py", args.buf, cause) != 0) {
		strbuf_free(&sb);
		strbuf_free(&args);
		return NULL;
	}
	strbuf_free(&args);
	text = strbuf_detach(&sb);
	return text;
}

/* store_put_tree's put: one file into the bucket of a s3_put. */
struct s3_put {
	struct aws	*a;
	const char	*bucket;
};

static int
s3_put_one(void *arg, const char *name, const char *path, char **cause)
{
	struct s3_put *p = arg;

	return s3_put_object(p->a, p->bucket, name, path, cause);
}

enum local_status
s3_run_local(struct local_opts *lo, struct local_result *lr, char **cause)
{
	struct s3_put pp;
	struct project pr;
	struct aws *a = NULL;
	char **paths = NULL, **names = NULL, *dest, *why;
	const char *stamp;
	size_t n = 0, i, put = 0;
	enum local_status ls;
	int rc;

	memset(lr, 0, sizeof *lr);
	if (project_load(lo->project_dir, &pr, cause) != 0)
		return LOCAL_BAD_INPUT;
	if (pr.inputs_url == NULL && pr.results_url == NULL) {
		project_free(&pr);
		return local_run(lo, lr, cause);
	}
	if ((pr.inputs_url != NULL && strcmp(pr.inputs_url->scheme,
	    "s3") != 0) || (pr.results_url != NULL &&
	    strcmp(pr.results_url->scheme, "s3") != 0)) {
		/* Cloud Storage (gcp-store.c). */
		project_free(&pr);
		return gcs_run_local(lo, lr, cause);
	}
	/* The results bucket is checked before anything runs. */
	if (pr.results_url != NULL && ((a = aws_open(NULL, cause)) == NULL ||
	    s3_check_bucket(a, pr.results_url, "results", cause) != 0)) {
		aws_free(a);
		project_free(&pr);
		return LOCAL_BAD_INPUT;
	}
	if (pr.inputs_url != NULL) {
		rc = s3_local_inputs(&pr, lo->files, lo->sink, &paths, &names,
		    &n, cause);
		if (rc != 0) {
			aws_free(a);
			project_free(&pr);
			return rc == -2 ? LOCAL_BAD_INPUT : LOCAL_FAILED;
		}
		lo->task_inputs = paths;
		lo->inputs = names;
		lo->ninputs = n;
	}
	ls = local_run(lo, lr, cause);
	if (ls == LOCAL_OK && a != NULL && !lr->cancelled) {
		/* Into PREFIX/<the results folder's name>/. */
		stamp = strrchr(lr->results_dir, '/') != NULL ?
		    strrchr(lr->results_dir, '/') + 1 : lr->results_dir;
		dest = xprintf("%s%s%s/", pr.results_url->prefix,
		    *pr.results_url->prefix != '\0' && pr.results_url->prefix[
		    strlen(pr.results_url->prefix) - 1] != '/' ? "/" : "",
		    stamp);
		pp.a = a;
		pp.bucket = pr.results_url->bucket;
		if (store_put_tree(dest, lr->results_dir, "", s3_put_one, &pp,
		    &put, cause) != 0) {
			why = *cause;
			xasprintf(cause, "the results are in %s; copying them to "
			    "s3://%s/%s failed: %s", lr->results_dir,
			    pr.results_url->bucket, dest, why);
			free(why);
			ls = LOCAL_FAILED;
		} else
			event_log(lo->sink, NULL, "results copied to s3://%s/%s "
			    "(%zu files)", pr.results_url->bucket, dest, put);
		free(dest);
	}
	for (i = 0; i < n; i++) {
		free(paths[i]);
		free(names[i]);
	}
	free(paths);
	free(names);
	aws_free(a);
	project_free(&pr);
	return ls;
}
