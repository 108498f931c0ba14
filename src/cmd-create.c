/* fanout create PROJECT [--answers FILE] [--yes] [--provider aws|gcp]
 *        [--region R] [--zone Z] [--engine E] [--nodes N] [--files N]
 *        [--cleanup-after | --keep] [--no-run] [--ssh-anywhere]
 *        [--instance-type T] [--head-instance-type T] [--cpus N]
 *        [--memory GIB] [--spot] [--name NAME] [--idle-stop MIN]
 *        [--detach] [--json]
 * The options and the answers file answer the questions of
 * menus/create.yaml and go through its checks (src/wizard/answers.c), as
 * the form's answers do: the same rules, defaults and messages. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/provider.h"
#include "cmd-cloud.h"
#include "cmd.h"
#include "flows.h"
#include "history/history.h"
#include "run/local.h"
#include "run/pool.h"
#include "run/project.h"
#include "sink-text.h"
#include "util/xmalloc.h"
#include "wizard/questions.h"
#include "wizard/wizard.h"

/* The options that answer a question of menus/create.yaml, and the text
 * they answer with (NULL: the option's argument). */
static const struct {
	const char	*option;
	const char	*key;
	const char	*text;
} create_answers[] = {
	{ "provider", "provider", NULL },
	{ "region", "region", NULL },
	{ "zone", "zone", NULL },
	{ "engine", "engine", NULL },
	{ "nodes", "nodes", NULL },
	{ "instance-type", "instance_type", NULL },
	{ "head-instance-type", "head_instance_type", NULL },
	{ "cpus", "cpus", NULL },
	{ "memory", "memory", NULL },
	{ "spot", "spot", "yes" },
	{ "files", "files", NULL },
	{ "name", "name", NULL },
	{ "cleanup-after", "cleanup_after", "yes" },
	{ "keep", "cleanup_after", "no" },
	{ "idle-stop", "idle_stop", NULL },
};

/* The providers of this build for --help: each with some of its
 * regions and the region its settings name now (or where it looked). */
static void
create_help_providers(void)
{
	const struct provider *p;
	char *region, *why = NULL;
	size_t i, j;

	for (i = 0; (p = provider_at(i)) != NULL; i++)
		printf("%s%s", i > 0 ? ", " : "", p->name);
	printf("\n  --region R         the provider's region; of a provider "
	    "with zones, a zone\n"
	    "                     too (its region, and --zone)\n");
	for (i = 0; (p = provider_at(i)) != NULL; i++) {
		printf("                     %s: ", p->name);
		for (j = 0; p->regions != NULL && p->regions[j] != NULL &&
		    j < 3; j++)
			printf("%s, ", p->regions[j]);
		printf("...; ");
		region = p->config_region != NULL ? p->config_region(&why) :
		    NULL;
		printf("default %s\n", region != NULL ? region :
		    "none set now");
		free(region);
		free(why);
		why = NULL;
	}
	printf("  --zone Z           the zone the machines go into\n"
	    "                     (providers with zones:");
	for (i = j = 0; (p = provider_at(i)) != NULL; i++) {
		if (p->zoned && ++j)
			printf(" %s", p->name);
	}
	if (j == 0)
		printf(" none in this build");
	printf("; default: one of the\n"
	    "                     region's zones, picked by fanout)\n");
}

/* fanout create --help: the usage, then what each option does, the
 * defaults taken from the menu. */
