#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "run/record.h"
#include "worker/taskpool.h"
#include "util/strbuf.h"
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

/* The length of the valid UTF-8 character at p (up to end) that is no
 * control character, or 0. Valid as jansson checks it: no overlong forms,
 * no surrogates, nothing above U+10FFFF. */
static size_t
record_utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (*p < 0x80)
		return *p >= 0x20 && *p != 0x7f;
	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2;
	else if (*p >= 0xe0 && *p <= 0xef)
		n = 3;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4;
	else
		return 0;
	if (*p == 0xc2)
		lo = 0xa0;	/* U+0080..U+009F are control characters */
	else if (*p == 0xe0)
		lo = 0xa0;
	else if (*p == 0xed)
		hi = 0x9f;
	else if (*p == 0xf0)
		lo = 0x90;
	else if (*p == 0xf4)
		hi = 0x8f;
	if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	}
	return n;
}

static int
record_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

char *
record_stderr_tail(const char *text, size_t len)
{
	const char *end = text + len, *line, *q;
	const unsigned char *p, *e;
	struct strbuf sb;
	size_t n;

	/* The last line with something besides blanks. */
	for (;;) {
		for (line = end; line > text && line[-1] != '\n'; line--)
			;
		for (q = line; q < end && record_blank(*q); q++)
			;
		if (q < end)
			break;
		if (line == text)
			return NULL;
		end = line - 1;
	}
	while (end > q && record_blank(end[-1]))
		end--;
	strbuf_init(&sb);
	p = (const unsigned char *)q;
	e = (const unsigned char *)end;
	while (p < e) {
		if (*p == '\t') {
			n = 1;
			if (sb.len + 1 > RECORD_TAIL_MAX)
				break;
			strbuf_addc(&sb, ' ');
		} else if ((n = record_utf8_len(p, e)) == 0)
			n = 1;	/* dropped */
		else {
			if (sb.len + n > RECORD_TAIL_MAX)
				break;
			strbuf_add(&sb, p, n);
		}
		p += n;
	}
	while (sb.len > 0 && sb.buf[sb.len - 1] == ' ')
		sb.buf[--sb.len] = '\0';
	if (sb.len == 0) {
		strbuf_free(&sb);
		return NULL;
	}
	return strbuf_detach(&sb);
}

/* A string as a JSON value (quoted, escaped; bytes that are not UTF-8
 * become U+FFFD) appended to sb. */
static void
record_add_string(struct strbuf *sb, const char *s)
{
	char *q = taskpool_json_quote(s != NULL ? s : "", s != NULL ?
	    strlen(s) : 0);

	strbuf_adds(sb, q);
	free(q);
}

int
record_set_result(struct record *r, const char *line)
{
	json_t *o = line != NULL ? json_loads(line, 0, NULL) : NULL;
	char *s;

	free(r->result);
	r->result = NULL;
	if (o != NULL && json_is_object(o) &&
	    (s = json_dumps(o, RECORD_RESULT_FLAGS)) != NULL) {
		r->result = xstrdup(s);
		free(s);
		json_decref(o);
		return 0;
	}
	json_decref(o);
	return -1;
}

char *
record_to_json(const struct record *r)
{
	struct strbuf sb;

	/* By hand, for a fixed key order and times to the microsecond. The
	 * result is kept compact (RECORD_RESULT_FLAGS) by whoever sets it. */
	strbuf_init(&sb);
	strbuf_addf(&sb, "{\"task\":%d,\"input\":", r->task);
	record_add_string(&sb, r->input);
	strbuf_addf(&sb, ",\"worker\":%d,\"host\":", r->worker);
	record_add_string(&sb, r->host);
	strbuf_addf(&sb, ",\"pid\":%ld,\"start\":%.6f,\"end\":%.6f,"
	    "\"exit\":%d,\"attempt\":%d,\"status\":\"%s\",\"result\":",
	    r->pid, r->start, r->end, r->exit, r->attempt,
	    record_status_name(r->status));
	strbuf_adds(&sb, r->result != NULL ? r->result : "null");
	strbuf_adds(&sb, ",\"error\":");
	if (r->error != NULL)
		record_add_string(&sb, r->error);
	else
		strbuf_adds(&sb, "null");
	if (r->log != NULL) {
		strbuf_adds(&sb, ",\"log\":");
		record_add_string(&sb, r->log);
		strbuf_addf(&sb, ",\"out_off\":%lld,\"out_len\":%lld,"
		    "\"err_off\":%lld,\"err_len\":%lld", r->out_off, r->out_len,
		    r->err_off, r->err_len);
	}
	if (r->stderr_tail != NULL) {
		strbuf_adds(&sb, ",\"stderr_tail\":");
		record_add_string(&sb, r->stderr_tail);
	}
	strbuf_addc(&sb, '}');
	return strbuf_detach(&sb);
}

/* A log stem names a file in logs/: no path, nothing hidden. */
static int
record_log_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 64 && s[0] != '.' &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == n;
}

