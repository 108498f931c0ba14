/* STS, SSM and EC2 calls (ec2.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <openssl/evp.h>

#include "cloud/aws.h"
#include "cloud/ec2.h"
#include "cloud/provider.h"
#include "cloud/xml.h"
#include "util/xmalloc.h"

#define EC2_VERSION "2016-11-15"

/* Runs the query (freeing p) and takes two text fields of its answer;
 * both must be there, else CLOUD_ERR with missing as the cause. */
static int
aws_query_two(struct aws *a, const char *service, struct aws_params *p,
    const char *k1, char **v1, const char *k2, char **v2,
    const char *missing, char **cause)
{
	xmlDocPtr doc;
	int rc;

	*v1 = *v2 = NULL;
	rc = aws_query(a, service, p, &doc, cause);
	aws_params_free(p);
	if (rc != 0)
		return rc;
	*v1 = xml_text(xmlDocGetRootElement(doc), k1);
	*v2 = xml_text(xmlDocGetRootElement(doc), k2);
	xmlFreeDoc(doc);
	if (*v1 == NULL || *v2 == NULL) {
		free(*v1);
		free(*v2);
		*v1 = *v2 = NULL;
		xasprintf(cause, "%s", missing);
		return CLOUD_ERR;
	}
	return 0;
}

int
aws_sts_identity(struct aws *a, char **account, char **arn, char **cause)
{
	struct aws_params p;

	aws_params_init(&p, "GetCallerIdentity", "2011-06-15");
	return aws_query_two(a, "sts", &p, "Account", account, "Arn", arn,
	    "GetCallerIdentity: no account in the answer", cause);
}

char *
aws_ssm_parameter(struct aws *a, const char *name, char **cause)
{
	json_t *body = json_pack("{s:s}", "Name", name), *out;
	const char *v;
	char *s = NULL;

	aws_json(a, "ssm", "AmazonSSM.GetParameter", body, &out, cause);
	json_decref(body);
	if (out == NULL)
		return NULL;
	v = json_string_value(json_object_get(json_object_get(out,
	    "Parameter"), "Value"));
	if (v == NULL)
		xasprintf(cause, "GetParameter: %s has no value", name);
	else
		s = xstrdup(v);
	json_decref(out);
	return s;
}

char *
aws_ec2_image(struct aws *a, const char *parameter, const char *owner,
    const char *pattern, const char *label, char **cause)
{
	struct aws_params p;
	xmlNodePtr it;
	xmlDocPtr doc;
	char *ami, *why = NULL, *best = NULL, *best_date = NULL, *id, *date;

	if ((ami = aws_ssm_parameter(a, parameter, &why)) != NULL)
		return ami;
	aws_params_init(&p, "DescribeImages", EC2_VERSION);
	aws_param(&p, "Owner.1", "%s", owner);
	aws_param(&p, "Filter.1.Name", "name");
	aws_param(&p, "Filter.1.Value.1", "%s", pattern);
	aws_param(&p, "Filter.2.Name", "state");
	aws_param(&p, "Filter.2.Value.1", "available");
	aws_param(&p, "Filter.3.Name", "architecture");
	aws_param(&p, "Filter.3.Value.1", "x86_64");
	aws_query(a, "ec2", &p, &doc, cause);
	aws_params_free(&p);
	if (doc == NULL) {
		free(why);
		return NULL;
	}
	it = xml_child(xml_child(xmlDocGetRootElement(doc), "imagesSet"),
	    "item");
	for (; it != NULL; it = xml_next(it, "item")) {
		id = xml_text(it, "imageId");
		date = xml_text(it, "creationDate");
		if (id != NULL && date != NULL && (best_date == NULL ||
		    strcmp(date, best_date) > 0)) {
			free(best);
			free(best_date);
			best = id;
			best_date = date;
		} else {
			free(id);
			free(date);
		}
	}
	xmlFreeDoc(doc);
	free(best_date);
	if (best == NULL)
		xasprintf(cause, "no %s image found (%s; DescribeImages found "
		    "none of owner %s named %s)", label, why, owner, pattern);
	free(why);
	return best;
}

