/* The bucket hooks' shared fetch plan (store.h). */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/store.h"
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
