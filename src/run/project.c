/* fanout.yaml: loaded with libyaml's document API so that every error can
 * name the line and column of the node it is about. */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "run/project.h"
#include "util/fs.h"
#include "util/xmalloc.h"
#include "worker/taskpool.h"

static char	project_shell_char(const char *);
static int	project_sh_parse(const char *, char **);

struct yctx {
	yaml_document_t	*doc;
	const char	*file;
	char	       **cause;
};

static int
yerr(struct yctx *y, yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
yerr(struct yctx *y, yaml_node_t *node, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (node != NULL)
		xasprintf(y->cause, "%s:%zu:%zu: %s", y->file,
		    node->start_mark.line + 1, node->start_mark.column + 1,
		    msg);
	else
		xasprintf(y->cause, "%s: %s", y->file, msg);
	free(msg);
	return -1;
}

static const char *
yscalar(yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value
	    : NULL;
}

static int
ystring(struct yctx *y, yaml_node_t *n, const char *key, char **out)
{
	const char *s = yscalar(n);

	if (s == NULL)
		return yerr(y, n, "'%s' must be a string", key);
	free(*out);
	*out = xstrdup(s);
	return 0;
}

static int
ynumber(struct yctx *y, yaml_node_t *n, const char *key, double min,
    double max, bool whole, double *out)
{
	const char *s = yscalar(n);
	char *end;
	double v;

	if (s == NULL || *s == '\0')
		return yerr(y, n, "'%s' must be a number", key);
	errno = 0;
	v = strtod(s, &end);
	if (*end != '\0' || errno != 0 || (whole && v != (double)(long)v))
		return yerr(y, n, "'%s' must be a %snumber, not '%s'", key,
		    whole ? "whole " : "", s);
	if (v != v || v < min || v > max)
		return yerr(y, n, "'%s' must be from %g to %g, not %s", key,
		    min, max, s);
	*out = v;
	return 0;
}

/* One key of a mapping, for finding duplicates: its text and node. */
struct ykey {
	const char	*s;
	size_t		 len;
	yaml_node_t	*n;
};

static int
ykey_cmp(const void *a, const void *b)
{
	const struct ykey *x = a, *y = b;
	size_t len = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->s, y->s, len);

	if (c == 0 && x->len != y->len)
		c = x->len < y->len ? -1 : 1;
	if (c == 0)
		c = (x->n->start_mark.index > y->n->start_mark.index) -
		    (x->n->start_mark.index < y->n->start_mark.index);
	return c;
}

int
project_yaml_unique(struct yaml_document_s *doc, const char *file,
    char **cause)
{
	yaml_node_t *n, *k, *first = NULL, *dup = NULL;
	yaml_node_pair_t *p;
	struct ykey *keys = NULL;
	size_t nkeys, cap = 0, i;

	for (n = doc->nodes.start; n < doc->nodes.top; n++) {
		if (n->type != YAML_MAPPING_NODE)
			continue;
		nkeys = 0;
		for (p = n->data.mapping.pairs.start;
		    p < n->data.mapping.pairs.top; p++) {
			k = yaml_document_get_node(doc, p->key);
			if (k == NULL || k->type != YAML_SCALAR_NODE)
				continue;
			if (nkeys == cap) {
				cap = cap == 0 ? 16 : cap * 2;
				keys = xreallocarray(keys, cap, sizeof *keys);
			}
			keys[nkeys].s = (const char *)k->data.scalar.value;
			keys[nkeys].len = k->data.scalar.length;
			keys[nkeys++].n = k;
		}
		/* Sorted by text, then position: a repeat follows its first. */
		qsort(keys, nkeys, sizeof *keys, ykey_cmp);
		for (i = 1; i < nkeys; i++) {
			if (keys[i].len != keys[i - 1].len || memcmp(keys[i].s,
			    keys[i - 1].s, keys[i].len) != 0)
				continue;
			if (dup == NULL || keys[i].n->start_mark.index <
			    dup->start_mark.index) {
				dup = keys[i].n;
				first = keys[i - 1].n;
			}
		}
	}
	free(keys);
	if (dup == NULL)
		return 0;
	xasprintf(cause, "%s:%zu:%zu: duplicate key '%.*s' (first at line "
	    "%zu); give each key once", file, dup->start_mark.line + 1,
	    dup->start_mark.column + 1, (int)(dup->data.scalar.length > 60 ?
	    60 : dup->data.scalar.length), (const char *)dup->data.scalar.value,
	    first->start_mark.line + 1);
	return -1;
}

