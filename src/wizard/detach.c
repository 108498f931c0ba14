/* Detached runs (fanout create --detach): the create starts the run and
 * the head's supervisor (templates/detach-supervise.sh) and returns; the
 * head keeps s3://BUCKET/PREFIX/ID/status.json up to date, copies the
 * run's records, inputs and logs there when it is over, and tears its
 * run set down (or stops it). This file reads that status (fanout status,
 * history) and brings the results home (fanout fetch), with the user's
 * own credentials. What the head cannot delete (its own security group,
 * its instance role) is removed by the first fetch, status or history on
 * this machine that sees the head's teardown done (wizard_detach_finish),
 * or by `fanout cleanup ID`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloud/aws.h"
#include "cloud/provider.h"
#include "cloud/s3.h"
#include "event.h"
#include "history/history.h"
#include "run/project.h"
#include "run/record.h"
#include "run/report.h"
#include "util/fs.h"
#include "util/xmalloc.h"
#include "wizard/wizard.h"

/* The states the head writes into status.json. */
static const char *const detach_states[] = { "running", "uploading",
    "tearing-down", "torn-down", "stopped", "failed", NULL };

int
wizard_detach_check(json_t *answers, struct project *pr, char **cause)
{
	const char *engine = history_str(answers, "engine", "bastion");
	const char *prov = history_str(answers, "provider", "aws");
	const struct provider *p = provider_find(prov), *o;
	const char *other = NULL;
	size_t i;

	/* The head tears its run set down itself with the provider's own
	 * calls: a provider that cannot is refused before anything. */
	if (p == NULL || !p->detach) {
		for (i = 0; (o = provider_at(i)) != NULL && other == NULL; i++)
			other = o->detach ? o->name : NULL;
		xasprintf(cause, "create: --detach does not work with provider "
		    "%s yet (its head cannot tear the run set down itself); "
		    "run without --detach (fanout waits and brings the "
		    "results home)%s%s%s", prov, other != NULL ? ", or use "
		    "--provider " : "", other != NULL ? other : "",
		    other != NULL ? ", which detaches" : "");
		return -1;
	}
	if (json_is_false(json_object_get(answers, "run"))) {
		xasprintf(cause, "create: --detach and --no-run contradict "
		    "each other; give one");
		return -1;
	}
	if (pr->results_url == NULL || strcmp(pr->results_url->scheme,
	    "s3") != 0) {
		xasprintf(cause, "create: --detach needs results: s3://BUCKET/"
		    "PREFIX in %s (the head writes the results there); add "
		    "it, or run without --detach", pr->file);
		return -1;
	}
	if (strcmp(engine, "bastion") != 0) {
		xasprintf(cause, "create: --detach runs on the bastion engine "
		    "in this build, not %s; use --engine bastion, or run "
		    "without --detach", engine);
		return -1;
	}
	return 0;
}

int
wizard_detached(struct cloud_run *run, char **cause)
{
	json_t *runs, *last, *where;

	pthread_mutex_lock(&run->lock);
	runs = json_object_get(run->rec, "runs");
	last = json_array_get(runs, json_array_size(runs) - 1);
	where = json_object_get(last, "detached");
	event_log(run->sink, NULL, "run set %s detached: its head runs %lld "
	    "tasks, writes the results to %s, then %s the run set; follow it "
	    "with 'fanout status %s', bring the results home with 'fanout "
	    "fetch %s'", run->id, (long long)json_integer_value(
	    json_object_get(last, "tasks")), history_str(where, "url", "?"),
	    strcmp(history_str(where, "action", ""), "stop") == 0 ? "stops" :
	    "tears down", run->id, run->id);
	pthread_mutex_unlock(&run->lock);
	return cloud_record_set(run, "state", json_string("detached"), cause);
}

json_t *
wizard_detach_entry(json_t *rec)
{
	json_t *runs = json_object_get(rec, "runs"), *last;
	const struct provider *p = provider_find(history_str(rec, "provider",
	    "aws"));

	/* Detached runs are read with the AWS client below: a record of a
	 * provider that does not detach never gets here. */
	if (p == NULL || !p->detach)
		return NULL;
	last = json_array_get(runs, json_array_size(runs) - 1);
	if (!json_is_object(json_object_get(last, "detached")))
		return NULL;
	return last;
}

