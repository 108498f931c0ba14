/* A project's setup: and program on a host (see run/setup.h), in one
 * login after the upload: the setup runs (/bin/sh -c, in the project
 * folder, with the project's env:) unless the digest kept in the remote
 * dir is this one; the digest is written only after it worked; then the
 * entrypoint's program is looked for there as fanout-worker will (a
 * missing one is one line, before any task). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "run/setup.h"
#include "ssh/remote-int.h"
#include "ssh/remote.h"
#include "ssh/session.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

/* The digest's file in the remote dir, beside tree/ (the upload leaves
 * it alone). */
#define SETUP_STAMP	"setup.sha256"

struct remote_setup {
	struct sink	*sink;
	const char	*step;
	const char	*host;
	char		*last;		/* the setup's last line of output */
	char		*missing;	/* "#fanout-prog": why the program is
					 * not there */
	int		 failed;	/* its exit status, or 0 */
	int		 ran;		/* it ran (was not current) */
};

static void
remote_setup_line(void *arg, int fd, const char *line)
{
	struct remote_setup *s = arg;

	(void)fd;
	if (strncmp(line, "#fanout-setup ", 14) == 0) {
		line += 14;
		if (strncmp(line, "failed ", 7) == 0)
			s->failed = atoi(line + 7);
		else if (strcmp(line, "run") == 0)
			s->ran = 1;
		return;
	}
	if (strncmp(line, "#fanout-prog ", 13) == 0) {
		free(s->missing);
		s->missing = xstrdup(line + 13);
		return;
	}
	if (*line == '\0')
		return;
	event_log(s->sink, s->step, "%s: %s", s->host, line);
	free(s->last);
	s->last = xstrdup(line);
}

char *
remote_program(const struct project *pr)
{
	if (pr->prog_in_project && strchr(pr->argv[0], '/') == NULL)
		return xprintf("./%s", pr->argv[0]);
	return xstrdup(pr->argv[0]);
}

void
remote_env_exports(struct strbuf *sb, const struct project *pr)
{
	size_t i, klen;
	char *k, *q;

	for (i = 0; i < pr->nenv; i++) {
		klen = strcspn(pr->env[i], "=");
		k = xstrndup(pr->env[i], klen);
		q = ssh_quote(pr->env[i] + klen + (pr->env[i][klen] != 0));
		strbuf_addf(sb, "%s=%s\nexport %s\n", k, q, k);
		free(q);
		free(k);
	}
}

void
remote_worker_args(struct strbuf *sb, const struct project *pr, int workers)
{
	char *p = remote_program(pr), *q = ssh_quote(p);
	size_t i;

	strbuf_addf(sb, " %s %d %g %d", q, workers, pr->timeout,
	    pr->retries);
	free(q);
	free(p);
	for (i = 1; i < pr->argc; i++) {
		q = ssh_quote(pr->argv[i]);
		strbuf_addf(sb, " %s", q);
		free(q);
	}
}

/* The script (fed to `sh -s`): env, setup unless current, the program. */
static char *
remote_setup_script(const struct project *pr, const char *rd)
{
	struct strbuf sb;
	char *q, *digest, *k;

	strbuf_init(&sb);
	strbuf_addf(&sb, "cd %s && cd tree || exit 1\n", rd);
	remote_env_exports(&sb, pr);
	if ((digest = setup_digest(pr)) != NULL) {
		q = ssh_quote(pr->setup);
		/* stdin is this script: the setup gets /dev/null. */
		strbuf_addf(&sb, "if [ \"$(cat ../%s 2>/dev/null)\" = %s ]; "
		    "then\n\techo '#fanout-setup current'\nelse\n"
		    "\techo '#fanout-setup run'\n"
		    "\t/bin/sh -c %s </dev/null 2>&1\n\ts=$?\n"
		    "\tif [ $s != 0 ]; then echo \"#fanout-setup failed $s\"; "
		    "exit 1; fi\n"
		    "\tprintf '%%s\\n' %s >../%s.tmp && mv -f ../%s.tmp ../%s "
		    "|| exit 1\nfi\n", SETUP_STAMP, digest, q, digest,
		    SETUP_STAMP, SETUP_STAMP, SETUP_STAMP);
		free(q);
		free(digest);
	}
	k = remote_program(pr);
	q = ssh_quote(k);
	free(k);
	strbuf_addf(&sb, "p=%s\ncase $p in\n*/*)\n"
	    "\tif [ ! -f \"$p\" ] || [ ! -x \"$p\" ]; then echo \"#fanout-prog "
	    "program $p is not an executable file in the project folder\"; "
	    "exit 3; fi;;\n"
	    "*)\n\tf=\n\to=$IFS\n\tIFS=:\n"
	    "\tfor d in ${PATH:-/usr/local/bin:/usr/bin:/bin}; do\n"
	    "\t\tif [ -f \"${d:-.}/$p\" ] && [ -x \"${d:-.}/$p\" ]; then "
	    "f=1; break; fi\n\tdone\n\tIFS=$o\n"
	    "\tif [ -z \"$f\" ]; then echo \"#fanout-prog program $p is not "
	    "on PATH ($PATH)\"; exit 3; fi;;\nesac\n"
	    "echo '#fanout-setup ok'\n", q);
	free(q);
	return strbuf_detach(&sb);
}

int
remote_project_setup(struct ssh_session *ss, const char *remote_dir,
    const char *host, const struct project *pr, struct sink *sink,
    const char *step, char **cause)
{
	struct remote_setup s;
	struct strbuf sb;
	struct ssh_exec x;
	char *rd = ssh_quote(remote_dir), *text;
	int status = 0, rc;

	memset(&s, 0, sizeof s);
	s.sink = sink;
	s.step = step;
	s.host = host;
	text = remote_setup_script(pr, rd);
	strbuf_init(&sb);
	strbuf_adds(&sb, text);
	free(text);
	if (pr->setup != NULL)
		event_log(sink, step, "%s: setup: %s", host, pr->setup);
	memset(&x, 0, sizeof x);
	x.line = remote_setup_line;
	x.line_arg = &s;
	rc = remote_exec_script(ss, &sb, &x, &status, cause);
	if (rc == 0 && s.failed != 0) {
		xasprintf(cause, "setup failed on %s (exit %d)%s%s", host,
		    s.failed, s.last != NULL ? ": " : "", s.last != NULL ?
		    s.last : "");
		rc = -1;
	} else if (rc == 0 && s.missing != NULL) {
		xasprintf(cause, "on %s the entrypoint's %s (install it in "
		    "setup:, or name a file of the project)", host, s.missing);
		rc = -1;
	} else if (rc == 0 && status != 0) {
		xasprintf(cause, "setup on %s failed (exit %d)%s%s", host,
		    status, s.last != NULL ? ": " : "", s.last != NULL ?
		    s.last : "");
		rc = -1;
	} else if (rc == 0 && pr->setup != NULL)
		event_log(sink, step, "%s: setup %s", host, s.ran ? "done" :
		    "done already (neither it nor the files it names "
		    "changed)");
	strbuf_free(&sb);
	free(s.last);
	free(s.missing);
	free(rd);
	return rc;
}
