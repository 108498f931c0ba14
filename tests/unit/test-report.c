/* The results folder: performance numbers, CSV files and the Gantt PNG. */
#include <cairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/gantt.h"
#include "run/report.h"
#include "tap.h"
#include "util/fs.h"
#include "util/xmalloc.h"

static void
add(struct record_list *l, int task, int worker, double start, double end,
    enum record_status st, int attempt, const char *result)
{
	struct record r;
	char input[32];

	memset(&r, 0, sizeof r);
	snprintf(input, sizeof input, "in-%d", task);
	r.task = task;
	r.input = input;
	r.worker = worker;
	r.host = "h";
	r.start = 1000 + start;
	r.end = 1000 + end;
	r.attempt = attempt;
	r.status = st;
	r.exit = st == REC_OK ? 0 : 1;
	r.result = (char *)result;
	r.error = st == REC_OK ? NULL : "exit status 1";
	record_list_add(l, &r);
}

#define LOGS_HEADER \
	"task,input,worker,host,pid,start,end,duration,exit,attempt,status\n"

/* Counts the bands of bar colour (any saturated colour) down column x. */
static int
count_bands(const char *png, int x)
{
	cairo_surface_t *s = cairo_image_surface_create_from_png(png);
	unsigned char *data;
	int y, h, stride, bands = 0, in = 0;

	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
		return -1;
	data = cairo_image_surface_get_data(s);
	h = cairo_image_surface_get_height(s);
	stride = cairo_image_surface_get_stride(s);
	/* Stop above the axis and legend (the bottom 86 pixels). */
	for (y = 0; y < h - 86; y++) {
		unsigned int px = *(unsigned int *)(data + y * stride + x * 4);
		int r = (px >> 16) & 0xff, g = (px >> 8) & 0xff, b = px & 0xff;
		int hi = r > g ? (r > b ? r : b) : (g > b ? g : b);
		int lo = r < g ? (r < b ? r : b) : (g < b ? g : b);
		int bar = hi - lo > 80;

		if (bar && !in)
			bands++;
		in = bar;
	}
	cairo_surface_destroy(s);
	return bands;
}

