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

/* Frees cairo's and fontconfig's process-wide caches (at exit, so that
 * leak checkers see a clean heap). No cairo call may follow. */
void	gantt_release(void);

#endif
