/* fanout status ID [--json]: one run set and its resources. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-cloud.h"
#include "cmd.h"
#include "util/xmalloc.h"
#include "history/history.h"
#include "wizard/wizard.h"

/* A detached run's progress and outcome, from the status object its head
 * keeps in the bucket: a line for the text, or "detached" for --json. */
static void
status_detached(json_t *rec, int json)
{
	json_t *status;
	char *text;

	if ((text = wizard_detach_line(rec, &status)) == NULL)
		return;
	if (json)
		json_object_set_new(rec, "detached", json_pack("{s:s, s:O?}",
		    "text", text, "status", status));
	else {
		printf("Run:     %s\n", text);
		if (wizard_detach_over(status))
			printf("         bring the results home with 'fanout "
			    "fetch %s'%s\n", history_str(rec, "id", ""),
			    strcmp(history_str(status, "state", ""),
			    "torn-down") == 0 ? " (it also removes the head's "
			    "security group and role, which the head cannot "
			    "delete itself)" : "");
	}
	free(text);
	json_decref(status);
}

static enum cmd_retval
cmd_status_exec(int argc, char **argv)
{
	json_t *rec, *res, *ssh;
	char *cause = NULL;
	size_t i;
	enum cmd_retval rv;
	int json = 0;

	if (cmd_json_option(&cmd_status_entry, argc, argv, &json, &rv) != 0)
		return rv;
	if (optind != argc - 1)
		return cmd_error(CMD_USAGE, "status: give one run-set id (see "
		    "fanout history)");
	cmd_refresh(argv[optind]);
	if ((rec = history_load(argv[optind], &cause)) == NULL) {
		cmd_error(CMD_USAGE, "%s", cause);
		free(cause);
		return CMD_USAGE;
	}
	status_detached(rec, json);
	if (json) {
		cmd_print_json(rec);
		json_decref(rec);
		return CMD_OK;
	}
	printf("Run set %s (%s, project %s)\n", history_str(rec, "id", ""),
	    history_str(rec, "kind", ""), history_str(rec, "project", ""));
	printf("State:   %s\nCreated: %s\n", history_str(rec, "state", ""),
	    history_str(rec, "created_at", ""));
	if (json_object_get(rec, "region") != NULL)
		printf("Where:   %s %s%s%s%s\n", history_str(rec, "provider",
		    ""), history_str(rec, "region", ""),
		    history_str(rec, "zone", NULL) != NULL ? " (zone " : "",
		    history_str(rec, "zone", ""),
		    history_str(rec, "zone", NULL) != NULL ? ")" : "");
	json_array_foreach(json_object_get(rec, "hosts"), i, ssh) {
		printf("%-8s %s@%s (%s%s%s)\n", strcmp(history_str(ssh, "role",
		    ""), "head") == 0 ? "Head:" : "Node:",
		    history_str(ssh, "user", ""), history_str(ssh, "host", "-"),
		    history_str(ssh, "name", ""), history_str(ssh, "private_ip",
		    NULL) != NULL ? ", private address " : "",
		    history_str(ssh, "private_ip", ""));
	}
	printf("Cost so far: about $%.4f\n", cmd_record_cost(rec));
	json_array_foreach(json_object_get(rec, "resources"), i, res) {
		printf("  %-15s %-26s %-22s %s\n", history_str(res, "kind", ""),
		    history_str(res, "name", ""), history_str(res, "id", "-"),
		    history_str(res, "state", ""));
	}
	json_decref(rec);
	return CMD_OK;
}

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.usage = "ID [--json]",
	.help = "show one run set and its resources",
	.exec = cmd_status_exec,
};
