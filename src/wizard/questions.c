/* The menus (menus/NAME.yaml): loading, checks, defaults, answers files. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "run/project.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"
#include "wizard/questions.h"

/* Where a menu file is being read, for messages naming line and key. */
struct mload {
	yaml_document_t	*doc;
	const char	*file;
	char	       **cause;
};

static int
mload_error(struct mload *m, yaml_node_t *n, const char *what)
{
	if (n != NULL)
		xasprintf(m->cause, "%s:%zu: %s", m->file,
		    n->start_mark.line + 1, what);
	else
		xasprintf(m->cause, "%s: %s", m->file, what);
	return -1;
}

static const char *
mload_scalar(yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

/* The value node of key in mapping n, or NULL. */
static yaml_node_t *
mload_get(struct mload *m, yaml_node_t *n, const char *key)
{
	yaml_node_pair_t *p;
	const char *k;

	if (n == NULL || n->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	    p++) {
		k = mload_scalar(yaml_document_get_node(m->doc, p->key));
		if (k != NULL && strcmp(k, key) == 0)
			return yaml_document_get_node(m->doc, p->value);
	}
	return NULL;
}

static char *
mload_string(struct mload *m, yaml_node_t *n, const char *key)
{
	const char *s = mload_scalar(mload_get(m, n, key));

	return s != NULL ? xstrdup(s) : NULL;
}

static int
mload_number(struct mload *m, yaml_node_t *n, const char *key, bool *has,
    long long *out)
{
	yaml_node_t *v = mload_get(m, n, key);
	const char *s = mload_scalar(v);
	char *end, *msg;

	if (v == NULL)
		return 0;
	errno = 0;
	*out = s != NULL ? strtoll(s, &end, 10) : 0;
	if (s == NULL || *s == '\0' || *end != '\0' || errno != 0) {
		msg = xprintf("'%s' must be a whole number", key);
		mload_error(m, v, msg);
		free(msg);
		return -1;
	}
	if (has != NULL)
		*has = true;
	return 0;
}

static bool
mload_bool(struct mload *m, yaml_node_t *n, const char *key)
{
	const char *s = mload_scalar(mload_get(m, n, key));

	return s != NULL && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0);
}

static const struct {
	const char		*name;
	enum question_type	 type;
} question_types[] = {
	{ "choice", QUESTION_CHOICE },
	{ "text", QUESTION_TEXT },
	{ "path", QUESTION_PATH },
	{ "integer", QUESTION_INTEGER },
	{ "yesno", QUESTION_YESNO },
};

