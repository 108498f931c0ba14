/* The results folder: one generator for every engine's records. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

/* A host named by the records: how many attempts it ran and its highest
 * worker number. */
struct report_host {
	char		*name;
	size_t		 attempts;
	int		 workers;
};

/* One pass over the records (record_each): what every attempt adds, and
 * which attempt of each task is its final one. Memory per task: the final
 * attempt's position, attempt number and status (13 bytes). */
struct report_scan {
	const struct run_info	*ri;
	struct perf		*pf;
	double			 first, last;
	size_t			 finished;	/* attempts not cancelled */
	long long		*pos;		/* per task, or -1 */
	int			*attempt;
	unsigned char		*status;
	struct report_host	*hosts;		/* the hosts that ran tasks */
	size_t			 nhosts;
	size_t			 lasthost;	/* index of the last one seen */
	FILE			*logs;		/* logs.csv rows go here */
	const char		*dir;		/* cut failed attempts' output
						 * into dir/logs/T-A.*, or NULL */
	struct strbuf		 row;
};

/* ISO 8601 UTC with milliseconds. */
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

/* Copies len bytes from off of dir/logs/<log>.<ext> to dir/logs/T-A.<ext>. */
static void
report_cut(const char *dir, const struct record *r, const char *ext,
    long long off, long long len)
{
	char *from, *to, buf[65536];
	int in, out;
	ssize_t n;

	from = xprintf("%s/logs/%s.%s", dir, r->log, ext);
	to = xprintf("%s/logs/%d-%d.%s", dir, r->task, r->attempt, ext);
	in = open(from, O_RDONLY | O_CLOEXEC);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	while (in >= 0 && out >= 0 && len > 0 &&
	    (n = pread(in, buf, len < (long long)sizeof buf ? (size_t)len :
	    sizeof buf, (off_t)off)) > 0) {
		if (write(out, buf, (size_t)n) != n)
			break;
		off += n;
		len -= n;
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	free(from);
	free(to);
}

/* Counts an attempt of r's host. */
static void
report_scan_host(struct report_scan *sc, const struct record *r)
{
	const char *name = r->host != NULL ? r->host : "";
	struct report_host *h;
	size_t i = sc->lasthost;

	if (i >= sc->nhosts || strcmp(sc->hosts[i].name, name) != 0) {
		for (i = 0; i < sc->nhosts; i++) {
			if (strcmp(sc->hosts[i].name, name) == 0)
				break;
		}
		if (i == sc->nhosts) {
			sc->hosts = xreallocarray(sc->hosts, sc->nhosts + 1,
			    sizeof *sc->hosts);
			memset(&sc->hosts[i], 0, sizeof sc->hosts[i]);
			sc->hosts[i].name = xstrdup(name);
			sc->nhosts++;
		}
		sc->lasthost = i;
	}
	h = &sc->hosts[i];
	h->attempts++;
	if (r->worker > h->workers)
		h->workers = r->worker;
}

static int
report_scan_one(void *arg, const struct record *r, long long pos)
{
	struct report_scan *sc = arg;
	struct perf *pf = sc->pf;
	size_t t;

	pf->attempts++;
	report_scan_host(sc, r);
	if (r->status != REC_CANCELLED)
		sc->finished++;
	if (r->start < sc->first)
		sc->first = r->start;
	if (r->end > sc->last)
		sc->last = r->end;
	pf->serial += r->end - r->start;
	if (r->task >= 0 && (size_t)r->task < sc->ri->ntasks) {
		t = (size_t)r->task;
		if (sc->pos[t] < 0 || r->attempt >= sc->attempt[t]) {
			sc->pos[t] = pos;
			sc->attempt[t] = r->attempt;
			sc->status[t] = (unsigned char)r->status;
		}
	}
	if (sc->logs != NULL) {
		struct strbuf *sb = &sc->row;

		strbuf_reset(sb);
		strbuf_addf(sb, "%d,", r->task);
		strbuf_add_csv(sb, r->input);
		strbuf_addf(sb, ",%d,", r->worker);
		strbuf_add_csv(sb, r->host);
		strbuf_addf(sb, ",%ld,", r->pid);
		report_iso(sb, r->start);
		strbuf_addc(sb, ',');
		report_iso(sb, r->end);
		strbuf_addf(sb, ",%.3f,%d,%d,%s\n", r->end - r->start, r->exit,
		    r->attempt, record_status_name(r->status));
		fwrite(sb->buf, 1, sb->len, sc->logs);
	}
	if (sc->dir != NULL && r->status != REC_OK && r->log != NULL) {
		report_cut(sc->dir, r, "out", r->out_off, r->out_len);
		report_cut(sc->dir, r, "err", r->err_off, r->err_len);
	}
	return 0;
}

static void
report_scan_init(struct report_scan *sc, const struct run_info *ri,
    struct perf *pf)
{
	size_t i, n = ri->ntasks > 0 ? ri->ntasks : 1;

	memset(sc, 0, sizeof *sc);
	sc->ri = ri;
	sc->pf = pf;
	sc->first = DBL_MAX;
	sc->pos = xcalloc(n, sizeof *sc->pos);
	sc->attempt = xcalloc(n, sizeof *sc->attempt);
	sc->status = xcalloc(n, sizeof *sc->status);
	for (i = 0; i < n; i++)
		sc->pos[i] = -1;
	strbuf_init(&sc->row);
	memset(pf, 0, sizeof *pf);
	pf->tasks = ri->ntasks;
	pf->nodes = ri->nodes > 0 ? ri->nodes : 1;
	pf->workers = ri->workers;
	pf->setup = ri->setup;
	pf->total = ri->ended > ri->started ? ri->ended - ri->started : 0;
	pf->min_task = pf->max_task = -1;
}

static void
report_scan_free(struct report_scan *sc)
{
	size_t i;

	for (i = 0; i < sc->nhosts; i++)
		free(sc->hosts[i].name);
	free(sc->hosts);
	free(sc->pos);
	free(sc->attempt);
	free(sc->status);
	strbuf_free(&sc->row);
}

/* What the final attempt of a task adds to the numbers. */
static void
report_perf_final(struct perf *pf, const struct record *r)
{
	double d = r->end - r->start;

	pf->ok++;
	pf->avg += d;	/* a sum until report_perf_end */
	if (pf->min_task < 0 || d < pf->min) {
		pf->min = d;
		pf->min_task = r->task;
	}
	if (pf->max_task < 0 || d > pf->max) {
		pf->max = d;
		pf->max_task = r->task;
	}
}

static int
report_host_cmp(const void *a, const void *b)
{
	const struct report_host *x = a, *y = b;

	return gantt_host_cmp(x->name, y->name);
}

/* "node1 10, node2 10, node3 9": attempts per host, by name. */
static char *
report_hosts_text(struct report_scan *sc)
{
	struct strbuf sb;
	size_t i;

	qsort(sc->hosts, sc->nhosts, sizeof *sc->hosts, report_host_cmp);
	sc->lasthost = 0;
	strbuf_init(&sb);
	for (i = 0; i < sc->nhosts; i++)
		strbuf_addf(&sb, "%s%s %zu", i > 0 ? ", " : "",
		    sc->hosts[i].name, sc->hosts[i].attempts);
	return strbuf_detach(&sb);
}

static void
report_perf_end(struct report_scan *sc)
{
	struct perf *pf = sc->pf;
	size_t i, slots;
	int w = 0;

	for (i = 0; i < sc->ri->ntasks; i++) {
		if (sc->pos[i] < 0 || sc->status[i] == REC_CANCELLED)
			pf->unfinished++;
		else if (sc->status[i] != REC_OK)
			pf->errors++;
	}
	pf->span = pf->attempts > 0 ? sc->last - sc->first : 0;
	pf->avg = pf->ok > 0 ? pf->avg / (double)pf->ok : 0;
	/* Every host that ran tasks was a node, whatever the engine said;
	 * workers per node, when it did not say, the most a host used. */
	if (sc->nhosts > (size_t)pf->nodes)
		pf->nodes = (int)sc->nhosts;
	for (i = 0; pf->workers <= 0 && i < sc->nhosts; i++) {
		if (sc->hosts[i].workers > w)
			w = sc->hosts[i].workers;
	}
	if (pf->workers <= 0)
		pf->workers = w > 0 ? w : 1;
	pf->slots = pf->workers * pf->nodes;
	slots = (size_t)pf->workers * (size_t)pf->nodes;
	if (sc->finished == 0)
		pf->efficiency = -1;	/* nothing finished: no number */
	else if (pf->span > 0 && slots > 0)
		pf->efficiency = pf->serial / (pf->span * (double)slots);
}

json_t *
report_efficiency_json(const struct perf *pf)
{
	return pf->efficiency < 0 ? json_null() : json_real(pf->efficiency);
}

void
report_perf(const struct record_list *l, const struct run_info *ri,
    struct perf *pf)
{
	struct record_source src = { l, NULL, NULL };
	struct report_scan sc;
	size_t i;

	report_scan_init(&sc, ri, pf);
	record_each(&src, report_scan_one, &sc, NULL);
	for (i = 0; i < ri->ntasks; i++) {
		if (sc.pos[i] >= 0 && sc.status[i] == REC_OK)
			report_perf_final(pf, &l->v[sc.pos[i]]);
	}
	report_perf_end(&sc);
	report_scan_free(&sc);
}

void
report_run_numbers(json_t *entry, const struct perf *pf)
{
	json_object_set_new(entry, "serial_s", json_real(pf->serial));
	json_object_set_new(entry, "setup_s", json_real(pf->setup));
	json_object_set_new(entry, "span_s", json_real(pf->span));
	json_object_set_new(entry, "nodes", json_integer(pf->nodes));
	json_object_set_new(entry, "workers", json_integer(pf->workers));
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
	if (pf->ok > 0)
		ROW("Average task duration", "%.3f s (succeeded tasks)",
		    pf->avg);
	else
		ROW("Average task duration", "%s", "-");
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
	ROW("Slots", "%d (%d node%s x %d worker%s)",
	    pf->slots, pf->nodes, pf->nodes == 1 ? "" : "s", pf->workers,
	    pf->workers == 1 ? "" : "s");

#undef ROW
	return strbuf_detach(&sb);
}

/* A file of the results folder, written as NAME.tmp and renamed by
 * report_close. */
static FILE *
report_open(const char *dir, const char *name, char **cause)
{
	char *tmp = xprintf("%s/%s.tmp", dir, name);
	FILE *f = fopen(tmp, "w");

	if (f == NULL)
		xasprintf(cause, "cannot write %s: %s", tmp, strerror(errno));
	free(tmp);
	return f;
}

static int
report_close(FILE *f, const char *dir, const char *name, char **cause)
{
	char *tmp = xprintf("%s/%s.tmp", dir, name), *path = fs_join(dir, name);
	int rc = 0;

	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || ferror(f)) {
		xasprintf(cause, "cannot write %s: %s", tmp, strerror(errno));
		rc = -1;
	}
	fclose(f);
	if (rc == 0 && rename(tmp, path) != 0) {
		xasprintf(cause, "cannot write %s: %s", path, strerror(errno));
		rc = -1;
	}
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	free(path);
	return rc;
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

/* The final attempts, task by task: the numbers, errors.csv, and the keys
 * of the results (in the order they first appear). */
static int
report_finals(struct report_scan *sc, struct record_source *src, FILE *ef,
    json_t *keys, char **cause)
{
	const struct run_info *ri = sc->ri;
	json_t *seen = json_object(), *obj, *v;
	struct strbuf *sb = &sc->row;
	struct record r;
	const char *key;
	size_t i;
	int rc = 0;

	fputs("task,input,status,exit,attempts,error\n", ef);
	for (i = 0; i < ri->ntasks && rc == 0; i++) {
		strbuf_reset(sb);
		if (sc->pos[i] < 0) {
			strbuf_addf(sb, "%zu,", i);
			strbuf_add_csv(sb, ri->inputs != NULL ? ri->inputs[i] :
			    "");
			strbuf_adds(sb, ",unfinished,,0,never started\n");
			fwrite(sb->buf, 1, sb->len, ef);
			continue;
		}
		if (record_at(src, sc->pos[i], &r, cause) != 0) {
			rc = -1;
			break;
		}
		if (r.status == REC_OK) {
			report_perf_final(sc->pf, &r);
			obj = r.result != NULL ? json_loads(r.result, 0, NULL) :
			    NULL;
			json_object_foreach(obj, key, v) {
				if (json_object_get(seen, key) == NULL) {
					json_object_set_new(seen, key,
					    json_true());
					json_array_append_new(keys,
					    json_string(key));
				}
			}
			json_decref(obj);
		} else {
			strbuf_addf(sb, "%zu,", i);
			strbuf_add_csv(sb, ri->inputs != NULL ? ri->inputs[i] :
			    r.input);
			strbuf_addf(sb, ",%s,%d,%d,",
			    r.status == REC_CANCELLED ? "unfinished" :
			    record_status_name(r.status), r.exit, r.attempt);
			if (r.stderr_tail != NULL) {
				char *text = xprintf("%s: %s", r.error != NULL ?
				    r.error : record_status_name(r.status),
				    r.stderr_tail);

				strbuf_add_csv(sb, text);
				free(text);
			} else
				strbuf_add_csv(sb, r.error != NULL ?
				    r.error : "");
			strbuf_addc(sb, '\n');
			fwrite(sb->buf, 1, sb->len, ef);
		}
		record_free(&r);
	}
	json_decref(seen);
	return rc;
}

static int
report_results_csv(struct report_scan *sc, struct record_source *src,
    FILE *f, json_t *keys, char **cause)
{
	struct strbuf *sb = &sc->row;
	struct record r;
	json_t *v, *obj;
	size_t i, k;

	strbuf_reset(sb);
	strbuf_adds(sb, "task,input");
	json_array_foreach(keys, k, v) {
		const char *name = json_string_value(v);

		/* A result key named like a fixed column gets a prefix. */
		strbuf_addc(sb, ',');
		if (strcmp(name, "task") == 0 || strcmp(name, "input") == 0) {
			char *renamed = xprintf("result.%s", name);

			strbuf_add_csv(sb, renamed);
			free(renamed);
		} else
			strbuf_add_csv(sb, name);
	}
	strbuf_addc(sb, '\n');
	fwrite(sb->buf, 1, sb->len, f);
	for (i = 0; i < sc->ri->ntasks; i++) {
		if (sc->pos[i] < 0 || sc->status[i] != REC_OK)
			continue;
		if (record_at(src, sc->pos[i], &r, cause) != 0)
			return -1;
		obj = r.result != NULL ? json_loads(r.result, 0, NULL) : NULL;
		if (obj != NULL) {
			strbuf_reset(sb);
			strbuf_addf(sb, "%zu,", i);
			strbuf_add_csv(sb, r.input);
			json_array_foreach(keys, k, v) {
				strbuf_addc(sb, ',');
				report_cell(sb, json_object_get(obj,
				    json_string_value(v)));
			}
			strbuf_addc(sb, '\n');
			fwrite(sb->buf, 1, sb->len, f);
		}
		json_decref(obj);
		record_free(&r);
	}
	return 0;
}

/* The results folder from a source of records. */
static int
report_build(const char *dir, struct record_source *src,
    const struct run_info *ri, struct perf *pf, char **cause)
{
	struct report_scan sc;
	json_t *keys = json_array();
	FILE *lf = NULL, *ef = NULL, *rf = NULL;
	char *text, *path, *title, *full, *hosts;
	int rc = -1;

	report_scan_init(&sc, ri, pf);
	sc.dir = dir;
	if ((lf = report_open(dir, "logs.csv", cause)) == NULL)
		goto out;
	fputs("task,input,worker,host,pid,start,end,duration,exit,attempt,"
	    "status\n", lf);
	sc.logs = lf;
	if (record_each(src, report_scan_one, &sc, cause) != 0)
		goto out;
	lf = NULL;
	if (report_close(sc.logs, dir, "logs.csv", cause) != 0)
		goto out;
	if ((ef = report_open(dir, "errors.csv", cause)) == NULL ||
	    report_finals(&sc, src, ef, keys, cause) != 0)
		goto out;
	report_perf_end(&sc);
	rc = report_close(ef, dir, "errors.csv", cause);
	ef = NULL;
	if (rc != 0 || (rc = -1, rf = report_open(dir, "results.csv",
	    cause)) == NULL || report_results_csv(&sc, src, rf, keys,
	    cause) != 0)
		goto out;
	rc = report_close(rf, dir, "results.csv", cause);
	rf = NULL;
	if (rc != 0)
		goto out;

	text = report_perf_text(pf);
	/* Several hosts: what each ran. */
	hosts = sc.nhosts > 1 ? report_hosts_text(&sc) : xstrdup("");
	full = xprintf("fanout performance: %s (%s engine)\n\n%s%s%s%s",
	    ri->project != NULL ? ri->project : "", ri->engine != NULL ?
	    ri->engine : "local", text, *hosts != '\0' ?
	    "Attempts per host       " : "", hosts, *hosts != '\0' ? "\n" :
	    "");
	free(hosts);
	path = fs_join(dir, "performance.txt");
	rc = fs_write_atomic(path, full, strlen(full), 0644, cause);
	free(path);
	free(full);
	free(text);
	if (rc != 0)
		goto out;

	title = xprintf("%s: %zu tasks, %zu failed, %d worker%s x %d node%s",
	    ri->project != NULL ? ri->project : "run", pf->tasks,
	    pf->errors + pf->unfinished, pf->workers, pf->workers == 1 ? "" :
	    "s", pf->nodes, pf->nodes == 1 ? "" : "s");
	path = fs_join(dir, "runtime.png");
	rc = gantt_write_png(path, src, title, cause);
	free(path);
	free(title);
out:
	if (lf != NULL)
		fclose(lf);
	if (ef != NULL)
		fclose(ef);
	if (rf != NULL)
		fclose(rf);
	record_source_close(src);
	report_scan_free(&sc);
	json_decref(keys);
	return rc;
}

int
report_write_dir(const char *dir, const struct run_info *ri,
    struct perf *pf, char **cause)
{
	struct record_source src;
	int rc;

	memset(&src, 0, sizeof src);
	src.path = fs_join(dir, "records.jsonl");
	rc = report_build(dir, &src, ri, pf, cause);
	free((char *)src.path);
	return rc;
}

int
report_write(const char *dir, const struct record_list *l,
    const struct run_info *ri, char **cause)
{
	struct record_source src = { l, NULL, NULL };
	struct strbuf sb;
	struct perf pf;
	char *line, *path;
	size_t i;
	int rc;

	strbuf_init(&sb);
	for (i = 0; i < l->n; i++) {
		line = record_to_json(&l->v[i]);
		strbuf_adds(&sb, line);
		strbuf_addc(&sb, '\n');
		free(line);
	}
	path = fs_join(dir, "records.jsonl");
	rc = fs_write_atomic(path, sb.buf, sb.len, 0644, cause);
	free(path);
	strbuf_free(&sb);
	if (rc != 0)
		return -1;
	return report_build(dir, &src, ri, &pf, cause);
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
