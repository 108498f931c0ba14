/* Inside src/ssh only: the session structure and the helpers that
 * session.c (connect, host keys, auth) and exec.c (channels) share. */
#ifndef FANOUT_SSH_SESSION_INT_H
#define FANOUT_SSH_SESSION_INT_H

#include <libssh2.h>

#include "ssh/session.h"

#define SSH_KEEPALIVE	15	/* seconds between keepalives */
#define SSH_CHUNK	(256 * 1024) /* stdin buffer; libssh2 writes 32 kB
				      * packets from it */

struct ssh_session {
	int			 fd;
	LIBSSH2_SESSION		*s;
	const struct ssh_opts	*o;	/* valid while connected */
	double			 io_timeout;
	enum ssh_error		 err;	/* of the last failed call */
	int			 nocancel; /* finishing after a cancel */
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

/* Repeats a libssh2 call while it would block. */
#define SSH_AGAIN(ss, idle, cause, call, rc) do {			\
	while (((rc) = (call)) == LIBSSH2_ERROR_EAGAIN) {		\
		if (ssh_wait((ss), &(idle), (cause)) != 0)		\
			break;						\
	}								\
} while (0)

#endif
