/* Test driver for src/ssh: calls the layer's API and prints the outcome as
 * one JSON object for the shell tests (tests/integration/ssh-*.sh) and
 * bench/upload.sh to assert on. Run with no arguments (as make check does
 * for every check program) it skips.
 *
 *   ssh-driver [options] connect
 *   ssh-driver [options] exec COMMAND
 *   ssh-driver [options] upload LOCAL REMOTE_DIR
 *   ssh-driver [options] download REMOTE_DIR LOCAL
 *   ssh-driver [options] run PROJECT
 *   ssh-driver [options] again COMMAND   (runs it; when the connection is
 *                                         lost, reconnects and runs it again)
 *   ssh-driver [options] fan N COMMAND   (N sessions at once, a thread each)
 *   ssh-driver scan DIR
 * options: -h host -p port -u user -k key -K known_hosts -F fingerprint
 *          -t connect_timeout -f files -w workers -r results -d remote_dir
 *          -i run_id -c cancel_after_tasks -C hash_cache -T (trust it)
 *          -N name -J jump_host:port (same user, known_hosts and timeout)
 *          -j jump_key (default: the -k key) -x FILE (cancel once it exists) */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "run/gantt.h"
#include "run/record.h"
#include "ssh/remote.h"
#include "ssh/session.h"
#include "ssh/tree.h"
#include "ssh/upload.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

static int	driver_cancel_after = -1;
static const char *driver_cancel_file;	/* -x: cancel once it exists */
static long long driver_tasks;

static void
driver_emit(struct sink *sink, const struct event *ev)
{
	(void)sink;
	switch (ev->type) {
	case EV_LOG:
		fprintf(stderr, "log: %s%s%s\n", ev->step != NULL ? ev->step :
		    "", ev->step != NULL ? ": " : "", ev->text);
		break;
	case EV_STEP_FAIL:
		fprintf(stderr, "step %s failed: %s\n", ev->step,
		    ev->text != NULL ? ev->text : "");
		break;
	case EV_TASK_DONE:
		driver_tasks++;
		fprintf(stderr, "task %d attempt %d %s (%lld/%lld)\n",
		    ev->record->task, ev->record->attempt,
		    record_status_name(ev->record->status), ev->done,
		    ev->total);
		break;
	default:
		break;
	}
}

static int
driver_cancelled(struct sink *sink)
{
	(void)sink;
	if (driver_cancel_file != NULL && access(driver_cancel_file, F_OK) == 0)
		return 1;
	return driver_cancel_after >= 0 && driver_tasks >= driver_cancel_after;
}

static const char *
driver_err_name(enum ssh_error e)
{
	static const char *names[] = { "ok", "refused", "timeout", "auth",
	    "hostkey", "lost", "killed", "cancelled", "other" };

	return (size_t)e < sizeof names / sizeof *names ? names[e] : "?";
}

static int
driver_print(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int ok = json_is_true(json_object_get(o, "ok"));

	printf("%s\n", s);
	free(s);
	json_decref(o);
	return ok ? 0 : 1;
}

static int
driver_fail(enum ssh_error e, const char *cause)
{
	return driver_print(json_pack("{s:b, s:s, s:s}", "ok", 0, "error",
	    driver_err_name(e), "cause", cause != NULL ? cause : "?"));
}

static void
driver_line(void *arg, int fd, const char *line)
{
	(void)arg;
	printf("%s: %s\n", fd == 1 ? "out" : "err", line);
	fflush(stdout);		/* a test may wait for a line */
}

/* One of fan's sessions: connect, run the command, keep its stdout. */
struct driver_fan {
	const struct ssh_opts	*so;
	const char		*command;
	pthread_t		 thread;
	char			*out;	/* stdout, or NULL */
	char			*cause;	/* why not, or NULL */
};

