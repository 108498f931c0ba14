/* The journal: intent -> created -> deleted written to disk at each step,
 * under the lock, also from many threads at once. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/provider.h"
#include "history/history.h"
#include "tap.h"
#include "util/xmalloc.h"

static const char *
fake_region(void *s)
{
	(void)s;
	return "us-east-1";
}

static const struct provider fake = { .name = "fake",
    .region = fake_region };

static json_t *
on_disk(const char *id)
{
	char *cause = NULL;
	json_t *r = history_load(id, &cause);

	if (r == NULL)
		bail("%s", cause);
	return r;
}

static const char *
disk_state(const char *id, size_t i)
{
	static char buf[32];
	json_t *r = on_disk(id);
	const char *s = json_string_value(json_object_get(json_array_get(
	    json_object_get(r, "resources"), i), "state"));

	snprintf(buf, sizeof buf, "%s", s != NULL ? s : "(none)");
	json_decref(r);
	return buf;
}

struct worker {
	struct cloud_run	*run;
	int			 n;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	char name[32], *cause = NULL;
	json_t *res;
	int i;

	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof name, "r%d-%d", w->n, i);
		res = cloud_intent(w->run, "thing", name, NULL, NULL, &cause);
		if (res == NULL || cloud_created(w->run, res, name, &cause) !=
		    0)
			return cause;
	}
	return NULL;
}

int
main(void)
{
	static const char *const deps[] = { "key_pair", NULL };
	struct cloud_run run;
	struct worker w[6];
	pthread_t t[6];
	char *dir, *cause = NULL, *id;
	json_t *rec, *res, *again, *back;
	void *err;
	size_t i, created = 0;
	int fails = 0;

	plan_lazy();
	dir = xprintf("%s/hist", tap_tmpdir());
	setenv("FANOUT_HISTORY_DIR", dir, 1);
	unsetenv("FANOUT_CRASH_AFTER");
	rec = history_new("cloud", "demo");
	json_object_set_new(rec, "provider", json_string("aws"));
	json_object_set_new(rec, "region", json_string("us-east-1"));
	json_object_set_new(rec, "state", json_string("creating"));
	id = xstrdup(json_string_value(json_object_get(rec, "id")));
	memset(&run, 0, sizeof run);
	run.provider = &fake;
	run.rec = rec;
	run.id = id;
	pthread_mutex_init(&run.lock, NULL);

	res = cloud_intent(&run, "instance", "bastion", "tok-1", deps, &cause);
	ok(res != NULL, "an intent is journaled");
	is_string("intent", disk_state(id, 0), "on disk: intent");
	back = on_disk(id);
	is_string("tok-1", json_string_value(json_object_get(json_array_get(
	    json_object_get(back, "resources"), 0), "token")),
	    "on disk: the client token, before the call");
	ok(json_is_null(json_object_get(json_array_get(json_object_get(back,
	    "resources"), 0), "id")), "on disk: no id yet");
	json_decref(back);
	again = cloud_intent(&run, "instance", "bastion", "tok-1", deps,
	    &cause);
	ok(again == res, "a second intent for the same resource reuses it");
	ok(cloud_created(&run, res, "i-1", &cause) == 0, "created journaled");
	is_string("created", disk_state(id, 0), "on disk: created");
	ok(cloud_resource_set(&run, res, "public_ip", json_string("1.2.3.4"),
	    &cause) == 0, "a resource field is saved");
	ok(cloud_deleted(&run, res, &cause) == 0, "deleted journaled");
	is_string("deleted", disk_state(id, 0), "on disk: deleted");
	back = on_disk(id);
	ok(json_is_string(json_object_get(json_array_get(json_object_get(back,
	    "resources"), 0), "deleted_at")), "on disk: deleted_at");
	is_string("i-1", json_string_value(json_object_get(json_array_get(
	    json_object_get(back, "resources"), 0), "id")),
	    "on disk: the id stays after deletion");
	json_decref(back);
	cloud_record_put(&run, "ssh_cidr", json_string("203.0.113.7/32"));
	back = on_disk(id);
	ok(json_object_get(back, "ssh_cidr") == NULL,
	    "cloud_record_put waits for the next save");
	json_decref(back);
	ok(cloud_record_set(&run, "state", json_string("active"), &cause) ==
	    0, "cloud_record_set saves");
	back = on_disk(id);
	is_string("203.0.113.7/32", json_string_value(json_object_get(back,
	    "ssh_cidr")), "both keys are on disk now");
	json_decref(back);

	/* Six threads journaling at once. */
	for (i = 0; i < 6; i++) {
		w[i].run = &run;
		w[i].n = (int)i;
		pthread_create(&t[i], NULL, worker_main, &w[i]);
	}
	for (i = 0; i < 6; i++) {
		pthread_join(t[i], &err);
		if (err != NULL) {
			diag("%s", (char *)err);
			free(err);
			fails++;
		}
	}
	is_int(0, fails, "no journal call failed under threads");
	back = on_disk(id);
	json_array_foreach(json_object_get(back, "resources"), i, res) {
		if (strcmp(json_string_value(json_object_get(res, "state")),
		    "created") == 0)
			created++;
	}
	is_int(60, (long long)created, "all 60 resources are on disk, "
	    "created");
	json_decref(back);
	pthread_mutex_destroy(&run.lock);
	json_decref(rec);
	free(id);
	free(dir);
	return done_testing();
}
