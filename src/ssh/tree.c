/* Walks a project tree with .fanoutignore rules. Each gitignore pattern is
 * translated to an anchored POSIX extended regex: '*' and '?' stop at '/',
 * '**' spans folders, [...] stays a bracket expression; a pattern with no
 * '/' but a trailing one matches a name at any depth. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssh/tree.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

struct ignore_rule {
	regex_t	 re;
	bool	 negate;	/* "!pattern": re-includes */
	bool	 dir_only;	/* "pattern/": folders only */
	bool	 anchored;	/* has a '/': matched against the whole path */
};

/* Translates one gitignore glob (without !, trailing / or leading /) to
 * an anchored regex. */
static char *
ignore_regex(const char *p)
{
	struct strbuf sb;
	const char *q;

	strbuf_init(&sb);
	strbuf_addc(&sb, '^');
	while (*p != '\0') {
		if (p[0] == '*' && p[1] == '*') {
			if (p[2] == '/') {		/* "**" "/": any folders */
				strbuf_adds(&sb, "(.*/)?");
				p += 3;
			} else {			/* trailing "**" */
				strbuf_adds(&sb, ".*");
				p += 2;
			}
		} else if (*p == '*') {
			strbuf_adds(&sb, "[^/]*");
			p++;
		} else if (*p == '?') {
			strbuf_adds(&sb, "[^/]");
			p++;
		} else if (*p == '[' && (q = strchr(p + 1, ']')) != NULL) {
			strbuf_addc(&sb, '[');
			p++;
			if (*p == '!' || *p == '^') {
				strbuf_addc(&sb, '^');
				p++;
			}
			while (p <= q) {
				if (*p == '\\')
					p++;
				else
					strbuf_addc(&sb, *p++);
			}
		} else {
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (strchr(".^$+(){}|[]\\*?", *p) != NULL)
				strbuf_addc(&sb, '\\');
			strbuf_addc(&sb, *p++);
		}
	}
	strbuf_addc(&sb, '$');
	return strbuf_detach(&sb);
}

int
ignore_add_text(struct ignore *ig, const char *text, const char *origin,
    char **cause)
{
	struct ignore_rule r;
	const char *line = text, *nl;
	char *pat, *re;
	size_t len, lineno = 0;
	int rc;

	for (; line != NULL && *line != '\0'; line = nl != NULL ? nl + 1 : NULL) {
		lineno++;
		nl = strchr(line, '\n');
		len = nl != NULL ? (size_t)(nl - line) : strlen(line);
		pat = xstrndup(line, len);
		len = strlen(pat);
		while (len > 0 && (pat[len - 1] == '\r' || (pat[len - 1] == ' '
		    && (len < 2 || pat[len - 2] != '\\'))))
			pat[--len] = '\0';
		if (len == 0 || pat[0] == '#') {
			free(pat);
			continue;
		}
		memset(&r, 0, sizeof r);
		char *p = pat;
		if (*p == '!') {
			r.negate = true;
			p++;
		} else if (*p == '\\' && (p[1] == '!' || p[1] == '#'))
			p++;
		len = strlen(p);
		if (len > 0 && p[len - 1] == '/') {
			r.dir_only = true;
			p[--len] = '\0';
		}
		if (strchr(p, '/') != NULL)
			r.anchored = true;
		if (*p == '/')
			p++;
		if (*p == '\0') {
			free(pat);
			continue;
		}
		re = ignore_regex(p);
		rc = regcomp(&r.re, re, REG_EXTENDED | REG_NOSUB);
		free(re);
		if (rc != 0) {
			xasprintf(cause, "%s:%zu: bad pattern '%s'", origin,
			    lineno, pat);
			free(pat);
			return -1;
		}
		free(pat);
		ig->v = xreallocarray(ig->v, ig->n + 1, sizeof *ig->v);
		ig->v[ig->n++] = r;
	}
	return 0;
}

bool
ignore_match(const struct ignore *ig, const char *path, bool is_dir)
{
	const char *base = strrchr(path, '/');
	bool ignored = false;
	size_t i;

	base = base != NULL ? base + 1 : path;
	for (i = 0; i < ig->n; i++) {
		const struct ignore_rule *r = &ig->v[i];

		if (r->dir_only && !is_dir)
			continue;
		if (regexec(&r->re, r->anchored ? path : base, 0, NULL, 0) == 0)
			ignored = !r->negate;
	}
	return ignored;
}

void
ignore_free(struct ignore *ig)
{
	size_t i;

	for (i = 0; i < ig->n; i++)
		regfree(&ig->v[i].re);
	free(ig->v);
	memset(ig, 0, sizeof *ig);
}

EVP_MD_CTX *
tree_sha256_start(void)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	return ctx;
}