static void *
driver_fan_one(void *arg)
{
	struct driver_fan *f = arg;
	struct ssh_session *ss;
	struct strbuf sb;
	struct ssh_exec x;
	int status;

	if ((ss = ssh_connect(f->so, NULL, NULL, &f->cause)) == NULL)
		return NULL;
	strbuf_init(&sb);
	memset(&x, 0, sizeof x);
	x.command = f->command;
	x.out = &sb;
	if (ssh_exec_run(ss, &x, &status, &f->cause) == 0) {
		if (status == 0)
			f->out = strbuf_detach(&sb);
		else
			xasprintf(&f->cause, "exit status %d", status);
	}
	strbuf_free(&sb);
	ssh_close(ss);
	return NULL;
}

static int
driver_fan(const struct ssh_opts *so, int n, const char *command)
{
	struct driver_fan *f;
	json_t *outs = json_array(), *causes = json_array();
	int i, good = 0;

	if (n < 1 || n > 64) {
		fprintf(stderr, "ssh-driver: fan takes 1 to 64 sessions\n");
		return 2;
	}
	f = xcalloc((size_t)n, sizeof *f);
	for (i = 0; i < n; i++) {
		f[i].so = so;
		f[i].command = command;
		if (pthread_create(&f[i].thread, NULL, driver_fan_one,
		    &f[i]) != 0) {
			fprintf(stderr, "ssh-driver: pthread_create failed\n");
			exit(1);
		}
	}
	for (i = 0; i < n; i++) {
		pthread_join(f[i].thread, NULL);
		if (f[i].out != NULL) {
			good++;
			json_array_append_new(outs, json_string(f[i].out));
		} else
			json_array_append_new(causes, json_string(
			    f[i].cause != NULL ? f[i].cause : "?"));
		free(f[i].out);
		free(f[i].cause);
	}
	free(f);
	return driver_print(json_pack("{s:b, s:i, s:o, s:o}", "ok", good == n,
	    "good", good, "outputs", outs, "causes", causes));
}

