/* The results folder: one generator for every engine's records. */
#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "run/gantt.h"
#include "run/report.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

void
report_perf(const struct record_list *l, const struct run_info *ri,
    struct perf *pf)
{
	const struct record **final;
	double first = DBL_MAX, last = 0, d, sum = 0;
	size_t i, slots, finished = 0;

	memset(pf, 0, sizeof *pf);
	pf->tasks = ri->ntasks;
	pf->nodes = ri->nodes > 0 ? ri->nodes : 1;
	pf->workers = ri->workers;
	pf->setup = ri->setup;
	pf->total = ri->ended > ri->started ? ri->ended - ri->started : 0;
	pf->min_task = pf->max_task = -1;
	pf->attempts = l->n;
	for (i = 0; i < l->n; i++) {
		const struct record *r = &l->v[i];

		if (r->status != REC_CANCELLED)
			finished++;
		if (r->start < first)
			first = r->start;
		if (r->end > last)
			last = r->end;
		pf->serial += r->end - r->start;
	}
	pf->span = l->n > 0 ? last - first : 0;
	final = record_list_final(l, ri->ntasks);
	for (i = 0; i < ri->ntasks; i++) {
		const struct record *r = final[i];

		if (r == NULL || r->status == REC_CANCELLED) {
			pf->unfinished++;
			continue;
		}
		if (r->status != REC_OK) {
			pf->errors++;
			continue;
		}
		pf->ok++;
		d = r->end - r->start;
		sum += d;
		if (pf->min_task < 0 || d < pf->min) {
			pf->min = d;
			pf->min_task = r->task;
		}
		if (pf->max_task < 0 || d > pf->max) {
			pf->max = d;
			pf->max_task = r->task;
		}
	}
	free(final);
	pf->avg = pf->ok > 0 ? sum / (double)pf->ok : 0;
	slots = (size_t)pf->workers * (size_t)pf->nodes;
	if (finished == 0)
		pf->efficiency = -1;	/* nothing finished: no number */
	else if (pf->span > 0 && slots > 0)
		pf->efficiency = pf->serial / (pf->span * (double)slots);
}

json_t *
report_efficiency_json(const struct perf *pf)
{
	return pf->efficiency < 0 ? json_null() : json_real(pf->efficiency);
}

char *
report_perf_text(const struct perf *pf)
{
	struct strbuf sb;

	strbuf_init(&sb);
#define ROW(k, fmt, ...) strbuf_addf(&sb, "%-24s" fmt "\n", k, __VA_ARGS__)
	ROW("Total tasks", "%zu", pf->tasks);
	ROW("Succeeded", "%zu", pf->ok);
	ROW("Errors", "%zu", pf->errors);
	ROW("Unfinished", "%zu", pf->unfinished);
	ROW("Attempts", "%zu", pf->attempts);
	ROW("Average task duration", "%.3f s", pf->avg);
	if (pf->min_task >= 0) {
		ROW("Shortest task", "%.3f s (task %d)", pf->min, pf->min_task);
		ROW("Longest task", "%.3f s (task %d)", pf->max, pf->max_task);
	} else {
		ROW("Shortest task", "%s", "-");
		ROW("Longest task", "%s", "-");
	}
	ROW("Parallel span", "%.3f s", pf->span);
	ROW("Serial sum", "%.3f s", pf->serial);
	if (pf->efficiency < 0)
		ROW("Efficiency", "%s", "-");
	else
		ROW("Efficiency", "%.1f %%", pf->efficiency * 100.0);
	ROW("Set-up time", "%.3f s", pf->setup);
	ROW("Total time", "%.3f s", pf->total);
	ROW("Nodes", "%d", pf->nodes);
	ROW("Workers per node", "%d", pf->workers);
#undef ROW
	return strbuf_detach(&sb);
}

/* Writes sb as dir/name (atomically) and frees it. */
static int
report_save(const char *dir, const char *name, struct strbuf *sb,
    char **cause)
{
	char *path = fs_join(dir, name);
	int rc;

	rc = fs_write_atomic(path, sb->buf, sb->len, 0644, cause);
	free(path);
	strbuf_free(sb);
	return rc;
}

