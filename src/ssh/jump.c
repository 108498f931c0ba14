/* Reaching a host through another, as OpenSSH's ProxyJump does: a session
 * to the jump host, a direct-tcpip channel from it to the target, and the
 * target's session over one end of a socketpair whose other end a pump
 * thread copies to and from that channel. While the pump runs it alone
 * uses the jump session; between attempts (a target still booting) the
 * connecting thread keeps it for the next try. No libssh2 session is ever
 * used by two threads. */
#include <errno.h>
#include <fcntl.h>
#include <libssh2.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event.h"
#include "ssh/session.h"
#include "ssh/session-int.h"
#include "util/fs.h"
#include "util/xmalloc.h"

#define JUMP_BUF	(256 * 1024)	/* bytes in flight each way */
#define JUMP_CLOSE	2.0		/* seconds to close the channel */

struct ssh_jump {
	struct ssh_opts		 o;	/* the jump host's options: its
					 * port made 22, connect_timeout
					 * bounded, the relay sink */
	struct sink		 relay;	/* passes events to sink; no cancel
					 * while the target ignores it */
	struct sink		*sink;	/* the jump's sink, or the target's */
	struct ssh_session	*owner;	/* the target session */
	struct ssh_session	*js;	/* the session to the jump host */
	LIBSSH2_CHANNEL		*ch;	/* direct-tcpip, owned by the pump */
	int			 fd;	/* the pump's end of the socketpair */
	pthread_t		 thread;
	int			 running; /* the pump was started (joined
					   * by ssh_jump_stop) */
	atomic_int		 stop;	/* asks the pump to end */
	atomic_int		 dead;	/* the jump session is broken */
	pthread_mutex_t		 lock;	/* guards why */
	char			*why;	/* how the jump side broke */
};

static void
jump_relay_emit(struct sink *sink, const struct event *ev)
{
	struct ssh_jump *j = sink->data;

	event_emit(j->sink, ev);
}

static int
jump_relay_cancelled(struct sink *sink)
{
	struct ssh_jump *j = sink->data;

	return !j->owner->nocancel && event_cancelled(j->sink);
}

/* Records why the tunnel broke on the jump's side (first cause wins). */
static void
jump_broken(struct ssh_jump *j, const char *what, int rc)
{
	char *msg = NULL;

	switch (rc) {
	case 0:
		break;
	case LIBSSH2_ERROR_SOCKET_NONE:
	case LIBSSH2_ERROR_SOCKET_SEND:
	case LIBSSH2_ERROR_SOCKET_RECV:
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
	case LIBSSH2_ERROR_SOCKET_TIMEOUT:
		what = "connection lost";
		break;
	default:
		libssh2_session_last_error(j->js->s, &msg, NULL, 0);
		break;
	}
	pthread_mutex_lock(&j->lock);
	if (j->why == NULL)
		j->why = xprintf("jump host %s: %s%s%s", j->js->where, what,
		    msg != NULL && *msg != '\0' ? ": " : "",
		    msg != NULL ? msg : "");
	pthread_mutex_unlock(&j->lock);
	atomic_store(&j->dead, 1);
}

/* Closes the channel (EOF, close, the server's close) and frees it,
 * within JUMP_CLOSE seconds. */
static void
jump_close_channel(struct ssh_jump *j)
{
	LIBSSH2_SESSION *s = j->js->s;
	struct pollfd pfd;
	double end = time_mono() + JUMP_CLOSE;
	int rc, dir, step = 0;

	for (;;) {
		if (step == 0)
			rc = libssh2_channel_close(j->ch);
		else
			rc = libssh2_channel_free(j->ch);
		if (rc == 0 && ++step == 2) {
			j->ch = NULL;
			return;
		}
		if (rc == 0)
			continue;
		if (rc != LIBSSH2_ERROR_EAGAIN || time_mono() > end) {
			jump_broken(j, "closing the tunnel",
			    rc == LIBSSH2_ERROR_EAGAIN ? 0 : rc);
			return;
		}
		pfd.fd = j->js->fd;
		pfd.events = 0;
		dir = libssh2_session_block_directions(s);
		if (dir & LIBSSH2_SESSION_BLOCK_INBOUND)
			pfd.events |= POLLIN;
		if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
			pfd.events |= POLLOUT;
		if (pfd.events == 0)
			pfd.events = POLLIN;
		poll(&pfd, 1, 100);
	}
}

