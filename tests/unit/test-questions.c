/* The menus (menus/NAME.yaml) and the answer checks of the TUI and --answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tap.h"
#include "util/fs.h"
#include "util/xmalloc.h"
#include "wizard/questions.h"

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
	if (question_check(q, text, &v, &cause) == 0) {
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
	    "region", "engine", "nodes", "files", "cleanup_after" };
	static const char *actions[] = { "create", "resume", "cleanup",
	    "local", "history", "quit" };
	struct menu *mu;
	char *cause = NULL, *keys;
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
	is_int(8, (long long)mu->nquestions, "create asks eight questions");
	for (i = 0; i < 8 && i < mu->nquestions; i++)
		is_string(create_keys[i], mu->questions[i].key,
		    "create question %zu has the flows.h key %s", i + 1,
		    create_keys[i]);
	keys = menu_keys(mu);
	is_string("project, name, provider, region, engine, nodes, files, "
	    "cleanup_after", keys, "menu_keys lists them");
	free(keys);
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
	char *cause, *empty, *file;

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
	ok(check(mu, "name", "my-proj_2", &v) == NULL &&
	    strcmp(json_string_value(v), "my-proj_2") == 0,
	    "a good name is kept as text");
	json_decref(v);
	refused(mu, "region", "Mars", "region name");
	cause = check(mu, "region", "eu-west-1", NULL);
	ok(cause == NULL, "eu-west-1 is a region");
	free(cause);
	refused(mu, "engine", "docker", "one of bastion, kubernetes");
	refused(mu, "provider", "gcp", "one of aws");
	ok(check(mu, "engine", "kubernetes", NULL) == NULL,
	    "kubernetes is an engine");
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

static void
test_answers(const struct menu *mu, const char *proj, const char *tmp)
{
	json_t *a, *given;
	char *text, *cause = NULL;
	int rv;

	text = xprintf("project: %s\nnodes: 3\nengine: kubernetes\n", proj);
	a = answers_from(mu, tmp, "a.yaml", text, &cause);
	free(text);
	ok(a != NULL, "a YAML answers file is read %s", cause ? cause : "");
	is_int(8, (long long)json_object_size(a), "every key is answered");
	is_int(3, json_integer_value(json_object_get(a, "nodes")),
	    "nodes as given");
	is_string("kubernetes", json_string_value(json_object_get(a,
	    "engine")), "engine as given");
	is_string("demo-proj", json_string_value(json_object_get(a, "name")),
	    "name from the project's fanout.yaml");
	is_string("us-east-1", json_string_value(json_object_get(a,
	    "region")), "region default");
	ok(json_is_true(json_object_get(a, "cleanup_after")),
	    "cleanup_after default is true");
	is_int(0, json_integer_value(json_object_get(a, "files")),
	    "files default 0");
	json_decref(a);

	text = xprintf("{\"project\": \"%s\", \"name\": \"other\", \"nodes\": "
	    "2, \"cleanup_after\": false}", proj);
	a = answers_from(mu, tmp, "a.json", text, &cause);
	free(text);
	ok(a != NULL && json_is_false(json_object_get(a, "cleanup_after")) &&
	    json_integer_value(json_object_get(a, "nodes")) == 2 &&
	    strcmp(json_string_value(json_object_get(a, "name")), "other") ==
	    0, "a JSON answers file is read the same way");
	json_decref(a);

	text = xprintf("project: %s\ncolour: blue\n", proj);
	a = answers_from(mu, tmp, "b.yaml", text, &cause);
	free(text);
	ok(a == NULL && cause != NULL && strstr(cause, "b.yaml") &&
	    strstr(cause, "unknown key 'colour'") && strstr(cause, "nodes"),
	    "an unknown key is refused, naming the keys: %s", cause);
	free(cause);
	cause = NULL;

	text = xprintf("project: %s\nnodes: abc\n", proj);
	a = answers_from(mu, tmp, "c.yaml", text, &cause);
	free(text);
	ok(a == NULL && cause != NULL && strstr(cause, "nodes: must be a "
	    "whole number from 1 to 100, not 'abc'"), "a bad value names the "
	    "key and the rule: %s", cause);
	free(cause);
	cause = NULL;

	a = answers_from(mu, tmp, "d.yaml", "nodes: 2\n", &cause);
	ok(a == NULL && cause != NULL && strstr(cause, "missing 'project'"),
	    "a missing answer without default is named: %s", cause);
	free(cause);
	cause = NULL;

	a = answers_from(mu, tmp, "e.yaml", "- project\n", &cause);
	ok(a == NULL && cause != NULL && strstr(cause, "mapping"),
	    "a list is not an answers file: %s", cause);
	free(cause);
	cause = NULL;

	a = answers_from(mu, tmp, "f.yaml", "project: [a\n", &cause);
	ok(a == NULL && cause != NULL && strstr(cause, "f.yaml:"),
	    "bad YAML names the file and line: %s", cause);
	free(cause);
	cause = NULL;

	text = xprintf("project: %s\nnodes: [1, 2]\n", proj);
	a = answers_from(mu, tmp, "g.yaml", text, &cause);
	free(text);
	ok(a == NULL && cause != NULL && strstr(cause, "one value"),
	    "a list as a value is refused: %s", cause);
	free(cause);
	cause = NULL;

	given = json_pack("{s:s, s:i, s:b}", "project", proj, "nodes", 7,
	    "cleanup_after", 0);
	ok(menu_complete_answers(mu, given, &cause) == 0 &&
	    json_object_size(given) == 8 &&
	    json_integer_value(json_object_get(given, "nodes")) == 7 &&
	    json_is_false(json_object_get(given, "cleanup_after")),
	    "answers from options are checked and completed");
	json_decref(given);
	given = json_pack("{s:s, s:i}", "project", proj, "nodes", 700);
	rv = menu_complete_answers(mu, given, &cause);
	ok(rv != 0 && cause != NULL &&
	    strstr(cause, "from 1 to 100"), "and refused the same way: %s",
	    cause);
	free(cause);
	json_decref(given);
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
	free(path);
}

int
main(void)
{
	const char *tmp = tap_tmpdir();
	struct menu *mu;
	char *proj, *cause = NULL;

	plan_lazy();
	test_menus();
	if ((mu = menu_load("create", &cause)) == NULL)
		bail("%s", cause);
	proj = make_project(tmp);
	test_checks(mu, proj, tmp);
	test_defaults(mu, proj);
	test_answers(mu, proj, tmp);
	test_complete(tmp);
	test_bad_menu(tmp);
	menu_free(mu);
	free(proj);
	return done_testing();
}
