/* Records are checked when loaded and when saved; a save never rolls a
 * state back; one command at a time holds a run set. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "history/history.h"
#include "tap.h"
#include "util/fs.h"
#include "util/xmalloc.h"

/* A cloud record as fanout writes it, with two resources. */
static json_t *
good_record(void)
{
	static const char *const deps[] = { "key_pair", NULL };
	json_t *rec, *res;

	rec = history_new("cloud", "demo");
	json_object_set_new(rec, "state", json_string("creating"));
	json_object_set_new(rec, "provider", json_string("aws"));
	json_object_set_new(rec, "region", json_string("us-east-1"));
	res = history_resource_intent(rec, "key_pair", "fanout-x", "us-east-1",
	    NULL, NULL);
	history_resource_set(res, "created", "key-1");
	history_resource_intent(rec, "instance", "bastion", "us-east-1",
	    "tok", deps);
	return rec;
}

/* history_check on rec after a change; returns the cause (or NULL). */
static char *
check_after(const char *change)
{
	json_t *rec = good_record(), *res0, *res1;
	char *why = NULL;

	res0 = json_array_get(json_object_get(rec, "resources"), 0);
	res1 = json_array_get(json_object_get(rec, "resources"), 1);
	if (strcmp(change, "no state") == 0)
		json_object_del(res0, "state");
	else if (strcmp(change, "no kind") == 0)
		json_object_del(res1, "kind");
	else if (strcmp(change, "state 7") == 0)
		json_object_set_new(res1, "state", json_integer(7));
	else if (strcmp(change, "state gone") == 0)
		json_object_set_new(res1, "state", json_string("gone"));
	else if (strcmp(change, "created, no id") == 0)
		json_object_set_new(res0, "id", json_null());
	else if (strcmp(change, "depends_on 1") == 0)
		json_object_set_new(res1, "depends_on", json_pack("[i]", 1));
	else if (strcmp(change, "resources {}") == 0)
		json_object_set_new(rec, "resources", json_object());
	else if (strcmp(change, "resource string") == 0)
		json_array_set_new(json_object_get(rec, "resources"), 1,
		    json_string("x"));
	else if (strcmp(change, "no region") == 0)
		json_object_del(rec, "region");
	else if (strcmp(change, "version 9") == 0)
		json_object_set_new(rec, "version", json_integer(9));
	else if (strcmp(change, "ssh []") == 0)
		json_object_set_new(rec, "ssh", json_array());
	else if (strcmp(change, "bad time") == 0)
		json_object_set_new(rec, "created_at", json_string("yesterday"));
	else if (strcmp(change, "runs[0].tasks -1") == 0)
		json_object_set_new(rec, "runs", json_pack("[{s:i}]", "tasks",
		    -1));
	else if (strcmp(change, "role boss") == 0)
		json_object_set_new(res1, "role", json_string("boss"));
	else if (strcmp(change, "login_user 0") == 0)
		json_object_set_new(res1, "login_user", json_integer(0));
	else if (strcmp(change, "ingress cidr and group") == 0)
		json_object_set_new(res0, "ingress", json_pack("[{s:s, s:s, "
		    "s:s}]", "protocol", "all", "cidr", "0.0.0.0/0", "group",
		    "sg-1"));
	else if (strcmp(change, "ingress no source") == 0)
		json_object_set_new(res0, "ingress", json_pack("[{s:s, s:i}]",
		    "protocol", "tcp", "port", 22));
	else if (strcmp(change, "ingress no protocol") == 0)
		json_object_set_new(res0, "ingress", json_pack("[{s:s}]",
		    "group", "sg-1"));
	else if (strcmp(change, "ingress port 70000") == 0)
		json_object_set_new(res0, "ingress", json_pack("[{s:s, s:i, "
		    "s:s}]", "protocol", "tcp", "port", 70000, "cidr",
		    "1.2.3.4/32"));
	else if (strcmp(change, "ingress [1]") == 0)
		json_object_set_new(res0, "ingress", json_pack("[i]", 1));
	else if (strcmp(change, "head_instance_type 3") == 0)
		json_object_set_new(rec, "answers", json_pack("{s:i}",
		    "head_instance_type", 3));
	if (history_check(rec, NULL, &why) == 0)
		why = NULL;
	json_decref(rec);
	return why;
}