/* Checks what the head wrote as status.json. */
static int
detach_status_check(json_t *st, char **cause)
{
	static const char *const counts[] = { "done", "failed", "total",
	    NULL };
	const char *state = history_str(st, "state", NULL);
	size_t i;

	if (!json_is_object(st) || state == NULL) {
		xasprintf(cause, "it has no state");
		return -1;
	}
	for (i = 0; detach_states[i] != NULL; i++) {
		if (strcmp(detach_states[i], state) == 0)
			break;
	}
	if (detach_states[i] == NULL) {
		xasprintf(cause, "its state '%.40s' is not one fanout knows",
		    state);
		return -1;
	}
	for (i = 0; counts[i] != NULL; i++) {
		json_t *v = json_object_get(st, counts[i]);

		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			xasprintf(cause, "its %s is not a whole number",
			    counts[i]);
			return -1;
		}
	}
	return 0;
}

/* The aws settings for a record's region. */
static struct aws *
detach_aws(json_t *rec, char **cause)
{
	return aws_open(history_str(rec, "region", NULL), cause);
}

/* Reads s3://bucket/key into memory (through a temporary file beside
 * the record): 0 with the text, CLOUD_ENOTFOUND when there is no such
 * object (listed first: S3 says NoSuchKey), or an enum cloud_err. */
static int
detach_read(struct aws *a, const char *bucket, const char *key,
    char **body, size_t *len, char **cause)
{
	struct store_url u;
	struct s3_list l;
	char *tmp, *name;
	int rc;

	*body = NULL;
	memset(&u, 0, sizeof u);
	u.scheme = (char *)"s3";
	u.bucket = (char *)bucket;
	u.key = u.prefix = (char *)key;
	rc = s3_list_objects(a, &u, 1, "results", &l, cause);
	if (rc != 0)
		return rc;
	rc = l.n == 1 && strcmp(l.v[0].key, key) == 0;
	s3_list_free(&l);
	if (!rc) {
		xasprintf(cause, "s3://%s/%s: no such object", bucket, key);
		return CLOUD_ENOTFOUND;
	}
	name = xprintf(".fetch-%ld", (long)getpid());
	tmp = history_file(name, ".tmp");
	free(name);
	if ((rc = s3_get_object(a, bucket, key, tmp, cause)) == 0 &&
	    (*body = fs_read_file(tmp, len, cause)) == NULL)
		rc = CLOUD_ERR;
	unlink(tmp);
	free(tmp);
	return rc;
}

int
wizard_detach_status(json_t *rec, json_t **status, char **cause)
{
	json_t *entry = wizard_detach_entry(rec), *where;
	struct aws *a;
	json_error_t je;
	char *key, *body, *why = NULL;
	size_t len;
	int rc;

	*status = NULL;
	if (entry == NULL) {
		xasprintf(cause, "run set %s has no detached run",
		    history_str(rec, "id", "?"));
		return -1;
	}
	where = json_object_get(entry, "detached");
	if ((a = detach_aws(rec, cause)) == NULL)
		return -1;
	key = xprintf("%s/status.json", history_str(where, "prefix", ""));
	rc = detach_read(a, history_str(where, "bucket", ""), key, &body,
	    &len, cause);
	aws_free(a);
	if (rc == CLOUD_ENOTFOUND) {
		/* Not written yet: the head is still starting. */
		free(*cause);
		*cause = NULL;
		free(key);
		return 0;
	}
	if (rc != 0) {
		free(key);
		return -1;
	}
	if ((*status = json_loadb(body, len, 0, &je)) == NULL ||
	    detach_status_check(*status, &why) != 0) {
		xasprintf(cause, "s3://%s/%s is damaged: %s", history_str(where,
		    "bucket", ""), key, why != NULL ? why : je.text);
		json_decref(*status);
		*status = NULL;
		rc = -1;
	}
	free(why);
	free(body);
	free(key);
	return rc;
}

char *
wizard_detach_text(json_t *entry, json_t *status)
{
	const char *state = history_str(status, "state", "");
	const char *outcome = history_str(status, "outcome", "");
	const char *err = history_str(status, "error", "");
	long long done, failed, total;
	char *s, *fail;

	if (status == NULL)
		return xprintf("detached: starting, 0/%lld done",
		    (long long)json_integer_value(json_object_get(entry,
		    "tasks")));
	done = json_integer_value(json_object_get(status, "done"));
	failed = json_integer_value(json_object_get(status, "failed"));
	total = json_integer_value(json_object_get(status, "total"));
	fail = failed > 0 ? xprintf(", %lld failed", failed) : xstrdup("");
	if (strcmp(state, "running") == 0)
		s = xprintf("detached: %lld/%lld done%s (the head's last word: "
		    "%s)", done, total, fail, history_str(status, "updated",
		    "?"));
	else
		s = xprintf("detached: %lld/%lld done%s, %s%s%s%s", done,
		    total, fail, strcmp(outcome, "dead") == 0 ?
		    "the run died on the head; " : "", state, *err != '\0' ?
		    ": " : "", err);
	free(fail);
	return s;
}

