/* What the menus name that only the wizard knows (the hooks of
 * questions.h): the cloud engines of this build, their labels and which
 * of them have nodes (src/engine), the regions of the answered provider
 * and the region its settings name, its instance types with their price
 * per hour and its default type (src/cloud). Also the menu check of create answers
 * that wizard_check makes. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/provider.h"
#include "engine/engine.h"
#include "history/history.h"
#include "run/project.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"
#include "wizard/questions.h"
#include "wizard/wizard.h"

/* The provider answered so far (aws when none is yet). */
static const struct provider *
hooks_provider(const json_t *answers, char **cause)
{
	const char *name = json_string_value(json_object_get(answers,
	    "provider"));
	const struct provider *p;

	if ((p = provider_find(name != NULL ? name : "aws")) == NULL)
		xasprintf(cause, "no provider '%s' in this build", name);
	return p;
}

static char **
hooks_add(char **list, size_t *n, const char *s)
{
	list = xreallocarray(list, *n + 2, sizeof *list);
	list[(*n)++] = xstrdup(s);
	list[*n] = NULL;
	return list;
}

/* The provider's instance types (provider.h), or NULL with a cause. */
static json_t *
hooks_types(const struct provider *p, char **cause)
{
	if (p->instance_types == NULL) {
		xasprintf(cause, "provider %s lists no instance types; give "
		    "one", p->name);
		return NULL;
	}
	return p->instance_types(cause);
}

static char **
hooks_list(const char *name, const json_t *answers, char **cause)
{
	const struct engine *e;
	const struct provider *p;
	char **list = xcalloc(1, sizeof *list);
	json_t *types, *t;
	size_t n = 0, i;

	/* The providers of this build; those that put machines in a zone
	 * (the zone question's when:). */
	if (strcmp(name, "providers") == 0 || strcmp(name, "provider.zoned") ==
	    0) {
		for (i = 0; (p = provider_at(i)) != NULL; i++) {
			if (p->zoned || strcmp(name, "providers") == 0)
				list = hooks_add(list, &n, p->name);
		}
		return list;
	}
	if (strcmp(name, "engines") == 0 || strcmp(name, "engine.nodes") ==
	    0) {
		for (i = 0; (e = engine_at(i)) != NULL; i++) {
			if (e->cloud && (e->nodes || strcmp(name, "engines") ==
			    0))
				list = hooks_add(list, &n, e->name);
		}
		return list;
	}
	/* A run set that is kept: what idle stop applies to. */
	if (strcmp(name, "cleanup_after.keep") == 0)
		return hooks_add(list, &n, "no");
	if (strcmp(name, "provider.instance_types") == 0) {
		if ((p = hooks_provider(answers, cause)) == NULL ||
		    (types = hooks_types(p, cause)) == NULL) {
			free(list);
			return NULL;
		}
		json_array_foreach(types, i, t)
			list = hooks_add(list, &n, json_string_value(
			    json_object_get(t, "name")));
		json_decref(types);
		return list;
	}
	if (strcmp(name, "provider.regions") == 0) {
		if ((p = hooks_provider(answers, cause)) == NULL) {
			free(list);
			return NULL;
		}
		for (i = 0; p->regions != NULL && p->regions[i] != NULL; i++)
			list = hooks_add(list, &n, p->regions[i]);
		return list;
	}
	free(list);
	xasprintf(cause, "no list '%s' in this build", name);
	return NULL;
}

/* The machines' type that fanout.yaml names (resources.instance_type),
 * or "" when vCPUs or memory are asked (answered, or in fanout.yaml)
 * and no type is: the provider picks the cheapest that fits; NULL when
 * neither (the provider's default). */