void
aws_ec2_param_tags(struct aws_params *p, int n, const char *resource_type,
    const struct aws_tags *t)
{
	const char *kv[] = { "fanout:role", t->role, "fanout:client-token",
	    t->token };
	char key[64];
	int i, k = 5;

	aws_param_tags(p, n, resource_type, t->run_set, t->project, t->name);
	for (i = 0; i < 2; i++) {
		if (kv[2 * i + 1] == NULL)
			continue;
		snprintf(key, sizeof key, "TagSpecification.%d.Tag.%d.Key", n,
		    k);
		aws_param(p, key, "%s", kv[2 * i]);
		snprintf(key, sizeof key, "TagSpecification.%d.Tag.%d.Value",
		    n, k++);
		aws_param(p, key, "%s", kv[2 * i + 1]);
	}
}

int
aws_ec2_default_vpc(struct aws *a, char **vpc, json_t **subnets,
    char **cause)
{
	struct aws_params p;
	xmlNodePtr it;
	xmlDocPtr doc;
	json_t *pairs;
	char *id, *az;
	size_t i;
	int rc;

	*vpc = NULL;
	*subnets = NULL;
	aws_params_init(&p, "DescribeVpcs", EC2_VERSION);
	aws_param(&p, "Filter.1.Name", "isDefault");
	aws_param(&p, "Filter.1.Value.1", "true");
	if ((rc = aws_query(a, "ec2", &p, &doc, cause)) != 0) {
		aws_params_free(&p);
		return rc;
	}
	aws_params_free(&p);
	*vpc = xml_text(xmlDocGetRootElement(doc), "vpcSet/item/vpcId");
	xmlFreeDoc(doc);
	if (*vpc == NULL) {
		xasprintf(cause, "region %s has no default VPC; create one "
		    "with 'aws ec2 create-default-vpc'", a->region);
		return CLOUD_ERR;
	}
	aws_params_init(&p, "DescribeSubnets", EC2_VERSION);
	aws_param(&p, "Filter.1.Name", "vpc-id");
	aws_param(&p, "Filter.1.Value.1", "%s", *vpc);
	aws_param(&p, "Filter.2.Name", "default-for-az");
	aws_param(&p, "Filter.2.Value.1", "true");
	rc = aws_query(a, "ec2", &p, &doc, cause);
	aws_params_free(&p);
	if (rc != 0)
		goto fail;
	pairs = json_array();
	it = xml_child(xml_child(xmlDocGetRootElement(doc), "subnetSet"),
	    "item");
	for (; it != NULL; it = xml_next(it, "item")) {
		id = xml_text(it, "subnetId");
		az = xml_text(it, "availabilityZone");
		if (id != NULL)
			json_array_append_new(pairs, json_pack("[s,s]",
			    az != NULL ? az : "", id));
		free(id);
		free(az);
	}
	xmlFreeDoc(doc);
	if (json_array_size(pairs) == 0) {
		json_decref(pairs);
		xasprintf(cause, "default VPC %s has no default subnets", *vpc);
		rc = CLOUD_ERR;
		goto fail;
	}
	/* Sort by availability zone (insertion sort; a handful). */
	for (i = 1; i < json_array_size(pairs); i++) {
		size_t j = i;

		while (j > 0 && strcmp(json_string_value(json_array_get(
		    json_array_get(pairs, j - 1), 0)), json_string_value(
		    json_array_get(json_array_get(pairs, j), 0))) > 0) {
			json_t *t = json_incref(json_array_get(pairs, j));

			json_array_set(pairs, j, json_array_get(pairs, j - 1));
			json_array_set_new(pairs, j - 1, t);
			j--;
		}
	}
	*subnets = json_array();
	for (i = 0; i < json_array_size(pairs); i++)
		json_array_append(*subnets, json_array_get(json_array_get(
		    pairs, i), 1));
	json_decref(pairs);
	return 0;
fail:
	free(*vpc);
	*vpc = NULL;
	return rc;
}

int
aws_ec2_create_key_pair(struct aws *a, const char *name,
    const struct aws_tags *t, char **id, char **material, char **cause)
{
	struct aws_params p;

	aws_params_init(&p, "CreateKeyPair", EC2_VERSION);
	aws_param(&p, "KeyName", "%s", name);
	aws_param(&p, "KeyType", "ed25519");
	aws_param(&p, "KeyFormat", "pem");
	aws_param_tags(&p, 1, "key-pair", t->run_set, t->project, t->name);
	return aws_query_two(a, "ec2", &p, "keyPairId", id, "keyMaterial",
	    material, "CreateKeyPair: no key in the answer", cause);
}

