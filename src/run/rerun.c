/* The tasks an earlier run left without a result, and the merge of its
 * records into a new results folder (rerun.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "run/project.h"
#include "run/record.h"
#include "run/rerun.h"
#include "util/fs.h"
#include "util/xmalloc.h"

/* What the scan of the earlier records keeps per task. */
struct rerun_scan {
	char		**inputs;
	size_t		  ninputs;
	int		 *attempt;	/* last attempt seen (0: none) */
	unsigned char	 *status;	/* its status */
	const char	 *path;		/* records.jsonl, for messages */
	char		 *bad;		/* why the records do not fit */
};

static int
rerun_scan_one(void *arg, const struct record *r, long long pos)
{
	struct rerun_scan *sc = arg;
	size_t t;

	(void)pos;
	if (r->task < 0 || (size_t)r->task >= sc->ninputs) {
		xasprintf(&sc->bad, "%s has task %d, but the project has %zu "
		    "inputs now: its inputs changed since that run; run it "
		    "anew without --unfinished", sc->path, r->task,
		    sc->ninputs);
		return 1;
	}
	t = (size_t)r->task;
	if (r->input == NULL || strcmp(r->input, sc->inputs[t]) != 0) {
		xasprintf(&sc->bad, "%s has task %zu on input '%.200s', but "
		    "the project's task %zu is '%.200s' now: its inputs "
		    "changed since that run; run it anew without "
		    "--unfinished", sc->path, t, r->input != NULL ? r->input :
		    "", t, sc->inputs[t]);
		return 1;
	}
	if (r->attempt >= sc->attempt[t]) {
		sc->attempt[t] = r->attempt;
		sc->status[t] = (unsigned char)r->status;
	}
	return 0;
}

/* "Total tasks  N" of the earlier run's performance.txt, or 0. */
static size_t
rerun_total(const char *from)
{
	char *path = fs_join(from, "performance.txt"), *text, *p;
	unsigned long n = 0;

	text = fs_read_file(path, NULL, NULL);
	free(path);
	if (text == NULL)
		return 0;
	if ((p = strstr(text, "Total tasks")) != NULL &&
	    sscanf(p + 11, "%lu", &n) != 1)
		n = 0;
	free(text);
	return (size_t)n;
}

int
rerun_plan(const struct rerun *rr, char **inputs, size_t ninputs,
    int retries, struct rerun_plan *pl, char **cause)
{
	struct record_source src;
	struct rerun_scan sc;
	size_t i, total;
	char *path;
	int rc = -1, st, done;

	memset(pl, 0, sizeof *pl);
	pl->tasks = xcalloc(ninputs + 1, sizeof *pl->tasks);
	pl->inputs = xcalloc(ninputs + 1, sizeof *pl->inputs);
	if (rr == NULL) {
		for (i = 0; i < ninputs; i++) {
			pl->tasks[i] = i;
			pl->inputs[i] = inputs[i];
		}
		pl->n = ninputs;
		return 0;
	}
	total = rerun_total(rr->from);
	if (total != 0 && total != ninputs) {
		xasprintf(cause, "the run in %s had %zu tasks, the project has "
		    "%zu inputs now: its inputs changed since that run; run "
		    "it anew without --unfinished", rr->from, total, ninputs);
		goto fail;
	}
	memset(&sc, 0, sizeof sc);
	sc.inputs = inputs;
	sc.ninputs = ninputs;
	sc.attempt = xcalloc(ninputs + 1, sizeof *sc.attempt);
	sc.status = xcalloc(ninputs + 1, sizeof *sc.status);
	path = fs_join(rr->from, "records.jsonl");
	sc.path = path;
	memset(&src, 0, sizeof src);
	src.path = path;
	if (record_each(&src, rerun_scan_one, &sc, cause) == 0) {
		if (sc.bad != NULL) {
			*cause = sc.bad;
			sc.bad = NULL;
		} else
			rc = 0;
	}
	for (i = 0; rc == 0 && i < ninputs; i++) {
		st = sc.status[i];
		if (sc.attempt[i] == 0 || st == REC_CANCELLED)
			done = 0;
		else if (st == REC_OK)
			done = 1;
		else	/* failed: for good once its retries are spent */
			done = !rr->failed && sc.attempt[i] > retries;
		if (!done) {
			pl->tasks[pl->n] = i;
			pl->inputs[pl->n++] = inputs[i];
		}
	}
	free(sc.bad);
	free(sc.attempt);
	free(sc.status);
	free(path);
	if (rc == 0)
		return 0;
fail:
	rerun_plan_free(pl);
	return -1;
}

void
rerun_plan_free(struct rerun_plan *pl)
{
	free(pl->tasks);
	free(pl->inputs);
	memset(pl, 0, sizeof *pl);
}

/* Copies file from to to (a hard link when it can). A missing from is
 * no error: the log was lost with its host. */
static int
rerun_copy(const char *from, const char *to, char **cause)
{
	char buf[65536];
	ssize_t n;
	int in, out, rc = 0;

	if (!fs_is_file(from))
		return 0;
	if (link(from, to) == 0)
		return 0;
	if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0) {
		xasprintf(cause, "cannot read %s: %s", from, strerror(errno));
		return -1;
	}
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		xasprintf(cause, "cannot write %s: %s", to, strerror(errno));
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof buf)) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			rc = -1;
			break;
		}
	}
	if (n < 0 || rc != 0 || close(out) != 0) {
		xasprintf(cause, "cannot copy %s to %s: %s", from, to,
		    strerror(errno));
		rc = -1;
	}
	if (rc != 0 && out >= 0)
		unlink(to);
	close(in);
	return rc;
}

