/* Commands on exec channels: stdin from a producer, stdout and stderr
 * as lines, exit status; all through the session's poll loop. */
#include <libssh2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssh/session.h"
#include "ssh/session-int.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

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

int
ssh_exec_run(struct ssh_session *ss, const struct ssh_exec *x, int *status,
    char **cause)
{
	LIBSSH2_CHANNEL *ch = NULL;
	struct strbuf lb[2];
	char rbuf[32768], *in = NULL;
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
	SSH_AGAIN(ss, idle, cause, libssh2_channel_exec(ch, x->command), rc);
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
				if (fd == 1 && x->out != NULL)
					strbuf_add(x->out, rbuf, (size_t)n);
				else {
					strbuf_add(&lb[fd - 1], rbuf, (size_t)n);
					ssh_lines(x, fd, &lb[fd - 1], 0);
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
	rc = 0;
out:
	if (ch != NULL) {
		if (rc != 0 && ss->err != SSH_ERR_LOST)
			libssh2_channel_close(ch);
		libssh2_channel_free(ch);
	}
	free(in);
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
