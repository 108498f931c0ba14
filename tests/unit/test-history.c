/* History records: where they live, atomic save, load errors, listing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "history/history.h"
#include "tap.h"
#include "util/fs.h"
#include "util/xmalloc.h"

int
main(void)
{
	json_t *rec, *back, *list, *res;
	char *dir, *cause = NULL, *id, *path, *text;
	const char *deps[] = { "keypair", NULL };
	struct stat st;
	size_t broken;

	plan_lazy();
	unsetenv("FANOUT_HISTORY_DIR");
	setenv("XDG_STATE_HOME", "/state", 1);
	dir = history_dir();
	is_string("/state/fanout/history", dir, "XDG_STATE_HOME is honoured");
	free(dir);
	dir = xprintf("%s/hist", tap_tmpdir());
	setenv("FANOUT_HISTORY_DIR", dir, 1);
	path = history_dir();
	is_string(dir, path, "FANOUT_HISTORY_DIR wins");
	free(path);

	id = history_new_id();
	ok(strlen(id) == 16 && strncmp(id, "fo-", 3) == 0 && id[11] == '-',
	    "ids look like fo-YYYYMMDD-xxxx");
	free(id);

	rec = history_new("cloud", "demo");
	json_object_set_new(rec, "provider", json_string("aws"));
	json_object_set_new(rec, "region", json_string("us-east-1"));
	res = history_resource_intent(rec, "instance", "bastion", "us-east-1",
	    "tok-1", deps);
	ok(res != NULL, "a resource intent is added");
	history_resource_set(res, "created", "i-123");
	ok(history_save(rec, &cause) == 0, "a record saves");
	id = xstrdup(json_string_value(json_object_get(rec, "id")));
	path = history_file(id, ".json");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "the record file is 0600");
	ok(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700,
	    "the history dir is 0700");

	back = history_load(id, &cause);
	ok(back != NULL, "the record loads back");
	res = history_resource(back, "instance", "bastion");
	is_string("i-123", json_string_value(json_object_get(res, "id")),
	    "the resource id was kept");
	is_string("created", json_string_value(json_object_get(res, "state")),
	    "the resource state was kept");
	is_string("tok-1", json_string_value(json_object_get(res, "token")),
	    "the client token was kept");
	json_decref(back);

	ok(history_load("fo-nope", &cause) == NULL &&
	    strstr(cause, "no run set 'fo-nope'") != NULL,
	    "a missing id is named");
	free(cause);
	cause = NULL;
	ok(history_load("../etc/passwd", &cause) == NULL &&
	    strstr(cause, "not a run-set id") != NULL,
	    "a path is not an id");
	free(cause);
	cause = NULL;

	/* A truncated record next to a good one. */
	text = history_file("fo-20260101-dead", ".json");
	fs_write_atomic(text, "{\"id\": \"fo-2026", 15, 0600, &cause);
	ok(history_load("fo-20260101-dead", &cause) == NULL &&
	    strstr(cause, "is damaged") != NULL,
	    "a truncated record is reported as damaged");
	free(cause);
	cause = NULL;
	free(text);
	text = history_file("fo-20260101-list", ".json");
	fs_write_atomic(text, "[1,2]", 5, 0600, &cause);
	ok(history_load("fo-20260101-list", &cause) == NULL &&
	    strstr(cause, "not a fanout record") != NULL,
	    "JSON that is not a record is refused");
	free(cause);
	cause = NULL;
	free(text);

	list = history_list(&broken, &cause);
	ok(list != NULL && json_array_size(list) == 1,
	    "history_list returns the good record only");
	is_int(2, (long long)broken, "and counts the broken ones");
	json_decref(list);
	back = history_load(id, &cause);
	ok(back != NULL, "the good record is untouched");
	json_decref(back);

	is_double(1763816709, history_parse_timestamp("2025-11-22T13:05:09Z"),
	    0, "timestamps parse");
	text = history_timestamp(1763816709);
	is_string("2025-11-22T13:05:09Z", text, "timestamps format");
	free(text);

	json_decref(rec);
	free(path);
	free(id);
	free(dir);
	return done_testing();
}
