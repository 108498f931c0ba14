/* Upload as a tar stream over one exec channel (see upload.h); download
 * by piping a remote tar into a local one. */
#include <errno.h>
#include <pthread.h>
#include <openssl/evp.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "event.h"
#include "ssh/session.h"
#include "ssh/session-int.h"
#include "ssh/tar.h"
#include "ssh/upload.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

#define UP_BATCH_BYTES	(1024 * 1024)	/* a manifest fragment per MB */
#define UP_BATCH_FILES	256		/* ... or per this many files */

/* What the remote holds for one path. */
struct up_remote {
	char		*path;
	long long	 size, mtime_ns;
	int		 mode;
	char		 sha[65];	/* from the manifest, "" if none */
	int		 listed;	/* present in the tree */
	int		 local;		/* still present locally */
	unsigned long long ino;		/* in the cache: inode and ctime */
	long long	 ctime_ns;
};

struct up_state {
	struct up_remote	*v;
	size_t			 n, cap;
};

/* The tar stream producer. */
struct up_tar {
	const struct upload_opts *o;
	struct tree		 *t;
	size_t			 *todo;		/* indexes into t to send */
	size_t			  ntodo, next;	/* next file to start */
	int			  fd;		/* file being sent, or -1 */
	long long		  left;		/* its bytes still to read */
	struct strbuf		  pending;	/* headers/padding to emit */
	size_t			  pendoff;
	struct strbuf		  batch;	/* manifest lines of the batch */
	long long		  batch_bytes;
	int			  batch_files, seq;
	long long		  stamp;
	int			  ended;
	struct upload_stats	 *st;
	long long		  total, done;	/* payload bytes */
	size_t			  cur;		/* index of the file in flight */
	struct strbuf		  listing;	/* remote's listing and manifest */
	int			  finished;	/* remote said "#done" */
	struct strbuf		  deletes;	/* NUL-separated, or empty */
	int			  rewrite;	/* send a whole manifest */
	int			  tail_sent;	/* .delete/.new queued */
	struct strbuf		  errors;	/* remote stderr */
	char			 *error;	/* local failure while planning */
	EVP_MD_CTX		 *md;		/* hashing the file in flight */
	struct up_local		 *local;	/* the local side, being made */
	EVP_MD_CTX		 *lmd;		/* hashing the remote's listing */
	int			  phase;	/* UP_LISTING ... UP_PLANNED */
	char			  digest[65];	/* the remote's listing's */
};

/* What the remote is sending (see up_script). */
enum {
	UP_LISTING,	/* its find listing, until "#listed" */
	UP_MANIFEST,	/* its manifest, until "#manifest" */
	UP_PLANNED,	/* nothing more until "#done" (or a new listing) */
};

/* The local side of an upload: the tree, scanned and hashed (through the
 * cache) while the remote starts its shell and lists its side. */
struct up_local {
	const struct upload_opts *o;
	struct tree		  t;
	int			  rc;		/* 0, or -1 with cause */
	int			  same;		/* the tree is the cache's */
	char			  digest[65];	/* the cache's remote digest */
	char			 *cause;
	pthread_t		  thread;
	int			  running;	/* thread not joined yet */
};

static int
up_cmp(const void *a, const void *b)
{
	return strcmp(((const struct up_remote *)a)->path,
	    ((const struct up_remote *)b)->path);
}

static void
up_sort(struct up_state *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof *s->v, up_cmp);
}

static struct up_remote *
up_find(struct up_state *s, const char *path)
{
	struct up_remote key = { .path = (char *)path };

	if (s->n == 0)
		return NULL;
	return bsearch(&key, s->v, s->n, sizeof *s->v, up_cmp);
}

static struct up_remote *
up_get(struct up_state *s, const char *path)
{
	struct up_remote *r;
	size_t i;

	for (i = s->n; i > 0 && s->n - i < 4; i--) {
		if (strcmp(s->v[i - 1].path, path) == 0)
			return &s->v[i - 1];
	}
	if (s->n == s->cap) {
		s->cap = s->cap == 0 ? 256 : s->cap * 2;
		s->v = xreallocarray(s->v, s->cap, sizeof *s->v);
	}
	r = &s->v[s->n++];
	memset(r, 0, sizeof *r);
	r->path = xstrdup(path);
	return r;
}