void
tree_sha256_end(EVP_MD_CTX *ctx, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < mdlen && i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

int
tree_sha256(const char *path, char out[65], char **cause)
{
	unsigned char *buf;
	EVP_MD_CTX *ctx;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		xasprintf(cause, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	buf = xmalloc(1 << 18);
	ctx = tree_sha256_start();
	while ((n = read(fd, buf, 1 << 18)) > 0)
		EVP_DigestUpdate(ctx, buf, (size_t)n);
	if (n < 0)
		xasprintf(cause, "cannot read %s: %s", path, strerror(errno));
	tree_sha256_end(ctx, out);
	free(buf);
	close(fd);
	return n < 0 ? -1 : 0;
}

void
tree_format_mtime(long long ns, char *buf, size_t len)
{
	snprintf(buf, len, "%lld.%09lld", ns / 1000000000LL,
	    ns % 1000000000LL);
}

static void
tree_add(struct tree *t, const char *rel, const struct stat *st)
{
	struct tree_file *f;

	if (t->n == t->cap) {
		t->cap = t->cap == 0 ? 256 : t->cap * 2;
		t->v = xreallocarray(t->v, t->cap, sizeof *t->v);
	}
	f = &t->v[t->n++];
	memset(f, 0, sizeof *f);
	f->path = xstrdup(rel);
	f->size = (long long)st->st_size;
	f->mtime_ns = (long long)st->st_mtim.tv_sec * 1000000000LL +
	    st->st_mtim.tv_nsec;
	f->mode = (int)(st->st_mode & 0777);
	f->ino = (unsigned long long)st->st_ino;
	f->ctime_ns = (long long)st->st_ctim.tv_sec * 1000000000LL +
	    st->st_ctim.tv_nsec;
	t->bytes += f->size;
}

static int
tree_walk(const char *root, const char *rel, const struct ignore *ig,
    struct tree *t, char **cause)
{
	struct dirent *de;
	struct stat st;
	char *dir, *sub;
	DIR *d;
	int rc = 0, dfd;

	dir = *rel != '\0' ? fs_join(root, rel) : xstrdup(root);
	if ((d = opendir(dir)) == NULL) {
		xasprintf(cause, "cannot list %s: %s", dir, strerror(errno));
		free(dir);
		return -1;
	}
	dfd = dirfd(d);
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		sub = *rel != '\0' ? xprintf("%s/%s", rel, de->d_name) :
		    xstrdup(de->d_name);
		/* Relative to the open folder: no walk of the whole path. */
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    (S_ISLNK(st.st_mode) && fstatat(dfd, de->d_name, &st, 0) !=
		    0) || (S_ISDIR(st.st_mode) && de->d_type == DT_LNK)) {
			/* Broken link, or a link to a folder: skipped. */
		} else if (S_ISDIR(st.st_mode)) {
			if (!ignore_match(ig, sub, true))
				rc = tree_walk(root, sub, ig, t, cause);
		} else if (S_ISREG(st.st_mode) && !ignore_match(ig, sub, false))
			tree_add(t, sub, &st);
		free(sub);
	}
	closedir(d);
	free(dir);
	return rc;
}

static int
tree_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tree_file *)a)->path,
	    ((const struct tree_file *)b)->path);
}

int
tree_scan(const char *dir, bool hash, struct tree *t, char **cause)
{
	struct ignore ig = { 0 };
	char *file, *text;
	size_t i;
	int rc = -1;

	memset(t, 0, sizeof *t);
	/* .fanout/: run --local's cache of bucket inputs (s3.h), which
	 * hosts fetch themselves. */
	ignore_add_text(&ig, ".git/\n/results/\n/.fanout/\n", "built-in",
	    cause);
	file = fs_join(dir, ".fanoutignore");
	if (fs_is_file(file)) {
		if ((text = fs_read_file(file, NULL, cause)) == NULL)
			goto out;
		if (ignore_add_text(&ig, text, file, cause) != 0) {
			free(text);
			goto out;
		}
		free(text);
	}
	if (tree_walk(dir, "", &ig, t, cause) != 0)
		goto out;
	if (t->n > 1)
		qsort(t->v, t->n, sizeof *t->v, tree_cmp);
	for (i = 0; hash && i < t->n; i++) {
		char *path = fs_join(dir, t->v[i].path);

		rc = tree_sha256(path, t->v[i].sha, cause);
		free(path);
		if (rc != 0)
			goto out;
	}
	rc = 0;
out:
	free(file);
	ignore_free(&ig);
	if (rc != 0)
		tree_free(t);
	return rc;
}

void
tree_free(struct tree *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->v[i].path);
	free(t->v);
	memset(t, 0, sizeof *t);
}
