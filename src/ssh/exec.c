/* Commands on exec channels: stdin from a producer, stdout and stderr
 * as lines, exit status; all through the session's poll loop.
 *
 * The remote user's login shell runs each command, and its start-up files
 * may print (a greeting, a motd, a line with no newline). So every command
 * first prints a marker of its own, new for each call, on stdout and on
 * stderr, and what comes before it on either is dropped: the caller sees
 * the command's bytes only (a tar stream included). */
#include <libssh2.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssh/session.h"
#include "ssh/session-int.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

#define SSH_MARK_KEEP	4096	/* bytes before a marker kept (stderr shown
				 * when the marker never comes) */

/* The start marker of one command (see the top of the file). */
struct ssh_mark {
	char		 id[40];	/* "fanout-" and 32 hex digits */
	char		 line[48];	/* id and a newline, as printed */
	size_t		 len;		/* of line */
	int		 seen[2];	/* stdout, stderr: marker passed */
	struct strbuf	 pre[2];	/* what came before it, the last
					 * SSH_MARK_KEEP bytes */
};

static void
ssh_mark_init(struct ssh_mark *m)
{
	static unsigned counter;
	unsigned char r[16];
	size_t i;

	memset(m, 0, sizeof *m);
	if (RAND_bytes(r, sizeof r) != 1) {
		/* Unique enough: it only has to differ from shell noise. */
		uint64_t v[2] = { (uint64_t)(time_now() * 1e6),
		    ((uint64_t)getpid() << 32) | counter++ };

		memcpy(r, v, sizeof r);
	}
	strcpy(m->id, "fanout-");
	for (i = 0; i < sizeof r; i++)
		snprintf(m->id + 7 + 2 * i, 3, "%02x", r[i]);
	m->len = (size_t)snprintf(m->line, sizeof m->line, "%s\n", m->id);
	strbuf_init(&m->pre[0]);
	strbuf_init(&m->pre[1]);
}

static void
ssh_mark_free(struct ssh_mark *m)
{
	strbuf_free(&m->pre[0]);
	strbuf_free(&m->pre[1]);
}

/* The command as sent: the marker on stdout and stderr first. The id is
 * printed in two halves, so that a shell tracing its commands (set -x)
 * does not print the marker itself. */
static char *
ssh_mark_command(const struct ssh_mark *m, const char *command)
{
	return xprintf("printf '%%s%%s\\n' fanout- %s; "
	    "printf '%%s%%s\\n' fanout- %s >&2; %s", m->id + 7, m->id + 7,
	    command);
}

/* Takes output that came before the marker on fd (1 or 2). Returns 0 once
 * the marker passed, pre[fd - 1] then holding the command's first bytes;
 * -1 while it has not come. */
static int
ssh_mark_find(struct ssh_mark *m, int fd, const char *buf, size_t n)
{
	struct strbuf *b = &m->pre[fd - 1];
	char *at;
	size_t rest;

	strbuf_add(b, buf, n);
	if ((at = memmem(b->buf, b->len, m->line, m->len)) == NULL) {
		if (b->len > 2 * SSH_MARK_KEEP) {
			memmove(b->buf, b->buf + b->len - SSH_MARK_KEEP,
			    SSH_MARK_KEEP);
			b->len = SSH_MARK_KEEP;
			b->buf[b->len] = '\0';
		}
		return -1;
	}
	rest = b->len - (size_t)(at + m->len - b->buf);
	memmove(b->buf, at + m->len, rest);
	b->len = rest;
	b->buf[rest] = '\0';
	m->seen[fd - 1] = 1;
	return 0;
}

/* Splits buffered output into lines for the callback. */
static void
ssh_lines(const struct ssh_exec *x, int fd, struct strbuf *b, int flush)
{
	char *nl, *p = b->buf;
	size_t used;

	while ((nl = memchr(p, '\n', b->len - (size_t)(p - b->buf))) != NULL) {
		*nl = '\0';
		if (x->line != NULL)
			x->line(x->line_arg, fd, p);
		p = nl + 1;
	}
	used = (size_t)(p - b->buf);
	if (flush && used < b->len) {
		if (x->line != NULL)
			x->line(x->line_arg, fd, p);
		used = b->len;
	}
	memmove(b->buf, b->buf + used, b->len - used);
	b->len -= used;
	b->buf[b->len] = '\0';
}

