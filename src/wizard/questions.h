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
	char		*choices_from;	/* choice: the hook list they came
					 * from at load ("engines"), or NULL
					 * when the menu lists them; text:
					 * the hook list of answers offered
					 * (given the answers so far: the
					 * provider's instance types), any
					 * other text the checks pass is
					 * taken as well */
	char		*one_of;	/* text: hook list the answer must be
					 * in, given the answers so far
					 * ("provider.regions") */
	char		*check;		/* text: hook check the answer must
					 * pass, given the answers so far
					 * ("provider.zone": a zone of the
					 * answered region) */
	char		*when;		/* "KEY.LIST": asked only when the
					 * answer KEY is in hook list
					 * KEY.LIST ("engine.nodes") */
	bool		 has_min, has_max;
	long long	 min, max;	/* integer bounds when has_* */
	size_t		 min_length;	/* text: fewest characters */
	size_t		 max_length;	/* text: most characters; 0 any */
	char		*pattern;	/* text: POSIX ERE for the answer */
	char		*pattern_help;	/* the pattern in words */
	bool		 must_exist;	/* path: must be a folder */
	char		*must_contain;	/* path: file the folder must hold */
	bool		 project;	/* path: fanout.yaml must load */
	bool		 cost_note;	/* show the hourly cost of keeping
					 * what a create makes */
	bool		 optional;	/* may be left empty (no default):
					 * the answer is null, "not asked" */
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

/* What a menu names but this file cannot know, supplied by the layers
 * that know it (src/wizard/answers.c), so that no provider or engine code
 * is here: lists of names (choices_from: engines, validate: {one_of:
 * provider.regions}, when: engine.nodes), values (default_from:
 * provider.region) and checks (validate: {check: provider.zone}). answers are those given so far, or NULL. */
struct menu_hooks {
	/* A NULL-terminated list (free with question_alts_free), or NULL
	 * with a cause. */
	char	**(*list)(const char *name, const json_t *answers,
		    char **cause);
	/* A value; NULL with a cause when there is none, NULL without a
	 * cause for a name the hook does not know. */
	char	 *(*value)(const char *name, const json_t *answers,
		    char **cause);
	/* How to show item of list name to a person ("cluster (slurm)"
	 * for slurm, "c5.large  $0.085/h"); NULL: as it is. */
	char	 *(*label)(const char *name, const char *item,
		    const json_t *answers);
	/* Checks text by the rule called name (validate: check: NAME),
	 * given the answers so far (may be NULL): 0, or -1 with a one-line
	 * cause naming what is wrong and what to give. */
	int	  (*check)(const char *name, const char *text,
		    const json_t *answers, char **cause);
};
void		 menu_set_hooks(const struct menu_hooks *);
/* The hook list called name (NULL-terminated; free with
 * question_alts_free), or NULL with a cause. */
char	       **menu_list(const char *name, const json_t *answers,
		     char **cause);

/* Item of hook list name as shown (the hook's label, else the item);
 * caller frees. */
char		*menu_label(const char *name, const char *item,
		     const json_t *answers);
/* The words for an answer of q as shown: the label of a choice from a
 * hook list (the engine's "cluster (slurm)"), else question_text's;
 * caller frees. */
char		*question_shown(const struct question *, const json_t *value,
		     const json_t *answers);

/* Loads menus/<name>.yaml (found with fs_data_path). */
struct menu	*menu_load(const char *name, char **cause);
struct menu	*menu_load_file(const char *path, char **cause);
void		 menu_free(struct menu *);
const struct question *menu_question(const struct menu *, const char *key);
/* The menu's answer keys, ", "-separated; caller frees. */
char		*menu_keys(const struct menu *);

/* Whether the menu asks q, given the answers so far: its when: holds (an
 * answer not given yet counts as its default). */
bool		 menu_asks(const struct menu *, const struct question *,
		     const json_t *answers);

/* Checks one typed answer, given the answers so far (answers may be NULL).
 * On success sets *value (a new reference: string, integer or boolean; a
 * path made absolute) and returns 0; else -1 and a one-line cause saying
 * what is wrong and what to give instead. The form shows this cause as it
 * is; the command line puts where the answer came from before it. */
int		 question_check(const struct question *,
		     const json_t *answers, const char *text, json_t **value,
		     char **cause);
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

/* The one answers path of the command line. Answers as given, before any
 * check: an object of key -> {"text": as typed, "where": "--nodes" or
 * "FILE:LINE:COLUMN: nodes"}, the start of every message about it.
 * menu_given_file adds the keys of an answers file (a YAML or JSON
 * mapping of the menu's keys; a list, a mapping as a value, a key given
 * twice or an unknown key is refused); menu_given_set adds or replaces
 * one (an option). 0, or -1 with a cause. */
int		 menu_given_file(const struct menu *, const char *path,
		     json_t *given, char **cause);
int		 menu_given_set(const struct menu *, json_t *given,
		     const char *key, const char *text, const char *where,
		     char **cause);
/* Checks what was given in question order, as the form does, and fills
 * each missing answer with its default: a new answers object, or NULL
 * with a cause "WHERE: what question_check says". A key given for a
 * question the menu does not ask (when:) is refused. */
json_t		*menu_answers(const struct menu *, const json_t *given,
		     char **cause);
/* menu_given_file, then menu_answers. */
json_t		*menu_read_answers(const struct menu *, const char *path,
		     char **cause);
/* Checks answers already made (an object, e.g. the form's) with the same
 * rules: each menu key present, in question order; keys the menu does
 * not have are left alone (command-line options such as ssh_anywhere).
 * 0 or -1 with a cause "KEY: message". */
int		 menu_check_answers(const struct menu *, const json_t *answers,
		     char **cause);

#endif