int
store_url_parse(const char *s, bool pattern_ok, struct store_url *u,
    char **cause)
{
	const char *b, *slash, *w;
	size_t blen, i;
	bool gs;

	memset(u, 0, sizeof *u);
	if (strncmp(s, "s3://", 5) == 0)
		gs = false;
	else if (strncmp(s, "gs://", 5) == 0)
		gs = true;
	else {
		xasprintf(cause, "'%s' is no bucket URL (write s3://BUCKET/"
		    "PREFIX)", s);
		return -1;
	}
	if (strpbrk(s, " \t\r\n") != NULL) {
		xasprintf(cause, "'%s' has a blank in it (at the start or the "
		    "end?); write the URL without it", s);
		return -1;
	}
	b = s + 5;
	slash = strchr(b, '/');
	blen = slash != NULL ? (size_t)(slash - b) : strlen(b);
	if (blen < 3 || blen > 63) {
		xasprintf(cause, "'%s': a bucket name has 3 to 63 characters "
		    "(s3://BUCKET/PREFIX)", s);
		return -1;
	}
	for (i = 0; i < blen; i++) {
		char c = b[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || (gs && c == '_'))
			continue;
		xasprintf(cause, "'%s': bucket names hold only lower-case "
		    "letters, digits, '-' and '.'%s, not '%c'", s,
		    gs ? " and '_'" : "", c);
		return -1;
	}
	if (!((b[0] >= 'a' && b[0] <= 'z') || (b[0] >= '0' && b[0] <= '9')) ||
	    !((b[blen - 1] >= 'a' && b[blen - 1] <= 'z') ||
	    (b[blen - 1] >= '0' && b[blen - 1] <= '9'))) {
		xasprintf(cause, "'%s': a bucket name begins and ends with a "
		    "letter or a digit", s);
		return -1;
	}
	u->scheme = xstrdup(gs ? "gs" : "s3");
	u->bucket = xstrndup(b, blen);
	u->key = xstrdup(slash != NULL ? slash + 1 : "");
	if (u->key[0] == '/' || strstr(u->key, "//") != NULL) {
		xasprintf(cause, "'%s': the key has an empty folder name "
		    "('//')", s);
		store_url_free(u);
		return -1;
	}
	w = strpbrk(u->key, "*?[");
	if (w != NULL && !pattern_ok) {
		xasprintf(cause, "'%s': no wildcards here; give a prefix "
		    "(s3://BUCKET/PREFIX)", s);
		store_url_free(u);
		return -1;
	}
	u->pattern = w != NULL;
	if (w != NULL) {
		while (w > u->key && w[-1] != '/')
			w--;
		u->prefix = xstrndup(u->key, (size_t)(w - u->key));
	} else
		u->prefix = xstrdup(u->key);
	return 0;
}

void
store_url_free(struct store_url *u)
{
	if (u == NULL)
		return;
	free(u->scheme);
	free(u->bucket);
	free(u->key);
	free(u->prefix);
	memset(u, 0, sizeof *u);
}

int
project_split_argv(const char *s, char ***argvp, size_t *argcp, char **cause)
{
	char **v = NULL, *w;
	size_t n = 0, len = 0;
	char quote = 0;
	bool inword = false;

	w = xmalloc(strlen(s) + 1);
	for (;; s++) {
		if (quote == 0 && (*s == '\0' || *s == ' ' || *s == '\t' ||
		    *s == '\n')) {
			if (inword) {
				v = xreallocarray(v, n + 2, sizeof *v);
				v[n++] = xstrndup(w, len);
				v[n] = NULL;
				len = 0;
				inword = false;
			}
			if (*s == '\0')
				break;
			continue;
		}
		if (*s == '\0') {
			xasprintf(cause, "unbalanced %c quote", quote);
			free(w);
			project_argv_free(v);
			return -1;
		}
		inword = true;
		if (quote == '\'') {
			if (*s == '\'')
				quote = 0;
			else
				w[len++] = *s;
		} else if (quote == '"') {
			if (*s == '"')
				quote = 0;
			else if (*s == '\\' && s[1] != '\0' &&
			    strchr("\"\\$`", s[1]) != NULL)
				w[len++] = *++s;
			else
				w[len++] = *s;
		} else if (*s == '\'' || *s == '"')
			quote = *s;
		else if (*s == '\\' && s[1] != '\0')
			w[len++] = *++s;
		else
			w[len++] = *s;
	}
	free(w);
	if (n == 0) {
		xasprintf(cause, "the command line is empty");
		return -1;
	}
	*argvp = v;
	*argcp = n;
	return 0;
}

