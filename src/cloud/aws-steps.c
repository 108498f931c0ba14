/* The AWS create steps: identity, public address, network and image at
 * once; then key pair and security group at once (the base block); then
 * the bastion, and the wait until it runs (the head block). The blocks'
 * step tables are at the end. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cloud/aws.h"
#include "cloud/aws-internal.h"
#include "cloud/ec2.h"
#include "cloud/provider.h"
#include "engine/engine.h"
#include "event.h"
#include "history/history.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

static struct aws *
aws_of(struct cloud_run *run)
{
	return run->session;
}

static struct aws_state *
state_of(struct cloud_run *run)
{
	return run->state;
}

const char *
aws_answer_str(json_t *answers, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(answers, key));

	return s != NULL && *s != '\0' ? s : def;
}

void *
aws_state_new(void)
{
	return xcalloc(1, sizeof(struct aws_state));
}

void
aws_state_free(void *p)
{
	struct aws_state *st = p;

	if (st == NULL)
		return;
	free(st->cidr);
	free(st->vpc);
	free(st->subnet);
	free(st->ami);
	free(st->key_name);
	free(st->group_id);
	free(st->instance_id);
	free(st->compute_group_id);
	free(st->template_id);
	json_decref(st->node_ids);
	free(st->profile);
	free(st);
}

static int
step_identity(struct cloud_run *run, char **cause)
{
	char *account, *arn;

	if (aws_sts_identity(aws_of(run), &account, &arn, cause) != 0)
		return -1;
	event_log(run->sink, "identity", "account %s, %s", account, arn);
	cloud_record_put(run, "identity", json_pack("{s:s, s:s}", "account",
	    account, "arn", arn));
	free(account);
	free(arn);
	return 0;
}

static int
step_checkip(struct cloud_run *run, char **cause)
{
	struct aws_state *st = state_of(run);
	char *ip, *why = NULL;

	if ((ip = cloud_checkip(&why)) == NULL) {
		if (!json_is_true(json_object_get(run->answers,
		    "ssh_anywhere"))) {
			xasprintf(cause, "%s; nothing was created. Retry, set "
			    "FANOUT_CHECKIP_URL, or allow SSH from anywhere "
			    "(--ssh-anywhere)", why);
			free(why);
			return -1;
		}
		event_log(run->sink, "public address", "%s; SSH will be open "
		    "to 0.0.0.0/0 as asked", why);
		free(why);
		st->cidr = xstrdup("0.0.0.0/0");
	} else {
		st->cidr = xprintf("%s/32", ip);
		free(ip);
	}
	cloud_record_put(run, "ssh_cidr", json_string(st->cidr));
	return 0;
}

static int
step_network(struct cloud_run *run, char **cause)
{
	struct aws_state *st = state_of(run);
	json_t *subnets;

	if (aws_ec2_default_vpc(aws_of(run), &st->vpc, &subnets, cause) != 0)
		return -1;
	st->subnet = xstrdup(json_string_value(json_array_get(subnets, 0)));
	cloud_record_put(run, "network", json_pack("{s:s, s:s, s:o}", "vpc",
	    st->vpc, "subnet", st->subnet, "subnets", subnets));
	return 0;
}

/* The systems fanout's VMs run: the first is the default. Debian
 * publishes its images under its own account and SSM parameters. */
static const struct aws_os aws_systems[] = {
	{ NULL, "Amazon Linux 2023", "ec2-user",
	    "/aws/service/ami-amazon-linux-latest/"
	    "al2023-ami-kernel-default-x86_64", "amazon",
	    "al2023-ami-2023*-x86_64" },
	{ "debian-12", "Debian 12", "admin",
	    "/aws/service/debian/release/12/latest/amd64", "136693071363",
	    "debian-12-amd64-*" },
};

