/* The menus (menus/NAME.yaml) and the answer checks of the TUI and --answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cloud/provider.h"
#include "tap.h"
#include "util/fs.h"
#include "util/xmalloc.h"
#include "wizard/questions.h"
#include "wizard/wizard.h"

static void
write_file(const char *path, const char *text, int mode)
{
	char *cause = NULL;

	if (fs_write_atomic(path, text, strlen(text), mode, &cause) != 0)
		bail("%s", cause);
}

/* A small valid project: <tmp>/proj. */
static char *
make_project(const char *tmp)
{
	char *dir = fs_join(tmp, "proj"), *p, *cause = NULL;

	p = fs_join(dir, "data");
	if (fs_mkdir_p(p, 0755, &cause) != 0)
		bail("%s", cause);
	free(p);
	p = fs_join(dir, "fanout.yaml");
	write_file(p, "name: demo-proj\nentrypoint: ./entrypoint\ninputs:\n"
	    "  glob: data/*.txt\nworkers: 3\n", 0644);
	free(p);
	p = fs_join(dir, "entrypoint");
	write_file(p, "#!/bin/sh\necho '{}'\n", 0755);
	free(p);
	p = fs_join(dir, "data/a.txt");
	write_file(p, "1\n", 0644);
	free(p);
	return dir;
}

/* question_check on text; returns the cause (or NULL) and the value. */
static char *
check(const struct menu *mu, const char *key, const char *text, json_t **vp)
{
	const struct question *q = menu_question(mu, key);
	char *cause = NULL;
	json_t *v = NULL;

	if (q == NULL)
		bail("no question %s", key);
	if (question_check(q, NULL, text, &v, &cause) == 0) {
		if (vp != NULL)
			*vp = v;
		else
			json_decref(v);
		return NULL;
	}
	if (v != NULL)
		bail("a refused answer left a value");
	return cause;
}

static void
refused(const struct menu *mu, const char *key, const char *text,
    const char *want)
{
	char *cause = check(mu, key, text, NULL);

	ok(cause != NULL && strstr(cause, want) != NULL, "%s '%s' refused: "
	    "%s", key, text, cause != NULL ? cause : "(accepted)");
	free(cause);
}