void
project_argv_free(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static int
project_inputs_node(struct yctx *y, struct project *p, yaml_node_t *n)
{
	yaml_node_pair_t *pair;
	yaml_node_item_t *item;
	yaml_node_t *k, *v, *e;
	const char *key;
	double d;

	if (n->type != YAML_MAPPING_NODE)
		return yerr(y, n, "'inputs' must be a mapping with 'glob' or "
		    "'list'");
	for (pair = n->data.mapping.pairs.start;
	    pair < n->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(y->doc, pair->key);
		v = yaml_document_get_node(y->doc, pair->value);
		if ((key = yscalar(k)) == NULL)
			return yerr(y, k, "keys in 'inputs' must be strings");
		if (strcmp(key, "glob") == 0) {
			if (ystring(y, v, "inputs.glob", &p->glob) != 0)
				return -1;
			if (strncmp(p->glob, "s3:", 3) == 0 ||
			    strncmp(p->glob, "gs:", 3) == 0 ||
			    strstr(p->glob, "://") != NULL) {
				char *c = NULL;

				p->inputs_url = xcalloc(1,
				    sizeof *p->inputs_url);
				if (store_url_parse(p->glob, true,
				    p->inputs_url, &c) != 0) {
					yerr(y, v, "inputs.glob: %s", c);
					free(c);
					return -1;
				}
			}
		} else if (strcmp(key, "list") == 0) {
			if (v->type != YAML_SEQUENCE_NODE)
				return yerr(y, v, "'inputs.list' must be a "
				    "list of paths");
			for (item = v->data.sequence.items.start;
			    item < v->data.sequence.items.top; item++) {
				e = yaml_document_get_node(y->doc, *item);
				if (yscalar(e) == NULL || *yscalar(e) == '\0')
					return yerr(y, e, "'inputs.list' items "
					    "must be non-empty strings");
				p->list = xreallocarray(p->list, p->nlist + 1,
				    sizeof *p->list);
				p->list[p->nlist++] = xstrdup(yscalar(e));
			}
		} else if (strcmp(key, "limit") == 0) {
			if (ynumber(y, v, "inputs.limit", 0, 1e9, true, &d))
				return -1;
			p->limit = (long)d;
		} else
			return yerr(y, k, "unknown key 'inputs.%s' (expected "
			    "glob, list or limit)", key);
	}
	if (p->glob == NULL && p->nlist == 0)
		return yerr(y, n, "'inputs' needs 'glob' or a non-empty "
		    "'list'");
	if (p->glob != NULL && p->nlist != 0)
		return yerr(y, n, "'inputs' takes 'glob' or 'list', not both");
	return 0;
}

static int
project_env_node(struct yctx *y, struct project *p, yaml_node_t *n)
{
	yaml_node_pair_t *pair;
	yaml_node_t *k, *v;
	const char *key, *val;

	if (n->type != YAML_MAPPING_NODE)
		return yerr(y, n, "'env' must be a mapping of NAME: value");
	for (pair = n->data.mapping.pairs.start;
	    pair < n->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(y->doc, pair->key);
		v = yaml_document_get_node(y->doc, pair->value);
		key = yscalar(k);
		val = yscalar(v);
		if (key == NULL || *key == '\0' ||
		    strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrst"
		    "uvwxyz0123456789_") != strlen(key) ||
		    (key[0] >= '0' && key[0] <= '9'))
			return yerr(y, k, "'env' names must be letters, digits "
			    "and _");
		if (val == NULL)
			return yerr(y, v, "'env.%s' must be a string", key);
		p->env = xreallocarray(p->env, p->nenv + 1, sizeof *p->env);
		p->env[p->nenv++] = xprintf("%s=%s", key, val);
	}
	return 0;
}