int
aws_ec2_query(struct aws *a, struct aws_params *p, int gone_ok, xmlDocPtr *doc,
    char **cause)
{
	return aws_query_gone(a, "ec2", p, gone_ok, doc, cause);
}

int
aws_ec2_find_key_pair(struct aws *a, const char *name, char **id,
    char **cause)
{
	struct aws_params p;
	xmlDocPtr doc;
	int rc;

	*id = NULL;
	aws_params_init(&p, "DescribeKeyPairs", EC2_VERSION);
	aws_param(&p, "KeyName.1", "%s", name);
	if ((rc = aws_ec2_query(a, &p, 1, &doc, cause)) != 0)
		return rc;
	if (doc == NULL)
		return 0;
	*id = xml_text(xmlDocGetRootElement(doc), "keySet/item/keyPairId");
	xmlFreeDoc(doc);
	return *id != NULL;
}

/* Runs a call whose answer does not matter; NotFound counts as done when
 * gone_ok. */
static int
ec2_simple(struct aws *a, struct aws_params *p, int gone_ok, char **cause)
{
	xmlDocPtr doc;
	int rc;

	if ((rc = aws_ec2_query(a, p, gone_ok, &doc, cause)) != 0)
		return rc;
	if (doc != NULL)
		xmlFreeDoc(doc);
	return 0;
}

int
aws_ec2_delete_key_pair(struct aws *a, const char *name, char **cause)
{
	struct aws_params p;

	aws_params_init(&p, "DeleteKeyPair", EC2_VERSION);
	aws_param(&p, "KeyName", "%s", name);
	return ec2_simple(a, &p, 1, cause);
}

int
aws_ec2_create_security_group(struct aws *a, const char *name,
    const char *vpc, const struct aws_tags *t, char **id, char **cause)
{
	struct aws_params p;
	xmlDocPtr doc;
	int rc;

	aws_params_init(&p, "CreateSecurityGroup", EC2_VERSION);
	aws_param(&p, "GroupName", "%s", name);
	aws_param(&p, "GroupDescription", "fanout run set %s: SSH from the "
	    "creator's address only", t->run_set);
	aws_param(&p, "VpcId", "%s", vpc);
	aws_param_tags(&p, 1, "security-group", t->run_set, t->project,
	    t->name);
	rc = aws_query(a, "ec2", &p, &doc, cause);
	aws_params_free(&p);
	if (rc != 0)
		return rc;
	*id = xml_text(xmlDocGetRootElement(doc), "groupId");
	xmlFreeDoc(doc);
	if (*id == NULL) {
		xasprintf(cause, "CreateSecurityGroup: no id in the answer");
		return CLOUD_ERR;
	}
	return 0;
}

int
aws_ec2_find_security_group(struct aws *a, const char *name, char **id,
    char **cause)
{
	struct aws_params p;
	xmlDocPtr doc;
	int rc;

	*id = NULL;
	aws_params_init(&p, "DescribeSecurityGroups", EC2_VERSION);
	aws_param(&p, "Filter.1.Name", "group-name");
	aws_param(&p, "Filter.1.Value.1", "%s", name);
	rc = aws_query(a, "ec2", &p, &doc, cause);
	aws_params_free(&p);
	if (rc != 0)
		return rc;
	*id = xml_text(xmlDocGetRootElement(doc),
	    "securityGroupInfo/item/groupId");
	xmlFreeDoc(doc);
	return *id != NULL;
}

