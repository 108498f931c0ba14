/* The checks of the menus' questions and the one answers path: a typed
 * answer (the TUI form), an option or an answers file (the command line)
 * is checked here, so that both refuse the same answers with the same
 * message. Also defaults, the hooks for what only other layers know, and
 * path completion. No YAML here (questions.c reads the files). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>
#include <regex.h>

#include "run/project.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"
#include "wizard/questions.h"

static const struct menu_hooks *menu_hooks;

void
menu_set_hooks(const struct menu_hooks *h)
{
	menu_hooks = h;
}

char **
menu_list(const char *name, const json_t *answers, char **cause)
{
	if (menu_hooks == NULL || menu_hooks->list == NULL) {
		xasprintf(cause, "no list '%s' in this build", name);
		return NULL;
	}
	return menu_hooks->list(name, answers, cause);
}

char *
menu_label(const char *name, const char *item, const json_t *answers)
{
	char *s = NULL;

	if (name != NULL && menu_hooks != NULL && menu_hooks->label != NULL)
		s = menu_hooks->label(name, item, answers);
	return s != NULL ? s : xstrdup(item);
}

char *
question_shown(const struct question *q, const json_t *value,
    const json_t *answers)
{
	char *text = question_text(q, value), *s;

	if (q == NULL || q->type != QUESTION_CHOICE || q->choices_from == NULL)
		return text;
	s = menu_label(q->choices_from, text, answers);
	free(text);
	return s;
}

static bool
menu_list_has(char **list, const char *s)
{
	size_t i;

	for (i = 0; list != NULL && list[i] != NULL; i++) {
		if (strcmp(list[i], s) == 0)
			return true;
	}
	return false;
}

/* "a, b, c" (at most max names, then "... (N in all)"); "none" if empty. */
static char *
menu_list_text(char **list, size_t max)
{
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb);
	for (i = 0; list != NULL && list[i] != NULL; i++) {
		if (i == max) {
			while (list[i] != NULL)
				i++;
			strbuf_addf(&sb, ", ... (%zu in all)", i);
			break;
		}
		strbuf_addf(&sb, "%s%s", i > 0 ? ", " : "", list[i]);
	}
	if (i == 0)
		strbuf_adds(&sb, "none");
	return strbuf_detach(&sb);
}

/* "~/x" -> "$HOME/x"; anything else copied. */
static char *
question_expand(const char *text)
{
	const char *home = getenv("HOME");

	if (text[0] == '~' && (text[1] == '/' || text[1] == '\0') &&
	    home != NULL)
		return xprintf("%s%s", home, text + 1);
	return xstrdup(text);
}

static int
question_check_path(const struct question *q, const char *text,
    json_t **value, char **cause)
{
	struct project pr;
	char *path, *abs, *inner, *why = NULL;

	path = question_expand(text);
	if (q->must_exist && !fs_is_dir(path)) {
		xasprintf(cause, "%s: %s; give an existing folder", text,
		    fs_is_file(path) ? "is a file, not a folder" :
		    "no such folder");
		free(path);
		return -1;
	}
	if (q->must_contain != NULL) {
		inner = fs_join(path, q->must_contain);
		if (!fs_is_file(inner)) {
			xasprintf(cause, "%s has no %s; choose a folder that "
			    "holds one", text, q->must_contain);
			free(inner);
			free(path);
			return -1;
		}
		free(inner);
	}
	if (q->project) {
		if (project_load(path, &pr, &why) != 0) {
			*cause = why;
			free(path);
			return -1;
		}
		project_free(&pr);
	}
	if ((abs = fs_realpath(path, &why)) == NULL) {
		free(why);
		abs = xstrdup(path);
	}
	free(path);
	*value = json_string(abs);
	free(abs);
	return 0;
}

static int
question_check_integer(const struct question *q, const char *text,
    json_t **value, char **cause)
{
	long long v;
	char *end;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (*text == '\0' || *end != '\0' || errno != 0 ||
	    (q->has_min && v < q->min) || (q->has_max && v > q->max) ||
	    !(text[0] == '-' || (text[0] >= '0' && text[0] <= '9'))) {
		if (q->has_min && q->has_max)
			xasprintf(cause, "must be a whole number from %lld to "
			    "%lld, not '%s'", q->min, q->max, text);
		else if (q->has_min)
			xasprintf(cause, "must be a whole number of at least "
			    "%lld, not '%s'", q->min, text);
		else
			xasprintf(cause, "must be a whole number, not '%s'",
			    text);
		return -1;
	}
	*value = json_integer(v);
	return 0;
}