/* What the carry keeps while it reads the earlier records. */
struct rerun_carry {
	const struct rerun	*rr;
	unsigned char		*rerun;		/* per task: run again */
	size_t			 ntasks;
	const char		*dir;
	FILE			*records;
	char			*prefix;	/* new log names: prefix-log */
	json_t			*copied;	/* log stems copied */
	long			 n;
	char			*bad;
};

static int
rerun_carry_one(void *arg, const struct record *r, long long pos)
{
	struct rerun_carry *c = arg;
	struct record copy;
	const char *ext[] = { "out", "err" };
	char *from, *to, *text, *stem;
	int k;

	(void)pos;
	if (r->task < 0 || ((size_t)r->task < c->ntasks &&
	    c->rerun[r->task]))
		return 0;	/* run again: its old attempts go */
	copy = *r;
	stem = NULL;
	if (r->log != NULL) {
		/* A new run names its logs wN (eE.R-wN on a cluster): one
		 * carried already (rSTAMP-...) keeps its unique name. */
		stem = r->log[0] == 'r' ? xstrdup(r->log) :
		    xprintf("%s-%s", c->prefix, r->log);
		if (json_object_get(c->copied, r->log) == NULL) {
			for (k = 0; k < 2; k++) {
				from = xprintf("%s/logs/%s.%s", c->rr->from,
				    r->log, ext[k]);
				to = xprintf("%s/logs/%s.%s", c->dir, stem,
				    ext[k]);
				if (c->bad == NULL)
					rerun_copy(from, to, &c->bad);
				free(from);
				free(to);
			}
			json_object_set_new(c->copied, r->log, json_true());
		}
		copy.log = stem;
	} else {
		/* An older run's own files: logs/TASK-ATTEMPT.out|err. */
		for (k = 0; k < 2 && c->bad == NULL; k++) {
			from = xprintf("%s/logs/%d-%d.%s", c->rr->from,
			    r->task, r->attempt, ext[k]);
			to = xprintf("%s/logs/%d-%d.%s", c->dir, r->task,
			    r->attempt, ext[k]);
			rerun_copy(from, to, &c->bad);
			free(from);
			free(to);
		}
	}
	text = record_to_json(&copy);
	fprintf(c->records, "%s\n", text);
	free(text);
	free(stem);
	c->n++;
	return c->bad != NULL;
}

long
rerun_carry(const struct rerun *rr, const struct rerun_plan *pl,
    const char *dir, FILE *records, char **cause)
{
	struct record_source src;
	struct rerun_carry c;
	const char *base;
	char *path, *logs;
	size_t i;
	int rc;

	memset(&c, 0, sizeof c);
	c.rr = rr;
	c.dir = dir;
	c.records = records;
	/* Per task up to the last one run again; those past it are
	 * carried. */
	c.rerun = xcalloc(pl->n > 0 ? pl->tasks[pl->n - 1] + 1 : 1, 1);
	for (i = 0; i < pl->n; i++)
		c.rerun[pl->tasks[i]] = 1;
	c.ntasks = pl->n > 0 ? pl->tasks[pl->n - 1] + 1 : 0;
	base = strrchr(rr->from, '/');
	base = base != NULL && base[1] != '\0' ? base + 1 : rr->from;
	c.prefix = xprintf("r%s", base[0] == '.' ? base + 1 : base);
	c.copied = json_object();
	logs = fs_join(dir, "logs");
	rc = fs_mkdir_p(logs, 0755, cause);
	free(logs);
	if (rc == 0) {
		path = fs_join(rr->from, "records.jsonl");
		memset(&src, 0, sizeof src);
		src.path = path;
		rc = record_each(&src, rerun_carry_one, &c, cause);
		if (rc == 0 && c.bad != NULL) {
			*cause = c.bad;
			c.bad = NULL;
			rc = -1;
		}
		free(path);
	}
	fflush(records);
	free(c.rerun);
	free(c.prefix);
	json_decref(c.copied);
	free(c.bad);
	return rc == 0 ? c.n : -1;
}

char *
rerun_latest(const char *project_dir, char **cause)
{
	char *link = xprintf("%s/results/latest", project_dir), *dir;

	if (!fs_is_dir(link)) {
		xasprintf(cause, "%s has no results folder of an earlier run "
		    "(%s): nothing to finish; run it without --unfinished",
		    project_dir, link);
		free(link);
		return NULL;
	}
	dir = fs_realpath(link, cause);
	free(link);
	return dir;
}

int
rerun_count(const struct rerun *rr, const char *project_dir, long files,
    size_t *plan_n, size_t *total, char **cause)
{
	struct project pr;
	struct rerun_plan pl;
	char **inputs = NULL;
	size_t ninputs = 0;
	int rc = -1;

	*plan_n = *total = 0;
	if (project_load(project_dir, &pr, cause) != 0)
		return -1;
	if (project_inputs(&pr, files, &inputs, &ninputs, cause) == 0 &&
	    rerun_plan(rr, inputs, ninputs, pr.retries, &pl, cause) == 0) {
		*plan_n = pl.n;
		*total = ninputs;
		rerun_plan_free(&pl);
		rc = 0;
	}
	project_inputs_free(inputs, ninputs);
	project_free(&pr);
	return rc;
}