char *
wizard_detach_line(json_t *rec, json_t **statusp)
{
	json_t *status = NULL, *entry = wizard_detach_entry(rec);
	char *cause = NULL, *text;

	if (statusp != NULL)
		*statusp = NULL;
	if (entry == NULL || strcmp(history_str(rec, "state", ""),
	    "detached") != 0)
		return NULL;
	if (wizard_detach_status(rec, &status, &cause) != 0) {
		text = xprintf("detached: cannot read the head's status (%s)",
		    cause);
		free(cause);
	} else
		text = wizard_detach_text(entry, status);
	if (statusp != NULL)
		*statusp = status;
	else
		json_decref(status);
	return text;
}

int
wizard_detach_over(json_t *status)
{
	const char *state = history_str(status, "state", "");

	return strcmp(state, "torn-down") == 0 ||
	    strcmp(state, "stopped") == 0 || (strcmp(state, "failed") == 0 &&
	    strcmp(history_str(status, "outcome", ""), "") != 0);
}

/* A name under logs/ the head wrote, safe as a file name here. */
static int
detach_log_name(const char *name)
{
	return *name != '\0' && *name != '.' && strchr(name, '/') == NULL &&
	    strlen(name) < 200;
}

/* The head's records (as fanout-worker wrote them) checked against its
 * inputs, with each input as written there, into dir/records.jsonl, the
 * way an attached run writes them home (remote.c). */