/* "1763800000.1234567890" (find's %T@) to nanoseconds. */
static long long
up_parse_mtime(const char *s)
{
	long long sec = strtoll(s, NULL, 10), ns = 0;
	const char *dot = strchr(s, '.');
	int i;

	if (dot != NULL) {
		for (i = 0, dot++; i < 9; i++) {
			ns *= 10;
			if (*dot >= '0' && *dot <= '9')
				ns += *dot++ - '0';
		}
	}
	return sec * 1000000000LL + ns;
}

/* Parses the listing command's output: find lines, a "---" line, then the
 * manifest fragments (each "#begin" ... "#end"; a fragment cut short by a
 * dropped connection is ignored). Several entries for one path: the last
 * listing entry and the last complete manifest line win. */
static int
up_parse(char *out, struct up_state *s)
{
	int frags = 0;
	char *line, *next, *f[5], *p;
	struct strbuf frag;
	int part = 0, infrag = 0, i;
	struct up_remote *r;

	strbuf_init(&frag);
	for (line = out; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (part == 0) {
			if (strcmp(line, "---") == 0) {
				part = 1;
				/* Sort for the lookups of the manifest part. */
				up_sort(s);
				continue;
			}
			/* size \t mtime \t mode \t path */
			for (i = 0, p = line; i < 3; i++) {
				f[i] = p;
				if ((p = strchr(p, '\t')) == NULL)
					break;
				*p++ = '\0';
			}
			/* find lists tree/ and manifest.d/: files are
			 * those under tree/. */
			if (p == NULL || strncmp(p, "tree/", 5) != 0)
				continue;
			p += 5;
			r = up_get(s, p);
			r->size = strtoll(f[0], NULL, 10);
			r->mtime_ns = up_parse_mtime(f[1]);
			r->mode = (int)strtol(f[2], NULL, 8);
			r->listed = 1;
			continue;
		}
		if (strcmp(line, "#begin") == 0) {
			frags++;
			strbuf_reset(&frag);
			infrag = 1;
			continue;
		}
		if (strcmp(line, "#end") == 0 && infrag) {
			char *l, *nl;

			for (l = frag.buf; *l != '\0'; l = nl + 1) {
				nl = strchr(l, '\n');
				*nl = '\0';
				/* sha size mtime mode path */
				for (i = 0, p = l; i < 4 && p != NULL; i++) {
					f[i] = p;
					if ((p = strchr(p, ' ')) != NULL)
						*p++ = '\0';
				}
				if (p == NULL || strlen(f[0]) != 64)
					continue;
				r = up_find(s, p);
				if (r == NULL || r->size != strtoll(f[1], NULL,
				    10) || r->mtime_ns != strtoll(f[2], NULL,
				    10) || r->mode != (int)strtol(f[3], NULL, 8))
					continue;
				memcpy(r->sha, f[0], 65);
			}
			infrag = 0;
			continue;
		}
		if (infrag) {
			strbuf_adds(&frag, line);
			strbuf_addc(&frag, '\n');
		}
	}
	if (part == 0)
		up_sort(s);
	strbuf_free(&frag);
	return frags;
}

static void
up_state_free(struct up_state *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].path);
	free(s->v);
}

/* Ends the current batch: a manifest fragment entry. */
static void
up_flush_batch(struct up_tar *u)
{
	char name[80];

	if (u->batch_files == 0)
		return;
	strbuf_adds(&u->batch, "#end\n");
	snprintf(name, sizeof name, "manifest.d/f%020lld-%06d", u->stamp,
	    u->seq++);
	tar_entry(&u->pending, name, (long long)u->batch.len + 7,
	    u->stamp, 0644);
	strbuf_adds(&u->pending, "#begin\n");
	strbuf_add(&u->pending, u->batch.buf, u->batch.len);
	tar_pad(&u->pending, (long long)u->batch.len + 7);
	strbuf_reset(&u->batch);
	u->batch_files = 0;
	u->batch_bytes = 0;
}

