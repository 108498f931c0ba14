/* The run set's head over SSH for the commands that read it (ssh, logs):
 * its address (FANOUT_BASTION_ADDRESS as engine_host_address says), its
 * key file and its pinned host key. */
#ifndef FANOUT_CMD_SSH_H
#define FANOUT_CMD_SSH_H

#include <jansson.h>

struct ssh_session;

/* A libssh2 session to rec's head, its host key checked against the
 * host's recorded "host_key", else (a first run still going: the key is
 * recorded when it ends) the run set's own known_hosts file, which must
 * know it. *opts holds what the session points at: cmd_ssh_head_free
 * it after ssh_close (also when NULL was returned). NULL with a cause. */
struct ssh_session *cmd_ssh_head(json_t *rec, const char *id, void **opts,
		    char **cause);
void		    cmd_ssh_head_free(void *opts);

#endif
