/* The bastion engine: the whole run on one machine reached over SSH — the
 * head VM a create made, or a machine of one's own (`fanout run --host`)
 * — through remote_run (src/ssh/remote.h): wait for SSH, set up, upload
 * what changed, run, download, build the results folder. */
#include <stdlib.h>
#include <string.h>

#include "cloud/provider.h"
#include "engine/engine.h"
#include "event.h"
#include "history/history.h"
#include "run/project.h"
#include "ssh/remote.h"
#include "util/fs.h"
#include "run/report.h"
#include "run/rerun.h"
#include "util/xmalloc.h"

int
engine_ssh_wait(double *connect_timeout, double *auth_grace, char **cause)
{
	const char *wait = getenv("FANOUT_SSH_WAIT");
	char *end;

	*connect_timeout = 0;
	/* How long to wait for a booting VM's sshd (default 300 s). */
	if (wait != NULL && *wait != '\0') {
		*connect_timeout = strtod(wait, &end);
		if (*end != '\0' || *connect_timeout <= 0) {
			xasprintf(cause, "FANOUT_SSH_WAIT must be a number of "
			    "seconds, not '%s'", wait);
			return -1;
		}
	}
	/* A fresh VM may refuse its key until its start-up script has
	 * installed it: half the wait, at most a minute. */
	*auth_grace = *connect_timeout > 0 ? *connect_timeout / 2 : 60;
	if (*auth_grace > 60)
		*auth_grace = 60;
	return 0;
}

enum local_status
engine_bastion_host(json_t *host, struct remote_opts *ro,
    struct remote_result *rr, char **cause)
{
	char *user = NULL, *addr = NULL;
	enum local_status ls;
	int port = 0;

	memset(rr, 0, sizeof *rr);
	if (engine_host_address(host, &user, &addr, &port, cause) != 0)
		return LOCAL_BAD_INPUT;
	ro->host = addr;
	ro->port = port;
	ro->user = user != NULL ? user : history_str(host, "user", NULL);
	ro->key_file = history_str(host, "key_file", NULL);
	ro->expected_fp = history_str(host, "host_key", NULL);
	if (ro->host == NULL || ro->user == NULL) {
		xasprintf(cause, "host %s has no %s in its record",
		    history_str(host, "name", "?"), ro->host == NULL ?
		    "address" : "login user");
		ls = LOCAL_BAD_INPUT;
	} else
		ls = remote_run(ro, rr, cause);
	ro->host = NULL;
	free(addr);
	free(user);
	return ls;
}

json_t *
engine_run_entry(const char *engine, double t0, const struct local_result *lr,
    long long files_sent, long long bytes_sent)
{
	char *ts0 = history_timestamp(t0), *ts1 = history_timestamp(time_now());
	json_t *entry;

	entry = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:o}",
	    "started", ts0, "ended", ts1, "engine", engine,
	    "state", lr->cancelled ? "interrupted" : "done",
	    "results", lr->results_dir,
	    "tasks", (json_int_t)lr->perf.tasks,
	    "ok", (json_int_t)lr->perf.ok,
	    "errors", (json_int_t)lr->perf.errors,
	    "unfinished", (json_int_t)lr->perf.unfinished,
	    "files_sent", (json_int_t)files_sent,
	    "bytes_sent", (json_int_t)bytes_sent,
	    "efficiency", report_efficiency_json(&lr->perf));
	report_run_numbers(entry, &lr->perf);
	free(ts0);
	free(ts1);
	return entry;
}

/* A run of the tasks an earlier run left without a result says which
 * (its results are merged into this run's). */
static void
bastion_merged(json_t *entry, const struct rerun *rr)
{
	if (rr != NULL)
		json_object_set_new(entry, "merged_from",
		    json_string(rr->from));
}

/* A detached run's place in the bucket, "s3://BUCKET/KEY/ID" (the
 * results: URL of the project, then the run set's id), and the
 * supervisor's arguments (templates/detach-supervise.sh) in args (9
 * slots), NULL-ended; -1 with a cause when the project has no results:
 * bucket. */