static void
up_file_done(struct up_tar *u)
{
	struct tree_file *f = &u->t->v[u->cur];

	if (u->md != NULL) {
		tree_sha256_end(u->md, f->sha);
		u->md = NULL;
	}

	strbuf_addf(&u->batch, "%s %lld %lld %o %s\n", f->sha, f->size,
	    f->mtime_ns, f->mode, f->path);
	u->batch_files++;
	u->batch_bytes += f->size;
	u->st->files_sent++;
	if (u->o->keep_sent) {
		u->st->sent = xreallocarray(u->st->sent, u->st->nsent + 1,
		    sizeof *u->st->sent);
		u->st->sent[u->st->nsent++] = xstrdup(f->path);
	}
	if (u->batch_bytes >= UP_BATCH_BYTES ||
	    u->batch_files >= UP_BATCH_FILES)
		up_flush_batch(u);
}

/* The last entries: the paths to delete, then the whole manifest (the
 * remote moves it into place once tar has ended well). */
static void
up_tail(struct up_tar *u)
{
	struct strbuf m;
	size_t i;

	if (u->deletes.len > 0) {
		tar_entry(&u->pending, "manifest.d/.delete",
		    (long long)u->deletes.len, u->stamp, 0644);
		strbuf_add(&u->pending, u->deletes.buf, u->deletes.len);
		tar_pad(&u->pending, (long long)u->deletes.len);
	}
	if (!u->rewrite)
		return;
	strbuf_init(&m);
	strbuf_adds(&m, "#begin\n");
	for (i = 0; i < u->t->n; i++) {
		struct tree_file *f = &u->t->v[i];

		strbuf_addf(&m, "%s %lld %lld %o %s\n", f->sha, f->size,
		    f->mtime_ns, f->mode, f->path);
	}
	strbuf_adds(&m, "#end\n");
	tar_entry(&u->pending, "manifest.d/.new", (long long)m.len, u->stamp,
	    0644);
	strbuf_add(&u->pending, m.buf, m.len);
	tar_pad(&u->pending, (long long)m.len);
	strbuf_free(&m);
}

static ssize_t
up_produce(void *arg, char *buf, size_t len, char **cause)
{
	struct up_tar *u = arg;
	struct event ev = { .type = EV_BYTES, .step = "upload" };
	size_t got = 0, n;
	ssize_t r;

	if (u->phase != UP_PLANNED && u->pendoff >= u->pending.len)
		return -2;	/* the remote has not said enough yet */
	if (u->phase == UP_PLANNED && u->error != NULL) {
		*cause = u->error;
		u->error = NULL;
		return -1;
	}
	while (got < len) {
		if (u->pendoff < u->pending.len) {
			n = u->pending.len - u->pendoff;
			if (n > len - got)
				n = len - got;
			memcpy(buf + got, u->pending.buf + u->pendoff, n);
			u->pendoff += n;
			got += n;
			continue;
		}
		strbuf_reset(&u->pending);
		u->pendoff = 0;
		if (u->phase != UP_PLANNED)
			break;	/* the answer to the listing went out */
		if (u->fd >= 0) {
			n = len - got;
			if ((long long)n > u->left)
				n = (size_t)u->left;
			r = read(u->fd, buf + got, n);
			if (r <= 0) {
				xasprintf(cause, "%s/%s changed while being "
				    "uploaded", u->o->local_dir,
				    u->t->v[u->cur].path);
				return -1;
			}
			if (u->md != NULL)
				EVP_DigestUpdate(u->md, buf + got, (size_t)r);
			got += (size_t)r;
			u->left -= r;
			u->done += r;
			u->st->bytes_sent += r;
			if (u->left == 0) {
				close(u->fd);
				u->fd = -1;
				tar_pad(&u->pending, u->t->v[u->cur].size);
				up_file_done(u);
			}
			continue;
		}
		if (u->next < u->ntodo) {
			struct tree_file *f = &u->t->v[u->todo[u->next]];
			char *path = fs_join(u->o->local_dir, f->path);
			char *name = xprintf("tree/%s", f->path);

			u->cur = u->todo[u->next++];
			u->fd = open(path, O_RDONLY | O_CLOEXEC);
			if (u->fd < 0) {
				xasprintf(cause, "cannot read %s: %s", path,
				    strerror(errno));
				free(path);
				free(name);
				return -1;
			}
			free(path);
			if (f->sha[0] == '\0') {
				/* Hashed on the way, not beforehand. */
				u->md = tree_sha256_start();
			}
			tar_entry(&u->pending, name, f->size, f->mtime_ns,
			    f->mode);
			free(name);
			u->left = f->size;
			if (f->size == 0) {
				close(u->fd);
				u->fd = -1;
				up_file_done(u);
			}
			continue;
		}
		if (u->batch_files > 0) {
			up_flush_batch(u);
			continue;
		}
		if (!u->tail_sent) {
			up_tail(u);
			u->tail_sent = 1;
			continue;
		}
		if (!u->ended) {
			char zero[1024] = { 0 };

			/* The tar's end, when a tar was announced. */
			if (u->rewrite)
				strbuf_add(&u->pending, zero, sizeof zero);
			u->ended = 1;
			continue;
		}
		break;
	}
	if (got == 0 && u->phase != UP_PLANNED)
		return -2;
	ev.done = u->done;
	ev.total = u->total;
	event_emit(u->o->sink, &ev);
	return (ssize_t)got;
}

