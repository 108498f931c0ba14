/* The EC2 calls of a cluster (ec2.h, "Clusters"): the compute nodes'
 * launch template, one RunInstances of N instances from it, and the
 * rules that tie the head's group and the compute group together. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "cloud/aws.h"
#include "cloud/ec2.h"
#include "cloud/provider.h"
#include "cloud/xml.h"
#include "util/xmalloc.h"

#define EC2_VERSION "2016-11-15"

/* <prefix>TagSpecification.n for resource_type with t's tags (as
 * aws_ec2_param_tags, under a prefix: "LaunchTemplateData."). */
static void
fleet_param_tags(struct aws_params *p, const char *prefix, int n,
    const char *resource_type, const struct aws_tags *t)
{
	const char *kv[] = { "managedBy", "fanout", "fanout:run-set",
	    t->run_set, "fanout:project", t->project, "Name", t->name,
	    "fanout:role", t->role, "fanout:client-token", t->token };
	char key[96];
	int i, k = 1;

	snprintf(key, sizeof key, "%sTagSpecification.%d.ResourceType",
	    prefix, n);
	aws_param(p, key, "%s", resource_type);
	for (i = 0; i < 6; i++) {
		if (kv[2 * i + 1] == NULL)
			continue;
		snprintf(key, sizeof key, "%sTagSpecification.%d.Tag.%d.Key",
		    prefix, n, k);
		aws_param(p, key, "%s", kv[2 * i]);
		snprintf(key, sizeof key, "%sTagSpecification.%d.Tag.%d.Value",
		    prefix, n, k++);
		aws_param(p, key, "%s", kv[2 * i + 1]);
	}
}

int
aws_ec2_create_launch_template(struct aws *a,
    const struct aws_template_spec *s, char **id, char **cause)
{
	static const char *const meta[] = { "HttpTokens", "required",
	    "HttpEndpoint", "enabled", "HttpPutResponseHopLimit", "2" };
	static const char *const ebs[] = { "Encrypted", "true", "VolumeSize",
	    "30", "VolumeType", "gp3", "DeleteOnTermination", "true" };
	struct aws_params p;
	xmlDocPtr doc;
	size_t i;
	int rc;

	*id = NULL;
	aws_params_init(&p, "CreateLaunchTemplate", EC2_VERSION);
	aws_param(&p, "LaunchTemplateName", "%s", s->name);
	aws_param(&p, "ClientToken", "%s", s->token);
	aws_param(&p, "VersionDescription", "fanout run set %s: compute nodes",
	    s->tags.run_set);
	aws_param(&p, "LaunchTemplateData.ImageId", "%s", s->ami);
	aws_param(&p, "LaunchTemplateData.InstanceType", "%s", s->type);
	aws_param(&p, "LaunchTemplateData.KeyName", "%s", s->key_name);
	if (s->profile != NULL)
		aws_param(&p, "LaunchTemplateData.IamInstanceProfile.Name",
		    "%s", s->profile);
	aws_param(&p, "LaunchTemplateData.SecurityGroupId.1", "%s",
	    s->group_id);
	aws_param(&p, "LaunchTemplateData.InstanceInitiatedShutdownBehavior",
	    "stop");
	for (i = 0; i < 3; i++) {
		char key[96];

		snprintf(key, sizeof key, "LaunchTemplateData.MetadataOptions.%s",
		    meta[2 * i]);
		aws_param(&p, key, "%s", meta[2 * i + 1]);
	}
	aws_param(&p, "LaunchTemplateData.BlockDeviceMapping.1.DeviceName",
	    "/dev/xvda");
	for (i = 0; i < 4; i++) {
		char key[96];

		snprintf(key, sizeof key,
		    "LaunchTemplateData.BlockDeviceMapping.1.Ebs.%s",
		    ebs[2 * i]);
		aws_param(&p, key, "%s", ebs[2 * i + 1]);
	}
	fleet_param_tags(&p, "LaunchTemplateData.", 1, "instance", &s->launch);
	fleet_param_tags(&p, "LaunchTemplateData.", 2, "volume", &s->launch);
	fleet_param_tags(&p, "", 1, "launch-template", &s->tags);
	if ((rc = aws_ec2_query(a, &p, 0, &doc, cause)) != 0)
		return rc;
	*id = xml_text(xmlDocGetRootElement(doc),
	    "launchTemplate/launchTemplateId");
	xmlFreeDoc(doc);
	if (*id == NULL) {
		xasprintf(cause, "CreateLaunchTemplate: no id in the answer");
		return CLOUD_ERR;
	}
	return 0;
}

