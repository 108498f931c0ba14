/* One task's output, from a results folder: the bytes of an attempt in the
 * worker slot's logs (logs/wN.out|err at the offsets its record gives), or
 * logs/TASK-ATTEMPT.out|err of older results folders. */
#ifndef FANOUT_TASKLOG_H
#define FANOUT_TASKLOG_H

#include <stddef.h>

struct tasklog {
	int	 task;
	int	 attempt;
	int	 attempts;	/* of this task in all */
	char	*input;
	char	*status;
	char	*out;		/* stdout, NUL-terminated (may hold NULs) */
	size_t	 outlen;
	char	*err;		/* stderr */
	size_t	 errlen;
};

/* Reads the output of one attempt (0: the last) of the task named by its
 * number or its input. -1 with a cause when there is no such task. */
int	tasklog_read(const char *results_dir, const char *task, int attempt,
	    struct tasklog *, char **cause);
void	tasklog_free(struct tasklog *);

#endif