/* [user@]host:port into a jump host's options. */
static int
driver_jump(char *arg, struct ssh_opts *jo)
{
	char *at = strchr(arg, '@'), *colon;

	if (at != NULL) {
		*at = '\0';
		jo->user = arg;
		arg = at + 1;
	}
	if ((colon = strrchr(arg, ':')) != NULL) {
		*colon = '\0';
		jo->port = atoi(colon + 1);
	}
	jo->host = arg;
	return *arg != '\0' ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct sink sink = { driver_emit, driver_cancelled, NULL };
	struct ssh_opts so, jo;
	struct remote_opts ro;
	struct ssh_session *ss = NULL;
	enum ssh_error err = SSH_OK;
	char *fp = NULL, *cause = NULL;
	const char *cache = NULL, *jump_key = NULL;
	char *jump = NULL;
	int c, rc = 0, status, trust = 0;

	memset(&so, 0, sizeof so);
	memset(&jo, 0, sizeof jo);
	memset(&ro, 0, sizeof ro);
	so.host = "127.0.0.1";
	so.user = getenv("USER") != NULL ? getenv("USER") : "root";
	so.connect_timeout = 10;
	so.sink = &sink;
	while ((c = getopt(argc, argv,
	    "+h:p:u:k:K:F:t:f:w:r:d:i:c:C:TN:J:j:x:")) != -1) {
		switch (c) {
		case 'h': so.host = optarg; break;
		case 'p': so.port = atoi(optarg); break;
		case 'u': so.user = optarg; break;
		case 'k': so.key_file = optarg; break;
		case 'K': so.known_hosts = optarg; break;
		case 'F': so.expected_fp = optarg; break;
		case 't': so.connect_timeout = atof(optarg); break;
		case 'f': ro.files = atol(optarg); break;
		case 'w': ro.workers = atoi(optarg); break;
		case 'r': ro.results = optarg; break;
		case 'd': ro.remote_dir = optarg; break;
		case 'i': ro.run_id = optarg; break;
		case 'c': driver_cancel_after = atoi(optarg); break;
		case 'C': cache = optarg; break;
		case 'T': trust = 1; break;
		case 'N': so.name = optarg; break;
		case 'J': jump = optarg; break;
		case 'j': jump_key = optarg; break;
		case 'x': driver_cancel_file = optarg; break;
		default: return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		printf("1..0 # SKIP driver for tests/integration/ssh-*.sh\n");
		return 0;
	}
	if (so.port == 0)
		so.port = 22;
	if (jump != NULL) {
		jo.user = so.user;
		if (driver_jump(jump, &jo) != 0) {
			fprintf(stderr, "ssh-driver: bad -J %s: give "
			    "[user@]host:port\n", jump);
			return 2;
		}
		jo.key_file = jump_key != NULL ? jump_key : so.key_file;
		jo.known_hosts = so.known_hosts;
		jo.connect_timeout = so.connect_timeout;
		so.jump = &jo;
	}
	if (strcmp(argv[0], "fan") == 0 && argc == 3)
		return driver_fan(&so, atoi(argv[1]), argv[2]);

	if (strcmp(argv[0], "scan") == 0 && argc == 2) {
		struct tree t;
		json_t *a;
		size_t i;

		if (tree_scan(argv[1], true, &t, &cause) != 0)
			return driver_fail(SSH_ERR_OTHER, cause);
		a = json_array();
		for (i = 0; i < t.n; i++)
			json_array_append_new(a, json_pack("{s:s, s:I, s:i, "
			    "s:s}", "path", t.v[i].path, "size",
			    (json_int_t)t.v[i].size, "mode", t.v[i].mode,
			    "sha", t.v[i].sha));
		tree_free(&t);
		return driver_print(json_pack("{s:b, s:o}", "ok", 1, "files",
		    a));
	}
	if (strcmp(argv[0], "run") == 0 && argc == 2) {
		struct remote_result res;
		enum local_status ls;

		ro.host = so.host;
		ro.port = so.port;
		ro.user = so.user;
		ro.key_file = so.key_file;
		ro.known_hosts = so.known_hosts;
		ro.expected_fp = so.expected_fp;
		ro.connect_timeout = so.connect_timeout;
		ro.project_dir = argv[1];
		ro.upload_cache = cache;
		ro.sink = &sink;
		ls = remote_run(&ro, &res, &cause);
		gantt_release();	/* cairo's caches, for LeakSanitizer */
		if (ls != LOCAL_OK) {
			rc = driver_print(json_pack("{s:b, s:s, s:s}", "ok", 0,
			    "error", ls == LOCAL_BAD_INPUT ? "input" : "run",
			    "cause", cause != NULL ? cause : "?"));
			remote_result_free(&res);
			free(cause);
			return ls == LOCAL_BAD_INPUT ? 2 : rc;
		}
		rc = driver_print(json_pack("{s:b, s:s, s:s, s:s, s:I, s:I, "
		    "s:I, s:I, s:I, s:i, s:I, s:I, s:I, s:b}", "ok", 1,
		    "results", res.lr.results_dir, "fingerprint",
		    res.fingerprint, "run_id", res.run_id,
		    "files", (json_int_t)res.files, "files_sent",
		    (json_int_t)res.files_sent, "bytes_sent",
		    (json_int_t)res.bytes_sent, "wire_bytes",
		    (json_int_t)res.wire_bytes, "bytes_received",
		    (json_int_t)res.bytes_received, "reconnects",
		    res.reconnects, "tasks", (json_int_t)res.lr.perf.tasks,
		    "ok_tasks", (json_int_t)res.lr.perf.ok, "errors",
		    (json_int_t)res.lr.perf.errors, "cancelled",
		    res.lr.cancelled));
		remote_result_free(&res);
		return rc;
	}

	ss = ssh_connect(&so, &fp, &err, &cause);
	if (ss == NULL) {
		rc = driver_fail(err, cause);
		free(cause);
		return rc;
	}
	if (strcmp(argv[0], "connect") == 0) {
		rc = driver_print(json_pack("{s:b, s:s}", "ok", 1,
		    "fingerprint", fp));
	} else if (strcmp(argv[0], "exec") == 0 && argc == 2) {
		struct ssh_exec x;

		memset(&x, 0, sizeof x);
		x.command = argv[1];
		x.line = driver_line;
		if (ssh_exec_run(ss, &x, &status, &cause) != 0)
			rc = driver_fail(ssh_last_error(ss), cause);
		else
			rc = driver_print(json_pack("{s:b, s:i}", "ok", 1,
			    "status", status));
	} else if (strcmp(argv[0], "again") == 0 && argc == 2) {
		struct ssh_exec x;
		char *first = NULL;
		int reconnects = 0;

		memset(&x, 0, sizeof x);
		x.command = argv[1];
		x.line = driver_line;
		rc = ssh_exec_run(ss, &x, &status, &cause);
		if (rc != 0 && ssh_last_error(ss) == SSH_ERR_LOST) {
			fprintf(stderr, "lost: %s\n", cause);
			first = cause;
			cause = NULL;
			reconnects++;
			rc = ssh_reconnect(ss, &cause);
			if (rc == 0)
				rc = ssh_exec_run(ss, &x, &status, &cause);
		}
		if (rc != 0)
			rc = driver_fail(ssh_last_error(ss), cause);
		else
			rc = driver_print(json_pack("{s:b, s:i, s:i, s:s}",
			    "ok", 1, "status", status, "reconnects",
			    reconnects, "lost", first != NULL ? first : ""));
		free(first);
	} else if (strcmp(argv[0], "upload") == 0 && argc == 3) {
		struct upload_opts uo;
		struct upload_stats st;
		json_t *sent;
		double t0 = time_mono();
		int reconnects = 0;
		size_t i;

		memset(&uo, 0, sizeof uo);
		memset(&st, 0, sizeof st);
		uo.local_dir = argv[1];
		uo.remote_dir = argv[2];
		uo.keep_sent = 1;
		uo.cache = cache;
		uo.trust_cache = trust;
		uo.sink = &sink;
		if (upload_tree_retry(ss, &uo, &st, &reconnects, &cause) != 0)
			rc = driver_fail(ssh_last_error(ss), cause);
		else {
			sent = json_array();
			for (i = 0; i < st.nsent; i++)
				json_array_append_new(sent,
				    json_string(st.sent[i]));
			rc = driver_print(json_pack("{s:b, s:b, s:b, s:I, s:I, s:I, "
			    "s:I, s:I, s:i, s:f, s:o}", "ok", 1,
			    "trusted", st.trusted, "listed", st.listed, "files",
			    (json_int_t)st.files, "files_sent",
			    (json_int_t)st.files_sent, "bytes_sent",
			    (json_int_t)st.bytes_sent, "wire_bytes",
			    (json_int_t)st.wire_bytes, "deleted",
			    (json_int_t)st.files_deleted, "reconnects",
			    reconnects, "seconds", time_mono() - t0,
			    "sent", sent));
		}
		upload_stats_free(&st);
	} else if (strcmp(argv[0], "download") == 0 && argc == 3) {
		long long bytes = 0;

		if (download_tree(ss, argv[1], NULL, argv[2], &sink, &bytes,
		    &cause) != 0)
			rc = driver_fail(ssh_last_error(ss), cause);
		else
			rc = driver_print(json_pack("{s:b, s:I}", "ok", 1,
			    "bytes", (json_int_t)bytes));
	} else {
		fprintf(stderr, "ssh-driver: bad command\n");
		rc = 2;
	}
	free(cause);
	free(fp);
	ssh_close(ss);
	return rc;
}
