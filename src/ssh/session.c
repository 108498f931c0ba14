/* The libssh2 session: non-blocking throughout, so that one poll loop can
 * send keepalives, notice a dropped connection and honour a cancel. */
#include <errno.h>
#include <fcntl.h>
#include <libssh2.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event.h"
#include "ssh/session.h"
#include "ssh/session-int.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

static pthread_once_t ssh_once = PTHREAD_ONCE_INIT;
/* One known_hosts read-check-write at a time: sessions connect from
 * several threads at once (a cluster's nodes) into the same file. */
static pthread_mutex_t ssh_kh_lock = PTHREAD_MUTEX_INITIALIZER;

static void
ssh_init_once(void)
{
	libssh2_init(0);
}

char *
ssh_fingerprint(const unsigned char *blob, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char b64[128];
	int n;

	EVP_Digest(blob, len, md, &mdlen, EVP_sha256(), NULL);
	n = EVP_EncodeBlock((unsigned char *)b64, md, (int)mdlen);
	while (n > 0 && b64[n - 1] == '=')
		n--;
	b64[n] = '\0';
	return xprintf("SHA256:%s", b64);
}

char *
ssh_host_key_line(struct ssh_session *ss)
{
	const unsigned char *key;
	char *b64, *line;
	size_t len;
	unsigned long n;
	int type;

	if (ss->s == NULL || (key = (const unsigned char *)
	    libssh2_session_hostkey(ss->s, &len, &type)) == NULL || len < 4)
		return NULL;
	/* The blob starts with its type's name: uint32 length, bytes. */
	n = (unsigned long)key[0] << 24 | (unsigned long)key[1] << 16 |
	    (unsigned long)key[2] << 8 | key[3];
	if (n == 0 || n > 64 || n > len - 4 || len > 8192)
		return NULL;
	b64 = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, key, (int)len);
	line = xprintf("%.*s %s", (int)n, (const char *)key + 4, b64);
	free(b64);
	return line;
}

char *
ssh_quote(const char *s)
{
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_addc(&sb, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			strbuf_adds(&sb, "'\\''");
		else
			strbuf_addc(&sb, *s);
	}
	strbuf_addc(&sb, '\'');
	return strbuf_detach(&sb);
}

char *
ssh_where(const struct ssh_opts *o)
{
	int port = o->port > 0 ? o->port : 22;

	if (o->name != NULL && *o->name != '\0')
		return xprintf("%s (%s:%d)", o->name, o->host, port);
	return xprintf("%s:%d", o->host, port);
}

