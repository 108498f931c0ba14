/* strbuf, CSV quoting, fs helpers. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

static char *
csv(const char *field)
{
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_add_csv(&sb, field);
	return strbuf_detach(&sb);
}

int
main(void)
{
	struct strbuf sb;
	char *s, *cause = NULL, *path, *data;
	const char *dir;
	struct stat st;
	size_t len;
	char buf[32];

	plan_lazy();
	strbuf_init(&sb);
	strbuf_addf(&sb, "%d-%s", 42, "x");
	strbuf_adds(&sb, "yz");
	is_string("42-xyz", sb.buf, "strbuf_addf and adds append");
	is_int(6, (long long)sb.len, "strbuf length is tracked");
	for (int i = 0; i < 1000; i++)
		strbuf_addc(&sb, 'a');
	is_int(1006, (long long)strlen(sb.buf), "strbuf grows");
	strbuf_free(&sb);

	s = csv("plain");
	is_string("plain", s, "CSV: plain field is bare");
	free(s);
	s = csv("a,b");
	is_string("\"a,b\"", s, "CSV: comma is quoted");
	free(s);
	s = csv("say \"hi\"");
	is_string("\"say \"\"hi\"\"\"", s, "CSV: quotes are doubled");
	free(s);
	s = csv("two\nlines");
	is_string("\"two\nlines\"", s, "CSV: newline is quoted");
	free(s);

	dir = tap_tmpdir();
	path = xprintf("%s/a/b/c", dir);
	ok(fs_mkdir_p(path, 0755, &cause) == 0 && fs_is_dir(path),
	    "fs_mkdir_p makes nested folders");
	ok(fs_mkdir_p(path, 0755, &cause) == 0, "fs_mkdir_p twice is fine");
	free(path);

	path = xprintf("%s/secret", dir);
	ok(fs_write_atomic(path, "hello", 5, 0600, &cause) == 0,
	    "fs_write_atomic writes");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "fs_write_atomic keeps the mode asked for");
	data = fs_read_file(path, &len, &cause);
	ok(data != NULL && len == 5 && strcmp(data, "hello") == 0,
	    "fs_read_file reads it back");
	free(data);
	free(path);

	path = xprintf("%s/missing", dir);
	ok(fs_read_file(path, NULL, &cause) == NULL && cause != NULL &&
	    strstr(cause, "missing") != NULL,
	    "fs_read_file on a missing file names the path");
	free(cause);
	cause = NULL;
	free(path);

	path = xprintf("%s/a", dir);
	ok(fs_remove_tree(path, &cause) == 0 && !fs_is_dir(path),
	    "fs_remove_tree removes a tree");
	free(path);

	s = fs_join("/x/", "y");
	is_string("/x/y", s, "fs_join does not double the slash");
	free(s);
	time_format_duration(3.25, buf, sizeof buf);
	is_string("3.2s", buf, "durations under a minute in seconds");
	time_format_duration(125, buf, sizeof buf);
	is_string("2m05s", buf, "durations in minutes");
	time_format_duration(3725, buf, sizeof buf);
	is_string("1h02m", buf, "durations in hours");
	return done_testing();
}
