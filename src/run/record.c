#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/record.h"
#include "util/fs.h"
#include "util/xmalloc.h"

static const char *record_status_names[] = {
	[REC_OK] = "ok",
	[REC_FAILED] = "failed",
	[REC_TIMEOUT] = "timeout",
	[REC_BADJSON] = "badjson",
	[REC_CANCELLED] = "cancelled",
};

const char *
record_status_name(enum record_status s)
{
	if ((size_t)s >= sizeof record_status_names / sizeof *record_status_names)
		return "unknown";
	return record_status_names[s];
}

int
record_status_parse(const char *s, enum record_status *out)
{
	size_t i;

	for (i = 0; i < sizeof record_status_names / sizeof *record_status_names;
	    i++) {
		if (strcmp(s, record_status_names[i]) == 0) {
			*out = (enum record_status)i;
			return 0;
		}
	}
	return -1;
}

char *
record_to_json(const struct record *r)
{
	json_t *o, *res = NULL;
	char *s, *out;

	if (r->result != NULL)
		res = json_loads(r->result, JSON_DECODE_ANY, NULL);
	o = json_pack("{s:i, s:s, s:i, s:s, s:I, s:f, s:f, s:i, s:i, s:s}",
	    "task", r->task, "input", r->input != NULL ? r->input : "",
	    "worker", r->worker, "host", r->host != NULL ? r->host : "",
	    "pid", (json_int_t)r->pid, "start", r->start, "end", r->end,
	    "exit", r->exit, "attempt", r->attempt,
	    "status", record_status_name(r->status));
	json_object_set_new(o, "result", res != NULL ? res : json_null());
	json_object_set_new(o, "error", r->error != NULL ?
	    json_string(r->error) : json_null());
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(17));
	json_decref(o);
	out = xstrdup(s);
	free(s);
	return out;
}

int
record_from_json(const char *line, struct record *r, char **cause)
{
	json_t *o, *res = NULL, *err = NULL;
	json_error_t je;
	const char *input, *host, *status;
	json_int_t pid = 0;
	double start, end;
	int task, worker, exitc, attempt;

	memset(r, 0, sizeof *r);
	if ((o = json_loads(line, 0, &je)) == NULL) {
		xasprintf(cause, "not JSON: %s", je.text);
		return -1;
	}
	if (json_unpack_ex(o, &je, 0,
	    "{s:i, s:s, s:i, s:s, s?I, s:F, s:F, s:i, s:i, s:s, s?o, s?o}",
	    "task", &task, "input", &input, "worker", &worker, "host", &host,
	    "pid", &pid, "start", &start, "end", &end, "exit", &exitc,
	    "attempt", &attempt, "status", &status, "result", &res,
	    "error", &err) != 0) {
		xasprintf(cause, "not a task record: %s", je.text);
		json_decref(o);
		return -1;
	}
	if (record_status_parse(status, &r->status) != 0) {
		xasprintf(cause, "unknown status '%s'", status);
		json_decref(o);
		return -1;
	}
	r->task = task;
	r->input = xstrdup(input);
	r->worker = worker;
	r->host = xstrdup(host);
	r->pid = (long)pid;
	r->start = start;
	r->end = end;
	r->exit = exitc;
	r->attempt = attempt;
	if (res != NULL && json_is_object(res)) {
		char *s = json_dumps(res, JSON_COMPACT | JSON_PRESERVE_ORDER);
		r->result = xstrdup(s);
		free(s);
	}
	if (err != NULL && json_is_string(err))
		r->error = xstrdup(json_string_value(err));
	json_decref(o);
	return 0;
}

void
record_free(struct record *r)
{
	free(r->input);
	free(r->host);
	free(r->result);
	free(r->error);
	memset(r, 0, sizeof *r);
}

void
record_list_add(struct record_list *l, const struct record *src)
{
	struct record *r;

	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 64 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	r = &l->v[l->n++];
	*r = *src;
	r->input = src->input != NULL ? xstrdup(src->input) : NULL;
	r->host = src->host != NULL ? xstrdup(src->host) : NULL;
	r->result = src->result != NULL ? xstrdup(src->result) : NULL;
	r->error = src->error != NULL ? xstrdup(src->error) : NULL;
}

void
record_list_free(struct record_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		record_free(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

int
record_list_read(const char *path, struct record_list *l, char **cause)
{
	char *data, *line, *next, *why = NULL;
	struct record r;
	size_t lineno = 0;

	if ((data = fs_read_file(path, NULL, cause)) == NULL)
		return -1;
	for (line = data; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (line[strspn(line, " \t\r")] == '\0')
			continue;
		if (record_from_json(line, &r, &why) != 0) {
			xasprintf(cause, "%s:%zu: %s", path, lineno, why);
			free(why);
			free(data);
			return -1;
		}
		record_list_add(l, &r);
		record_free(&r);
	}
	free(data);
	return 0;
}

const struct record **
record_list_final(const struct record_list *l, size_t ntasks)
{
	const struct record **final;
	size_t i;

	final = xcalloc(ntasks == 0 ? 1 : ntasks, sizeof *final);
	for (i = 0; i < l->n; i++) {
		const struct record *r = &l->v[i];

		if (r->task < 0 || (size_t)r->task >= ntasks)
			continue;
		if (final[r->task] == NULL ||
		    r->attempt >= final[r->task]->attempt)
			final[r->task] = r;
	}
	return final;
}