static void
create_help(void)
{
	const struct provider *p;
	struct menu *mu;
	char *cause = NULL, **engines, **nodes, *def, *idle;
	size_t i, n;

	printf("usage: fanout create %s\n\n", cmd_create_entry.usage);
	if ((mu = menu_load("create", &cause)) == NULL) {
		printf("(%s)\n", cause);
		free(cause);
		return;
	}
	engines = menu_list("engines", NULL, &cause);
	nodes = menu_list("engine.nodes", NULL, &cause);
	def = question_default(menu_question(mu, "cleanup_after"), NULL);
	idle = question_default(menu_question(mu, "idle_stop"), NULL);
	printf("Answers the questions of the menu's create form (same keys, "
	    "checks and\nmessages): from the options, else from --answers "
	    "FILE, else the defaults.\n"
	    "  --provider P       cloud provider (default aws); in this "
	    "build: ");
	create_help_providers();
	printf("  --engine E         where tasks run; engines in this build: ");
	for (i = 0; engines != NULL && engines[i] != NULL; i++)
		printf("%s%s", i > 0 ? ", " : "", engines[i]);
	printf("\n  --nodes N          machines that run tasks (engines with "
	    "nodes: ");
	for (i = 0; nodes != NULL && nodes[i] != NULL; i++)
		printf("%s%s", i > 0 ? ", " : "", nodes[i]);
	printf("%s)\n", nodes == NULL || nodes[0] == NULL ? "none" : "");
	printf(
	    "  --files N          run the first N inputs only (default 0: "
	    "all)\n"
	    "  --name NAME        project name for the tags (default: "
	    "fanout.yaml's name)\n"
	    "  --cleanup-after    tear everything down once the results are "
	    "home%s\n"
	    "  --keep             keep the run set, its bastion stopped, for "
	    "'fanout resume'%s\n"
	    "  --no-run           make the run set without running; keeps it "
	    "unless\n"
	    "                     --cleanup-after\n"
	    "  --instance-type T  the machines that run tasks (the VM, or "
	    "each node)\n"
	    "  --head-instance-type T\n"
	    "                     the cluster's head (engines with nodes)\n"
	    "  --cpus N, --memory GIB\n"
	    "                     what each machine that runs tasks must "
	    "have; with no\n"
	    "                     instance type, the cheapest type that fits "
	    "is picked\n"
	    "  --spot             spot capacity for the machines that run "
	    "tasks\n"
	    "  --idle-stop MIN    a kept machine stops itself after MIN idle "
	    "minutes\n"
	    "                     (no task, no SSH session; default %s, 0 "
	    "never)\n"
	    "  --ssh-anywhere     open SSH to 0.0.0.0/0 when your address is "
	    "unknown\n"
	    "  --detach           return once the run has started; the head "
	    "writes the\n"
	    "                     results to fanout.yaml's results: bucket, "
	    "then tears\n"
	    "                     the run set down (--keep: stops it); see "
	    "'fanout status ID',\n"
	    "                     'fanout fetch ID'\n",
	    def != NULL && strcmp(def, "yes") == 0 ? " (the default)" : "",
	    def != NULL && strcmp(def, "no") == 0 ? " (the default)" : "",
	    idle != NULL ? idle : "none");
	printf("                     (providers that detach:");
	for (i = 0, n = 0; (p = provider_at(i)) != NULL; i++) {
		if (p->detach && ++n)
			printf(" %s", p->name);
	}
	printf("%s)\n", n == 0 ? " none in this build" : "");
	printf("  --yes              create without asking; --json: the id as "
	    "JSON\n");
	question_alts_free(engines);
	question_alts_free(nodes);
	free(def);
	free(idle);
	free(cause);
	menu_free(mu);
}

/* A zone given as the region, for a provider with zones ("--region
 * us-central1-b"): the region becomes its region and the zone that zone,
 * unless a zone given too says otherwise. 0, or -1 with a cause. */
static int
create_region_zone(const struct menu *mu, json_t *given, char **cause)
{
	const struct question *q = menu_question(mu, "provider");
	json_t *g = json_object_get(given, "region"), *z;
	const struct provider *p;
	const char *name, *text, *where, *zone;
	char *def = NULL, *region;
	int rc = 0;

	if ((name = json_string_value(json_object_get(json_object_get(given,
	    "provider"), "text"))) == NULL && q != NULL)
		name = def = question_default(q, NULL);
	p = provider_find(name);
	free(def);
	text = json_string_value(json_object_get(g, "text"));
	if (p == NULL || !p->zoned || p->zone_of == NULL || text == NULL ||
	    (region = p->zone_of(text)) == NULL)
		return 0;
	where = json_string_value(json_object_get(g, "where"));
	z = json_object_get(given, "zone");
	zone = json_string_value(json_object_get(z, "text"));
	if (zone != NULL && strcmp(zone, text) != 0) {
		xasprintf(cause, "create: %s names zone %s and %s zone %s; "
		    "give one zone", where, text, json_string_value(
		    json_object_get(z, "where")), zone);
		rc = -1;
	} else {
		if (zone == NULL)
			json_object_set_new(given, "zone", json_pack(
			    "{s:s, s:s}", "text", text, "where", where));
		json_object_set_new(given, "region", json_pack("{s:s, s:s}",
		    "text", region, "where", where));
	}
	free(region);
	return rc;
}

