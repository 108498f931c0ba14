/* A record is checked once, where it enters (history_load, history_list):
 * every key later code reads has the type it expects, or the record is
 * refused with the first field that is wrong. Keys this fanout does not
 * read are left alone (later versions add keys). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history/history.h"
#include "util/xmalloc.h"

/* What a field may hold. */
enum check_type {
	CHECK_STRING,		/* a non-empty string */
	CHECK_TEXT,		/* a string, may be empty */
	CHECK_TEXT_NULL,	/* a string or null */
	CHECK_TIME,		/* "2026-11-22T13:05:09Z" */
	CHECK_TIME_NULL,	/* such a time, or null */
	CHECK_COUNT,		/* an integer >= 0, or null */
	CHECK_NUMBER,		/* a number >= 0, or null */
	CHECK_BOOL,
	CHECK_OBJECT,
	CHECK_OBJECT_NULL,
	CHECK_ARRAY,
	CHECK_STRINGS,		/* an array of non-empty strings */
};

struct check_field {
	const char	*key;
	enum check_type	 type;
	int		 required;	/* missing is an error */
};

/* Top-level keys of every record. */
static const struct check_field check_record[] = {
	{ "id", CHECK_STRING, 1 },
	{ "kind", CHECK_STRING, 1 },
	{ "project", CHECK_TEXT, 1 },
	{ "created_at", CHECK_TIME, 1 },
	{ "state", CHECK_STRING, 1 },
	{ "resources", CHECK_ARRAY, 1 },
	{ "runs", CHECK_ARRAY, 0 },
	{ "deleted_at", CHECK_TIME_NULL, 0 },
	{ "provider", CHECK_TEXT_NULL, 0 },
	{ "region", CHECK_TEXT_NULL, 0 },
	{ "project_dir", CHECK_TEXT_NULL, 0 },
	{ "host", CHECK_TEXT_NULL, 0 },
	{ "answers", CHECK_OBJECT, 0 },
	{ "identity", CHECK_OBJECT_NULL, 0 },
	{ "network", CHECK_OBJECT_NULL, 0 },
	{ "ssh_cidr", CHECK_TEXT_NULL, 0 },
	{ "image", CHECK_TEXT_NULL, 0 },
	{ "zone", CHECK_STRING, 0 },	/* a zoned provider's (GCP) */
	{ "ssh", CHECK_OBJECT, 0 },	/* before hosts: migrated on load */
	{ "hosts", CHECK_ARRAY, 0 },
	{ NULL, 0, 0 }
};

/* A cloud record names where it lives. */
static const struct check_field check_cloud[] = {
	{ "provider", CHECK_STRING, 1 },
	{ "region", CHECK_STRING, 1 },
	{ NULL, 0, 0 }
};

static const struct check_field check_resource[] = {
	{ "kind", CHECK_STRING, 1 },
	{ "name", CHECK_STRING, 1 },
	{ "state", CHECK_STRING, 1 },
	{ "id", CHECK_TEXT_NULL, 0 },
	{ "region", CHECK_TEXT_NULL, 0 },
	{ "token", CHECK_TEXT_NULL, 0 },
	{ "created_at", CHECK_TIME_NULL, 0 },
	{ "deleted_at", CHECK_TIME_NULL, 0 },
	{ "depends_on", CHECK_STRINGS, 0 },
	{ "hourly_usd", CHECK_NUMBER, 0 },
	{ "public_ip", CHECK_TEXT_NULL, 0 },
	{ "instance_type", CHECK_TEXT_NULL, 0 },
	{ "ingress", CHECK_ARRAY, 0 },
	{ "role", CHECK_STRING, 0 },		/* head, compute */
	{ "login_user", CHECK_STRING, 0 },	/* its image's */
	{ "image", CHECK_TEXT_NULL, 0 },	/* a launch template's */
	{ "spot", CHECK_STRING, 0 },		/* persistent, one-time; stop */
	{ "policy", CHECK_STRING, 0 },		/* an iam_role's inline one */
	{ "role_name", CHECK_STRING, 0 },	/* an instance_profile's */
	{ "stopped_hourly_usd", CHECK_NUMBER, 0 },	/* a machine's */
	{ "power", CHECK_ARRAY, 0 },		/* its stops and starts */
	{ "zone", CHECK_STRING, 0 },		/* a GCP machine's */
	{ "private_ip", CHECK_TEXT_NULL, 0 },	/* a GCP machine's */
	{ "public_key", CHECK_STRING, 0 },	/* a GCP ssh_key's */
	{ NULL, 0, 0 }
};

