/* The bastion engine: the whole run on one machine reached over SSH — the
 * head VM a create made, or a machine of one's own (`fanout run --host`)
 * — through remote_run (src/ssh/remote.h): wait for SSH, set up, upload
 * what changed, run, download, build the results folder. */
#include <stdlib.h>
#include <string.h>

#include "cloud/provider.h"
#include "engine/engine.h"
#include "history/history.h"
#include "ssh/remote.h"
#include "util/fs.h"
#include "run/project.h"
#include "run/report.h"
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

/* Runs the project on the head of run (rec["hosts"]); keeps the host key
 * seen first and the run in the record, and hands how it went to out. */
static int
bastion_run(struct cloud_run *run, struct local_result *out, char **cause)
{
	json_t *head;
	char *known, *cache, *why = NULL;
	struct remote_opts ro;
	struct remote_result rr;
	struct project pr;
	enum local_status ls;
	double t0 = time_now();
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
	known = history_file(run->id, ".known_hosts");
	cache = history_file(run->id, ".upload-cache");
	ro.known_hosts = known;
	ro.upload_cache = cache;
	ro.files = (long)json_integer_value(json_object_get(run->answers,
	    "files"));
	/* The bastion engine runs on the head alone: one node. */
	ro.nodes = 1;
	ro.idle_stop = engine_idle_stop(run->answers);
	ro.sink = run->sink;
	/* Where the run lives on the head, in the record before it starts:
	 * `fanout logs` reads it there while it runs ("live_run"; the run's
	 * entry in "runs" gets the same run_id once it is home). */
	if (project_load(ro.project_dir, &pr, &why) == 0) {
		ro.run_id = run_id = remote_new_id();
		ro.remote_dir = rdir = remote_dir_for(pr.name);
		project_free(&pr);
		ts = history_timestamp(t0);
		pthread_mutex_lock(&run->lock);
		json_object_set_new(run->rec, "live_run", json_pack("{s:s, "
		    "s:s, s:s, s:s}", "engine", "bastion", "run_id", run_id,
		    "remote_dir", rdir, "started", ts));
		if (history_save(run->rec, &why) != 0) {
			free(why);
			why = NULL;
		}
		pthread_mutex_unlock(&run->lock);
		free(ts);
	} else {
		/* remote_run says what is wrong with the project. */
		free(why);
		why = NULL;
	}
	ls = engine_bastion_host(head, &ro, &rr, cause);
	pthread_mutex_lock(&run->lock);
	/* The host key seen first is kept. */
	if (rr.fingerprint != NULL && ro.expected_fp == NULL)
		json_object_set_new(head, "host_key",
		    json_string(rr.fingerprint));
	if (ls == LOCAL_OK) {
		history_add_run(run->rec, engine_run_entry("bastion", t0,
		    &rr.lr, rr.files_sent, rr.bytes_sent));
		if (rr.run_id != NULL)
			json_object_set_new(json_array_get(json_object_get(
			    run->rec, "runs"), json_array_size(json_object_get(
			    run->rec, "runs")) - 1), "run_id",
			    json_string(rr.run_id));
		if (out != NULL) {
			*out = rr.lr;
			memset(&rr.lr, 0, sizeof rr.lr);
		}
	}
	if (history_save(run->rec, &why) != 0)
		free(why);
	pthread_mutex_unlock(&run->lock);
	remote_result_free(&rr);
	json_decref(head);
	free(known);
	free(cache);
	free(run_id);
	free(rdir);
	return ls == LOCAL_OK ? 0 : -1;
}

const struct engine engine_bastion = {
	.name = "bastion",
	.label = "one machine (bastion)",
	.summary = "one cloud VM, many processes",
	.cloud = true,
	.blocks = 1u << CLOUD_BLOCK_BASE | 1u << CLOUD_BLOCK_HEAD,
	.run = bastion_run,
};
