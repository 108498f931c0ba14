/* Provider lookup, the journal helpers and the public-IP check
 * (provider.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <ctype.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cloud/http.h"
#include "cloud/provider.h"
#include "event.h"
#include "history/history.h"
#include "util/fs.h"
#include "util/xmalloc.h"

static const struct provider *const providers[] = {
	&provider_aws,
	&provider_gcp,
	NULL
};

const struct provider *
provider_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && providers[i] != NULL; i++) {
		if (strcmp(providers[i]->name, name) == 0)
			return providers[i];
	}
	return NULL;
}

const struct provider *
provider_at(size_t i)
{
	size_t n;

	for (n = 0; providers[n] != NULL; n++)
		;
	return i < n ? providers[i] : NULL;
}

/* Test hook for the crash-safety tests: FANOUT_CRASH_AFTER=<kind> kills
 * this process right after <kind>'s create call returned and before its
 * id reaches the record (the window the recovery look-up covers);
 * FANOUT_CRASH_AFTER=intent:<kind> right after <kind>'s intent is saved,
 * before its create call is sent (when = "intent:"). */
static void
cloud_crash_point(const char *when, const char *kind)
{
	const char *s = getenv("FANOUT_CRASH_AFTER");
	size_t n = strlen(when);

	if (s != NULL && strncmp(s, when, n) == 0 && strcmp(s + n, kind) == 0)
		kill(getpid(), SIGKILL);
}

static int
cloud_save_locked(struct cloud_run *run, char **cause)
{
	return history_save(run->rec, cause);
}

json_t *
cloud_intent(struct cloud_run *run, const char *kind, const char *name,
    const char *token, const char *const *depends_on, char **cause)
{
	const char *region = run->provider->region(run->session);
	json_t *res;

	pthread_mutex_lock(&run->lock);
	res = history_resource(run->rec, kind, name);
	if (res == NULL)
		res = history_resource_intent(run->rec, kind, name, region,
		    token, depends_on);
	if (cloud_save_locked(run, cause) != 0)
		res = NULL;
	else if (strcmp(history_str(run->rec, "state", ""), "creating") == 0)
		cloud_crash_point("intent:", kind);
	pthread_mutex_unlock(&run->lock);
	return res;
}

int
cloud_created(struct cloud_run *run, json_t *res, const char *id,
    char **cause)
{
	const char *kind = history_str(res, "kind", "");
	int rc;

	pthread_mutex_lock(&run->lock);
	if (strcmp(history_str(run->rec, "state", ""), "creating") == 0)
		cloud_crash_point("", kind);
	history_resource_set(res, "created", id);
	rc = cloud_save_locked(run, cause);
	pthread_mutex_unlock(&run->lock);
	return rc;
}

int
cloud_deleted(struct cloud_run *run, json_t *res, char **cause)
{
	char *ts = history_timestamp(time_now());
	int rc;

	pthread_mutex_lock(&run->lock);
	history_resource_set(res, "deleted", NULL);
	json_object_set_new(res, "deleted_at", json_string(ts));
	rc = cloud_save_locked(run, cause);
	pthread_mutex_unlock(&run->lock);
	free(ts);
	return rc;
}

void
cloud_record_put(struct cloud_run *run, const char *key, json_t *value)
{
	pthread_mutex_lock(&run->lock);
	json_object_set_new(run->rec, key, value);
	pthread_mutex_unlock(&run->lock);
}

int
cloud_record_set(struct cloud_run *run, const char *key, json_t *value,
    char **cause)
{
	int rc;

	pthread_mutex_lock(&run->lock);
	json_object_set_new(run->rec, key, value);
	rc = cloud_save_locked(run, cause);
	pthread_mutex_unlock(&run->lock);
	return rc;
}

int
cloud_power_note(struct cloud_run *run, json_t *res, const char *state,
    double at, const char *by, char **cause)
{
	json_t *power, *last;
	char *ts;
	int rc = 0;

	pthread_mutex_lock(&run->lock);
	power = json_object_get(res, "power");
	if (!json_is_array(power)) {
		power = json_array();
		json_object_set_new(res, "power", power);
	}
	last = json_array_get(power, json_array_size(power) - 1);
	if (strcmp(history_str(last, "state", "running"), state) != 0) {
		ts = history_timestamp(at);
		json_array_append_new(power, json_pack("{s:s, s:s, s:s}",
		    "state", state, "at", ts, "by", by));
		free(ts);
		rc = cloud_save_locked(run, cause);
	}
	pthread_mutex_unlock(&run->lock);
	return rc;
}

int
cloud_resource_set(struct cloud_run *run, json_t *res, const char *key,
    json_t *value, char **cause)
{
	int rc;

	pthread_mutex_lock(&run->lock);
	json_object_set_new(res, key, value);
	rc = cloud_save_locked(run, cause);
	pthread_mutex_unlock(&run->lock);
	return rc;
}

char *
cloud_checkip(char **cause)
{
	const char *url = getenv("FANOUT_CHECKIP_URL");
	struct http_request req = { 0 };
	struct http_response resp;
	struct in_addr in;
	char *ip = NULL, *s, *e;

	if (url == NULL || *url == '\0')
		url = "https://checkip.amazonaws.com";
	req.method = "GET";
	req.url = url;
	req.timeout = 15;
	if (http_perform(&req, &resp) != 0) {
		xasprintf(cause, "cannot find your public IP address: %s: %s",
		    url, resp.error);
	} else if (resp.status != 200) {
		xasprintf(cause, "cannot find your public IP address: %s "
		    "answered HTTP %ld", url, resp.status);
	} else {
		s = resp.body;
		while (isspace((unsigned char)*s))
			s++;
		e = s + strcspn(s, " \t\r\n");
		*e = '\0';
		if (inet_pton(AF_INET, s, &in) == 1)
			ip = xstrdup(s);
		else
			xasprintf(cause, "cannot find your public IP address: "
			    "%s answered '%.40s', not an IPv4 address", url, s);
	}
	http_response_free(&resp);
	return ip;
}