int
aws_ec2_authorize_ssh(struct aws *a, const char *group_id, const char *cidr,
    char **cause)
{
	struct aws_params p;
	char *why = NULL;
	int rc;

	aws_params_init(&p, "AuthorizeSecurityGroupIngress", EC2_VERSION);
	aws_param(&p, "GroupId", "%s", group_id);
	aws_param(&p, "IpPermissions.1.IpProtocol", "tcp");
	aws_param(&p, "IpPermissions.1.FromPort", "22");
	aws_param(&p, "IpPermissions.1.ToPort", "22");
	aws_param(&p, "IpPermissions.1.IpRanges.1.CidrIp", "%s", cidr);
	aws_param(&p, "IpPermissions.1.IpRanges.1.Description",
	    "fanout: SSH from the creator");
	if ((rc = ec2_simple(a, &p, 0, &why)) == 0)
		return 0;
	if (rc == CLOUD_EDUPLICATE) {
		free(why);
		return 0;
	}
	*cause = why;
	return rc;
}

int
aws_ec2_delete_security_group(struct aws *a, const char *group_id,
    char **cause)
{
	struct aws_params p;

	aws_params_init(&p, "DeleteSecurityGroup", EC2_VERSION);
	aws_param(&p, "GroupId", "%s", group_id);
	return ec2_simple(a, &p, 1, cause);
}

void
aws_ec2_param_hardening(struct aws_params *p)
{
	aws_param(p, "MetadataOptions.HttpTokens", "required");
	aws_param(p, "MetadataOptions.HttpEndpoint", "enabled");
	aws_param(p, "MetadataOptions.HttpPutResponseHopLimit", "2");
	aws_param(p, "BlockDeviceMapping.1.DeviceName", "/dev/xvda");
	aws_param(p, "BlockDeviceMapping.1.Ebs.Encrypted", "true");
	aws_param(p, "BlockDeviceMapping.1.Ebs.VolumeSize", "30");
	aws_param(p, "BlockDeviceMapping.1.Ebs.VolumeType", "gp3");
	aws_param(p, "BlockDeviceMapping.1.Ebs.DeleteOnTermination", "true");
}

static char *
ec2_base64(const char *s)
{
	size_t n = strlen(s);
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s,
	    (int)n);
	return out;
}

int
aws_ec2_run_instance(struct aws *a, const struct aws_run_spec *s, char **id,
    char **cause)
{
	struct aws_params p;
	xmlDocPtr doc;
	char *ud;
	int rc;

	aws_params_init(&p, "RunInstances", EC2_VERSION);
	aws_param(&p, "ImageId", "%s", s->ami);
	aws_param(&p, "InstanceType", "%s", s->type);
	aws_param(&p, "MinCount", "1");
	aws_param(&p, "MaxCount", "1");
	aws_param(&p, "KeyName", "%s", s->key_name);
	aws_param(&p, "ClientToken", "%s", s->token);
	if (s->profile != NULL)
		aws_param(&p, "IamInstanceProfile.Name", "%s", s->profile);
	aws_param(&p, "NetworkInterface.1.DeviceIndex", "0");
	aws_param(&p, "NetworkInterface.1.SubnetId", "%s", s->subnet_id);
	aws_param(&p, "NetworkInterface.1.AssociatePublicIpAddress", "true");
	aws_param(&p, "NetworkInterface.1.SecurityGroupId.1", "%s",
	    s->group_id);
	aws_ec2_param_hardening(&p);
	aws_param(&p, "InstanceInitiatedShutdownBehavior", "stop");
	aws_ec2_param_spot(&p, "", s->spot);
	if (s->user_data != NULL) {
		ud = ec2_base64(s->user_data);
		aws_param(&p, "UserData", "%s", ud);
		free(ud);
	}
	aws_ec2_param_tags(&p, 1, "instance", &s->tags);
	aws_ec2_param_tags(&p, 2, "volume", &s->tags);
	/* Its spot request carries the tags too: cleanup finds it by the
	 * token after a crash lost the instance's id. */
	if (s->spot != NULL)
		aws_ec2_param_tags(&p, 3, "spot-instances-request", &s->tags);
	rc = aws_query(a, "ec2", &p, &doc, cause);
	aws_params_free(&p);
	if (rc != 0)
		return rc;
	*id = xml_text(xmlDocGetRootElement(doc), "instanceId");
	xmlFreeDoc(doc);
	if (*id == NULL) {
		xasprintf(cause, "RunInstances: no instance in the answer");
		return CLOUD_ERR;
	}
	return 0;
}