int
record_from_json(const char *line, struct record *r, char **cause)
{
	json_t *o, *res = NULL, *err = NULL, *v;
	json_error_t je;
	const char *input, *host, *status;
	json_int_t pid = 0, off[4] = { 0, 0, 0, 0 };
	static const char *offkeys[4] = { "out_off", "out_len", "err_off",
	    "err_len" };
	double start, end;
	int task, worker, exitc, attempt, i;

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
	if ((v = json_object_get(o, "stderr_tail")) != NULL &&
	    !json_is_string(v) && !json_is_null(v)) {
		*cause = xstrdup("stderr_tail is not a string");
		json_decref(o);
		return -1;
	}
	if ((v = json_object_get(o, "log")) != NULL && !json_is_null(v)) {
		if (!json_is_string(v) ||
		    !record_log_name_ok(json_string_value(v))) {
			*cause = xstrdup("bad \"log\": not a plain file name");
			json_decref(o);
			return -1;
		}
		for (i = 0; i < 4; i++) {
			json_t *n = json_object_get(o, offkeys[i]);

			if (!json_is_integer(n) || json_integer_value(n) < 0) {
				xasprintf(cause, "bad or missing \"%s\"",
				    offkeys[i]);
				json_decref(o);
				return -1;
			}
			off[i] = json_integer_value(n);
		}
		r->log = xstrdup(json_string_value(v));
		r->out_off = off[0];
		r->out_len = off[1];
		r->err_off = off[2];
		r->err_len = off[3];
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
		char *s = json_dumps(res, RECORD_RESULT_FLAGS);
		r->result = xstrdup(s);
		free(s);
	}
	if (err != NULL && json_is_string(err))
		r->error = xstrdup(json_string_value(err));
	/* From another host or the pool: cleaned and cut as
	 * record_stderr_tail does, whoever wrote it. */
	if ((v = json_object_get(o, "stderr_tail")) != NULL &&
	    json_is_string(v))
		r->stderr_tail = record_stderr_tail(json_string_value(v),
		    json_string_length(v));
	/* The pool's own form: the raw last line, checked here. */
	v = json_object_get(o, "line");
	if (r->status == REC_OK && res == NULL &&
	    record_set_result(r, json_is_string(v) ? json_string_value(v) :
	    NULL) != 0) {
		r->status = REC_BADJSON;
		free(r->error);
		r->error = xstrdup(RECORD_BADJSON_ERROR);
	}
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
	free(r->stderr_tail);
	free(r->log);
	memset(r, 0, sizeof *r);
}

/* A deep copy of src into r. */
static void
record_list_add_copy(struct record *r, const struct record *src)
{
	*r = *src;
	r->input = src->input != NULL ? xstrdup(src->input) : NULL;
	r->host = src->host != NULL ? xstrdup(src->host) : NULL;
	r->result = src->result != NULL ? xstrdup(src->result) : NULL;
	r->error = src->error != NULL ? xstrdup(src->error) : NULL;
	r->stderr_tail = src->stderr_tail != NULL ?
	    xstrdup(src->stderr_tail) : NULL;
	r->log = src->log != NULL ? xstrdup(src->log) : NULL;
}

void
record_list_add(struct record_list *l, const struct record *src)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 64 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	record_list_add_copy(&l->v[l->n++], src);
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

int
record_each(const struct record_source *src,
    int (*fn)(void *, const struct record *, long long), void *arg,
    char **cause)
{
	struct record r;
	char *line = NULL, *why = NULL;
	size_t cap = 0, lineno = 0, i;
	long long pos = 0;
	ssize_t n;
	FILE *f;
	int rc = 0;

	if (src->list != NULL) {
		for (i = 0; i < src->list->n; i++) {
			if (fn(arg, &src->list->v[i], (long long)i) != 0)
				break;
		}
		return 0;
	}
	if ((f = fopen(src->path, "r")) == NULL) {
		xasprintf(cause, "cannot read %s: %s", src->path,
		    strerror(errno));
		return -1;
	}
	for (; (n = getline(&line, &cap, f)) > 0; pos += n) {
		lineno++;
		if (line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if (record_from_json(line, &r, &why) != 0) {
			xasprintf(cause, "%s:%zu: %s", src->path, lineno, why);
			free(why);
			rc = -1;
			break;
		}
		i = (size_t)fn(arg, &r, pos);
		record_free(&r);
		if (i != 0)
			break;
	}
	free(line);
	fclose(f);
	return rc;
}

int
record_at(struct record_source *src, long long pos, struct record *r,
    char **cause)
{
	char *line = NULL, *why = NULL;
	size_t cap = 0;
	int rc = -1;

	memset(r, 0, sizeof *r);
	if (src->list != NULL) {
		if (pos < 0 || (size_t)pos >= src->list->n) {
			*cause = xstrdup("no such record");
			return -1;
		}
		record_list_add_copy(r, &src->list->v[pos]);
		return 0;
	}
	if (src->f == NULL && (src->f = fopen(src->path, "r")) == NULL) {
		xasprintf(cause, "cannot read %s: %s", src->path,
		    strerror(errno));
		return -1;
	}
	if (fseeko(src->f, (off_t)pos, SEEK_SET) != 0 ||
	    getline(&line, &cap, src->f) <= 0)
		xasprintf(cause, "%s: no record at byte %lld", src->path, pos);
	else if (record_from_json(line, r, &why) != 0) {
		xasprintf(cause, "%s: byte %lld: %s", src->path, pos, why);
		free(why);
	} else
		rc = 0;
	free(line);
	return rc;
}

void
record_source_close(struct record_source *src)
{
	if (src->f != NULL)
		fclose(src->f);
	src->f = NULL;
}
