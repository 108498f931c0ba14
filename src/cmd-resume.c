/* fanout resume ID [--yes]: run again on an existing run set. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-cloud.h"
#include "cmd.h"
#include "history/history.h"
#include "run/local.h"
#include "sink-text.h"
#include "wizard/wizard.h"

static enum cmd_retval
cmd_resume_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ "no-run", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct local_result lr;
	struct sink sink;
	struct sink_text st;
	char *cause = NULL, *why = NULL;
	const char *id;
	json_t *rec;
	int c, yes = 0, do_run = 1, rc;

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
	json_decref(rec);
	sink_text_init(&sink, &st, stderr, 0);
	rc = wizard_resume_run(id, do_run, &sink, &lr, &cause) == 0 ?
	    CMD_OK : CMD_FAILED;
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
	.usage = "ID [--yes] [--no-run]",
	.help = "check a run set, start its bastion, run again",
	.exec = cmd_resume_exec,
};