static int
question_check_text(const struct question *q, const json_t *answers,
    const char *text, json_t **value, char **cause)
{
	char **list, *names;
	regex_t re;
	int match;

	if (strlen(text) < q->min_length) {
		xasprintf(cause, "must be at least %zu characters long, not "
		    "'%s'", q->min_length, text);
		return -1;
	}
	if (q->max_length > 0 && strlen(text) > q->max_length) {
		xasprintf(cause, "must be at most %zu characters long, not %zu",
		    q->max_length, strlen(text));
		return -1;
	}
	if (q->pattern != NULL) {
		if (regcomp(&re, q->pattern, REG_EXTENDED | REG_NOSUB) != 0) {
			xasprintf(cause, "the menu's pattern for %s is broken",
			    q->key);
			return -1;
		}
		match = regexec(&re, text, 0, NULL, 0) == 0;
		regfree(&re);
		if (!match) {
			xasprintf(cause, "'%s' is not valid: use %s", text,
			    q->pattern_help != NULL ? q->pattern_help :
			    q->pattern);
			return -1;
		}
	}
	if (q->one_of != NULL) {
		if ((list = menu_list(q->one_of, answers, cause)) == NULL)
			return -1;
		match = menu_list_has(list, text);
		if (!match) {
			names = menu_list_text(list, 4);
			xasprintf(cause, "unknown %s '%s'; %ss: %s", q->key,
			    text, q->key, names);
			free(names);
		}
		question_alts_free(list);
		if (!match)
			return -1;
	}
	if (q->check != NULL) {
		if (menu_hooks == NULL || menu_hooks->check == NULL) {
			xasprintf(cause, "no check '%s' in this build",
			    q->check);
			return -1;
		}
		if (menu_hooks->check(q->check, text, answers, cause) != 0)
			return -1;
	}
	*value = json_string(text);
	return 0;
}

int
question_check(const struct question *q, const json_t *answers,
    const char *text, json_t **value, char **cause)
{
	static const char *yes[] = { "yes", "y", "true", "on", "1" };
	static const char *no[] = { "no", "n", "false", "off", "0" };
	struct strbuf sb;
	size_t i;

	*value = NULL;
	if ((text == NULL || *text == '\0') && q->optional) {
		*value = json_null();
		return 0;
	}
	if (text == NULL || *text == '\0') {
		xasprintf(cause, "an answer is needed");
		return -1;
	}
	switch (q->type) {
	case QUESTION_PATH:
		return question_check_path(q, text, value, cause);
	case QUESTION_INTEGER:
		return question_check_integer(q, text, value, cause);
	case QUESTION_TEXT:
		return question_check_text(q, answers, text, value, cause);
	case QUESTION_YESNO:
		for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
			if (strcasecmp(text, yes[i]) == 0) {
				*value = json_true();
				return 0;
			}
			if (strcasecmp(text, no[i]) == 0) {
				*value = json_false();
				return 0;
			}
		}
		xasprintf(cause, "answer yes or no, not '%s'", text);
		return -1;
	case QUESTION_CHOICE:
		strbuf_init(&sb);
		for (i = 0; i < q->nchoices; i++) {
			if (strcmp(text, q->choices[i]) == 0) {
				strbuf_free(&sb);
				*value = json_string(text);
				return 0;
			}
			strbuf_addf(&sb, "%s%s", i > 0 ? ", " : "",
			    q->choices[i]);
		}
		if (q->choices_from != NULL)
			xasprintf(cause, "no %s '%s' in this build; %ss: %s",
			    q->key, text, q->key, sb.buf);
		else
			xasprintf(cause, "must be one of %s, not '%s'", sb.buf,
			    text);
		strbuf_free(&sb);
		return -1;
	}
	return -1;
}

