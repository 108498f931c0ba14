/* fanout ssh ID [-- COMMAND...]: a shell, or one command, on the run set's
 * head, with the run set's key and its pinned host key.
 *
 * OpenSSH's ssh does the session (a real terminal for a shell; for a
 * command its stdout, stderr and exit status as they are). fanout first
 * connects with libssh2 and checks the server's host key against the
 * fingerprint pinned in the record (a changed key is refused there, with
 * both fingerprints), then hands ssh a known_hosts file of its own that
 * holds exactly that key, with StrictHostKeyChecking=yes: ssh trusts
 * nothing else, never on first use. The address is the head's, or
 * FANOUT_BASTION_ADDRESS's as for every command (engine_host_address). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd-cloud.h"
#include "cmd-ssh.h"
#include "cmd.h"
#include "engine/engine.h"
#include "history/history.h"
#include "ssh/session.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

/* Why the run set's head cannot be reached now (the line to print), or
 * NULL when it can. */
static char *
cmd_ssh_unreachable(json_t *rec, const char *id)
{
	const char *state = history_str(rec, "state", "");
	json_t *head = engine_host(rec, "head");

	if (strcmp(state, "deleted") == 0 || strcmp(state, "deleting") == 0)
		return xprintf("run set %s was %s; create a new one",
		    id, strcmp(state, "deleted") == 0 ? "cleaned up" :
		    "being cleaned up (finish with 'fanout cleanup ID')");
	if (strcmp(state, "stopped") == 0)
		return xprintf("run set %s is stopped; start it with 'fanout "
		    "resume %s --no-run', then try again", id, id);
	if (strcmp(state, "failed") == 0)
		return xprintf("the create of run set %s did not finish; "
		    "remove it with 'fanout cleanup %s'", id, id);
	if (strcmp(history_str(rec, "kind", ""), "cloud") != 0 ||
	    head == NULL || history_str(head, "host", NULL) == NULL)
		return xprintf("run set %s has no head machine to log in to",
		    id);
	if (history_str(head, "host_key", NULL) == NULL)
		return xprintf("run set %s has no pinned host key yet (its "
		    "head never ran a task); run 'fanout resume %s' first", id,
		    id);
	return NULL;
}

/* What cmd_ssh_head's session points at. */
struct cmd_ssh_opts {
	struct ssh_opts	 so;
	char		*user;
	char		*addr;
	char		*known;	/* the run set's known_hosts file */
};

struct ssh_session *
cmd_ssh_head(json_t *rec, const char *id, void **opts, char **cause)
{
	struct cmd_ssh_opts *o = xcalloc(1, sizeof *o);
	struct ssh_session *ss;
	enum ssh_error err;
	json_t *head = engine_host(rec, "head");
	double wait, grace;
	char *line;
	int port = 0;

	*opts = o;
	if (head == NULL) {
		xasprintf(cause, "run set %s has no head machine", id);
		return NULL;
	}
	if (engine_ssh_wait(&wait, &grace, cause) != 0 ||
	    engine_host_address(head, &o->user, &o->addr, &port, cause) != 0)
		return NULL;
	if (o->addr == NULL) {
		xasprintf(cause, "run set %s's head has no address yet", id);
		return NULL;
	}
	o->so.host = o->addr;
	o->so.port = port;
	o->so.user = o->user != NULL ? o->user : history_str(head, "user",
	    "root");
	o->so.key_file = history_str(head, "key_file", NULL);
	o->so.expected_fp = history_str(head, "host_key", NULL);
	if (o->so.expected_fp == NULL) {
		o->known = history_file(id, ".known_hosts");
		if (!fs_is_file(o->known)) {
			xasprintf(cause, "run set %s has no pinned host key "
			    "yet; wait for its first run to connect", id);
			return NULL;
		}
		o->so.known_hosts = o->known;
	}
	o->so.connect_timeout = wait > 0 ? wait : 30;
	o->so.name = "head";
	if ((ss = ssh_connect(&o->so, NULL, &err, cause)) == NULL &&
	    err != SSH_ERR_HOSTKEY) {
		line = *cause;
		xasprintf(cause, "%s (is run set %s running? see 'fanout "
		    "status %s')", line, id, id);
		free(line);
	}
	return ss;
}

