/* Inside the bastion engine: remote.c and remote-worker.c. */
#ifndef FANOUT_SSH_REMOTE_INT_H
#define FANOUT_SSH_REMOTE_INT_H

#include <stddef.h>
#include <sys/types.h>

#include "ssh/session.h"

struct sink;
struct strbuf;

/* stdin for ssh_exec_run from a buffer. */
struct remote_feed {
	struct strbuf	*sb;
	size_t		 off;	/* bytes already given */
};
ssize_t	remote_feed_fn(void *arg, char *buf, size_t len, char **cause);
/* Runs the shell script in sb on the host through x: the script on stdin
 * of x->command, "sh -s" when the caller set none ("sh -s -- ARG"); x's
 * line or out callbacks as the caller set them. As ssh_exec_run. */
int	remote_exec_script(struct ssh_session *, struct strbuf *sb,
	    struct ssh_exec *x, int *status, char **cause);

/* fanout-worker, here and on the host. */
struct remote_worker {
	char	 *bin;		/* the static binary to upload, or NULL */
	char	 *bin_name;	/* its name on hosts: fanout-worker-<hash> */
	char	**src;		/* the worker's sources (src/worker), or
				 * NULL ones */
	char	 *src_name;	/* built from them: fanout-worker-src-<hash>,
				 * or NULL when they were not found */
	char	 *arch;		/* what bin is for (uname -m) */
	char	 *path;		/* on the host, relative to the remote dir,
				 * once installed */
};

void	remote_worker_init(struct remote_worker *);
void	remote_worker_free(struct remote_worker *);
/* Shell lines for the set-up login (run in the remote dir) that print
 * "#probe" lines: the host's system, which worker versions it has, its C
 * compiler. */
void	remote_worker_probe(const struct remote_worker *, struct strbuf *);
/* From the probe's output: uses the host's worker, uploads the binary, or
 * builds it there (one more login each), setting w->path; else -1 and a
 * cause naming what is missing. rd is the remote dir, shell-quoted. */
int	remote_worker_install(struct ssh_session *, const char *rd,
	    const char *host, struct remote_worker *, const char *probe,
	    struct sink *, char **cause);

/* Bucket scripts (remote-store.c). Runs script on the host after
 * "cd rd[/dir]" (both shell-quoted), its lines logged under step:
 * "#error TEXT" makes the cause ("what on host failed: TEXT") when it
 * exits non-zero, "#fetched N BYTES KEPT" is told in words, "#copied URL
 * N" sets *copied (when not NULL). */
int	remote_store_script(struct ssh_session *, const char *rd,
	    const char *dir, const char *script, const char *host,
	    const char *step, const char *what, struct sink *, char **copied,
	    char **cause);
/* Puts the files under local_dir into dest on the host (a shell-quoted
 * path, emptied first), as one tar stream. */
int	remote_send_dir(struct ssh_session *, const char *dest,
	    const char *local_dir, char **cause);

#endif
