/* The bucket hooks' shared fetch plan (store.h). */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cloud/store.h"
#include "event.h"
#include "run/project.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

int
store_fetch_plan(const struct store_url *u, const struct store_entry *v,
    size_t n, int pages, char ***pathsp, char ***namesp, char **list,
    char **summary, char **cause)
{
	struct strbuf sb;
	char **paths, **names;
	size_t i;

	for (i = 0; i < n; i++) {
		if (strpbrk(v[i].name, "\t\n\r") != NULL) {
			xasprintf(cause, "%s://%s/%s: a name with a tab or a "
			    "newline cannot be an input; rename it", u->scheme,
			    u->bucket, v[i].name);
			return -1;
		}
	}
	strbuf_init(&sb);
	paths = xcalloc(n + 1, sizeof *paths);
	names = xcalloc(n + 1, sizeof *names);
	for (i = 0; i < n; i++) {
		strbuf_addf(&sb, "%s\t%s\t%lld\t%s\tstore/%s/%s\n", u->bucket,
		    v[i].name, v[i].size, v[i].version, u->bucket, v[i].name);
		/* The tasks run in the project's tree beside store/. */
		paths[i] = xprintf("../store/%s/%s", u->bucket, v[i].name);
		names[i] = xprintf("%s://%s/%s", u->scheme, u->bucket,
		    v[i].name);
	}
	*list = strbuf_detach(&sb);
	*pathsp = paths;
	*namesp = names;
	xasprintf(summary, "%zu object(s) of %s://%s/%s (%d page(s) listed), "
	    "fetched by the host itself", n, u->scheme, u->bucket, u->key,
	    pages);
	return 0;
}

void
store_fetch_free(char ***paths, char ***names, size_t n, char **list,
    char **summary)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (*paths != NULL)
			free((*paths)[i]);
		if (*names != NULL)
			free((*names)[i]);
	}
	free(*paths);
	free(*names);
	*paths = *names = NULL;
	free(*list);
	*list = NULL;
	free(*summary);
	*summary = NULL;
}

int
store_put_tree(const char *dest, const char *dir, const char *rel,
    int (*put)(void *, const char *, const char *, char **), void *arg,
    size_t *n, char **cause)
{
	char *path = *rel != '\0' ? fs_join(dir, rel) : xstrdup(dir), *sub;
	char *name;
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int rc = 0;

	if ((d = opendir(path)) == NULL) {
		xasprintf(cause, "cannot read %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name,
		    "..") == 0)
			continue;
		sub = *rel != '\0' ? xprintf("%s/%s", rel, de->d_name) :
		    xstrdup(de->d_name);
		free(path);
		path = fs_join(dir, sub);
		if (lstat(path, &sb) != 0)
			;	/* gone meanwhile */
		else if (S_ISDIR(sb.st_mode))
			rc = store_put_tree(dest, dir, sub, put, arg, n,
			    cause);
		else if (S_ISREG(sb.st_mode)) {
			name = xprintf("%s%s", dest, sub);
			if ((rc = put(arg, name, path, cause)) == 0)
				(*n)++;
			free(name);
		}
		free(sub);
	}
	closedir(d);
	free(path);
	return rc;
}

/* A name that would leave the cache folder ("..", an absolute path). */
static int
store_unsafe_name(const char *name)
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

/* Whether the cached copy at abs is object o: the size and version
 * recorded when it was fetched. */
static int
store_cached(json_t *index, const struct store_entry *o, const char *abs)
{
	json_t *ent = json_object_get(index, o->name);
	const char *ver = json_string_value(json_object_get(ent, "version"));
	struct stat sb;

	return stat(abs, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    sb.st_size == o->size && ver != NULL && strcmp(ver,
	    o->version) == 0;
}

int
store_local_fetch(const struct project *pr, const struct store_entry *v,
    size_t n, int pages,
    int (*get)(void *, const char *, const char *, char **), void *arg,
    struct sink *sink, char ***pathsp, char ***namesp, char **cause)
{
	const struct store_url *u = pr->inputs_url;
	json_t *index;
	char **paths = NULL, **names = NULL, *cache, *ipath, *rel, *abs, *dir;
	size_t i, fetched = 0;
	long long bytes = 0;
	int rc = -1;

	*pathsp = *namesp = NULL;
	for (i = 0; i < n; i++) {
		if (store_unsafe_name(v[i].name)) {
			xasprintf(cause, "%s://%s/%s: a name with '..' or a "
			    "leading '/' cannot be an input; rename it",
			    u->scheme, u->bucket, v[i].name);
			return -2;
		}
	}
	event_log(sink, "inputs", "%zu object(s) of %s://%s/%s (%d page(s) "
	    "listed)", n, u->scheme, u->bucket, u->key, pages);
	cache = xprintf("%s/.fanout/%s/%s", pr->dir, u->scheme, u->bucket);
	ipath = xprintf("%s.index.json", cache);
	if (fs_mkdir_p(cache, 0755, cause) != 0)
		goto out;
	/* Not in json_is_object's argument: a macro, it would load twice. */
	index = json_load_file(ipath, 0, NULL);
	if (!json_is_object(index)) {
		json_decref(index);
		index = json_object();
	}
	paths = xcalloc(n + 1, sizeof *paths);
	names = xcalloc(n + 1, sizeof *names);
	for (i = 0; i < n; i++) {
		rel = xprintf(".fanout/%s/%s/%s", u->scheme, u->bucket,
		    v[i].name);
		abs = fs_join(pr->dir, rel);
		paths[i] = rel;
		names[i] = xprintf("%s://%s/%s", u->scheme, u->bucket,
		    v[i].name);
		if (!store_cached(index, &v[i], abs)) {
			dir = xstrdup(abs);
			*strrchr(dir, '/') = '\0';
			if (fs_mkdir_p(dir, 0755, cause) != 0 ||
			    get(arg, v[i].name, abs, cause) != 0) {
				free(dir);
				free(abs);
				json_decref(index);
				goto out;
			}
			free(dir);
			json_object_set_new(index, v[i].name, json_pack(
			    "{s:s, s:I}", "version", v[i].version, "size",
			    (json_int_t)v[i].size));
			fetched++;
			bytes += v[i].size;
		}
		free(abs);
	}
	if (json_dump_file(index, ipath, JSON_COMPACT) != 0)
		event_log(sink, "inputs", "cannot write %s", ipath);
	json_decref(index);
	event_log(sink, "inputs", "%zu downloaded (%lld bytes), %zu from the "
	    "cache %s", fetched, bytes, n - fetched, cache);
	*pathsp = paths;
	*namesp = names;
	paths = names = NULL;
	rc = 0;
out:
	if (paths != NULL) {
		for (i = 0; i < n; i++) {
			free(paths[i]);
			free(names[i]);
		}
		free(paths);
		free(names);
	}
	free(cache);
	free(ipath);
	return rc;
}
