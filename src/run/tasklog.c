/* A task's output out of a results folder (see tasklog.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/record.h"
#include "run/tasklog.h"
#include "util/fs.h"
#include "util/xmalloc.h"

#define TASKLOG_MAX	(256LL * 1024 * 1024)	/* bytes read at most */

struct tasklog_find {
	const char	*task;		/* number or input */
	long		 number;	/* or -1 */
	int		 attempt;	/* wanted, 0 = last */
	int		 found;		/* task number, or -1 */
	int		 attempts;
	long long	 pos;		/* the chosen attempt, or -1 */
	int		 best;
};

static int
tasklog_match(void *arg, const struct record *r, long long pos)
{
	struct tasklog_find *f = arg;

	if (f->found < 0) {
		if ((f->number >= 0 && r->task == f->number) ||
		    (f->number < 0 && r->input != NULL &&
		    strcmp(r->input, f->task) == 0))
			f->found = r->task;
		else
			return 0;
	} else if (r->task != f->found)
		return 0;
	f->attempts++;
	if ((f->attempt == 0 && r->attempt >= f->best) ||
	    r->attempt == f->attempt) {
		f->best = r->attempt;
		f->pos = pos;
	}
	return 0;
}

/* len bytes from off of path (len < 0: the whole file). */
static char *
tasklog_slice(const char *path, long long off, long long len, size_t *got,
    char **cause)
{
	char *buf;
	ssize_t n;
	int fd;

	*got = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT && len <= 0)
			return xstrdup("");
		xasprintf(cause, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	if (len < 0)
		len = lseek(fd, 0, SEEK_END);
	if (len > TASKLOG_MAX)
		len = TASKLOG_MAX;
	buf = xmalloc((size_t)len + 1);
	while (*got < (size_t)len && (n = pread(fd, buf + *got,
	    (size_t)len - *got, (off_t)(off + (long long)*got))) > 0)
		*got += (size_t)n;
	close(fd);
	buf[*got] = '\0';
	return buf;
}

int
tasklog_read(const char *dir, const char *task, int attempt,
    struct tasklog *tl, char **cause)
{
	struct record_source src;
	struct tasklog_find f;
	struct record r;
	char *end, *path, *o = NULL, *e = NULL;
	int rc = -1;

	memset(tl, 0, sizeof *tl);
	memset(&f, 0, sizeof f);
	memset(&src, 0, sizeof src);
	f.task = task;
	errno = 0;
	f.number = strtol(task, &end, 10);
	if (*task == '\0' || *end != '\0' || errno != 0 || f.number < 0)
		f.number = -1;
	f.attempt = attempt;
	f.found = -1;
	f.pos = -1;
	src.path = path = fs_join(dir, "records.jsonl");
	if (record_each(&src, tasklog_match, &f, cause) != 0) {
		free(path);
		return -1;
	}
	if (f.pos < 0) {
		if (f.found < 0)
			xasprintf(cause, "%s has no task %s (give its number "
			    "or its input)", dir, task);
		else
			xasprintf(cause, "task %s has no attempt %d (it has "
			    "%d)", task, attempt, f.attempts);
		free(path);
		return -1;
	}
	if (record_at(&src, f.pos, &r, cause) != 0)
		goto out;
	tl->task = r.task;
	tl->attempt = r.attempt;
	tl->attempts = f.attempts;
	tl->input = xstrdup(r.input);
	tl->status = xstrdup(record_status_name(r.status));
	if (r.log != NULL) {
		o = xprintf("%s/logs/%s.out", dir, r.log);
		e = xprintf("%s/logs/%s.err", dir, r.log);
		tl->out = tasklog_slice(o, r.out_off, r.out_len, &tl->outlen,
		    cause);
		if (tl->out != NULL)
			tl->err = tasklog_slice(e, r.err_off, r.err_len,
			    &tl->errlen, cause);
	} else {
		o = xprintf("%s/logs/%d-%d.out", dir, r.task, r.attempt);
		e = xprintf("%s/logs/%d-%d.err", dir, r.task, r.attempt);
		tl->out = tasklog_slice(o, 0, -1, &tl->outlen, cause);
		if (tl->out != NULL)
			tl->err = tasklog_slice(e, 0, -1, &tl->errlen, cause);
	}
	record_free(&r);
	if (tl->out != NULL && tl->err != NULL)
		rc = 0;
out:
	record_source_close(&src);
	free(o);
	free(e);
	free(path);
	if (rc != 0)
		tasklog_free(tl);
	return rc;
}

void
tasklog_free(struct tasklog *tl)
{
	free(tl->input);
	free(tl->status);
	free(tl->out);
	free(tl->err);
	memset(tl, 0, sizeof *tl);
}
