/* setup: its digest, and its run on this machine (see setup.h). */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "event.h"
#include "run/setup.h"
#include "util/fs.h"
#include "util/xmalloc.h"

/* A file's bytes, or NULL (no cause wanted). */
static char *
setup_read_file(const char *path, size_t *np)
{
	char *why = NULL, *data = fs_read_file(path, np, &why);

	free(why);
	return data;
}

/* Adds the file the word w names to the digest when it is a file of the
 * project (relative, no ".."), as its name and its bytes. */
static void
setup_digest_word(EVP_MD_CTX *md, const struct project *pr, const char *w)
{
	char *path, *data, len[32];
	size_t n;

	if (*w == '\0' || *w == '/' || strcmp(w, "..") == 0 ||
	    strncmp(w, "../", 3) == 0 || strstr(w, "/../") != NULL)
		return;
	path = fs_join(pr->dir, w);
	if (fs_is_file(path) && (data = setup_read_file(path, &n)) !=
	    NULL) {
		snprintf(len, sizeof len, "%zu", n);
		EVP_DigestUpdate(md, "\0file\0", 6);
		EVP_DigestUpdate(md, w, strlen(w) + 1);
		EVP_DigestUpdate(md, len, strlen(len) + 1);
		EVP_DigestUpdate(md, data, n);
		free(data);
	}
	free(path);
}

char *
setup_digest(const struct project *pr)
{
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	EVP_MD_CTX *md;
	char **argv = NULL, *hex, *w, *piece, *save, *eq, *why = NULL;
	size_t argc = 0, k;

	if (pr->setup == NULL)
		return NULL;
	md = EVP_MD_CTX_new();
	if (md == NULL)
		abort();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, "fanout setup 1\0", 15);
	EVP_DigestUpdate(md, pr->setup, strlen(pr->setup));
	/* The words as sh would split them; a word is also cut at the
	 * shell's operators (req.txt&&x) and taken after a '='
	 * (--requirement=req.txt). A command sh cannot split: its text. */
	if (project_split_argv(pr->setup, &argv, &argc, &why) == 0) {
		for (k = 0; k < argc; k++) {
			w = xstrdup(argv[k]);
			for (piece = strtok_r(w, ";&|<>()`", &save);
			    piece != NULL; piece = strtok_r(NULL, ";&|<>()`",
			    &save)) {
				setup_digest_word(md, pr, piece);
				if ((eq = strchr(piece, '=')) != NULL)
					setup_digest_word(md, pr, eq + 1);
			}
			free(w);
		}
		project_argv_free(argv);
	}
	free(why);
	EVP_DigestFinal_ex(md, out, &n);
	EVP_MD_CTX_free(md);
	hex = xmalloc(2 * n + 1);
	for (i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", out[i]);
	hex[2 * n] = '\0';
	return hex;
}

/* Reads the setup's output (its stdout and stderr, one pipe) line by
 * line into the log; keeps the last non-empty line in *last. */
static void
setup_read(int fd, struct sink *sink, char **last)
{
	FILE *f = fdopen(fd, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (f == NULL) {
		close(fd);
		return;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		event_log(sink, "setup", "%s", line);
		free(*last);
		*last = xstrdup(line);
	}
	free(line);
	fclose(f);
}

int
setup_local(const struct project *pr, char *const *env, struct sink *sink,
    char **cause)
{
	char *digest, *stamp, *have, *last = NULL, *text;
	int p[2], devnull, status, rc = -1;
	pid_t pid;

	if ((digest = setup_digest(pr)) == NULL)
		return 0;
	stamp = fs_join(pr->dir, SETUP_LOCAL_STAMP);
	have = setup_read_file(stamp, NULL);
	if (have != NULL && strncmp(have, digest, 64) == 0) {
		event_log(sink, "setup", "setup: done already on this machine "
		    "(neither it nor the files it names changed)");
		rc = 0;
		goto out;
	}
	event_log(sink, "setup", "setup on this machine: %s", pr->setup);
	if (pipe(p) != 0 || (devnull = open("/dev/null", O_RDONLY)) < 0) {
		xasprintf(cause, "cannot run setup: %s", strerror(errno));
		goto out;
	}
	if ((pid = fork()) < 0) {
		xasprintf(cause, "cannot run setup: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		close(devnull);
		goto out;
	}
	if (pid == 0) {
		/* Only what is safe after a fork. */
		if (chdir(pr->dir) != 0)
			_exit(126);
		dup2(devnull, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		close(devnull);
		execle("/bin/sh", "sh", "-c", pr->setup, (char *)NULL, env);
		_exit(127);
	}
	close(p[1]);
	close(devnull);
	setup_read(p[0], sink, &last);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		xasprintf(cause, "setup failed on this machine (%s %d)%s%s",
		    WIFEXITED(status) ? "exit" : "signal", WIFEXITED(status) ?
		    WEXITSTATUS(status) : WTERMSIG(status), last != NULL ?
		    ": " : "", last != NULL ? last : "");
		goto out;
	}
	/* Kept only after it worked: a failed one runs again. */
	text = fs_join(pr->dir, "results");
	rc = fs_mkdir_p(text, 0755, cause);
	free(text);
	if (rc == 0) {
		text = xprintf("%s\n", digest);
		rc = fs_write_atomic(stamp, text, strlen(text), 0644,
		    cause);
		free(text);
	}
out:
	free(last);
	free(have);
	free(stamp);
	free(digest);
	return rc;
}
