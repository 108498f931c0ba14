/* fanout: argv to one command (tmux's cmd_entry table), or the TUI. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "run/gantt.h"
#include "tui/tui.h"
#include "wizard/wizard.h"

static const struct cmd_entry *cmd_table[] = {
	&cmd_run_entry,
	&cmd_create_entry,
	&cmd_history_entry,
	&cmd_status_entry,
	&cmd_resume_entry,
	&cmd_cleanup_entry,
	&cmd_logs_entry,
	&cmd_fetch_entry,
	&cmd_ssh_entry,
	NULL
};

enum cmd_retval
cmd_error(enum cmd_retval rv, const char *fmt, ...)
{
	va_list ap;

	fputs("fanout: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return rv;
}

int
cmd_parse_count(const char *name, const char *value, long min, long max,
    long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value != NULL ? value : "", &end, 10);
	if (value == NULL || *value == '\0' || *end != '\0' || errno != 0 ||
	    v < min || v > max) {
		cmd_error(CMD_USAGE, "%s must be a whole number from %ld to "
		    "%ld, not '%s'", name, min, max, value ? value : "");
		return -1;
	}
	*out = v;
	return 0;
}

static void
usage(FILE *f)
{
	const struct cmd_entry **e;

	fprintf(f, "usage: fanout                 open the menu\n");
	for (e = cmd_table; *e != NULL; e++)
		fprintf(f, "       fanout %s %s\n", (*e)->name, (*e)->usage);
	fprintf(f, "\n");
	for (e = cmd_table; *e != NULL; e++)
		fprintf(f, "  %-10s %s\n", (*e)->name, (*e)->help);
}

int
main(int argc, char **argv)
{
	const struct cmd_entry **e;

	atexit(gantt_release);
	aws_flows_register();
	if (argc < 2)
		return tui_main();
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CMD_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("fanout %s\n", PACKAGE_VERSION);
		return CMD_OK;
	}
	for (e = cmd_table; *e != NULL; e++) {
		if (strcmp((*e)->name, argv[1]) == 0)
			return (*e)->exec(argc - 1, argv + 1);
	}
	cmd_error(CMD_USAGE, "unknown command '%s' (see fanout --help)",
	    argv[1]);
	return CMD_USAGE;
}