/* The cache: "#remote DIGEST" (the remote's digest after the upload
 * that wrote the cache), then one line per file, "sha size mtime mode
 * ino ctime path". */
static char *
up_cache_text(const struct tree *t, const char *digest)
{
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb);
	if (*digest != '\0')
		strbuf_addf(&sb, "#remote %s\n", digest);
	for (i = 0; i < t->n; i++) {
		const struct tree_file *f = &t->v[i];

		strbuf_addf(&sb, "%s %lld %lld %o %llu %lld %s\n", f->sha,
		    f->size, f->mtime_ns, f->mode, f->ino, f->ctime_ns,
		    f->path);
	}
	return strbuf_detach(&sb);
}

/* Takes the cached SHA-256 of files whose size, mtime, mode, inode and
 * ctime are as cached; the others are hashed when needed (to compare
 * with the remote) or while they are sent. Returns 1 when the whole tree
 * is exactly the cached one. */
static int
up_hash(const struct upload_opts *o, struct tree *t, char digest[65])
{
	struct up_state cs = { 0 };
	struct up_remote *c;
	char *text = NULL, *line, *next, *f[6], *p;
	size_t i, hit = 0, n = 0;
	int j;

	if (o->cache != NULL && fs_is_file(o->cache))
		text = fs_read_file(o->cache, NULL, NULL);
	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strncmp(line, "#remote ", 8) == 0 &&
		    strlen(line + 8) == 64) {
			memcpy(digest, line + 8, 65);
			continue;
		}
		for (j = 0, p = line; j < 6 && p != NULL; j++) {
			f[j] = p;
			if ((p = strchr(p, ' ')) != NULL)
				*p++ = '\0';
		}
		if (p == NULL || strlen(f[0]) != 64)
			continue;
		c = up_get(&cs, p);
		memcpy(c->sha, f[0], 65);
		c->size = strtoll(f[1], NULL, 10);
		c->mtime_ns = strtoll(f[2], NULL, 10);
		c->mode = (int)strtol(f[3], NULL, 8);
		c->listed = 1;
		c->ino = strtoull(f[4], NULL, 10);
		c->ctime_ns = strtoll(f[5], NULL, 10);
		n++;
	}
	free(text);
	up_sort(&cs);
	for (i = 0; i < t->n; i++) {
		struct tree_file *tf = &t->v[i];

		c = up_find(&cs, tf->path);
		if (c != NULL && c->size == tf->size &&
		    c->mtime_ns == tf->mtime_ns && c->mode == tf->mode &&
		    c->ino == tf->ino && c->ctime_ns == tf->ctime_ns) {
			memcpy(tf->sha, c->sha, 65);
			hit++;
		} else
			tf->sha[0] = '\0';
	}
	up_state_free(&cs);
	return n > 0 && hit == t->n && n == t->n;
}

static int
up_sha(struct up_tar *u, struct tree_file *f)
{
	char *path = fs_join(u->o->local_dir, f->path);
	int rc;

	rc = tree_sha256(path, f->sha, &u->error);
	free(path);
	return rc;
}

static void	up_digest_start(struct up_tar *);

