/* The plain-text front end: a sink that prints events as lines, and a live
 * progress line when stderr is a terminal. */
#ifndef FANOUT_SINK_TEXT_H
#define FANOUT_SINK_TEXT_H

#include <stdio.h>

#include "event.h"

struct sink_text {
	FILE	*out;		/* where lines go (stderr) */
	int	 tty;		/* out is a terminal: redraw a progress line */
	int	 quiet;		/* no per-step lines (--json) */
	int	 color;		/* colours allowed (terminal, no NO_COLOR) */
	double	 started;	/* monotonic start of the task run */
	double	 drawn;		/* monotonic time of the last redraw */
	int	 line_open;	/* a progress line is on screen */
};

void	sink_text_init(struct sink *, struct sink_text *, FILE *out,
	    int quiet);
/* Clears the progress line, if one is shown. */
void	sink_text_end(struct sink *);

#endif
