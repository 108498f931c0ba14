#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/xmalloc.h"

#ifndef FANOUT_SRCDIR
#define FANOUT_SRCDIR "."
#endif
#ifndef FANOUT_DATADIR
#define FANOUT_DATADIR "/usr/local/share/fanout"
#endif

int
fs_mkdir_p(const char *path, int mode, char **cause)
{
	char *copy, *p;

	if (*path == '\0') {
		xasprintf(cause, "an empty path is no directory");
		return -1;
	}
	copy = xstrdup(path);
	for (p = copy + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(copy, (mode_t)mode) != 0 && errno != EEXIST) {
			xasprintf(cause, "cannot create directory %s: %s", copy,
			    strerror(errno));
			free(copy);
			return -1;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	free(copy);
	if (!fs_is_dir(path)) {
		xasprintf(cause, "%s exists and is not a directory", path);
		return -1;
	}
	return 0;
}

static int
fsync_dir_of(const char *path)
{
	char *dir, *slash;
	int fd, rc;

	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash == NULL) {
		free(dir);
		dir = xstrdup(".");
	} else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	free(dir);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
fs_write_atomic(const char *path, const void *data, size_t len, int mode,
    char **cause)
{
	char *tmp;
	const char *p = data;
	size_t left = len;
	ssize_t n;
	int fd;

	xasprintf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
	if (fd < 0) {
		xasprintf(cause, "cannot write %s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	while (left > 0) {
		n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		p += n;
		left -= (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	fsync_dir_of(path);
	free(tmp);
	return 0;

fail:
	xasprintf(cause, "cannot write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

char *
fs_read_file(const char *path, size_t *lenp, char **cause)
{
	FILE *f;
	char *buf;
	size_t len = 0, cap = 4096, n;

	if ((f = fopen(path, "rb")) == NULL) {
		xasprintf(cause, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	buf = xmalloc(cap);
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len - 1 == 0) {
			cap *= 2;
			buf = xreallocarray(buf, 1, cap);
		}
	}
	if (ferror(f)) {
		xasprintf(cause, "cannot read %s: %s", path, strerror(errno));
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

int
fs_remove_tree(const char *path, char **cause)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	char *child;
	int rc = 0;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISDIR(st.st_mode)) {
		if ((d = opendir(path)) == NULL) {
			xasprintf(cause, "cannot open %s: %s", path,
			    strerror(errno));
			return -1;
		}
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			child = fs_join(path, de->d_name);
			if (fs_remove_tree(child, cause) != 0)
				rc = -1;
			free(child);
			if (rc != 0)
				break;
		}
		closedir(d);
		if (rc == 0 && rmdir(path) != 0) {
			xasprintf(cause, "cannot remove %s: %s", path,
			    strerror(errno));
			rc = -1;
		}
		return rc;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		xasprintf(cause, "cannot remove %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

bool
fs_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool
fs_is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool
fs_is_executable(const char *path)
{
	return fs_is_file(path) && access(path, X_OK) == 0;
}

char *
fs_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	if (b[0] == '/')
		return xstrdup(b);
	if (la > 0 && a[la - 1] == '/')
		return xprintf("%s%s", a, b);
	return xprintf("%s/%s", a, b);
}

char *
fs_realpath(const char *path, char **cause)
{
	char *r;

	if ((r = realpath(path, NULL)) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return NULL;
	}
	return r;
}

char *
fs_data_path(const char *relative)
{
	const char *bases[3];
	char *p;
	size_t i;

	bases[0] = getenv("FANOUT_DATA_DIR");
	bases[1] = FANOUT_SRCDIR;
	bases[2] = FANOUT_DATADIR;
	for (i = 0; i < 3; i++) {
		if (bases[i] == NULL || *bases[i] == '\0')
			continue;
		p = fs_join(bases[i], relative);
		if (access(p, R_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

double
time_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
time_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
time_format_duration(double s, char *buf, size_t len)
{
	long t;

	if (s < 0)
		s = 0;
	if (s < 60) {
		snprintf(buf, len, "%.1fs", s);
		return;
	}
	t = (long)(s + 0.5);
	if (t < 3600)
		snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(buf, len, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
}