static const char *
hooks_project_type(const json_t *answers)
{
	static __thread char type[72];
	const char *dir = history_str(answers, "project", NULL);
	struct project pr;
	char *why = NULL;
	int sized = 0;

	type[0] = '\0';
	if (dir != NULL && project_load(dir, &pr, &why) == 0) {
		if (pr.resources.instance_type != NULL)
			snprintf(type, sizeof type, "%s",
			    pr.resources.instance_type);
		sized = pr.resources.cpus > 0 || pr.resources.memory > 0;
		project_free(&pr);
	}
	free(why);
	if (type[0] != '\0')
		return type;
	if (sized || (json_object_get(answers, "cpus") != NULL &&
	    !json_is_null(json_object_get(answers, "cpus"))) ||
	    (json_object_get(answers, "memory") != NULL &&
	    !json_is_null(json_object_get(answers, "memory"))))
		return "";
	return NULL;
}

static char *
hooks_value(const char *name, const json_t *answers, char **cause)
{
	const struct provider *p;

	if (strcmp(name, "provider.instance_type") == 0 ||
	    strcmp(name, "provider.head_type") == 0) {
		const char *def;

		if ((p = hooks_provider(answers, cause)) == NULL)
			return NULL;
		if (strcmp(name, "provider.instance_type") == 0 &&
		    (def = hooks_project_type(answers)) != NULL)
			return def[0] == '\0' ? xstrdup("") : xstrdup(def);
		def = strcmp(name, "provider.head_type") == 0 &&
		    p->default_head_type != NULL ? p->default_head_type :
		    p->default_instance_type;
		if (def == NULL) {
			xasprintf(cause, "provider %s has no default instance "
			    "type; give one", p->name);
			return NULL;
		}
		return xstrdup(def);
	}
	if (strcmp(name, "provider.region") != 0)
		return NULL;
	if ((p = hooks_provider(answers, cause)) == NULL)
		return NULL;
	if (p->config_region == NULL) {
		xasprintf(cause, "provider %s has no region setting; give one",
		    p->name);
		return NULL;
	}
	return p->config_region(cause);
}

/* An engine's words ("cluster (slurm)"), an instance type with its price
 * per hour ("c5.large  $0.085/h"). */
static char *
hooks_label(const char *name, const char *item, const json_t *answers)
{
	const struct engine *e;
	const struct provider *p;
	json_t *types, *t, *h;
	char *s = NULL, *why = NULL;
	size_t i;

	if (strcmp(name, "engines") == 0 || strcmp(name, "engine.nodes") ==
	    0) {
		e = engine_find(item);
		return e != NULL && e->label != NULL ? xstrdup(e->label) : NULL;
	}
	if (strcmp(name, "provider.instance_types") != 0 ||
	    (p = hooks_provider(answers, &why)) == NULL ||
	    (types = hooks_types(p, &why)) == NULL) {
		free(why);
		return NULL;
	}
	json_array_foreach(types, i, t) {
		h = json_object_get(t, "hourly_usd");
		if (strcmp(history_str(t, "name", ""), item) == 0 &&
		    json_is_number(h)) {
			s = xprintf("%s  $%g/h", item, json_number_value(h));
			break;
		}
	}
	json_decref(types);
	return s;
}

/* A provider's name as people write it: "AWS", "GCP". */
static char *
hooks_shout(const char *name)
{
	char *s = xstrdup(name), *c;

	for (c = s; *c != '\0'; c++)
		*c = (char)toupper((unsigned char)*c);
	return s;
}

/* "a" or "an" before a provider's name as people write it. */
static const char *
hooks_a(const char *up)
{
	return strchr("AEIOU", up[0]) != NULL && up[0] != '\0' ? "an" : "a";
}

static int
hooks_has_region(const struct provider *p, const char *region)
{
	size_t i;

	for (i = 0; p->regions != NULL && p->regions[i] != NULL; i++) {
		if (strcmp(p->regions[i], region) == 0)
			return 1;
	}
	return 0;
}

/* "us-east-1, us-east-2, ... (17 in all)": the first of p's regions. */
static char *
hooks_regions_text(const struct provider *p)
{
	struct strbuf sb;
	size_t i, n;

	strbuf_init(&sb);
	for (n = 0; p->regions != NULL && p->regions[n] != NULL; n++)
		;
	for (i = 0; i < n && i < 4; i++)
		strbuf_addf(&sb, "%s%s", i > 0 ? ", " : "", p->regions[i]);
	if (n > 4)
		strbuf_addf(&sb, ", ... (%zu in all)", n);
	if (n == 0)
		strbuf_adds(&sb, "none");
	return strbuf_detach(&sb);
}