/* The pump: copies the target session's bytes from the socketpair into
 * the channel and the channel's into the socketpair until either side
 * ends or fails, then closes its end so the target session sees it. */
static void *
jump_pump(void *arg)
{
	struct ssh_jump *j = arg;
	LIBSSH2_SESSION *s = j->js->s;
	struct pollfd pfd[2];
	char *up, *down;	/* target to jump, jump to target */
	size_t uoff = 0, ulen = 0, doff = 0, dlen = 0;
	ssize_t n;
	double stop_at = 0;
	int sockeof = 0, chaneof = 0, progress, dir, next, rc;

	up = xmalloc(JUMP_BUF);
	down = xmalloc(JUMP_BUF);
	for (;;) {
		/* The owner closed its end before asking: what it sent
		 * last still goes, for a second at most. */
		if (atomic_load(&j->stop)) {
			if (stop_at == 0)
				stop_at = time_mono();
			else if (time_mono() - stop_at > 1)
				break;
		}
		progress = 0;
		/* From the target session. */
		if (!sockeof && ulen < JUMP_BUF) {
			n = recv(j->fd, up + ulen, JUMP_BUF - ulen, 0);
			if (n > 0) {
				ulen += (size_t)n;
				progress = 1;
			} else if (n == 0 || (errno != EAGAIN &&
			    errno != EWOULDBLOCK && errno != EINTR))
				sockeof = 1;
		}
		/* Nobody reads what comes back any more. */
		if (sockeof)
			doff = dlen = 0;
		while (uoff < ulen) {
			n = libssh2_channel_write(j->ch, up + uoff,
			    ulen - uoff);
			/* 0: the server's window is shut for now. */
			if (n == LIBSSH2_ERROR_EAGAIN || n == 0)
				break;
			if (n < 0) {
				jump_broken(j, "forwarding", (int)n);
				goto out;
			}
			uoff += (size_t)n;
			progress = 1;
		}
		if (uoff == ulen)
			uoff = ulen = 0;
		/* To the target session. */
		if (!chaneof && !sockeof && dlen < JUMP_BUF) {
			n = libssh2_channel_read(j->ch, down + dlen,
			    JUMP_BUF - dlen);
			if (n > 0) {
				dlen += (size_t)n;
				progress = 1;
			} else if (n == 0 && libssh2_channel_eof(j->ch))
				chaneof = 1;
			else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
				jump_broken(j, "forwarding", (int)n);
				goto out;
			}
		}
		while (doff < dlen) {
			n = send(j->fd, down + doff, dlen - doff,
			    MSG_NOSIGNAL);
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR))
				break;
			if (n < 0) {	/* the target session went away */
				sockeof = 1;
				doff = dlen;
				break;
			}
			doff += (size_t)n;
			progress = 1;
		}
		if (doff == dlen)
			doff = dlen = 0;
		/* The target session closed its end, or the target host
		 * (or the jump's connection to it) closed the channel. */
		if ((sockeof && ulen == 0) || (chaneof && dlen == 0))
			break;
		if (progress)
			continue;
		rc = libssh2_keepalive_send(s, &next);
		if (rc < 0 && rc != LIBSSH2_ERROR_EAGAIN) {
			jump_broken(j, "keepalive", rc);
			goto out;
		}
		dir = libssh2_session_block_directions(s);
		/* At the owner's EOF its end always polls as hung up. */
		pfd[0].fd = sockeof ? -1 : j->fd;
		pfd[0].events = 0;
		if (!sockeof && ulen < JUMP_BUF)
			pfd[0].events |= POLLIN;
		if (dlen > doff)
			pfd[0].events |= POLLOUT;
		pfd[1].fd = j->js->fd;
		pfd[1].events = 0;
		if ((!chaneof && !sockeof && dlen < JUMP_BUF) ||
		    (dir & LIBSSH2_SESSION_BLOCK_INBOUND))
			pfd[1].events |= POLLIN;
		if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
			pfd[1].events |= POLLOUT;
		if (poll(pfd, 2, 250) < 0 && errno != EINTR) {
			jump_broken(j, "poll", 0);
			goto out;
		}
		if ((pfd[1].revents & (POLLERR | POLLNVAL)) ||
		    (pfd[1].revents & (POLLHUP | POLLIN)) == POLLHUP) {
			jump_broken(j, "connection lost", 0);
			goto out;
		}
	}
	jump_close_channel(j);