static void
test_menus(void)
{
	static const char *create_keys[] = { "project", "name", "provider",
	    "region", "zone", "engine", "nodes", "cpus", "memory", "instance_type",
	    "head_instance_type", "spot", "files", "cleanup_after",
	    "idle_stop" };
	static const char *actions[] = { "create", "resume", "cleanup",
	    "local", "history", "quit" };
	const struct question *q;
	struct menu *mu;
	char *cause = NULL, *keys, *text, **alts;
	json_t *v, *a;
	size_t i;

	mu = menu_load("main", &cause);
	ok(mu != NULL, "menus/main.yaml loads %s", cause ? cause : "");
	if (mu == NULL)
		bail("no main menu");
	is_int(6, (long long)mu->nitems, "the main menu has six items");
	for (i = 0; i < 6 && i < mu->nitems; i++)
		is_string(actions[i], mu->items[i].action, "item %zu is %s",
		    i + 1, actions[i]);
	ok(mu->items[0].key == 'c' && mu->items[5].key == 'q',
	    "items have their letters");
	menu_free(mu);

	mu = menu_load("create", &cause);
	ok(mu != NULL, "menus/create.yaml loads");
	if (mu == NULL)
		bail("%s", cause);
	is_int(15, (long long)mu->nquestions, "create asks 15 questions");
	for (i = 0; i < 15 && i < mu->nquestions; i++)
		is_string(create_keys[i], mu->questions[i].key,
		    "create question %zu has the flows.h key %s", i + 1,
		    create_keys[i]);
	keys = menu_keys(mu);
	is_string("project, name, provider, region, zone, engine, nodes, cpus, "
	    "memory, instance_type, head_instance_type, spot, files, "
	    "cleanup_after, idle_stop", keys,
	    "menu_keys lists them");
	free(keys);
	q = menu_question(mu, "engine");
	ok(q != NULL && q->nchoices == 2 && strcmp(q->choices[0],
	    "bastion") == 0 && strcmp(q->choices[1], "slurm") == 0,
	    "the engine choices are the cloud engines of this build: "
	    "bastion and slurm, no kubernetes");
	text = menu_label("engines", "bastion", NULL);
	is_string("one machine (bastion)", text, "the engine bastion is "
	    "shown as its label");
	free(text);
	text = menu_label("engines", "slurm", NULL);
	is_string("cluster (slurm)", text, "the engine slurm as cluster "
	    "(slurm)");
	free(text);
	v = json_string("slurm");
	text = question_shown(q, v, NULL);
	is_string("cluster (slurm)", text, "an engine answer is shown by its "
	    "label; the answer stays slurm");
	free(text);
	json_decref(v);
	q = menu_question(mu, "instance_type");
	ok(q != NULL && q->type == QUESTION_TEXT && q->choices_from != NULL &&
	    strcmp(q->choices_from, "provider.instance_types") == 0,
	    "the instance type is text, offered from provider.instance_types");
	alts = menu_list("provider.instance_types", NULL, &cause);
	for (i = 0; alts != NULL && alts[i] != NULL &&
	    strcmp(alts[i], "c5.large") != 0; i++)
		;
	ok(alts != NULL && alts[i] != NULL, "the provider offers c5.large");
	question_alts_free(alts);
	text = menu_label("provider.instance_types", "c5.large", NULL);
	is_string("c5.large  $0.085/h", text, "shown with its price per hour");
	free(text);
	text = question_default(q, NULL);
	is_string("c6a.large", text, "the default type is the provider's");
	free(text);
	ok(question_check(q, NULL, "c7i.2xlarge", &v, &cause) == 0,
	    "a type the list lacks is taken");
	json_decref(v);
	ok(question_check(q, NULL, "C5 large", &v, &cause) != 0 && cause !=
	    NULL && strstr(cause, "'C5 large' is not valid") != NULL,
	    "a malformed type is refused by the pattern");
	free(cause);
	cause = NULL;
	a = json_pack("{s:s}", "engine", "slurm");
	ok(menu_asks(mu, menu_question(mu, "nodes"), a) &&
	    menu_asks(mu, menu_question(mu, "head_instance_type"), a),
	    "for slurm, the node count and the head's type are asked");
	text = question_default(menu_question(mu, "nodes"), a);
	is_string("2", text, "a cluster has 2 nodes by default");
	free(text);
	json_decref(a);
	q = menu_question(mu, "engine");
	ok(q != NULL && q->choices_from != NULL &&
	    strcmp(q->choices_from, "engines") == 0,
	    "they come from the engine table, not from the menu file");
	ok(!menu_asks(mu, menu_question(mu, "nodes"), NULL),
	    "the number of nodes is not asked for the default engine");
	ok(menu_asks(mu, menu_question(mu, "files"), NULL),
	    "a question without when: is asked");
	menu_free(mu);

	mu = menu_load("local", &cause);
	ok(mu != NULL && mu->nquestions == 3 &&
	    strcmp(mu->questions[2].key, "workers") == 0,
	    "menus/local.yaml asks project, files, workers");
	menu_free(mu);

	mu = menu_load("no-such-menu", &cause);
	ok(mu == NULL && cause != NULL && strstr(cause, "no-such-menu") &&
	    strstr(cause, "FANOUT_DATA_DIR"), "a missing menu names itself "
	    "and what to do: %s", cause);
	free(cause);
}

