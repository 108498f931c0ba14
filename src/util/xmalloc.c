/* Allocation wrappers in the manner of tmux's xmalloc.c. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xmalloc.h"

static void __attribute__((noreturn))
xmalloc_fatal(const char *what, size_t n)
{
	fprintf(stderr, "fanout: out of memory (%s of %zu bytes)\n", what, n);
	abort();
}

void *
xmalloc(size_t size)
{
	void *ptr;

	if (size == 0)
		size = 1;
	if ((ptr = malloc(size)) == NULL)
		xmalloc_fatal("malloc", size);
	return ptr;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *ptr;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if ((ptr = calloc(nmemb, size)) == NULL)
		xmalloc_fatal("calloc", nmemb * size);
	return ptr;
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void *new_ptr;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if (size != 0 && nmemb > SIZE_MAX / size)
		xmalloc_fatal("reallocarray overflow", SIZE_MAX);
	if ((new_ptr = realloc(ptr, nmemb * size)) == NULL)
		xmalloc_fatal("realloc", nmemb * size);
	return new_ptr;
}

char *
xstrdup(const char *str)
{
	char *cp;

	if ((cp = strdup(str)) == NULL)
		xmalloc_fatal("strdup", strlen(str));
	return cp;
}

char *
xstrndup(const char *str, size_t maxlen)
{
	char *cp;

	if ((cp = strndup(str, maxlen)) == NULL)
		xmalloc_fatal("strndup", maxlen);
	return cp;
}

int
xvasprintf(char **ret, const char *fmt, va_list ap)
{
	int i;

	i = vasprintf(ret, fmt, ap);
	if (i < 0 || *ret == NULL)
		xmalloc_fatal("vasprintf", 0);
	return i;
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list ap;
	int i;

	va_start(ap, fmt);
	i = xvasprintf(ret, fmt, ap);
	va_end(ap);
	return i;
}

char *
xprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	xvasprintf(&s, fmt, ap);
	va_end(ap);
	return s;
}