out:
	/* The target session sees its connection end. */
	shutdown(j->fd, SHUT_RDWR);
	free(up);
	free(down);
	return NULL;
}

/* A session to the jump host; on failure sets the owner's error and
 * cause (final: the jump's own connect_timeout was waited). */
static int
jump_connect(struct ssh_jump *j, char **cause)
{
	struct ssh_session *ss = j->owner;
	const struct ssh_opts *jo = ss->o->jump;
	enum ssh_error e = SSH_OK;
	double left, limit;
	char *why = NULL, *target;

	j->o = *jo;
	j->o.port = jo->port > 0 ? jo->port : 22;
	j->sink = jo->sink != NULL ? jo->sink : ss->o->sink;
	j->relay.emit = jump_relay_emit;
	j->relay.cancelled = jump_relay_cancelled;
	j->relay.data = j;
	j->o.sink = &j->relay;
	limit = jo->connect_timeout > 0 ? jo->connect_timeout : 30;
	left = ss->deadline - time_mono();
	j->o.connect_timeout = left < 1 ? 1 : left < limit ? left : limit;
	j->js = ssh_connect(&j->o, NULL, &e, &why);
	if (j->js != NULL)
		return 0;
	target = ssh_where(ss->o);
	ssh_fail(ss, e, cause, "%s: jump host %s", target,
	    why != NULL ? why : "failed");
	ss->final = 1;
	free(target);
	free(why);
	return -1;
}

/* Why the direct-tcpip open failed, with the owner's error set. */
static int
jump_refused(struct ssh_jump *j, int rc, char **cause)
{
	struct ssh_session *ss = j->owner;
	char *msg = NULL;

	libssh2_session_last_error(j->js->s, &msg, NULL, 0);
	if (msg == NULL)
		msg = "";
	if (rc == LIBSSH2_ERROR_CHANNEL_FAILURE &&
	    strstr(msg, "prohibited") != NULL)
		return ssh_fail(ss, SSH_ERR_OTHER, cause, "%s: the jump host "
		    "refuses to forward connections (administratively "
		    "prohibited: AllowTcpForwarding or PermitOpen in its "
		    "sshd_config)", ss->where);
	if (rc == LIBSSH2_ERROR_CHANNEL_FAILURE)
		return ssh_fail(ss, SSH_ERR_REFUSED, cause, "%s: connection "
		    "refused (the jump host could not connect to %s:%d: %s)",
		    ss->where, ss->o->host, ss->port, msg);
	/* The jump session itself broke: another try makes a new one. */
	atomic_store(&j->dead, 1);
	return ssh_fail(ss, SSH_ERR_LOST, cause, "%s: jump host connection "
	    "lost (%s)", ss->where, *msg != '\0' ? msg : "closed");
}

