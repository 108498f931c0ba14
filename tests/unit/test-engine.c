/* The engine table, where a record's hosts are reached (the
 * FANOUT_BASTION_ADDRESS map), and records that list hosts: checked, and
 * an old record's ssh block read as its head. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "history/history.h"
#include "tap.h"
#include "util/fs.h"
#include "util/xmalloc.h"

/* engine_host_address of h with $FANOUT_BASTION_ADDRESS = env (NULL:
 * unset): "user@host:port", "-" for no user, or "error: cause". */
static char *
address(json_t *h, const char *env)
{
	char *user, *addr, *cause = NULL, *s;
	int port;

	if (env != NULL)
		setenv("FANOUT_BASTION_ADDRESS", env, 1);
	else
		unsetenv("FANOUT_BASTION_ADDRESS");
	if (engine_host_address(h, &user, &addr, &port, &cause) != 0) {
		s = xprintf("error: %s", cause);
		free(cause);
		return s;
	}
	s = xprintf("%s@%s:%d", user != NULL ? user : "-",
	    addr != NULL ? addr : "-", port);
	free(user);
	free(addr);
	return s;
}

static void
is_address(json_t *h, const char *env, const char *want, const char *what)
{
	char *s = address(h, env);

	is_string(want, s, "%s", what);
	free(s);
}

/* history_check refuses rec with a cause that names field. */
static void
refused(json_t *rec, const char *field, const char *what)
{
	char *why = NULL;
	int rc = history_check(rec, NULL, &why);

	ok(rc != 0 && why != NULL && strstr(why, field) != NULL, "%s (%s)",
	    what, why != NULL ? why : "accepted");
	free(why);
}

