/* The menus (menus/NAME.yaml) and answers files: reading the YAML (the
 * checks and the answers path are in answers.c). */
#include <errno.h>
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
	long long len = 0, maxlen = 0;
	char *why = NULL;
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
	q->optional = mload_bool(m, n, "optional");
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
	q->when = mload_string(m, n, "when");
	if (q->when != NULL && strchr(q->when, '.') == NULL)
		return mload_error(m, n, "'when' is KEY.LIST, e.g. engine.nodes");
	q->choices_from = mload_string(m, n, "choices_from");
	if (q->choices_from != NULL && q->type != QUESTION_CHOICE &&
	    q->type != QUESTION_TEXT)
		return mload_error(m, n, "'choices_from' is for a choice or "
		    "a text question");
	if (q->type == QUESTION_CHOICE && q->choices_from != NULL) {
		if (mload_get(m, n, "choices") != NULL)
			return mload_error(m, n, "a choice takes 'choices' or "
			    "'choices_from', not both");
		if ((q->choices = menu_list(q->choices_from, NULL,
		    &why)) == NULL) {
			mload_error(m, n, why);
			free(why);
			return -1;
		}
		while (q->choices[q->nchoices] != NULL)
			q->nchoices++;
		if (q->nchoices == 0)
			return mload_error(m, n, "'choices_from' gave no "
			    "choices in this build");
	} else if (q->type == QUESTION_CHOICE) {
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
	    mload_number(m, v, "min_length", NULL, &len) != 0 ||
	    mload_number(m, v, "max_length", NULL, &maxlen) != 0)
		return -1;
	q->min_length = len > 0 ? (size_t)len : 0;
	q->max_length = maxlen > 0 ? (size_t)maxlen : 0;
	q->one_of = mload_string(m, v, "one_of");
	q->check = mload_string(m, v, "check");
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
	} else if (project_yaml_unique(doc, path, cause) != 0) {
		yaml_document_delete(doc);
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
	free(q->choices_from);
	free(q->one_of);
	free(q->check);
	free(q->when);
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

int
menu_given_file(const struct menu *mu, const char *path, json_t *given,
    char **cause)
{
	yaml_document_t doc;
	yaml_node_t *root, *k, *v;
	yaml_node_pair_t *p;
	char *where;
	int rv = -1;

	if (mload_parse(path, &doc, cause) != 0)
		return -1;
	root = yaml_document_get_root_node(&doc);
	if (root->type != YAML_MAPPING_NODE) {
		xasprintf(cause, "%s:%zu:%zu: answers must be a mapping of "
		    "key: value", path, root->start_mark.line + 1,
		    root->start_mark.column + 1);
		goto out;
	}
	for (p = root->data.mapping.pairs.start;
	    p < root->data.mapping.pairs.top; p++) {
		k = yaml_document_get_node(&doc, p->key);
		v = yaml_document_get_node(&doc, p->value);
		if (mload_scalar(k) == NULL) {
			xasprintf(cause, "%s:%zu:%zu: keys must be strings",
			    path, k->start_mark.line + 1,
			    k->start_mark.column + 1);
			goto out;
		}
		where = xprintf("%s:%zu:%zu: %s", path, v->start_mark.line + 1,
		    v->start_mark.column + 1, mload_scalar(k));
		if (mload_scalar(v) == NULL)
			xasprintf(cause, "%s: give one value, not a list or "
			    "mapping", where);
		else if (menu_given_set(mu, given, mload_scalar(k),
		    mload_scalar(v), where, cause) == 0) {
			free(where);
			continue;
		}
		free(where);
		goto out;
	}
	rv = 0;
out:
	yaml_document_delete(&doc);
	return rv;
}


json_t *
menu_read_answers(const struct menu *mu, const char *path, char **cause)
{
	json_t *given = json_object(), *answers = NULL;

	if (menu_given_file(mu, path, given, cause) == 0)
		answers = menu_answers(mu, given, cause);
	json_decref(given);
	return answers;
}