static int
mload_question(struct mload *m, yaml_node_t *n, struct question *q)
{
	yaml_node_t *v, *c;
	yaml_node_item_t *it;
	const char *s;
	long long len = 0;
	regex_t re;
	size_t i;

	if (n->type != YAML_MAPPING_NODE)
		return mload_error(m, n, "a question must be a mapping");
	q->key = mload_string(m, n, "key");
	q->title = mload_string(m, n, "title");
	if (q->key == NULL || q->title == NULL)
		return mload_error(m, n, "a question needs 'key' and 'title'");
	q->help = mload_string(m, n, "help");
	q->def = mload_string(m, n, "default");
	q->default_from = mload_string(m, n, "default_from");
	q->cost_note = mload_bool(m, n, "cost_note");
	s = mload_scalar(mload_get(m, n, "type"));
	for (i = 0; s != NULL && i < sizeof question_types /
	    sizeof question_types[0]; i++) {
		if (strcmp(s, question_types[i].name) == 0)
			break;
	}
	if (s == NULL || i == sizeof question_types / sizeof question_types[0])
		return mload_error(m, n, "'type' must be choice, text, path, "
		    "integer or yesno");
	q->type = question_types[i].type;
	if (q->type == QUESTION_CHOICE) {
		c = mload_get(m, n, "choices");
		if (c == NULL || c->type != YAML_SEQUENCE_NODE)
			return mload_error(m, n, "a choice needs 'choices'");
		for (it = c->data.sequence.items.start;
		    it < c->data.sequence.items.top; it++) {
			s = mload_scalar(yaml_document_get_node(m->doc, *it));
			if (s == NULL)
				return mload_error(m, c, "choices are strings");
			q->choices = xreallocarray(q->choices, q->nchoices + 1,
			    sizeof *q->choices);
			q->choices[q->nchoices++] = xstrdup(s);
		}
		if (q->nchoices == 0)
			return mload_error(m, c, "'choices' is empty");
	}
	v = mload_get(m, n, "validate");
	if (v == NULL)
		return 0;
	if (mload_number(m, v, "min", &q->has_min, &q->min) != 0 ||
	    mload_number(m, v, "max", &q->has_max, &q->max) != 0 ||
	    mload_number(m, v, "min_length", NULL, &len) != 0)
		return -1;
	q->min_length = len > 0 ? (size_t)len : 0;
	q->pattern = mload_string(m, v, "pattern");
	q->pattern_help = mload_string(m, v, "pattern_help");
	q->must_exist = mload_bool(m, v, "must_exist");
	q->must_contain = mload_string(m, v, "must_contain");
	q->project = mload_bool(m, v, "project");
	if (q->pattern != NULL) {
		if (regcomp(&re, q->pattern, REG_EXTENDED | REG_NOSUB) != 0)
			return mload_error(m, v, "'pattern' is not a valid "
			    "extended regular expression");
		regfree(&re);
	}
	return 0;
}

static int
mload_menu(struct mload *m, yaml_node_t *root, struct menu *mu)
{
	yaml_node_t *seq, *n;
	yaml_node_item_t *it;
	struct menu_item *mi;
	const char *k;
	size_t count;

	if (root == NULL || root->type != YAML_MAPPING_NODE)
		return mload_error(m, root, "a menu file is a mapping");
	mu->title = mload_string(m, root, "title");
	mu->help = mload_string(m, root, "help");
	if (mu->title == NULL)
		return mload_error(m, root, "a menu needs a 'title'");
	if ((seq = mload_get(m, root, "items")) != NULL) {
		if (seq->type != YAML_SEQUENCE_NODE)
			return mload_error(m, seq, "'items' must be a list");
		count = (size_t)(seq->data.sequence.items.top -
		    seq->data.sequence.items.start);
		mu->items = xcalloc(count + 1, sizeof *mu->items);
		for (it = seq->data.sequence.items.start;
		    it < seq->data.sequence.items.top; it++) {
			n = yaml_document_get_node(m->doc, *it);
			mi = &mu->items[mu->nitems++];
			mi->action = mload_string(m, n, "action");
			mi->label = mload_string(m, n, "label");
			mi->help = mload_string(m, n, "help");
			k = mload_scalar(mload_get(m, n, "key"));
			mi->key = k != NULL && strlen(k) == 1 ? k[0] : 0;
			if (mi->action == NULL || mi->label == NULL)
				return mload_error(m, n, "an item needs "
				    "'action' and 'label'");
		}
	}
	if ((seq = mload_get(m, root, "questions")) != NULL) {
		if (seq->type != YAML_SEQUENCE_NODE)
			return mload_error(m, seq, "'questions' must be a list");
		count = (size_t)(seq->data.sequence.items.top -
		    seq->data.sequence.items.start);
		mu->questions = xcalloc(count + 1, sizeof *mu->questions);
		for (it = seq->data.sequence.items.start;
		    it < seq->data.sequence.items.top; it++) {
			n = yaml_document_get_node(m->doc, *it);
			if (mload_question(m, n,
			    &mu->questions[mu->nquestions++]) != 0)
				return -1;
		}
	}
	return 0;
}