int
main(void)
{
	json_t *head, *node, *rec, *a;
	const struct engine *e;
	char *why = NULL, *path, *id, *s;
	size_t i, n;
	FILE *f;

	plan_lazy();

	/* The table: the cloud engines say what they need. */
	for (n = 0; engine_at(n) != NULL; n++)
		;
	ok(n >= 3, "the table lists local, bastion and slurm (%zu)", n);
	ok(engine_find("slurm") == &engine_slurm, "slurm is found by name");
	ok(engine_find("kubernetes") == NULL, "no engine that does not exist");
	ok(engine_slurm.nodes && !engine_bastion.nodes,
	    "only the cluster asks for nodes");
	for (i = 0; (e = engine_at(i)) != NULL; i++)
		ok(e->label != NULL && e->summary != NULL && (!e->cloud ||
		    e->blocks != 0), "engine %s has words%s", e->name,
		    e->cloud ? " and provider blocks" : "");
	a = json_pack("{}");
	ok(engine_of(a) == &engine_bastion, "no engine answered: bastion");
	json_object_set_new(a, "engine", json_string("local"));
	ok(engine_of(a) == NULL, "a record's engine must run in the cloud");
	json_object_set_new(a, "engine", json_string("slurm"));
	ok(engine_of(a) == &engine_slurm, "engine slurm from the answers");
	json_decref(a);

	/* Addresses. */
	head = json_pack("{s:s, s:s, s:s, s:s, s:s}", "role", "head", "name",
	    "bastion", "instance_id", "i-0aaa", "host", "3.4.5.6", "user",
	    "admin");
	node = json_pack("{s:s, s:s, s:s, s:s, s:s}", "role", "compute",
	    "name", "node2", "instance_id", "i-0bbb", "private_ip",
	    "10.0.1.7", "user", "admin");
	is_address(head, NULL, "-@3.4.5.6:0", "no variable: the record's host");
	is_address(node, NULL, "-@-:0", "a node without a public address has "
	    "none");
	is_address(head, "root@127.0.0.1:2222", "root@127.0.0.1:2222",
	    "one address is the head's");
	is_address(node, "root@127.0.0.1:2222", "-@-:0",
	    "and not a node's");
	is_address(node, "head=a@10.1.0.2:22, node2=b@10.1.1.12:2200",
	    "b@10.1.1.12:2200", "a map names a node by its name");
	is_address(node, "i-0bbb=10.1.1.13,node2=b@10.1.1.12",
	    "-@10.1.1.13:0", "or by its instance id, which wins");
	is_address(head, "head=a@10.1.0.2:22,node2=b@10.1.1.12",
	    "a@10.1.0.2:22", "or by its role");
	is_address(head, "node2=b@10.1.1.12", "-@3.4.5.6:0",
	    "a host the map does not name keeps its address");
	is_address(node, "node2=b@:99999", "error: FANOUT_BASTION_ADDRESS: bad "
	    "address 'b@:99999'; give KEY=[user@]host[:port],...",
	    "a bad address in the map is refused, naming it");
	json_object_set_new(head, "pinned", json_true());
	is_address(head, "root@127.0.0.1:2222", "-@3.4.5.6:0",
	    "a pinned address (run --host) is never overridden");
	unsetenv("FANOUT_BASTION_ADDRESS");

	/* Records with hosts. */
	rec = history_new("cloud", "demo");
	json_object_set_new(rec, "provider", json_string("aws"));
	json_object_set_new(rec, "region", json_string("us-east-1"));
	json_object_set_new(rec, "state", json_string("active"));
	json_object_del(head, "pinned");
	json_object_set_new(rec, "hosts", json_pack("[O, O]", head, node));
	json_decref(node);
	node = json_array_get(json_object_get(rec, "hosts"), 1);
	json_incref(node);
	ok(history_check(rec, NULL, &why) == 0, "a record with a head and a "
	    "node is good%s%s", why != NULL ? ": " : "", why != NULL ? why :
	    "");
	free(why);
	why = NULL;
	ok(engine_host(rec, "compute") == json_array_get(json_object_get(rec,
	    "hosts"), 1), "engine_host finds the first of a role");
	json_object_set_new(node, "role", json_string("worker"));
	json_array_set(json_object_get(rec, "hosts"), 1, node);
	refused(rec, "hosts[1].role", "an unknown role is refused");
	json_object_set_new(node, "role", json_string("compute"));
	json_object_set_new(node, "name", json_string("bastion"));
	refused(rec, "hosts[1].name", "two hosts of one name are refused");
	json_object_set_new(node, "name", json_string("node2"));
	json_object_set_new(node, "port", json_integer(70000));
	refused(rec, "hosts[1].port", "a port that is none is refused");
	json_object_del(node, "user");
	json_object_del(node, "port");
	refused(rec, "hosts[1].user", "a host without a login user is "
	    "refused");

	/* A record from before clusters: its ssh block is its head. */
	setenv("FANOUT_HISTORY_DIR", tap_tmpdir(), 1);
	json_object_del(rec, "hosts");
	json_object_set_new(rec, "ssh", json_pack("{s:s, s:s, s:s, s:s, s:s}",
	    "key_file", "/k/x.key", "user", "ec2-user", "host", "3.4.5.6",
	    "instance_id", "i-0aaa", "host_key", "SHA256:abc"));
	path = history_file(history_str(rec, "id", ""), ".json");
	f = fopen(path, "w");
	json_dumpf(rec, f, 0);
	fclose(f);
	id = xstrdup(history_str(rec, "id", ""));
	json_decref(rec);
	rec = history_load(id, &why);
	free(id);
	ok(rec != NULL, "an old record loads%s%s", why != NULL ? ": " : "",
	    why != NULL ? why : "");
	free(why);
	json_decref(head);
	head = engine_host(rec, "head");
	ok(head != NULL && json_object_get(rec, "ssh") == NULL,
	    "its ssh block became a head host");
	s = head == NULL ? xstrdup("") : xprintf("%s %s %s %s %s %s",
	    history_str(head, "name", ""), history_str(head, "user", ""),
	    history_str(head, "host", ""), history_str(head, "instance_id",
	    ""), history_str(head, "host_key", ""), history_str(head,
	    "key_file", ""));
	is_string("bastion ec2-user 3.4.5.6 i-0aaa SHA256:abc /k/x.key", s,
	    "with everything the block held");
	free(s);
	json_decref(rec);
	free(path);
	json_decref(node);
	return done_testing();
}
