/* File-system helpers. Functions that can fail return -1 (or NULL) and set
 * *cause to a newly allocated message naming the path and the reason. */
#ifndef FANOUT_FS_H
#define FANOUT_FS_H

#include <stdbool.h>
#include <stddef.h>

/* mkdir -p with the given mode for the directories it makes. */
int	 fs_mkdir_p(const char *path, int mode, char **cause);
/* Writes data to path atomically: temp file beside it, fsync, rename,
 * fsync of the directory. mode is the new file's mode (e.g. 0600). */
int	 fs_write_atomic(const char *path, const void *data, size_t len,
	     int mode, char **cause);
/* Reads a whole file into a NUL-terminated buffer. */
char	*fs_read_file(const char *path, size_t *lenp, char **cause);
/* rm -rf; a missing path is not an error. */
int	 fs_remove_tree(const char *path, char **cause);
bool	 fs_is_dir(const char *path);
bool	 fs_is_file(const char *path);
bool	 fs_is_executable(const char *path);
/* a "/" b, without doubling the slash. */
char	*fs_join(const char *a, const char *b);
/* Absolute, normalised path of an existing path (realpath). */
char	*fs_realpath(const char *path, char **cause);
/* Finds a data file (menus/x.yaml, templates/y): $FANOUT_DATA_DIR, then
 * the source tree this binary was built from, then the installed data
 * dir. Returns NULL when none has it. */
char	*fs_data_path(const char *relative);

/* Wall-clock seconds since the epoch, with sub-second precision. */
double	 time_now(void);
/* Monotonic seconds, for durations and timeouts. */
double	 time_mono(void);
/* "1h02m", "3m05s", "4.2s" */
void	 time_format_duration(double seconds, char *buf, size_t len);

#endif