/* DescribeLaunchTemplates by name or id: 1 found (*id set when id is
 * not NULL), 0 not found. */
static int
fleet_describe_template(struct aws *a, const char *key, const char *value,
    char **id, char **cause)
{
	struct aws_params p;
	xmlDocPtr doc;
	char *found;
	int rc;

	if (id != NULL)
		*id = NULL;
	aws_params_init(&p, "DescribeLaunchTemplates", EC2_VERSION);
	aws_param(&p, key, "%s", value);
	if ((rc = aws_ec2_query(a, &p, 1, &doc, cause)) != 0)
		return rc;
	if (doc == NULL)
		return 0;
	found = xml_text(xmlDocGetRootElement(doc),
	    "launchTemplates/item/launchTemplateId");
	xmlFreeDoc(doc);
	if (found == NULL)
		return 0;
	if (id != NULL)
		*id = found;
	else
		free(found);
	return 1;
}

int
aws_ec2_find_launch_template(struct aws *a, const char *name, char **id,
    char **cause)
{
	return fleet_describe_template(a, "LaunchTemplateName.1", name, id,
	    cause);
}

int
aws_ec2_launch_template_exists(struct aws *a, const char *id, char **cause)
{
	return fleet_describe_template(a, "LaunchTemplateId.1", id, NULL,
	    cause);
}

int
aws_ec2_delete_launch_template(struct aws *a, const char *id, char **cause)
{
	struct aws_params p;
	xmlDocPtr doc;
	int rc;

	aws_params_init(&p, "DeleteLaunchTemplate", EC2_VERSION);
	aws_param(&p, "LaunchTemplateId", "%s", id);
	if ((rc = aws_ec2_query(a, &p, 1, &doc, cause)) != 0)
		return rc;
	if (doc != NULL)
		xmlFreeDoc(doc);
	return 0;
}

int
aws_ec2_run_from_template(struct aws *a, const char *template_id,
    const char *subnet_id, int count, const char *token,
    const struct aws_tags *t, json_t **ids, char **cause)
{
	struct aws_params p;
	xmlNodePtr it;
	xmlDocPtr doc;
	json_t *pairs, *v;
	char *id, *ix;
	size_t i, j;
	int rc;

	*ids = NULL;
	aws_params_init(&p, "RunInstances", EC2_VERSION);
	aws_param(&p, "LaunchTemplate.LaunchTemplateId", "%s", template_id);
	aws_param(&p, "LaunchTemplate.Version", "$Default");
	aws_param(&p, "MinCount", "%d", count);
	aws_param(&p, "MaxCount", "%d", count);
	aws_param(&p, "ClientToken", "%s", token);
	aws_param(&p, "SubnetId", "%s", subnet_id);
	/* As in the template; said again, as the tags are: an endpoint
	 * that does not apply a template's metadata options or disks
	 * (moto) still makes what the template says. */
	aws_ec2_param_hardening(&p);
	fleet_param_tags(&p, "", 1, "instance", t);
	fleet_param_tags(&p, "", 2, "volume", t);
	if ((rc = aws_ec2_query(a, &p, 0, &doc, cause)) != 0)
		return rc;
	pairs = json_array();
	it = xml_child(xml_child(xmlDocGetRootElement(doc), "instancesSet"),
	    "item");
	for (; it != NULL; it = xml_next(it, "item")) {
		id = xml_child_text(it, "instanceId");
		ix = xml_child_text(it, "amiLaunchIndex");
		if (id != NULL)
			json_array_append_new(pairs, json_pack("[I,s]",
			    (json_int_t)(ix != NULL ? atoll(ix) : 0), id));
		free(id);
		free(ix);
	}
	xmlFreeDoc(doc);
	/* In launch order (insertion sort; at most a hundred). */
	for (i = 1; i < json_array_size(pairs); i++) {
		for (j = i; j > 0 && json_integer_value(json_array_get(
		    json_array_get(pairs, j - 1), 0)) > json_integer_value(
		    json_array_get(json_array_get(pairs, j), 0)); j--) {
			v = json_incref(json_array_get(pairs, j - 1));
			json_array_set(pairs, j - 1, json_array_get(pairs, j));
			json_array_set_new(pairs, j, v);
		}
	}
	*ids = json_array();
	json_array_foreach(pairs, i, v)
		json_array_append(*ids, json_array_get(v, 1));
	json_decref(pairs);
	if (json_array_size(*ids) != (size_t)count) {
		xasprintf(cause, "RunInstances: %zu instances in the answer, "
		    "not %d", json_array_size(*ids), count);
		/* The caller still terminates what came. */
		return CLOUD_ERR;
	}
	return 0;
}

