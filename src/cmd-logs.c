/* fanout logs RESULTS|PROJECT|ID [TASK] [--attempt N]: one task's output
 * (its stdout to stdout, its stderr to stderr, byte for byte), or without
 * TASK the run's attempts (logs.csv). A run set whose last run has not
 * come home yet (still running on its head, or detached) is read on the
 * head over SSH: the run's folder there (remote.c: runs/ID with
 * records.jsonl and logs/wN.out|err), a running task's output found by
 * its process (FANOUT_TASK in its environment, its stdout a worker slot's
 * log) from where that slot's last finished attempt ended. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-ssh.h"
#include "cmd.h"
#include "history/history.h"
#include "run/record.h"
#include "run/tasklog.h"
#include "ssh/session.h"
#include "ssh/upload.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

/* The record's last run when it has not come home: its "live_run"
 * (engine.h's bastion_run writes it before the run starts) when no entry
 * of "runs" has its run_id and the run set's machines run; else NULL. */
static json_t *
cmd_logs_live_run(json_t *rec)
{
	json_t *live = json_object_get(rec, "live_run"), *run;
	const char *rid = history_str(live, "run_id", NULL), *state, *p;
	size_t i;

	state = history_str(rec, "state", "");
	if (rid == NULL || *rid == '\0' || history_str(live, "remote_dir",
	    NULL) == NULL || (strcmp(state, "active") != 0 &&
	    strcmp(state, "creating") != 0))
		return NULL;
	for (p = rid; *p != '\0'; p++) {
		if (strchr("0123456789abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_", *p) == NULL)
			return NULL;	/* not an id remote_new_id made */
	}
	json_array_foreach(json_object_get(rec, "runs"), i, run) {
		if (strcmp(history_str(run, "run_id", ""), rid) == 0)
			return NULL;
	}
	return live;
}

/* Where the slot's next attempt begins in its logs: the end of its last
 * finished attempt's output. */
struct cmd_logs_slot {
	const char	*log;		/* "w3" */
	long long	 out_end;
	long long	 err_end;
};

static int
cmd_logs_slot_end(void *arg, const struct record *r, long long pos)
{
	struct cmd_logs_slot *sl = arg;

	(void)pos;
	if (r->log == NULL || strcmp(r->log, sl->log) != 0)
		return 0;
	if (r->out_off + r->out_len > sl->out_end)
		sl->out_end = r->out_off + r->out_len;
	if (r->err_off + r->err_len > sl->err_end)
		sl->err_end = r->err_off + r->err_len;
	return 0;
}

/* The output of a task still running, in the mirror dir: from the end
 * of its slot's last finished attempt to the end of the slot's logs. */
static enum cmd_retval
cmd_logs_running(const char *dir, const char *log)
{
	struct record_source src;
	struct cmd_logs_slot sl;
	char *path, *text, *cause = NULL;
	const char *ext[2] = { "out", "err" };
	long long from;
	size_t len;
	int i;

	memset(&src, 0, sizeof src);
	memset(&sl, 0, sizeof sl);
	sl.log = log;
	src.path = path = fs_join(dir, "records.jsonl");
	if (fs_is_file(path) && record_each(&src, cmd_logs_slot_end, &sl,
	    &cause) != 0) {
		free(path);
		cmd_error(CMD_FAILED, "%s", cause);
		free(cause);
		return CMD_FAILED;
	}
	free(path);
	for (i = 0; i < 2; i++) {
		path = xprintf("%s/logs/%s.%s", dir, log, ext[i]);
		text = fs_is_file(path) ? fs_read_file(path, &len, &cause) :
		    xstrdup("");
		if (text == NULL) {
			len = 0;
			free(cause);
			cause = NULL;
			text = xstrdup("");
		} else if (!fs_is_file(path))
			len = 0;
		from = i == 0 ? sl.out_end : sl.err_end;
		if ((long long)len > from)
			fwrite(text + from, 1, len - (size_t)from,
			    i == 0 ? stdout : stderr);
		fflush(i == 0 ? stdout : stderr);
		free(text);
		free(path);
	}
	return CMD_OK;
}

/* Prints the attempts in the mirror's records.jsonl, as logs.csv's first
 * columns. */
static int
cmd_logs_list(void *arg, const struct record *r, long long pos)
{
	(void)arg;
	(void)pos;
	printf("%d,%s,%d,%s,%d,%.3f,%.3f\n", r->task, r->input != NULL ?
	    r->input : "", r->worker, record_status_name(r->status), r->exit,
	    r->start, r->end);
	return 0;
}