/* question_default, and why there is none (*why, when known). */
static char *
question_default_why(const struct question *q, const json_t *answers,
    char **why)
{
	struct project pr;
	const char *dot, *dir;
	char *answer, *cause = NULL, *out = NULL;

	if (q->default_from != NULL && menu_hooks != NULL &&
	    menu_hooks->value != NULL) {
		out = menu_hooks->value(q->default_from, answers, &cause);
		if (out != NULL)
			return out;
		if (cause != NULL) {
			*why = cause;
			return q->def != NULL ? xstrdup(q->def) : NULL;
		}
	}
	if (q->default_from != NULL && answers != NULL &&
	    (dot = strchr(q->default_from, '.')) != NULL) {
		answer = xstrndup(q->default_from,
		    (size_t)(dot - q->default_from));
		dir = json_string_value(json_object_get(answers, answer));
		free(answer);
		if (dir != NULL && project_load(dir, &pr, &cause) == 0) {
			if (strcmp(dot + 1, "name") == 0)
				out = xstrdup(pr.name);
			else if (strcmp(dot + 1, "workers") == 0)
				/* Not given: this machine's CPUs (the
				 * local form's default). */
				out = xprintf("%d", pr.workers_set ?
				    pr.workers : (int)sysconf(
				    _SC_NPROCESSORS_ONLN) > 0 ? (int)sysconf(
				    _SC_NPROCESSORS_ONLN) : 1);
			else if (strcmp(dot + 1, "limit") == 0)
				out = xprintf("%ld", pr.limit);
			else if (strcmp(dot + 1, "cpus") == 0 &&
			    pr.resources.cpus > 0)
				out = xprintf("%d", pr.resources.cpus);
			else if (strcmp(dot + 1, "memory") == 0 &&
			    pr.resources.memory > 0)
				out = xprintf("%g", pr.resources.memory);
			else if (strcmp(dot + 1, "spot") == 0)
				out = xstrdup(pr.resources.spot ? "yes" : "no");
			project_free(&pr);
		}
		free(cause);
		if (out != NULL)
			return out;
	}
	if (q->def != NULL)
		return xstrdup(q->def);
	if (q->type == QUESTION_CHOICE && q->nchoices > 0)
		return xstrdup(q->choices[0]);
	return NULL;
}

char *
question_default(const struct question *q, const json_t *answers)
{
	char *why = NULL, *out;

	out = question_default_why(q, answers, &why);
	free(why);
	return out;
}

bool
menu_asks(const struct menu *mu, const struct question *q,
    const json_t *answers)
{
	const struct question *on;
	json_t *v;
	char *key, *text, **list, *why = NULL;
	bool asks;

	if (q->when == NULL)
		return true;
	key = xstrndup(q->when, strcspn(q->when, "."));
	v = json_object_get(answers, key);
	if (v != NULL)
		text = question_text(NULL, v);
	else if ((on = menu_question(mu, key)) != NULL)
		text = question_default(on, answers);
	else
		text = NULL;
	free(key);
	list = text != NULL ? menu_list(q->when, answers, &why) : NULL;
	asks = menu_list_has(list, text);
	question_alts_free(list);
	free(why);
	free(text);
	return asks;
}

char *
question_text(const struct question *q, const json_t *value)
{
	(void)q;
	if (json_is_string(value))
		return xstrdup(json_string_value(value));
	if (json_is_integer(value))
		return xprintf("%lld", (long long)json_integer_value(value));
	if (json_is_boolean(value))
		return xstrdup(json_is_true(value) ? "yes" : "no");
	if (json_is_real(value))
		return xprintf("%g", json_real_value(value));
	return xstrdup("");
}

static int
question_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *
question_complete_path(const char *text, char ***alts, size_t max)
{
	char *exp, *slash, *dir, *base, *common = NULL, *p, *out, **names;
	const char *shown;
	struct dirent *de;
	size_t nnames = 0, blen, i, n;
	DIR *d;

	*alts = NULL;
	exp = question_expand(text);
	if ((slash = strrchr(exp, '/')) != NULL) {
		dir = xstrndup(exp, (size_t)(slash - exp) + 1);
		base = slash + 1;
	} else {
		dir = xstrdup("./");
		base = exp;
	}
	blen = strlen(base);
	names = xcalloc(max + 1, sizeof *names);
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0 ||
			    strncmp(de->d_name, base, blen) != 0 ||
			    (blen == 0 && de->d_name[0] == '.'))
				continue;
			if (common == NULL)
				common = xstrdup(de->d_name);
			else {
				for (i = 0; common[i] != '\0' &&
				    common[i] == de->d_name[i]; i++)
					;
				common[i] = '\0';
			}
			if (nnames < max)
				names[nnames] = xstrdup(de->d_name);
			nnames++;
		}
		closedir(d);
	}
	n = nnames < max ? nnames : max;
	qsort(names, n, sizeof *names, question_cmp);
	/* What the user typed up to the last slash stays as typed. */
	shown = strrchr(text, '/');
	if (common == NULL)
		out = xstrdup(text);
	else {
		out = xprintf("%.*s%s", shown != NULL ?
		    (int)(shown - text) + 1 : 0, text, common);
		if (nnames == 1) {
			p = xprintf("%s%s", dir, common);
			if (fs_is_dir(p)) {
				free(p);
				p = xprintf("%s/", out);
				free(out);
				out = p;
			} else
				free(p);
		}
	}
	if (nnames > 1)
		*alts = names;
	else
		question_alts_free(names);
	free(common);
	free(dir);
	free(exp);
	return out;
}

