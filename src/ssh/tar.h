/* The tar stream of an upload (see upload.h). */
#ifndef FANOUT_SSH_TAR_H
#define FANOUT_SSH_TAR_H

struct strbuf;

/* Appends the headers of one regular file (a pax header with its path
 * when >= 100 bytes, its mtime in ns, its size when huge; then the ustar
 * header); its data and tar_pad() follow. */
void	tar_entry(struct strbuf *, const char *path, long long size,
	    long long mtime_ns, int mode);
/* Zero bytes up to the next 512-byte block after size bytes of data. */
void	tar_pad(struct strbuf *, long long size);

#endif