static void
test_checks(const struct menu *mu, const char *proj, const char *tmp)
{
	json_t *v = NULL;
	char *cause, *empty, *file, *text;

	refused(mu, "nodes", "abc", "must be a whole number from 1 to 100, "
	    "not 'abc'");
	refused(mu, "nodes", "0", "from 1 to 100");
	refused(mu, "nodes", "101", "from 1 to 100");
	refused(mu, "nodes", "5x", "whole number");
	refused(mu, "nodes", " 5", "whole number");
	refused(mu, "nodes", "99999999999999999999999", "whole number");
	refused(mu, "nodes", "", "an answer is needed");
	ok(check(mu, "nodes", "100", &v) == NULL && json_integer_value(v) ==
	    100, "nodes 100 is accepted as the integer 100");
	json_decref(v);
	refused(mu, "files", "-1", "at least 0");
	ok(check(mu, "files", "0", &v) == NULL && json_is_integer(v),
	    "files 0 (all) is accepted");
	json_decref(v);

	refused(mu, "name", "ab", "at least 3 characters");
	refused(mu, "name", "my project", "use letters, digits");
	refused(mu, "name", "-abc", "'-abc' is not valid: use letters, "
	    "digits, '.', '_' and '-', starting with a letter or digit");
	text = xprintf("%.64s", "a123456789b123456789c123456789d123456789"
	    "e123456789f123456789g123456789");
	refused(mu, "name", text, "must be at most 63 characters long, not "
	    "64");
	text[63] = '\0';
	cause = check(mu, "name", text, NULL);
	ok(cause == NULL, "a 63-character name is accepted");
	free(cause);
	text[45] = '\0';
	cause = check(mu, "name", text, NULL);
	ok(cause == NULL, "a 45-character name is accepted (the tags take "
	    "it)");
	free(cause);
	free(text);
	ok(check(mu, "name", "my-proj_2", &v) == NULL &&
	    strcmp(json_string_value(v), "my-proj_2") == 0,
	    "a good name is kept as text");
	json_decref(v);
	refused(mu, "region", "Mars", "unknown region 'Mars'");
	refused(mu, "region", "zz-nowhere-1", "unknown region "
	    "'zz-nowhere-1': not an AWS region; AWS regions: us-east-1, "
	    "us-east-2, us-west-1, us-west-2, ... (");
	cause = check(mu, "region", "eu-west-1", NULL);
	ok(cause == NULL, "eu-west-1 is a region");
	free(cause);
	refused(mu, "engine", "docker", "no engine 'docker' in this build; "
	    "engines: bastion");
	refused(mu, "engine", "kubernetes", "no engine 'kubernetes' in this "
	    "build; engines: bastion");
	refused(mu, "provider", "azure", "no provider 'azure' in this build; "
	    "providers: aws");
	ok(check(mu, "engine", "bastion", NULL) == NULL,
	    "bastion is an engine");
	ok(check(mu, "cleanup_after", "Yes", &v) == NULL && json_is_true(v),
	    "yes is true");
	json_decref(v);
	ok(check(mu, "cleanup_after", "n", &v) == NULL && json_is_false(v),
	    "n is false");
	json_decref(v);
	refused(mu, "cleanup_after", "maybe", "answer yes or no");

	refused(mu, "project", "/no/such/folder", "no such folder");
	empty = fs_join(tmp, "empty");
	if (fs_mkdir_p(empty, 0755, &cause) != 0)
		bail("%s", cause);
	refused(mu, "project", empty, "has no fanout.yaml");
	file = fs_join(empty, "f");
	write_file(file, "x", 0644);
	refused(mu, "project", file, "is a file, not a folder");
	write_file(file, "x", 0644);
	free(file);
	file = fs_join(empty, "fanout.yaml");
	write_file(file, "name: x\n", 0644);
	refused(mu, "project", empty, "fanout.yaml");
	free(file);
	free(empty);
	ok(check(mu, "project", proj, &v) == NULL && json_is_string(v) &&
	    json_string_value(v)[0] == '/', "a project folder is accepted, "
	    "absolute");
	json_decref(v);
}

static void
test_defaults(const struct menu *mu, const char *proj)
{
	struct menu *local;
	json_t *answers = json_object();
	char *d, *cause = NULL;

	d = question_default(menu_question(mu, "name"), answers);
	ok(d == NULL, "no name default before the project is known");
	free(d);
	json_object_set_new(answers, "project", json_string(proj));
	d = question_default(menu_question(mu, "name"), answers);
	is_string("demo-proj", d, "the name default comes from fanout.yaml");
	free(d);
	d = question_default(menu_question(mu, "engine"), answers);
	is_string("bastion", d, "engine defaults to bastion");
	free(d);
	d = question_default(menu_question(mu, "cleanup_after"), answers);
	is_string("yes", d, "cleaning up is the default");
	free(d);
	setenv("AWS_REGION", "eu-west-1", 1);
	d = question_default(menu_question(mu, "region"), answers);
	is_string("eu-west-1", d, "the region defaults to the provider's "
	    "setting (AWS_REGION)");
	free(d);
	unsetenv("AWS_REGION");
	d = question_default(menu_question(mu, "region"), answers);
	ok(d == NULL, "no region default when nothing names one");
	free(d);
	setenv("AWS_REGION", "us-east-1", 1);
	local = menu_load("local", &cause);
	d = local != NULL ? question_default(menu_question(local, "workers"),
	    answers) : NULL;
	is_string("3", d, "local workers default to the project's");
	free(d);
	menu_free(local);
	json_decref(answers);
}