/* A rule of a resource's "ingress": what it lets in, from a CIDR block
 * or from a security group (a cluster's groups name each other). */
static const struct check_field check_ingress[] = {
	{ "protocol", CHECK_STRING, 1 },	/* tcp, all */
	{ "port", CHECK_COUNT, 0 },
	{ "cidr", CHECK_STRING, 0 },
	{ "group", CHECK_STRING, 0 },
	{ NULL, 0, 0 }
};

static const struct check_field check_run[] = {
	{ "started", CHECK_TIME_NULL, 0 },
	{ "ended", CHECK_TIME_NULL, 0 },
	{ "engine", CHECK_TEXT_NULL, 0 },
	{ "results", CHECK_TEXT_NULL, 0 },
	{ "tasks", CHECK_COUNT, 0 },
	{ "ok", CHECK_COUNT, 0 },
	{ "errors", CHECK_COUNT, 0 },
	{ "unfinished", CHECK_COUNT, 0 },
	{ "workers", CHECK_COUNT, 0 },
	{ "files_sent", CHECK_COUNT, 0 },
	{ "bytes_sent", CHECK_COUNT, 0 },
	{ "results_url", CHECK_TEXT_NULL, 0 },	/* where results went */
	{ "efficiency", CHECK_NUMBER, 0 },
	{ "serial_s", CHECK_NUMBER, 0 },
	{ "setup_s", CHECK_NUMBER, 0 },
	{ "span_s", CHECK_NUMBER, 0 },
	{ "nodes", CHECK_COUNT, 0 },
	{ NULL, 0, 0 }
};

static const struct check_field check_ssh[] = {
	{ "key_file", CHECK_STRING, 1 },
	{ "user", CHECK_STRING, 1 },
	{ "host", CHECK_TEXT_NULL, 0 },
	{ "instance_id", CHECK_TEXT_NULL, 0 },
	{ "host_key", CHECK_TEXT_NULL, 0 },
	{ NULL, 0, 0 }
};

/* A host of the run set (engine.h: engine_host). */
static const struct check_field check_host[] = {
	{ "role", CHECK_STRING, 1 },
	{ "name", CHECK_STRING, 1 },
	{ "user", CHECK_STRING, 1 },
	{ "key_file", CHECK_TEXT_NULL, 0 },
	{ "instance_id", CHECK_TEXT_NULL, 0 },
	{ "host", CHECK_TEXT_NULL, 0 },
	{ "private_ip", CHECK_TEXT_NULL, 0 },
	{ "port", CHECK_COUNT, 0 },
	{ "host_key", CHECK_TEXT_NULL, 0 },
	{ NULL, 0, 0 }
};

static const char *const check_roles[] = { "head", "compute", NULL };

/* The answers a resume reads again (the rest is the create's). */
static const struct check_field check_answers[] = {
	{ "project", CHECK_TEXT_NULL, 0 },
	{ "name", CHECK_TEXT_NULL, 0 },
	{ "provider", CHECK_TEXT_NULL, 0 },
	{ "region", CHECK_TEXT_NULL, 0 },
	{ "engine", CHECK_TEXT_NULL, 0 },
	{ "instance_type", CHECK_TEXT_NULL, 0 },
	{ "head_instance_type", CHECK_TEXT_NULL, 0 },
	{ "nodes", CHECK_COUNT, 0 },
	{ "files", CHECK_COUNT, 0 },
	{ "cleanup_after", CHECK_BOOL, 0 },
	{ "run", CHECK_BOOL, 0 },
	{ "detach", CHECK_BOOL, 0 },
	{ "idle_stop", CHECK_COUNT, 0 },
	{ NULL, 0, 0 }
};

