/* fanout run --local [--setup] PROJECT [--files N] [--workers W]
 *            [--results DIR] [--json]
 * fanout run --host [USER@]HOST[:PORT] [--key FILE] PROJECT [...]: the same
 * run on a machine of the user's own over SSH (the bastion engine). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/s3.h"
#include "cmd.h"
#include "history/history.h"
#include "run/local.h"
#include "run/pool.h"
#include "run/rerun.h"
#include "sink-text.h"
#include "engine/engine.h"
#include "ssh/remote.h"
#include "util/fs.h"
#include "util/xmalloc.h"

static void
cmd_run_print_json(const struct local_result *lr, const char *engine)
{
	const struct perf *pf = &lr->perf;
	json_t *o;
	char *s;

	o = json_pack("{s:s, s:s, s:s, s:s?, s:b, s:I, s:I, s:I, s:I, s:I, "
	    "s:f, s:f, s:f, s:f, s:f, s:o, s:f, s:f, s:i, s:i}",
	    "project", lr->project, "engine", engine,
	    "results", lr->results_dir, "history_id", lr->history_id,
	    "cancelled", lr->cancelled,
	    "tasks", (json_int_t)pf->tasks, "ok", (json_int_t)pf->ok,
	    "errors", (json_int_t)pf->errors,
	    "unfinished", (json_int_t)pf->unfinished,
	    "attempts", (json_int_t)pf->attempts,
	    "avg_seconds", pf->avg, "min_seconds", pf->min,
	    "max_seconds", pf->max, "span_seconds", pf->span,
	    "serial_seconds", pf->serial,
	    "efficiency", report_efficiency_json(pf),
	    "setup_seconds", pf->setup, "total_seconds", pf->total,
	    "nodes", pf->nodes, "workers", pf->workers);
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("%s\n", s);
	free(s);
	json_decref(o);
}

enum cmd_retval
cmd_run_outcome(const struct local_result *lr)
{
	const struct perf *pf = &lr->perf;

	if (lr->results_dir == NULL)
		return CMD_OK;	/* nothing ran */
	if (lr->cancelled) {
		fprintf(stderr, "fanout: interrupted: %zu task(s) unfinished; "
		    "the results of the finished ones are in %s\n",
		    pf->unfinished, lr->results_dir);
		return CMD_FAILED;
	}
	if (pf->errors > 0 && pf->unfinished > 0)
		fprintf(stderr, "fanout: %zu of %zu task(s) failed, %zu "
		    "unfinished; see %s/errors.csv\n", pf->errors, pf->tasks,
		    pf->unfinished, lr->results_dir);
	else if (pf->errors > 0)
		fprintf(stderr, "fanout: %zu of %zu task(s) failed; see "
		    "%s/errors.csv\n", pf->errors, pf->tasks, lr->results_dir);
	else if (pf->unfinished > 0)
		fprintf(stderr, "fanout: %zu of %zu task(s) unfinished; see "
		    "%s/errors.csv\n", pf->unfinished, pf->tasks,
		    lr->results_dir);
	else
		return CMD_OK;
	return CMD_FAILED;
}

/* Ctrl-C (SIGINT or SIGTERM, caught by pool_catch_signals) cancels a run
 * on a host as it cancels the local pool. */
static int
cmd_run_cancelled(struct sink *sink)
{
	(void)sink;
	return pool_interrupted();
}

/* The upload cache of a project folder on a host (see upload_opts.cache):
 * one per address and folder, named by an FNV-1a hash of both. */