static json_t *
answers_from(const struct menu *mu, const char *tmp, const char *name,
    const char *text, char **cause)
{
	char *path = fs_join(tmp, name);
	json_t *a;

	write_file(path, text, 0644);
	a = menu_read_answers(mu, path, cause);
	free(path);
	return a;
}

/* Expects an answers file to be refused with a cause containing want. */
static void
answers_refused(const struct menu *mu, const char *tmp, const char *name,
    const char *text, const char *want, const char *desc)
{
	char *cause = NULL;
	json_t *a;

	a = answers_from(mu, tmp, name, text, &cause);
	ok(a == NULL && cause != NULL && strstr(cause, want) != NULL,
	    "%s: %s", desc, cause != NULL ? cause : "(accepted)");
	json_decref(a);
	free(cause);
}

static void
test_answers(const struct menu *mu, const char *proj, const char *tmp)
{
	json_t *a;
	char *text, *cause = NULL;

	text = xprintf("project: %s\nfiles: 3\nengine: bastion\n", proj);
	a = answers_from(mu, tmp, "a.yaml", text, &cause);
	free(text);
	ok(a != NULL, "a YAML answers file is read %s", cause ? cause : "");
	is_int(11, (long long)json_object_size(a), "every question asked is "
	    "answered");
	ok(json_is_null(json_object_get(a, "cpus")) &&
	    json_is_null(json_object_get(a, "memory")),
	    "cpus and memory, optional and not given, are null (not asked)");
	ok(json_object_get(a, "nodes") == NULL, "nodes, not asked for the "
	    "bastion engine, is not in the answers");
	is_int(3, json_integer_value(json_object_get(a, "files")),
	    "files as given");
	is_string("bastion", json_string_value(json_object_get(a,
	    "engine")), "engine as given");
	is_string("demo-proj", json_string_value(json_object_get(a, "name")),
	    "name from the project's fanout.yaml");
	is_string("us-east-1", json_string_value(json_object_get(a,
	    "region")), "region from AWS_REGION");
	ok(json_is_true(json_object_get(a, "cleanup_after")),
	    "cleanup_after default is true");
	json_decref(a);

	text = xprintf("{\"project\": \"%s\", \"name\": \"other\", \"files\": "
	    "2, \"cleanup_after\": false}", proj);
	a = answers_from(mu, tmp, "a.json", text, &cause);
	free(text);
	ok(a != NULL && json_is_false(json_object_get(a, "cleanup_after")) &&
	    json_integer_value(json_object_get(a, "files")) == 2 &&
	    strcmp(json_string_value(json_object_get(a, "name")), "other") ==
	    0, "a JSON answers file is read the same way");
	is_int(30, json_integer_value(json_object_get(a, "idle_stop")),
	    "a kept run set stops when idle: idle_stop defaults to 30");
	json_decref(a);

	text = xprintf("{\"project\": \"%s\", \"idle_stop\": 5}", proj);
	answers_refused(mu, tmp, "i.json", text, "'idle_stop' does not apply "
	    "to cleanup_after 'yes'", "idle_stop is refused for a run set "
	    "torn down after its run");
	free(text);

	text = xprintf("project: %s\ncolour: blue\n", proj);
	answers_refused(mu, tmp, "b.yaml", text, "unknown key 'colour' (the "
	    "keys are project, name", "an unknown key is refused, naming "
	    "the keys");
	free(text);
	text = xprintf("project: %s\nfiles: abc\n", proj);
	answers_refused(mu, tmp, "c.yaml", text, "c.yaml:2:8: files: must "
	    "be a whole number of at least 0, not 'abc'", "a bad value names "
	    "the file, line, column, key and rule");
	free(text);
	text = xprintf("project: %s\nnodes: 3\n", proj);
	answers_refused(mu, tmp, "c2.yaml", text, "c2.yaml:2:8: nodes: "
	    "'nodes' does not apply to engine 'bastion', only to engine "
	    "slurm; leave it out", "nodes with the bastion engine is "
	    "refused");
	free(text);
	text = xprintf("project: %s\nengine: kubernetes\n", proj);
	answers_refused(mu, tmp, "c3.yaml", text, "c3.yaml:2:9: engine: no "
	    "engine 'kubernetes' in this build; engines: bastion",
	    "an engine this build lacks is refused");
	free(text);
	text = xprintf("project: %s\nregion: zz-nowhere-1\n", proj);
	answers_refused(mu, tmp, "c4.yaml", text, "region: unknown region "
	    "'zz-nowhere-1'", "an unknown region is refused");
	free(text);
	answers_refused(mu, tmp, "d.yaml", "files: 2\n", "missing 'project'",
	    "a missing answer without default is named");
	answers_refused(mu, tmp, "e.yaml", "- project\n", "mapping",
	    "a list is not an answers file");
	answers_refused(mu, tmp, "f.yaml", "project: [a\n", "f.yaml:",
	    "bad YAML names the file and line");
	text = xprintf("project: %s\nfiles: [1, 2]\n", proj);
	answers_refused(mu, tmp, "g.yaml", text, "one value",
	    "a list as a value is refused");
	free(text);
	text = xprintf("project: %s\nname: first\nfiles: 1\nname: second\n",
	    proj);
	answers_refused(mu, tmp, "h.yaml", text, "h.yaml:4:1: duplicate key "
	    "'name' (first at line 2)", "a key given twice is refused with "
	    "file:line:column");
	free(text);
	text = xprintf("{\"project\": \"%s\", \"files\": 1,\n \"files\": 2}",
	    proj);
	answers_refused(mu, tmp, "h.json", text, "h.json:2:2: duplicate key "
	    "'files'", "the same in a JSON answers file");
	free(text);

	unsetenv("AWS_REGION");
	text = xprintf("project: %s\n", proj);
	answers_refused(mu, tmp, "i.yaml", text, "missing 'region' (Region): "
	    "no AWS region: looked at --region, AWS_REGION",
	    "no region anywhere: the provider says where it looked");
	free(text);
	setenv("AWS_REGION", "us-east-1", 1);
}