int
cloud_host_put(struct cloud_run *run, const char *role, const char *name,
    const char *instance_id, const char *public_ip, const char *private_ip,
    const char *user, char **cause)
{
	json_t *hosts, *h, *old = NULL, *v;
	char *key = history_file(run->id, ".key");
	size_t i;
	int rc;

	h = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s}", "role", role,
	    "name", name, "instance_id", instance_id, "host", public_ip,
	    "private_ip", private_ip, "user", user, "key_file", key);
	free(key);
	pthread_mutex_lock(&run->lock);
	if (!json_is_array(hosts = json_object_get(run->rec, "hosts"))) {
		hosts = json_array();
		json_object_set_new(run->rec, "hosts", hosts);
	}
	json_array_foreach(hosts, i, v) {
		if (strcmp(history_str(v, "name", ""), name) == 0) {
			old = v;
			break;
		}
	}
	if (old != NULL) {
		/* The same machine keeps its host key; a new one (another
		 * instance under the name) is trusted anew. */
		if ((v = json_object_get(old, "host_key")) != NULL &&
		    instance_id != NULL && strcmp(history_str(old,
		    "instance_id", ""), instance_id) == 0)
			json_object_set(h, "host_key", v);
		json_array_set_new(hosts, i, h);
	} else
		json_array_append_new(hosts, h);
	rc = cloud_save_locked(run, cause);
	pthread_mutex_unlock(&run->lock);
	return rc;
}

/* Waits (provider.h). */
int
cloud_wait_limit(double *limit, char **cause)
{
	const char *s = getenv("FANOUT_CLOUD_WAIT");
	char *end;
	double v;

	*limit = CLOUD_WAIT_SECONDS;
	if (s == NULL || *s == '\0')
		return 0;
	errno = 0;
	v = strtod(s, &end);
	if (*end != '\0' || errno != 0 || !(v >= 1 && v <= 86400)) {
		xasprintf(cause, "FANOUT_CLOUD_WAIT must be a number of seconds "
		    "from 1 to 86400, not '%s'", s);
		return -1;
	}
	*limit = v;
	return 0;
}

void
cloud_poll_init(struct cloud_poll *w)
{
	char *why = NULL;

	w->start = time_mono();
	if (cloud_wait_limit(&w->limit, &why) != 0)
		free(why);	/* refused when the session was opened */
	w->delay = 0.5;
}

/* "10 minutes" or "30 s": how long a wait may take. */
static char *
cloud_poll_limit(const struct cloud_poll *w)
{
	if (w->limit >= 120 && (long)w->limit % 60 == 0)
		return xprintf("%.0f minutes", w->limit / 60);
	return xprintf("%.0f s", w->limit);
}

int
cloud_poll_next(struct cloud_run *run, struct cloud_poll *w, char **why)
{
	struct timespec ts;
	double left, d;

	left = w->limit - (time_mono() - w->start);
	d = w->delay < left ? w->delay : left;
	for (; d > 0 && !event_cancelled(run->sink); d -= 0.25) {
		ts.tv_sec = 0;
		ts.tv_nsec = (long)((d < 0.25 ? d : 0.25) * 1e9);
		nanosleep(&ts, NULL);
	}
	if (event_cancelled(run->sink)) {
		*why = xstrdup("cancelled");
		return -1;
	}
	if (left <= 0) {
		*why = cloud_poll_limit(w);
		return -1;
	}
	if ((w->delay *= 2) > 5)
		w->delay = 5;
	return 0;
}

/* Kind dispatch (provider.h). */
static const struct cloud_kind *
cloud_kind_of(struct cloud_run *run, json_t *res, char **cause)
{
	const struct cloud_kind *k = run->provider->kind_ops;
	const char *kind = history_str(res, "kind", "");

	for (; k != NULL && k->kind != NULL; k++) {
		if (strcmp(k->kind, kind) == 0)
			return k;
	}
	xasprintf(cause, "unknown resource kind '%s' in the record", kind);
	return NULL;
}

int
cloud_kind_recover(struct cloud_run *run, json_t *res, char **id,
    char **cause)
{
	const struct cloud_kind *k = cloud_kind_of(run, res, cause);

	*id = NULL;
	return k == NULL ? -1 : k->recover(run, res, id, cause);
}

int
cloud_kind_exists(struct cloud_run *run, json_t *res, char **cause)
{
	const struct cloud_kind *k = cloud_kind_of(run, res, cause);

	return k == NULL ? -1 : k->exists(run, res, cause);
}

int
cloud_kind_destroy(struct cloud_run *run, json_t *res, char **cause)
{
	const struct cloud_kind *k = cloud_kind_of(run, res, cause);

	return k == NULL ? -1 : k->destroy(run, res, cause);
}

int
cloud_kind_park(struct cloud_run *run, json_t *res, char **cause)
{
	const struct cloud_kind *k = cloud_kind_of(run, res, cause);

	if (k == NULL)
		return -1;
	return k->park == NULL ? 0 : k->park(run, res, cause);
}

int
cloud_kind_revive(struct cloud_run *run, json_t *res, char **cause)
{
	const struct cloud_kind *k = cloud_kind_of(run, res, cause);

	if (k == NULL)
		return -1;
	return k->revive == NULL ? 0 : k->revive(run, res, cause);
}
