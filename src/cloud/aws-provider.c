/* The AWS provider: the create steps (identity, public address, network,
 * image, key pair, security group, bastion) and the ops the wizard's
 * resume, cleanup and orphan flows call (provider.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cloud/aws.h"
#include "cloud/ec2.h"
#include "cloud/provider.h"
#include "event.h"
#include "history/history.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

#define AWS_DEFAULT_TYPE "t3.micro"
#define AWS_WAIT_SECONDS 600.0	/* longest wait for an instance state */

/* What the create steps hand to later steps (see struct cloud_run). */
struct aws_state {
	char	*cidr;		/* SSH source, "a.b.c.d/32" */
	char	*vpc;
	char	*subnet;
	char	*ami;
	char	*key_name;
	char	*group_id;
	char	*instance_id;
};

/* On-demand Linux prices in us-east-1, USD per hour: estimates taken from
 * the AWS price list in June 2024; other regions and later dates differ. */
static const struct {
	const char	*type;
	double		 hourly;
} aws_prices[] = {
	{ "t3.micro", 0.0104 }, { "t3.small", 0.0208 },
	{ "t3.medium", 0.0416 }, { "t3.large", 0.0832 },
	{ "t3.xlarge", 0.1664 }, { "c5.large", 0.085 },
	{ "m5.large", 0.096 }, { NULL, 0 }
};
#define AWS_PRICE_NOTE "estimates: us-east-1 on-demand prices of June 2024"
#define AWS_EBS_HOURLY (30 * 0.08 / 730)	/* 30 GB gp3 */
#define AWS_IPV4_HOURLY 0.005			/* public IPv4 address */

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

static const char *
answer_str(json_t *answers, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(answers, key));

	return s != NULL && *s != '\0' ? s : def;
}

static double
aws_price(const char *type)
{
	size_t i;

	for (i = 0; aws_prices[i].type != NULL; i++) {
		if (strcmp(aws_prices[i].type, type) == 0)
			return aws_prices[i].hourly;
	}
	return -1;
}

static void *
aws_provider_open(const char *region, char **cause)
{
	return aws_open(region, cause);
}

static void
aws_provider_close(void *s)
{
	aws_free(s);
}

static const char *
aws_provider_region(void *s)
{
	return ((struct aws *)s)->region;
}

static void *
aws_state_new(void)
{
	return xcalloc(1, sizeof(struct aws_state));
}

static void
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
	free(st);
}

static json_t *
aws_provider_plan(void *s, json_t *answers, char **cause)
{
	struct aws *a = s;
	const char *type = answer_str(answers, "instance_type",
	    AWS_DEFAULT_TYPE);
	char *account, *arn, *ip, *why = NULL;
	double hourly = aws_price(type), total;
	json_t *plan, *res;

	if (aws_sts_identity(a, &account, &arn, cause) != 0)
		return NULL;
	ip = cloud_checkip(&why);
	res = json_array();
	json_array_append_new(res, json_pack("{s:s, s:s, s:s, s:f}", "kind",
	    "key_pair", "name", "ed25519 key pair", "detail",
	    "private key kept 0600 beside the history record", "hourly_usd",
	    0.0));
	json_array_append_new(res, json_pack("{s:s, s:s, s:s, s:f}", "kind",
	    "security_group", "name", "security group", "detail",
	    ip != NULL ? "SSH (tcp 22) from your address only" :
	    "SSH (tcp 22): your address is unknown", "hourly_usd", 0.0));
	total = (hourly > 0 ? hourly : 0) + AWS_EBS_HOURLY + AWS_IPV4_HOURLY;
	json_array_append_new(res, json_pack("{s:s, s:s, s:s++, s:f}", "kind",
	    "instance", "name", "bastion", "detail", type,
	    ", Amazon Linux 2023, 30 GB encrypted gp3, public IPv4",
	    hourly > 0 ? "" : " (price unknown)", "hourly_usd", total));
	plan = json_pack("{s:s++, s:s, s:s, s:s, s:s?, s:s?, s:o, s:f, s:s}",
	    "identity", account, " ", arn, "account", account, "arn", arn,
	    "region", a->region, "ssh_from", ip != NULL ? ip : NULL,
	    "ssh_from_error", why, "resources", res, "hourly_usd", total,
	    "prices", AWS_PRICE_NOTE);
	if (ip != NULL) {
		json_object_set_new(plan, "ssh_from", json_sprintf("%s/32",
		    ip));
	}
	free(account);
	free(arn);
	free(ip);
	free(why);
	return plan;
}

/* Create steps ------------------------------------------------------ */

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