/* The command line's path (menu_given_set + menu_answers) refuses what
 * the form's check (question_check) refuses, with the same message after
 * the option's name. */
static void
test_same_message(const struct menu *mu, const char *proj)
{
	static const struct {
		const char	*key, *option, *text;
	} bad[] = {
		{ "name", "--name", "-abc" },
		{ "name", "--name", "a123456789b123456789c123456789d123456789"
		    "e123456789f123456789g1234" },
		{ "region", "--region", "zz-nowhere-1" },
		{ "files", "--files", "abc" },
		{ "files", "--files", "1.5" },
		{ "engine", "--engine", "kubernetes" },
	};
	json_t *given, *a, *answers;
	char *form = NULL, *cli = NULL, *want;
	size_t i;
	int rv;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		/* The form checks with the answers made before the field. */
		answers = json_pack("{s:s, s:s}", "provider", "aws", "engine",
		    "bastion");
		form = NULL;
		a = NULL;
		if (question_check(menu_question(mu, bad[i].key), answers,
		    bad[i].text, &a, &form) == 0)
			form = xstrdup("(accepted)");
		json_decref(a);
		json_decref(answers);
		given = json_object();
		cli = NULL;
		if (menu_given_set(mu, given, "project", proj, "PROJECT",
		    &cli) != 0 || menu_given_set(mu, given, bad[i].key,
		    bad[i].text, bad[i].option, &cli) != 0 ||
		    (a = menu_answers(mu, given, &cli)) != NULL) {
			json_decref(a);
			cli = xstrdup("(accepted)");
		}
		want = xprintf("%s: %s", bad[i].option, form);
		is_string(want, cli, "%s '%.20s': the CLI says what the form "
		    "says (%s)", bad[i].option, bad[i].text, form);
		free(want);
		free(form);
		free(cli);
		json_decref(given);
	}

	given = json_object();
	cli = NULL;
	menu_given_set(mu, given, "project", proj, "PROJECT", &cli);
	rv = menu_given_set(mu, given, "colour", "blue", "--colour", &cli);
	ok(rv != 0 && strstr(cli, "--colour: unknown key 'colour'") != NULL,
	    "an unknown key is refused as it is set: %s", cli);
	free(cli);
	cli = NULL;
	menu_given_set(mu, given, "cleanup_after", "no", "--keep", &cli);
	a = menu_answers(mu, given, &cli);
	ok(a != NULL && json_is_false(json_object_get(a, "cleanup_after")),
	    "--keep answers cleanup_after with no");
	json_decref(a);
	json_decref(given);

	a = json_pack("{s:s, s:s, s:i}", "project", proj, "engine", "bastion",
	    "files", 2);
	json_object_set_new(a, "ssh_anywhere", json_true());
	ok(menu_check_answers(mu, a, &cli) == 0, "answers made are checked "
	    "again, options of the command line left alone");
	json_object_set_new(a, "nodes", json_integer(3));
	rv = menu_check_answers(mu, a, &cli);
	ok(rv != 0 && strstr(cli, "'nodes' does "
	    "not apply to engine 'bastion'") != NULL, "and nodes with the "
	    "bastion engine is refused there too: %s", cli);
	free(cli);
	cli = NULL;
	json_object_del(a, "nodes");
	json_object_set_new(a, "name", json_string("-abc"));
	rv = menu_check_answers(mu, a, &cli);
	ok(rv != 0 && strstr(cli, "name: '-abc' "
	    "is not valid") != NULL, "and a bad name: %s", cli);
	free(cli);
	json_decref(a);
}