/* Hands the command's output on fd to the caller: whole, or by lines. */
static void
ssh_deliver(const struct ssh_exec *x, int fd, struct strbuf *lb,
    const char *buf, size_t n)
{
	if (n == 0)
		return;
	if (fd == 1 && x->out != NULL)
		strbuf_add(x->out, buf, n);
	else {
		strbuf_add(lb, buf, n);
		ssh_lines(x, fd, lb, 0);
	}
}

int
ssh_exec_run(struct ssh_session *ss, const struct ssh_exec *x, int *status,
    char **cause)
{
	LIBSSH2_CHANNEL *ch = NULL;
	struct strbuf lb[2];
	struct ssh_mark mk;
	char rbuf[32768], *in = NULL, *command;
	size_t inlen = 0, inoff = 0;
	double idle = time_mono();
	ssize_t n;
	int rc = -1, ineof = x->input == NULL, eofsent = 0, progress, fd;
	int sig = 0;
	char *signame = NULL;

	*status = -1;
	ss->err = SSH_OK;	/* a failure below says why, afresh */
	if (ss->s == NULL)
		return ssh_fail(ss, SSH_ERR_LOST, cause, "not connected");
	strbuf_init(&lb[0]);
	strbuf_init(&lb[1]);
	ssh_mark_init(&mk);
	command = ssh_mark_command(&mk, x->command);
	for (;;) {
		ch = libssh2_channel_open_session(ss->s);
		if (ch != NULL)
			break;
		rc = libssh2_session_last_errno(ss->s);
		if (rc != LIBSSH2_ERROR_EAGAIN) {
			ssh_fail_rc(ss, rc, "exec on", cause);
			goto out;
		}
		if (ssh_wait(ss, &idle, cause) != 0)
			goto out;
	}
	SSH_AGAIN(ss, idle, cause, libssh2_channel_exec(ch, command), rc);
	if (rc != 0) {
		if (rc != LIBSSH2_ERROR_EAGAIN)
			ssh_fail_rc(ss, rc, "exec on", cause);
		rc = -1;
		goto out;
	}
	if (x->input != NULL)
		in = xmalloc(SSH_CHUNK);
	for (;;) {
		progress = 0;
		/* stdin */
		if (!ineof && inoff == inlen) {
			n = x->input(x->input_arg, in, SSH_CHUNK, cause);
			if (n == -2)
				n = 0;	/* nothing yet */
			else if (n < 0) {
				ss->err = SSH_ERR_OTHER;
				rc = -1;
				goto out;
			} else if (n == 0)
				ineof = 1;
			inoff = 0;
			inlen = (size_t)n;
		}
		while (inoff < inlen) {
			n = libssh2_channel_write(ch, in + inoff, inlen - inoff);
			if (n == LIBSSH2_ERROR_EAGAIN)
				break;
			if (n < 0) {
				rc = ssh_fail_rc(ss, (int)n, "upload to", cause);
				goto out;
			}
			inoff += (size_t)n;
			if (x->sent != NULL)
				*x->sent += n;
			progress = 1;
		}
		if (ineof && !eofsent && inoff == inlen) {
			n = libssh2_channel_send_eof(ch);
			if (n == 0)
				eofsent = 1;
			else if (n != LIBSSH2_ERROR_EAGAIN) {
				rc = ssh_fail_rc(ss, (int)n, "exec on", cause);
				goto out;
			}
		}
		/* stdout, stderr */
		for (fd = 1; fd <= 2; fd++) {
			for (;;) {
				n = libssh2_channel_read_ex(ch, fd == 1 ? 0 :
				    SSH_EXTENDED_DATA_STDERR, rbuf, sizeof rbuf);
				if (n == LIBSSH2_ERROR_EAGAIN || n == 0)
					break;
				if (n < 0) {
					rc = ssh_fail_rc(ss, (int)n, "exec on",
					    cause);
					goto out;
				}
				progress = 1;
				if (mk.seen[fd - 1])
					ssh_deliver(x, fd, &lb[fd - 1], rbuf,
					    (size_t)n);
				else if (ssh_mark_find(&mk, fd, rbuf,
				    (size_t)n) == 0) {
					ssh_deliver(x, fd, &lb[fd - 1],
					    mk.pre[fd - 1].buf,
					    mk.pre[fd - 1].len);
					strbuf_reset(&mk.pre[fd - 1]);
				}
			}
		}
		if (libssh2_channel_eof(ch) && (eofsent || ineof))
			break;
		if (libssh2_channel_eof(ch) && !eofsent) {
			/* The command ended without reading all its input. */
			ineof = 1;
			inoff = inlen;
		}
		if (!progress && ssh_wait(ss, &idle, cause) != 0) {
			rc = -1;
			goto out;
		}
	}
	/* The shell never ran the command: show what it said instead. */
	if (!mk.seen[1])
		ssh_deliver(x, 2, &lb[1], mk.pre[1].buf, mk.pre[1].len);
	ssh_lines(x, 1, &lb[0], 1);
	ssh_lines(x, 2, &lb[1], 1);
	SSH_AGAIN(ss, idle, cause, libssh2_channel_close(ch), rc);
	if (rc == 0)
		SSH_AGAIN(ss, idle, cause, libssh2_channel_wait_closed(ch), rc);
	if (rc != 0) {
		if (rc != LIBSSH2_ERROR_EAGAIN)
			ssh_fail_rc(ss, rc, "exec on", cause);
		rc = -1;
		goto out;
	}
	*status = libssh2_channel_get_exit_status(ch);
	if (libssh2_channel_get_exit_signal(ch, &signame, NULL, NULL, NULL,
	    NULL, NULL) == 0 && signame != NULL) {
		sig = 1;
		libssh2_free(ss->s, signame);
	}
	if (sig)
		*status = -1;
	if (!mk.seen[0] && *status == 0) {
		ssh_fail(ss, SSH_ERR_OTHER, cause, "%s: the login shell did not "
		    "run fanout's command (it ended before the command's "
		    "first output; do the shell's start-up files exit?)",
		    ss->o->host);
		rc = -1;
		goto out;
	}
	rc = 0;
out:
	if (ch != NULL) {
		if (rc != 0 && ss->err != SSH_ERR_LOST)
			libssh2_channel_close(ch);
		libssh2_channel_free(ch);
	}
	free(in);
	free(command);
	ssh_mark_free(&mk);
	strbuf_free(&lb[0]);
	strbuf_free(&lb[1]);
	return rc == 0 ? 0 : -1;
}