int
ssh_fail(struct ssh_session *ss, enum ssh_error e, char **cause,
    const char *fmt, ...)
{
	va_list ap;

	ss->err = e;
	if (cause != NULL) {
		va_start(ap, fmt);
		xvasprintf(cause, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Fails for a libssh2 error code: socket errors mean the connection is
 * lost (the caller may reconnect). */
int
ssh_fail_rc(struct ssh_session *ss, int rc, const char *what, char **cause)
{
	char *msg = NULL, *why;
	int r;

	libssh2_session_last_error(ss->s, &msg, NULL, 0);
	switch (rc) {
	case LIBSSH2_ERROR_SOCKET_NONE:
	case LIBSSH2_ERROR_SOCKET_SEND:
	case LIBSSH2_ERROR_SOCKET_RECV:
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
	case LIBSSH2_ERROR_SOCKET_TIMEOUT:
	case LIBSSH2_ERROR_BANNER_RECV:
	case LIBSSH2_ERROR_KEX_FAILURE:
		/* Through a jump host: its side may know why. */
		why = ss->jump != NULL ? ssh_jump_why(ss) : NULL;
		r = ssh_fail(ss, SSH_ERR_LOST, cause, "%s %s: connection "
		    "lost (%s%s%s)", what, ss->where,
		    msg != NULL && *msg != '\0' ? msg : "closed",
		    why != NULL ? "; " : "", why != NULL ? why : "");
		free(why);
		return r;
	default:
		return ssh_fail(ss, SSH_ERR_OTHER, cause, "%s %s: %s", what,
		    ss->where, msg != NULL ? msg : "failed");
	}
}

/* Waits until the socket can move data the way libssh2 wants, sending
 * keepalives; fails when cancelled or after io_timeout of silence. */
int
ssh_wait(struct ssh_session *ss, double *idle_since, char **cause)
{
	struct pollfd pfd = { .fd = ss->fd };
	int dir, next = SSH_KEEPALIVE, rc;
	double now;

	if (!ss->nocancel && event_cancelled(ss->o->sink))
		return ssh_fail(ss, SSH_ERR_CANCELLED, cause, "cancelled");
	dir = libssh2_session_block_directions(ss->s);
	if (dir & LIBSSH2_SESSION_BLOCK_INBOUND)
		pfd.events |= POLLIN;
	if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		pfd.events |= POLLOUT;
	if (pfd.events == 0)
		pfd.events = POLLIN;
	rc = poll(&pfd, 1, 250);
	now = time_mono();
	if (rc > 0) {
		*idle_since = now;
		return 0;
	}
	if (rc < 0 && errno != EINTR)
		return ssh_fail(ss, SSH_ERR_LOST, cause, "poll: %s",
		    strerror(errno));
	libssh2_keepalive_send(ss->s, &next);
	if (now - *idle_since > ss->io_timeout)
		return ssh_fail(ss, SSH_ERR_LOST, cause, "%s: no answer "
		    "for %.0f seconds: connection lost", ss->where,
		    ss->io_timeout);
	return 0;
}

/* A TCP connection within timeout seconds. */
static int
ssh_tcp(struct ssh_session *ss, double timeout, char **cause)
{
	struct addrinfo hints, *res, *ai;
	struct pollfd pfd;
	char port[16];
	socklen_t len;
	int fd = -1, rc, soerr = 0, one = 1;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof port, "%d", ss->port);
	if ((rc = getaddrinfo(ss->o->host, port, &hints, &res)) != 0)
		return ssh_fail(ss, SSH_ERR_OTHER, cause, "%s: %s",
		    ss->o->host, gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			rc = poll(&pfd, 1, (int)(timeout * 1000));
			len = sizeof soerr;
			if (rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR,
			    &soerr, &len) == 0 && soerr == 0)
				break;
			errno = rc == 0 ? ETIMEDOUT : soerr;
		}
		soerr = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		if (soerr == ECONNREFUSED)
			return ssh_fail(ss, SSH_ERR_REFUSED, cause, "%s: "
			    "connection refused", ss->where);
		if (soerr == ETIMEDOUT || soerr == EHOSTUNREACH ||
		    soerr == ENETUNREACH)
			return ssh_fail(ss, SSH_ERR_TIMEOUT, cause, "%s: %s",
			    ss->where, strerror(soerr));
		/* Accepted by a listener that died before taking us (an
		 * sshd going down or restarting): as lost during the
		 * banner, worth another try. */
		if (soerr == ECONNRESET || soerr == ECONNABORTED)
			return ssh_fail(ss, SSH_ERR_LOST, cause, "%s: %s",
			    ss->where, strerror(soerr));
		return ssh_fail(ss, SSH_ERR_OTHER, cause, "%s: %s",
		    ss->where, strerror(soerr));
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	ss->fd = fd;
	return 0;
}

/* The known_hosts name of host:port, as OpenSSH writes it. */
static char *
ssh_kh_name(const char *host, int port)
{
	if (port == 22)
		return xstrdup(host);
	return xprintf("[%s]:%d", host, port);
}

/* Writes the known hosts to path through a new file renamed over it, so
 * that no reader ever sees it half written. */
static int
ssh_kh_write(LIBSSH2_KNOWNHOSTS *kh, const char *path)
{
	char *tmp = xprintf("%s.%ld.tmp", path, (long)getpid());
	int rc;

	rc = libssh2_knownhost_writefile(kh, tmp,
	    LIBSSH2_KNOWNHOST_FILE_OPENSSH);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -1;
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* Host key check: the expected fingerprint when given, else the
 * known_hosts file (trust on first use: an unknown key is added). */
static int
ssh_hostkey(struct ssh_session *ss, char **fp, char **cause)
{
	const struct ssh_opts *o = ss->o;
	LIBSSH2_KNOWNHOSTS *kh;
	struct libssh2_knownhost *found = NULL;
	const char *key;
	unsigned char *blob;
	char *seen, *known = NULL, *name;
	size_t len;
	int type, rc, kt, n;

	if ((key = libssh2_session_hostkey(ss->s, &len, &type)) == NULL)
		return ssh_fail(ss, SSH_ERR_OTHER, cause, "%s: no host key",
		    ss->where);
	seen = ssh_fingerprint((const unsigned char *)key, len);
	if (o->expected_fp != NULL && strcmp(o->expected_fp, seen) != 0) {
		ssh_fail(ss, SSH_ERR_HOSTKEY, cause, "%s: host key changed: "
		    "recorded %s, server offers %s; refusing to connect (if the "
		    "bastion was rebuilt, clean this run set up)", ss->where,
		    o->expected_fp, seen);
		free(seen);
		return -1;
	}
	if (o->known_hosts == NULL)
		goto done;
	switch (type) {
	case LIBSSH2_HOSTKEY_TYPE_ED25519:
		kt = LIBSSH2_KNOWNHOST_KEY_ED25519;
		break;
	case LIBSSH2_HOSTKEY_TYPE_RSA:
		kt = LIBSSH2_KNOWNHOST_KEY_SSHRSA;
		break;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
		kt = LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
		break;
	default:
		kt = LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
		break;
	}
	pthread_mutex_lock(&ssh_kh_lock);
	kh = libssh2_knownhost_init(ss->s);
	if (fs_is_file(o->known_hosts) &&
	    libssh2_knownhost_readfile(kh, o->known_hosts,
	    LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
		libssh2_knownhost_free(kh);
		pthread_mutex_unlock(&ssh_kh_lock);
		free(seen);
		return ssh_fail(ss, SSH_ERR_OTHER, cause, "cannot read %s: not "
		    "a known_hosts file", o->known_hosts);
	}
	rc = libssh2_knownhost_checkp(kh, o->host, ss->port, key, len,
	    LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | kt,
	    &found);
	if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH && found != NULL &&
	    found->key != NULL) {
		blob = xmalloc(strlen(found->key) + 4);
		n = EVP_DecodeBlock(blob, (const unsigned char *)found->key,
		    (int)strlen(found->key));
		/* EVP_DecodeBlock counts the padding as zero bytes. */
		if (n > 0 && strstr(found->key, "==") != NULL)
			n -= 2;
		else if (n > 0 && strchr(found->key, '=') != NULL)
			n -= 1;
		known = n > 0 ? ssh_fingerprint(blob, (size_t)n) :
		    xstrdup("?");
		free(blob);
	}
	if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) {
		ssh_fail(ss, SSH_ERR_HOSTKEY, cause, "%s: host key changed: "
		    "%s has %s, server offers %s; refusing to connect",
		    ss->where, o->known_hosts,
		    known != NULL ? known : "another key", seen);
		free(known);
		free(seen);
		libssh2_knownhost_free(kh);
		pthread_mutex_unlock(&ssh_kh_lock);
		return -1;
	}
	if (rc == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND) {
		name = ssh_kh_name(o->host, ss->port);
		rc = libssh2_knownhost_addc(kh, name, NULL, key, len,
		    "fanout", 6, LIBSSH2_KNOWNHOST_TYPE_PLAIN |
		    LIBSSH2_KNOWNHOST_KEYENC_RAW | kt, NULL);
		free(name);
		if (rc != 0 || ssh_kh_write(kh, o->known_hosts) != 0) {
			libssh2_knownhost_free(kh);
			pthread_mutex_unlock(&ssh_kh_lock);
			free(seen);
			return ssh_fail(ss, SSH_ERR_OTHER, cause, "cannot "
			    "record the host key in %s", o->known_hosts);
		}
		event_log(o->sink, "ssh", "%s: new host key %s recorded in "
		    "%s", ss->where, seen, o->known_hosts);
	}
	libssh2_knownhost_free(kh);
	pthread_mutex_unlock(&ssh_kh_lock);
done:
	if (fp != NULL) {
		free(*fp);	/* of an earlier try (a refused key) */
		*fp = seen;
	} else
		free(seen);
	return 0;
}

static int
ssh_auth_agent(struct ssh_session *ss, double *idle)
{
	LIBSSH2_AGENT *agent;
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	int rc, done = 0;

	if ((agent = libssh2_agent_init(ss->s)) == NULL)
		return -1;
	if (libssh2_agent_connect(agent) != 0 ||
	    libssh2_agent_list_identities(agent) != 0)
		goto out;
	while (libssh2_agent_get_identity(agent, &id, prev) == 0) {
		SSH_AGAIN(ss, *idle, NULL, libssh2_agent_userauth(agent,
		    ss->o->user, id), rc);
		if (rc == 0) {
			done = 1;
			break;
		}
		prev = id;
	}
	libssh2_agent_disconnect(agent);
out:
	libssh2_agent_free(agent);
	return done ? 0 : -1;
}

static int
ssh_auth(struct ssh_session *ss, char **cause)
{
	const struct ssh_opts *o = ss->o;
	double idle = time_mono();
	char *msg = NULL;
	int rc = -1;

	if (o->key_file != NULL) {
		if (!fs_is_file(o->key_file))
			return ssh_fail(ss, SSH_ERR_OTHER, cause, "key file %s "
			    "not found", o->key_file);
		SSH_AGAIN(ss, idle, cause, libssh2_userauth_publickey_fromfile_ex(
		    ss->s, o->user, (unsigned)strlen(o->user), NULL,
		    o->key_file, NULL), rc);
		if (rc == 0)
			return 0;
		if (ss->err == SSH_ERR_CANCELLED || ss->err == SSH_ERR_LOST)
			return -1;
		libssh2_session_last_error(ss->s, &msg, NULL, 0);
	}
	if (getenv("SSH_AUTH_SOCK") != NULL && ssh_auth_agent(ss, &idle) == 0)
		return 0;
	if (rc == LIBSSH2_ERROR_SOCKET_RECV || rc == LIBSSH2_ERROR_SOCKET_SEND ||
	    rc == LIBSSH2_ERROR_SOCKET_DISCONNECT)
		return ssh_fail_rc(ss, rc, "auth on", cause);
	return ssh_fail(ss, SSH_ERR_AUTH, cause, "%s@%s: authentication "
	    "failed with %s%s%s%s", o->user, ss->where,
	    o->key_file != NULL ? o->key_file : "no key file",
	    getenv("SSH_AUTH_SOCK") != NULL ? " and the ssh-agent" : "",
	    msg != NULL && *msg != '\0' ? ": " : "", msg != NULL ? msg : "");
}

/* One attempt: TCP, handshake, host key, auth. */
static int
ssh_try(struct ssh_session *ss, double timeout, char **fp, char **cause)
{
	double idle = time_mono();
	int rc;

	if ((ss->o->jump != NULL ? ssh_jump_open(ss, timeout, cause) :
	    ssh_tcp(ss, timeout, cause)) != 0)
		return -1;
	ss->s = libssh2_session_init();
	libssh2_session_set_blocking(ss->s, 0);
	libssh2_keepalive_config(ss->s, 1, SSH_KEEPALIVE);
	SSH_AGAIN(ss, idle, cause, libssh2_session_handshake(ss->s, ss->fd),
	    rc);
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return -1;
	if (rc != 0) {
		ssh_fail_rc(ss, rc, "handshake with", cause);
		/* A VM whose sshd is starting closes during the banner. */
		if (ss->err == SSH_ERR_OTHER)
			ss->err = SSH_ERR_LOST;
		return -1;
	}
	if (ssh_hostkey(ss, fp, cause) != 0)
		return -1;
	return ssh_auth(ss, cause);
}

static void
ssh_drop(struct ssh_session *ss)
{
	if (ss->s != NULL) {
		libssh2_session_set_blocking(ss->s, 1);
		libssh2_session_set_timeout(ss->s, 2000);
		libssh2_session_disconnect(ss->s, "bye");
		libssh2_session_free(ss->s);
		ss->s = NULL;
	}
	if (ss->fd >= 0)
		close(ss->fd);
	ss->fd = -1;
	if (ss->jump != NULL)
		ssh_jump_stop(ss);
}

/* Tries until connected or the deadline; ss->err says why not. */
static int
ssh_loop(struct ssh_session *ss, char **fp, char **cause)
{
	const struct ssh_opts *o = ss->o;
	double start = time_mono(), limit, delay = 0.25, left;
	char *why = NULL;
	int tries = 0;

	limit = o->connect_timeout > 0 ? o->connect_timeout : 30;
	ss->deadline = start + limit;
	for (;;) {
		tries++;
		free(why);
		why = NULL;
		ss->err = SSH_OK;
		ss->final = 0;
		left = limit - (time_mono() - start);
		if (ssh_try(ss, left < 1 ? 1 : left > 10 ? 10 : left, fp,
		    &why) == 0)
			break;
		ssh_drop(ss);
		if (ss->err == SSH_ERR_HOSTKEY || ss->err == SSH_ERR_CANCELLED ||
		    ss->err == SSH_ERR_OTHER || ss->final)
			goto fail;
		if (ss->err == SSH_ERR_AUTH &&
		    time_mono() - start >= o->auth_grace)
			goto fail;
		if (time_mono() - start + delay >= limit) {
			if (ss->err == SSH_ERR_LOST)
				ss->err = SSH_ERR_TIMEOUT;
			goto fail;
		}
		if (tries == 1 || tries % 10 == 0)
			event_log(o->sink, "ssh", "waiting for %s: %s",
			    ss->where, why);
		for (left = delay; left > 0; left -= 0.1) {
			if (!ss->nocancel && event_cancelled(o->sink)) {
				ss->err = SSH_ERR_CANCELLED;
				goto fail;
			}
			usleep(100000);
		}
		delay = delay * 2 > 3 ? 3 : delay * 2;
	}
	free(why);
	ss->err = SSH_OK;
	return 0;
fail:
	if (ss->jump != NULL)
		ssh_jump_free(ss);
	if (ss->err == SSH_ERR_CANCELLED) {
		xasprintf(cause, "cancelled while waiting for %s", ss->where);
		free(why);
	} else if (ss->err == SSH_ERR_TIMEOUT && tries > 1 && !ss->final) {
		xasprintf(cause, "%s: no SSH server answered within %.0f "
		    "seconds (last: %s)", ss->where, limit, why);
		free(why);
	} else
		*cause = why;
	if (fp != NULL) {
		free(*fp);
		*fp = NULL;
	}
	return -1;
}

struct ssh_session *
ssh_connect(const struct ssh_opts *o, char **fp, enum ssh_error *errp,
    char **cause)
{
	struct ssh_session *ss;
	char *j, *where;

	pthread_once(&ssh_once, ssh_init_once);
	ss = xcalloc(1, sizeof *ss);
	ss->fd = -1;
	ss->o = o;
	ss->port = o->port > 0 ? o->port : 22;
	ss->where = ssh_where(o);
	if (o->jump != NULL) {
		j = ssh_where(o->jump);
		where = xprintf("%s through %s", ss->where, j);
		free(j);
		free(ss->where);
		ss->where = where;
	}
	ss->io_timeout = o->io_timeout > 0 ? o->io_timeout : 60;
	if (fp != NULL)
		*fp = NULL;
	if (ssh_loop(ss, fp, cause) != 0) {
		if (errp != NULL)
			*errp = ss->err;
		free(ss->where);
		free(ss);
		return NULL;
	}
	if (errp != NULL)
		*errp = SSH_OK;
	return ss;
}

int
ssh_reconnect(struct ssh_session *ss, char **cause)
{
	ssh_drop(ss);
	/* A fresh jump session too: the old one may be why we lost. */
	if (ss->jump != NULL)
		ssh_jump_free(ss);
	event_log(ss->o->sink, "ssh", "connection to %s lost; reconnecting",
	    ss->where);
	return ssh_loop(ss, NULL, cause);
}

void
ssh_close(struct ssh_session *ss)
{
	if (ss == NULL)
		return;
	ssh_drop(ss);
	if (ss->jump != NULL)
		ssh_jump_free(ss);
	free(ss->where);
	free(ss);
}

void
ssh_ignore_cancel(struct ssh_session *ss, int on)
{
	ss->nocancel = on;
}

enum ssh_error
ssh_last_error(struct ssh_session *ss)
{
	return ss->err;
}