const struct aws_os *
aws_os_find(const struct engine *e, char **cause)
{
	size_t i;

	if (e == NULL || e->os == NULL)
		return &aws_systems[0];
	for (i = 0; i < sizeof aws_systems / sizeof aws_systems[0]; i++) {
		if (aws_systems[i].os != NULL &&
		    strcmp(aws_systems[i].os, e->os) == 0)
			return &aws_systems[i];
	}
	xasprintf(cause, "engine %s runs on '%s', which the AWS provider has "
	    "no image for; choose another engine", e->name, e->os);
	return NULL;
}

static int
step_image(struct cloud_run *run, char **cause)
{
	struct aws_state *st = state_of(run);
	const struct aws_os *os;

	if ((os = aws_os_find(run->engine, cause)) == NULL)
		return -1;
	if ((st->ami = aws_ec2_image(aws_of(run), os->parameter, os->owner,
	    os->pattern, os->label, cause)) == NULL)
		return -1;
	st->os = os;
	event_log(run->sink, "image", "%s: %s", os->label, st->ami);
	cloud_record_put(run, "image", json_string(st->ami));
	return 0;
}

/* Writes the private key to path, 0600, refusing to overwrite. */
static int
aws_write_key(const char *path, const char *material, char **cause)
{
	size_t len = strlen(material), off = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		xasprintf(cause, "cannot create key file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	while (off < len) {
		if ((n = write(fd, material + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			xasprintf(cause, "cannot write %s: %s", path,
			    strerror(errno));
			close(fd);
			unlink(path);
			return -1;
		}
		off += (size_t)n;
	}
	if (material[len - 1] != '\n' && write(fd, "\n", 1) != 1) {
		xasprintf(cause, "cannot write %s", path);
		close(fd);
		unlink(path);
		return -1;
	}
	fsync(fd);
	close(fd);
	return 0;
}

struct aws_tags
aws_tags_of(struct cloud_run *run, const char *name)
{
	struct aws_tags t;

	memset(&t, 0, sizeof t);
	t.run_set = run->id;
	t.project = run->project;
	t.name = name;
	return t;
}

static int
step_key_pair(struct cloud_run *run, char **cause)
{
	struct aws_state *st = state_of(run);
	struct aws_tags t;
	char *id = NULL, *key = NULL, *path, *why = NULL;
	json_t *res;
	int rc;

	st->key_name = xprintf("fanout-%s", run->id);
	t = aws_tags_of(run, st->key_name);
	if ((res = cloud_intent(run, "key_pair", st->key_name, NULL, NULL,
	    cause)) == NULL)
		return -1;
	rc = aws_ec2_create_key_pair(aws_of(run), st->key_name, &t, &id, &key,
	    &why);
	if (rc == CLOUD_EDUPLICATE) {
		/* Ours (the name holds the run-set id) from an attempt whose
		 * answer was lost: its private key is gone, so replace it. */
		free(why);
		why = NULL;
		if (aws_ec2_delete_key_pair(aws_of(run), st->key_name,
		    cause) != 0)
			return -1;
		rc = aws_ec2_create_key_pair(aws_of(run), st->key_name, &t,
		    &id, &key, &why);
	}
	if (rc != 0) {
		*cause = why;
		return -1;
	}
	path = history_file(run->id, ".key");
	rc = aws_write_key(path, key, cause);
	explicit_bzero(key, strlen(key));
	free(key);
	if (rc == 0)
		rc = cloud_created(run, res, id, cause);
	free(path);
	free(id);
	return rc;
}

int
aws_group_make(struct cloud_run *run, const char *name,
    const struct aws_tags *t, char **id, char **cause)
{
	struct aws_state *st = state_of(run);
	char *why = NULL;
	int rc;

	if ((rc = aws_ec2_create_security_group(aws_of(run), name, st->vpc,
	    t, id, &why)) == 0)
		return 0;
	/* A lost answer: the group is there already (the name holds the
	 * run-set id), find it. */
	if (rc != CLOUD_EDUPLICATE || aws_ec2_find_security_group(aws_of(run),
	    name, id, cause) != 1) {
		if (*cause == NULL)
			*cause = why;
		else
			free(why);
		return -1;
	}
	free(why);
	return 0;
}

static int
step_security_group(struct cloud_run *run, char **cause)
{
	struct aws_state *st = state_of(run);
	char *name = xprintf("fanout-%s", run->id);
	struct aws_tags t = aws_tags_of(run, name);
	json_t *res;
	int rc = -1;

	if ((res = cloud_intent(run, "security_group", name, NULL, NULL,
	    cause)) == NULL)
		goto out;
	if (aws_group_make(run, name, &t, &st->group_id, cause) != 0 ||
	    cloud_created(run, res, st->group_id, cause) != 0)
		goto out;
	if (aws_ec2_authorize_ssh(aws_of(run), st->group_id, st->cidr,
	    cause) != 0)
		goto out;
	event_log(run->sink, "security group", "%s: SSH from %s only",
	    st->group_id, st->cidr);
	rc = cloud_resource_set(run, res, "ingress", json_pack("[{s:s, s:i, "
	    "s:s}]", "protocol", "tcp", "port", 22, "cidr", st->cidr), cause);
out:
	free(name);
	return rc;
}

/* The bastion's user-data: templates/user-data.sh filled in for the run
 * set and the login user of its image. */
static char *
aws_user_data(struct cloud_run *run, const char *user, char **cause)
{
	char *path = fs_data_path("templates/user-data.sh"), *text, *p;
	const char *project = run->project;
	struct strbuf sb;

	if (path == NULL || (text = fs_read_file(path, NULL, cause)) == NULL) {
		if (path == NULL)
			xasprintf(cause, "templates/user-data.sh not found; "
			    "reinstall fanout or set FANOUT_DATA_DIR");
		free(path);
		return NULL;
	}
	free(path);
	strbuf_init(&sb);
	for (p = text; *p != '\0'; p++) {
		if (strncmp(p, "@RUN_SET@", 9) == 0) {
			strbuf_adds(&sb, run->id);
			p += 8;
		} else if (strncmp(p, "@PROJECT@", 9) == 0) {
			strbuf_adds(&sb, project != NULL ? project : "");
			p += 8;
		} else if (strncmp(p, "@USER@", 6) == 0) {
			strbuf_adds(&sb, user);
			p += 5;
		} else
			strbuf_addc(&sb, *p);
	}
	free(text);
	return strbuf_detach(&sb);
}

int
aws_drop_duplicates(struct cloud_run *run, const char *step,
    const char *token, json_t *keep, char **cause)
{
	json_t *ids, *v, *k;
	size_t i, j;
	int rc = 0;

	if (aws_ec2_instances_tagged(aws_of(run), AWS_TOKEN_TAG, token,
	    "fanout:run-set", run->id, &ids, cause) != 0)
		return -1;
	json_array_foreach(ids, i, v) {
		json_array_foreach(keep, j, k) {
			if (strcmp(json_string_value(k),
			    json_string_value(v)) == 0)
				break;
		}
		if (j < json_array_size(keep))
			continue;
		event_log(run->sink, step, "terminating %s, a duplicate from a "
		    "retried request", json_string_value(v));
		if ((rc = aws_ec2_terminate_instance(aws_of(run),
		    json_string_value(v), cause)) != 0)
			break;
	}
	json_decref(ids);
	return rc;
}

static int
step_bastion(struct cloud_run *run, char **cause)
{
	static const char *const deps[] = { "key_pair", "security_group",
	    NULL };
	static const char *const deps_role[] = { "key_pair",
	    "security_group", "instance_profile", NULL };
	struct aws_state *st = state_of(run);
	struct aws_run_spec spec;
	struct cloud_poll w;
	char *token = xprintf("fanout-%s-bastion", run->id), *ud, *why;
	json_t *res, *keep;
	double price;
	int rc = -1;

	memset(&spec, 0, sizeof spec);
	if ((ud = aws_user_data(run, st->os->user, cause)) == NULL)
		goto out;
	spec.ami = st->ami;
	/* A cluster's head runs no task: instance_type is the nodes'. */
	if (run->engine != NULL && run->engine->nodes)
		spec.type = aws_answer_str(run->answers, "head_instance_type",
		    AWS_HEAD_TYPE);
	else
		spec.type = aws_answer_str(run->answers, "instance_type",
		    AWS_DEFAULT_TYPE);
	spec.spot = aws_spot_of(run->answers, 1);
	price = spec.spot != NULL ? aws_type_hourly(run->answers, spec.type) :
	    aws_price(spec.type);
	spec.key_name = st->key_name;
	spec.group_id = st->group_id;
	spec.subnet_id = st->subnet;
	spec.user_data = ud;
	spec.token = token;
	spec.tags = aws_tags_of(run, "fanout-bastion");
	spec.tags.role = "head";
	spec.tags.token = token;
	spec.profile = st->profile;
	if ((res = cloud_intent(run, "instance", "bastion", token,
	    st->profile != NULL ? deps_role : deps, cause)) == NULL)
		goto out;
	if (cloud_resource_set(run, res, "instance_type",
	    json_string(spec.type), cause) != 0 ||
	    cloud_resource_set(run, res, "role", json_string("head"),
	    cause) != 0 ||
	    cloud_resource_set(run, res, "login_user",
	    json_string(st->os->user), cause) != 0 ||
	    cloud_resource_set(run, res, "hourly_usd", json_real(
	    (price > 0 ? price : 0) + AWS_EBS_HOURLY + AWS_IPV4_HOURLY),
	    cause) != 0 ||
	    cloud_resource_set(run, res, "stopped_hourly_usd",
	    json_real(AWS_STOPPED_HOURLY), cause) != 0)
		goto out;
	if (spec.spot != NULL && cloud_resource_set(run, res, "spot",
	    json_string(spec.spot->persistent ? "persistent" : "one-time"),
	    cause) != 0)
		goto out;
	/* A new instance profile may be refused for a while (IAM is
	 * eventually consistent): the same call (same token) again. */
	cloud_poll_init(&w);
	while (aws_ec2_run_instance(aws_of(run), &spec, &st->instance_id,
	    cause) != 0) {
		if (spec.profile == NULL || strstr(*cause,
		    "nstanceProfile") == NULL || cloud_poll_next(run, &w,
		    &why) != 0)
			goto out;
		event_log(run->sink, "bastion", "%s; trying again", *cause);
		free(*cause);
		*cause = NULL;
	}
	rc = cloud_created(run, res, st->instance_id, cause);
	if (rc == 0) {
		keep = json_pack("[s]", st->instance_id);
		rc = aws_drop_duplicates(run, "bastion", token, keep, cause);
		json_decref(keep);
	}
out:
	free(ud);
	free(token);
	return rc;
}

/* Non-zero when word is one of the space-separated words of list. */
static int
aws_word_in(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = list; (p = strstr(p, word)) != NULL; p += n) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' ||
		    p[n] == '\0'))
			return 1;
	}
	return 0;
}