/* Parses a YAML file into doc; -1 with a cause naming file and line. */
static int
mload_parse(const char *path, yaml_document_t *doc, char **cause)
{
	yaml_parser_t parser;
	FILE *f;
	int rv = 0;

	if ((f = fopen(path, "rb")) == NULL) {
		xasprintf(cause, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, doc)) {
		xasprintf(cause, "%s:%zu: not valid YAML: %s", path,
		    parser.problem_mark.line + 1, parser.problem != NULL ?
		    parser.problem : "parse error");
		rv = -1;
	} else if (yaml_document_get_root_node(doc) == NULL) {
		yaml_document_delete(doc);
		xasprintf(cause, "%s is empty", path);
		rv = -1;
	}
	yaml_parser_delete(&parser);
	fclose(f);
	return rv;
}

struct menu *
menu_load_file(const char *path, char **cause)
{
	yaml_document_t doc;
	struct mload m = { &doc, path, cause };
	struct menu *mu;

	if (mload_parse(path, &doc, cause) != 0)
		return NULL;
	mu = xcalloc(1, sizeof *mu);
	mu->file = xstrdup(path);
	if (mload_menu(&m, yaml_document_get_root_node(&doc), mu) != 0) {
		menu_free(mu);
		mu = NULL;
	}
	yaml_document_delete(&doc);
	return mu;
}

struct menu *
menu_load(const char *name, char **cause)
{
	struct menu *mu;
	char *rel, *path;

	rel = xprintf("menus/%s.yaml", name);
	if ((path = fs_data_path(rel)) == NULL) {
		xasprintf(cause, "cannot find %s (set FANOUT_DATA_DIR to the "
		    "folder that holds menus/, or reinstall fanout)", rel);
		free(rel);
		return NULL;
	}
	free(rel);
	mu = menu_load_file(path, cause);
	free(path);
	return mu;
}

static void
question_free(struct question *q)
{
	size_t i;

	free(q->key);
	free(q->title);
	free(q->help);
	free(q->def);
	free(q->default_from);
	for (i = 0; i < q->nchoices; i++)
		free(q->choices[i]);
	free(q->choices);
	free(q->pattern);
	free(q->pattern_help);
	free(q->must_contain);
}

void
menu_free(struct menu *mu)
{
	size_t i;

	if (mu == NULL)
		return;
	for (i = 0; i < mu->nitems; i++) {
		free(mu->items[i].action);
		free(mu->items[i].label);
		free(mu->items[i].help);
	}
	free(mu->items);
	for (i = 0; i < mu->nquestions; i++)
		question_free(&mu->questions[i]);
	free(mu->questions);
	free(mu->file);
	free(mu->title);
	free(mu->help);
	free(mu);
}

const struct question *
menu_question(const struct menu *mu, const char *key)
{
	size_t i;

	for (i = 0; i < mu->nquestions; i++) {
		if (strcmp(mu->questions[i].key, key) == 0)
			return &mu->questions[i];
	}
	return NULL;
}

char *
menu_keys(const struct menu *mu)
{
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb);
	for (i = 0; i < mu->nquestions; i++)
		strbuf_addf(&sb, "%s%s", i > 0 ? ", " : "",
		    mu->questions[i].key);
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
question_check_text(const struct question *q, const char *text,
    json_t **value, char **cause)
{
	regex_t re;
	int match;

	if (strlen(text) < q->min_length) {
		xasprintf(cause, "must be at least %zu characters long, not "
		    "'%s'", q->min_length, text);
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
	*value = json_string(text);
	return 0;
}

int
question_check(const struct question *q, const char *text, json_t **value,
    char **cause)
{
	static const char *yes[] = { "yes", "y", "true", "on", "1" };
	static const char *no[] = { "no", "n", "false", "off", "0" };
	struct strbuf sb;
	size_t i;

	*value = NULL;
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
		return question_check_text(q, text, value, cause);
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
		xasprintf(cause, "must be one of %s, not '%s'", sb.buf, text);
		strbuf_free(&sb);
		return -1;
	}
	return -1;
}

