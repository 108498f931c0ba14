/* The SSH part of a cloud run (wizard_bastion_hook): wait for the
 * bastion's sshd, set up, upload what changed, run, download, and build
 * the results folder — through remote_run (src/ssh/remote.h). */
#include <stdlib.h>
#include <string.h>

#include "cloud/provider.h"
#include "history/history.h"
#include "ssh/remote.h"
#include "util/fs.h"
#include "util/xmalloc.h"
#include "wizard/wizard.h"

/* Runs the project on the bastion of run (its record's "ssh" block):
 * wait for SSH, set up, upload, run, download; keeps the host key seen
 * first and the run in the record, and hands how it went to out. */
int
wizard_run_bastion(struct cloud_run *run, struct local_result *out,
    char **cause)
{
	json_t *ssh = json_object_get(run->rec, "ssh"), *entry;
	const char *addr = getenv("FANOUT_BASTION_ADDRESS"), *wait;
	char *user = NULL, *host = NULL, *known, *ts0, *ts1, *why = NULL;
	char *cache = NULL, *end;
	struct remote_opts ro;
	struct remote_result rr;
	enum local_status ls;
	double t0 = time_now();
	int port = 0, rc;

	if (addr != NULL && *addr != '\0' &&
	    remote_parse_address(addr, &user, &host, &port, cause) != 0)
		return -1;
	memset(&ro, 0, sizeof ro);
	ro.host = host != NULL ? host : history_str(ssh, "host", NULL);
	ro.port = port;
	ro.user = user != NULL ? user : history_str(ssh, "user", NULL);
	ro.key_file = history_str(ssh, "key_file", NULL);
	/* How long to wait for a booting bastion's sshd (default 300 s). */
	if ((wait = getenv("FANOUT_SSH_WAIT")) != NULL && *wait != '\0') {
		ro.connect_timeout = strtod(wait, &end);
		if (*end != '\0' || ro.connect_timeout <= 0) {
			xasprintf(cause, "FANOUT_SSH_WAIT must be a number of "
			    "seconds, not '%s'", wait);
			free(user);
			free(host);
			return -1;
		}
	}
	/* A fresh VM may refuse its key until its start-up script has
	 * installed it: half the wait, at most a minute. */
	ro.auth_grace = ro.connect_timeout > 0 ? ro.connect_timeout / 2 : 60;
	if (ro.auth_grace > 60)
		ro.auth_grace = 60;
	known = history_file(run->id, ".known_hosts");
	memset(&rr, 0, sizeof rr);
	ro.known_hosts = known;
	ro.expected_fp = history_str(ssh, "host_key", NULL);
	ro.project_dir = history_str(run->rec, "project_dir", NULL);
	ro.files = (long)json_integer_value(json_object_get(run->answers,
	    "files"));
	/* The bastion engine runs on the bastion alone: one node. */
	ro.nodes = 1;
	cache = history_file(run->id, ".upload-cache");
	ro.upload_cache = cache;
	ro.sink = run->sink;
	if (ro.host == NULL || ro.project_dir == NULL) {
		xasprintf(cause, "run set %s has no %s in its record", run->id,
		    ro.host == NULL ? "bastion address" : "project folder");
		rc = -1;
		goto out;
	}
	ls = remote_run(&ro, &rr, cause);
	pthread_mutex_lock(&run->lock);
	if (rr.fingerprint != NULL && ro.expected_fp == NULL)
		json_object_set_new(ssh, "host_key",
		    json_string(rr.fingerprint));
	if (ls == LOCAL_OK) {
		ts0 = history_timestamp(t0);
		ts1 = history_timestamp(time_now());
		entry = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:I, s:I, s:I, "
		    "s:I, s:I, s:I, s:o}",
		    "started", ts0, "ended", ts1, "engine", "bastion",
		    "state", rr.lr.cancelled ? "interrupted" : "done",
		    "results", rr.lr.results_dir,
		    "tasks", (json_int_t)rr.lr.perf.tasks,
		    "ok", (json_int_t)rr.lr.perf.ok,
		    "errors", (json_int_t)rr.lr.perf.errors,
		    "unfinished", (json_int_t)rr.lr.perf.unfinished,
		    "files_sent", (json_int_t)rr.files_sent,
		    "bytes_sent", (json_int_t)rr.bytes_sent,
		    "efficiency", report_efficiency_json(&rr.lr.perf));
		history_add_run(run->rec, entry);
		free(ts0);
		free(ts1);
		if (out != NULL) {
			*out = rr.lr;
			memset(&rr.lr, 0, sizeof rr.lr);
		}
	}
	if (history_save(run->rec, &why) != 0)
		free(why);
	pthread_mutex_unlock(&run->lock);
	remote_result_free(&rr);
	rc = ls == LOCAL_OK ? 0 : -1;
out:
	free(known);
	free(cache);
	free(user);
	free(host);
	return rc;
}
