/* Idle stop on a host (remote.h: remote_idle_stop): puts
 * templates/idle-stop.sh into fanout's folder there and starts it. */
#include <stdlib.h>
#include <string.h>

#include "ssh/remote.h"
#include "ssh/session.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

/* The test hooks the script reads, passed on from this environment. */
static const char *const idle_env[] = { "FANOUT_IDLE_TICK",
    "FANOUT_IDLE_POWEROFF", "FANOUT_IDLE_SSHD_PID", NULL };

int
remote_idle_stop(struct ssh_session *ss, const char *remote_dir, int minutes,
    char **cause)
{
	struct strbuf sb;
	char *text, *rd, *q;
	const char *v;
	size_t i;

	if (minutes == 0)
		return 0;
	if ((text = remote_template("idle-stop.sh", cause)) == NULL)
		return -1;
	rd = ssh_quote(remote_dir);
	strbuf_init(&sb);
	strbuf_addf(&sb, "mkdir -p %s && cat > %s/idle-stop.sh.new <<'"
	    "FANOUT_EOF_1d1e'\n%sFANOUT_EOF_1d1e\nmv -f %s/idle-stop.sh.new "
	    "%s/idle-stop.sh || exit 1\n", rd, rd, text, rd, rd);
	for (i = 0; idle_env[i] != NULL; i++) {
		if ((v = getenv(idle_env[i])) == NULL)
			continue;
		q = ssh_quote(v);
		strbuf_addf(&sb, "%s=%s; export %s\n", idle_env[i], q,
		    idle_env[i]);
		free(q);
	}
	strbuf_addf(&sb, "exec sh %s/idle-stop.sh start %d %s\n", rd,
	    minutes < 0 ? 0 : minutes, rd);
	free(text);
	free(rd);
	if (ssh_exec_input(ss, "sh -s", sb.buf, sb.len, cause) != 0) {
		strbuf_free(&sb);
		q = *cause;
		xasprintf(cause, "starting the idle stop: %s", q);
		free(q);
		return -1;
	}
	strbuf_free(&sb);
	return 0;
}
