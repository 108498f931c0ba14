/* fanout history [--json]: run sets, state, age, cost so far. The
 * REGION column shows the zone of a run set that has one (a zone names
 * its region). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-cloud.h"
#include "cmd.h"
#include "util/xmalloc.h"
#include "history/history.h"
#include "util/fs.h"
#include "wizard/wizard.h"

/* Resources not yet deleted. */
static int
history_live_count(json_t *rec)
{
	json_t *res;
	size_t i;
	int n = 0;

	json_array_foreach(json_object_get(rec, "resources"), i, res) {
		if (strcmp(history_str(res, "state", ""), "deleted") != 0)
			n++;
	}
	return n;
}

/* The --json line of one record (documented in history/README.md). */
static json_t *
cmd_history_summary(json_t *rec)
{
	return json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s, s:s?, s:s?, "
	    "s:f, s:i, s:i, s:f}",
	    "id", history_str(rec, "id", ""),
	    "kind", history_str(rec, "kind", ""),
	    "project", history_str(rec, "project", ""),
	    "provider", history_str(rec, "provider", NULL),
	    "region", history_str(rec, "region", NULL),
	    "zone", history_str(rec, "zone", NULL),
	    "state", history_str(rec, "state", ""),
	    "created_at", history_str(rec, "created_at", NULL),
	    "deleted_at", history_str(rec, "deleted_at", NULL),
	    "age_seconds", cmd_record_age(rec),
	    "resources", (int)json_array_size(json_object_get(rec,
	    "resources")),
	    "live_resources", history_live_count(rec),
	    "cost_usd", cmd_record_cost(rec));
}

static enum cmd_retval
cmd_history_exec(int argc, char **argv)
{
	json_t *list, *rec, *out, *damaged, *line;
	char *cause = NULL, age[32], *det;
	size_t i;
	enum cmd_retval rv;
	int json = 0;

	if (cmd_json_option(&cmd_history_entry, argc, argv, &json, &rv) != 0)
		return rv;
	if (optind != argc)
		return cmd_error(CMD_USAGE, "history: no arguments expected "
		    "(usage: fanout history %s)", cmd_history_entry.usage);
	/* Kept run sets as the cloud sees them now (idle stops). */
	damaged = NULL;
	if ((list = history_scan(&damaged, &cause)) != NULL) {
		json_array_foreach(list, i, rec)
			cmd_refresh(history_str(rec, "id", ""));
		json_decref(list);
	}
	json_decref(damaged);
	free(cause);
	cause = NULL;
	if ((list = history_scan(&damaged, &cause)) == NULL) {
		json_decref(damaged);
		cmd_error(CMD_FAILED, "%s", cause);
		free(cause);
		return CMD_FAILED;
	}
	if (json) {
		out = json_array();
		json_array_foreach(list, i, rec) {
			line = cmd_history_summary(rec);
			if ((det = wizard_detach_line(rec, NULL)) != NULL)
				json_object_set_new(line, "detached",
				    json_string(det));
			free(det);
			json_array_append_new(out, line);
		}
		cmd_print_json(out);
		json_decref(out);
	} else if (json_array_size(list) == 0)
		printf(json_array_size(damaged) == 0 ? "No run sets yet.\n" :
		    "No readable run sets.\n");
	else {
		printf("%-18s %-6s %-16s %-11s %-14s %8s %5s %9s\n", "ID",
		    "KIND", "PROJECT", "STATE", "REGION", "AGE", "LIVE",
		    "COST");
		json_array_foreach(list, i, rec) {
			time_format_duration(cmd_record_age(rec), age,
			    sizeof age);
			printf("%-18s %-6s %-16.16s %-11s %-14.14s %8s %5d "
			    "%8.4f$\n", history_str(rec, "id", ""),
			    history_str(rec, "kind", ""),
			    history_str(rec, "project", ""),
			    history_str(rec, "state", ""),
			    history_str(rec, "zone", history_str(rec,
			    "region", "-")), age,
			    history_live_count(rec), cmd_record_cost(rec));
			if ((det = wizard_detach_line(rec, NULL)) != NULL)
				printf("%-18s %s\n", "", det);
			free(det);
		}
	}
	cmd_print_damaged(damaged, "are not shown");
	json_decref(damaged);
	json_decref(list);
	return CMD_OK;
}

const struct cmd_entry cmd_history_entry = {
	.name = "history",
	.usage = "[--json]",
	.help = "list run sets: state, age, cost so far",
	.exec = cmd_history_exec,
};
