/* fanout create PROJECT [--answers FILE] [--yes] [--provider aws]
 *        [--region R] [--engine bastion|kubernetes] [--nodes N]
 *        [--files N] [--cleanup-after] [--no-run] [--ssh-anywhere]
 *        [--instance-type T] [--name NAME] [--json] */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cloud/provider.h"
#include "cmd-cloud.h"
#include "cmd.h"
#include "run/local.h"
#include "run/project.h"
#include "sink-text.h"
#include "util/xmalloc.h"
#include "wizard/wizard.h"

/* Keys an answers file may hold, and their types. */
static const struct {
	const char	*key;
	char		 type;	/* s string, i count, b boolean */
	long		 min, max;
} create_keys[] = {
	{ "project", 's', 0, 0 }, { "name", 's', 0, 0 },
	{ "provider", 's', 0, 0 }, { "region", 's', 0, 0 },
	{ "engine", 's', 0, 0 }, { "instance_type", 's', 0, 0 },
	{ "nodes", 'i', 1, 100 }, { "files", 'i', 0, 1000000000 },
	{ "cleanup_after", 'b', 0, 0 }, { "ssh_anywhere", 'b', 0, 0 },
	{ "run", 'b', 0, 0 },
	{ NULL, 0, 0, 0 }
};

/* Sets answers[key] from text, typed; prints the error, -1 on bad. */
static int
create_set(json_t *answers, const char *key, const char *value,
    const char *where)
{
	char name[80];
	long v;
	size_t i;

	for (i = 0; create_keys[i].key != NULL; i++) {
		if (strcmp(create_keys[i].key, key) == 0)
			break;
	}
	if (create_keys[i].key == NULL) {
		cmd_error(CMD_USAGE, "%s: unknown key '%s'", where, key);
		return -1;
	}
	switch (create_keys[i].type) {
	case 'i':
		if (strncmp(where, "--", 2) == 0)
			snprintf(name, sizeof name, "%s", where);
		else
			snprintf(name, sizeof name, "%s: %s", where, key);
		if (cmd_parse_count(name, value, create_keys[i].min,
		    create_keys[i].max, &v) != 0)
			return -1;
		json_object_set_new(answers, key, json_integer(v));
		break;
	case 'b':
		if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0)
			json_object_set_new(answers, key, json_true());
		else if (strcmp(value, "false") == 0 ||
		    strcmp(value, "no") == 0)
			json_object_set_new(answers, key, json_false());
		else {
			cmd_error(CMD_USAGE, "%s: %s must be true or false, "
			    "not '%s'", where, key, value);
			return -1;
		}
		break;
	default:
		json_object_set_new(answers, key, json_string(value));
		break;
	}
	return 0;
}