static void
ec2_instance_read(xmlNodePtr it, struct aws_instance *in)
{
	in->id = xml_child_text(it, "instanceId");
	in->state = xml_text(it, "instanceState/name");
	in->public_ip = xml_child_text(it, "ipAddress");
	in->private_ip = xml_child_text(it, "privateIpAddress");
	in->http_tokens = xml_text(it, "metadataOptions/httpTokens");
	in->spot_request = xml_child_text(it, "spotInstanceRequestId");
	in->reason = xml_child_text(it, "reason");
}

int
aws_ec2_describe_instance(struct aws *a, const char *id,
    struct aws_instance *in, char **cause)
{
	struct aws_params p;
	xmlNodePtr it;
	xmlDocPtr doc;
	int rc;

	memset(in, 0, sizeof *in);
	aws_params_init(&p, "DescribeInstances", EC2_VERSION);
	aws_param(&p, "InstanceId.1", "%s", id);
	if ((rc = aws_ec2_query(a, &p, 1, &doc, cause)) != 0)
		return rc;
	if (doc == NULL)
		return 0;
	it = xml_path(xmlDocGetRootElement(doc),
	    "reservationSet/item/instancesSet/item");
	if (it != NULL)
		ec2_instance_read(it, in);
	xmlFreeDoc(doc);
	return in->id != NULL;
}

int
aws_ec2_instances_tagged(struct aws *a, const char *key, const char *value,
    const char *key2, const char *value2, json_t **out, char **cause)
{
	struct aws_params p;
	xmlNodePtr r, it;
	xmlDocPtr doc;
	json_t *ids, *pairs, *v;
	char *id, *ix;
	size_t i, j;
	int rc;

	aws_params_init(&p, "DescribeInstances", EC2_VERSION);
	aws_param(&p, "Filter.1.Name", "instance-state-name");
	aws_param(&p, "Filter.1.Value.1", "pending");
	aws_param(&p, "Filter.1.Value.2", "running");
	aws_param(&p, "Filter.1.Value.3", "stopping");
	aws_param(&p, "Filter.1.Value.4", "stopped");
	aws_param(&p, "Filter.1.Value.5", "shutting-down");
	aws_param(&p, "Filter.2.Name", "tag:%s", key);
	aws_param(&p, "Filter.2.Value.1", "%s", value);
	if (key2 != NULL) {
		aws_param(&p, "Filter.3.Name", "tag:%s", key2);
		aws_param(&p, "Filter.3.Value.1", "%s", value2);
	}
	*out = NULL;
	rc = aws_query(a, "ec2", &p, &doc, cause);
	aws_params_free(&p);
	if (rc != 0)
		return rc;
	/* [reservation number, launch index, id], sorted. */
	pairs = json_array();
	r = xml_child(xml_child(xmlDocGetRootElement(doc), "reservationSet"),
	    "item");
	for (i = 0; r != NULL; r = xml_next(r, "item"), i++) {
		it = xml_child(xml_child(r, "instancesSet"), "item");
		for (; it != NULL; it = xml_next(it, "item")) {
			id = xml_child_text(it, "instanceId");
			ix = xml_child_text(it, "amiLaunchIndex");
			if (id != NULL)
				json_array_append_new(pairs, json_pack(
				    "[I,I,s]", (json_int_t)i, (json_int_t)(ix !=
				    NULL ? atoll(ix) : 0), id));
			free(id);
			free(ix);
		}
	}
	xmlFreeDoc(doc);
	for (i = 1; i < json_array_size(pairs); i++) {
		for (j = i; j > 0; j--) {
			json_t *x = json_array_get(pairs, j - 1);
			json_t *y = json_array_get(pairs, j);
			json_int_t rx = json_integer_value(json_array_get(x, 0));
			json_int_t ry = json_integer_value(json_array_get(y, 0));

			if (rx < ry || (rx == ry && json_integer_value(
			    json_array_get(x, 1)) <= json_integer_value(
			    json_array_get(y, 1))))
				break;
			json_incref(x);
			json_array_set(pairs, j - 1, y);
			json_array_set_new(pairs, j, x);
		}
	}
	ids = json_array();
	json_array_foreach(pairs, i, v)
		json_array_append(ids, json_array_get(v, 2));
	json_decref(pairs);
	*out = ids;
	return 0;
}

