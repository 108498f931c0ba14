/* A growable byte string, always NUL-terminated. */
#ifndef FANOUT_STRBUF_H
#define FANOUT_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char	*buf;	/* NUL-terminated contents; never NULL after init */
	size_t	 len;	/* bytes used, not counting the NUL */
	size_t	 cap;	/* bytes allocated */
};

void	 strbuf_init(struct strbuf *);
void	 strbuf_free(struct strbuf *);
void	 strbuf_reset(struct strbuf *);
void	 strbuf_add(struct strbuf *, const void *, size_t);
void	 strbuf_adds(struct strbuf *, const char *);
void	 strbuf_addc(struct strbuf *, char);
void	 strbuf_addf(struct strbuf *, const char *, ...)
	     __attribute__((format(printf, 2, 3)));
void	 strbuf_vaddf(struct strbuf *, const char *, va_list)
	     __attribute__((format(printf, 2, 0)));
/* Appends one CSV field (RFC 4180 quoting when needed). */
void	 strbuf_add_csv(struct strbuf *, const char *);
/* Gives the buffer away; the strbuf is left empty. */
char	*strbuf_detach(struct strbuf *);

#endif
