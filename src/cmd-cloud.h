/* Helpers shared by the cloud commands (create, resume, cleanup, history,
 * status): questions on the terminal and record summaries. */
#ifndef FANOUT_CMD_CLOUD_H
#define FANOUT_CMD_CLOUD_H

#include <jansson.h>

#include "cmd.h"

/* Non-zero when stdin and stderr are terminals (questions can be asked). */
int	 cmd_interactive(void);
/* Asks question on stderr; non-zero for an answer starting with y. */
int	 cmd_confirm(const char *question);
/* Prints JSON to stdout, indented, keys in order. */
void	 cmd_print_json(json_t *);
/* Options of a command that takes only --json (and --help): sets *json;
 * returns non-zero when the command must return *rv at once (help
 * printed, or a bad option reported). optind is left at the arguments. */
int	 cmd_json_option(const struct cmd_entry *, int argc, char **argv,
	     int *json, enum cmd_retval *rv);
/* Prints the performance table and results folder of the run set's last
 * run to stderr (nothing when it has no run). */
void	 cmd_print_last_run(const char *id);
/* Estimated cost so far of a record, in USD (hourly prices recorded with
 * its resources, from creation to deletion or now; a machine's stopped
 * intervals, from its "power" notes, at its stopped price). */
double	 cmd_record_cost(json_t *rec);
/* Refreshes a kept run set's state from the cloud (wizard_refresh); a
 * cloud that does not answer leaves it, with a note on stderr. */
void	 cmd_refresh(const char *id);
/* Seconds since the record was created. */
double	 cmd_record_age(json_t *rec);
/* Warns on stderr about history records that do not load (history_scan's
 * causes, one a line); what says what becomes of them. */
void	 cmd_print_damaged(json_t *damaged, const char *what);

#endif
