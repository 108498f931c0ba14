/* Puts fanout-worker (src/worker/worker.c) on a host, once per version:
 * the static binary built with fanout when the host is Linux on the same
 * architecture, else the worker built on the host from its sources with
 * the host's C compiler, else a clear message saying what is missing.
 * Each version has its own name on the host (bin/fanout-worker-<sha256
 * prefix of the binary>, or -src-<prefix of the sources>), so a host that
 * has it already costs nothing but the probe, which rides on the set-up
 * login. */
#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "event.h"
#include "ssh/remote-int.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

static const char *worker_sources[] = {
	"src/worker/taskpool.h", "src/worker/taskpool.c",
	"src/worker/taskpool-json.c", "src/worker/worker.c",
};
#define NSOURCES (sizeof worker_sources / sizeof *worker_sources)

static char *
worker_digest(const char *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	char hex[17];

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	for (i = 0; i < 8 && i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return xstrdup(hex);
}

/* The worker binary this fanout can upload, or NULL: $FANOUT_WORKER_BIN,
 * else beside the running program (the build tree), else where `make
 * install` put it. Only a static build is uploaded. */
static char *
worker_local_binary(void)
{
	char exe[PATH_MAX], *p, *slash;
	const char *env = getenv("FANOUT_WORKER_BIN");
	ssize_t n;

	if (!FANOUT_WORKER_STATIC)
		return NULL;
	if (env != NULL && *env != '\0')
		return fs_is_executable(env) ? xstrdup(env) : NULL;
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			p = fs_join(exe, "fanout-worker");
			if (fs_is_executable(p))
				return p;
			free(p);
		}
	}
	p = fs_join(FANOUT_PKGLIBEXECDIR, "fanout-worker");
	if (fs_is_executable(p))
		return p;
	free(p);
	return NULL;
}

/* The architecture the local binary is for: $FANOUT_WORKER_ARCH (tests
 * use it to pretend a mismatch), else this machine's. */
static char *
worker_local_arch(void)
{
	const char *env = getenv("FANOUT_WORKER_ARCH");
	struct utsname u;

	if (env != NULL && *env != '\0')
		return xstrdup(env);
	if (uname(&u) != 0)
		return xstrdup("unknown");
	return xstrdup(u.machine);
}

void
remote_worker_free(struct remote_worker *w)
{
	size_t i;

	free(w->bin);
	free(w->bin_name);
	free(w->src_name);
	free(w->arch);
	free(w->path);
	if (w->src != NULL) {
		for (i = 0; i < NSOURCES; i++)
			free(w->src[i]);
		free(w->src);
	}
	memset(w, 0, sizeof *w);
}

void
remote_worker_init(struct remote_worker *w)
{
	struct strbuf all;
	char *data, *path;
	size_t len, i;

	memset(w, 0, sizeof *w);
	w->arch = worker_local_arch();
	if ((w->bin = worker_local_binary()) != NULL &&
	    (data = fs_read_file(w->bin, &len, NULL)) != NULL) {
		char *d = worker_digest(data, len);

		w->bin_name = xprintf("fanout-worker-%s", d);
		free(d);
		free(data);
	} else {
		free(w->bin);
		w->bin = NULL;
	}
	strbuf_init(&all);
	w->src = xcalloc(NSOURCES, sizeof *w->src);
	for (i = 0; i < NSOURCES; i++) {
		path = fs_data_path(worker_sources[i]);
		if (path != NULL)
			w->src[i] = fs_read_file(path, NULL, NULL);
		free(path);
		if (w->src[i] == NULL)
			break;
		strbuf_adds(&all, w->src[i]);
	}
	if (i == NSOURCES) {
		char *d = worker_digest(all.buf, all.len);

		w->src_name = xprintf("fanout-worker-src-%s", d);
		free(d);
	}
	strbuf_free(&all);
}