/* fanout logs ID [TASK] while the run set's last run runs on its head. */
static enum cmd_retval
cmd_logs_live(json_t *rec, const char *id, json_t *live, const char *task,
    int attempt)
{
	struct ssh_session *ss;
	struct record_source src;
	struct tasklog tl;
	struct strbuf cmd;
	void *opts = NULL;
	const char *tmp = getenv("TMPDIR");
	char *cause = NULL, *run, *qrun, *dir, *out, *end, *sp, *path;
	long long bytes;
	long n = -1;
	enum cmd_retval rv = CMD_FAILED;

	if ((ss = cmd_ssh_head(rec, id, &opts, &cause)) == NULL) {
		cmd_error(CMD_FAILED, "%s (run set %s's run is still going "
		    "on its head)", cause, id);
		free(cause);
		cmd_ssh_head_free(opts);
		return CMD_FAILED;
	}
	run = xprintf("%s/runs/%s", history_str(live, "remote_dir", ""),
	    history_str(live, "run_id", ""));
	qrun = ssh_quote(run);
	dir = xprintf("%s/fanout-logs-XXXXXX", tmp != NULL && *tmp != '\0' ?
	    tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		cmd_error(CMD_FAILED, "logs: cannot make a folder in %s: %s",
		    tmp != NULL && *tmp != '\0' ? tmp : "/tmp",
		    strerror(errno));
		free(dir);
		dir = NULL;
		goto out;
	}
	/* The records so far, then the slots' logs. */
	xasprintf(&out, "cd %s 2>/dev/null || exit 3; cat records.jsonl "
	    "2>/dev/null; exit 0", qrun);
	sp = ssh_exec_output(ss, out, &cause);
	free(out);
	if (sp == NULL) {
		cmd_error(CMD_FAILED, "logs: run %s is not on the head of run "
		    "set %s: %s", history_str(live, "run_id", ""), id, cause);
		goto out;
	}
	path = fs_join(dir, "records.jsonl");
	if (fs_write_atomic(path, sp, strlen(sp), 0600, &cause) != 0) {
		free(path);
		free(sp);
		cmd_error(CMD_FAILED, "%s", cause);
		goto out;
	}
	free(path);
	free(sp);
	if (task == NULL) {
		memset(&src, 0, sizeof src);
		src.path = path = fs_join(dir, "records.jsonl");
		fprintf(stderr, "run %s of run set %s is still running on its "
		    "head; the attempts so far:\n", history_str(live, "run_id",
		    ""), id);
		printf("task,input,worker,status,exit,start,end\n");
		rv = record_each(&src, cmd_logs_list, NULL, &cause) == 0 ?
		    CMD_OK : CMD_FAILED;
		if (rv != CMD_OK)
			cmd_error(CMD_FAILED, "%s", cause);
		free(path);
		goto out;
	}
	if (download_tree(ss, run, "logs", dir, NULL, &bytes, &cause) != 0) {
		cmd_error(CMD_FAILED, "logs: %s", cause);
		goto out;
	}
	/* Which slot runs the task now (its attempt), if any. */
	errno = 0;
	n = strtol(task, &end, 10);
	if (*task == '\0' || *end != '\0' || errno != 0 || n < 0)
		n = -1;
	out = NULL;
	if (n >= 0) {
		strbuf_init(&cmd);
		strbuf_addf(&cmd, "cd %s 2>/dev/null || exit 0; d=$(pwd -P); "
		    "for p in /proc/[0-9]*; do "
		    "f=$(readlink \"$p/fd/1\" 2>/dev/null) || continue; "
		    "case $f in \"$d\"/logs/w*.out) ;; *) continue;; esac; "
		    "e=$(tr '\\0' '\\n' <\"$p/environ\" 2>/dev/null) || "
		    "continue; printf '%%s\\n' \"$e\" | grep -qx "
		    "'FANOUT_TASK=%ld' || continue; f=${f##*/}; "
		    "a=$(printf '%%s\\n' \"$e\" | sed -n "
		    "'s/^FANOUT_ATTEMPT=//p'); echo \"${f%%.out} $a\"; "
		    "exit 0; done", qrun, n);
		out = ssh_exec_output(ss, cmd.buf, &cause);
		strbuf_free(&cmd);
		if (out == NULL) {
			free(cause);
			cause = NULL;
		}
	}
	if (out != NULL && *out == 'w' && (sp = strchr(out, ' ')) != NULL &&
	    (attempt == 0 || attempt == atoi(sp + 1))) {
		*sp = '\0';
		rv = cmd_logs_running(dir, out);
		free(out);
		goto out;
	}
	free(out);
	if (tasklog_read(dir, task, attempt, &tl, &cause) != 0) {
		if (n >= 0 && strstr(cause, "has no task") != NULL) {
			free(cause);
			xasprintf(&cause, "task %s of run set %s has not "
			    "started yet (its run is still going on the head)",
			    task, id);
		}
		cmd_error(CMD_FAILED, "%s", cause);
		goto out;
	}
	fwrite(tl.out, 1, tl.outlen, stdout);
	fflush(stdout);
	fwrite(tl.err, 1, tl.errlen, stderr);
	tasklog_free(&tl);
	rv = CMD_OK;
out:
	if (dir != NULL && fs_remove_tree(dir, &sp) != 0)
		free(sp);
	free(dir);
	free(cause);
	free(qrun);
	free(run);
	ssh_close(ss);
	cmd_ssh_head_free(opts);
	return rv;
}