static int
step_image(struct cloud_run *run, char **cause)
{
	struct aws_state *st = state_of(run);

	if ((st->ami = aws_ec2_al2023_ami(aws_of(run), cause)) == NULL)
		return -1;
	event_log(run->sink, "image", "Amazon Linux 2023: %s", st->ami);
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

static struct aws_tags
aws_tags_of(struct cloud_run *run, const char *name)
{
	struct aws_tags t;

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
	if (rc != 0 && aws_code_is("InvalidKeyPair.Duplicate")) {
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
	if (rc == 0) {
		pthread_mutex_lock(&run->lock);
		json_object_set_new(run->rec, "ssh", json_pack("{s:s, s:s, "
		    "s:n, s:n, s:n}", "key_file", path, "user", "ec2-user",
		    "host", "instance_id", "host_key"));
		pthread_mutex_unlock(&run->lock);
		rc = cloud_created(run, res, id, cause);
	}
	free(path);
	free(id);
	return rc;
}

static int
step_security_group(struct cloud_run *run, char **cause)
{
	struct aws_state *st = state_of(run);
	char *name = xprintf("fanout-%s", run->id), *why = NULL;
	struct aws_tags t = aws_tags_of(run, name);
	json_t *res;
	int rc = -1;

	if ((res = cloud_intent(run, "security_group", name, NULL, NULL,
	    cause)) == NULL)
		goto out;
	if (aws_ec2_create_security_group(aws_of(run), name, st->vpc, &t,
	    &st->group_id, &why) != 0) {
		/* A lost answer: the group is there already, find it. */
		if (!aws_code_is("InvalidGroup.Duplicate") ||
		    aws_ec2_find_security_group(aws_of(run), name,
		    &st->group_id, cause) != 1) {
			if (*cause == NULL)
				*cause = why;
			else
				free(why);
			goto out;
		}
		free(why);
	}
	if (cloud_created(run, res, st->group_id, cause) != 0)
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

static char *
aws_user_data(struct cloud_run *run, char **cause)
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
		} else
			strbuf_addc(&sb, *p);
	}
	free(text);
	return strbuf_detach(&sb);
}

/* A retried RunInstances whose first answer was lost makes one instance
 * on AWS (same ClientToken) but two on endpoints that ignore the token:
 * any other instance tagged with this run set is terminated. */
