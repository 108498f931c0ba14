/* setup: in fanout.yaml, a shell command run once on each host after the
 * upload and before any task (/bin/sh -c, in the project folder, with the
 * project's env:). It runs again only when its digest changes: SHA-256 of
 * the command text and of the contents of every word of it that names a
 * file of the project (requirements.txt), computed here where the project
 * is, kept on the host and written there only after a setup that worked.
 * The remote side (one login that compares, runs and checks the program)
 * is src/ssh/remote-setup.c; this file has the digest and the local run
 * (`fanout run --local --setup`). */
#ifndef FANOUT_SETUP_H
#define FANOUT_SETUP_H

#include "run/project.h"

struct sink;

/* Where a local setup's digest is kept: <project>/results/ (never
 * uploaded). */
#define SETUP_LOCAL_STAMP	"results/.setup.sha256"

/* The setup's digest, 64 hex digits (caller frees); NULL without setup. */
char	*setup_digest(const struct project *);

/* Runs the project's setup on this machine unless its digest is the one
 * kept from the last setup that worked; each line of its output is an
 * EV_LOG under step "setup". 0, or -1 with a cause naming the last line
 * of its output. */
int	 setup_local(const struct project *, char *const *env, struct sink *,
	     char **cause);

#endif
