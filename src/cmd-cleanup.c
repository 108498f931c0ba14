/* fanout cleanup ID | --all | --orphans [--yes] [--provider P]
 *        [--region R] [--json]
 * --orphans looks with every provider of the build that has credentials
 * set up (--provider P: that one only). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/provider.h"
#include "cmd-cloud.h"
#include "cmd.h"
#include "history/history.h"
#include "sink-text.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"
#include "wizard/wizard.h"

static int
cleanup_ask(int yes, const char *question)
{
	if (yes)
		return 1;
	if (!cmd_interactive()) {
		cmd_error(CMD_USAGE, "cleanup: say --yes to delete without a "
		    "question");
		return -1;
	}
	return cmd_confirm(question) ? 1 : 0;
}

static enum cmd_retval
cleanup_one(const char *id, struct sink *sink)
{
	char *cause = NULL;

	if (wizard_cleanup(id, sink, &cause) != 0) {
		cmd_error(CMD_FAILED, "%s", cause);
		free(cause);
		return CMD_FAILED;
	}
	return CMD_OK;
}

/* Whether provider p has region (a zoned provider: or a zone of one). */
static int
cleanup_has_region(const struct provider *p, const char *region)
{
	char *r = p->zoned && p->zone_of != NULL ? p->zone_of(region) : NULL;
	const char *want = r != NULL ? r : region;
	size_t i;
	int found = 0;

	for (i = 0; p->regions != NULL && p->regions[i] != NULL; i++) {
		if (strcmp(p->regions[i], want) == 0)
			found = 1;
	}
	free(r);
	return found;
}

/* Bad input to the orphan search, before anything is asked: a provider
 * not in the build, a region that is not the provider's (or no
 * provider's). NULL, or the one-line cause. */
static char *
cleanup_orphans_check(const char *provider, const char *region)
{
	const struct provider *p, *asked = NULL;
	struct strbuf sb;
	char *cause = NULL, *why = NULL, *def;
	size_t i, j;

	strbuf_init(&sb);
	for (i = 0; (p = provider_at(i)) != NULL; i++) {
		if (provider != NULL && strcmp(p->name, provider) == 0)
			asked = p;
		strbuf_addf(&sb, "%s%s", i > 0 ? ", " : "", p->name);
	}
	if (provider != NULL && asked == NULL) {
		xasprintf(&cause, "cleanup: --provider: no provider '%s' in "
		    "this build; providers: %s", provider, sb.buf);
		strbuf_free(&sb);
		return cause;
	}
	strbuf_free(&sb);
	if (region == NULL)
		return NULL;
	if (asked != NULL) {
		if (cleanup_has_region(asked, region))
			return NULL;
		def = asked->config_region != NULL ?
		    asked->config_region(&why) : NULL;
		free(why);
		xasprintf(&cause, "cleanup: --region: '%s' is not a region of "
		    "provider %s; give one of its regions (such as %s) or "
		    "leave --region out", region, asked->name, def != NULL ?
		    def : asked->regions != NULL && asked->regions[0] != NULL ?
		    asked->regions[0] : "?");
		free(def);
		return cause;
	}
	strbuf_init(&sb);
	for (i = 0; (p = provider_at(i)) != NULL; i++) {
		if (cleanup_has_region(p, region)) {
			strbuf_free(&sb);
			return NULL;
		}
		strbuf_addf(&sb, "%s%s:", i > 0 ? "; " : "", p->name);
		for (j = 0; p->regions != NULL && p->regions[j] != NULL &&
		    j < 3; j++)
			strbuf_addf(&sb, "%s %s", j > 0 ? "," : "",
			    p->regions[j]);
		if (p->regions != NULL && j == 3 && p->regions[j] != NULL)
			strbuf_addf(&sb, ", ...");
	}
	xasprintf(&cause, "cleanup: --region: '%s' is no region of a provider "
	    "in this build (%s)", region, sb.buf);
	strbuf_free(&sb);
	return cause;
}

static enum cmd_retval
cleanup_orphans(int yes, const char *provider, const char *region,
    int json, struct sink *sink)
{
	char *cause = NULL;
	json_t *orphans, *o;
	size_t i;
	int a;

	if ((cause = cleanup_orphans_check(provider, region)) != NULL) {
		cmd_error(CMD_USAGE, "%s", cause);
		free(cause);
		return CMD_USAGE;
	}
	if ((orphans = wizard_orphans_in(provider, region, sink, &cause)) ==
	    NULL) {
		cmd_error(CMD_FAILED, "%s", cause);
		free(cause);
		return CMD_FAILED;
	}
	if (json)
		cmd_print_json(orphans);
	else if (json_array_size(orphans) == 0)
		printf("No orphans: every fanout resource belongs to a live "
		    "run set.\n");
	else {
		json_array_foreach(orphans, i, o)
			printf("%-15s %-24s %-4s %-14s run set %s\n",
			    history_str(o, "kind", ""), history_str(o, "id", ""),
			    history_str(o, "provider", ""),
			    history_str(o, "zone", history_str(o, "region",
			    "")), history_str(o, "run_set", "?"));
	}
	if (json_array_size(orphans) == 0) {
		json_decref(orphans);
		return CMD_OK;
	}
	if ((a = cleanup_ask(yes, "Delete these?")) <= 0) {
		json_decref(orphans);
		return a < 0 ? CMD_USAGE : CMD_OK;
	}
	if (wizard_cleanup_orphans(orphans, sink, &cause) != 0) {
		cmd_error(CMD_FAILED, "%s", cause);
		free(cause);
		json_decref(orphans);
		return CMD_FAILED;
	}
	json_decref(orphans);
	return CMD_OK;
}

