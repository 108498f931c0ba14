/* Inside src/ssh only: the session structure and the helpers that
 * session.c (connect, host keys, auth) and exec.c (channels) share. */
#ifndef FANOUT_SSH_SESSION_INT_H
#define FANOUT_SSH_SESSION_INT_H

#include <libssh2.h>

#include "ssh/session.h"

#define SSH_KEEPALIVE	15	/* seconds between keepalives */
#define SSH_CHUNK	(256 * 1024) /* stdin buffer; libssh2 writes 32 kB
				      * packets from it */

struct ssh_jump;

struct ssh_session {
	int			 fd;	/* TCP socket, or through a jump host
					 * our end of the tunnel's socketpair */
	LIBSSH2_SESSION		*s;
	const struct ssh_opts	*o;	/* valid while connected */
	int			 port;	/* o->port, 0 made 22 */
	char			*where;	/* "name (host:port)" for messages,
					 * with " through <jump>" */
	double			 io_timeout;
	enum ssh_error		 err;	/* of the last failed call */
	int			 nocancel; /* finishing after a cancel */
	double			 deadline; /* of the connect loop (time_mono) */
	int			 final;	/* the last failure is not worth
					 * another try (the jump host's own
					 * wait is over) */
	struct ssh_jump		*jump;	/* the tunnel when o->jump is set */
};

int	ssh_fail(struct ssh_session *, enum ssh_error, char **cause,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Fails for a libssh2 error code: socket errors mean the connection is
 * lost (the caller may reconnect). */
int	ssh_fail_rc(struct ssh_session *, int rc, const char *what,
	    char **cause);
/* Waits until the socket can move data the way libssh2 wants, sending
 * keepalives; fails when cancelled or after io_timeout of silence. */
int	ssh_wait(struct ssh_session *, double *idle_since, char **cause);

/* "name (host:port)", or "host:port" without a name. Caller frees. */
char	*ssh_where(const struct ssh_opts *);

/* jump.c: the tunnel through o->jump. Opens it (reusing a jump session
 * kept from an earlier attempt) and sets ss->fd to the target session's
 * end; ss->err says why not. */
int	ssh_jump_open(struct ssh_session *, double timeout, char **cause);
/* Ends the tunnel's pump once ss->fd is closed; a jump session still
 * healthy is kept for the next attempt. */
void	ssh_jump_stop(struct ssh_session *);
/* Ends the tunnel and the jump session. */
void	ssh_jump_free(struct ssh_session *);
/* Why the tunnel broke on the jump host's side, or NULL. Caller frees. */
char	*ssh_jump_why(struct ssh_session *);

/* Repeats a libssh2 call while it would block. */
#define SSH_AGAIN(ss, idle, cause, call, rc) do {			\
	while (((rc) = (call)) == LIBSSH2_ERROR_EAGAIN) {		\
		if (ssh_wait((ss), &(idle), (cause)) != 0)		\
			break;						\
	}								\
} while (0)

#endif