static char *
cmd_run_cache(const char *address, const char *project_dir)
{
	char *abs = realpath(project_dir, NULL), *id, *path;
	const char *parts[2] = { address, abs != NULL ? abs : project_dir };
	unsigned long long h = 1469598103934665603ULL;
	const char *p;
	int i;

	for (i = 0; i < 2; i++) {
		for (p = parts[i]; *p != '\0'; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		h = (h ^ '\n') * 1099511628211ULL;
	}
	free(abs);
	id = xprintf("upload-%016llx", h);
	path = history_file(id, ".cache");
	free(id);
	return path;
}

/* The run on [user@]host[:port] over SSH; fills lr like local_run. */
static enum local_status
cmd_run_remote(const struct local_opts *lo, const char *address,
    const char *key, struct local_result *lr, char **cause)
{
	struct remote_opts ro;
	struct remote_result rr;
	char *user = NULL, *host = NULL, *known = NULL, *cache = NULL;
	json_t *entry;
	double started = time_now();
	enum local_status ls = LOCAL_BAD_INPUT;
	int port = 0;

	memset(lr, 0, sizeof *lr);
	memset(&rr, 0, sizeof rr);
	if (remote_parse_address(address, &user, &host, &port, cause) != 0)
		return LOCAL_BAD_INPUT;
	if (key != NULL && !fs_is_file(key)) {
		xasprintf(cause, "--key %s: no such file (give the private key "
		    "that logs in to %s)", key, host);
		goto out;
	}
	if (history_ensure_dir(cause) != 0) {
		ls = LOCAL_FAILED;
		goto out;
	}
	known = history_file("known_hosts", "");
	memset(&ro, 0, sizeof ro);
	ro.known_hosts = known;
	ro.upload_cache = cache = cmd_run_cache(address, lo->project_dir);
	ro.connect_timeout = 30;
	ro.project_dir = lo->project_dir;
	ro.files = lo->files;
	ro.workers = lo->workers;
	ro.nodes = 1;
	ro.results = lo->results;
	ro.rerun = lo->rerun;
	ro.sink = lo->sink;
	if (user == NULL && getenv("USER") == NULL) {
		xasprintf(cause, "--host %s: say which user logs in "
		    "(user@host)", address);
		goto out;
	}
	/* The bastion engine's run, on a host entry as a record has. */
	entry = json_pack("{s:s, s:s, s:s, s:s, s:i, s:b}", "role", "head",
	    "name", host, "user", user != NULL ? user : getenv("USER"), "host",
	    host, "port", port, "pinned", 1);
	if (key != NULL)
		json_object_set_new(entry, "key_file", json_string(key));
	ls = engine_bastion_host(entry, &ro, &rr, cause);
	json_decref(entry);
	if (ls == LOCAL_OK) {
		*lr = rr.lr;
		memset(&rr.lr, 0, sizeof rr.lr);
		event_log(lo->sink, NULL, "uploaded %lld of %lld file(s), %lld "
		    "bytes; host key %s", rr.files_sent, rr.files,
		    rr.bytes_sent, rr.fingerprint != NULL ? rr.fingerprint :
		    "?");
		local_record_history("bastion", address, lo->project_dir,
		    started, time_now(), lr->perf.workers, lr);
	}
	remote_result_free(&rr);
out:
	free(cache);
	free(known);
	free(user);
	free(host);
	return ls;
}

static enum cmd_retval
cmd_run_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "local", no_argument, NULL, 'l' },
		{ "host", required_argument, NULL, 'H' },
		{ "key", required_argument, NULL, 'k' },
		{ "files", required_argument, NULL, 'n' },
		{ "workers", required_argument, NULL, 'w' },
		{ "results", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "setup", no_argument, NULL, 's' },
		{ "unfinished", no_argument, NULL, 'u' },
		{ "failed", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct local_opts lo = { 0 };
	struct rerun rr = { 0 };
	struct local_result lr;
	struct sink sink;
	struct sink_text st;
	char *cause = NULL, *table;
	const char *host = NULL, *key = NULL;
	char *from = NULL;
	size_t todo, total;
	long v;
	int c, local = 0, json = 0, unfinished = 0;
	enum local_status ls;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			local = 1;
			break;
		case 'H':
			host = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'n':
			if (cmd_parse_count("--files", optarg, 0, 1000000000,
			    &v) != 0)
				return CMD_USAGE;
			lo.files = v;
			break;
		case 'w':
			if (cmd_parse_count("--workers", optarg, 1, 4096,
			    &v) != 0)
				return CMD_USAGE;
			lo.workers = (int)v;
			break;
		case 'r':
			lo.results = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 's':
			lo.setup = true;
			break;
		case 'u':
			unfinished = 1;
			break;
		case 'F':
			rr.failed = true;
			break;
		case 'h':
			printf("usage: fanout run %s\n", cmd_run_entry.usage);
			return CMD_OK;
		default:
			return cmd_error(CMD_USAGE, "run: unknown or incomplete "
			    "option '%s' (usage: fanout run %s)",
			    argv[optind - 1], cmd_run_entry.usage);
		}
	}
	if (local == (host != NULL))
		return cmd_error(CMD_USAGE, "run: say where: --local (this "
		    "machine) or --host USER@HOST[:PORT] (a machine of yours "
		    "over SSH); cloud runs are 'fanout create'");
	if (key != NULL && host == NULL)
		return cmd_error(CMD_USAGE, "run: --key goes with --host");
	if (rr.failed && !unfinished)
		return cmd_error(CMD_USAGE, "run: --failed goes with "
		    "--unfinished (--unfinished --failed also reruns the tasks "
		    "that failed)");
	if (lo.setup && host != NULL)
		return cmd_error(CMD_USAGE, "run: --setup goes with --local (a "
		    "host runs the project's setup: always, once)");
	if (optind != argc - 1)
		return cmd_error(CMD_USAGE, "run: give one project folder "
		    "(usage: fanout run %s)", cmd_run_entry.usage);
	lo.project_dir = argv[optind];
	if (unfinished) {
		/* The project's latest results: what they lack runs, and
		 * the new folder has the whole run. */
		if ((from = rerun_latest(lo.project_dir, &cause)) == NULL ||
		    (rr.from = from, rerun_count(&rr, lo.project_dir,
		    lo.files, &todo, &total, &cause)) != 0) {
			cmd_error(CMD_USAGE, "run: %s", cause);
			free(cause);
			free(from);
			return CMD_USAGE;
		}
		if (todo == 0) {
			printf("%s: every task of the run in %s has a result%s; "
			    "nothing to run\n", lo.project_dir, from,
			    rr.failed ? " and none failed" : "");
			free(from);
			return CMD_OK;
		}
		lo.rerun = &rr;
	}

	sink_text_init(&sink, &st, stderr, json);
	if (host != NULL)
		sink.cancelled = cmd_run_cancelled;
	lo.sink = &sink;
	pool_catch_signals();
	if (host != NULL)
		ls = cmd_run_remote(&lo, host, key, &lr, &cause);
	else
		ls = s3_run_local(&lo, &lr, &cause);
	sink_text_end(&sink);
	if (ls != LOCAL_OK) {
		cmd_error(ls == LOCAL_BAD_INPUT ? CMD_USAGE : CMD_FAILED, "%s",
		    cause);
		free(cause);
		local_result_free(&lr);
		free(from);
		return ls == LOCAL_BAD_INPUT ? CMD_USAGE : CMD_FAILED;
	}
	if (lr.history_warning != NULL)
		fprintf(stderr, "fanout: warning: run not kept in history: "
		    "%s\n", lr.history_warning);
	if (json)
		cmd_run_print_json(&lr, host != NULL ? "bastion" : "local");
	else {
		table = report_perf_text(&lr.perf);
		printf("\n%s: %s\n\n%s\nResults: %s\n", lr.project,
		    lr.cancelled ? "interrupted" : "done", table,
		    lr.results_dir);
		free(table);
	}
	c = cmd_run_outcome(&lr);
	local_result_free(&lr);
	free(from);
	return c;
}

const struct cmd_entry cmd_run_entry = {
	.name = "run",
	.usage = "--local [--setup]|--host [USER@]HOST[:PORT] [--key FILE] "
	    "PROJECT [--files N] [--workers W] [--results DIR] [--json] "
	    "[--unfinished [--failed]]",
	.help = "run a project on this machine, or on one of yours over SSH",
	.exec = cmd_run_exec,
};