static enum cmd_retval
cleanup_all(int yes, struct sink *sink)
{
	json_t *list, *rec, *ids = json_array(), *v, *damaged;
	char *cause = NULL;
	size_t i, broken;
	enum cmd_retval rc = CMD_OK;
	int a;

	if ((list = history_scan(&damaged, &cause)) == NULL) {
		json_decref(damaged);
		cmd_error(CMD_FAILED, "%s", cause);
		free(cause);
		json_decref(ids);
		return CMD_FAILED;
	}
	json_array_foreach(list, i, rec) {
		if (strcmp(history_str(rec, "kind", ""), "cloud") == 0 &&
		    strcmp(history_str(rec, "state", ""), "deleted") != 0) {
			json_array_append_new(ids, json_string(history_str(rec,
			    "id", "")));
			fprintf(stderr, "  %s (%s, %s)\n",
			    history_str(rec, "id", ""),
			    history_str(rec, "project", ""),
			    history_str(rec, "state", ""));
		}
	}
	json_decref(list);
	/* What cannot be read cannot be cleaned up: say so, and fail. */
	cmd_print_damaged(damaged, "are left alone");
	broken = json_array_size(damaged);
	json_decref(damaged);
	if (json_array_size(ids) == 0) {
		printf("No live run sets.\n");
		json_decref(ids);
		goto out;
	}
	if ((a = cleanup_ask(yes, "Delete all these run sets?")) <= 0) {
		json_decref(ids);
		return a < 0 ? CMD_USAGE : CMD_OK;
	}
	json_array_foreach(ids, i, v) {
		if (cleanup_one(json_string_value(v), sink) != CMD_OK)
			rc = CMD_FAILED;
	}
	json_decref(ids);
out:
	if (broken > 0)
		rc = cmd_error(CMD_FAILED, "%zu history record(s) could not be "
		    "read: their run sets were not cleaned up (move the files "
		    "aside or restore them, then run cleanup again)", broken);
	return rc;
}

static enum cmd_retval
cmd_cleanup_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "orphans", no_argument, NULL, 'o' },
		{ "yes", no_argument, NULL, 'y' },
		{ "region", required_argument, NULL, 'r' },
		{ "provider", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct sink sink;
	struct sink_text st;
	const char *region = NULL, *provider = NULL;
	char *cause = NULL, *q;
	json_t *rec;
	int c, all = 0, orphans = 0, yes = 0, json = 0, a;
	enum cmd_retval rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = 1;
			break;
		case 'o':
			orphans = 1;
			break;
		case 'y':
			yes = 1;
			break;
		case 'r':
			region = optarg;
			break;
		case 'p':
			provider = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			printf("usage: fanout cleanup %s\n",
			    cmd_cleanup_entry.usage);
			return CMD_OK;
		default:
			return cmd_error(CMD_USAGE, "cleanup: unknown or "
			    "incomplete option '%s' (usage: fanout cleanup "
			    "%s)", argv[optind - 1], cmd_cleanup_entry.usage);
		}
	}
	if (all + orphans + (optind < argc) != 1 || optind < argc - 1)
		return cmd_error(CMD_USAGE, "cleanup: say one of: a run-set id, "
		    "--all, --orphans (usage: fanout cleanup %s)",
		    cmd_cleanup_entry.usage);
	if (provider != NULL && !orphans)
		return cmd_error(CMD_USAGE, "cleanup: --provider goes with "
		    "--orphans (a run set's record names its provider)");
	sink_text_init(&sink, &st, stderr, json);
	if (orphans)
		rc = cleanup_orphans(yes, provider, region, json, &sink);
	else if (all)
		rc = cleanup_all(yes, &sink);
	else if ((rec = history_load(argv[optind], &cause)) == NULL ||
	    wizard_cloud_record(rec, NULL, &cause) != 0) {
		json_decref(rec);
		rc = cmd_error(CMD_USAGE, "%s", cause);
		free(cause);
	} else {
		json_decref(rec);
		q = NULL;
		if (asprintf(&q, "Delete run set %s and everything in it?",
		    argv[optind]) < 0)
			q = NULL;
		a = cleanup_ask(yes, q != NULL ? q : "Delete it?");
		free(q);
		if (a < 0)
			rc = CMD_USAGE;
		else if (a == 0)
			rc = CMD_OK;
		else
			rc = cleanup_one(argv[optind], &sink);
	}
	sink_text_end(&sink);
	return rc;
}

const struct cmd_entry cmd_cleanup_entry = {
	.name = "cleanup",
	.usage = "ID | --all | --orphans [--yes] [--provider P] [--region R] "
	    "[--json]",
	.help = "delete a run set's cloud resources (or all, or orphans)",
	.exec = cmd_cleanup_exec,
};