static int
project_resources_node(struct yctx *y, struct project *p, yaml_node_t *n)
{
	yaml_node_pair_t *pair;
	yaml_node_t *k, *v;
	const char *key, *s;
	double d;
	size_t i;

	if (n->type != YAML_MAPPING_NODE)
		return yerr(y, n, "'resources' must be a mapping of cpus, "
		    "memory, instance_type, spot");
	for (pair = n->data.mapping.pairs.start;
	    pair < n->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(y->doc, pair->key);
		v = yaml_document_get_node(y->doc, pair->value);
		if ((key = yscalar(k)) == NULL)
			return yerr(y, k, "keys in 'resources' must be "
			    "strings");
		if (strcmp(key, "cpus") == 0) {
			if (ynumber(y, v, "resources.cpus", 1, 1024, true,
			    &d) != 0)
				return -1;
			p->resources.cpus = (int)d;
		} else if (strcmp(key, "memory") == 0) {
			if (ynumber(y, v, "resources.memory (GiB)", 0.5,
			    32768, false, &d) != 0)
				return -1;
			p->resources.memory = d;
		} else if (strcmp(key, "instance_type") == 0) {
			if (ystring(y, v, "resources.instance_type",
			    &p->resources.instance_type) != 0)
				return -1;
			s = p->resources.instance_type;
			for (i = 0; s[i] != '\0'; i++)
				if (!((s[i] >= 'a' && s[i] <= 'z') ||
				    (s[i] >= '0' && s[i] <= '9') ||
				    s[i] == '.' || s[i] == '-'))
					break;
			if (i == 0 || s[i] != '\0' || i > 64)
				return yerr(y, v, "'resources.instance_type' "
				    "'%s' is no instance type (like "
				    "c7i.2xlarge or e2-standard-8)", s);
		} else if (strcmp(key, "spot") == 0) {
			s = yscalar(v);
			if (s != NULL && (strcmp(s, "true") == 0 ||
			    strcmp(s, "yes") == 0))
				p->resources.spot = true;
			else if (s != NULL && (strcmp(s, "false") == 0 ||
			    strcmp(s, "no") == 0))
				p->resources.spot = false;
			else
				return yerr(y, v, "'resources.spot' must be "
				    "true or false");
		} else
			return yerr(y, k, "unknown key 'resources.%s' "
			    "(expected cpus, memory, instance_type, spot)",
			    key);
	}
	return 0;
}

static int
project_parse(struct yctx *y, struct project *p, yaml_node_t *root)
{
	yaml_node_pair_t *pair;
	yaml_node_t *k, *v;
	const char *key;
	char op, *sc = NULL;
	double d;

	if (root == NULL)
		return yerr(y, NULL, "the file is empty; it needs at least "
		    "name, entrypoint and inputs");
	if (root->type != YAML_MAPPING_NODE)
		return yerr(y, root, "the top level must be a mapping of "
		    "keys (name, entrypoint, inputs, ...)");
	for (pair = root->data.mapping.pairs.start;
	    pair < root->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(y->doc, pair->key);
		v = yaml_document_get_node(y->doc, pair->value);
		if ((key = yscalar(k)) == NULL)
			return yerr(y, k, "keys must be strings");
		if (strcmp(key, "name") == 0) {
			if (ystring(y, v, key, &p->name) != 0)
				return -1;
			if (strlen(p->name) < 3)
				return yerr(y, v, "'name' must be at least 3 "
				    "characters");
		} else if (strcmp(key, "entrypoint") == 0) {
			char *c = NULL;

			if (ystring(y, v, key, &p->entrypoint) != 0)
				return -1;
			project_argv_free(p->argv);
			p->argv = NULL;
			if ((op = project_shell_char(p->entrypoint)) != 0)
				return yerr(y, v, "'entrypoint': no shell runs "
				    "it, so '%c' would reach the program as it "
				    "is; put the command in a script, or quote "
				    "the '%c'", op, op);
			if (project_split_argv(p->entrypoint, &p->argv,
			    &p->argc, &c) != 0) {
				yerr(y, v, "'entrypoint': %s", c);
				free(c);
				return -1;
			}
		} else if (strcmp(key, "inputs") == 0) {
			if (project_inputs_node(y, p, v) != 0)
				return -1;
		} else if (strcmp(key, "workers") == 0) {
			if (ynumber(y, v, key, 1, 4096, true, &d) != 0)
				return -1;
			p->workers = (int)d;
			p->workers_set = true;
		} else if (strcmp(key, "timeout") == 0) {
			if (ynumber(y, v, key, 0, 7 * 86400, false, &d) != 0)
				return -1;
			p->timeout = d;
		} else if (strcmp(key, "retries") == 0) {
			if (ynumber(y, v, key, 0, 100, true, &d) != 0)
				return -1;
			p->retries = (int)d;
		} else if (strcmp(key, "env") == 0) {
			if (project_env_node(y, p, v) != 0)
				return -1;
		} else if (strcmp(key, "setup") == 0) {
			if (ystring(y, v, key, &p->setup) != 0)
				return -1;
			if (strspn(p->setup, " \t\n") == strlen(p->setup))
				return yerr(y, v, "'setup' is empty; give a "
				    "command or drop the key");
			if (project_sh_parse(p->setup, &sc) != 0) {
				yerr(y, v, "'setup' is no shell command: %s",
				    sc);
				free(sc);
				return -1;
			}
		} else if (strcmp(key, "results") == 0) {
			char *c = NULL, *url = NULL;

			if (ystring(y, v, key, &url) != 0)
				return -1;
			p->results_url = xcalloc(1, sizeof *p->results_url);
			if (store_url_parse(url, false, p->results_url,
			    &c) != 0) {
				free(url);
				yerr(y, v, "results: %s", c);
				free(c);
				return -1;
			}
			free(url);
		} else if (strcmp(key, "resources") == 0) {
			if (project_resources_node(y, p, v) != 0)
				return -1;
		} else
			return yerr(y, k, "unknown key '%s' (expected name, "
			    "entrypoint, inputs, setup, workers, timeout, "
			    "retries, env, resources, results)", key);
	}
	if (p->name == NULL)
		return yerr(y, root, "missing key 'name'");
	if (p->entrypoint == NULL)
		return yerr(y, root, "missing key 'entrypoint'");
	if (p->glob == NULL && p->nlist == 0)
		return yerr(y, root, "missing key 'inputs'");
	return 0;
}

