#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "tap.h"
#include "util/fs.h"

static int tap_planned = -1;
static int tap_run;
static int tap_failed;
static int tap_lazy;
static char tap_dir[256];

static void
tap_cleanup(void)
{
	if (tap_dir[0] != '\0' && getenv("TAP_KEEP") == NULL) {
		char *cause = NULL;

		fs_remove_tree(tap_dir, &cause);
		free(cause);
	}
}

void
plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

void
plan_lazy(void)
{
	tap_lazy = 1;
}

static int
tap_vok(bool success, const char *fmt, va_list ap)
{
	tap_run++;
	if (!success)
		tap_failed++;
	printf("%sok %d - ", success ? "" : "not ", tap_run);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	return success;
}

int
ok(bool success, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vok(success, fmt, ap);
	va_end(ap);
	return success;
}

int
is_int(long long wanted, long long seen, const char *fmt, ...)
{
	va_list ap;
	bool success = wanted == seen;

	va_start(ap, fmt);
	tap_vok(success, fmt, ap);
	va_end(ap);
	if (!success)
		diag("wanted: %lld\n#   seen: %lld", wanted, seen);
	return success;
}

int
is_double(double wanted, double seen, double eps, const char *fmt, ...)
{
	va_list ap;
	bool success = fabs(wanted - seen) <= eps;

	va_start(ap, fmt);
	tap_vok(success, fmt, ap);
	va_end(ap);
	if (!success)
		diag("wanted: %g (+/- %g)\n#   seen: %g", wanted, eps, seen);
	return success;
}

int
is_string(const char *wanted, const char *seen, const char *fmt, ...)
{
	va_list ap;
	bool success;

	if (wanted == NULL || seen == NULL)
		success = wanted == seen;
	else
		success = strcmp(wanted, seen) == 0;
	va_start(ap, fmt);
	tap_vok(success, fmt, ap);
	va_end(ap);
	if (!success)
		diag("wanted: %s\n#   seen: %s", wanted ? wanted : "(null)",
		    seen ? seen : "(null)");
	return success;
}

void
diag(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void
skip(const char *fmt, ...)
{
	va_list ap;

	tap_run++;
	printf("ok %d # skip ", tap_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void
skip_all(const char *fmt, ...)
{
	va_list ap;

	printf("1..0 # skip ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(0);
}

void
bail(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(255);
}

int
done_testing(void)
{
	if (tap_lazy)
		printf("1..%d\n", tap_run);
	else if (tap_planned >= 0 && tap_planned != tap_run)
		diag("planned %d tests but ran %d", tap_planned, tap_run);
	fflush(stdout);
	return tap_failed != 0 ||
	    (!tap_lazy && tap_planned >= 0 && tap_planned != tap_run);
}

const char *
tap_tmpdir(void)
{
	const char *base;
	if (tap_dir[0] != '\0')
		return tap_dir;
	base = getenv("TMPDIR");
	snprintf(tap_dir, sizeof tap_dir, "%s/fanout-test-XXXXXX",
	    base != NULL ? base : "/tmp");
	if (mkdtemp(tap_dir) == NULL)
		bail("mkdtemp %s failed", tap_dir);
	atexit(tap_cleanup);
	return tap_dir;
}
