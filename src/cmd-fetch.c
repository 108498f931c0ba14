/* fanout fetch ID [--results DIR] [--json]: brings a detached run's
 * results home from the bucket its head wrote them to, builds the results
 * folder as an attached run's, and, when the head has torn its run set
 * down, removes what it could not delete itself (its own security group
 * and instance role) with the cleanup of the run set. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-cloud.h"
#include "cmd.h"
#include "history/history.h"
#include "sink-text.h"
#include "util/xmalloc.h"
#include "wizard/wizard.h"

static enum cmd_retval
cmd_fetch_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "results", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct sink sink;
	struct sink_text st;
	json_t *rec = NULL, *status = NULL, *v;
	const char *id, *results = NULL, *state;
	char *cause = NULL, *dir = NULL, *text = NULL;
	enum cmd_retval rv = CMD_USAGE;
	int c, json = 0, lock = -1, torn = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			results = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			printf("usage: fanout fetch %s\n", cmd_fetch_entry.usage);
			return CMD_OK;
		default:
			return cmd_error(CMD_USAGE, "fetch: unknown or "
			    "incomplete option '%s' (usage: fanout fetch %s)",
			    argv[optind - 1], cmd_fetch_entry.usage);
		}
	}
	if (optind != argc - 1)
		return cmd_error(CMD_USAGE, "fetch: give one run-set id (see "
		    "fanout history)");
	id = argv[optind];
	if ((lock = history_hold(id, "fetch", &cause)) < 0)
		goto out;
	if ((rec = history_load(id, &cause)) == NULL)
		goto out;
	if (wizard_detach_entry(rec) == NULL) {
		xasprintf(&cause, "fetch: run set %s has no detached run (an "
		    "attached run's results are home already: see 'fanout "
		    "status %s')", id, id);
		goto out;
	}
	rv = CMD_FAILED;
	if (wizard_detach_status(rec, &status, &cause) != 0)
		goto out;
	text = wizard_detach_text(wizard_detach_entry(rec), status);
	if (!wizard_detach_over(status)) {
		xasprintf(&cause, "fetch: run set %s is not done yet (%s); "
		    "fetch again later", id, text);
		goto out;
	}
	if (strcmp(history_str(wizard_detach_entry(rec), "state", ""),
	    "done") == 0 && results == NULL) {
		dir = xstrdup(history_str(wizard_detach_entry(rec), "results",
		    ""));
		fprintf(stderr, "run set %s: fetched already\n", id);
	} else {
		sink_text_init(&sink, &st, stderr, json);
		c = wizard_detach_fetch(rec, status, results, &sink, &dir,
		    &cause);
		sink_text_end(&sink);
		if (c != 0)
			goto out;
	}
	state = history_str(status, "state", "");
	torn = strcmp(state, "torn-down") == 0;
	if (strcmp(state, "stopped") == 0)
		json_object_set_new(rec, "state", json_string("stopped"));
	else if (strcmp(state, "failed") == 0)
		json_object_set_new(rec, "state", json_string("failed"));
	if (history_save(rec, &cause) != 0)
		goto out;
	history_release(lock);
	lock = -1;
	fprintf(stderr, "%s\n", text);
	if (!json)
		cmd_print_last_run(id);
	/* What the head could not delete: its group and role. */
	if (torn) {
		sink_text_init(&sink, &st, stderr, json);
		c = wizard_cleanup(id, &sink, &cause);
		sink_text_end(&sink);
		if (c != 0)
			goto out;
	} else if (strcmp(state, "failed") == 0)
		fprintf(stderr, "the head did not finish its teardown: remove "
		    "the run set with 'fanout cleanup %s'\n", id);
	rv = CMD_OK;
	if (json) {
		v = json_pack("{s:s, s:s, s:O}", "id", id, "results", dir,
		    "status", status);
		cmd_print_json(v);
		json_decref(v);
	} else
		printf("%s\n", dir);
out:
	if (cause != NULL)
		cmd_error(rv, "%s", cause);
	if (lock >= 0)
		history_release(lock);
	free(cause);
	free(dir);
	free(text);
	json_decref(status);
	json_decref(rec);
	return rv;
}

const struct cmd_entry cmd_fetch_entry = {
	.name = "fetch",
	.usage = "ID [--results DIR] [--json]",
	.help = "bring a detached run's results home from its bucket",
	.exec = cmd_fetch_exec,
};