static void
test_complete(const char *tmp)
{
	char *base = fs_join(tmp, "c"), *p, *got, **alts = NULL, *cause = NULL;

	p = fs_join(base, "proj-a");
	fs_mkdir_p(p, 0755, &cause);
	free(p);
	p = fs_join(base, "proj-b");
	fs_mkdir_p(p, 0755, &cause);
	free(p);
	p = fs_join(base, "other.txt");
	write_file(p, "x", 0644);
	free(p);

	p = xprintf("%s/pro", base);
	got = question_complete_path(p, &alts, 8);
	free(p);
	p = xprintf("%s/proj-", base);
	is_string(p, got, "Tab completes the common part");
	ok(alts != NULL && alts[0] != NULL && alts[1] != NULL &&
	    alts[2] == NULL && strcmp(alts[0], "proj-a") == 0,
	    "and offers both folders");
	question_alts_free(alts);
	free(got);
	free(p);

	p = xprintf("%s/proj-b", base);
	got = question_complete_path(p, &alts, 8);
	ok(alts == NULL && strcmp(got, p) > 0 && got[strlen(got) - 1] == '/',
	    "a single folder gets its slash: %s", got);
	free(got);
	free(p);

	p = xprintf("%s/oth", base);
	got = question_complete_path(p, &alts, 8);
	free(p);
	p = xprintf("%s/other.txt", base);
	is_string(p, got, "a single file completes without a slash");
	free(got);
	free(p);
	p = xprintf("%s/zzz", base);
	got = question_complete_path(p, &alts, 8);
	is_string(p, got, "no match leaves the text as it was");
	free(got);
	free(p);
	free(base);
}

static void
test_bad_menu(const char *tmp)
{
	char *path = fs_join(tmp, "bad.yaml"), *cause = NULL;
	struct menu *mu;

	write_file(path, "title: x\nquestions:\n  - key: a\n    title: A\n"
	    "    type: colour\n", 0644);
	mu = menu_load_file(path, &cause);
	ok(mu == NULL && cause != NULL && strstr(cause, "bad.yaml:3") &&
	    strstr(cause, "'type' must be"), "a bad menu file names its line: "
	    "%s", cause);
	free(cause);
	cause = NULL;
	write_file(path, "title: x\nquestions:\n  - key: a\n    title: A\n"
	    "    type: text\n    validate: {pattern: '(['}\n", 0644);
	mu = menu_load_file(path, &cause);
	ok(mu == NULL && cause != NULL && strstr(cause, "pattern"),
	    "a broken pattern is caught at load: %s", cause);
	free(cause);
	cause = NULL;
	write_file(path, "title: x\nquestions:\n  - key: a\n    title: A\n"
	    "    type: choice\n    choices_from: colours\n", 0644);
	mu = menu_load_file(path, &cause);
	ok(mu == NULL && cause != NULL && strstr(cause, "bad.yaml:3") &&
	    strstr(cause, "no list 'colours' in this build"), "a list this "
	    "build lacks is caught at load: %s", cause);
	free(cause);
	cause = NULL;
	write_file(path, "title: x\nquestions:\n  - key: a\n    title: A\n"
	    "    type: text\n    title: B\n", 0644);
	mu = menu_load_file(path, &cause);
	ok(mu == NULL && cause != NULL && strstr(cause, "bad.yaml:6:5: "
	    "duplicate key 'title' (first at line 4)"), "a key twice in a "
	    "menu file is refused: %s", cause);
	free(cause);
	free(path);
}

