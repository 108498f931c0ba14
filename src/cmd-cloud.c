/* Helpers of the cloud commands (cmd-cloud.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd-cloud.h"
#include "cmd.h"
#include "history/history.h"
#include "util/fs.h"
#include "wizard/wizard.h"

int
cmd_interactive(void)
{
	return isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
}

int
cmd_confirm(const char *question)
{
	char line[64];

	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (fgets(line, sizeof line, stdin) == NULL)
		return 0;
	return line[0] == 'y' || line[0] == 'Y';
}

void
cmd_print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(10));

	printf("%s\n", s != NULL ? s : "null");
	free(s);
}

static double
cmd_time(json_t *o, const char *key, double def)
{
	double t = history_parse_timestamp(history_str(o, key, NULL));

	return t < 0 ? def : t;
}

/* One resource's cost from start to end: at its running price, and
 * (a machine) at its stopped price while its "power" notes say it was
 * stopped (a record without a stopped price: the running one). */
static double
cmd_resource_cost(json_t *res, double start, double end)
{
	double hourly = json_number_value(json_object_get(res, "hourly_usd"));
	double stopped = hourly, price = hourly, t = start, at, sum = 0;
	const char *state;
	json_t *p;
	size_t i;

	if (json_is_number(json_object_get(res, "stopped_hourly_usd")))
		stopped = json_number_value(json_object_get(res,
		    "stopped_hourly_usd"));
	json_array_foreach(json_object_get(res, "power"), i, p) {
		state = history_str(p, "state", NULL);
		if (state == NULL || (at = cmd_time(p, "at", -1)) < 0)
			continue;
		if (at > end)
			at = end;
		if (at > t) {
			sum += price * (at - t) / 3600;
			t = at;
		}
		price = strcmp(state, "stopped") == 0 ? stopped : hourly;
	}
	if (end > t)
		sum += price * (end - t) / 3600;
	return sum;
}

double
cmd_record_cost(json_t *rec)
{
	double now = time_now(), sum = 0, start, end;
	json_t *res;
	size_t i;

	json_array_foreach(json_object_get(rec, "resources"), i, res) {
		if (!json_is_number(json_object_get(res, "hourly_usd")))
			continue;
		start = cmd_time(res, "created_at", now);
		end = cmd_time(res, "deleted_at", cmd_time(rec, "deleted_at",
		    now));
		if (end > start)
			sum += cmd_resource_cost(res, start, end);
	}
	return sum;
}

void
cmd_refresh(const char *id)
{
	char *note = NULL;

	if (wizard_refresh(id, &note) != 0 && note != NULL)
		fprintf(stderr, "fanout: note: %s\n", note);
	free(note);
}

double
cmd_record_age(json_t *rec)
{
	double now = time_now();

	return now - cmd_time(rec, "created_at", now);
}

void
cmd_print_damaged(json_t *damaged, const char *what)
{
	json_t *v;
	size_t i;

	if (json_array_size(damaged) == 0)
		return;
	fprintf(stderr, "fanout: warning: %zu history record(s) could not be "
	    "read and %s:\n", json_array_size(damaged), what);
	json_array_foreach(damaged, i, v)
		fprintf(stderr, "  %s\n", json_string_value(v));
}

void
cmd_print_last_run(const char *id)
{
	json_t *rec, *runs, *last;
	const char *dir;
	char *cause = NULL, *path, *text;

	if ((rec = history_load(id, &cause)) == NULL) {
		free(cause);
		return;
	}
	runs = json_object_get(rec, "runs");
	last = json_array_get(runs, json_array_size(runs) - 1);
	dir = history_str(last, "results", NULL);
	if (dir != NULL) {
		path = fs_join(dir, "performance.txt");
		if ((text = fs_read_file(path, NULL, &cause)) != NULL)
			fprintf(stderr, "\n%s\n", text);
		free(cause);
		free(text);
		free(path);
		fprintf(stderr, "Results: %s\n", dir);
	}
	json_decref(rec);
}

int
cmd_json_option(const struct cmd_entry *e, int argc, char **argv, int *json,
    enum cmd_retval *rv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = 1;
			break;
		case 'h':
			printf("usage: fanout %s %s\n", e->name, e->usage);
			*rv = CMD_OK;
			return 1;
		default:
			*rv = cmd_error(CMD_USAGE, "%s: unknown option '%s' "
			    "(usage: fanout %s %s)", e->name, argv[optind - 1],
			    e->name, e->usage);
			return 1;
		}
	}
	return 0;
}