/* Decides what to send once the remote's listing and manifest are in. */
static void
up_plan(struct up_tar *u)
{
	struct up_state rs = { 0 };
	struct up_remote *r;
	size_t i;
	int frags;

	frags = up_parse(u->listing.buf, &rs);
	u->todo = xcalloc(u->t->n + 1, sizeof *u->todo);
	for (i = 0; i < u->t->n; i++) {
		struct tree_file *f = &u->t->v[i];

		r = up_find(&rs, f->path);
		if (r != NULL)
			r->local = 1;
		if (r != NULL && r->listed && r->size == f->size &&
		    r->mtime_ns == f->mtime_ns && r->mode == f->mode &&
		    r->sha[0] != '\0') {
			if (f->sha[0] == '\0' && up_sha(u, f) != 0)
				break;
			if (strcmp(r->sha, f->sha) == 0)
				continue;
		}
		u->todo[u->ntodo++] = i;
		u->total += f->size;
	}
	/* Only what fanout put there (the manifest has it) is deleted: what
	 * the project's setup: or its tasks made on the host (a venv) stays. */
	for (i = 0; i < rs.n; i++) {
		if (rs.v[i].listed && !rs.v[i].local &&
		    rs.v[i].sha[0] != '\0') {
			strbuf_add(&u->deletes, rs.v[i].path,
			    strlen(rs.v[i].path) + 1);
			u->st->files_deleted++;
		}
	}
	u->rewrite = u->ntodo > 0 || u->deletes.len > 0 || frags != 1;
	/* The answer to the manifest: T, a tar follows (and the remote then
	 * lists its tree again: a new digest); N, nothing changed and the
	 * remote need not start tar at all. */
	strbuf_adds(&u->pending, u->rewrite ? "T\n" : "N\n");
	if (u->rewrite)
		up_digest_start(u);
	up_state_free(&rs);
	u->phase = UP_PLANNED;
}

static void *
up_local_scan(void *arg)
{
	struct up_local *l = arg;
	size_t i;

	l->rc = -1;
	if (tree_scan(l->o->local_dir, false, &l->t, &l->cause) != 0)
		return NULL;
	l->same = up_hash(l->o, &l->t, l->digest);
	for (i = 0; i < l->t.n; i++) {
		if (strpbrk(l->t.v[i].path, "\n\t") != NULL) {
			xasprintf(&l->cause, "%s/%s: file names with a newline "
			    "or tab cannot be uploaded; rename it or list it "
			    "in .fanoutignore", l->o->local_dir,
			    l->t.v[i].path);
			return NULL;
		}
	}
	l->rc = 0;
	return NULL;
}

/* Starts the local scan in a thread (or does it now if none starts). */
static void
up_local_start(struct up_local *l)
{
	if (pthread_create(&l->thread, NULL, up_local_scan, l) == 0)
		l->running = 1;
	else
		up_local_scan(l);
}

static int
up_local_join(struct up_local *l)
{
	if (l->running) {
		pthread_join(l->thread, NULL);
		l->running = 0;
	}
	return l->rc;
}

static void
up_digest_start(struct up_tar *u)
{
	if (u->lmd == NULL)
		u->lmd = tree_sha256_start();
}

static void
up_digest_line(struct up_tar *u, const char *line)
{
	up_digest_start(u);
	EVP_DigestUpdate(u->lmd, line, strlen(line));
	EVP_DigestUpdate(u->lmd, "\n", 1);
}

static void
up_digest_end(struct up_tar *u)
{
	up_digest_start(u);
	tree_sha256_end(u->lmd, u->digest);
	u->lmd = NULL;
}

/* The remote's listing is in. When the local tree is the cache's and the
 * listing's digest is the one the last upload left, nothing is to be
 * done ("N"); else the remote is asked for its manifest ("M") too. */
static void
up_listed(struct up_tar *u)
{
	struct up_local *l = u->local;

	up_digest_end(u);
	if (up_local_join(l) != 0) {
		/* up_produce fails the exec with the local cause. */
		u->error = l->cause;
		l->cause = NULL;
		u->phase = UP_PLANNED;
		return;
	}
	u->st->files = (long long)u->t->n;
	if (l->same && strcmp(l->digest, u->digest) == 0) {
		strbuf_adds(&u->pending, "N\n");
		u->phase = UP_PLANNED;
		return;
	}
	u->st->listed = 1;
	strbuf_adds(&u->listing, "---\n");
	strbuf_adds(&u->pending, "M\n");
	u->phase = UP_MANIFEST;
}