static int
aws_drop_extra_instances(struct cloud_run *run, const char *keep,
    char **cause)
{
	json_t *ids, *v;
	size_t i;
	int rc = 0;

	if ((ids = aws_ec2_find_instances(aws_of(run), run->id, cause)) ==
	    NULL)
		return -1;
	json_array_foreach(ids, i, v) {
		if (strcmp(json_string_value(v), keep) == 0)
			continue;
		event_log(run->sink, "bastion", "terminating %s, a duplicate "
		    "from a retried request", json_string_value(v));
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
	struct aws_state *st = state_of(run);
	struct aws_run_spec spec;
	char *token = xprintf("fanout-%s-bastion", run->id), *ud;
	json_t *res;
	int rc = -1;

	memset(&spec, 0, sizeof spec);
	if ((ud = aws_user_data(run, cause)) == NULL)
		goto out;
	spec.ami = st->ami;
	spec.type = answer_str(run->answers, "instance_type",
	    AWS_DEFAULT_TYPE);
	spec.key_name = st->key_name;
	spec.group_id = st->group_id;
	spec.subnet_id = st->subnet;
	spec.user_data = ud;
	spec.token = token;
	spec.tags = aws_tags_of(run, "fanout-bastion");
	if ((res = cloud_intent(run, "instance", "bastion", token, deps,
	    cause)) == NULL)
		goto out;
	if (cloud_resource_set(run, res, "instance_type",
	    json_string(spec.type), cause) != 0 ||
	    cloud_resource_set(run, res, "hourly_usd", json_real(
	    (aws_price(spec.type) > 0 ? aws_price(spec.type) : 0) +
	    AWS_EBS_HOURLY + AWS_IPV4_HOURLY), cause) != 0)
		goto out;
	if (aws_ec2_run_instance(aws_of(run), &spec, &st->instance_id,
	    cause) != 0)
		goto out;
	rc = cloud_created(run, res, st->instance_id, cause);
	if (rc == 0)
		rc = aws_drop_extra_instances(run, st->instance_id, cause);
out:
	free(ud);
	free(token);
	return rc;
}

/* Waits until instance id is in one of the states in want (a
 * space-separated list; "gone" = terminated or not found). */
static int
aws_wait_instance(struct cloud_run *run, const char *step, const char *id,
    const char *want, struct aws_instance *out, char **cause)
{
	double start = time_mono(), delay = 0.5;
	struct aws_instance in;
	struct timespec ts;
	const char *state;
	char *last = NULL;
	int rc;

	for (;;) {
		if ((rc = aws_ec2_describe_instance(aws_of(run), id, &in,
		    cause)) < 0)
			break;
		state = rc == 0 ? "gone" : in.state;
		if (rc == 1 && strcmp(in.state, "terminated") == 0)
			state = "gone";
		if (last == NULL || strcmp(last, state) != 0) {
			event_log(run->sink, step, "%s is %s", id, state);
			free(last);
			last = xstrdup(state);
		}
		if (strstr(want, state) != NULL) {
			if (out != NULL)
				*out = in;
			else
				aws_instance_free(&in);
			free(last);
			return 0;
		}
		aws_instance_free(&in);
		if (strstr(want, "gone") == NULL && strcmp(state, "gone") ==
		    0) {
			xasprintf(cause, "instance %s is gone", id);
			break;
		}
		if (event_cancelled(run->sink)) {
			xasprintf(cause, "cancelled while waiting for %s", id);
			break;
		}
		if (time_mono() - start > AWS_WAIT_SECONDS) {
			xasprintf(cause, "instance %s is still %s after %.0f "
			    "minutes", id, state, AWS_WAIT_SECONDS / 60);
			break;
		}
		ts.tv_sec = (time_t)delay;
		ts.tv_nsec = (long)((delay - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
		if ((delay *= 2) > 5)
			delay = 5;
	}
	free(last);
	return -1;
}

/* Records where the bastion answers (resource and rec.ssh). */
static int
aws_record_address(struct cloud_run *run, json_t *res,
    const struct aws_instance *in, char **cause)
{
	json_t *ssh;
	int rc;

	pthread_mutex_lock(&run->lock);
	json_object_set_new(res, "public_ip", in->public_ip != NULL ?
	    json_string(in->public_ip) : json_null());
	if ((ssh = json_object_get(run->rec, "ssh")) != NULL) {
		json_object_set_new(ssh, "host", in->public_ip != NULL ?
		    json_string(in->public_ip) : json_null());
		json_object_set_new(ssh, "instance_id", json_string(in->id));
	}
	rc = history_save(run->rec, cause);
	pthread_mutex_unlock(&run->lock);
	return rc;
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
    NULL };
static const char *const after_bastion[] = { "bastion", NULL };

static const struct cloud_step aws_create_steps[] = {
	{ "identity", NULL, step_identity },
	{ "public address", NULL, step_checkip },
	{ "network", NULL, step_network },
	{ "image", NULL, step_image },
	{ "key pair", after_wave1, step_key_pair },
	{ "security group", after_wave1, step_security_group },
	{ "bastion", after_keys, step_bastion },
	{ "bastion running", after_bastion, step_bastion_running },
	{ NULL, NULL, NULL }
};

/* Resume, cleanup and orphans ---------------------------------------- */

static const char *
res_str(json_t *res, const char *key)
{
	return json_string_value(json_object_get(res, key));
}

static int
aws_provider_recover(struct cloud_run *run, json_t *res, char **id,
    char **cause)
{
	const char *kind = res_str(res, "kind"), *name = res_str(res, "name");
	json_t *ids;
	int rc;

	*id = NULL;
	if (strcmp(kind, "key_pair") == 0)
		return aws_ec2_find_key_pair(aws_of(run), name, id, cause);
	if (strcmp(kind, "security_group") == 0)
		return aws_ec2_find_security_group(aws_of(run), name, id,
		    cause);
	if (strcmp(kind, "instance") == 0) {
		/* moto and older regions lack the client-token filter: the
		 * run-set tag finds it as well. */
		if ((ids = aws_ec2_find_instances(aws_of(run), run->id,
		    cause)) == NULL)
			return -1;
		rc = json_array_size(ids) > 0;
		if (rc)
			*id = xstrdup(json_string_value(json_array_get(ids,
			    0)));
		json_decref(ids);
		return rc;
	}
	xasprintf(cause, "unknown resource kind '%s' in the record", kind);
	return -1;
}

static int
aws_provider_exists(struct cloud_run *run, json_t *res, char **cause)
{
	const char *kind = res_str(res, "kind");
	struct aws_instance in;
	char *id = NULL;
	int rc;

	if (strcmp(kind, "instance") == 0) {
		rc = aws_ec2_describe_instance(aws_of(run), res_str(res, "id"),
		    &in, cause);
		if (rc == 1 && (strcmp(in.state, "terminated") == 0 ||
		    strcmp(in.state, "shutting-down") == 0))
			rc = 0;
		aws_instance_free(&in);
		return rc;
	}
	rc = aws_provider_recover(run, res, &id, cause);
	free(id);
	return rc;
}

static int
aws_provider_revive(struct cloud_run *run, json_t *res, char **cause)
{
	const char *id = res_str(res, "id");
	struct aws_instance in;
	int rc;

	if (strcmp(res_str(res, "kind"), "instance") != 0)
		return 0;
	if (aws_wait_instance(run, "bastion", id, "running stopped", &in,
	    cause) != 0)
		return -1;
	if (strcmp(in.state, "stopped") == 0) {
		aws_instance_free(&in);
		event_log(run->sink, "bastion", "starting %s", id);
		if (aws_ec2_start_instance(aws_of(run), id, cause) != 0 ||
		    aws_wait_instance(run, "bastion", id, "running", &in,
		    cause) != 0)
			return -1;
	}
	rc = aws_record_address(run, res, &in, cause);
	aws_instance_free(&in);
	return rc;
}

static int
aws_destroy_instance(struct cloud_run *run, json_t *res, char **cause)
{
	json_t *ids, *v;
	size_t i;
	const char *id = res_str(res, "id");

	/* The recorded one and any other instance of this run set (an
	 * orphan is deleted alone: its run set may be live). */
	if (json_is_true(json_object_get(res, "orphan")) || run->id == NULL)
		ids = json_array();
	else if ((ids = aws_ec2_find_instances(aws_of(run), run->id,
	    cause)) == NULL)
		return -1;
	if (id != NULL) {
		json_array_foreach(ids, i, v) {
			if (strcmp(json_string_value(v), id) == 0)
				break;
		}
		if (i == json_array_size(ids))
			json_array_append_new(ids, json_string(id));
	}
	json_array_foreach(ids, i, v) {
		if (aws_ec2_terminate_instance(aws_of(run),
		    json_string_value(v), cause) != 0)
			goto fail;
	}
	json_array_foreach(ids, i, v) {
		if (aws_wait_instance(run, "cleanup", json_string_value(v),
		    "gone", NULL, cause) != 0)
			goto fail;
	}
	json_decref(ids);
	return 0;
fail:
	json_decref(ids);
	return -1;
}

static int
aws_destroy_group(struct cloud_run *run, const char *id, char **cause)
{
	double start = time_mono();
	char *why = NULL;

	for (;;) {
		if (aws_ec2_delete_security_group(aws_of(run), id, &why) == 0)
			return 0;
		if (!aws_code_is("DependencyViolation") ||
		    time_mono() - start > AWS_WAIT_SECONDS) {
			*cause = why;
			return -1;
		}
		event_log(run->sink, "cleanup", "%s still in use; retrying",
		    id);
		free(why);
		why = NULL;
		sleep(5);
	}
}

static int
aws_provider_destroy(struct cloud_run *run, json_t *res, char **cause)
{
	const char *kind = res_str(res, "kind"), *id = res_str(res, "id");
	char *path;
	int rc = 0;

	if (strcmp(kind, "instance") == 0)
		return aws_destroy_instance(run, res, cause);
	if (strcmp(kind, "security_group") == 0)
		return id == NULL ? 0 : aws_destroy_group(run, id, cause);
	if (strcmp(kind, "key_pair") == 0) {
		if (aws_ec2_delete_key_pair(aws_of(run), res_str(res, "name"),
		    cause) != 0)
			return -1;
		if (json_is_true(json_object_get(res, "orphan")) ||
		    run->id == NULL)
			return 0;
		path = history_file(run->id, ".key");
		if (unlink(path) != 0 && errno != ENOENT) {
			xasprintf(cause, "cannot remove %s: %s", path,
			    strerror(errno));
			rc = -1;
		}
		free(path);
		return rc;
	}
	xasprintf(cause, "unknown resource kind '%s' in the record", kind);
	return -1;
}

static json_t *
aws_provider_tagged(void *s, char **cause)
{
	return aws_ec2_tagged(s, cause);
}

const struct provider provider_aws = {
	.name = "aws",
	.open = aws_provider_open,
	.close = aws_provider_close,
	.region = aws_provider_region,
	.plan = aws_provider_plan,
	.create_steps = aws_create_steps,
	.state_new = aws_state_new,
	.state_free = aws_state_free,
	.recover = aws_provider_recover,
	.exists = aws_provider_exists,
	.revive = aws_provider_revive,
	.destroy = aws_provider_destroy,
	.tagged = aws_provider_tagged,
};