int
aws_wait_instance(struct cloud_run *run, const char *step, const char *id,
    const char *want, struct aws_instance *out, char **cause)
{
	struct aws_instance in;
	struct cloud_poll w;
	const char *state;
	char *last = NULL, *failed = NULL, *why, *wanted, *p;
	int rc;

	wanted = xstrdup(want);
	for (p = wanted; (p = strchr(p, ' ')) != NULL; p++)
		*p = '/';
	cloud_poll_init(&w);
	for (;;) {
		why = NULL;
		rc = aws_ec2_describe_instance(aws_of(run), id, &in, &why);
		if (rc == CLOUD_ETRANSIENT) {
			/* Only this check failed, not the wait. */
			event_log(run->sink, step, "status check of %s failed "
			    "(%s); still waiting", id, why);
			free(failed);
			failed = why;
		} else if (rc < 0) {
			*cause = why;
			break;
		} else {
			free(failed);
			failed = NULL;
			if (rc == 1 && in.state == NULL)
				state = "unknown";
			else if (rc == 1 && strcmp(in.state, "terminated") !=
			    0)
				state = in.state;
			else if (rc == 1 || aws_word_in(want, "gone"))
				state = "gone";
			else	/* Not visible yet (EC2 is eventually
				 * consistent right after RunInstances). */
				state = "not found yet";
			if (last == NULL || strcmp(last, state) != 0) {
				event_log(run->sink, step, "%s is %s", id,
				    state);
				free(last);
				last = xstrdup(state);
			}
			if (aws_word_in(want, state)) {
				if (out != NULL)
					*out = in;
				else
					aws_instance_free(&in);
				rc = 0;
				break;
			}
			aws_instance_free(&in);
			if (strcmp(state, "gone") == 0) {
				xasprintf(cause, "instance %s is gone "
				    "(terminated)", id);
				rc = -1;
				break;
			}
		}
		if (cloud_poll_next(run, &w, &why) != 0) {
			if (strcmp(why, "cancelled") == 0)
				xasprintf(cause, "cancelled while waiting for "
				    "%s", id);
			else if (last == NULL)
				xasprintf(cause, "instance %s: no status check "
				    "answered in %s (waiting for %s); the last "
				    "failed: %s", id, why, wanted, failed);
			else
				xasprintf(cause, "instance %s is still %s after "
				    "%s (waiting for %s)%s%s", id, last, why,
				    wanted, failed != NULL ? "; its last status "
				    "check failed: " : "", failed != NULL ?
				    failed : "");
			free(why);
			rc = -1;
			break;
		}
	}
	free(failed);
	free(last);
	free(wanted);
	return rc == 0 ? 0 : -1;
}