static void
up_line(void *arg, int fd, const char *line)
{
	struct up_tar *u = arg;

	if (fd == 2) {
		if (u->errors.len < 2000) {
			strbuf_adds(&u->errors, u->errors.len > 0 ? "; " : "");
			strbuf_adds(&u->errors, line);
		}
		return;
	}
	if (strcmp(line, "#done") == 0) {
		/* After a tar, the remote listed its tree again. */
		if (u->lmd != NULL)
			up_digest_end(u);
		u->finished = 1;
		return;
	}
	switch (u->phase) {
	case UP_LISTING:
		if (strcmp(line, "#listed") == 0) {
			up_listed(u);
			return;
		}
		up_digest_line(u, line);
		break;
	case UP_MANIFEST:
		if (strcmp(line, "#manifest") == 0) {
			up_plan(u);
			return;
		}
		break;
	default:
		/* After a tar: the remote's new listing (up_plan started
		 * its digest). */
		if (u->lmd != NULL)
			up_digest_line(u, line);
		return;
	}
	strbuf_adds(&u->listing, line);
	strbuf_addc(&u->listing, '\n');
}

/* The remote side. It lists its tree and manifest files (size, mtime,
 * mode, path: the client keeps a digest of this listing) and reads the
 * answer: N, nothing to do; M, send the manifest too. After the manifest
 * it reads T, a tar stream follows (extracted, then the deletions and the
 * new manifest applied, then the tree listed again for the next digest),
 * or N. It ends with "#done". One exec channel, so one login (its shell
 * start-up) per upload, and on an unchanged upload no process but find. */
static const char up_script[] =
    "{ [ -d %s/tree ] && [ -d %s/manifest.d ]; } || "
    "mkdir -p %s/tree %s/manifest.d || exit 1; cd %s || exit 1; "
    "lst() { find tree manifest.d -type f "
    "-printf '%%s\t%%T@\t%%m\t%%p\n'; }; "
    "lst; echo '#listed'; read -r q; m=N; "
    "if [ \"$q\" = M ]; then cat manifest.d/* 2>/dev/null; "
    "echo '#manifest'; read -r m; fi; "
    "if [ \"$m\" = T ]; then "
    "tar -xpf - --no-same-owner || exit $?; "
    "if [ -f manifest.d/.delete ]; then (cd tree && xargs -0 rm -f -- "
    "<../manifest.d/.delete); rm -f manifest.d/.delete; fi; "
    "if [ -f manifest.d/.new ]; then mv -f manifest.d/.new "
    "manifest.d/a-base && rm -f manifest.d/f*; fi; lst; fi; echo '#done'";

int
upload_tree(struct ssh_session *ss, const struct upload_opts *o,
    struct upload_stats *st, char **cause)
{
	struct up_tar u;
	struct up_local l;
	struct ssh_exec x;
	char *rd = ssh_quote(o->remote_dir), *cmd = NULL, *text;
	int rc = -1, status;

	memset(&u, 0, sizeof u);
	memset(&l, 0, sizeof l);
	u.fd = -1;
	strbuf_init(&u.pending);
	strbuf_init(&u.batch);
	strbuf_init(&u.listing);
	strbuf_init(&u.deletes);
	strbuf_init(&u.errors);
	l.o = o;
	if (o->trust_cache) {
		/* No remote at all when the tree is the cache's. */
		up_local_scan(&l);
		if (l.rc != 0) {
			*cause = l.cause;
			l.cause = NULL;
			goto out;
		}
		st->files = (long long)l.t.n;
		if (l.same) {
			st->trusted = 1;
			rc = 0;
			goto out;
		}
	} else
		up_local_start(&l);
	u.o = o;
	u.t = &l.t;
	u.local = &l;
	u.st = st;
	u.stamp = (long long)(time_now() * 1e9);

