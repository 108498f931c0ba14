/* The bastion engine's bucket steps (remote-int.h): a host's script that
 * fetches the inputs or copies the results with the host's own
 * credentials, and the results folder sent to the host for it. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event.h"
#include "ssh/remote-int.h"
#include "ssh/session.h"
#include "ssh/tar.h"
#include "ssh/tree.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

struct remote_store {
	const char	 *host;
	const char	 *step;
	struct sink	 *sink;
	char		 *error;	/* the script's "#error" line */
	char		**copied;	/* "#copied URL": the URL, or NULL */
};

static void
remote_store_line(void *arg, int fd, const char *line)
{
	struct remote_store *rs = arg;
	long long n = 0, bytes = 0, kept = 0;

	(void)fd;
	if (strncmp(line, "#error ", 7) == 0) {
		free(rs->error);
		rs->error = xstrdup(line + 7);
	} else if (strncmp(line, "#fetched ", 9) == 0) {
		if (sscanf(line + 9, "%lld %lld %lld", &n, &bytes,
		    &kept) == 3)
			event_log(rs->sink, rs->step, "%s fetched %lld "
			    "object(s) (%lld bytes) from the bucket itself; "
			    "%lld there already", rs->host, n, bytes, kept);
		return;
	} else if (strncmp(line, "#copied ", 8) == 0 && rs->copied != NULL) {
		free(*rs->copied);
		*rs->copied = xstrndup(line + 8, strcspn(line + 8, " "));
		return;		/* the engine says where */
	}
	event_log(rs->sink, rs->step, "%s", line);
}

int
remote_store_script(struct ssh_session *ss, const char *rd, const char *dir,
    const char *script, const char *host, const char *step, const char *what,
    struct sink *sink, char **copied, char **cause)
{
	struct remote_store rs = { host, step, sink, NULL, copied };
	struct strbuf sb;
	struct ssh_exec x;
	int rc, status;

	strbuf_init(&sb);
	strbuf_addf(&sb, "cd %s%s%s || exit 1\n%s", rd, dir != NULL ? "/" :
	    "", dir != NULL ? dir : "", script);
	memset(&x, 0, sizeof x);
	x.line = remote_store_line;
	x.line_arg = &rs;
	rc = remote_exec_script(ss, &sb, &x, &status, cause);
	strbuf_free(&sb);
	if (rc == 0 && status != 0) {
		xasprintf(cause, "%s on %s failed: %s", what, host,
		    rs.error != NULL ? rs.error : "see the lines above");
		rc = -1;
	}
	free(rs.error);
	return rc;
}

int
remote_send_dir(struct ssh_session *ss, const char *dest,
    const char *local_dir, char **cause)
{
	struct tree t;
	struct strbuf sb;
	char *path, *data, *cmd;
	size_t i, len;
	int rc;

	if (tree_scan(local_dir, false, &t, cause) != 0)
		return -1;
	strbuf_init(&sb);
	for (i = 0; i < t.n; i++) {
		path = fs_join(local_dir, t.v[i].path);
		data = fs_read_file(path, &len, cause);
		free(path);
		if (data == NULL) {
			strbuf_free(&sb);
			tree_free(&t);
			return -1;
		}
		tar_entry(&sb, t.v[i].path, (long long)len,
		    (long long)time(NULL) * 1000000000LL, 0644);
		strbuf_add(&sb, data, len);
		tar_pad(&sb, (long long)len);
		free(data);
	}
	tree_free(&t);
	for (i = 0; i < 1024; i++)	/* the end of the archive */
		strbuf_addc(&sb, '\0');
	cmd = xprintf("rm -rf %s && mkdir -p %s && tar xf - -C %s", dest,
	    dest, dest);
	rc = ssh_exec_input(ss, cmd, sb.buf, sb.len, cause);
	free(cmd);
	strbuf_free(&sb);
	return rc;
}