static void
check_case(const char *change, const char *want)
{
	char *why = check_after(change);

	ok(why != NULL && strstr(why, want) != NULL, "%s: refused, '%s'",
	    change, want);
	if (why != NULL && strstr(why, want) == NULL)
		diag("cause: %s", why);
	free(why);
}

static json_t *
disk(const char *id)
{
	char *cause = NULL;
	json_t *r = history_load(id, &cause);

	if (r == NULL)
		bail("%s", cause);
	return r;
}

int
main(void)
{
	json_t *rec, *res, *stale, *back, *list, *damaged;
	char *dir, *cause = NULL, *why = NULL, *id, *path, *text;
	size_t broken;
	int fd, fd2, status;
	pid_t pid;

	plan_lazy();
	dir = xprintf("%s/hist", tap_tmpdir());
	setenv("FANOUT_HISTORY_DIR", dir, 1);

	/* An empty (or missing) history folder lists nothing. */
	list = history_list(&broken, &cause);
	ok(list != NULL && json_array_size(list) == 0 && broken == 0,
	    "no history folder: an empty list");
	json_decref(list);
	fs_mkdir_p(dir, 0700, &cause);
	list = history_scan(&damaged, &cause);
	ok(list != NULL && json_array_size(list) == 0 &&
	    json_array_size(damaged) == 0, "an empty history folder: an empty "
	    "list");
	json_decref(list);
	json_decref(damaged);

	/* The check: what fanout writes passes, each damage is named. */
	rec = good_record();
	ok(history_check(rec, NULL, &why) == 0, "a record as fanout writes it "
	    "passes the check");
	json_decref(rec);
	check_case("no state", "resources[0].state is missing");
	check_case("no kind", "resources[1].kind is missing");
	check_case("state 7", "resources[1].state is a number, not a "
	    "non-empty string");
	check_case("state gone", "resources[1].state is 'gone', not intent, "
	    "created or deleted");
	check_case("created, no id", "resources[0].id is missing, but the "
	    "state is created");
	check_case("depends_on 1", "resources[1].depends_on is an array, not "
	    "an array of strings");
	check_case("resources {}", "resources is an object, not an array");
	check_case("resource string", "resources[1] is a string, not an "
	    "object");
	check_case("no region", "region is missing");
	check_case("version 9", "version is 9, newer than this fanout reads");
	check_case("ssh []", "ssh is an array, not an object");
	check_case("bad time", "created_at is 'yesterday', not a time");
	check_case("runs[0].tasks -1", "runs[0].tasks is a number, not a "
	    "whole number, 0 or more");

	/* What a cluster's resources add: a role, the image's login user,
	 * rules that let in a group. */
	rec = good_record();
	res = json_array_get(json_object_get(rec, "resources"), 1);
	json_object_set_new(res, "role", json_string("compute"));
	json_object_set_new(res, "login_user", json_string("admin"));
	res = json_array_get(json_object_get(rec, "resources"), 0);
	json_object_set_new(res, "ingress", json_pack("[{s:s, s:i, s:s}, "
	    "{s:s, s:s}]", "protocol", "tcp", "port", 22, "cidr",
	    "203.0.113.7/32", "protocol", "all", "group", "sg-1"));
	json_object_set_new(rec, "answers", json_pack("{s:s, s:s, s:i}",
	    "engine", "slurm", "head_instance_type", "t3.small", "nodes", 3));
	ok(history_check(rec, NULL, &why) == 0, "a cluster's record (role, "
	    "login_user, rules from a group, head_instance_type) passes");
	json_decref(rec);
	check_case("role boss", "resources[1].role is 'boss', not head or "
	    "compute");
	check_case("login_user 0", "resources[1].login_user is a number, not "
	    "a non-empty string");
	check_case("ingress cidr and group", "resources[0].ingress[0].cidr or "
	    "group must be given, and only one of them");
	check_case("ingress no source", "resources[0].ingress[0].cidr or group "
	    "must be given");
	check_case("ingress no protocol", "resources[0].ingress[0].protocol is "
	    "missing");
	check_case("ingress port 70000", "resources[0].ingress[0].port is not "
	    "a port");
	check_case("ingress [1]", "resources[0].ingress[0] is a number, not an "
	    "object");
	check_case("head_instance_type 3", "answers.head_instance_type is a "
	    "number, not a string or null");

	/* Loading names the record, the field and the file; a list skips
	 * it and gives the same cause. */
	rec = good_record();
	id = xstrdup(history_str(rec, "id", ""));
	ok(history_save(rec, &cause) == 0, "a good record saves");
	path = history_file("fo-20260101-bad1", ".json");
	text = xstrdup("{\"version\":1,\"id\":\"fo-20260101-bad1\",\"kind\":"
	    "\"cloud\",\"project\":\"p\",\"created_at\":"
	    "\"2026-01-01T00:00:00Z\",\"state\":\"active\",\"provider\":"
	    "\"aws\",\"region\":\"us-east-1\",\"resources\":[{\"kind\":"
	    "\"key_pair\",\"name\":\"k\",\"id\":\"key-1\"}]}");
	fs_write_atomic(path, text, strlen(text), 0600, &cause);
	free(text);
	ok(history_load("fo-20260101-bad1", &cause) == NULL, "a record whose "
	    "resource has no state does not load");
	text = xprintf("history record fo-20260101-bad1: resources[0].state is "
	    "missing (%s); move it aside or restore it", path);
	is_string(text, cause, "the cause names the record, the field, the "
	    "file and what to do");
	free(text);
	free(cause);
	cause = NULL;
	list = history_scan(&damaged, &cause);
	is_int(1, (long long)json_array_size(list), "the list holds the good "
	    "record only");
	is_int(1, (long long)json_array_size(damaged), "and one cause");
	ok(strstr(json_string_value(json_array_get(damaged, 0)),
	    "resources[0].state is missing") != NULL, "the cause of the "
	    "skipped one names its field");
	json_decref(list);
	json_decref(damaged);
	free(path);

	/* A save of a record that would not load is refused. */
	json_object_set_new(json_array_get(json_object_get(rec, "resources"),
	    1), "state", json_string("maybe"));
	ok(history_save(rec, &cause) != 0 && strstr(cause,
	    "resources[1].state is 'maybe'") != NULL, "a record that would "
	    "not load back is not saved");
	free(cause);
	cause = NULL;
	json_object_set_new(json_array_get(json_object_get(rec, "resources"),
	    1), "state", json_string("intent"));

	/* No save rolls a state back. stale is what a slow create holds
	 * while a cleanup deletes everything. */
	stale = json_deep_copy(rec);
	history_resource_set(json_array_get(json_object_get(rec, "resources"),
	    0), "deleted", NULL);
	history_resource_set(json_array_get(json_object_get(rec, "resources"),
	    1), "deleted", NULL);
	json_object_set_new(rec, "state", json_string("deleting"));
	ok(history_save(rec, &cause) == 0, "deleting saves over creating");
	json_object_set_new(stale, "state", json_string("active"));
	ok(history_save(stale, &cause) != 0 && strstr(cause, "is deleting on "
	    "disk") != NULL && strstr(cause, "not saving it as active") !=
	    NULL, "active is not saved over deleting");
	free(cause);
	cause = NULL;
	json_object_set_new(rec, "state", json_string("deleted"));
	ok(history_save(rec, &cause) == 0, "deleted saves over deleting");
	ok(history_save(stale, &cause) != 0 && strstr(cause, "is deleted on "
	    "disk") != NULL, "active is not saved over deleted");
	free(cause);
	cause = NULL;
	json_object_set_new(stale, "state", json_string("deleting"));
	ok(history_save(stale, &cause) != 0 && strstr(cause, "not saving it "
	    "as deleting") != NULL, "deleting is not saved over deleted");
	free(cause);
	cause = NULL;
	json_object_set_new(stale, "state", json_string("deleted"));
	ok(history_save(stale, &cause) != 0 && strstr(cause, "key_pair "
	    "fanout-x of run set") != NULL && strstr(cause, "is deleted on "
	    "disk") != NULL && strstr(cause, "not saving it as created") !=
	    NULL, "a deleted resource is not saved as created");
	free(cause);
	cause = NULL;
	json_array_remove(json_object_get(stale, "resources"), 0);
	history_resource_set(json_array_get(json_object_get(stale,
	    "resources"), 0), "deleted", NULL);
	/* (what is left must not name the dropped one's kind) */
	json_object_set_new(json_array_get(json_object_get(stale,
	    "resources"), 0), "depends_on", json_array());
	ok(history_save(stale, &cause) != 0 && strstr(cause, "is on disk but "
	    "not in this save") != NULL, "a resource is not dropped from the "
	    "record");
	free(cause);
	cause = NULL;
	back = disk(id);
	is_string("deleted", history_str(back, "state", NULL), "on disk: "
	    "still deleted");
	is_string("deleted", history_str(json_array_get(json_object_get(back,
	    "resources"), 0), "state", NULL), "on disk: the key pair still "
	    "deleted");
	json_decref(back);
	json_decref(stale);

	/* A record on disk that does not load is not overwritten. */
	path = history_file(id, ".json");
	fs_write_atomic(path, "{\"trunc", 7, 0600, &cause);
	ok(history_save(rec, &cause) != 0 && strstr(cause, "not saving over "
	    "a record that does not load") != NULL, "a damaged record on disk "
	    "is not saved over");
	free(cause);
	cause = NULL;
	text = fs_read_file(path, NULL, &cause);
	is_string("{\"trunc", text, "and is left as it was");
	free(text);
	free(path);
	json_decref(rec);

	/* One command at a time per run set. */
	fd = history_hold(id, "create", &cause);
	ok(fd >= 0, "a run set is held");
	fd2 = history_hold(id, "cleanup", &cause);
	ok(fd2 < 0, "a second hold in the same process is refused");
	text = xprintf("run set %s is in use by pid %ld (create: ", id,
	    (long)getpid());
	ok(cause != NULL && strncmp(cause, text, strlen(text)) == 0,
	    "the refusal names the holder's pid and command");
	if (cause != NULL && strncmp(cause, text, strlen(text)) != 0)
		diag("cause: %s", cause);
	ok(cause != NULL && strstr(cause, "test-history-check") != NULL,
	    "with its command line");
	free(text);
	free(cause);
	cause = NULL;
	history_release(fd);
	fd = history_hold(id, "resume", &cause);
	ok(fd >= 0, "released, it can be held again");
	history_release(fd);

	/* A holder that dies (kill -9) frees the run set. */
	if ((pid = fork()) == 0) {
		char *c = NULL;

		if (history_hold(id, "create", &c) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	path = history_file(id, ".lock");
	text = xprintf("%ld\n", (long)pid);
	for (status = 0; status < 2000; status++) {
		char *t = fs_read_file(path, NULL, &cause);

		free(cause);
		cause = NULL;
		if (t != NULL && strncmp(t, text, strlen(text)) == 0) {
			free(t);
			break;
		}
		free(t);
		usleep(5000);
	}
	fd = history_hold(id, "cleanup", &cause);
	why = xprintf("is in use by pid %ld", (long)pid);
	ok(fd < 0 && cause != NULL && strstr(cause, why) != NULL,
	    "another process holding it is named");
	free(why);
	free(cause);
	cause = NULL;
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fd = history_hold(id, "cleanup", &cause);
	ok(fd >= 0, "once that process is killed, the run set is free");
	history_release(fd);
	ok(history_hold("../x", "create", &cause) < 0 && strstr(cause,
	    "not a run-set id") != NULL, "a path is not held");
	free(cause);
	free(text);
	free(path);
	free(id);
	free(dir);
	return done_testing();
}