/* The head's host key, checked against the pinned fingerprint over
 * libssh2, as a known_hosts key ("TYPE BASE64"); NULL with a cause. */
static char *
cmd_ssh_pinned_key(json_t *rec, const char *id, char **cause)
{
	struct ssh_session *ss;
	void *opts = NULL;
	char *line = NULL;

	if ((ss = cmd_ssh_head(rec, id, &opts, cause)) != NULL) {
		if ((line = ssh_host_key_line(ss)) == NULL)
			*cause = xstrdup("the head's host key cannot be read");
		ssh_close(ss);
	}
	cmd_ssh_head_free(opts);
	return line;
}

/* Frees what cmd_ssh_head made. */
void
cmd_ssh_head_free(void *opts)
{
	struct cmd_ssh_opts *o = opts;

	if (o == NULL)
		return;
	free(o->user);
	free(o->addr);
	free(o->known);
	free(o);
}

/* Runs argv and waits; its exit status (128 + N for signal N). */
static int
cmd_ssh_spawn(char **argv)
{
	struct sigaction ign, oint, oquit;
	pid_t pid;
	int st;

	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigaction(SIGINT, &ign, &oint);
	sigaction(SIGQUIT, &ign, &oquit);
	fflush(NULL);
	if ((pid = fork()) < 0) {
		sigaction(SIGINT, &oint, NULL);
		sigaction(SIGQUIT, &oquit, NULL);
		return cmd_error(CMD_FAILED, "ssh: cannot fork: %s",
		    strerror(errno));
	}
	if (pid == 0) {
		sigaction(SIGINT, &oint, NULL);
		sigaction(SIGQUIT, &oquit, NULL);
		execvp(argv[0], argv);
		fprintf(stderr, "fanout: ssh: cannot run %s: %s (install "
		    "OpenSSH's client)\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGQUIT, &oquit, NULL);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

static enum cmd_retval
cmd_ssh_exec(int argc, char **argv)
{
	json_t *rec, *head;
	char *cause = NULL, *why, *user = NULL, *addr = NULL, *key = NULL;
	char *tmpdir = NULL, *known = NULL, *text, *opt[4], portbuf[16];
	const char *id, *key_file, *tmp;
	char **av;
	int port = 0, ac = 0, first, i, rc;

	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		printf("usage: fanout ssh %s\n", cmd_ssh_entry.usage);
		return CMD_OK;
	}
	if (argc < 2 || argv[1][0] == '-' || (argc > 2 &&
	    strcmp(argv[2], "--") != 0))
		return cmd_error(CMD_USAGE, "ssh: give one run-set id, then "
		    "-- and a command if you want one (usage: fanout ssh %s)",
		    cmd_ssh_entry.usage);
	id = argv[1];
	first = 3;
	/* A head stopped by itself (idle stop) is refused as stopped. */
	cmd_refresh(id);
	if ((rec = history_load(id, &cause)) == NULL) {
		cmd_error(CMD_USAGE, "%s", cause);
		free(cause);
		return CMD_USAGE;
	}
	if ((why = cmd_ssh_unreachable(rec, id)) != NULL) {
		cmd_error(CMD_USAGE, "%s", why);
		free(why);
		json_decref(rec);
		return CMD_USAGE;
	}
	head = engine_host(rec, "head");
	if (engine_host_address(head, &user, &addr, &port, &cause) != 0) {
		cmd_error(CMD_USAGE, "%s", cause);
		rc = CMD_USAGE;
		goto out;
	}
	if (user == NULL)
		user = xstrdup(history_str(head, "user", "root"));
	key_file = history_str(head, "key_file", NULL);
	if (key_file == NULL || !fs_is_file(key_file)) {
		rc = cmd_error(CMD_FAILED, "run set %s's key file %s is "
		    "missing", id, key_file != NULL ? key_file : "(none)");
		goto out;
	}
	if ((key = cmd_ssh_pinned_key(rec, id, &cause)) == NULL) {
		rc = cmd_error(CMD_FAILED, "%s", cause);
		goto out;
	}

	/* A known_hosts of this session's: the pinned key alone. */
	tmp = getenv("TMPDIR");
	tmpdir = xprintf("%s/fanout-ssh-XXXXXX", tmp != NULL && *tmp != '\0' ?
	    tmp : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		rc = cmd_error(CMD_FAILED, "ssh: cannot make a folder in %s: "
		    "%s", tmp != NULL && *tmp != '\0' ? tmp : "/tmp",
		    strerror(errno));
		free(tmpdir);
		tmpdir = NULL;
		goto out;
	}
	known = fs_join(tmpdir, "known_hosts");
	text = xprintf("fanout-%s %s\n", id, key);
	if (fs_write_atomic(known, text, strlen(text), 0600, &cause) != 0) {
		free(text);
		rc = cmd_error(CMD_FAILED, "%s", cause);
		goto out;
	}
	free(text);

	snprintf(portbuf, sizeof portbuf, "%d", port > 0 ? port : 22);
	opt[0] = xprintf("UserKnownHostsFile=%s", known);
	opt[1] = xprintf("HostKeyAlias=fanout-%s", id);
	*strchr(key, ' ') = '\0';
	/* RSA keys sign with rsa-sha2-*, not their type's name. */
	opt[2] = xprintf("HostKeyAlgorithms=%s", strcmp(key, "ssh-rsa") == 0 ?
	    "rsa-sha2-512,rsa-sha2-256,ssh-rsa" : key);
	opt[3] = NULL;
	av = xcalloc((size_t)argc + 32, sizeof *av);
	av[ac++] = (char *)"ssh";
	av[ac++] = (char *)"-o"; av[ac++] = opt[0];
	av[ac++] = (char *)"-o"; av[ac++] = (char *)"GlobalKnownHostsFile=/dev/null";
	av[ac++] = (char *)"-o"; av[ac++] = opt[1];
	av[ac++] = (char *)"-o"; av[ac++] = opt[2];
	av[ac++] = (char *)"-o"; av[ac++] = (char *)"StrictHostKeyChecking=yes";
	av[ac++] = (char *)"-o"; av[ac++] = (char *)"IdentitiesOnly=yes";
	av[ac++] = (char *)"-o"; av[ac++] = (char *)"BatchMode=yes";
	av[ac++] = (char *)"-o"; av[ac++] = (char *)"LogLevel=ERROR";
	av[ac++] = (char *)"-i"; av[ac++] = (char *)key_file;
	av[ac++] = (char *)"-p"; av[ac++] = portbuf;
	av[ac++] = (char *)"-l"; av[ac++] = user;
	av[ac++] = addr;
	if (argc > first) {
		/* As ssh does: the words, joined by spaces, for the remote
		 * user's shell. */
		av[ac++] = (char *)"--";
		for (i = first; i < argc; i++)
			av[ac++] = argv[i];
	}
	av[ac] = NULL;
	rc = cmd_ssh_spawn(av);
	for (i = 0; opt[i] != NULL; i++)
		free(opt[i]);
	free(av);
out:
	if (known != NULL)
		unlink(known);
	if (tmpdir != NULL)
		rmdir(tmpdir);
	free(known);
	free(tmpdir);
	free(cause);
	free(key);
	free(user);
	free(addr);
	json_decref(rec);
	return (enum cmd_retval)rc;
}

const struct cmd_entry cmd_ssh_entry = {
	.name = "ssh",
	.usage = "ID [-- COMMAND...]",
	.help = "a shell (or a command) on a run set's head",
	.exec = cmd_ssh_exec,
};
