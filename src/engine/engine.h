/* The engines this build has: where the tasks of a run execute (DESIGN.md,
 * "engine"). The menus and `fanout create --engine` offer exactly the
 * cloud engines of this table, so that nothing is offered that does not
 * exist; a new engine is a new line here (and, with the slurm engine, the
 * ops that set hosts up, start, follow and fetch a run). */
#ifndef FANOUT_ENGINE_H
#define FANOUT_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

struct engine {
	const char	*name;		/* "bastion": answers, --engine */
	const char	*summary;	/* one line for help texts */
	bool		 cloud;		/* runs on machines a create makes
					 * (local runs on this machine) */
	bool		 nodes;		/* runs on several machines, so a
					 * create asks how many */
};

/* The engine called name, or NULL. */
const struct engine	*engine_find(const char *name);
/* The i-th engine (from 0), or NULL past the last. */
const struct engine	*engine_at(size_t i);

#endif