static const char *const check_cloud_states[] = { "creating", "active",
    "stopped", "failed", "deleting", "deleted", "detached", NULL };
static const char *const check_resource_states[] = { "intent", "created",
    "deleted", NULL };
static const char *const check_kinds[] = { "local", "remote", "cloud",
    NULL };

/* What a value is, for a message: "a number", "null". */
static const char *
check_what(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
	default:
		return "null";
	}
}

static const char *
check_wanted(enum check_type t)
{
	switch (t) {
	case CHECK_STRING:
		return "a non-empty string";
	case CHECK_TEXT:
		return "a string";
	case CHECK_TEXT_NULL:
		return "a string or null";
	case CHECK_TIME:
		return "a time like 2026-11-22T13:05:09Z";
	case CHECK_TIME_NULL:
		return "a time like 2026-11-22T13:05:09Z, or null";
	case CHECK_COUNT:
		return "a whole number, 0 or more";
	case CHECK_NUMBER:
		return "a number, 0 or more";
	case CHECK_BOOL:
		return "true or false";
	case CHECK_OBJECT:
		return "an object";
	case CHECK_OBJECT_NULL:
		return "an object or null";
	case CHECK_ARRAY:
		return "an array";
	case CHECK_STRINGS:
	default:
		return "an array of strings";
	}
}

/* Sets *why to "<where><key> <text>" (printf-style text). */
static int __attribute__((format(printf, 4, 5)))
check_fail(char **why, const char *where, const char *key, const char *fmt,
    ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	xasprintf(why, "%s%s %s", where, key, text != NULL ? text :
	    "is wrong");
	free(text);
	return -1;
}

static int
check_time(const json_t *v)
{
	return json_is_string(v) &&
	    history_parse_timestamp(json_string_value(v)) >= 0;
}

/* 1 when v has type t. */
static int
check_value(const json_t *v, enum check_type t)
{
	const json_t *e;
	size_t i;

	switch (t) {
	case CHECK_STRING:
		return json_is_string(v) && *json_string_value(v) != '\0';
	case CHECK_TEXT:
		return json_is_string(v);
	case CHECK_TEXT_NULL:
		return json_is_string(v) || json_is_null(v);
	case CHECK_TIME:
		return check_time(v);
	case CHECK_TIME_NULL:
		return json_is_null(v) || check_time(v);
	case CHECK_COUNT:
		return json_is_null(v) ||
		    (json_is_integer(v) && json_integer_value(v) >= 0);
	case CHECK_NUMBER:
		return json_is_null(v) ||
		    (json_is_number(v) && json_number_value(v) >= 0);
	case CHECK_BOOL:
		return json_is_boolean(v);
	case CHECK_OBJECT:
		return json_is_object(v);
	case CHECK_OBJECT_NULL:
		return json_is_object(v) || json_is_null(v);
	case CHECK_ARRAY:
		return json_is_array(v);
	case CHECK_STRINGS:
		if (!json_is_array(v))
			return 0;
		json_array_foreach(v, i, e) {
			if (!json_is_string(e) || *json_string_value(e) == '\0')
				return 0;
		}
		return 1;
	}
	return 0;
}

/* Checks o's fields against a table; where prefixes the key in *why
 * ("resources[2]."). */
static int
check_fields(json_t *o, const struct check_field *f, const char *where,
    char **why)
{
	json_t *v;

	for (; f->key != NULL; f++) {
		if ((v = json_object_get(o, f->key)) == NULL) {
			if (f->required)
				return check_fail(why, where, f->key,
				    "is missing");
			continue;
		}
		if (check_value(v, f->type))
			continue;
		if (json_is_string(v))
			return check_fail(why, where, f->key, "is '%.40s', "
			    "not %s", json_string_value(v),
			    check_wanted(f->type));
		return check_fail(why, where, f->key, "is %s, not %s",
		    check_what(v), check_wanted(f->type));
	}
	return 0;
}