/* The direct-tcpip channel to the target within timeout seconds. */
static int
jump_channel(struct ssh_jump *j, double timeout, char **cause)
{
	struct ssh_session *ss = j->owner, *js = j->js;
	double end = time_mono() + timeout, idle = time_mono();
	char *why = NULL;
	int rc;

	for (;;) {
		j->ch = libssh2_channel_direct_tcpip_ex(js->s, ss->o->host,
		    ss->port, "127.0.0.1", 65535);
		if (j->ch != NULL)
			return 0;
		rc = libssh2_session_last_errno(js->s);
		if (rc != LIBSSH2_ERROR_EAGAIN)
			return jump_refused(j, rc, cause);
		if (time_mono() > end) {
			/* An open still pending cannot be taken back. */
			atomic_store(&j->dead, 1);
			return ssh_fail(ss, SSH_ERR_TIMEOUT, cause, "%s: no "
			    "answer within %.0f seconds (the jump host is "
			    "still connecting to %s:%d)", ss->where, timeout,
			    ss->o->host, ss->port);
		}
		if (ssh_wait(js, &idle, &why) != 0) {
			atomic_store(&j->dead, 1);
			ssh_fail(ss, js->err == SSH_ERR_CANCELLED ?
			    SSH_ERR_CANCELLED : SSH_ERR_LOST, cause, "%s: %s",
			    ss->where, why);
			free(why);
			return -1;
		}
	}
}

int
ssh_jump_open(struct ssh_session *ss, double timeout, char **cause)
{
	struct ssh_jump *j = ss->jump;
	int sp[2];

	if (j == NULL) {
		j = ss->jump = xcalloc(1, sizeof *j);
		j->owner = ss;
		j->fd = -1;
		pthread_mutex_init(&j->lock, NULL);
	}
	if (j->js != NULL && atomic_load(&j->dead)) {
		ssh_close(j->js);	/* frees a channel left open */
		j->js = NULL;
		j->ch = NULL;
	}
	atomic_store(&j->dead, 0);
	atomic_store(&j->stop, 0);
	pthread_mutex_lock(&j->lock);
	free(j->why);
	j->why = NULL;
	pthread_mutex_unlock(&j->lock);
	if (j->js == NULL && jump_connect(j, cause) != 0)
		return -1;
	if (jump_channel(j, timeout, cause) != 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0, sp) != 0) {
		atomic_store(&j->dead, 1);	/* frees the channel too */
		return ssh_fail(ss, SSH_ERR_OTHER, cause, "%s: socketpair: %s",
		    ss->where, strerror(errno));
	}
	ss->fd = sp[0];
	j->fd = sp[1];
	if (pthread_create(&j->thread, NULL, jump_pump, j) != 0) {
		atomic_store(&j->dead, 1);
		close(j->fd);
		j->fd = -1;
		return ssh_fail(ss, SSH_ERR_OTHER, cause, "%s: cannot start "
		    "the tunnel's thread", ss->where);
	}
	j->running = 1;
	return 0;
}

void
ssh_jump_stop(struct ssh_session *ss)
{
	struct ssh_jump *j = ss->jump;

	if (j == NULL || !j->running)
		return;
	atomic_store(&j->stop, 1);
	pthread_join(j->thread, NULL);
	j->running = 0;
	close(j->fd);
	j->fd = -1;
	/* A channel the pump could not close: its session goes too. */
	if (j->ch != NULL)
		atomic_store(&j->dead, 1);
}

void
ssh_jump_free(struct ssh_session *ss)
{
	struct ssh_jump *j = ss->jump;

	if (j == NULL)
		return;
	ssh_jump_stop(ss);
	/* libssh2_session_free frees a channel left open. */
	ssh_close(j->js);
	pthread_mutex_destroy(&j->lock);
	free(j->why);
	free(j);
	ss->jump = NULL;
}

char *
ssh_jump_why(struct ssh_session *ss)
{
	struct ssh_jump *j = ss->jump;
	char *why;

	pthread_mutex_lock(&j->lock);
	why = j->why != NULL ? xstrdup(j->why) : NULL;
	pthread_mutex_unlock(&j->lock);
	return why;
}