static void
report_iso(struct strbuf *sb, double t)
{
	time_t s = (time_t)t;
	struct tm tm;
	char buf[32];
	int ms = (int)((t - (double)s) * 1000.0);

	gmtime_r(&s, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	strbuf_addf(sb, "%s.%03dZ", buf, ms < 0 ? 0 : (ms > 999 ? 999 : ms));
}

/* A JSON value as a CSV cell: strings bare, others as JSON text. */
static void
report_cell(struct strbuf *sb, json_t *v)
{
	char *s;

	if (v == NULL || json_is_null(v))
		return;
	if (json_is_string(v)) {
		strbuf_add_csv(sb, json_string_value(v));
		return;
	}
	s = json_dumps(v, RECORD_RESULT_FLAGS | JSON_ENCODE_ANY);
	strbuf_add_csv(sb, s);
	free(s);
}

static int
report_results_csv(const char *dir, const struct record **final,
    size_t ntasks, char **cause)
{
	json_t **objs, *keys = json_array(), *seen = json_object(), *v;
	struct strbuf sb;
	const char *key;
	size_t i, k;

	objs = xcalloc(ntasks + 1, sizeof *objs);
	for (i = 0; i < ntasks; i++) {
		if (final[i] == NULL || final[i]->status != REC_OK ||
		    final[i]->result == NULL)
			continue;
		objs[i] = json_loads(final[i]->result, 0, NULL);
		json_object_foreach(objs[i], key, v) {
			if (json_object_get(seen, key) == NULL) {
				json_object_set_new(seen, key, json_true());
				json_array_append_new(keys, json_string(key));
			}
		}
	}
	strbuf_init(&sb);
	strbuf_adds(&sb, "task,input");
	json_array_foreach(keys, k, v) {
		const char *name = json_string_value(v);

		/* A result key named like a fixed column gets a prefix. */
		strbuf_addc(&sb, ',');
		if (strcmp(name, "task") == 0 || strcmp(name, "input") == 0) {
			char *renamed = xprintf("result.%s", name);

			strbuf_add_csv(&sb, renamed);
			free(renamed);
		} else
			strbuf_add_csv(&sb, name);
	}
	strbuf_addc(&sb, '\n');
	for (i = 0; i < ntasks; i++) {
		if (objs[i] == NULL)
			continue;
		strbuf_addf(&sb, "%zu,", i);
		strbuf_add_csv(&sb, final[i]->input);
		json_array_foreach(keys, k, v) {
			strbuf_addc(&sb, ',');
			report_cell(&sb, json_object_get(objs[i],
			    json_string_value(v)));
		}
		strbuf_addc(&sb, '\n');
		json_decref(objs[i]);
	}
	free(objs);
	json_decref(keys);
	json_decref(seen);
	return report_save(dir, "results.csv", &sb, cause);
}

static int
report_errors_csv(const char *dir, const struct record **final,
    const struct run_info *ri, char **cause)
{
	struct strbuf sb;
	char *text;
	size_t i;

	strbuf_init(&sb);
	strbuf_adds(&sb, "task,input,status,exit,attempts,error\n");
	for (i = 0; i < ri->ntasks; i++) {
		const struct record *r = final[i];

		if (r != NULL && r->status == REC_OK)
			continue;
		strbuf_addf(&sb, "%zu,", i);
		strbuf_add_csv(&sb, ri->inputs != NULL ? ri->inputs[i] :
		    (r != NULL ? r->input : ""));
		if (r == NULL)
			strbuf_adds(&sb, ",unfinished,,0,never started\n");
		else {
			strbuf_addf(&sb, ",%s,%d,%d,",
			    r->status == REC_CANCELLED ? "unfinished" :
			    record_status_name(r->status), r->exit, r->attempt);
			if (r->stderr_tail != NULL) {
				text = xprintf("%s: %s", r->error != NULL ?
				    r->error : record_status_name(r->status),
				    r->stderr_tail);
				strbuf_add_csv(&sb, text);
				free(text);
			} else
				strbuf_add_csv(&sb, r->error != NULL ?
				    r->error : "");
			strbuf_addc(&sb, '\n');
		}
	}
	return report_save(dir, "errors.csv", &sb, cause);
}

static int
report_logs_csv(const char *dir, const struct record_list *l, char **cause)
{
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb);
	strbuf_adds(&sb, "task,input,worker,host,pid,start,end,duration,exit,"
	    "attempt,status\n");
	for (i = 0; i < l->n; i++) {
		const struct record *r = &l->v[i];

		strbuf_addf(&sb, "%d,", r->task);
		strbuf_add_csv(&sb, r->input);
		strbuf_addf(&sb, ",%d,", r->worker);
		strbuf_add_csv(&sb, r->host);
		strbuf_addf(&sb, ",%ld,", r->pid);
		report_iso(&sb, r->start);
		strbuf_addc(&sb, ',');
		report_iso(&sb, r->end);
		strbuf_addf(&sb, ",%.3f,%d,%d,%s\n", r->end - r->start, r->exit,
		    r->attempt, record_status_name(r->status));
	}
	return report_save(dir, "logs.csv", &sb, cause);
}