int
main(void)
{
	struct record_list l = { 0 };
	struct run_info ri;
	struct perf pf;
	char *inputs[4] = { "in-0", "in-1", "in-2", "in-3" };
	char *cause = NULL, *dir, *text, *path, *base, *d1, *d2;
	const char *files[] = { "results.csv", "errors.csv", "logs.csv",
	    "performance.txt", "records.jsonl", "runtime.png" };
	size_t i;

	plan_lazy();
	atexit(gantt_release);
	/* 3 workers: tasks 0..2 ok in 0..2 s, task 1 failed once first,
	 * task 3 never started. */
	add(&l, 0, 1, 0, 2, REC_OK, 1, "{\"x\":1,\"label\":\"a,b\"}");
	add(&l, 1, 2, 0, 1, REC_FAILED, 1, NULL);
	add(&l, 1, 2, 1, 2, REC_OK, 2, "{\"x\":2,\"y\":true}");
	add(&l, 2, 3, 0, 1.5, REC_TIMEOUT, 1, NULL);
	l.v[l.n - 1].stderr_tail = xstrdup("ValueError: bad input");
	memset(&ri, 0, sizeof ri);
	ri.project = "demo";
	ri.engine = "local";
	ri.inputs = inputs;
	ri.ntasks = 4;
	ri.workers = 3;
	ri.nodes = 1;
	ri.started = 999;
	ri.setup = 1;
	ri.ended = 1002.5;

	report_perf(&l, &ri, &pf);
	is_int(4, (long long)pf.tasks, "perf: total tasks");
	is_int(2, (long long)pf.ok, "perf: succeeded");
	is_int(1, (long long)pf.errors, "perf: errors count final failures");
	is_int(1, (long long)pf.unfinished, "perf: a task never run is "
	    "unfinished");
	is_int(4, (long long)pf.attempts, "perf: attempts");
	is_double(1.5, pf.avg, 1e-9, "perf: average of ok tasks");
	is_double(1, pf.min, 1e-9, "perf: shortest");
	is_int(1, pf.min_task, "perf: shortest task");
	is_double(2, pf.max, 1e-9, "perf: longest");
	is_double(2, pf.span, 1e-9, "perf: span from first start to last end");
	is_double(5.5, pf.serial, 1e-9, "perf: serial sum of attempts");
	is_double(5.5 / 6.0, pf.efficiency, 1e-9,
	    "perf: efficiency = serial / (span x workers)");
	is_double(3.5, pf.total, 1e-9, "perf: total time");
	text = report_perf_text(&pf);
	ok(strstr(text, "Efficiency              91.7 %") != NULL,
	    "the performance table shows the efficiency");
	free(text);

	dir = xprintf("%s/results", tap_tmpdir());
	fs_mkdir_p(dir, 0755, &cause);
	ok(report_write(dir, &l, &ri, &cause) == 0, "report_write succeeds");
	for (i = 0; i < sizeof files / sizeof *files; i++) {
		path = fs_join(dir, files[i]);
		ok(fs_is_file(path), "%s is written", files[i]);
		free(path);
	}
	path = fs_join(dir, "results.csv");
	text = fs_read_file(path, NULL, &cause);
	is_string("task,input,x,label,y\n0,in-0,1,\"a,b\",\n1,in-1,2,,true\n",
	    text, "results.csv: union of keys, CSV quoting, one row per ok "
	    "task");
	free(text);
	free(path);
	path = fs_join(dir, "errors.csv");
	text = fs_read_file(path, NULL, &cause);
	is_string("task,input,status,exit,attempts,error\n"
	    "2,in-2,timeout,1,1,exit status 1: ValueError: bad input\n"
	    "3,in-3,unfinished,,0,never started\n", text,
	    "errors.csv: failed and unfinished tasks, the last line of "
	    "stderr after the error");
	free(text);
	free(path);
	path = fs_join(dir, "logs.csv");
	text = fs_read_file(path, NULL, &cause);
	ok(text != NULL && strncmp(text, LOGS_HEADER,
	    strlen(LOGS_HEADER)) == 0 &&
	    strstr(text, "1,in-1,2,h,0,1970-01-01T00:16:41.000Z,"
	    "1970-01-01T00:16:42.000Z,1.000,0,2,ok\n") != NULL,
	    "logs.csv: one row per attempt with ISO times");
	free(text);
	free(path);

	path = fs_join(dir, "runtime.png");
	is_int(3, count_bands(path, 160),
	    "runtime.png has one bar row per worker");
	free(path);

	/* A run cancelled before anything finished has no efficiency. */
	{
		struct record_list c = { 0 };

		add(&c, 0, 1, 0, 5, REC_CANCELLED, 1, NULL);
		add(&c, 1, 2, 0, 5, REC_CANCELLED, 1, NULL);
		report_perf(&c, &ri, &pf);
		ok(pf.efficiency < 0 && json_is_null(report_efficiency_json(&pf)),
		    "perf: no efficiency when nothing finished");
		text = report_perf_text(&pf);
		ok(strstr(text, "Efficiency              -\n") != NULL,
		    "the performance table shows '-' for it");
		free(text);
		record_list_free(&c);
	}

	/* Records from 3 hosts, 2 workers each, whose workers share numbers
	 * (each host's w1 and w2): the run said 1 node (an engine that did
	 * not count them), workers 2. Tasks of 1 s each, node1 and node2
	 * busy 0..2 s, node10 busy 0..1 s: serial 10 s over a span of 2 s
	 * and 6 slots. */
	{
		struct record_list c = { 0 };
		struct record_source src = { &c, NULL, NULL };
		const char *hosts[] = { "node1", "node2", "node10" };
		const char *want[] = { "node1/w1", "node1/w2", "node2/w1",
		    "node2/w2", "node10/w1", "node10/w2" };
		struct run_info r3 = ri;
		char **labels, *dir3;
		size_t h, n = 0, k = 0;
		int task = 0, w;

		for (h = 0; h < 3; h++) {
			for (w = 1; w <= 2; w++) {
				add(&c, task++, w, 0, 1, REC_OK, 1, "{}");
				free(c.v[c.n - 1].host);
				c.v[c.n - 1].host = xstrdup(hosts[h]);
				if (h < 2) {
					add(&c, task++, w, 1, 2, REC_OK, 1,
					    "{}");
					free(c.v[c.n - 1].host);
					c.v[c.n - 1].host = xstrdup(hosts[h]);
				}
			}
		}
		r3.inputs = NULL;
		r3.ntasks = (size_t)task;
		r3.nodes = 1;
		r3.workers = 2;
		report_perf(&c, &r3, &pf);
		is_int(3, pf.nodes, "3 hosts: Nodes is 3 (the hosts that ran "
		    "tasks), though the run said 1");
		is_int(2, pf.workers, "3 hosts: 2 workers per node");
		is_int(6, pf.slots, "3 hosts: 6 slots");
		is_double(10.0 / (2.0 * 6.0), pf.efficiency, 1e-9,
		    "3 hosts: efficiency over all slots = serial / (span x "
		    "nodes x workers)");
		text = report_perf_text(&pf);
		ok(strstr(text, "Nodes                   3\n") != NULL &&
		    strstr(text, "Workers per node        2\n") != NULL &&
		    strstr(text, "Slots                   6 (3 nodes x 2 "
		    "workers)\n") != NULL &&
		    strstr(text, "Efficiency              83.3 %\n") != NULL,
		    "3 hosts: the table says Nodes 3, Workers per node 2, "
		    "Slots 6, Efficiency 83.3 %%");
		free(text);
		r3.workers = 0;
		report_perf(&c, &r3, &pf);
		is_int(2, pf.workers, "workers per node not given: the most a "
		    "host used");

		labels = gantt_row_labels(&src, &n, &cause);
		is_int(6, (long long)n, "runtime.png: one row per (host, "
		    "worker): 6 rows, not 2");
		for (k = 0; labels != NULL && k < n && k < 6; k++) {
			if (strcmp(labels[k], want[k]) != 0)
				break;
		}
		is_int(6, (long long)k, "rows labelled host/wN, hosts in "
		    "natural order (node2 before node10)");
		if (k < 6 && labels != NULL && k < n)
			diag("row %zu is '%s', not '%s'", k, labels[k],
			    want[k]);
		for (k = 0; labels != NULL && labels[k] != NULL; k++)
			free(labels[k]);
		free(labels);

		dir3 = xprintf("%s/results3", tap_tmpdir());
		fs_mkdir_p(dir3, 0755, &cause);
		r3.workers = 2;
		ok(report_write(dir3, &c, &r3, &cause) == 0,
		    "3 hosts: report_write succeeds");
		path = fs_join(dir3, "runtime.png");
		is_int(6, count_bands(path, 400),
		    "runtime.png from 3 hosts has 6 bar rows");
		free(path);
		path = fs_join(dir3, "logs.csv");
		text = fs_read_file(path, NULL, &cause);
		ok(text != NULL && strncmp(text, LOGS_HEADER,
		    strlen(LOGS_HEADER)) == 0 &&
		    strstr(text, ",node10,") != NULL &&
		    strstr(text, ",node2,") != NULL,
		    "logs.csv keeps its columns and names each row's host");
		free(text);
		free(path);
		path = fs_join(dir3, "performance.txt");
		text = fs_read_file(path, NULL, &cause);
		ok(text != NULL && strstr(text, "Nodes                   3\n")
		    != NULL && strstr(text, "Attempts per host       node1 4, "
		    "node2 4, node10 2\n") != NULL,
		    "performance.txt: Nodes 3 and the attempts per host");
		free(text);
		free(path);
		free(dir3);
		record_list_free(&c);
	}

	/* A one-host run: the new lines, nothing else changes. */
	text = report_perf_text(&(struct perf){ .nodes = 1, .workers = 3,
	    .slots = 3, .min_task = -1 });
	ok(strstr(text, "Slots                   3 (1 node x 3 workers)\n") !=
	    NULL, "one host: Slots 3 (1 node x 3 workers)");
	free(text);

	/* Results folders are never reused. */
	base = xprintf("%s/base", tap_tmpdir());
	d1 = report_new_dir(base, &cause);
	d2 = report_new_dir(base, &cause);
	ok(d1 != NULL && d2 != NULL && strcmp(d1, d2) != 0,
	    "two results folders in the same second differ");
	path = fs_join(base, "latest");
	text = realpath(path, NULL);
	is_string(d2, text, "latest points at the newest");
	free(text);
	free(path);
	free(d1);
	free(d2);
	free(base);
	free(dir);
	record_list_free(&l);
	return done_testing();
}
