/* The dated price tables in the data folder (prices.h). */
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/prices.h"
#include "util/fs.h"
#include "util/xmalloc.h"

/* Checks a loaded table: -1 with a cause naming the field. */
static int
prices_check(const struct price_table *pt, json_t *t, const char *path,
    char **cause)
{
	const char *date = json_string_value(json_object_get(t, "date"));
	const char *k;
	json_t *od, *v;
	regex_t re;
	size_t i;
	int y, m, d, bad = 0;
	char end;

	if (!json_is_object(t)) {
		xasprintf(cause, "%s: not a JSON object", path);
		return -1;
	}
	if (date == NULL || sscanf(date, "%4d-%2d-%2d%c", &y, &m, &d,
	    &end) != 3 || y < 2006 || m < 1 || m > 12 || d < 1 || d > 31) {
		xasprintf(cause, "%s: 'date' must be a date YYYY-MM-DD", path);
		return -1;
	}
	if (!json_is_string(json_object_get(t, "source")) ||
	    !json_is_string(json_object_get(t, "region"))) {
		xasprintf(cause, "%s: 'source' and 'region' must be strings",
		    path);
		return -1;
	}
	od = json_object_get(t, "on_demand");
	if (!json_is_object(od) || json_object_size(od) == 0) {
		xasprintf(cause, "%s: 'on_demand' must be a map of %ss to "
		    "prices", path, pt->what);
		return -1;
	}
	if (regcomp(&re, pt->pattern, REG_EXTENDED |
	    REG_NOSUB) != 0) {
		xasprintf(cause, "%s: cannot check it (regcomp)", path);
		return -1;
	}
	json_object_foreach(od, k, v) {
		if (strlen(k) > 63 || regexec(&re, k, 0, NULL, 0) != 0) {
			xasprintf(cause, "%s: on_demand: '%.40s' is no "
			    "%s", path, k, pt->what);
			bad = 1;
			break;
		}
		if (!json_is_number(v) || !(json_number_value(v) > 0 &&
		    json_number_value(v) < 1000)) {
			xasprintf(cause, "%s: on_demand.%s must be a price "
			    "per hour (a number above 0 and below 1000)", path,
			    k);
			bad = 1;
			break;
		}
	}
	regfree(&re);
	if (bad)
		return -1;
	if (json_object_get(t, "menu") != NULL) {
		if (!json_is_array(json_object_get(t, "menu"))) {
			xasprintf(cause, "%s: 'menu' must be a list of "
			    "%ss", path, pt->what);
			return -1;
		}
		json_array_foreach(json_object_get(t, "menu"), i, v) {
			if (!json_is_string(v) || json_object_get(od,
			    json_string_value(v)) == NULL) {
				xasprintf(cause, "%s: menu[%zu] is no type of "
				    "on_demand", path, i);
				return -1;
			}
		}
	}
	return 0;
}

json_t *
price_table_get(struct price_table *pt, char **cause)
{
	json_error_t err;
	json_t *t;
	char *path, *why = NULL;

	pthread_mutex_lock(&pt->lock);
	if (pt->t == NULL && pt->why == NULL) {
		if ((path = fs_data_path(pt->file)) == NULL)
			xasprintf(&why, "%s not found; reinstall fanout or "
			    "set FANOUT_DATA_DIR", pt->file);
		else if ((t = json_load_file(path, JSON_REJECT_DUPLICATES,
		    &err)) == NULL)
			xasprintf(&why, "%s:%d: %s; reinstall fanout or set "
			    "FANOUT_DATA_DIR", path, err.line, err.text);
		else if (prices_check(pt, t, path, &why) != 0) {
			json_decref(t);
			xasprintf(&pt->why, "%s; reinstall fanout or set "
			    "FANOUT_DATA_DIR", why);
			free(why);
			why = NULL;
		} else
			pt->t = t;
		if (why != NULL)
			pt->why = why;
		free(path);
	}
	t = pt->t;
	if (t == NULL && cause != NULL)
		*cause = xstrdup(pt->why);
	pthread_mutex_unlock(&pt->lock);
	return t;
}

double
price_table_price(struct price_table *pt, const char *section,
    const char *type)
{
	json_t *t = price_table_get(pt, NULL), *v;

	if (t == NULL || type == NULL || (v = json_object_get(
	    json_object_get(t, section), type)) == NULL || !json_is_number(v))
		return -1;
	return json_number_value(v);
}