/* The first character of s that a shell would take as an operator ('|',
 * ';', '&', '<', '>', '`') outside quotes, or 0: no shell runs the
 * entrypoint, so such a character would reach the program as it is. */
static char
project_shell_char(const char *s)
{
	char quote = 0;

	for (; *s != '\0'; s++) {
		if (quote != 0) {
			if (*s == quote)
				quote = 0;
			else if (quote == '"' && *s == '\\' && s[1] != '\0')
				s++;
		} else if (*s == '\'' || *s == '"')
			quote = *s;
		else if (*s == '\\' && s[1] != '\0')
			s++;
		else if (strchr("|;&<>`", *s) != NULL)
			return *s;
	}
	return 0;
}

/* Whether /bin/sh can parse cmd (sh -n): 0, or -1 with its complaint in
 * *err (caller frees). Only the syntax is checked: nothing runs. */
static int
project_sh_parse(const char *cmd, char **err)
{
	char buf[512];
	size_t len = 0;
	ssize_t n;
	int fds[2], status, devnull;
	pid_t pid;

	*err = NULL;
	if (pipe(fds) != 0)
		return 0;
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return 0;
	}
	if (pid == 0) {
		devnull = open("/dev/null", O_RDWR);
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(fds[1], 2);
		close(fds[0]);
		execl("/bin/sh", "sh", "-n", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while (len < sizeof buf - 1 && (n = read(fds[0], buf + len,
	    sizeof buf - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 ||
	    WEXITSTATUS(status) == 127))
		return 0;
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	*err = xstrdup(buf[0] != '\0' ? buf : "a syntax error");
	return -1;
}

/* Whether prog is an executable file in a folder of $PATH, found as the
 * task pool finds it. */
static bool
project_on_path(const char *prog)
{
	char err[256], *f = taskpool_find_program(prog, NULL, NULL, err,
	    sizeof err);

	free(f);
	return f != NULL;
}

int
project_load(const char *dir, struct project *p, char **cause)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct yctx y;
	FILE *f;
	char *ep;
	int rc;

	memset(p, 0, sizeof *p);
	p->workers = 4;
	p->timeout = 300;
	p->retries = 1;
	if (!fs_is_dir(dir)) {
		xasprintf(cause, "project folder %s does not exist (give the "
		    "folder that holds fanout.yaml)", dir);
		return -1;
	}
	if ((p->dir = fs_realpath(dir, cause)) == NULL)
		return -1;
	p->file = fs_join(p->dir, "fanout.yaml");
	if ((f = fopen(p->file, "rb")) == NULL) {
		xasprintf(cause, "%s has no fanout.yaml (%s); see "
		    "examples/sleep for one", dir, strerror(errno));
		project_free(p);
		return -1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	y.doc = &doc;
	y.file = p->file;
	y.cause = cause;
	if (!yaml_parser_load(&parser, &doc)) {
		xasprintf(cause, "%s:%zu:%zu: invalid YAML: %s", p->file,
		    parser.problem_mark.line + 1,
		    parser.problem_mark.column + 1,
		    parser.problem != NULL ? parser.problem : "parse error");
		yaml_parser_delete(&parser);
		fclose(f);
		project_free(p);
		return -1;
	}
	rc = project_yaml_unique(&doc, p->file, cause);
	if (rc == 0)
		rc = project_parse(&y, p, yaml_document_get_root_node(&doc));
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	if (rc == 0) {
		/* A first word with a '/' or naming a file of the project is
		 * the project's program; any other is found on PATH (there,
		 * when the task runs). */
		ep = fs_join(p->dir, p->argv[0]);
		p->prog_in_project = strchr(p->argv[0], '/') != NULL ||
		    fs_is_file(ep);
		/* A program of the project that setup: may make (a venv's
		 * python) is looked for on each host before any task. */
		if (p->prog_in_project && !fs_is_file(ep) &&
		    p->setup != NULL)
			;
		else if (p->prog_in_project && !fs_is_file(ep)) {
			xasprintf(cause, "%s: entrypoint %s does not exist "
			    "in %s", p->file, p->argv[0], p->dir);
			rc = -1;
		} else if (p->prog_in_project && !fs_is_executable(ep)) {
			xasprintf(cause, "%s: entrypoint %s is not executable "
			    "(chmod +x it)", p->file, p->argv[0]);
			rc = -1;
		}
		free(ep);
		/* A program from PATH that this machine lacks is refused,
		 * unless setup: may install it on the hosts. */
		if (rc == 0 && !p->prog_in_project && p->setup == NULL &&
		    !project_on_path(p->argv[0])) {
			xasprintf(cause, "%s: entrypoint %s does not exist in "
			    "%s and is no program on PATH (write ./%s for a "
			    "file of the project)", p->file, p->argv[0],
			    p->dir, p->argv[0]);
			rc = -1;
		}
	}
	if (rc != 0)
		project_free(p);
	return rc;
}

void
project_free(struct project *p)
{
	size_t i;

	free(p->dir);
	free(p->file);
	free(p->name);
	free(p->entrypoint);
	project_argv_free(p->argv);
	free(p->setup);
	free(p->glob);
	store_url_free(p->inputs_url);
	free(p->inputs_url);
	store_url_free(p->results_url);
	free(p->results_url);
	free(p->resources.instance_type);
	for (i = 0; i < p->nlist; i++)
		free(p->list[i]);
	free(p->list);
	for (i = 0; i < p->nenv; i++)
		free(p->env[i]);
	free(p->env);
	memset(p, 0, sizeof *p);
}

int
project_inputs(const struct project *p, long limit, char ***inputsp,
    size_t *np, char **cause)
{
	glob_t g;
	char **v = NULL, *pattern;
	size_t n = 0, i, dirlen;
	int rc;

	if (limit <= 0)
		limit = p->limit;
	if (p->inputs_url != NULL) {
		xasprintf(cause, "%s: inputs in a bucket (%s) are listed by "
		    "the cloud layer, not here", p->file, p->glob);
		return -1;
	}
	if (p->glob != NULL) {
		pattern = fs_join(p->dir, p->glob);
		rc = glob(pattern, 0, NULL, &g);
		free(pattern);
		if (rc != 0 && rc != GLOB_NOMATCH) {
			xasprintf(cause, "%s: cannot expand inputs.glob '%s'",
			    p->file, p->glob);
			return -1;
		}
		dirlen = strlen(p->dir);
		for (i = 0; rc == 0 && i < g.gl_pathc; i++) {
			const char *path = g.gl_pathv[i];

			if (!fs_is_file(path))
				continue;
			if (strncmp(path, p->dir, dirlen) == 0 &&
			    path[dirlen] == '/')
				path += dirlen + 1;
			v = xreallocarray(v, n + 1, sizeof *v);
			v[n++] = xstrdup(path);
		}
		if (rc == 0)
			globfree(&g);
	} else {
		for (i = 0; i < p->nlist; i++) {
			v = xreallocarray(v, n + 1, sizeof *v);
			v[n++] = xstrdup(p->list[i]);
		}
	}
	if (n == 0) {
		xasprintf(cause, "%s: no inputs match %s%s", p->file,
		    p->glob != NULL ? "inputs.glob " : "inputs.list",
		    p->glob != NULL ? p->glob : "");
		free(v);
		return -1;
	}
	if (limit > 0 && (size_t)limit < n) {
		for (i = (size_t)limit; i < n; i++)
			free(v[i]);
		n = (size_t)limit;
	}
	*inputsp = v;
	*np = n;
	return 0;
}

void
project_inputs_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