/* The answers given by the options (flags) and the --answers file, checked
 * by the menu's rules; NULL after printing the error. */
static json_t *
create_answers_of(json_t *flags, const char *file, const char *project,
    int no_run)
{
	struct menu *mu;
	json_t *given = json_object(), *answers = NULL;
	char *cause = NULL;

	if ((mu = menu_load("create", &cause)) == NULL) {
		cmd_error(CMD_FAILED, "%s", cause);
		free(cause);
		json_decref(given);
		return NULL;
	}
	if (file != NULL && menu_given_file(mu, file, given, &cause) != 0)
		goto out;
	json_object_update(given, flags);
	if (project != NULL && menu_given_set(mu, given, "project", project,
	    "PROJECT", &cause) != 0)
		goto out;
	if (json_object_get(given, "project") == NULL) {
		xasprintf(&cause, "create: give one project folder (usage: "
		    "fanout create %s)", cmd_create_entry.usage);
		goto out;
	}
	/* A run set made to run later is kept unless told otherwise. */
	if (no_run && json_object_get(given, "cleanup_after") == NULL &&
	    menu_given_set(mu, given, "cleanup_after", "no", "--no-run",
	    &cause) != 0)
		goto out;
	if (create_region_zone(mu, given, &cause) != 0)
		goto out;
	answers = menu_answers(mu, given, &cause);
out:
	if (answers == NULL)
		cmd_error(CMD_USAGE, "%s", cause);
	free(cause);
	json_decref(given);
	menu_free(mu);
	return answers;
}

static void
create_show_plan(json_t *plan, json_t *answers)
{
	json_t *r;
	char *name;
	double hourly;
	long long count;
	size_t i;

	fprintf(stderr, "Account: %s\nRegion:  %s\nSSH from: %s\n",
	    json_string_value(json_object_get(plan, "identity")),
	    json_string_value(json_object_get(plan, "region")),
	    json_is_string(json_object_get(plan, "ssh_from")) ?
	    json_string_value(json_object_get(plan, "ssh_from")) :
	    "unknown");
	if (json_is_string(json_object_get(plan, "machine")))
		fprintf(stderr, "Machines: %s\n", json_string_value(
		    json_object_get(plan, "machine")));
	fprintf(stderr, "Will create:\n");
	json_array_foreach(json_object_get(plan, "resources"), i, r) {
		/* A line of several alike ("count": a cluster's nodes) says
		 * how many; its price is the line's. */
		count = json_integer_value(json_object_get(r, "count"));
		name = count > 1 ? xprintf("%lld x %s", count,
		    history_str(r, "name", "")) :
		    xstrdup(history_str(r, "name", ""));
		hourly = json_number_value(json_object_get(r, "hourly_usd"));
		if (count > 1)
			fprintf(stderr, "  %-16s %s ($%.4f/h: %lld x $%.4f)\n",
			    name, history_str(r, "detail", ""), hourly, count,
			    hourly / (double)count);
		else
			fprintf(stderr, "  %-16s %s ($%.4f/h)\n", name,
			    history_str(r, "detail", ""), hourly);
		free(name);
	}
	fprintf(stderr, "About $%.4f per hour (%s)\n",
	    json_number_value(json_object_get(plan, "hourly_usd")),
	    history_str(plan, "prices", ""));
	fprintf(stderr, "Estimated run: %s\n", history_str(
	    json_object_get(plan, "estimate"), "text",
	    "no estimate before the first run"));
	if (json_integer_value(json_object_get(answers, "idle_stop")) > 0 &&
	    json_is_false(json_object_get(answers, "run")))
		fprintf(stderr, "Idle stop: from the first run on (--no-run "
		    "connects to no machine: until 'fanout resume ID' runs, "
		    "nothing stops them but 'fanout cleanup ID')\n");
	else if (json_integer_value(json_object_get(answers, "idle_stop")) > 0)
		fprintf(stderr, "Idle stop: a kept machine stops itself after "
		    "%lld idle minute(s) (--idle-stop MIN; 0 never)\n",
		    (long long)json_integer_value(json_object_get(answers,
		    "idle_stop")));
	else
		fprintf(stderr, "Idle stop: never (a kept machine left running "
		    "costs its hourly price until stopped)\n");
}

