/* Allocation that never returns NULL: out of memory ends the program. */
#ifndef FANOUT_XMALLOC_H
#define FANOUT_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t) __attribute__((malloc, alloc_size(1)));
void *xcalloc(size_t, size_t) __attribute__((malloc, alloc_size(1, 2)));
void *xreallocarray(void *, size_t, size_t) __attribute__((alloc_size(2, 3)));
char *xstrdup(const char *) __attribute__((malloc, nonnull));
char *xstrndup(const char *, size_t) __attribute__((malloc, nonnull));
int xasprintf(char **, const char *, ...) __attribute__((format(printf, 2, 3), nonnull));
int xvasprintf(char **, const char *, va_list) __attribute__((format(printf, 2, 0), nonnull));
/* Returns a newly allocated formatted string. */
char *xprintf(const char *, ...) __attribute__((format(printf, 1, 2), nonnull, malloc));

#endif