static int
detach_records(const char *text, char **inputs, size_t ninputs,
    const char *dir, char **cause)
{
	struct record rec;
	const char *p = text, *nl;
	char *line, *path, *why = NULL, *out;
	FILE *f;
	int rc = 0;

	path = fs_join(dir, "records.jsonl");
	if ((f = fopen(path, "w")) == NULL) {
		xasprintf(cause, "cannot write %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	for (; *p != '\0'; p = *nl != '\0' ? nl + 1 : nl) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);	/* a line cut short: ignored */
		if (*nl == '\0' || *p != '{')
			continue;
		line = xstrndup(p, (size_t)(nl - p));
		if (record_from_json(line, &rec, &why) != 0) {
			free(why);
			why = NULL;
			free(line);
			continue;
		}
		free(line);
		if (rec.task < 0 || (size_t)rec.task >= ninputs) {
			record_free(&rec);
			continue;
		}
		free(rec.input);
		rec.input = xstrdup(inputs[rec.task]);
		out = record_to_json(&rec);
		fprintf(f, "%s\n", out);
		free(out);
		record_free(&rec);
	}
	if (fclose(f) != 0) {
		xasprintf(cause, "cannot write %s: %s", path, strerror(errno));
		rc = -1;
	}
	free(path);
	return rc;
}

int
wizard_detach_fetch(json_t *rec, json_t *status, const char *results,
    struct sink *sink, char **dirp, char **cause)
{
	json_t *entry = wizard_detach_entry(rec), *where;
	struct project pr;
	struct run_info ri;
	struct perf perf;
	struct aws *a = NULL;
	const char *bucket, *prefix, *name;
	struct store_url u;
	struct s3_list l;
	char *dir = NULL, *base, *key, *body = NULL, *path;
	char **inputs = NULL, *p, *logs;
	size_t len, ninputs = 0, i;
	int rc = -1, c;

	*dirp = NULL;
	if (entry == NULL) {
		xasprintf(cause, "run set %s has no detached run",
		    history_str(rec, "id", "?"));
		return -1;
	}
	memset(&pr, 0, sizeof pr);
	memset(&ri, 0, sizeof ri);
	where = json_object_get(entry, "detached");
	bucket = history_str(where, "bucket", "");
	prefix = history_str(where, "prefix", "");
	if (project_load(history_str(rec, "project_dir", ""), &pr, cause) != 0)
		return -1;
	if ((a = detach_aws(rec, cause)) == NULL)
		goto out;
	/* The inputs first: the records are checked against them, and
	 * name them as the head's names file says (objects of a bucket),
	 * else as its inputs. */
	key = xprintf("%s/names", prefix);
	rc = detach_read(a, bucket, key, &body, &len, cause);
	free(key);
	if (rc == CLOUD_ENOTFOUND) {
		free(*cause);
		*cause = NULL;
		key = xprintf("%s/inputs", prefix);
		rc = detach_read(a, bucket, key, &body, &len, cause);
		free(key);
	}
	if (rc != 0)
		goto out;
	rc = -1;
	inputs = xcalloc(len + 1, sizeof *inputs);
	for (p = body; *p != '\0'; ) {
		char *nl = strchr(p, '\n');

		if (nl == NULL)
			break;
		inputs[ninputs++] = xstrndup(p, (size_t)(nl - p));
		p = nl + 1;
	}
	free(body);
	body = NULL;
	if (results != NULL) {
		if (report_check_dir(results, cause) != 0 ||
		    fs_mkdir_p(results, 0755, cause) != 0)
			goto out;
		dir = fs_realpath(results, cause);
	} else {
		base = fs_join(pr.dir, "results");
		dir = report_new_dir(base, cause);
		free(base);
	}
	if (dir == NULL)
		goto out;
	event_log(sink, "fetch", "bringing s3://%s/%s home to %s", bucket,
	    prefix, dir);
	key = xprintf("%s/records.jsonl", prefix);
	if (detach_read(a, bucket, key, &body, &len, cause) != 0) {
		free(key);
		goto out;
	}
	free(key);
	if (detach_records(body, inputs, ninputs, dir, cause) != 0)
		goto out;
	free(body);
	body = NULL;
	/* The workers' logs: logs/wN.out|err (none: a run of no output). */
	key = xprintf("%s/logs/", prefix);
	memset(&u, 0, sizeof u);
	u.scheme = (char *)"s3";
	u.bucket = (char *)bucket;
	u.key = u.prefix = key;
	memset(&l, 0, sizeof l);
	c = s3_list_objects(a, &u, 0, "results", &l, cause);
	if (c == CLOUD_ENOTFOUND) {
		free(*cause);
		*cause = NULL;
	} else if (c != 0) {
		free(key);
		goto out;
	}
	logs = fs_join(dir, "logs");
	if (fs_mkdir_p(logs, 0755, cause) != 0)
		c = -1;
	for (i = 0; c == 0 && i < l.n; i++) {
		name = l.v[i].key + strlen(key);
		if (strncmp(l.v[i].key, key, strlen(key)) != 0 ||
		    !detach_log_name(name))
			continue;
		path = fs_join(logs, name);
		c = s3_get_object(a, bucket, l.v[i].key, path, cause);
		free(path);
	}
	s3_list_free(&l);
	free(logs);
	free(key);
	if (c != 0)
		goto out;
	ri.project = pr.name;
	ri.engine = "bastion";
	ri.inputs = inputs;
	ri.ntasks = ninputs;
	ri.workers = pr.workers;
	ri.nodes = 1;
	ri.started = history_parse_timestamp(history_str(status, "started",
	    NULL));
	ri.ended = history_parse_timestamp(history_str(status, "ended",
	    NULL));
	if (ri.started < 0)
		ri.started = 0;
	if (ri.ended < ri.started)
		ri.ended = ri.started;
	memset(&perf, 0, sizeof perf);
	if (report_write_dir(dir, &ri, &perf, cause) != 0)
		goto out;
	/* The run's entry gets what an attached run's has. */
	json_object_set_new(entry, "state", json_string("done"));
	json_object_set_new(entry, "results", json_string(dir));
	json_object_set_new(entry, "ended", json_string(history_str(status,
	    "ended", history_str(entry, "started", ""))));
	json_object_set_new(entry, "tasks", json_integer((json_int_t)
	    perf.tasks));
	json_object_set_new(entry, "ok", json_integer((json_int_t)perf.ok));
	json_object_set_new(entry, "errors", json_integer((json_int_t)
	    perf.errors));
	json_object_set_new(entry, "unfinished", json_integer((json_int_t)
	    perf.unfinished));
	json_object_set_new(entry, "efficiency", report_efficiency_json(
	    &perf));
	report_run_numbers(entry, &perf);
	*dirp = dir;
	dir = NULL;
	rc = 0;
out:
	for (i = 0; i < ninputs; i++)
		free(inputs[i]);
	free(inputs);
	free(body);
	free(dir);
	if (a != NULL)
		aws_free(a);
	project_free(&pr);
	return rc;
}

