/* fanout logs RESULTS|PROJECT|ID [TASK] [--attempt N]: one task's output
 * (its stdout to stdout, its stderr to stderr, byte for byte), or without
 * TASK the run's attempts (logs.csv). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "history/history.h"
#include "run/tasklog.h"
#include "util/fs.h"
#include "util/xmalloc.h"

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
	else
		xasprintf(cause, "run set %s has no results yet", what);
	json_decref(rec);
	return dir;
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
	int c;

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