static int
report_records(const char *dir, const struct record_list *l, char **cause)
{
	struct strbuf sb;
	char *line;
	size_t i;

	strbuf_init(&sb);
	for (i = 0; i < l->n; i++) {
		line = record_to_json(&l->v[i]);
		strbuf_adds(&sb, line);
		strbuf_addc(&sb, '\n');
		free(line);
	}
	return report_save(dir, "records.jsonl", &sb, cause);
}

int
report_write(const char *dir, const struct record_list *l,
    const struct run_info *ri, char **cause)
{
	const struct record **final;
	struct perf pf;
	char *text, *path, *title, *full;
	int rc = -1;

	final = record_list_final(l, ri->ntasks);
	if (report_results_csv(dir, final, ri->ntasks, cause) != 0 ||
	    report_errors_csv(dir, final, ri, cause) != 0 ||
	    report_logs_csv(dir, l, cause) != 0 ||
	    report_records(dir, l, cause) != 0)
		goto out;

	report_perf(l, ri, &pf);
	text = report_perf_text(&pf);
	full = xprintf("fanout performance: %s (%s engine)\n\n%s",
	    ri->project != NULL ? ri->project : "", ri->engine != NULL ?
	    ri->engine : "local", text);
	path = fs_join(dir, "performance.txt");
	rc = fs_write_atomic(path, full, strlen(full), 0644, cause);
	free(path);
	free(full);
	free(text);
	if (rc != 0)
		goto out;

	title = xprintf("%s: %zu tasks, %zu failed, %d worker%s x %d node%s",
	    ri->project != NULL ? ri->project : "run", pf.tasks,
	    pf.errors + pf.unfinished, pf.workers, pf.workers == 1 ? "" : "s",
	    pf.nodes, pf.nodes == 1 ? "" : "s");
	path = fs_join(dir, "runtime.png");
	rc = gantt_write_png(path, l, title, cause);
	free(path);
	free(title);
out:
	free(final);
	return rc;
}

int
report_check_dir(const char *dir, char **cause)
{
	struct dirent *de;
	DIR *d;
	int empty = 1;

	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : (xasprintf(cause, "cannot use %s "
		    "for results: %s", dir, strerror(errno)), -1);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			empty = 0;
	}
	closedir(d);
	if (!empty) {
		xasprintf(cause, "%s already holds files; give a new or empty "
		    "folder to --results", dir);
		return -1;
	}
	return 0;
}

char *
report_new_dir(const char *base, char **cause)
{
	char stamp[32], *dir, *link_tmp, *link;
	time_t now = time(NULL);
	struct tm tm;
	int i;

	if (fs_mkdir_p(base, 0755, cause) != 0)
		return NULL;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	for (i = 1; ; i++) {
		if (i == 1)
			dir = xprintf("%s/%s", base, stamp);
		else
			dir = xprintf("%s/%s-%d", base, stamp, i);
		if (mkdir(dir, 0755) == 0)
			break;
		if (errno != EEXIST || i > 1000) {
			xasprintf(cause, "cannot create %s: %s", dir,
			    strerror(errno));
			free(dir);
			return NULL;
		}
		free(dir);
	}
	/* base/latest -> the new folder, replaced atomically. */
	link = fs_join(base, "latest");
	link_tmp = xprintf("%s.tmp.%ld", link, (long)getpid());
	unlink(link_tmp);
	if (symlink(strrchr(dir, '/') + 1, link_tmp) == 0 &&
	    rename(link_tmp, link) != 0)
		unlink(link_tmp);
	free(link_tmp);
	free(link);
	return dir;
}
