/* Incremental upload of a project tree, and download of a remote folder.
 *
 * Remote layout under remote_dir: tree/ (the project files) and
 * manifest.d/ (lines "sha256 size mtime mode path", in fragments). The
 * files to send travel as one tar stream over an exec channel into
 * `tar -x` (one round trip for any number of files; large pipelined
 * channel writes). Every ~1 MB the stream carries a manifest fragment for
 * the files before it, so after a dropped connection the next upload
 * skips what the remote already holds: a file is skipped when the remote
 * tree has it with the local size, mtime and mode and the manifest has
 * the local SHA-256 for it. With a cache, an unchanged upload costs one
 * remote `find`: the client keeps the digest of the remote's listing
 * after the last upload, and asks for the manifest only when the
 * listing's digest differs. A file the manifest has and the project no
 * longer has is deleted; a file made on the host (by setup:, by a task)
 * stays. */
#ifndef FANOUT_SSH_UPLOAD_H
#define FANOUT_SSH_UPLOAD_H

#include "ssh/tree.h"

struct sink;
struct ssh_session;

struct upload_stats {
	long long	 files;		/* files in the local tree */
	long long	 files_sent;
	long long	 bytes_sent;	/* file contents sent */
	long long	 wire_bytes;	/* all bytes written to the channel */
	long long	 files_deleted;	/* remote files no longer local */
	int		 trusted;	/* skipped: the cache matched */
	int		 listed;	/* the remote sent its listing (its
					 * digest was not the cache's) */
	char		**sent;		/* paths sent, when keep_sent */
	size_t		 nsent;
};

struct upload_opts {
	const char	*local_dir;
	const char	*remote_dir;	/* relative to the remote home, or
					 * absolute */
	int		 keep_sent;	/* list the paths sent in the stats */
	const char	*cache;		/* local file, in an existing folder,
					 * of the last upload's manifest (one
					 * per remote), or NULL: files not
					 * changed since (size, mtime, inode,
					 * ctime) are not hashed again */
	int		 trust_cache;	/* when the tree equals the cache, do
					 * not ask the remote at all */
	struct sink	*sink;		/* EV_BYTES with step "upload" */
};

/* Uploads what changed (the stats add up over calls, so a caller that
 * reconnects after SSH_ERR_LOST and calls again sees the total). */
int	upload_tree(struct ssh_session *, const struct upload_opts *,
	    struct upload_stats *, char **cause);
/* The same, reconnecting (with the session's options) and going on
 * whenever the connection drops; *reconnects counts the reconnections. */
int	upload_tree_retry(struct ssh_session *, const struct upload_opts *,
	    struct upload_stats *, int *reconnects, char **cause);
void	upload_stats_free(struct upload_stats *);

/* Copies members (shell words, e.g. "logs records.jsonl"; NULL = all)
 * of the remote folder into local_dir (which is made) through a tar
 * stream; *bytes gets the bytes received. */
int	download_tree(struct ssh_session *, const char *remote_dir,
	    const char *members, const char *local_dir, struct sink *,
	    long long *bytes, char **cause);

#endif