/* One call on one instance (Terminate/Start/StopInstances); flag as
 * ec2_simple's. */
static int
ec2_instance_call(struct aws *a, const char *action, const char *id,
    int flag, char **cause)
{
	struct aws_params p;

	aws_params_init(&p, action, EC2_VERSION);
	aws_param(&p, "InstanceId.1", "%s", id);
	return ec2_simple(a, &p, flag, cause);
}

int
aws_ec2_terminate_instance(struct aws *a, const char *id, char **cause)
{
	return ec2_instance_call(a, "TerminateInstances", id, 1, cause);
}

int
aws_ec2_start_instance(struct aws *a, const char *id, char **cause)
{
	return ec2_instance_call(a, "StartInstances", id, 0, cause);
}

int
aws_ec2_stop_instance(struct aws *a, const char *id, char **cause)
{
	return ec2_instance_call(a, "StopInstances", id, 0, cause);
}

void
aws_instance_free(struct aws_instance *in)
{
	free(in->id);
	free(in->state);
	free(in->public_ip);
	free(in->private_ip);
	free(in->http_tokens);
	free(in->spot_request);
	free(in->reason);
	memset(in, 0, sizeof *in);
}

/* Value of tag key in an element's tagSet, or NULL. */
static char *
ec2_tag(xmlNodePtr it, const char *key)
{
	xmlNodePtr t = xml_child(xml_child(it, "tagSet"), "item");
	char *k, *v = NULL;

	for (; t != NULL && v == NULL; t = xml_next(t, "item")) {
		k = xml_text(t, "key");
		if (k != NULL && strcmp(k, key) == 0)
			v = xml_text(t, "value");
		free(k);
	}
	return v;
}

/* Adds the tagged items of one Describe call to out. */
static int
ec2_tagged_one(struct aws *a, const char *action, const char *set,
    const char *kind, const char *id_el, const char *name_el, json_t *out,
    char **cause)
{
	struct aws_params p;
	xmlNodePtr r, it;
	xmlDocPtr doc;
	char *id, *name, *rs, *st;
	int rc;

	aws_params_init(&p, action, EC2_VERSION);
	aws_param(&p, "Filter.1.Name", "tag:managedBy");
	aws_param(&p, "Filter.1.Value.1", "fanout");
	rc = aws_query(a, "ec2", &p, &doc, cause);
	aws_params_free(&p);
	if (rc != 0)
		return rc;
	r = xml_child(xml_child(xmlDocGetRootElement(doc), set), "item");
	for (; r != NULL; r = xml_next(r, "item")) {
		it = r;
		if (strcmp(kind, "instance") == 0)
			it = xml_child(xml_child(r, "instancesSet"), "item");
		for (; it != NULL; it = it == r ? NULL : xml_next(it,
		    "item")) {
			id = xml_child_text(it, id_el);
			name = xml_child_text(it, name_el);
			rs = ec2_tag(it, "fanout:run-set");
			st = strcmp(kind, "instance") == 0 ?
			    xml_text(it, "instanceState/name") : NULL;
			if (id != NULL && (st == NULL ||
			    strcmp(st, "terminated") != 0))
				json_array_append_new(out, json_pack(
				    "{s:s, s:s, s:s?, s:s, s:s?}", "kind", kind,
				    "id", id, "name", name, "region",
				    a->region, "run_set", rs));
			free(id);
			free(name);
			free(rs);
			free(st);
		}
	}
	xmlFreeDoc(doc);
	return 0;
}

json_t *
aws_ec2_tagged(struct aws *a, char **cause)
{
	json_t *out = json_array();

	if (ec2_tagged_one(a, "DescribeInstances", "reservationSet",
	    "instance", "instanceId", "keyName", out, cause) != 0 ||
	    ec2_tagged_one(a, "DescribeLaunchTemplates", "launchTemplates",
	    "launch_template", "launchTemplateId", "launchTemplateName", out,
	    cause) != 0 ||
	    ec2_tagged_one(a, "DescribeSecurityGroups", "securityGroupInfo",
	    "security_group", "groupId", "groupName", out, cause) != 0 ||
	    ec2_tagged_one(a, "DescribeKeyPairs", "keySet", "key_pair",
	    "keyPairId", "keyName", out, cause) != 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}