void
remote_worker_probe(const struct remote_worker *w, struct strbuf *sb)
{
	strbuf_adds(sb, "echo \"#probe os $(uname -s) $(uname -m)\"\n");
	if (w->bin_name != NULL)
		strbuf_addf(sb, "[ -x bin/%s ] && echo '#probe have %s'\n",
		    w->bin_name, w->bin_name);
	if (w->src_name != NULL)
		strbuf_addf(sb, "[ -x bin/%s ] && echo '#probe have %s'\n",
		    w->src_name, w->src_name);
	strbuf_adds(sb, "for c in cc gcc clang; do if command -v \"$c\" "
	    ">/dev/null 2>&1; then echo \"#probe cc $c\"; break; fi; done\n"
	    "true\n");
}

/* Reads the "#probe" lines of the set-up's output. */
static void
worker_parse_probe(struct remote_worker *w, const char *out, char **os,
    char **arch, int *have_bin, int *have_src, char **cc)
{
	const char *line, *nl;
	char buf[256];
	size_t n;

	for (line = out; line != NULL && *line != '\0'; line = nl) {
		nl = strchr(line, '\n');
		n = nl != NULL ? (size_t)(nl - line) : strlen(line);
		if (nl != NULL)
			nl++;
		if (n >= sizeof buf || strncmp(line, "#probe ", 7) != 0)
			continue;
		memcpy(buf, line + 7, n - 7);
		buf[n - 7] = '\0';
		if (strncmp(buf, "os ", 3) == 0) {
			char *sp = strchr(buf + 3, ' ');

			if (sp != NULL) {
				*sp = '\0';
				free(*os);
				free(*arch);
				*os = xstrdup(buf + 3);
				*arch = xstrdup(sp + 1);
			}
		} else if (strncmp(buf, "have ", 5) == 0) {
			if (w->bin_name != NULL &&
			    strcmp(buf + 5, w->bin_name) == 0)
				*have_bin = 1;
			if (w->src_name != NULL &&
			    strcmp(buf + 5, w->src_name) == 0)
				*have_src = 1;
		} else if (strncmp(buf, "cc ", 3) == 0 && *cc == NULL)
			*cc = xstrdup(buf + 3);
	}
}

/* One login: the binary goes in as stdin, and must run there. */
static int
worker_upload(struct ssh_session *ss, const char *rd,
    const struct remote_worker *w, char **cause)
{
	char *data, *cmd;
	size_t len;
	int rc;

	if ((data = fs_read_file(w->bin, &len, cause)) == NULL)
		return -1;
	cmd = xprintf("cd %s && mkdir -p bin && cat > bin/%s.tmp && "
	    "chmod 755 bin/%s.tmp && bin/%s.tmp version >/dev/null && "
	    "mv -f bin/%s.tmp bin/%s", rd, w->bin_name, w->bin_name,
	    w->bin_name, w->bin_name, w->bin_name);
	rc = ssh_exec_input(ss, cmd, data, len, cause);
	free(cmd);
	free(data);
	return rc;
}

/* The last few lines of text, for a message. */
static char *
worker_tail(const char *text, int lines)
{
	const char *p = text + strlen(text);

	while (p > text && (p[-1] == '\n' || p[-1] == ' '))
		p--;
	while (p > text && lines > 0) {
		p--;
		if (*p == '\n')
			lines--;
	}
	if (*p == '\n')
		p++;
	return xstrdup(p);
}

