/* .fanoutignore rules, the tree scan, fingerprints and shell quoting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ssh/remote.h"
#include "ssh/session.h"
#include "ssh/tree.h"
#include "tap.h"
#include "util/fs.h"
#include "util/xmalloc.h"

static void
put(const char *dir, const char *rel, const char *text, int mode)
{
	char *path = fs_join(dir, rel), *slash, *cause = NULL;

	slash = strrchr(path, '/');
	*slash = '\0';
	if (fs_mkdir_p(path, 0755, &cause) != 0)
		bail("%s", cause);
	*slash = '/';
	if (fs_write_atomic(path, text, strlen(text), mode, &cause) != 0)
		bail("%s", cause);
	free(path);
}

static int
has(const struct tree *t, const char *path)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].path, path) == 0)
			return (int)i;
	}
	return -1;
}

int
main(void)
{
	struct ignore ig = { 0 };
	struct tree t;
	char *cause = NULL, *s;
	const char *dir;
	int i;

	plan_lazy();

	ok(ignore_add_text(&ig, "# comment\n\n*.log\n!keep.log\nbuild/\n"
	    "/top.txt\ndocs/*.md\n**/cache\na/**/z\nlogs/**\n", "t",
	    &cause) == 0, "patterns parse");
	ok(ignore_match(&ig, "x.log", false), "*.log matches at the top");
	ok(ignore_match(&ig, "d/e/x.log", false), "*.log matches deep down");
	ok(!ignore_match(&ig, "keep.log", false), "!keep.log re-includes");
	ok(!ignore_match(&ig, "d/keep.log", false), "negation at any depth");
	ok(ignore_match(&ig, "build", true), "build/ matches a folder");
	ok(!ignore_match(&ig, "build", false), "build/ not a file");
	ok(ignore_match(&ig, "src/build", true), "build/ at any depth");
	ok(ignore_match(&ig, "top.txt", false), "/top.txt anchored at top");
	ok(!ignore_match(&ig, "d/top.txt", false), "/top.txt not deeper");
	ok(ignore_match(&ig, "docs/a.md", false), "docs/*.md");
	ok(!ignore_match(&ig, "docs/sub/a.md", false), "* stops at /");
	ok(ignore_match(&ig, "cache", true), "**/cache at the top");
	ok(ignore_match(&ig, "x/y/cache", true), "**/cache deep");
	ok(ignore_match(&ig, "a/z", false), "a/**/z with no folder between");
	ok(ignore_match(&ig, "a/b/c/z", false), "a/**/z with folders");
	ok(ignore_match(&ig, "logs/x/y", false), "logs/** below logs");
	ok(!ignore_match(&ig, "data/x.csv", false), "others kept");
	ignore_free(&ig);
	ok(ignore_add_text(&ig, "[abc\n", "f", &cause) == 0 ||
	    cause != NULL, "an unclosed bracket is literal or an error");
	free(cause);
	cause = NULL;
	ignore_free(&ig);
	ok(ignore_add_text(&ig, "file[0-9].txt\n\\!bang\n", "t", &cause) == 0,
	    "classes and escapes parse");
	ok(ignore_match(&ig, "file7.txt", false), "[0-9] class");
	ok(!ignore_match(&ig, "filex.txt", false), "class mismatch");
	ok(ignore_match(&ig, "!bang", false), "escaped ! is literal");
	ignore_free(&ig);

	dir = tap_tmpdir();
	put(dir, "fanout.yaml", "name: x\n", 0644);
	put(dir, "entrypoint", "#!/bin/sh\n", 0755);
	put(dir, "data/a.txt", "1\n", 0644);
	put(dir, "data/b.log", "log\n", 0644);
	put(dir, "results/old/results.csv", "x\n", 0644);
	put(dir, "sub/results/kept.txt", "x\n", 0644);
	put(dir, ".git/HEAD", "ref\n", 0644);
	put(dir, "tmp/junk", "junk\n", 0644);
	put(dir, ".fanoutignore", "*.log\ntmp/\n", 0644);
	ok(tree_scan(dir, true, &t, &cause) == 0, "tree scan");
	ok(has(&t, "fanout.yaml") >= 0 && has(&t, "data/a.txt") >= 0,
	    "project files listed");
	ok(has(&t, "data/b.log") < 0, ".fanoutignore *.log honoured");
	ok(has(&t, "tmp/junk") < 0, ".fanoutignore tmp/ honoured");
	ok(has(&t, ".git/HEAD") < 0, ".git/ excluded");
	ok(has(&t, "results/old/results.csv") < 0, "results/ excluded");
	ok(has(&t, "sub/results/kept.txt") >= 0, "only the top results/");
	i = has(&t, "entrypoint");
	is_int(0755, i >= 0 ? t.v[i].mode : -1, "exec bits kept");
	i = has(&t, "data/a.txt");
	is_string("4355a46b19d348dc2f57c046f8ef63d4538ebb936000f3c9ee954a27460dd865",
	    i >= 0 ? t.v[i].sha : "", "SHA-256 of \"1\\n\"");
	for (i = 1; i < (int)t.n; i++) {
		if (strcmp(t.v[i - 1].path, t.v[i].path) >= 0)
			break;
	}
	is_int((int)t.n, i, "sorted by path");
	tree_free(&t);

	s = ssh_fingerprint((const unsigned char *)"abc", 3);
	is_string("SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0", s,
	    "fingerprint is base64 SHA-256 without padding");
	free(s);
	s = ssh_quote("it's");
	is_string("'it'\\''s'", s, "shell quoting");
	free(s);

	{
		char *user, *host;
		int port;

		ok(remote_parse_address("ec2-user@10.0.0.1:2222", &user, &host,
		    &port, &cause) == 0, "user@host:port parses");
		is_string("ec2-user", user, "user");
		is_string("10.0.0.1", host, "host");
		is_int(2222, port, "port");
		free(user);
		free(host);
		ok(remote_parse_address("127.0.0.2", &user, &host, &port,
		    &cause) == 0 && user == NULL && port == 0 &&
		    strcmp(host, "127.0.0.2") == 0, "a bare host");
		free(host);
		ok(remote_parse_address("[::1]:22", &user, &host, &port,
		    &cause) == 0 && strcmp(host, "::1") == 0 && port == 22,
		    "[IPv6]:port");
		free(host);
		ok(remote_parse_address("h:99999", &user, &host, &port,
		    &cause) == -1 && strstr(cause, "[user@]host[:port]") !=
		    NULL, "a bad port is refused with the expected form");
		free(cause);
		cause = NULL;
		ok(remote_parse_address("@h", &user, &host, &port, &cause) ==
		    -1, "an empty user is refused");
		free(cause);
	}
	return done_testing();
}