/* 0 when s is one of set; else -1 naming the allowed values. */
static int
check_one_of(const char *s, const char *const *set, const char *where,
    const char *key, char **why)
{
	char *list = NULL, *next;
	size_t i;
	int rc;

	for (i = 0; set[i] != NULL; i++) {
		if (strcmp(s, set[i]) == 0)
			return 0;
	}
	for (i = 0; set[i] != NULL; i++) {
		next = xprintf("%s%s%s", list != NULL ? list : "",
		    i == 0 ? "" : set[i + 1] == NULL ? " or " : ", ", set[i]);
		free(list);
		list = next;
	}
	rc = check_fail(why, where, key, "is '%.40s', not %s", s, list);
	free(list);
	return rc;
}

/* Each element of the array at o[key] is an object of the table's
 * shape. */
static int
check_each(json_t *o, const char *key, const struct check_field *f,
    char **why)
{
	json_t *e;
	char *where;
	size_t i;
	int rc;

	json_array_foreach(json_object_get(o, key), i, e) {
		if (!json_is_object(e)) {
			xasprintf(why, "%s[%zu] is %s, not an object", key, i,
			    check_what(e));
			return -1;
		}
		where = xprintf("%s[%zu].", key, i);
		rc = check_fields(e, f, where, why);
		free(where);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Non-zero when a resource of res not yet peeled off (done) has kind. */
static int
check_kind_among(json_t *res, const char *kind, const unsigned char *done)
{
	json_t *r;
	size_t i;

	json_array_foreach(res, i, r) {
		if (!done[i] && strcmp(history_str(r, "kind", ""), kind) == 0)
			return 1;
	}
	return 0;
}

/* The kinds do not depend on each other in a circle (teardown could
 * never start): checked here, before cleanup marks anything. A kind
 * that no resource has is no obstacle (nothing to wait for). */
static int
check_depends(json_t *res, char **why)
{
	size_t i, j, n = json_array_size(res), left = n;
	unsigned char *done;
	json_t *r, *d;
	char *where;
	int progress;

	/* Peel off the resources whose dependencies are all peeled. */
	done = xcalloc(n > 0 ? n : 1, 1);
	do {
		progress = 0;
		json_array_foreach(res, i, r) {
			if (done[i])
				continue;
			json_array_foreach(json_object_get(r, "depends_on"),
			    j, d) {
				if (check_kind_among(res, json_string_value(d),
				    done))
					break;
			}
			if (j == json_array_size(json_object_get(r,
			    "depends_on"))) {
				done[i] = 1;
				left--;
				progress = 1;
			}
		}
	} while (progress && left > 0);
	for (i = 0; left > 0 && i < n && done[i]; i++)
		;
	free(done);
	if (left > 0) {
		where = xprintf("resources[%zu].", i);
		check_fail(why, where, "depends_on", "makes the resources "
		    "depend on each other in a circle");
		free(where);
		return -1;
	}
	return 0;
}

/* res["ingress"]: each rule an object with a protocol and one source,
 * a CIDR block or a group, and a port that is one. */
static int
check_rules(json_t *res, const char *where, char **why)
{
	json_t *rule;
	char *at;
	size_t i;
	int rc = 0;

	json_array_foreach(json_object_get(res, "ingress"), i, rule) {
		at = xprintf("%singress[%zu]", where, i);
		if (!json_is_object(rule))
			rc = check_fail(why, at, "", "is %s, not an object",
			    check_what(rule));
		else {
			free(at);
			at = xprintf("%singress[%zu].", where, i);
			rc = check_fields(rule, check_ingress, at, why);
			if (rc == 0 && (json_object_get(rule, "cidr") ==
			    NULL) == (json_object_get(rule, "group") == NULL))
				rc = check_fail(why, at, "cidr", "or group "
				    "must be given, and only one of them");
			if (rc == 0 && json_integer_value(json_object_get(
			    rule, "port")) > 65535)
				rc = check_fail(why, at, "port", "is not a "
				    "port");
		}
		free(at);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* A resource's state is one of intent, created, deleted; one that was
 * created has an id; its role (when it says) is head or compute. */
static int
check_resources(json_t *rec, char **why)
{
	json_t *res;
	char *where;
	size_t i;
	int rc = 0;

	if (check_each(rec, "resources", check_resource, why) != 0)
		return -1;
	json_array_foreach(json_object_get(rec, "resources"), i, res) {
		const char *st = history_str(res, "state", "");

		where = xprintf("resources[%zu].", i);
		rc = check_one_of(st, check_resource_states, where, "state",
		    why);
		if (rc == 0 && strcmp(st, "created") == 0 &&
		    !json_is_string(json_object_get(res, "id")))
			rc = check_fail(why, where, "id", "is missing, but "
			    "the state is created");
		if (rc == 0 && json_object_get(res, "role") != NULL)
			rc = check_one_of(history_str(res, "role", ""),
			    check_roles, where, "role", why);
		if (rc == 0)
			rc = check_rules(res, where, why);
		free(where);
		if (rc != 0)
			return -1;
	}
	return check_depends(json_object_get(rec, "resources"), why);
}

/* rec["hosts"]: each a host with a known role, a port that is one, and
 * a name no other host has. */
static int
check_hosts(json_t *rec, char **why)
{
	json_t *hosts = json_object_get(rec, "hosts"), *h, *o;
	char *where;
	size_t i, j;
	int rc;

	if (check_each(rec, "hosts", check_host, why) != 0)
		return -1;
	json_array_foreach(hosts, i, h) {
		where = xprintf("hosts[%zu].", i);
		rc = check_one_of(history_str(h, "role", ""), check_roles,
		    where, "role", why);
		if (rc == 0 && json_integer_value(json_object_get(h, "port")) >
		    65535)
			rc = check_fail(why, where, "port", "is not a port");
		for (j = 0; rc == 0 && j < i; j++) {
			o = json_array_get(hosts, j);
			if (strcmp(history_str(o, "name", ""),
			    history_str(h, "name", "")) == 0)
				rc = check_fail(why, where, "name", "is '%.40s' "
				    "as hosts[%zu].name", history_str(h,
				    "name", ""), j);
		}
		free(where);
		if (rc != 0)
			return -1;
	}
	return 0;
}

int
history_check(json_t *rec, const char *id, char **why)
{
	json_t *v;

	if (!json_is_object(rec)) {
		xasprintf(why, "the file holds %s, not a fanout record",
		    check_what(rec));
		return -1;
	}
	if ((v = json_object_get(rec, "version")) == NULL)
		return check_fail(why, "", "version", "is missing");
	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return check_fail(why, "", "version", "is not a version "
		    "number");
	if (json_integer_value(v) > HISTORY_VERSION)
		return check_fail(why, "", "version", "is %lld, newer than "
		    "this fanout reads (%d): use a newer fanout",
		    (long long)json_integer_value(v), HISTORY_VERSION);
	if (check_fields(rec, check_record, "", why) != 0)
		return -1;
	if (id != NULL && strcmp(history_str(rec, "id", ""), id) != 0)
		return check_fail(why, "", "id", "is '%.40s', not the file's "
		    "name", history_str(rec, "id", ""));
	if (check_one_of(history_str(rec, "kind", ""), check_kinds, "",
	    "kind", why) != 0)
		return -1;
	if (strcmp(history_str(rec, "kind", ""), "cloud") == 0 &&
	    (check_fields(rec, check_cloud, "", why) != 0 ||
	    check_one_of(history_str(rec, "state", ""), check_cloud_states,
	    "", "state", why) != 0))
		return -1;
	if (check_resources(rec, why) != 0 ||
	    check_each(rec, "runs", check_run, why) != 0)
		return -1;
	if ((v = json_object_get(rec, "ssh")) != NULL &&
	    check_fields(v, check_ssh, "ssh.", why) != 0)
		return -1;
	if (check_hosts(rec, why) != 0)
		return -1;
	if ((v = json_object_get(rec, "answers")) != NULL &&
	    check_fields(v, check_answers, "answers.", why) != 0)
		return -1;
	return 0;
}
