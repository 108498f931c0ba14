/* records.jsonl: the line format every engine writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/record.h"
#include "tap.h"
#include "util/fs.h"
#include "util/xmalloc.h"

int
main(void)
{
	struct record r, back;
	struct record_list l = { 0 };
	const struct record **final;
	char *line, *cause = NULL, *path, *text;

	plan_lazy();
	memset(&r, 0, sizeof r);
	r.task = 7;
	r.input = "data/x \"y\".csv";
	r.worker = 2;
	r.host = "node-1";
	r.pid = 4242;
	r.start = 1763800000.125;
	r.end = 1763800001.5;
	r.exit = 0;
	r.attempt = 1;
	r.status = REC_OK;
	r.result = "{\"a\":1,\"b\":\"two\"}";
	line = record_to_json(&r);
	ok(strchr(line, '\n') == NULL, "a record is one line");
	ok(strncmp(line, "{\"task\":7,\"input\":", 18) == 0,
	    "keys come in the documented order");
	ok(record_from_json(line, &back, &cause) == 0, "a record parses back");
	is_int(7, back.task, "task survives the round trip");
	is_string(r.input, back.input, "input with quotes survives");
	is_string("node-1", back.host, "host");
	is_int(4242, back.pid, "pid");
	is_double(r.start, back.start, 1e-6, "start keeps sub-second precision");
	is_double(r.end, back.end, 1e-6, "end");
	is_int(REC_OK, back.status, "status");
	is_string("{\"a\":1,\"b\":\"two\"}", back.result, "result object");
	ok(back.error == NULL, "no error on an ok record");
	record_free(&back);
	free(line);

	ok(record_from_json("{\"task\": 1}", &back, &cause) == -1 &&
	    strstr(cause, "not a task record") != NULL,
	    "a record with missing keys is refused");
	free(cause);
	cause = NULL;
	ok(record_from_json("not json", &back, &cause) == -1 &&
	    strstr(cause, "not JSON") != NULL, "a non-JSON line is refused");
	free(cause);
	cause = NULL;

	/* Two attempts of task 0 (fail then ok), one of task 2. */
	r.task = 0; r.attempt = 1; r.status = REC_FAILED; r.result = NULL;
	r.error = "exit status 1"; r.exit = 1;
	record_list_add(&l, &r);
	r.task = 2; r.attempt = 1; r.status = REC_TIMEOUT;
	r.error = "timed out";
	record_list_add(&l, &r);
	r.task = 0; r.attempt = 2; r.status = REC_OK; r.error = NULL;
	r.exit = 0; r.result = "{}";
	record_list_add(&l, &r);
	final = record_list_final(&l, 3);
	ok(final[0] != NULL && final[0]->attempt == 2 &&
	    final[0]->status == REC_OK, "the final attempt of a task wins");
	ok(final[1] == NULL, "a task with no attempt has no final record");
	ok(final[2] != NULL && final[2]->status == REC_TIMEOUT,
	    "a single failed attempt is final");
	free(final);

	path = xprintf("%s/records.jsonl", tap_tmpdir());
	{
		FILE *f = fopen(path, "w");
		size_t i;

		for (i = 0; i < l.n; i++) {
			line = record_to_json(&l.v[i]);
			fprintf(f, "%s\n\n", line);
			free(line);
		}
		fclose(f);
	}
	record_list_free(&l);
	ok(record_list_read(path, &l, &cause) == 0 && l.n == 3,
	    "a records file reads back (blank lines skipped)");
	record_list_free(&l);
	text = fs_read_file(path, NULL, &cause);
	{
		FILE *f = fopen(path, "w");

		fprintf(f, "%s{broken\n", text);
		fclose(f);
	}
	free(text);
	ok(record_list_read(path, &l, &cause) == -1 &&
	    strstr(cause, ":7:") != NULL,
	    "a bad line is reported with its number");
	free(cause);
	record_list_free(&l);
	free(path);

	is_string("badjson", record_status_name(REC_BADJSON), "status names");

	/* stderr_tail: the last line that is not blank, cleaned. */
	{
		static const char tb[] = "Traceback (most recent call last):\n"
		    "  File \"x.py\", line 1\n\tValueError:\tbad\x1b[0m\r\n"
		    "\n \t\r\n";
		char big[300], *t;

		t = record_stderr_tail(tb, sizeof tb - 1);
		is_string("ValueError: bad[0m", t, "stderr tail: the last "
		    "non-blank line, tabs as spaces, controls dropped");
		free(t);
		ok(record_stderr_tail(" \n\t\r\n", 5) == NULL &&
		    record_stderr_tail("", 0) == NULL,
		    "stderr tail: none in blank text");
		t = record_stderr_tail("only line", 9);
		is_string("only line", t, "stderr tail: no newline at all");
		free(t);
		t = record_stderr_tail("a\xff\xc0\x80" "b\xc2\x85" "c \xc3\xa9",
		    11);
		is_string("abc \xc3\xa9", t, "stderr tail: invalid UTF-8 and "
		    "C1 controls dropped, valid UTF-8 kept");
		free(t);
		memset(big, 'a', 199);
		memcpy(big + 199, "\xc3\xa9zzz", 5);
		t = record_stderr_tail(big, 204);
		ok(t != NULL && strlen(t) == 199 && t[198] == 'a',
		    "stderr tail: cut at 200 bytes on a character boundary");
		free(t);

		memset(&r, 0, sizeof r);
		r.input = "in";
		r.host = "h";
		r.status = REC_FAILED;
		r.error = "exit status 1";
		r.stderr_tail = "ValueError: \"bad\"";
		line = record_to_json(&r);
		ok(strstr(line, ",\"stderr_tail\":\"ValueError: \\\"bad\\\"\"}")
		    != NULL, "stderr_tail is written last");
		ok(record_from_json(line, &back, &cause) == 0 &&
		    back.stderr_tail != NULL &&
		    strcmp(back.stderr_tail, r.stderr_tail) == 0,
		    "stderr_tail survives the round trip");
		record_free(&back);
		free(line);
		ok(record_from_json("{\"task\":0,\"input\":\"i\",\"worker\":1,"
		    "\"host\":\"h\",\"start\":1,\"end\":2,\"exit\":1,"
		    "\"attempt\":1,\"status\":\"failed\",\"stderr_tail\":5}",
		    &back, &cause) == -1 && strstr(cause, "stderr_tail") != NULL,
		    "a stderr_tail that is no string is refused");
		free(cause);
		cause = NULL;
		ok(record_from_json("{\"task\":0,\"input\":\"i\",\"worker\":1,"
		    "\"host\":\"h\",\"start\":1,\"end\":2,\"exit\":1,"
		    "\"attempt\":1,\"status\":\"failed\",\"stderr_tail\":"
		    "\"x\\u0007y\\nz\"}", &back, &cause) == 0 &&
		    back.stderr_tail != NULL &&
		    strcmp(back.stderr_tail, "z") == 0,
		    "a stderr_tail from another host is cleaned as a local one");
		record_free(&back);
	}
	return done_testing();
}