static void
ssh_collect_err(void *arg, int fd, const char *line)
{
	struct strbuf *sb = arg;

	if (fd != 2)
		return;
	if (sb->len > 0)
		strbuf_adds(sb, "; ");
	if (sb->len < 2000)
		strbuf_adds(sb, line);
}

char *
ssh_exec_output(struct ssh_session *ss, const char *command, char **cause)
{
	struct ssh_exec x;
	struct strbuf out, err;
	int status;

	memset(&x, 0, sizeof x);
	strbuf_init(&out);
	strbuf_init(&err);
	x.command = command;
	x.out = &out;
	x.line = ssh_collect_err;
	x.line_arg = &err;
	if (ssh_exec_run(ss, &x, &status, cause) != 0)
		goto fail;
	if (status != 0) {
		ss->err = SSH_ERR_OTHER;
		xasprintf(cause, "remote command failed (exit %d)%s%s", status,
		    err.len > 0 ? ": " : "", err.buf);
		goto fail;
	}
	strbuf_free(&err);
	return strbuf_detach(&out);
fail:
	strbuf_free(&out);
	strbuf_free(&err);
	return NULL;
}

/* Feeds a fixed buffer as stdin. */
struct ssh_buf {
	const char	*p;
	size_t		 left;
};

static ssize_t
ssh_buf_produce(void *arg, char *buf, size_t len, char **cause)
{
	struct ssh_buf *b = arg;

	(void)cause;
	if (len > b->left)
		len = b->left;
	memcpy(buf, b->p, len);
	b->p += len;
	b->left -= len;
	return (ssize_t)len;
}

int
ssh_exec_input(struct ssh_session *ss, const char *cmd, const char *data,
    size_t len, char **cause)
{
	struct ssh_buf b = { data, len };
	struct ssh_exec x;
	struct strbuf err;
	int status;

	memset(&x, 0, sizeof x);
	strbuf_init(&err);
	x.command = cmd;
	x.input = ssh_buf_produce;
	x.input_arg = &b;
	x.line = ssh_collect_err;
	x.line_arg = &err;
	if (ssh_exec_run(ss, &x, &status, cause) != 0) {
		strbuf_free(&err);
		return -1;
	}
	if (status != 0) {
		ss->err = SSH_ERR_OTHER;
		xasprintf(cause, "remote command failed (exit %d)%s%s", status,
		    err.len > 0 ? ": " : "", err.buf);
		strbuf_free(&err);
		return -1;
	}
	strbuf_free(&err);
	return 0;
}
