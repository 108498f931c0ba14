/* Run-set records: one JSON file per run set in the history dir, written
 * atomically (temp, fsync, rename, fsync dir) under an flock on
 * <dir>/.lock. Records are jansson objects; the format is documented in
 * history/README.md. Never a secret in a record. A record is checked when
 * it is loaded (history_check): code that holds one may rely on the types
 * listed there. One command at a time works on a run set (history_hold). */
#ifndef FANOUT_HISTORY_H
#define FANOUT_HISTORY_H

#include <jansson.h>
#include <stddef.h>

/* The record format this fanout writes and reads ("version"). */
#define HISTORY_VERSION 1

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
/* Writes the record as <dir>/<id>.json, atomically, under the lock.
 * Never rolls a state back: when the record on disk says deleting or
 * deleted and rec does not, or a resource deleted on disk is not deleted
 * (or missing) in rec, nothing is written and -1 says why. A record on
 * disk that does not load is not overwritten either. */
int	 history_save(json_t *rec, char **cause);
/* Reads one record and checks it (history_check). A missing id, a
 * truncated or non-JSON file, a field of the wrong type each give a
 * one-line cause naming the id, the field, the file and what to do. */
json_t	*history_load(const char *id, char **cause);
/* Every record, newest first. Files that do not load are skipped and
 * counted in *broken (may be NULL). Caller json_decref's the array. */
json_t	*history_list(size_t *broken, char **cause);
/* The same, with the cause of each skipped file in *damaged (a new
 * array of strings; may be NULL). */
json_t	*history_scan(json_t **damaged, char **cause);
/* Checks a parsed record: the top-level keys (version, id, kind,
 * project, created_at, state, resources, runs ...), each resource (kind,
 * name, state intent|created|deleted, id string or null and a string
 * once created, region, token, depends_on: strings ...), each run, the
 * ssh block and the answers a resume reads. id, when not NULL, must be
 * the record's. 0, or -1 with *why naming the first bad field
 * ("resources[2].state is missing"). */
int	 history_check(json_t *rec, const char *id, char **why);
/* Path of a file beside the record: <dir>/<id><suffix> (e.g. ".key"). */
char	*history_file(const char *id, const char *suffix);

/* The one way to read a string from a record (or any JSON object): the
 * string at o[key]; def when o is not an object, key is missing or its
 * value is not a string (null included). An empty string is returned as
 * it is. */
const char *history_str(const json_t *o, const char *key, const char *def);

/* One command at a time per run set: takes an flock on <dir>/<id>.lock
 * and writes this process's pid and command line into it ("what" names
 * the flow: "create", "cleanup" ...). Does not wait: when another
 * process, or another job of this one, holds it, returns -1 with a cause
 * naming the holder's pid and command. The lock goes with the returned
 * fd (history_release), or with the process. */
int	 history_hold(const char *id, const char *what, char **cause);
void	 history_release(int fd);

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