char *
question_default(const struct question *q, const json_t *answers)
{
	struct project pr;
	const char *dot, *dir;
	char *answer, *cause = NULL, *out = NULL;

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
				out = xprintf("%d", pr.workers);
			else if (strcmp(dot + 1, "limit") == 0)
				out = xprintf("%ld", pr.limit);
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

/* Checks and fills answers in question order; given holds the text of each
 * answer given (NULL when missing). */
static int
menu_fill(const struct menu *mu, const char *file, char **given,
    json_t *answers, char **cause)
{
	const struct question *q;
	json_t *v;
	char *def, *why = NULL;
	size_t i;

	for (i = 0; i < mu->nquestions; i++) {
		q = &mu->questions[i];
		def = NULL;
		if (given[i] == NULL &&
		    (def = question_default(q, answers)) == NULL) {
			xasprintf(cause, "%s: missing '%s' (%s)", file, q->key,
			    q->title);
			return -1;
		}
		if (question_check(q, given[i] != NULL ? given[i] : def, &v,
		    &why) != 0) {
			xasprintf(cause, "%s: %s: %s", file, q->key, why);
			free(why);
			free(def);
			return -1;
		}
		free(def);
		json_object_set_new(answers, q->key, v);
	}
	return 0;
}

static int
menu_index(const struct menu *mu, const char *key, const char *file,
    char **cause)
{
	char *keys;
	size_t i;

	for (i = 0; i < mu->nquestions; i++) {
		if (strcmp(mu->questions[i].key, key) == 0)
			return (int)i;
	}
	keys = menu_keys(mu);
	xasprintf(cause, "%s: unknown key '%s' (the keys are %s)", file, key,
	    keys);
	free(keys);
	return -1;
}

json_t *
menu_read_answers(const struct menu *mu, const char *path, char **cause)
{
	yaml_document_t doc;
	yaml_node_t *root, *v;
	yaml_node_pair_t *p;
	json_t *answers = NULL;
	const char *k;
	char **given;
	int i;
	size_t j;

	if (mload_parse(path, &doc, cause) != 0)
		return NULL;
	given = xcalloc(mu->nquestions + 1, sizeof *given);
	root = yaml_document_get_root_node(&doc);
	if (root->type != YAML_MAPPING_NODE) {
		xasprintf(cause, "%s: answers must be a mapping of key: value",
		    path);
		goto out;
	}
	for (p = root->data.mapping.pairs.start;
	    p < root->data.mapping.pairs.top; p++) {
		k = mload_scalar(yaml_document_get_node(&doc, p->key));
		v = yaml_document_get_node(&doc, p->value);
		if (k == NULL) {
			xasprintf(cause, "%s: keys must be strings", path);
			goto out;
		}
		if ((i = menu_index(mu, k, path, cause)) < 0)
			goto out;
		if (mload_scalar(v) == NULL) {
			xasprintf(cause, "%s:%zu: %s: give one value, not a "
			    "list or mapping", path, v->start_mark.line + 1, k);
			goto out;
		}
		free(given[i]);
		given[i] = xstrdup(mload_scalar(v));
	}
	answers = json_object();
	if (menu_fill(mu, path, given, answers, cause) != 0) {
		json_decref(answers);
		answers = NULL;
	}
out:
	for (j = 0; j < mu->nquestions; j++)
		free(given[j]);
	free(given);
	yaml_document_delete(&doc);
	return answers;
}

int
menu_complete_answers(const struct menu *mu, json_t *answers, char **cause)
{
	const char *k;
	json_t *v, *out;
	char **given;
	size_t j;
	int i, rv = -1;

	given = xcalloc(mu->nquestions + 1, sizeof *given);
	json_object_foreach(answers, k, v) {
		if ((i = menu_index(mu, k, "answers", cause)) < 0)
			goto out;
		given[i] = question_text(&mu->questions[i], v);
	}
	out = json_object();
	if (menu_fill(mu, "answers", given, out, cause) == 0) {
		json_object_update(answers, out);
		rv = 0;
	}
	json_decref(out);
out:
	for (j = 0; j < mu->nquestions; j++)
		free(given[j]);
	free(given);
	return rv;
}
