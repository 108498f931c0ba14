/* Run-set records (DESIGN.md "History record"). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "history/history.h"
#include "util/fs.h"
#include "util/xmalloc.h"

char *
history_dir(void)
{
	const char *s;

	if ((s = getenv("FANOUT_HISTORY_DIR")) != NULL && *s != '\0')
		return xstrdup(s);
	if ((s = getenv("XDG_STATE_HOME")) != NULL && *s == '/')
		return xprintf("%s/fanout/history", s);
	if ((s = getenv("HOME")) == NULL || *s == '\0')
		s = "/tmp";
	return xprintf("%s/.local/state/fanout/history", s);
}

int
history_ensure_dir(char **cause)
{
	char *dir = history_dir();
	int rc;

	rc = fs_mkdir_p(dir, 0700, cause);
	free(dir);
	return rc;
}

char *
history_new_id(void)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[4];
	char day[16], tail[5];
	time_t now = time(NULL);
	struct tm tm;
	int fd;
	size_t i;

	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, rnd, sizeof rnd) != (ssize_t)sizeof rnd) {
		for (i = 0; i < sizeof rnd; i++)
			rnd[i] = (unsigned char)(rand() ^ getpid());
	}
	if (fd >= 0)
		close(fd);
	for (i = 0; i < 4; i++)
		tail[i] = alnum[rnd[i] % (sizeof alnum - 1)];
	tail[4] = '\0';
	gmtime_r(&now, &tm);
	strftime(day, sizeof day, "%Y%m%d", &tm);
	return xprintf("fo-%s-%s", day, tail);
}

char *
history_timestamp(double seconds)
{
	time_t t = (time_t)seconds;
	struct tm tm;
	char buf[32];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

double
history_parse_timestamp(const char *s)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof tm);
	if (s == NULL || (end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) ==
	    NULL || *end != '\0')
		return -1;
	return (double)timegm(&tm);
}

json_t *
history_new(const char *kind, const char *project)
{
	char *id = history_new_id(), *ts = history_timestamp(time_now());
	json_t *rec;

	rec = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:[], s:[]}",
	    "version", 1, "id", id, "kind", kind, "project", project,
	    "created_at", ts, "state", "active", "resources", "runs");
	free(id);
	free(ts);
	return rec;
}

char *
history_file(const char *id, const char *suffix)
{
	char *dir = history_dir(), *p;

	p = xprintf("%s/%s%s", dir, id, suffix);
	free(dir);
	return p;
}

const char *
history_str(const json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : def;
}

/* Opens (making it) the lock file <dir>/<name><suffix>, making the
 * history dir first; the fd, or -1 with a cause. */
static int
history_open_lock(const char *name, const char *suffix, char **cause)
{
	char *path;
	int fd;

	if (history_ensure_dir(cause) != 0)
		return -1;
	path = history_file(name, suffix);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		xasprintf(cause, "cannot open %s: %s", path, strerror(errno));
	free(path);
	return fd;
}

