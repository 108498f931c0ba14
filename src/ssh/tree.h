/* The project tree as uploaded: .fanoutignore rules (gitignore syntax),
 * the files that survive them, and their size, mtime, mode and SHA-256. */
#ifndef FANOUT_SSH_TREE_H
#define FANOUT_SSH_TREE_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

struct ignore_rule;

struct ignore {
	struct ignore_rule	*v;
	size_t			 n;
};

/* Adds the rules of one gitignore-syntax text (lines). A bad pattern is
 * an error naming its line. */
int	ignore_add_text(struct ignore *, const char *text, const char *origin,
	    char **cause);
/* True when the path (relative, '/'-separated) is ignored. */
bool	ignore_match(const struct ignore *, const char *path, bool is_dir);
void	ignore_free(struct ignore *);

struct tree_file {
	char		*path;		/* relative, '/'-separated */
	long long	 size;
	long long	 mtime_ns;	/* since the epoch */
	int		 mode;		/* permission bits (exec bits kept) */
	unsigned long long ino;		/* with ctime: has it changed since */
	long long	 ctime_ns;	/* it was hashed? (as git's index) */
	char		 sha[65];	/* SHA-256, lowercase hex */
};

struct tree {
	struct tree_file	*v;
	size_t			 n;
	size_t			 cap;
	long long		 bytes;	/* sum of sizes */
};

/* Lists the files under dir that .fanoutignore (in dir), .git/ and the
 * top-level results/ do not exclude, sorted by path, with their SHA-256
 * (hash = false skips it). Symbolic links to files count as the file;
 * links to folders are not followed. */
int	tree_scan(const char *dir, bool hash, struct tree *, char **cause);
void	tree_free(struct tree *);
/* An incremental SHA-256: a new context (feed it with EVP_DigestUpdate),
 * and its end, which frees the context and writes lowercase hex. */
EVP_MD_CTX *tree_sha256_start(void);
void	tree_sha256_end(EVP_MD_CTX *, char out[65]);
/* SHA-256 of a file as lowercase hex. */
int	tree_sha256(const char *path, char out[65], char **cause);
/* "1763800000.123456789" */
void	tree_format_mtime(long long ns, char *buf, size_t len);

#endif
