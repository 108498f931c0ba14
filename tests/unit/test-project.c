/* fanout.yaml loading, validation messages and input expansion. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "run/project.h"
#include "tap.h"
#include "util/fs.h"
#include "util/xmalloc.h"

static char *
mkproject(const char *name, const char *yaml, int with_entry, int exec)
{
	char *dir, *p, *cause = NULL;

	dir = xprintf("%s/%s", tap_tmpdir(), name);
	if (fs_mkdir_p(dir, 0755, &cause) != 0)
		bail("%s", cause);
	if (yaml != NULL) {
		p = fs_join(dir, "fanout.yaml");
		fs_write_atomic(p, yaml, strlen(yaml), 0644, &cause);
		free(p);
	}
	if (with_entry) {
		p = fs_join(dir, "run.sh");
		fs_write_atomic(p, "#!/bin/sh\necho '{}'\n", 19, exec ? 0755 :
		    0644, &cause);
		free(p);
	}
	return dir;
}

/* Loads and expects a failure whose cause contains want. */
static void
fails_with(const char *name, const char *yaml, const char *want,
    const char *desc)
{
	struct project p;
	char *dir = mkproject(name, yaml, 1, 1), *cause = NULL;
	int rc;

	rc = project_load(dir, &p, &cause);
	ok(rc == -1 && cause != NULL && strstr(cause, want) != NULL,
	    "%s", desc);
	if (rc == -1 && (cause == NULL || strstr(cause, want) == NULL))
		diag("cause: %s", cause ? cause : "(none)");
	if (rc == 0)
		project_free(&p);
	free(cause);
	free(dir);
}