/* Reads a flat YAML map of answers into answers; -1 on error (printed). */
static int
create_read_answers(const char *path, json_t *answers)
{
	yaml_parser_t p;
	yaml_event_t ev;
	FILE *f;
	char *key = NULL, where[4096];
	int depth = 0, rc = -1, done = 0;

	if ((f = fopen(path, "r")) == NULL) {
		cmd_error(CMD_USAGE, "cannot read answers file %s", path);
		return -1;
	}
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			cmd_error(CMD_USAGE, "%s:%zu:%zu: %s", path,
			    p.problem_mark.line + 1, p.problem_mark.column + 1,
			    p.problem != NULL ? p.problem : "bad YAML");
			goto out;
		}
		switch (ev.type) {
		case YAML_MAPPING_START_EVENT:
			if (++depth > 1) {
				cmd_error(CMD_USAGE, "%s:%zu: answers are a "
				    "flat map of key: value", path,
				    ev.start_mark.line + 1);
				yaml_event_delete(&ev);
				goto out;
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
			cmd_error(CMD_USAGE, "%s:%zu: answers are a flat map "
			    "of key: value", path, ev.start_mark.line + 1);
			yaml_event_delete(&ev);
			goto out;
		case YAML_SCALAR_EVENT:
			if (depth != 1) {
				cmd_error(CMD_USAGE, "%s: answers are a map of "
				    "key: value", path);
				yaml_event_delete(&ev);
				goto out;
			}
			if (key == NULL)
				key = xstrdup((char *)ev.data.scalar.value);
			else {
				snprintf(where, sizeof where, "%s:%zu", path,
				    ev.start_mark.line + 1);
				if (create_set(answers, key,
				    (char *)ev.data.scalar.value, where) != 0) {
					yaml_event_delete(&ev);
					goto out;
				}
				free(key);
				key = NULL;
			}
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	rc = 0;
out:
	free(key);
	yaml_parser_delete(&p);
	fclose(f);
	return rc;
}

static void
create_show_plan(json_t *plan)
{
	json_t *r;
	size_t i;

	fprintf(stderr, "Account: %s\nRegion:  %s\nSSH from: %s\n",
	    json_string_value(json_object_get(plan, "identity")),
	    json_string_value(json_object_get(plan, "region")),
	    json_is_string(json_object_get(plan, "ssh_from")) ?
	    json_string_value(json_object_get(plan, "ssh_from")) :
	    "unknown");
	fprintf(stderr, "Will create:\n");
	json_array_foreach(json_object_get(plan, "resources"), i, r) {
		fprintf(stderr, "  %-16s %s ($%.4f/h)\n",
		    json_string_value(json_object_get(r, "name")),
		    json_string_value(json_object_get(r, "detail")),
		    json_number_value(json_object_get(r, "hourly_usd")));
	}
	fprintf(stderr, "About $%.4f per hour (%s)\n",
	    json_number_value(json_object_get(plan, "hourly_usd")),
	    json_string_value(json_object_get(plan, "prices")));
}

static enum cmd_retval
cmd_create_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "answers", required_argument, NULL, 'a' },
		{ "yes", no_argument, NULL, 'y' },
		{ "provider", required_argument, NULL, 'p' },
		{ "region", required_argument, NULL, 'r' },
		{ "engine", required_argument, NULL, 'e' },
		{ "nodes", required_argument, NULL, 'n' },
		{ "files", required_argument, NULL, 'f' },
		{ "instance-type", required_argument, NULL, 't' },
		{ "name", required_argument, NULL, 'N' },
		{ "cleanup-after", no_argument, NULL, 'c' },
		{ "ssh-anywhere", no_argument, NULL, 's' },
		{ "no-run", no_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	json_t *answers = json_object(), *flags = json_object(), *plan, *v;
	const struct provider *prov;
	struct project pr;
	struct local_result lr;
	struct sink sink;
	struct sink_text st;
	char *cause = NULL, *id = NULL;
	const char *key, *answers_file = NULL;
	int c, yes = 0, json = 0, rc;
	void *s;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		rc = 0;
		switch (c) {
		case 'a':
			answers_file = optarg;
			break;
		case 'y':
			yes = 1;
			break;
		case 'p':
			rc = create_set(flags, "provider", optarg, "--provider");
			break;
		case 'r':
			rc = create_set(flags, "region", optarg, "--region");
			break;
		case 'e':
			rc = create_set(flags, "engine", optarg, "--engine");
			break;
		case 'n':
			rc = create_set(flags, "nodes", optarg, "--nodes");
			break;
		case 'f':
			rc = create_set(flags, "files", optarg, "--files");
			break;
		case 't':
			rc = create_set(flags, "instance_type", optarg,
			    "--instance-type");
			break;
		case 'N':
			rc = create_set(flags, "name", optarg, "--name");
			break;
		case 'c':
			json_object_set_new(flags, "cleanup_after", json_true());
			break;
		case 's':
			json_object_set_new(flags, "ssh_anywhere", json_true());
			break;
		case 'R':
			json_object_set_new(flags, "run", json_false());
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			printf("usage: fanout create %s\n",
			    cmd_create_entry.usage);
			rc = 1;
			break;
		default:
			cmd_error(CMD_USAGE, "create: unknown or incomplete "
			    "option '%s' (usage: fanout create %s)",
			    argv[optind - 1], cmd_create_entry.usage);
			rc = -1;
			break;
		}
		if (rc != 0) {
			json_decref(answers);
			json_decref(flags);
			return rc > 0 ? CMD_OK : CMD_USAGE;
		}
	}
	rc = CMD_USAGE;
	if (!yes && !cmd_interactive()) {
		cmd_error(CMD_USAGE, "create: say --yes to create without a "
		    "question (no terminal to ask on)");
		goto out;
	}
	if (answers_file != NULL &&
	    create_read_answers(answers_file, answers) != 0)
		goto out;
	json_object_foreach(flags, key, v)
		json_object_set(answers, key, v);
	if (optind == argc - 1)
		json_object_set_new(answers, "project",
		    json_string(argv[optind]));
	else if (optind != argc || json_object_get(answers, "project") ==
	    NULL) {
		cmd_error(CMD_USAGE, "create: give one project folder (usage: "
		    "fanout create %s)", cmd_create_entry.usage);
		goto out;
	}
	if (json_object_get(answers, "provider") == NULL)
		json_object_set_new(answers, "provider", json_string("aws"));
	if (json_object_get(answers, "engine") == NULL)
		json_object_set_new(answers, "engine", json_string("bastion"));
	memset(&pr, 0, sizeof pr);
	if (wizard_check(answers, &pr, &cause) != 0) {
		cmd_error(CMD_USAGE, "%s", cause);
		goto out;
	}
	project_free(&pr);
	prov = provider_find(json_string_value(json_object_get(answers,
	    "provider")));
	if ((s = prov->open(json_string_value(json_object_get(answers,
	    "region")), &cause)) == NULL) {
		cmd_error(CMD_USAGE, "%s", cause);
		goto out;
	}
	prov->close(s);

	rc = CMD_FAILED;
	if ((plan = wizard_plan(answers, &cause)) == NULL) {
		cmd_error(CMD_FAILED, "%s", cause);
		goto out;
	}
	create_show_plan(plan);
	if (!json_is_string(json_object_get(plan, "ssh_from")) &&
	    !json_is_true(json_object_get(answers, "ssh_anywhere"))) {
		fprintf(stderr, "%s\n", json_string_value(json_object_get(plan,
		    "ssh_from_error")));
		if (yes || !cmd_interactive() || !cmd_confirm("Open SSH (port "
		    "22) to every address, 0.0.0.0/0, instead?")) {
			json_decref(plan);
			cmd_error(CMD_FAILED, "create: refusing to open SSH "
			    "wider than your address without "
			    "--ssh-anywhere; nothing was created");
			goto out;
		}
		json_object_set_new(answers, "ssh_anywhere", json_true());
	}
	json_decref(plan);
	if (!yes && !cmd_confirm("Create these?")) {
		fprintf(stderr, "Nothing was created.\n");
		rc = CMD_OK;
		goto out;
	}
	sink_text_init(&sink, &st, stderr, json);
	rc = wizard_create(answers, &sink, &id, &lr, &cause) == 0 ? CMD_OK :
	    CMD_FAILED;
	sink_text_end(&sink);
	if (rc != CMD_OK)
		cmd_error(CMD_FAILED, "%s", cause);
	if (!json && id != NULL)
		cmd_print_last_run(id);
	if (rc == CMD_OK)
		rc = cmd_run_outcome(&lr);	/* tasks that failed: 1 */
	local_result_free(&lr);
	if (json) {
		v = json_pack("{s:s?, s:b}", "id", id, "ok", rc == CMD_OK);
		cmd_print_json(v);
		json_decref(v);
	} else if (id != NULL)
		printf("%s\n", id);
out:
	free(cause);
	free(id);
	json_decref(answers);
	json_decref(flags);
	return rc;
}

const struct cmd_entry cmd_create_entry = {
	.name = "create",
	.usage = "PROJECT [--answers FILE] [--yes] [--provider aws] "
	    "[--region R] [--engine bastion|kubernetes] [--nodes N] "
	    "[--files N] [--cleanup-after] [--no-run] [--ssh-anywhere] "
	    "[--instance-type T] [--name NAME] [--json]",
	.help = "make a run set in the cloud and run the project on it",
	.exec = cmd_create_exec,
};
