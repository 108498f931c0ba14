/* Menus and questions as data: menus/<name>.yaml loaded with libyaml. The
 * same checks serve the TUI (one answer typed in a field) and the command
 * line (an --answers file), so both refuse the same answers with the same
 * message. This is core: no drawing library here. */
#ifndef FANOUT_QUESTIONS_H
#define FANOUT_QUESTIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum question_type {
	QUESTION_CHOICE,	/* one of choices */
	QUESTION_TEXT,
	QUESTION_PATH,		/* a folder; answer stored absolute */
	QUESTION_INTEGER,
	QUESTION_YESNO,		/* answer stored as a JSON boolean */
};

struct question {
	char		*key;		/* answers key, e.g. "nodes" */
	char		*title;		/* label before the field */
	char		*help;		/* a line or two about the field */
	enum question_type type;
	char		*def;		/* default, as it would be typed */
	char		*default_from;	/* "ANSWER.FIELD": field of the
					 * fanout.yaml under answer ANSWER */
	char	       **choices;	/* choice: allowed values */
	size_t		 nchoices;
	bool		 has_min, has_max;
	long long	 min, max;	/* integer bounds when has_* */
	size_t		 min_length;	/* text: fewest characters */
	char		*pattern;	/* text: POSIX ERE for the answer */
	char		*pattern_help;	/* the pattern in words */
	bool		 must_exist;	/* path: must be a folder */
	char		*must_contain;	/* path: file the folder must hold */
	bool		 project;	/* path: fanout.yaml must load */
	bool		 cost_note;	/* show the hourly cost of keeping
					 * what a create makes */
};

struct menu_item {
	char		*action;	/* what the front end does */
	char		*label;
	char		*help;
	int		 key;		/* letter that picks it, or 0 */
};

struct menu {
	char		 *file;		/* where it was loaded from */
	char		 *title;
	char		 *help;
	struct menu_item *items;	/* menus with items (main.yaml) */
	size_t		  nitems;
	struct question	 *questions;	/* flows with questions */
	size_t		  nquestions;
};

/* Loads menus/<name>.yaml (found with fs_data_path). */
struct menu	*menu_load(const char *name, char **cause);
struct menu	*menu_load_file(const char *path, char **cause);
void		 menu_free(struct menu *);
const struct question *menu_question(const struct menu *, const char *key);
/* The menu's answer keys, ", "-separated; caller frees. */
char		*menu_keys(const struct menu *);

/* Checks one typed answer. On success sets *value (a new reference: string,
 * integer or boolean; a path made absolute) and returns 0; else -1 and a
 * one-line cause saying what is wrong and what to give instead. */
int		 question_check(const struct question *, const char *text,
		     json_t **value, char **cause);
/* The default to offer given the answers so far, as text; NULL if none.
 * Caller frees. */
char		*question_default(const struct question *,
		     const json_t *answers);
/* An answer as it would be typed ("5", "yes", "/path"); caller frees. */
char		*question_text(const struct question *, const json_t *value);
/* Path completion for what is typed so far: the longest common completion
 * (caller frees) and, when several match, up to max names in *alts
 * (NULL-terminated; free with question_alts_free). Folders get a "/". */
char		*question_complete_path(const char *text, char ***alts,
		     size_t max);
void		 question_alts_free(char **);

/* Reads an answers file: a YAML (or JSON) mapping with the menu's keys.
 * Each value passes question_check; a missing key takes its default; an
 * unknown key, a bad value or a missing key without default is an error
 * naming the file and the key. Returns a new object. */
json_t		*menu_read_answers(const struct menu *, const char *path,
		     char **cause);
/* The same for answers already in an object (from command-line options):
 * checks every value given, fills defaults. 0 or -1 with a cause. */
int		 menu_complete_answers(const struct menu *, json_t *answers,
		     char **cause);

#endif