static int
bastion_detach_args(struct cloud_run *run, const struct project *pr,
    char **args, json_t **where, char **cause)
{
	static const char *const endpoints[] = { "AWS_ENDPOINT_URL",
	    "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_EC2" };
	const char *v;
	size_t i;
	const struct store_url *u;
	char *key;
	size_t n;

	if ((u = pr->results_url) == NULL || strcmp(u->scheme, "s3") != 0) {
		xasprintf(cause, "a detached run needs results: s3://BUCKET/"
		    "PREFIX in %s", pr->file);
		return -1;
	}
	n = strlen(u->key);
	while (n > 0 && u->key[n - 1] == '/')
		n--;
	key = n > 0 ? xprintf("%.*s/%s", (int)n, u->key, run->id) :
	    xstrdup(run->id);
	args[0] = xstrdup(run->id);
	args[1] = xprintf("s3://%s/%s", u->bucket, key);
	args[2] = xstrdup(history_str(run->rec, "region", ""));
	args[3] = xstrdup(json_is_true(json_object_get(run->answers,
	    "cleanup_after")) ? "terminate" : "stop");
	args[4] = xprintf("%d", pr->retries);
	/* This machine's endpoint overrides go to the head too (a private
	 * endpoint; tests' moto). */
	for (i = 0, n = 5; i < sizeof endpoints / sizeof endpoints[0]; i++) {
		if ((v = getenv(endpoints[i])) != NULL && *v != '\0')
			args[n++] = xprintf("%s=%s", endpoints[i], v);
	}
	args[n] = NULL;
	*where = json_pack("{s:s, s:s, s:s, s:s}", "url", args[1], "bucket",
	    u->bucket, "prefix", key, "action", args[3]);
	free(key);
	return 0;
}

/* Runs the project on the head of run (rec["hosts"]); keeps the host key
 * seen first and the run in the record, and hands how it went to out. */