/* Takes the history lock (flock on <dir>/.lock); returns the fd or -1. */
static int
history_lock(char **cause)
{
	int fd;

	if ((fd = history_open_lock(".lock", "", cause)) < 0)
		return -1;
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			xasprintf(cause, "cannot lock the history: %s",
			    strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

static int
history_valid_id(const char *id)
{
	return id != NULL && *id != '\0' && strchr(id, '/') == NULL &&
	    id[0] != '.' && strlen(id) < 128;
}

static json_t	*history_load_path(const char *, const char *, char **);

/* How far a state has gone; a save never lowers it. Record: deleting 1,
 * deleted 2, any other 0. Resource: intent 0, created 1, deleted 2. */
static int
history_rank(const char *state)
{
	if (strcmp(state, "deleted") == 0)
		return 2;
	if (strcmp(state, "deleting") == 0 || strcmp(state, "created") == 0)
		return 1;
	return 0;
}

/* 0 when writing rec over the record at path rolls nothing back (or
 * there is none); else -1 with a cause. Called under the history lock. */
static int
history_no_rollback(json_t *rec, const char *id, const char *path,
    char **cause)
{
	const char *was, *now;
	json_t *old, *o, *n;
	char *why = NULL;
	size_t i;
	int rc = -1;

	if (access(path, F_OK) != 0)
		return 0;
	if ((old = history_load_path(path, id, &why)) == NULL) {
		xasprintf(cause, "not saving over a record that does not load: "
		    "%s", why);
		free(why);
		return -1;
	}
	was = history_str(old, "state", "");
	now = history_str(rec, "state", "");
	if (history_rank(was) > history_rank(now)) {
		xasprintf(cause, "run set %s is %s on disk (another command "
		    "changed it meanwhile): not saving it as %s; see 'fanout "
		    "status %s'", id, was, now, id);
		goto out;
	}
	json_array_foreach(json_object_get(old, "resources"), i, o) {
		n = history_resource(rec, history_str(o, "kind", ""),
		    history_str(o, "name", ""));
		was = history_str(o, "state", "");
		if (n == NULL) {
			xasprintf(cause, "%s %s of run set %s is on disk but "
			    "not in this save (another command changed the "
			    "record meanwhile): not saving; see 'fanout status "
			    "%s'", history_str(o, "kind", ""),
			    history_str(o, "name", ""), id, id);
			goto out;
		}
		now = history_str(n, "state", "");
		if (history_rank(was) > history_rank(now)) {
			xasprintf(cause, "%s %s of run set %s is %s on disk "
			    "(another command changed it meanwhile): not saving "
			    "it as %s; see 'fanout status %s'",
			    history_str(o, "kind", ""),
			    history_str(o, "name", ""), id, was, now, id);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(old);
	return rc;
}

int
history_save(json_t *rec, char **cause)
{
	const char *id = history_str(rec, "id", NULL);
	char *path, *text, *why = NULL;
	int fd, rc = -1;

	if (!history_valid_id(id)) {
		xasprintf(cause, "history record has no valid id");
		return -1;
	}
	/* Never write what would not load back. */
	if (history_check(rec, NULL, &why) != 0) {
		xasprintf(cause, "not saving run set %s: its %s", id, why);
		free(why);
		return -1;
	}
	if ((fd = history_lock(cause)) < 0)
		return -1;
	path = history_file(id, ".json");
	if (history_no_rollback(rec, id, path, cause) == 0) {
		text = json_dumps(rec, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
		    JSON_REAL_PRECISION(17));
		rc = fs_write_atomic(path, text, strlen(text), 0600, cause);
		free(text);
	}
	free(path);
	close(fd);
	return rc;
}

/* Records before clusters had one "ssh" block (the bastion); now a list
 * of hosts with roles. A checked record's block becomes the head. */
static void
history_migrate(json_t *rec)
{
	json_t *ssh = json_object_get(rec, "ssh"), *h;

	if (ssh == NULL)
		return;
	if (json_object_get(rec, "hosts") == NULL) {
		h = json_pack("{s:s, s:s, s:O, s:O}", "role", "head", "name",
		    "bastion", "user", json_object_get(ssh, "user"),
		    "key_file", json_object_get(ssh, "key_file"));
		if (history_str(ssh, "instance_id", NULL) != NULL)
			json_object_set(h, "instance_id",
			    json_object_get(ssh, "instance_id"));
		if (history_str(ssh, "host", NULL) != NULL)
			json_object_set(h, "host", json_object_get(ssh, "host"));
		if (history_str(ssh, "host_key", NULL) != NULL)
			json_object_set(h, "host_key",
			    json_object_get(ssh, "host_key"));
		json_object_set_new(rec, "hosts", json_pack("[o]", h));
	}
	json_object_del(rec, "ssh");
}

static json_t *
history_load_path(const char *path, const char *id, char **cause)
{
	json_error_t je;
	json_t *rec;
	char *why = NULL;

	if ((rec = json_load_file(path, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL) {
		xasprintf(cause, "history record %s is damaged (%s:%d: %s); "
		    "move it aside or restore it", id, path, je.line, je.text);
		return NULL;
	}
	if (history_check(rec, id, &why) != 0) {
		xasprintf(cause, "history record %s: %s (%s); move it aside or "
		    "restore it", id, why, path);
		free(why);
		json_decref(rec);
		return NULL;
	}
	history_migrate(rec);
	return rec;
}

json_t *
history_load(const char *id, char **cause)
{
	json_t *rec;
	char *path;

	if (!history_valid_id(id)) {
		xasprintf(cause, "'%s' is not a run-set id (see fanout "
		    "history)", id != NULL ? id : "");
		return NULL;
	}
	path = history_file(id, ".json");
	if (access(path, F_OK) != 0) {
		char *dir = history_dir();

		xasprintf(cause, "no run set '%s' in %s (see fanout history)",
		    id, dir);
		free(dir);
		free(path);
		return NULL;
	}
	rec = history_load_path(path, id, cause);
	free(path);
	return rec;
}

/* Newest first; the same second: by id, descending. Records are
 * checked: both keys are strings. */
static int
history_cmp_newest(const void *a, const void *b)
{
	json_t *ra = *(json_t *const *)a, *rb = *(json_t *const *)b;
	int c = strcmp(history_str(rb, "created_at", ""),
	    history_str(ra, "created_at", ""));

	if (c != 0)
		return c;
	return strcmp(history_str(rb, "id", ""), history_str(ra, "id", ""));
}

json_t *
history_scan(json_t **damaged, char **cause)
{
	char *dir = history_dir(), *path, *why = NULL, *id;
	json_t **v = NULL, *arr, *rec;
	size_t n = 0, i, len;
	struct dirent *de;
	DIR *d;

	if (damaged != NULL)
		*damaged = json_array();
	arr = json_array();
	if ((d = opendir(dir)) == NULL) {
		if (errno != ENOENT) {
			xasprintf(cause, "cannot read history %s: %s", dir,
			    strerror(errno));
			json_decref(arr);
			arr = NULL;
		}
		free(dir);
		return arr;
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 ||
		    strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		id = xstrndup(de->d_name, len - 5);
		path = fs_join(dir, de->d_name);
		if (!history_valid_id(id)) {
			xasprintf(&why, "history file %s is not named after a "
			    "run-set id; move it aside", path);
			rec = NULL;
		} else
			rec = history_load_path(path, id, &why);
		free(path);
		free(id);
		if (rec == NULL) {
			if (damaged != NULL)
				json_array_append_new(*damaged,
				    json_string(why));
			free(why);
			why = NULL;
			continue;
		}
		v = xreallocarray(v, n + 1, sizeof *v);
		v[n++] = rec;
	}
	closedir(d);
	free(dir);
	if (n > 1)
		qsort(v, n, sizeof *v, history_cmp_newest);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, v[i]);
	free(v);
	return arr;
}

json_t *
history_list(size_t *broken, char **cause)
{
	json_t *damaged, *arr;

	arr = history_scan(&damaged, cause);
	if (broken != NULL)
		*broken = json_array_size(damaged);
	json_decref(damaged);
	return arr;
}

json_t *
history_resource(json_t *rec, const char *kind, const char *name)
{
	json_t *res;
	size_t i;

	json_array_foreach(json_object_get(rec, "resources"), i, res) {
		const char *k = history_str(res, "kind", NULL);
		const char *n = history_str(res, "name", NULL);

		if (k != NULL && strcmp(k, kind) == 0 &&
		    (name == NULL || (n != NULL && strcmp(n, name) == 0)))
			return res;
	}
	return NULL;
}

json_t *
history_resource_intent(json_t *rec, const char *kind, const char *name,
    const char *region, const char *token, const char *const *depends_on)
{
	json_t *res, *deps = json_array();
	char *ts = history_timestamp(time_now());
	size_t i;

	for (i = 0; depends_on != NULL && depends_on[i] != NULL; i++)
		json_array_append_new(deps, json_string(depends_on[i]));
	res = json_pack("{s:s, s:s, s:n, s:s?, s:s, s:s?, s:s, s:o}",
	    "kind", kind, "name", name, "id", "region", region,
	    "state", "intent", "token", token, "created_at", ts,
	    "depends_on", deps);
	free(ts);
	json_array_append_new(json_object_get(rec, "resources"), res);
	return res;
}

void
history_resource_set(json_t *res, const char *state, const char *id)
{
	json_object_set_new(res, "state", json_string(state));
	if (id != NULL)
		json_object_set_new(res, "id", json_string(id));
}

void
history_add_run(json_t *rec, json_t *run)
{
	json_t *runs = json_object_get(rec, "runs");

	if (runs == NULL) {
		runs = json_array();
		json_object_set_new(rec, "runs", runs);
	}
	json_array_append_new(runs, run);
}

/* This process's command line, for the lock file: arguments joined by
 * spaces, anything unprintable as '?', at most about 200 bytes. */
static char *
history_cmdline(void)
{
	char buf[256];
	ssize_t n = -1;
	size_t i;
	int fd;

	if ((fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, buf, 200);
		close(fd);
	}
	if (n <= 0)
		return xstrdup("fanout");
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (i = 0; i < (size_t)n; i++) {
		if (buf[i] == '\0')
			buf[i] = ' ';
		else if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	}
	buf[n] = '\0';
	return xstrdup(buf);
}

/* The holder a lock file names: "pid N (what: command)", read from its
 * two lines; "another fanout command" when it is empty. */
static char *
history_holder(int fd)
{
	char buf[512], *nl, *s;
	ssize_t n;

	if ((n = pread(fd, buf, sizeof buf - 1, 0)) <= 0)
		return xstrdup("another fanout command");
	buf[n] = '\0';
	for (s = buf; *s != '\0'; s++) {
		if (*s != '\n' && ((unsigned char)*s < 0x20 || *s == 0x7f))
			*s = '?';
	}
	if ((nl = strchr(buf, '\n')) == NULL ||
	    strspn(buf, "0123456789") != (size_t)(nl - buf) || nl == buf)
		return xstrdup("another fanout command");
	*nl++ = '\0';
	nl[strcspn(nl, "\n")] = '\0';
	return xprintf("pid %s (%s)", buf, nl);
}

int
history_hold(const char *id, const char *what, char **cause)
{
	char *cmd, *who;
	int fd;

	if (!history_valid_id(id)) {
		xasprintf(cause, "'%s' is not a run-set id (see fanout "
		    "history)", id != NULL ? id : "");
		return -1;
	}
	if ((fd = history_open_lock(id, ".lock", cause)) < 0)
		return -1;
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK) {
			who = history_holder(fd);
			xasprintf(cause, "run set %s is in use by %s; wait for "
			    "that command to end (or stop it), then try again",
			    id, who);
			free(who);
		} else
			xasprintf(cause, "cannot lock run set %s: %s", id,
			    strerror(errno));
		close(fd);
		return -1;
	}
	cmd = history_cmdline();
	if (ftruncate(fd, 0) == 0)
		dprintf(fd, "%ld\n%s: %s\n", (long)getpid(), what, cmd);
	free(cmd);
	return fd;
}

void
history_release(int fd)
{
	if (fd < 0)
		return;
	if (ftruncate(fd, 0) != 0) {
		/* The next holder rewrites it anyway. */
	}
	flock(fd, LOCK_UN);
	close(fd);
}