/* Authorize or revoke all traffic into group_id from from_id; the
 * rule's description (NULL: none) as AWS answered it (a revoke need not
 * say it to AWS, but moto matches on it). */
static int
fleet_group_rule(struct aws *a, const char *action, const char *group_id,
    const char *from_id, const char *description, char **cause)
{
	struct aws_params p;
	xmlDocPtr doc;
	char *why = NULL;
	int rc;

	aws_params_init(&p, action, EC2_VERSION);
	aws_param(&p, "GroupId", "%s", group_id);
	aws_param(&p, "IpPermissions.1.IpProtocol", "-1");
	aws_param(&p, "IpPermissions.1.Groups.1.GroupId", "%s", from_id);
	if (description != NULL)
		aws_param(&p, "IpPermissions.1.Groups.1.Description", "%s",
		    description);
	rc = aws_ec2_query(a, &p, 1, &doc, &why);
	if (doc != NULL)
		xmlFreeDoc(doc);
	if (rc == 0 || rc == CLOUD_EDUPLICATE) {
		free(why);
		return 0;
	}
	*cause = why;
	return rc;
}

int
aws_ec2_authorize_group(struct aws *a, const char *group_id,
    const char *from_id, char **cause)
{
	return fleet_group_rule(a, "AuthorizeSecurityGroupIngress", group_id,
	    from_id, "fanout: the cluster's own traffic", cause);
}

int
aws_ec2_revoke_group(struct aws *a, const char *group_id,
    const char *from_id, const char *description, char **cause)
{
	return fleet_group_rule(a, "RevokeSecurityGroupIngress", group_id,
	    from_id, description, cause);
}

/* Adds [group, from, description] to out unless it is there. */
static void
fleet_tie_add(json_t *out, const char *group, const char *from,
    const char *description)
{
	json_t *t;
	size_t i;

	json_array_foreach(out, i, t) {
		if (strcmp(json_string_value(json_array_get(t, 0)), group) ==
		    0 && strcmp(json_string_value(json_array_get(t, 1)),
		    from) == 0)
			return;
	}
	json_array_append_new(out, json_pack("[s,s,s?]", group, from,
	    description));
}

/* Adds [group, from] for each rule of the groups in doc that names
 * another group, where want (when not NULL) is group or from. */
static void
fleet_ties_of(xmlDocPtr doc, const char *want, json_t *out)
{
	xmlNodePtr g, perm, pair;
	char *gid, *from, *desc;

	g = xml_child(xml_child(xmlDocGetRootElement(doc),
	    "securityGroupInfo"), "item");
	for (; g != NULL; g = xml_next(g, "item")) {
		gid = xml_child_text(g, "groupId");
		perm = xml_child(xml_child(g, "ipPermissions"), "item");
		for (; gid != NULL && perm != NULL; perm = xml_next(perm,
		    "item")) {
			pair = xml_child(xml_child(perm, "groups"), "item");
			for (; pair != NULL; pair = xml_next(pair, "item")) {
				from = xml_child_text(pair, "groupId");
				desc = xml_child_text(pair, "description");
				if (from != NULL && strcmp(from, gid) != 0 &&
				    (strcmp(gid, want) == 0 ||
				    strcmp(from, want) == 0))
					fleet_tie_add(out, gid, from, desc);
				free(from);
				free(desc);
			}
		}
		free(gid);
	}
}

int
aws_ec2_group_ties(struct aws *a, const char *group_id, json_t **ties,
    char **cause)
{
	struct aws_params p;
	xmlDocPtr doc;
	json_t *out = json_array();
	int rc;

	*ties = NULL;
	/* Its own rules. */
	aws_params_init(&p, "DescribeSecurityGroups", EC2_VERSION);
	aws_param(&p, "GroupId.1", "%s", group_id);
	if ((rc = aws_ec2_query(a, &p, 1, &doc, cause)) != 0)
		goto fail;
	if (doc == NULL) {	/* gone */
		*ties = out;
		return 0;
	}
	fleet_ties_of(doc, group_id, out);
	xmlFreeDoc(doc);
	/* Other groups' rules that name it. */
	aws_params_init(&p, "DescribeSecurityGroups", EC2_VERSION);
	aws_param(&p, "Filter.1.Name", "ip-permission.group-id");
	aws_param(&p, "Filter.1.Value.1", "%s", group_id);
	if ((rc = aws_ec2_query(a, &p, 0, &doc, cause)) != 0)
		goto fail;
	fleet_ties_of(doc, group_id, out);
	xmlFreeDoc(doc);
	*ties = out;
	return 0;
fail:
	json_decref(out);
	return rc;
}
