/* An SSH session to the bastion (libssh2 stays inside src/ssh): connect
 * with retries until a deadline, host key trust on first use with fanout's
 * own known_hosts file, ed25519 publickey auth (key file, then ssh-agent),
 * keepalives, and commands run over exec channels with streamed I/O. */
#ifndef FANOUT_SSH_SESSION_H
#define FANOUT_SSH_SESSION_H

#include <stddef.h>
#include <sys/types.h>

struct sink;
struct strbuf;
struct ssh_session;

/* Why a call failed; the cause string says it in words. */
enum ssh_error {
	SSH_OK = 0,
	SSH_ERR_REFUSED,	/* nothing listens (yet) on host:port */
	SSH_ERR_TIMEOUT,	/* no answer before the deadline */
	SSH_ERR_AUTH,		/* the server refused our key(s) */
	SSH_ERR_HOSTKEY,	/* host key differs from the known one */
	SSH_ERR_LOST,		/* connection dropped: reconnect and go on */
	SSH_ERR_KILLED,		/* the remote command died of a signal (the
				 * bastion rebooting?): reconnect and try
				 * again, a few times */
	SSH_ERR_CANCELLED,	/* the sink asked to stop */
	SSH_ERR_OTHER,		/* anything else (bad file, protocol...) */
};

struct ssh_opts {
	const char	*host;
	int		 port;		/* 0 = 22 */
	const char	*user;
	const char	*key_file;	/* private key (ed25519), or NULL */
	const char	*known_hosts;	/* fanout's own file; NULL: none */
	const char	*expected_fp;	/* "SHA256:..." from the history
					 * record, or NULL for the file/TOFU */
	double		 connect_timeout; /* seconds to keep retrying
					   * refused/timed-out connects; 0 =
					   * 30 */
	double		 auth_grace;	/* seconds to keep retrying a
					 * refused key (a fresh VM installs
					 * it late); 0 = no retry */
	double		 io_timeout;	/* seconds without any traffic before
					 * a session counts as lost; 0 = 60 */
	struct sink	*sink;		/* log lines; polled for cancel */
	const char	*name;		/* what messages call this host
					 * ("node3", "head"), or NULL */
	/* When set, host:port is reached through this host (as OpenSSH's
	 * ProxyJump): a session to it, a direct-tcpip channel from it to
	 * host:port, and this session over that channel. A cluster's nodes
	 * take SSH from their head only. host:port is resolved and
	 * connected to by the jump host. The jump host's own options
	 * apply to its session (key, known_hosts or expected_fp,
	 * auth_grace, io_timeout; connect_timeout, at most what is left
	 * of ours; its sink, or ours when NULL; its own jump, if any);
	 * known_hosts may be the same file for both. Every connection
	 * (and reconnect) has its own jump session, never shared, so
	 * sessions through one jump host may run in several threads.
	 * Failures: a jump host that cannot be reached is final (its own
	 * connect_timeout was waited); the jump host unable to connect to
	 * host:port is SSH_ERR_REFUSED and retried like a direct refusal;
	 * a jump host that does not forward (AllowTcpForwarding no) is
	 * SSH_ERR_OTHER. Causes name both hops. It (and its strings) must
	 * stay valid as long as the session. */
	const struct ssh_opts *jump;
};

/* Connects and authenticates. On success returns the session and, in
 * *fingerprint (caller frees; may be NULL), the server's host key as
 * "SHA256:<base64>". On failure returns NULL, *err and a cause. */
struct ssh_session *ssh_connect(const struct ssh_opts *, char **fingerprint,
		     enum ssh_error *err, char **cause);
/* Drops the connection and connects again with the same options (which
 * must still be valid), retrying until their connect_timeout. */
int		    ssh_reconnect(struct ssh_session *, char **cause);
void		    ssh_close(struct ssh_session *);
/* Stops (on != 0) or restarts polling the sink for cancel: the clean-up
 * after a cancel must run to its end. */
void		    ssh_ignore_cancel(struct ssh_session *, int on);
/* The error of the last failed call on this session. */
enum ssh_error	    ssh_last_error(struct ssh_session *);

/* One command on an exec channel. Every member but command may be 0. */
struct ssh_exec {
	const char	*command;	/* run by the remote user's shell */
	/* Produces stdin: fills buf with up to len bytes and returns the
	 * count, 0 at the end, -2 when it has nothing yet (it is asked
	 * again after more output came), -1 with a cause on error. */
	ssize_t		(*input)(void *arg, char *buf, size_t len,
			    char **cause);
	void		*input_arg;
	/* Called with each complete line (no newline) of stdout (fd 1)
	 * and stderr (fd 2). */
	void		(*line)(void *arg, int fd, const char *line);
	void		*line_arg;
	/* When set, stdout is collected here whole instead of by lines. */
	struct strbuf	*out;
	/* Bytes written to stdin so far, updated as they go. */
	long long	*sent;
};

/* Runs a command; *status gets its exit status (-1 when it died by a
 * signal). Returns 0, or -1 with a cause (see ssh_last_error: LOST means
 * the connection dropped, CANCELLED that the sink asked to stop). */
int	ssh_exec_run(struct ssh_session *, const struct ssh_exec *,
	    int *status, char **cause);
/* Runs a command with no input and returns its stdout (caller frees);
 * a non-zero exit is an error whose cause holds the stderr. */
char	*ssh_exec_output(struct ssh_session *, const char *command,
	    char **cause);

/* Runs a command with data as its stdin; a non-zero exit is an error. */
int	ssh_exec_input(struct ssh_session *, const char *command,
	    const char *data, size_t len, char **cause);

/* A "SHA256:<base64 without padding>" fingerprint of a key blob. */
char	*ssh_fingerprint(const unsigned char *blob, size_t len);
/* The host key of a connected session as a known_hosts line's key part,
 * "TYPE BASE64" (e.g. "ssh-ed25519 AAAA..."), or NULL. Caller frees. */
char	*ssh_host_key_line(struct ssh_session *);
/* Single-quotes s for a POSIX shell. Caller frees. */
char	*ssh_quote(const char *s);

#endif
