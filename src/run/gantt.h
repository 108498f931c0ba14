/* runtime.png: a Gantt chart of a run, drawn with cairo. */
#ifndef FANOUT_GANTT_H
#define FANOUT_GANTT_H

#include "run/record.h"

/* One row per (host, worker) seen in the records, a bar per attempt from
 * its start to its end, failures (any status but ok) in another colour, a
 * time axis with labels in seconds from the first start, and a legend.
 * title goes above the chart. Returns -1 and a cause on failure. */
int	gantt_write_png(const char *path, const struct record_source *,
	    const char *title, char **cause);

/* The chart's rows, top to bottom, as labelled: one per (host, worker)
 * seen in the records, hosts in natural order (node2 before node10),
 * workers by number; "HOST/wN" when the records name several hosts (two
 * hosts' worker 1 are two rows), "worker N" when one. A NULL-ended list
 * (free each and the list), *n its length; NULL with a cause when the
 * records cannot be read. */
char	**gantt_row_labels(const struct record_source *, size_t *n,
	    char **cause);

/* Host names in natural order (strcmp-like): runs of digits compare as
 * numbers, node2 before node10. */
int	gantt_host_cmp(const char *, const char *);

/* Frees cairo's and fontconfig's process-wide caches (at exit, so that
 * leak checkers see a clean heap). No cairo call may follow. */
void	gantt_release(void);

#endif
