/* The engine table (engine.h) and what every engine reads of a record's
 * hosts. */
#include <stdlib.h>
#include <string.h>

#include "cloud/provider.h"
#include "engine/engine.h"
#include "history/history.h"
#include "ssh/remote.h"
#include "util/xmalloc.h"

const struct engine engine_local = {
	.name = "local",
	.label = "this machine (local)",
	.summary = "this machine, a pool of workers",
};

static const struct engine *const engines[] = {
	&engine_local,
	&engine_bastion,
	&engine_slurm,
};

const struct engine *
engine_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < sizeof engines / sizeof engines[0];
	    i++) {
		if (strcmp(engines[i]->name, name) == 0)
			return engines[i];
	}
	return NULL;
}

const struct engine *
engine_at(size_t i)
{
	return i < sizeof engines / sizeof engines[0] ? engines[i] : NULL;
}

const struct engine *
engine_of(json_t *answers)
{
	const char *name = history_str(answers, "engine", NULL);
	const struct engine *e;

	if (name == NULL)
		return &engine_bastion;
	e = engine_find(name);
	return e != NULL && e->cloud ? e : NULL;
}

int
engine_idle_stop(json_t *answers)
{
	json_t *v = json_object_get(answers, "idle_stop");

	if (!json_is_integer(v))
		return 0;
	if (json_integer_value(v) <= 0)
		return -1;
	return json_integer_value(v) > 100000 ? 100000 :
	    (int)json_integer_value(v);
}

json_t *
engine_host(json_t *rec, const char *role)
{
	json_t *h;
	size_t i;

	json_array_foreach(json_object_get(rec, "hosts"), i, h) {
		if (strcmp(history_str(h, "role", ""), role) == 0)
			return h;
	}
	return NULL;
}

/* The value of key in the map s ("KEY=VALUE,KEY=VALUE"), or NULL. */
static char *
engine_map_get(const char *s, const char *key)
{
	size_t klen = strlen(key), n;
	const char *p = s, *eq;

	while (*p != '\0') {
		n = strcspn(p, ", ");
		eq = memchr(p, '=', n);
		if (eq != NULL && (size_t)(eq - p) == klen &&
		    strncmp(p, key, klen) == 0)
			return xstrndup(eq + 1, n - klen - 1);
		p += n;
		p += strspn(p, ", ");
	}
	return NULL;
}

int
engine_host_address(json_t *host, char **user, char **addr, int *port,
    char **cause)
{
	const char *env = getenv("FANOUT_BASTION_ADDRESS");
	const char *keys[3];
	char *v = NULL;
	size_t i;
	int rc;

	*user = NULL;
	*addr = NULL;
	*port = (int)json_integer_value(json_object_get(host, "port"));
	if (json_is_true(json_object_get(host, "pinned")))
		env = NULL;	/* the user's own address (run --host) */
	if (env != NULL && *env != '\0' && strchr(env, '=') == NULL) {
		/* One address: the head's. */
		if (strcmp(history_str(host, "role", ""), "head") == 0)
			return remote_parse_address(env, user, addr, port,
			    cause);
	} else if (env != NULL && *env != '\0') {
		keys[0] = history_str(host, "instance_id", NULL);
		keys[1] = history_str(host, "name", NULL);
		keys[2] = history_str(host, "role", NULL);
		for (i = 0; i < 3 && v == NULL; i++) {
			if (keys[i] != NULL)
				v = engine_map_get(env, keys[i]);
		}
		if (v != NULL) {
			rc = remote_parse_address(v, user, addr, port, cause);
			if (rc != 0) {
				free(*cause);
				xasprintf(cause, "FANOUT_BASTION_ADDRESS: bad "
				    "address '%s'; give KEY=[user@]host[:port]"
				    ",...", v);
			}
			free(v);
			return rc;
		}
	}
	if (history_str(host, "host", NULL) != NULL)
		*addr = xstrdup(history_str(host, "host", NULL));
	return 0;
}