	memset(&x, 0, sizeof x);
	x.command = cmd = xprintf(up_script, rd, rd, rd, rd, rd);
	x.input = up_produce;
	x.input_arg = &u;
	x.line = up_line;
	x.line_arg = &u;
	x.sent = &st->wire_bytes;
	if (ssh_exec_run(ss, &x, &status, cause) != 0)
		goto out;
	/* The shell or its tar died of a signal (exit 128+N). */
	if ((status == -1 || status > 128) && !u.finished) {
		ssh_fail(ss, SSH_ERR_KILLED, cause, "upload into %s: the "
		    "remote tar was killed", o->remote_dir);
		goto out;
	}
	if (status != 0 || !u.finished) {
		xasprintf(cause, "upload into %s failed on the remote (exit "
		    "%d)%s%s", o->remote_dir, status, u.errors.len > 0 ?
		    ": " : "", u.errors.buf);
		goto out;
	}
	if (o->cache != NULL && (!l.same || strcmp(l.digest, u.digest) != 0)) {
		/* The remote holds this tree now: remember it. */
		text = up_cache_text(&l.t, u.digest);
		if (fs_write_atomic(o->cache, text, strlen(text), 0600,
		    cause) != 0) {
			free(text);
			goto out;
		}
		free(text);
	}
	rc = 0;
out:
	up_local_join(&l);
	free(l.cause);
	if (u.fd >= 0)
		close(u.fd);
	if (u.md != NULL)
		EVP_MD_CTX_free(u.md);
	if (u.lmd != NULL)
		EVP_MD_CTX_free(u.lmd);
	free(u.error);
	free(cmd);
	free(u.todo);
	strbuf_free(&u.pending);
	strbuf_free(&u.batch);
	strbuf_free(&u.listing);
	strbuf_free(&u.deletes);
	strbuf_free(&u.errors);
	if (l.t.v != NULL || l.t.n > 0)
		tree_free(&l.t);
	free(rd);
	return rc;
}

void
upload_stats_free(struct upload_stats *st)
{
	size_t i;

	for (i = 0; i < st->nsent; i++)
		free(st->sent[i]);
	free(st->sent);
	memset(st, 0, sizeof *st);
}

struct down {
	FILE		*tar;
	long long	*bytes;
	struct sink	*sink;
};

static void
down_line(void *arg, int fd, const char *line)
{
	struct down *d = arg;

	if (fd == 2)
		event_log(d->sink, "download", "%s", line);
}

int
upload_tree_retry(struct ssh_session *ss, const struct upload_opts *o,
    struct upload_stats *st, int *reconnects, char **cause)
{
	int kills = 0;

	for (;;) {
		if (upload_tree(ss, o, st, cause) == 0)
			return 0;
		if (ssh_last_error(ss) == SSH_ERR_KILLED && kills++ < 3) {
			/* The connection is up: go on where it stopped. */
			event_log(o->sink, "upload", "%s; trying again",
			    *cause);
			free(*cause);
			*cause = NULL;
			continue;
		}
		if (ssh_last_error(ss) != SSH_ERR_LOST)
			return -1;
		free(*cause);
		*cause = NULL;
		if (ssh_reconnect(ss, cause) != 0)
			return -1;
		if (reconnects != NULL)
			(*reconnects)++;
	}
}

int
download_tree(struct ssh_session *ss, const char *remote_dir,
    const char *members, const char *local_dir, struct sink *sink,
    long long *bytes, char **cause)
{
	struct strbuf out;
	struct ssh_exec x;
	struct down d = { NULL, bytes, sink };
	char *rd = ssh_quote(remote_dir), *ld, *cmd;
	int status, rc;
	FILE *p;

	*bytes = 0;
	if (fs_mkdir_p(local_dir, 0755, cause) != 0) {
		free(rd);
		return -1;
	}
	strbuf_init(&out);
	memset(&x, 0, sizeof x);
	x.command = cmd = xprintf("cd %s && tar -cf - %s", rd,
	    members != NULL ? members : ".");
	x.out = &out;
	x.line = down_line;
	x.line_arg = &d;
	rc = ssh_exec_run(ss, &x, &status, cause);
	free(cmd);
	free(rd);
	if (rc == 0 && status != 0) {
		xasprintf(cause, "cannot read %s on the remote (exit %d)",
		    remote_dir, status);
		rc = -1;
	}
	if (rc != 0) {
		strbuf_free(&out);
		return -1;
	}
	*bytes = (long long)out.len;
	ld = ssh_quote(local_dir);
	cmd = xprintf("tar -xf - -C %s", ld);
	free(ld);
	if ((p = popen(cmd, "w")) == NULL) {
		xasprintf(cause, "cannot run tar: %s", strerror(errno));
		free(cmd);
		strbuf_free(&out);
		return -1;
	}
	fwrite(out.buf, 1, out.len, p);
	status = pclose(p);
	strbuf_free(&out);
	if (status != 0) {
		xasprintf(cause, "%s failed (status %d)", cmd, status);
		free(cmd);
		return -1;
	}
	free(cmd);
	return 0;
}