/* One login: the sources as here-documents, built with the host's cc. */
static int
worker_build(struct ssh_session *ss, const char *rd, const char *host,
    const struct remote_worker *w, const char *cc, char **cause)
{
	struct strbuf sb, out;
	struct ssh_exec x;
	const char *base;
	char *q = ssh_quote(cc), *tail;
	size_t i;
	int status, rc;

	strbuf_init(&sb);
	strbuf_addf(&sb, "cd %s || exit 1\nmkdir -p bin/%s.d && cd bin/%s.d "
	    "|| exit 1\n", rd, w->src_name, w->src_name);
	for (i = 0; i < NSOURCES; i++) {
		base = strrchr(worker_sources[i], '/') + 1;
		strbuf_addf(&sb, "cat > %s <<'FANOUT_EOF_7f3a'\n%s%s"
		    "FANOUT_EOF_7f3a\n", base, w->src[i],
		    w->src[i][0] != '\0' && w->src[i][strlen(w->src[i]) - 1] !=
		    '\n' ? "\n" : "");
	}
	strbuf_addf(&sb, "%s -O2 -o ../%s.tmp worker.c taskpool.c taskpool-json.c 2>&1 || "
	    "exit 1\ncd .. && ./%s.tmp version >/dev/null 2>&1 || exit 1\n"
	    "mv -f %s.tmp %s && rm -rf %s.d\n", q, w->src_name, w->src_name,
	    w->src_name, w->src_name, w->src_name);
	free(q);
	memset(&x, 0, sizeof x);
	strbuf_init(&out);
	x.out = &out;
	rc = remote_exec_script(ss, &sb, &x, &status, cause);
	if (rc == 0 && status != 0) {
		tail = worker_tail(out.buf, 6);
		xasprintf(cause, "building fanout-worker on %s with %s failed "
		    "(exit %d)%s%s", host, cc, status, *tail != '\0' ? ": " :
		    "", tail);
		free(tail);
		rc = -1;
	}
	strbuf_free(&out);
	strbuf_free(&sb);
	return rc;
}

int
remote_worker_install(struct ssh_session *ss, const char *rd,
    const char *host, struct remote_worker *w, const char *probe,
    struct sink *sink, char **cause)
{
	char *os = NULL, *arch = NULL, *cc = NULL, *why = NULL;
	int have_bin = 0, have_src = 0, rc = -1, same;

	worker_parse_probe(w, probe, &os, &arch, &have_bin, &have_src, &cc);
	if (os == NULL || arch == NULL) {
		xasprintf(cause, "the set-up on %s did not say its system "
		    "(uname)", host);
		goto out;
	}
	same = strcmp(os, "Linux") == 0 && strcmp(arch, w->arch) == 0;
	if (same && w->bin_name != NULL) {
		if (have_bin) {
			w->path = xprintf("bin/%s", w->bin_name);
			rc = 0;
			goto out;
		}
		if (worker_upload(ss, rd, w, &why) == 0) {
			event_log(sink, "setup", "fanout-worker uploaded to %s",
			    host);
			w->path = xprintf("bin/%s", w->bin_name);
			rc = 0;
			goto out;
		}
		/* Lost connections are the caller's to retry. */
		if (ssh_last_error(ss) == SSH_ERR_LOST) {
			*cause = why;
			why = NULL;
			goto out;
		}
	}
	if (have_src) {
		w->path = xprintf("bin/%s", w->src_name);
		rc = 0;
		goto out;
	}
	if (w->src_name == NULL) {
		xasprintf(cause, "fanout-worker for %s %s is neither here nor "
		    "are its sources (src/worker/*.c in fanout's data folder; "
		    "set FANOUT_DATA_DIR)", os, arch);
		goto out;
	}
	if (cc == NULL) {
		if (why != NULL)
			xasprintf(cause, "fanout-worker does not run on %s "
			    "(%s) and %s has no C compiler to build it (looked "
			    "for cc, gcc, clang): install gcc there", host, why,
			    host);
		else if (w->bin_name == NULL)
			xasprintf(cause, "host %s is %s %s; this fanout has no "
			    "fanout-worker program to upload (not built "
			    "statically, or not found beside fanout) and %s "
			    "has no C compiler (looked for cc, gcc, clang): "
			    "install gcc there", host, os, arch, host);
		else
			xasprintf(cause, "host %s is %s %s (fanout's worker is "
			    "for Linux %s) and has no C compiler (looked for "
			    "cc, gcc, clang): install gcc there, or run fanout "
			    "from a Linux %s machine", host, os, arch, w->arch,
			    arch);
		goto out;
	}
	event_log(sink, "setup", "building fanout-worker on %s (%s %s) with "
	    "%s", host, os, arch, cc);
	if (worker_build(ss, rd, host, w, cc, cause) != 0)
		goto out;
	w->path = xprintf("bin/%s", w->src_name);
	rc = 0;
out:
	free(why);
	free(os);
	free(arch);
	free(cc);
	return rc;
}
