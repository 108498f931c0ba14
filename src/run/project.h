/* A project folder and its fanout.yaml (format in DESIGN.md). */
#ifndef FANOUT_PROJECT_H
#define FANOUT_PROJECT_H

#include <stddef.h>

struct project {
	char	 *dir;		/* absolute path of the project folder */
	char	 *file;		/* absolute path of its fanout.yaml */
	char	 *name;		/* name: (>= 3 chars) */
	char	 *entrypoint;	/* as written, relative to dir */
	char	 *glob;		/* inputs.glob, or NULL when inputs.list */
	char	**list;		/* inputs.list entries */
	size_t	  nlist;
	long	  limit;	/* inputs.limit; 0 = all */
	int	  workers;	/* parallel workers per machine */
	double	  timeout;	/* seconds per task; 0 = none */
	int	  retries;	/* extra attempts after a failure */
	char	**env;		/* "KEY=value" strings from env: */
	size_t	  nenv;
};

/* Loads and validates dir/fanout.yaml. On error returns -1 and a one-line
 * cause naming the file, line and column, and the key. */
int	project_load(const char *dir, struct project *, char **cause);
void	project_free(struct project *);
/* Expands the inputs (sorted glob matches relative to the project folder,
 * or the list), keeping the first limit when limit > 0 (else the
 * project's own limit). Zero inputs is an error. */
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