static int
bastion_run(struct cloud_run *run, struct local_result *out, char **cause)
{
	json_t *head, *entry, *where = NULL;
	char *known, *cache, *why = NULL, **paths = NULL, **names = NULL;
	char *fetch = NULL, *put = NULL, *summary, *list, *script;
	char *dargs[9] = { NULL };
	size_t i;
	struct remote_opts ro;
	struct remote_result rr;
	struct project pr;
	enum local_status ls;
	double t0 = time_now();
	size_t n = 0;
	int rc = -1;
	char *run_id = NULL, *rdir = NULL, *ts;

	memset(&ro, 0, sizeof ro);
	if (engine_ssh_wait(&ro.connect_timeout, &ro.auth_grace, cause) != 0)
		return -1;
	pthread_mutex_lock(&run->lock);
	head = json_incref(engine_host(run->rec, "head"));
	pthread_mutex_unlock(&run->lock);
	ro.project_dir = history_str(run->rec, "project_dir", NULL);
	if (head == NULL || ro.project_dir == NULL) {
		xasprintf(cause, "run set %s has no %s in its record", run->id,
		    head == NULL ? "head host" : "project folder");
		json_decref(head);
		return -1;
	}
	ro.files = (long)json_integer_value(json_object_get(run->answers,
	    "files"));
	/* Inputs in a bucket: listed here, fetched by the head itself (its
	 * role); results to a bucket: copied there by the head. */
	if (project_load(ro.project_dir, &pr, cause) != 0) {
		json_decref(head);
		return -1;
	}
	if ((pr.inputs_url != NULL || pr.results_url != NULL) &&
	    run->provider->store_fetch == NULL) {
		xasprintf(cause, "provider %s cannot read or write buckets",
		    run->provider->name);
		goto early;
	}
	if (pr.inputs_url != NULL) {
		if (run->provider->store_fetch(run->session, &pr, ro.files,
		    &paths, &names, &n, &list, &script, &summary,
		    cause) != 0)
			goto early;
		xasprintf(&fetch, "mkdir -p store || exit 1\ncat > "
		    "store/fetch.list <<'FANOUT_EOF_list'\n%sFANOUT_EOF_list\n"
		    "fetch_list=store/fetch.list\n%s", list, script);
		free(list);
		free(script);
		event_log(run->sink, "inputs", "%s", summary);
		free(summary);
		ro.task_inputs = paths;
		ro.inputs = names;
		ro.ninputs = n;
		ro.fetch = fetch;
	}
	if (json_is_true(json_object_get(run->answers, "detach"))) {
		/* The head copies the run's records to the bucket itself
		 * (its supervisor), and the results folder is built at
		 * home by fanout fetch. */
		if (bastion_detach_args(run, &pr, dargs, &where,
		    cause) != 0)
			goto early;
		ro.detach = (const char *const *)dargs;
	} else if (pr.results_url != NULL && (ro.results_put = put =
	    run->provider->store_put(run->session, &pr, cause)) == NULL)
		goto early;
	known = history_file(run->id, ".known_hosts");
	cache = history_file(run->id, ".upload-cache");
	ro.known_hosts = known;
	ro.upload_cache = cache;
	/* The bastion engine runs on the head alone: one node. */
	ro.nodes = 1;
	ro.rerun = run->rerun;
	ro.idle_stop = engine_idle_stop(run->answers);
	ro.sink = run->sink;
	/* Where the run lives on the head, in the record before it starts:
	 * `fanout logs` reads it there while it runs ("live_run"; the run's
	 * entry in "runs" gets the same run_id once it is home). */
	ro.run_id = run_id = remote_new_id();
	ro.remote_dir = rdir = remote_dir_for(pr.name);
	ts = history_timestamp(t0);
	pthread_mutex_lock(&run->lock);
	json_object_set_new(run->rec, "live_run", json_pack("{s:s, s:s, s:s, "
	    "s:s}", "engine", "bastion", "run_id", run_id, "remote_dir", rdir,
	    "started", ts));
	if (history_save(run->rec, &why) != 0) {
		free(why);
		why = NULL;
	}
	pthread_mutex_unlock(&run->lock);
	free(ts);
	ls = engine_bastion_host(head, &ro, &rr, cause);
	pthread_mutex_lock(&run->lock);
	/* The host key seen first is kept. */
	if (rr.fingerprint != NULL && ro.expected_fp == NULL)
		json_object_set_new(head, "host_key",
		    json_string(rr.fingerprint));
	if (ls == LOCAL_FAILED && rr.lost != NULL &&
	    rr.lr.results_dir != NULL) {
		/* The bastion died (or was stopped: a spot interruption)
		 * mid-run: the run is kept with what came home, and the run
		 * set stays, to finish with a resume. */
		entry = engine_run_entry("bastion", t0, &rr.lr, rr.files_sent,
		    rr.bytes_sent);
		json_object_set_new(entry, "state", json_string("lost"));
		if (rr.run_id != NULL)
			json_object_set_new(entry, "run_id",
			    json_string(rr.run_id));
		bastion_merged(entry, run->rerun);
		history_add_run(run->rec, entry);
		free(*cause);
		xasprintf(cause, "the bastion was lost mid-run (%s): %zu of "
		    "%zu tasks are unfinished; finish them with 'fanout "
		    "resume %s --unfinished'", rr.lost, rr.lr.perf.unfinished,
		    rr.lr.perf.tasks, run->id);
	}
	if (ls == LOCAL_OK && where != NULL) {
		/* Started and left to the head: fanout status and fetch
		 * find it in the bucket. */
		entry = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:O}",
		    "started", (why = history_timestamp(t0)), "engine",
		    "bastion", "state", "detached", "tasks",
		    (json_int_t)rr.lr.perf.tasks, "files_sent",
		    (json_int_t)rr.files_sent, "bytes_sent",
		    (json_int_t)rr.bytes_sent, "remote_run", rr.run_id,
		    "detached", where);
		free(why);
		why = NULL;
		history_add_run(run->rec, entry);
		if (out != NULL)
			memset(out, 0, sizeof *out);
	} else if (ls == LOCAL_OK) {
		entry = engine_run_entry("bastion", t0, &rr.lr, rr.files_sent,
		    rr.bytes_sent);
		bastion_merged(entry, run->rerun);
		if (rr.run_id != NULL)
			json_object_set_new(entry, "run_id",
			    json_string(rr.run_id));
		if (rr.results_copy != NULL) {
			json_object_set_new(entry, "results_url",
			    json_string(rr.results_copy));
			event_log(run->sink, NULL, "results copied to %s",
			    rr.results_copy);
		}
		history_add_run(run->rec, entry);
		if (out != NULL) {
			*out = rr.lr;
			memset(&rr.lr, 0, sizeof rr.lr);
		}
	}
	if (history_save(run->rec, &why) != 0)
		free(why);
	pthread_mutex_unlock(&run->lock);
	remote_result_free(&rr);
	free(known);
	free(cache);
	rc = ls == LOCAL_OK ? 0 : -1;
early:
	json_decref(head);
	json_decref(where);
	for (i = 0; dargs[i] != NULL; i++)
		free(dargs[i]);
	project_free(&pr);
	if (paths != NULL) {
		project_inputs_free(paths, n);
		project_inputs_free(names, n);
	}
	free(fetch);
	free(put);
	free(run_id);
	free(rdir);
	return rc;
}

const struct engine engine_bastion = {
	.name = "bastion",
	.label = "one machine (bastion)",
	.summary = "one cloud VM, many processes",
	.cloud = true,
	.blocks = 1u << CLOUD_BLOCK_BASE | 1u << CLOUD_BLOCK_HEAD,
	.run = bastion_run,
};