/* A results folder, a project's latest results, or a history record's
 * last run. */
static char *
cmd_logs_dir(const char *what, char **cause)
{
	json_t *rec, *runs;
	const char *s;
	char *p, *dir = NULL;

	p = fs_join(what, "records.jsonl");
	if (fs_is_file(p)) {
		free(p);
		return xstrdup(what);
	}
	free(p);
	p = fs_join(what, "results/latest/records.jsonl");
	if (fs_is_file(p)) {
		free(p);
		return fs_join(what, "results/latest");
	}
	free(p);
	if (fs_is_dir(what)) {
		xasprintf(cause, "%s is no results folder (it has no "
		    "records.jsonl) and no project with results", what);
		return NULL;
	}
	if ((rec = history_load(what, cause)) == NULL)
		return NULL;
	runs = json_object_get(rec, "runs");
	s = json_string_value(json_object_get(json_array_get(runs,
	    json_array_size(runs) - 1), "results"));
	if (s != NULL)
		dir = xstrdup(s);
	else if (strcmp(history_str(rec, "state", ""), "detached") == 0)
		xasprintf(cause, "run set %s runs detached on its head: "
		    "'fanout status %s' shows how far, 'fanout fetch %s' "
		    "brings its results home", what, what, what);
	else
		xasprintf(cause, "run set %s has no results yet", what);
	json_decref(rec);
	return dir;
}

/* A run-set id whose last run is live: its logs from the head (the exit
 * status); else -1 (read the local results). */
static int
cmd_logs_try_live(const char *what, const char *task, int attempt)
{
	json_t *rec, *live;
	char *cause = NULL;
	int rv = -1;

	if (strncmp(what, "fo-", 3) != 0 || strchr(what, '/') != NULL ||
	    fs_is_dir(what))
		return -1;
	if ((rec = history_load(what, &cause)) == NULL) {
		free(cause);
		return -1;
	}
	if ((live = cmd_logs_live_run(rec)) != NULL)
		rv = cmd_logs_live(rec, what, live, task, attempt);
	json_decref(rec);
	return rv;
}

static enum cmd_retval
cmd_logs_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "attempt", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct tasklog tl;
	char *dir, *cause = NULL, *text;
	long v, attempt = 0;
	size_t len;
	int c, rv;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (cmd_parse_count("--attempt", optarg, 1, 65535,
			    &v) != 0)
				return CMD_USAGE;
			attempt = v;
			break;
		case 'h':
			printf("usage: fanout logs %s\n", cmd_logs_entry.usage);
			return CMD_OK;
		default:
			return cmd_error(CMD_USAGE, "logs: unknown or "
			    "incomplete option '%s' (usage: fanout logs %s)",
			    argv[optind - 1], cmd_logs_entry.usage);
		}
	}
	if (optind != argc - 1 && optind != argc - 2)
		return cmd_error(CMD_USAGE, "logs: give a results folder, a "
		    "project or a run-set id, and a task (usage: fanout logs "
		    "%s)", cmd_logs_entry.usage);
	if ((rv = cmd_logs_try_live(argv[optind], optind == argc - 2 ?
	    argv[optind + 1] : NULL, (int)attempt)) >= 0)
		return rv;
	if ((dir = cmd_logs_dir(argv[optind], &cause)) == NULL) {
		cmd_error(CMD_USAGE, "%s", cause);
		free(cause);
		return CMD_USAGE;
	}
	if (optind == argc - 1) {
		text = fs_join(dir, "logs.csv");
		free(dir);
		dir = text;
		if ((text = fs_read_file(dir, &len, &cause)) == NULL) {
			free(dir);
			cmd_error(CMD_FAILED, "%s", cause);
			free(cause);
			return CMD_FAILED;
		}
		fwrite(text, 1, len, stdout);
		free(text);
		free(dir);
		return CMD_OK;
	}
	if (tasklog_read(dir, argv[optind + 1], (int)attempt, &tl,
	    &cause) != 0) {
		free(dir);
		cmd_error(CMD_USAGE, "%s", cause);
		free(cause);
		return CMD_USAGE;
	}
	free(dir);
	fwrite(tl.out, 1, tl.outlen, stdout);
	fflush(stdout);
	fwrite(tl.err, 1, tl.errlen, stderr);
	tasklog_free(&tl);
	return CMD_OK;
}

const struct cmd_entry cmd_logs_entry = {
	.name = "logs",
	.usage = "RESULTS|PROJECT|ID [TASK] [--attempt N]",
	.help = "one task's output (stdout, stderr), or a run's attempts",
	.exec = cmd_logs_exec,
};
