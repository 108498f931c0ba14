/* A tar (ustar + pax) writer, enough for the upload stream: regular
 * files with long paths and nanosecond mtimes, owned by uid/gid 0 (the
 * remote extracts with --no-same-owner). */
#include <stdio.h>
#include <string.h>

#include "ssh/tar.h"
#include "ssh/tree.h"
#include "util/strbuf.h"

/* One pax record "LEN key=value\n"; LEN counts itself. */
static void
tar_pax_record(struct strbuf *sb, const char *key, const char *value)
{
	size_t n = strlen(key) + strlen(value) + 3, len = n + 1, d;

	for (;;) {
		d = (size_t)snprintf(NULL, 0, "%zu", len);
		if (d + n == len)
			break;
		len = d + n;
	}
	strbuf_addf(sb, "%zu %s=%s\n", len, key, value);
}

static void
tar_octal(char *field, size_t width, unsigned long long v)
{
	char tmp[32];

	snprintf(tmp, sizeof tmp, "%0*llo", (int)width - 1, v);
	memcpy(field, tmp + strlen(tmp) - (width - 1), width - 1);
	field[width - 1] = '\0';
}

/* A ustar header block for name (already short enough). */
static void
tar_header(struct strbuf *out, const char *name, int type, long long size,
    long long mtime, int mode)
{
	unsigned char h[512];
	unsigned sum = 0;
	size_t i;

	memset(h, 0, sizeof h);
	strncpy((char *)h, name, 100);
	tar_octal((char *)h + 100, 8, (unsigned)mode);
	tar_octal((char *)h + 108, 8, 0);
	tar_octal((char *)h + 116, 8, 0);
	tar_octal((char *)h + 124, 12, size >= 077777777777LL ? 0 :
	    (unsigned long long)size);
	tar_octal((char *)h + 136, 12, (unsigned long long)mtime);
	memset(h + 148, ' ', 8);
	h[156] = (unsigned char)type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	for (i = 0; i < sizeof h; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
	strbuf_add(out, h, sizeof h);
}

void
tar_pad(struct strbuf *out, long long size)
{
	static const char zero[512];

	if (size % 512 != 0)
		strbuf_add(out, zero, (size_t)(512 - size % 512));
}

/* Headers of one entry: a pax header with the full path, the mtime in
 * nanoseconds and (when huge) the size, then the ustar header. */
void
tar_entry(struct strbuf *out, const char *path, long long size,
    long long mtime_ns, int mode)
{
	struct strbuf pax;
	char v[64];

	strbuf_init(&pax);
	if (strlen(path) >= 100)
		tar_pax_record(&pax, "path", path);
	tree_format_mtime(mtime_ns, v, sizeof v);
	tar_pax_record(&pax, "mtime", v);
	if (size >= 077777777777LL) {
		snprintf(v, sizeof v, "%lld", size);
		tar_pax_record(&pax, "size", v);
	}
	tar_header(out, "PaxHeader", 'x', (long long)pax.len, 0, 0644);
	strbuf_add(out, pax.buf, pax.len);
	tar_pad(out, (long long)pax.len);
	strbuf_free(&pax);
	tar_header(out, path, '0', size, mtime_ns / 1000000000LL, mode);
}
