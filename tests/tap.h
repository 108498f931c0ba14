/* A small TAP helper in the shape of c-tap-harness's basic.h. */
#ifndef FANOUT_TAP_H
#define FANOUT_TAP_H

#include <stdbool.h>

void	plan(int n);
/* Plan from the number of tests run, printed at the end (done_testing). */
void	plan_lazy(void);
int	ok(bool success, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	is_int(long long wanted, long long seen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	is_double(double wanted, double seen, double epsilon,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int	is_string(const char *wanted, const char *seen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	skip_all(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	bail(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
/* Prints the lazy plan; returns the exit status (non-zero on failure). */
int	done_testing(void);
/* A fresh temporary directory for this test (removed at exit unless
 * TAP_KEEP is set). */
const char *tap_tmpdir(void);

#endif
