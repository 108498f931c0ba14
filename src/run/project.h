/* A project folder and its fanout.yaml (format in DESIGN.md). */
#ifndef FANOUT_PROJECT_H
#define FANOUT_PROJECT_H

#include <stdbool.h>
#include <stddef.h>

/* An object store address (inputs.glob, results): s3://bucket/key or
 * gs://bucket/key. */
struct store_url {
	char	*scheme;	/* "s3" or "gs" */
	char	*bucket;	/* checked against the store's naming rules */
	char	*key;		/* everything after "bucket/"; may be "" */
	char	*prefix;	/* key up to the folder of its first wildcard
				 * ('*', '?', '['): what to list; the whole key
				 * when it has none */
	bool	 pattern;	/* key has a wildcard: objects are matched with
				 * fnmatch(key, name, FNM_PATHNAME) */
};

/* resources: what each machine must have. */
struct project_resources {
	int	 cpus;		/* vCPUs; 0 = not asked */
	double	 memory;	/* GiB; 0 = not asked */
	char	*instance_type;	/* as given, or NULL: fanout picks */
	bool	 spot;		/* ask for spot capacity */
};

struct project {
	char	 *dir;		/* absolute path of the project folder */
	char	 *file;		/* absolute path of its fanout.yaml */
	char	 *name;		/* name: (>= 3 chars) */
	char	 *entrypoint;	/* as written: a command line */
	char	**argv;		/* entrypoint split like argv (no shell;
				 * quotes and backslashes as sh does), NULL-
				 * ended; argv[0] is a file of the project
				 * (relative to dir) when prog_in_project,
				 * else a program found on the host's PATH */
	size_t	  argc;
	bool	  prog_in_project;
	char	 *setup;	/* setup: a shell command run once per host
				 * before any task, or NULL */
	char	 *glob;		/* inputs.glob, or NULL when inputs.list */
	struct store_url *inputs_url; /* inputs.glob when it is a bucket
				 * URL (s3://, gs://), else NULL */
	struct store_url *results_url; /* results: a bucket URL to copy the
				 * results folder to, or NULL */
	char	**list;		/* inputs.list entries */
	size_t	  nlist;
	long	  limit;	/* inputs.limit; 0 = all */
	int	  workers;	/* parallel workers per machine */
	bool	  workers_set;	/* workers: was given (else the default) */
	double	  timeout;	/* seconds per task; 0 = none */
	int	  retries;	/* extra attempts after a failure */
	char	**env;		/* "KEY=value" strings from env: */
	size_t	  nenv;
	struct project_resources resources;
};

/* Loads and validates dir/fanout.yaml. On error returns -1 and a one-line
 * cause naming the file, line and column, and the key. */
int	project_load(const char *dir, struct project *, char **cause);
void	project_free(struct project *);
/* Parses a bucket URL ("s3://bucket/key", "gs://bucket/key"). pattern_ok:
 * the key may hold wildcards (inputs); else it may not (results). -1 with
 * a one-line cause naming what is malformed. */
int	store_url_parse(const char *, bool pattern_ok, struct store_url *,
	    char **cause);
void	store_url_free(struct store_url *);
/* Splits a command line as sh would split words, without expanding
 * anything: blanks separate, '...' is literal, "..." allows \" \\ \$
 * \`, a backslash outside quotes takes the next character. NULL-ended
 * argv; -1 with a cause on an unbalanced quote or an empty line. */
int	project_split_argv(const char *, char ***argvp, size_t *argcp,
	    char **cause);
void	project_argv_free(char **);

/* Expands the inputs (sorted glob matches relative to the project folder,
 * or the list), keeping the first limit when limit > 0 (else the
 * project's own limit). Zero inputs is an error. A bucket URL
 * (inputs_url) is not expanded here (the cloud layer lists it): -1. */
int	project_inputs(const struct project *, long limit, char ***inputsp,
	    size_t *np, char **cause);
void	project_inputs_free(char **, size_t);

struct yaml_document_s;
/* Refuses a mapping anywhere in a loaded YAML document that holds a key
 * twice: -1 and "FILE:LINE:COLUMN: duplicate key 'k' (first at line L)"
 * for the earliest repeat. Shared with the menus and answers files
 * (questions.c), the one other reader of YAML. */
int	project_yaml_unique(struct yaml_document_s *, const char *file,
	    char **cause);

#endif