/* check() with answers so far. */
static char *
check_with(const struct menu *mu, const char *key, json_t *answers,
    const char *text)
{
	const struct question *q = menu_question(mu, key);
	char *cause = NULL;
	json_t *v = NULL;

	if (q == NULL)
		bail("no question %s", key);
	if (question_check(q, answers, text, &v, &cause) == 0) {
		json_decref(v);
		return NULL;
	}
	return cause;
}

static void
refused_with(const struct menu *mu, const char *key, json_t *answers,
    const char *text, const char *want)
{
	char *cause = check_with(mu, key, answers, text);

	ok(cause != NULL && strstr(cause, want) != NULL, "%s '%s' refused "
	    "(provider %s): %s", key, text, json_string_value(json_object_get(
	    answers, "provider")), cause != NULL ? cause : "(accepted)");
	free(cause);
}

/* The provider question offers the providers of this build; the zone
 * question is asked for a provider with zones only, and its answer must
 * be a zone of the answered region; the region check names the
 * provider. */
static void
test_providers(const struct menu *mu, const char *proj, const char *tmp)
{
	const struct question *q = menu_question(mu, "provider");
	const struct provider *p;
	json_t *aws, *gcp, *a;
	char *cause = NULL, *text, **list;
	size_t i;
	int same;

	ok(q != NULL && q->choices_from != NULL && strcmp(q->choices_from,
	    "providers") == 0, "the provider question offers the providers "
	    "of this build (choices_from: providers)");
	list = menu_list("providers", NULL, &cause);
	for (i = 0, same = list != NULL; same && (p = provider_at(i)) !=
	    NULL; i++)
		same = list[i] != NULL && strcmp(list[i], p->name) == 0;
	ok(same && list[i] == NULL && q != NULL && q->nchoices == i,
	    "its choices are provider.c's table, in order (%zu)", i);
	question_alts_free(list);
	text = q != NULL ? question_default(q, NULL) : NULL;
	is_string("aws", text, "aws stays the default provider");
	free(text);

	q = menu_question(mu, "zone");
	ok(q != NULL && mu->questions[4].key == q->key, "the zone question "
	    "comes right after the region");
	ok(q != NULL && q->optional && q->type == QUESTION_TEXT && q->when !=
	    NULL && strcmp(q->when, "provider.zoned") == 0, "it is an "
	    "optional text, asked when the provider is zoned");
	aws = json_pack("{s:s, s:s}", "provider", "aws", "region",
	    "us-east-1");
	ok(q != NULL && !menu_asks(mu, q, aws), "for aws, the zone is not "
	    "asked");
	a = json_object();
	ok(q != NULL && !menu_asks(mu, q, a), "nor when no provider is "
	    "answered yet (the default, aws)");
	json_decref(a);
	refused_with(mu, "zone", aws, "us-central1-b", "provider aws has no "
	    "zones; leave the zone out");
	text = xprintf("project: %s\nzone: us-east-1a\n", proj);
	answers_refused(mu, tmp, "z1.yaml", text, "z1.yaml:2:7: zone: 'zone' "
	    "does not apply to provider 'aws'", "a zone given for aws is "
	    "refused");
	free(text);
	text = xprintf("project: %s\n", proj);
	a = answers_from(mu, tmp, "z2.yaml", text, &cause);
	free(text);
	ok(a != NULL && json_object_get(a, "zone") == NULL, "aws answers "
	    "have no zone %s", cause != NULL ? cause : "");
	json_decref(a);
	free(cause);
	cause = NULL;

	if (provider_find("gcp") == NULL) {
		skip("provider gcp is not in this build: its checks wait for it");
		json_decref(aws);
		return;
	}
	refused_with(mu, "region", aws, "us-central1", "us-central1 is not "
	    "an AWS region (it is GCP's); choose provider gcp (--provider "
	    "gcp)");
	gcp = json_pack("{s:s, s:s}", "provider", "gcp", "region",
	    "us-central1");
	ok(q != NULL && menu_asks(mu, q, gcp), "for gcp, the zone is asked");
	cause = check_with(mu, "region", gcp, "us-central1");
	ok(cause == NULL, "us-central1 is a GCP region %s", cause != NULL ?
	    cause : "");
	free(cause);
	refused_with(mu, "region", gcp, "us-east-1", "us-east-1 is not a GCP "
	    "region (it is AWS's); choose provider aws");
	refused_with(mu, "region", gcp, "us-central1-b", "'us-central1-b' is "
	    "a zone of GCP region us-central1; give the region us-central1 "
	    "and the zone as the zone (--zone us-central1-b)");
	refused_with(mu, "region", gcp, "mars-north9", "unknown region "
	    "'mars-north9': not a GCP region; GCP regions: ");
	cause = check_with(mu, "zone", gcp, "us-central1-b");
	ok(cause == NULL, "us-central1-b is a zone of us-central1 %s",
	    cause != NULL ? cause : "");
	free(cause);
	cause = check_with(mu, "zone", gcp, "");
	ok(cause == NULL, "an empty zone is taken: fanout picks one");
	free(cause);
	refused_with(mu, "zone", gcp, "us-east1-b", "zone us-east1-b is in "
	    "region us-east1, not in us-central1; give a zone of us-central1 "
	    "(such as us-central1-b), or leave it empty");
	refused_with(mu, "zone", gcp, "us-central1", "'us-central1' is not "
	    "valid: use a zone name, a region and a letter such as "
	    "us-central1-b");
	refused_with(mu, "zone", gcp, "US-CENTRAL1-B", "is not valid: use a "
	    "zone name");

	text = xprintf("project: %s\nprovider: gcp\nregion: us-central1\n"
	    "zone: us-central1-c\n", proj);
	a = answers_from(mu, tmp, "z3.yaml", text, &cause);
	free(text);
	is_string("us-central1-c", json_string_value(json_object_get(a,
	    "zone")), "a gcp answers file keeps its zone %s", cause != NULL ?
	    cause : "");
	json_decref(a);
	free(cause);
	cause = NULL;
	text = xprintf("project: %s\nprovider: gcp\nregion: us-central1\n",
	    proj);
	a = answers_from(mu, tmp, "z4.yaml", text, &cause);
	free(text);
	ok(a != NULL && json_is_null(json_object_get(a, "zone")),
	    "no zone given for gcp: null, fanout picks one %s", cause !=
	    NULL ? cause : "");
	json_decref(a);
	free(cause);
	cause = NULL;
	text = xprintf("project: %s\nprovider: gcp\nregion: us-central1\n"
	    "zone: europe-west1-b\n", proj);
	answers_refused(mu, tmp, "z5.yaml", text, "z5.yaml:4:7: zone: zone "
	    "europe-west1-b is in region europe-west1, not in us-central1",
	    "a zone of another region is refused, naming file and line");
	free(text);
	json_decref(gcp);
	json_decref(aws);
}

int
main(void)
{
	const char *tmp = tap_tmpdir();
	struct menu *mu;
	char *proj, *cause = NULL;

	plan_lazy();
	/* The engines and regions of this build; the region from here. */
	wizard_menus_register();
	setenv("AWS_REGION", "us-east-1", 1);
	unsetenv("AWS_DEFAULT_REGION");
	unsetenv("AWS_PROFILE");
	setenv("AWS_CONFIG_FILE", "/nonexistent/fanout-test-config", 1);
	test_menus();
	if ((mu = menu_load("create", &cause)) == NULL)
		bail("%s", cause);
	proj = make_project(tmp);
	test_checks(mu, proj, tmp);
	test_defaults(mu, proj);
	test_answers(mu, proj, tmp);
	test_same_message(mu, proj);
	test_providers(mu, proj, tmp);
	test_complete(tmp);
	test_bad_menu(tmp);
	menu_free(mu);
	free(proj);
	return done_testing();
}
