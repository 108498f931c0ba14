/* Run-set records: one JSON file per run set in the history dir, written
 * atomically (temp, fsync, rename, fsync dir) under an flock on
 * <dir>/.lock. Records are jansson objects; the format is documented in
 * history/README.md. Never a secret in a record. */
#ifndef FANOUT_HISTORY_H
#define FANOUT_HISTORY_H

#include <jansson.h>
#include <stddef.h>

/* $FANOUT_HISTORY_DIR, else $XDG_STATE_HOME/fanout/history, else
 * ~/.local/state/fanout/history. Caller frees. */
char	*history_dir(void);
/* Makes the history dir (0700) when missing. */
int	 history_ensure_dir(char **cause);
/* A new run-set id: fo-YYYYMMDD-xxxx (4 random [a-z0-9]). */
char	*history_new_id(void);
/* A new record: {"version":1,"id","kind","project","created_at",
 * "state":"active","resources":[],"runs":[]}. kind is "local" or "cloud".
 * Not written until history_save. */
json_t	*history_new(const char *kind, const char *project);
/* Writes the record as <dir>/<id>.json, atomically, under the lock. */
int	 history_save(json_t *rec, char **cause);
/* Reads one record. A missing id, a truncated or non-JSON file each give
 * a one-line cause naming the id/file and what to do. */
json_t	*history_load(const char *id, char **cause);
/* Every record, newest first. Files that do not parse are skipped and
 * counted in *broken (may be NULL). Caller json_decref's the array. */
json_t	*history_list(size_t *broken, char **cause);
/* Path of a file beside the record: <dir>/<id><suffix> (e.g. ".key"). */
char	*history_file(const char *id, const char *suffix);

/* Resources: each {"kind","name","id","region","state","token",
 * "created_at","depends_on":[...]} with state intent|created|deleted.
 * Returns the resource object (borrowed) or NULL. */
json_t	*history_resource(json_t *rec, const char *kind, const char *name);
json_t	*history_resource_intent(json_t *rec, const char *kind,
	     const char *name, const char *region, const char *token,
	     const char *const *depends_on);
void	 history_resource_set(json_t *res, const char *state, const char *id);

/* Appends a run: {"started","ended","engine","results","tasks","ok",
 * "errors","unfinished"}. */
void	 history_add_run(json_t *rec, json_t *run);

/* "2026-11-22T13:05:09Z" for a time_t-like seconds value. */
char	*history_timestamp(double seconds);
/* Parses such a timestamp; -1 on error. */
double	 history_parse_timestamp(const char *);

#endif