/* The region question: one of the answered provider's regions; a zone of
 * one (a zoned provider) or another provider's region is told apart. */
static int
hooks_check_region(const char *text, const json_t *answers, char **cause)
{
	const struct provider *p, *o;
	char *up, *oup, *names, *zr;
	size_t i;

	if ((p = hooks_provider(answers, cause)) == NULL)
		return -1;
	if (hooks_has_region(p, text))
		return 0;
	up = hooks_shout(p->name);
	names = hooks_regions_text(p);
	zr = p->zoned && p->zone_of != NULL ? p->zone_of(text) : NULL;
	for (i = 0; (o = provider_at(i)) != NULL; i++) {
		if (o != p && hooks_has_region(o, text))
			break;
	}
	if (zr != NULL && hooks_has_region(p, zr))
		xasprintf(cause, "'%s' is a zone of %s region %s; give the "
		    "region %s and the zone as the zone (--zone %s)", text, up,
		    zr, zr, text);
	else if (o != NULL) {
		oup = hooks_shout(o->name);
		xasprintf(cause, "%s is not %s %s region (it is %s's); choose "
		    "provider %s (--provider %s), or %s %s region: %s", text,
		    hooks_a(up), up, oup, o->name, o->name, hooks_a(up), up,
		    names);
		free(oup);
	} else
		xasprintf(cause, "unknown region '%s': not %s %s region; %s "
		    "regions: %s", text, hooks_a(up), up, up, names);
	free(zr);
	free(names);
	free(up);
	return -1;
}

/* The zone question: a zone name of the answered provider that lies in
 * the answered region (whether it exists, the provider's settle says). */
static int
hooks_check_zone(const char *text, const json_t *answers, char **cause)
{
	const struct provider *p;
	const char *region = json_string_value(json_object_get(answers,
	    "region"));
	char *up, *zr;

	if ((p = hooks_provider(answers, cause)) == NULL)
		return -1;
	up = hooks_shout(p->name);
	if (!p->zoned || p->zone_of == NULL) {
		xasprintf(cause, "provider %s has no zones; leave the zone out",
		    p->name);
		free(up);
		return -1;
	}
	if ((zr = p->zone_of(text)) == NULL) {
		xasprintf(cause, "'%s' is not %s %s zone name (a region and a "
		    "letter, such as %s-b); give one, or leave it empty for "
		    "fanout to pick one", text, hooks_a(up), up,
		    region != NULL ? region : p->regions != NULL &&
		    p->regions[0] != NULL ? p->regions[0] : "REGION");
		free(up);
		return -1;
	}
	free(up);
	if (region != NULL && strcmp(zr, region) != 0) {
		xasprintf(cause, "zone %s is in region %s, not in %s; give a "
		    "zone of %s (such as %s-b), or leave it empty for fanout "
		    "to pick one", text, zr, region, region, region);
		free(zr);
		return -1;
	}
	free(zr);
	return 0;
}

static int
hooks_check(const char *name, const char *text, const json_t *answers,
    char **cause)
{
	if (strcmp(name, "provider.region") == 0)
		return hooks_check_region(text, answers, cause);
	if (strcmp(name, "provider.zone") == 0)
		return hooks_check_zone(text, answers, cause);
	xasprintf(cause, "no check '%s' in this build", name);
	return -1;
}

static const struct menu_hooks wizard_menu_hooks = {
	.list = hooks_list,
	.value = hooks_value,
	.label = hooks_label,
	.check = hooks_check,
};

void
wizard_menus_register(void)
{
	menu_set_hooks(&wizard_menu_hooks);
}

int
wizard_check_answers(const json_t *answers, char **cause)
{
	struct menu *mu;
	int rc;

	wizard_menus_register();
	if ((mu = menu_load("create", cause)) == NULL)
		return -1;
	rc = menu_check_answers(mu, answers, cause);
	menu_free(mu);
	return rc;
}
