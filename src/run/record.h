/* One task attempt. Every engine writes the same records, one JSON object
 * a line (records.jsonl):
 *   {"task":0,"input":"data/a.csv","worker":1,"host":"h","pid":42,
 *    "start":1763800000.125,"end":1763800001.130,"exit":0,"attempt":1,
 *    "status":"ok","result":{...},"error":null,
 *    "log":"w1","out_off":0,"out_len":12,"err_off":0,"err_len":0}
 * start/end are seconds since the epoch; worker counts from 1 per host;
 * attempt counts from 1; status is ok, failed, timeout, badjson or
 * cancelled; result is the JSON object the entrypoint printed (ok only);
 * error says what went wrong otherwise. The attempt's stdout is the
 * out_len bytes from byte out_off of logs/<log>.out in the results folder,
 * its stderr err_len bytes from err_off of logs/<log>.err (one pair of
 * files per worker slot). Optional keys: "stderr_tail" (not ok: the last
 * non-empty line of its stderr); records without "log" (older runs) have
 * logs/TASK-ATTEMPT.out|err instead.
 *
 * The task pool (src/worker/taskpool.h) writes the same keys with "line",
 * the raw last line of stdout as a JSON string, in place of "result":
 * record_from_json parses that line here, at home. */
#ifndef FANOUT_RECORD_H
#define FANOUT_RECORD_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

enum record_status {
	REC_OK,
	REC_FAILED,	/* non-zero exit or killed by a signal */
	REC_TIMEOUT,	/* killed after the project's timeout */
	REC_BADJSON,	/* exit 0, but the last line is no JSON object */
	REC_CANCELLED,	/* ended by the user (Ctrl-C) */
};

struct record {
	int			 task;	  /* index into the inputs, from 0 */
	char			*input;	  /* as given to the entrypoint */
	int			 worker;  /* 1..workers, per host */
	char			*host;
	long			 pid;
	double			 start;
	double			 end;
	int			 exit;	  /* exit code, or 128 + signal */
	int			 attempt; /* from 1 */
	enum record_status	 status;
	char			*result;  /* compact JSON object text, or NULL */
	char			*error;	  /* cause when not ok, or NULL */
	char			*stderr_tail; /* not ok: last non-empty line
					       * of stderr, or NULL */
	char			*log;	  /* logs/<log>.out|err hold its
					   * output, or NULL (older runs) */
	long long		 out_off, out_len; /* its stdout in .out */
	long long		 err_off, err_len; /* its stderr in .err */
};

struct record_list {
	struct record	*v;
	size_t		 n;
	size_t		 cap;
};

/* How task results are written back as JSON: 15 significant digits, so
 * that 0.2 stays 0.2 (17 would print 0.20000000000000001). */
#define RECORD_RESULT_FLAGS \
	(JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

/* The error of an attempt whose last line is no JSON object. */
#define RECORD_BADJSON_ERROR "the last line of output is not a JSON object"

/* How long the stderr line kept from a failed attempt may be (bytes). */
#define RECORD_TAIL_MAX		200

const char	*record_status_name(enum record_status);
/* The last line of text[0..len) that is not blank, for stderr_tail:
 * leading and trailing blanks trimmed, tabs made spaces, other control
 * characters and invalid UTF-8 dropped, cut to RECORD_TAIL_MAX bytes on a
 * character boundary. NULL when nothing is left. Caller frees. */
char		*record_stderr_tail(const char *text, size_t len);
/* Sets r->result from an entrypoint's last line of output: 0 when it is
 * a JSON object, else -1 and the record becomes a badjson failure. */
int		 record_set_result(struct record *, const char *line);
int		 record_status_parse(const char *, enum record_status *);
/* One line of JSON, no newline; caller frees. */
char		*record_to_json(const struct record *);
int		 record_from_json(const char *line, struct record *,
		     char **cause);
void		 record_free(struct record *);
/* Deep copy of src appended to the list. */
void		 record_list_add(struct record_list *, const struct record *);
void		 record_list_free(struct record_list *);
/* Reads records.jsonl; a bad line is an error naming its number. Keeps
 * every record in memory: the report reads the file one record at a time
 * (record_each) instead. */
int		 record_list_read(const char *path, struct record_list *,
		     char **cause);
/* The last attempt of each task, by task index (NULL for a task with
 * no attempt); array of ntasks pointers into the list; caller frees. */
const struct record **record_list_final(const struct record_list *,
		     size_t ntasks);

/* Records one at a time, from a list or from a records.jsonl file. */
struct record_source {
	const struct record_list *list;	/* or NULL: */
	const char		 *path;	/* records.jsonl */
	FILE			 *f;	/* record_at's open path, or NULL */
};
/* Calls fn for each record with its position (list index or byte offset
 * of its line); fn returning non-zero stops early. A bad line is an error
 * naming its number. */
int		 record_each(const struct record_source *,
		     int (*fn)(void *, const struct record *, long long),
		     void *arg, char **cause);
/* The record at a position record_each gave; record_free it. */
int		 record_at(struct record_source *, long long pos,
		     struct record *, char **cause);
/* Closes what record_at opened. */
void		 record_source_close(struct record_source *);

#endif
