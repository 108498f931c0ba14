/* The engine table (engine.h). */
#include <string.h>

#include "engine/engine.h"

static const struct engine engines[] = {
	{ "local", "this machine, a pool of workers", false, false },
	{ "bastion", "one cloud VM, many processes", true, false },
};

const struct engine *
engine_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < sizeof engines / sizeof engines[0];
	    i++) {
		if (strcmp(engines[i].name, name) == 0)
			return &engines[i];
	}
	return NULL;
}

const struct engine *
engine_at(size_t i)
{
	return i < sizeof engines / sizeof engines[0] ? &engines[i] : NULL;
}
