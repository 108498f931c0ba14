/* One command of the command line, in the manner of tmux's cmd_entry. */
#ifndef FANOUT_CMD_H
#define FANOUT_CMD_H

struct local_result;

/* Exit status (DESIGN.md): 0 done, 1 failed at run time, 2 bad usage. */
enum cmd_retval {
	CMD_OK = 0,
	CMD_FAILED = 1,
	CMD_USAGE = 2,
};

struct cmd_entry {
	const char	*name;
	const char	*usage;	/* after "fanout <name> " */
	const char	*help;	/* one line for "fanout --help" */
	/* argv[0] is the command name. */
	enum cmd_retval	 (*exec)(int argc, char **argv);
};

/* Prints "fanout: <message>" to stderr (one line) and returns status. */
enum cmd_retval	cmd_error(enum cmd_retval, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* Parses a whole positive number for option name; on error prints the
 * message and returns -1. */
int		cmd_parse_count(const char *name, const char *value, long min,
		    long max, long *out);
/* The end of a run, the same for every engine (run --local, run --host,
 * create, resume): prints "N of M task(s) failed; see DIR/errors.csv"
 * (or unfinished, or interrupted) and returns CMD_OK when every task
 * ended ok, else CMD_FAILED. A result with no results_dir (nothing ran)
 * is CMD_OK. */
enum cmd_retval	cmd_run_outcome(const struct local_result *);

extern const struct cmd_entry cmd_run_entry;
extern const struct cmd_entry cmd_create_entry;
extern const struct cmd_entry cmd_history_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_resume_entry;
extern const struct cmd_entry cmd_cleanup_entry;
extern const struct cmd_entry cmd_logs_entry;
extern const struct cmd_entry cmd_fetch_entry;
extern const struct cmd_entry cmd_ssh_entry;

#endif