void
question_alts_free(char **alts)
{
	size_t i;

	if (alts == NULL)
		return;
	for (i = 0; alts[i] != NULL; i++)
		free(alts[i]);
	free(alts);
}

/* given[key] = {"text", "where"}, after checking that the menu has key. */
int
menu_given_set(const struct menu *mu, json_t *given, const char *key,
    const char *text, const char *where, char **cause)
{
	char *keys;

	if (menu_question(mu, key) == NULL) {
		keys = menu_keys(mu);
		xasprintf(cause, "%s: unknown key '%s' (the keys are %s)", where,
		    key, keys);
		free(keys);
		return -1;
	}
	json_object_set_new(given, key, json_pack("{s:s, s:s}", "text", text,
	    "where", where));
	return 0;
}

/* The cause for an answer given to a question that its when: rules out,
 * naming the answer it depends on and the values that would take it. */
static void
menu_unasked(const struct menu *mu, const struct question *q,
    const json_t *answers, const char *where, char **cause)
{
	const struct question *on;
	json_t *v;
	char *key, *text, **list, *names, *why = NULL;

	key = xstrndup(q->when, strcspn(q->when, "."));
	if ((v = json_object_get(answers, key)) != NULL)
		text = question_text(NULL, v);
	else if ((on = menu_question(mu, key)) == NULL ||
	    (text = question_default(on, answers)) == NULL)
		text = xstrdup("?");
	list = menu_list(q->when, answers, &why);
	names = menu_list_text(list, 4);
	if (list == NULL || list[0] == NULL)
		xasprintf(cause, "%s: '%s' does not apply to %s '%s' (no %s "
		    "in this build takes it); leave it out", where, q->key,
		    key, text, key);
	else
		xasprintf(cause, "%s: '%s' does not apply to %s '%s', only to "
		    "%s %s; leave it out or choose one of those", where, q->key,
		    key, text, key, names);
	question_alts_free(list);
	free(names);
	free(why);
	free(text);
	free(key);
}

json_t *
menu_answers(const struct menu *mu, const json_t *given, char **cause)
{
	const struct question *q;
	json_t *answers = json_object(), *g, *v;
	char *def, *why;
	const char *text, *where;
	size_t i;

	for (i = 0; i < mu->nquestions; i++) {
		q = &mu->questions[i];
		g = json_object_get(given, q->key);
		text = json_string_value(json_object_get(g, "text"));
		where = json_string_value(json_object_get(g, "where"));
		def = why = NULL;
		if (!menu_asks(mu, q, answers)) {
			if (g == NULL)
				continue;
			menu_unasked(mu, q, answers, where, cause);
			goto fail;
		}
		if (g == NULL) {
			if ((def = question_default_why(q, answers, &why)) ==
			    NULL && q->optional)
				def = xstrdup("");
			if (def == NULL) {
				xasprintf(cause, "missing '%s' (%s)%s%s", q->key,
				    q->title, why != NULL ? ": " : "",
				    why != NULL ? why : "");
				goto fail;
			}
			text = def;
		}
		free(why);
		why = NULL;
		if (question_check(q, answers, text, &v, &why) != 0) {
			if (g != NULL)
				xasprintf(cause, "%s: %s", where, why);
			else
				xasprintf(cause, "%s (the default, from %s): %s",
				    q->key, q->default_from != NULL ?
				    q->default_from : mu->file, why);
			goto fail;
		}
		json_object_set_new(answers, q->key, v);
		free(def);
	}
	return answers;
fail:
	free(def);
	free(why);
	json_decref(answers);
	return NULL;
}

int
menu_check_answers(const struct menu *mu, const json_t *answers,
    char **cause)
{
	const struct question *q;
	json_t *v, *checked;
	char *text, *why = NULL;
	size_t i;
	int rv = 0;

	for (i = 0; rv == 0 && i < mu->nquestions; i++) {
		q = &mu->questions[i];
		if ((v = json_object_get(answers, q->key)) == NULL)
			continue;
		if (!menu_asks(mu, q, answers)) {
			menu_unasked(mu, q, answers, q->key, cause);
			return -1;
		}
		text = question_text(q, v);
		if (question_check(q, answers, text, &checked, &why) != 0) {
			xasprintf(cause, "%s: %s", q->key, why);
			free(why);
			rv = -1;
		} else
			json_decref(checked);
		free(text);
	}
	return rv;
}