int
aws_record_address(struct cloud_run *run, json_t *res,
    const struct aws_instance *in, char **cause)
{
	const char *role, *name;

	const char *user;

	pthread_mutex_lock(&run->lock);
	json_object_set_new(res, "public_ip", in->public_ip != NULL ?
	    json_string(in->public_ip) : json_null());
	name = history_str(res, "name", "bastion");
	role = history_str(res, "role", strcmp(name, "bastion") == 0 ?
	    "head" : "compute");
	user = history_str(res, "login_user", AWS_LOGIN_USER);
	pthread_mutex_unlock(&run->lock);
	return cloud_host_put(run, role, name, in->id, in->public_ip,
	    in->private_ip, user, cause);
}

static int
step_bastion_running(struct cloud_run *run, char **cause)
{
	struct aws_state *st = state_of(run);
	struct aws_instance in;
	json_t *res;
	int rc;

	if (aws_wait_instance(run, "bastion running", st->instance_id,
	    "running", &in, cause) != 0)
		return -1;
	pthread_mutex_lock(&run->lock);
	res = history_resource(run->rec, "instance", "bastion");
	pthread_mutex_unlock(&run->lock);
	rc = aws_record_address(run, res, &in, cause);
	if (rc == 0)
		event_log(run->sink, "bastion running", "%s at %s", in.id,
		    in.public_ip != NULL ? in.public_ip : "(no public IP)");
	aws_instance_free(&in);
	return rc;
}

static const char *const after_wave1[] = { "identity", "public address",
    "network", "image", NULL };
static const char *const after_keys[] = { "key pair", "security group",
    "instance profile", NULL };
static const char *const after_bastion[] = { "bastion", NULL };

/* CLOUD_BLOCK_BASE: who and where, then the key pair and the head's
 * group at once. */
const struct cloud_step aws_base_steps[] = {
	{ "identity", NULL, step_identity },
	{ "public address", NULL, step_checkip },
	{ "network", NULL, step_network },
	{ "image", NULL, step_image },
	{ "key pair", after_wave1, step_key_pair },
	{ "security group", after_wave1, step_security_group },
	{ NULL, NULL, NULL }
};

/* CLOUD_BLOCK_HEAD: the bastion, and the wait until it runs. */
const struct cloud_step aws_head_steps[] = {
	{ "bastion", after_keys, step_bastion },
	{ "bastion running", after_bastion, step_bastion_running },
	{ NULL, NULL, NULL }
};