int
main(void)
{
	struct project p;
	char *dir, *cause = NULL, **in = NULL, *f;
	size_t n = 0;
	int i;

	plan_lazy();
	dir = mkproject("good",
	    "name: demo\n"
	    "entrypoint: ./run.sh\n"
	    "inputs:\n"
	    "  glob: data/*.csv\n"
	    "  limit: 0\n"
	    "workers: 3\n"
	    "timeout: 12.5\n"
	    "retries: 2\n"
	    "env: {GREETING: hello, N: '3'}\n", 1, 1);
	f = xprintf("%s/data", dir);
	fs_mkdir_p(f, 0755, &cause);
	free(f);
	for (i = 5; i >= 1; i--) {
		f = xprintf("%s/data/in-%d.csv", dir, i);
		fs_write_atomic(f, "x\n", 2, 0644, &cause);
		free(f);
	}
	f = xprintf("%s/data/skip.txt", dir);
	fs_write_atomic(f, "x\n", 2, 0644, &cause);
	free(f);

	ok(project_load(dir, &p, &cause) == 0, "a good fanout.yaml loads");
	is_string("demo", p.name, "name");
	is_string("./run.sh", p.entrypoint, "entrypoint");
	is_string("data/*.csv", p.glob, "inputs.glob");
	is_int(3, p.workers, "workers");
	is_double(12.5, p.timeout, 1e-9, "timeout");
	is_int(2, p.retries, "retries");
	is_int(2, (long long)p.nenv, "env has two entries");
	is_string("GREETING=hello", p.env[0], "env entry as NAME=value");
	ok(project_inputs(&p, 0, &in, &n, &cause) == 0, "inputs expand");
	is_int(5, (long long)n, "glob matches the five csv files only");
	is_string("data/in-1.csv", in[0], "inputs are sorted and relative");
	project_inputs_free(in, n);
	ok(project_inputs(&p, 2, &in, &n, &cause) == 0 && n == 2,
	    "a limit keeps the first inputs");
	project_inputs_free(in, n);
	project_free(&p);
	free(dir);

	dir = mkproject("defaults", "name: abc\nentrypoint: run.sh\n"
	    "inputs: {list: [a, b, c], limit: 2}\n", 1, 1);
	ok(project_load(dir, &p, &cause) == 0, "a list project loads");
	is_int(4, p.workers, "workers default to 4");
	is_double(300, p.timeout, 1e-9, "timeout defaults to 300 s");
	is_int(1, p.retries, "retries default to 1");
	ok(project_inputs(&p, 0, &in, &n, &cause) == 0 && n == 2,
	    "inputs.limit applies to a list");
	project_inputs_free(in, n);
	project_free(&p);
	free(dir);

	fails_with("badyaml", "name: x\n  bad: [unclosed\n", "invalid YAML",
	    "invalid YAML is reported as such");
	fails_with("badyaml2", "name: demo\ninputs: {glob: '*'\n",
	    "fanout.yaml:", "the YAML error names the file and position");
	fails_with("shortname", "name: ab\nentrypoint: run.sh\n"
	    "inputs: {glob: '*'}\n", ":1:7: 'name' must be at least 3",
	    "a short name is refused with its line and column");
	fails_with("badworkers", "name: demo\nentrypoint: run.sh\n"
	    "inputs: {glob: '*'}\nworkers: abc\n",
	    ":4:10: 'workers' must be a whole number",
	    "a non-number for workers names the key and position");
	fails_with("zeroworkers", "name: demo\nentrypoint: run.sh\n"
	    "inputs: {glob: '*'}\nworkers: 0\n", "'workers' must be from 1",
	    "workers: 0 is refused");
	fails_with("unknown", "name: demo\nentrypoint: run.sh\n"
	    "inputs: {glob: '*'}\nwokers: 2\n", "unknown key 'wokers'",
	    "a misspelt key is named");
	fails_with("noinputs", "name: demo\nentrypoint: run.sh\n",
	    "missing key 'inputs'", "missing inputs is named");
	fails_with("noentry", "name: demo\nentrypoint: nope.sh\n"
	    "inputs: {glob: '*'}\n", "entrypoint nope.sh does not exist",
	    "a missing entrypoint is named");
	fails_with("empty", "", "the file is empty", "an empty file");
	fails_with("dupname", "name: first\nentrypoint: run.sh\n"
	    "inputs: {glob: '*'}\nname: second\n", "fanout.yaml:4:1: "
	    "duplicate key 'name' (first at line 1); give each key once",
	    "a key given twice is refused with file:line:column");
	fails_with("dupinputs", "name: demo\nentrypoint: run.sh\n"
	    "inputs:\n  glob: '*'\n  limit: 1\n  glob: 'data/*'\n",
	    "fanout.yaml:6:3: duplicate key 'glob' (first at line 4)",
	    "the same in a nested mapping (inputs:)");
	fails_with("dupenv", "name: demo\nentrypoint: run.sh\n"
	    "inputs: {glob: '*'}\nenv: {A: '1', B: '2', A: '3'}\n",
	    "fanout.yaml:4:23: duplicate key 'A' (first at line 4)",
	    "and in a flow mapping (env:)");
	fails_with("dupdeep", "name: demo\nentrypoint: run.sh\n"
	    "inputs: {glob: '*'}\nresources:\n  cpus: 2\n  cpus: 4\n",
	    "fanout.yaml:6:3: duplicate key 'cpus' (first at line 5)",
	    "and in any mapping, before its keys are looked at "
	    "(resources:)");
	fails_with("dupquoted", "name: demo\n\"name\": other\n"
	    "entrypoint: run.sh\ninputs: {glob: '*'}\n",
	    "fanout.yaml:2:1: duplicate key 'name'",
	    "a quoted key is the same key");

	dir = mkproject("noexec", "name: demo\nentrypoint: run.sh\n"
	    "inputs: {glob: '*'}\n", 1, 0);
	ok(project_load(dir, &p, &cause) == -1 &&
	    strstr(cause, "not executable") != NULL,
	    "a non-executable entrypoint is refused");
	free(cause);
	cause = NULL;
	free(dir);

	dir = mkproject("noyaml", NULL, 0, 0);
	ok(project_load(dir, &p, &cause) == -1 &&
	    strstr(cause, "has no fanout.yaml") != NULL,
	    "a folder without fanout.yaml is refused");
	free(cause);
	cause = NULL;
	free(dir);

	ok(project_load("/nonexistent/folder", &p, &cause) == -1 &&
	    strstr(cause, "does not exist") != NULL,
	    "a missing folder is refused");
	free(cause);
	cause = NULL;

	dir = mkproject("nomatch", "name: demo\nentrypoint: run.sh\n"
	    "inputs: {glob: 'data/*.none'}\n", 1, 1);
	ok(project_load(dir, &p, &cause) == 0, "a project with no matches "
	    "loads");
	ok(project_inputs(&p, 0, &in, &n, &cause) == -1 &&
	    strstr(cause, "no inputs match") != NULL,
	    "zero inputs is an error");
	free(cause);
	project_free(&p);
	free(dir);

	/* Issue 11: setup, a command-line entrypoint, resources, buckets. */
	dir = mkproject("real", "name: real\n"
	    "entrypoint: python3 './run.sh' \"a b\" c\\ d\n"
	    "setup: pip install --user -r requirements.txt\n"
	    "inputs: {glob: 's3://my-bucket/in/2024/*.csv', limit: 150}\n"
	    "results: s3://my-bucket/out/run1\n"
	    "resources: {cpus: 8, memory: 16, spot: true}\n", 1, 1);
	ok(project_load(dir, &p, &cause) == 0, "a project with setup, "
	    "resources and buckets loads");
	if (p.argv != NULL) {
		is_int(4, (long)p.argc, "the entrypoint is split like argv");
		is_string("python3", p.argv[0], "argv[0]");
		is_string("./run.sh", p.argv[1], "single quotes are removed");
		is_string("a b", p.argv[2], "double quotes keep blanks");
		is_string("c d", p.argv[3], "a backslash takes the blank");
		ok(!p.prog_in_project, "python3 is a program from PATH");
	}
	is_string("pip install --user -r requirements.txt", p.setup,
	    "setup");
	ok(p.inputs_url != NULL && strcmp(p.inputs_url->bucket,
	    "my-bucket") == 0 && strcmp(p.inputs_url->prefix, "in/2024/") ==
	    0 && p.inputs_url->pattern, "inputs.glob s3:// is a bucket, a "
	    "prefix and a pattern");
	ok(p.results_url != NULL && strcmp(p.results_url->key, "out/run1")
	    == 0, "results: s3://");
	ok(p.resources.cpus == 8 && p.resources.memory == 16 &&
	    p.resources.spot && p.resources.instance_type == NULL,
	    "resources");
	ok(!p.workers_set, "workers not given");
	ok(project_inputs(&p, 0, &in, &n, &cause) == -1 && strstr(cause,
	    "cloud layer") != NULL, "a bucket glob is not expanded here");
	free(cause);
	cause = NULL;
	project_free(&p);
	free(dir);

	dir = mkproject("ownprog", "name: ownprog\nentrypoint: run.sh --x\n"
	    "inputs: {glob: '*'}\n", 1, 1);
	ok(project_load(dir, &p, &cause) == 0 && p.prog_in_project &&
	    p.argc == 2, "a bare word naming a file of the project is it");
	project_free(&p);
	free(dir);

	fails_with("badquote", "name: demo\nentrypoint: \"python3 'x\"\n"
	    "inputs: {glob: '*'}\n", ":2:13: 'entrypoint': unbalanced ' "
	    "quote", "an unbalanced quote in the entrypoint");
	fails_with("nopath", "name: demo\nentrypoint: no-such-prog-x a\n"
	    "inputs: {glob: '*'}\n", "no-such-prog-x does not exist in",
	    "a program neither in the project nor on PATH");
	fails_with("cpus0", "name: demo\nentrypoint: run.sh\n"
	    "inputs: {glob: '*'}\nresources: {cpus: 0}\n",
	    ":4:19: 'resources.cpus' must be from 1", "cpus: 0 is refused");
	fails_with("badtype", "name: demo\nentrypoint: run.sh\n"
	    "inputs: {glob: '*'}\nresources: {instance_type: 'C5 large'}\n",
	    "is no instance type", "a malformed instance type");
	fails_with("badspot", "name: demo\nentrypoint: run.sh\n"
	    "inputs: {glob: '*'}\nresources: {spot: maybe}\n",
	    "'resources.spot' must be true or false", "spot: maybe");
	fails_with("badurl", "name: demo\nentrypoint: run.sh\n"
	    "inputs: {glob: 's3://My_Bucket/x/*'}\n",
	    "bucket names hold only lower-case", "a malformed s3:// URL");
	fails_with("badurl2", "name: demo\nentrypoint: run.sh\n"
	    "inputs: {glob: 's3:/bucket/x'}\n", "is no bucket URL",
	    "s3:/ with one slash");
	fails_with("badurl3", "name: demo\nentrypoint: run.sh\n"
	    "inputs: {glob: '*'}\nresults: s3://ab\n",
	    "3 to 63 characters", "a bucket name too short");
	fails_with("badurl4", "name: demo\nentrypoint: run.sh\n"
	    "inputs: {glob: '*'}\nresults: 's3://bucket/out/*'\n",
	    "no wildcards here", "a wildcard in results");
	fails_with("emptysetup", "name: demo\nentrypoint: run.sh\n"
	    "inputs: {glob: '*'}\nsetup: '  '\n", "'setup' is empty",
	    "an empty setup");
	fails_with("nanmem", "name: demo\nentrypoint: run.sh\n"
	    "inputs: {glob: '*'}\nresources: {memory: nan}\n",
	    "'resources.memory (GiB)' must be from", "memory: nan is refused");
	fails_with("pipe", "name: demo\nentrypoint: ./run.sh | cat\n"
	    "inputs: {glob: '*'}\n", "no shell runs it, so '|' would reach",
	    "a pipe in the entrypoint is refused");
	dir = mkproject("quotedpipe", "name: demo\nentrypoint: ./run.sh '|'\n"
	    "inputs: {glob: '*'}\n", 1, 1);
	ok(project_load(dir, &p, &cause) == 0 && p.argc == 2 &&
	    strcmp(p.argv[1], "|") == 0, "a quoted '|' is an argument");
	project_free(&p);
	free(dir);
	fails_with("badsetup", "name: demo\nentrypoint: run.sh\n"
	    "inputs: {glob: '*'}\nsetup: echo 'unbalanced \"x\n",
	    "'setup' is no shell command: ", "a setup sh cannot parse is "
	    "refused at load");
	fails_with("blankurl", "name: demo\nentrypoint: run.sh\n"
	    "inputs: {glob: '*'}\nresults: 's3://bucket/out '\n",
	    "has a blank in it", "a blank in a bucket URL is refused");
	return done_testing();
}