/* Ctrl-C (SIGINT or SIGTERM, caught by pool_catch_signals): the flow
 * stops and does with what it made what the answers say, as the menu's
 * cancel does: cleanup_after tears it down, else it is kept (stopped).
 * Uncaught, the signal killed fanout and left the machines running. */
static int cmd_create_teardown;	/* cleanup_after of the create */

static int
cmd_create_cancelled(struct sink *sink)
{
	(void)sink;
	if (!pool_interrupted())
		return 0;
	return cmd_create_teardown ? FLOW_CANCEL_TEARDOWN : FLOW_CANCEL_KEEP;
}

static enum cmd_retval
cmd_create_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "answers", required_argument, NULL, 'a' },
		{ "yes", no_argument, NULL, 'y' },
		{ "provider", required_argument, NULL, 'A' },
		{ "region", required_argument, NULL, 'A' },
		{ "zone", required_argument, NULL, 'A' },
		{ "engine", required_argument, NULL, 'A' },
		{ "nodes", required_argument, NULL, 'A' },
		{ "files", required_argument, NULL, 'A' },
		{ "name", required_argument, NULL, 'A' },
		{ "cleanup-after", no_argument, NULL, 'A' },
		{ "keep", no_argument, NULL, 'A' },
		{ "instance-type", required_argument, NULL, 'A' },
		{ "head-instance-type", required_argument, NULL, 'A' },
		{ "cpus", required_argument, NULL, 'A' },
		{ "memory", required_argument, NULL, 'A' },
		{ "spot", no_argument, NULL, 'A' },
		{ "idle-stop", required_argument, NULL, 'A' },
		{ "ssh-anywhere", no_argument, NULL, 's' },
		{ "no-run", no_argument, NULL, 'R' },
		{ "detach", no_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	json_t *answers = NULL, *flags = json_object(), *plan, *v, *prev;
	const struct provider *prov;
	struct project pr;
	struct local_result lr;
	struct sink sink;
	struct sink_text st;
	char *cause = NULL, *id = NULL, *where;
	const char *answers_file = NULL, *text;
	int c, li, yes = 0, json = 0, ssh_anywhere = 0, no_run = 0, rc;
	int detach = 0;
	size_t i;
	void *s;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, &li)) != -1) {
		switch (c) {
		case 'a':
			answers_file = optarg;
			break;
		case 'y':
			yes = 1;
			break;
		case 'A':
			for (i = 0; strcmp(create_answers[i].option,
			    longopts[li].name) != 0; i++)
				;
			text = create_answers[i].text != NULL ?
			    create_answers[i].text : optarg;
			prev = json_object_get(flags, create_answers[i].key);
			if (prev != NULL && strcmp(json_string_value(
			    json_object_get(prev, "text")), text) != 0 &&
			    create_answers[i].text != NULL) {
				cmd_error(CMD_USAGE, "create: %s and --%s "
				    "contradict each other; give one",
				    json_string_value(json_object_get(prev,
				    "where")), longopts[li].name);
				json_decref(flags);
				return CMD_USAGE;
			}
			where = xprintf("--%s", longopts[li].name);
			json_object_set_new(flags, create_answers[i].key,
			    json_pack("{s:s, s:s}", "text", text, "where",
			    where));
			free(where);
			break;
		case 's':
			ssh_anywhere = 1;
			break;
		case 'R':
			no_run = 1;
			break;
		case 'D':
			detach = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			create_help();
			json_decref(flags);
			return CMD_OK;
		default:
			json_decref(flags);
			return cmd_error(CMD_USAGE, "create: unknown or "
			    "incomplete option '%s' (usage: fanout create %s)",
			    argv[optind - 1], cmd_create_entry.usage);
		}
	}
	rc = CMD_USAGE;
	if (!yes && !cmd_interactive()) {
		cmd_error(CMD_USAGE, "create: say --yes to create without a "
		    "question (no terminal to ask on)");
		goto out;
	}
	if (optind < argc - 1) {
		cmd_error(CMD_USAGE, "create: give one project folder (usage: "
		    "fanout create %s)", cmd_create_entry.usage);
		goto out;
	}
	if ((answers = create_answers_of(flags, answers_file, optind ==
	    argc - 1 ? argv[optind] : NULL, no_run)) == NULL)
		goto out;
	/* Options of the command line alone, not questions of the menu. */
	if (ssh_anywhere)
		json_object_set_new(answers, "ssh_anywhere", json_true());
	if (no_run)
		json_object_set_new(answers, "run", json_false());
	if (detach)
		json_object_set_new(answers, "detach", json_true());
	memset(&pr, 0, sizeof pr);
	if (wizard_check(answers, &pr, &cause) != 0) {
		cmd_error(CMD_USAGE, "%s", cause);
		goto out;
	}
	if (detach && wizard_detach_check(answers, &pr, &cause) != 0) {
		cmd_error(CMD_USAGE, "%s", cause);
		project_free(&pr);
		goto out;
	}
	prov = provider_find(json_string_value(json_object_get(answers,
	    "provider")));
	if ((s = prov->open(json_string_value(json_object_get(answers,
	    "region")), &cause)) == NULL) {
		project_free(&pr);
		cmd_error(CMD_USAGE, "%s", cause);
		goto out;
	}
	/* Inputs or results in a bucket: listed and checked before anything
	 * is made or recorded. */
	if ((pr.inputs_url != NULL || pr.results_url != NULL) &&
	    prov->store_check != NULL && prov->store_check(s, &pr,
	    (long)json_integer_value(json_object_get(answers, "files")),
	    &cause) != 0) {
		project_free(&pr);
		prov->close(s);
		cmd_error(CMD_USAGE, "%s", cause);
		goto out;
	}
	project_free(&pr);
	prov->close(s);
	/* The machines: a type the region lacks, or a size nothing fits, is
	 * bad input, refused before anything is made. */
	if ((rc = wizard_settle(answers, &cause)) != 0) {
		cmd_error(rc > 0 ? CMD_USAGE : CMD_FAILED, "%s", cause);
		rc = rc > 0 ? CMD_USAGE : CMD_FAILED;
		goto out;
	}

	rc = CMD_FAILED;
	if ((plan = wizard_plan(answers, &cause)) == NULL) {
		cmd_error(CMD_FAILED, "%s", cause);
		goto out;
	}
	create_show_plan(plan, answers);
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
	cmd_create_teardown = !json_is_false(json_object_get(answers,
	    "cleanup_after"));
	pool_catch_signals();
	sink.cancelled = cmd_create_cancelled;
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
	.usage = "PROJECT [--answers FILE] [--yes] [--provider aws|gcp] "
	    "[--region R] [--zone Z] [--engine E] [--nodes N] [--files N] "
	    "[--cleanup-after | --keep] [--no-run] [--ssh-anywhere] "
	    "[--instance-type T] [--head-instance-type T] [--cpus N] "
	    "[--memory GIB] [--spot] [--name NAME] [--idle-stop MIN] "
	    "[--detach] [--json]",
	.help = "make a run set in the cloud, run the project on it, tear "
	    "it down (--keep keeps it)",
	.exec = cmd_create_exec,
};
