/* fanout resume ID [--yes] [--unfinished [--failed]]: run again on an
 * existing run set, every task or only those its last run left without a
 * result (merged with that run's results). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-cloud.h"
#include "cmd.h"
#include "flows.h"
#include "history/history.h"
#include "run/local.h"
#include "run/pool.h"
#include "run/rerun.h"
#include "sink-text.h"
#include "util/fs.h"
#include "util/xmalloc.h"
#include "wizard/wizard.h"

/* For --unfinished: the last run's results folder into rr (*from, caller
 * frees) and -1 when some of its tasks lack a result; else what the
 * command returns: nothing to run (one line, CMD_OK) or bad input. */
static int
cmd_resume_todo(const char *id, json_t *rec, struct rerun *rr, char **from)
{
	json_t *runs = json_object_get(rec, "runs"), *last;
	const char *dir, *project;
	char *cause = NULL;
	size_t todo, total;

	last = json_array_get(runs, json_array_size(runs) - 1);
	dir = history_str(last, "results", NULL);
	project = history_str(rec, "project_dir", NULL);
	if (strcmp(history_str(rec, "state", ""), "detached") == 0)
		return cmd_error(CMD_USAGE, "resume: run set %s runs detached "
		    "on its head; 'fanout status %s' shows how far, 'fanout "
		    "fetch %s' brings it home", id, id, id);
	if (last == NULL || dir == NULL || project == NULL)
		return cmd_error(CMD_USAGE, "resume: run set %s has no run to "
		    "finish; run it with 'fanout resume %s'", id, id);
	if (!fs_is_dir(dir))
		return cmd_error(CMD_USAGE, "resume: the results folder of run "
		    "set %s's last run (%s) is gone; run every task with "
		    "'fanout resume %s'", id, dir, id);
	rr->from = dir;
	if (rerun_count(rr, project, (long)json_integer_value(json_object_get(
	    json_object_get(rec, "answers"), "files")), &todo, &total,
	    &cause) != 0) {
		cmd_error(CMD_USAGE, "resume: %s", cause);
		free(cause);
		return CMD_USAGE;
	}
	if (todo == 0) {
		printf("run set %s: every task of its last run (%s) has a "
		    "result%s; nothing to run\n", id, dir, rr->failed ?
		    " and none failed" : "");
		return CMD_OK;
	}
	*from = xstrdup(dir);
	rr->from = *from;
	return -1;
}

/* Ctrl-C (SIGINT or SIGTERM): the run stops and the run set is kept,
 * its machines stopped, as the menu's cancel keeps it. */
static int
cmd_resume_cancelled(struct sink *sink)
{
	(void)sink;
	return pool_interrupted() ? FLOW_CANCEL_KEEP : 0;
}

static enum cmd_retval
cmd_resume_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ "no-run", no_argument, NULL, 'R' },
		{ "unfinished", no_argument, NULL, 'u' },
		{ "failed", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct local_result lr;
	struct rerun rr = { 0 };
	struct sink sink;
	struct sink_text st;
	char *cause = NULL, *why = NULL;
	const char *id;
	json_t *rec;
	char *from = NULL;
	int c, yes = 0, do_run = 1, unfinished = 0, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'y':
			yes = 1;
			break;
		case 'R':
			do_run = 0;
			break;
		case 'u':
			unfinished = 1;
			break;
		case 'F':
			rr.failed = true;
			break;
		case 'h':
			printf("usage: fanout resume %s\n",
			    cmd_resume_entry.usage);
			return CMD_OK;
		default:
			return cmd_error(CMD_USAGE, "resume: unknown option "
			    "'%s' (usage: fanout resume %s)",
			    argv[optind - 1], cmd_resume_entry.usage);
		}
	}
	if (rr.failed && !unfinished)
		return cmd_error(CMD_USAGE, "resume: --failed goes with "
		    "--unfinished (--unfinished --failed also reruns the tasks "
		    "that failed)");
	if (optind != argc - 1)
		return cmd_error(CMD_USAGE, "resume: give one run-set id (see "
		    "fanout history)");
	id = argv[optind];
	if ((rec = history_load(id, &cause)) == NULL ||
	    wizard_cloud_record(rec, NULL, &cause) != 0) {
		json_decref(rec);
		cmd_error(CMD_USAGE, "%s", cause);
		free(cause);
		return CMD_USAGE;
	}
	if (unfinished) {
		if (!do_run) {
			json_decref(rec);
			return cmd_error(CMD_USAGE, "resume: --unfinished runs "
			    "tasks; it does not go with --no-run");
		}
		rc = cmd_resume_todo(id, rec, &rr, &from);
		json_decref(rec);
		if (rc != -1)
			return rc;
	} else
		json_decref(rec);
	sink_text_init(&sink, &st, stderr, 0);
	pool_catch_signals();
	sink.cancelled = cmd_resume_cancelled;
	if (unfinished)
		rc = wizard_resume_rerun(id, &rr, &sink, &lr, &cause);
	else
		rc = wizard_resume_run(id, do_run, &sink, &lr, &cause);
	free(from);
	rc = rc == 0 ? CMD_OK : CMD_FAILED;
	sink_text_end(&sink);
	if (rc == CMD_OK) {
		if (do_run)
			cmd_print_last_run(id);
		rc = cmd_run_outcome(&lr);	/* tasks that failed: 1 */
		local_result_free(&lr);
		printf("%s\n", id);
		return rc;
	}
	local_result_free(&lr);
	cmd_error(CMD_FAILED, "%s", cause);
	free(cause);
	/* Offer the cleanup the message names, when someone can answer. */
	if (!yes && cmd_interactive() && cmd_confirm("Clean up this run set "
	    "now?")) {
		sink_text_init(&sink, &st, stderr, 0);
		if (wizard_cleanup(id, &sink, &why) != 0) {
			cmd_error(CMD_FAILED, "%s", why);
			free(why);
		}
		sink_text_end(&sink);
	}
	return CMD_FAILED;
}

const struct cmd_entry cmd_resume_entry = {
	.name = "resume",
	.usage = "ID [--yes] [--no-run] [--unfinished [--failed]]",
	.help = "check a run set, start its bastion, run again",
	.exec = cmd_resume_exec,
};
