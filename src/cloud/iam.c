/* IAM calls for the instance role (iam.h). */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cloud/aws.h"
#include "cloud/ec2.h"
#include "cloud/iam.h"
#include "cloud/provider.h"
#include "cloud/xml.h"
#include "run/project.h"
#include "util/xmalloc.h"

#define IAM_VERSION "2010-05-08"

/* "prefix*": the objects under a prefix ("" is the whole bucket; a
 * results prefix is a folder). */
static char *
iam_objects(const char *prefix, int folder)
{
	size_t n = strlen(prefix);

	if (folder && n > 0 && prefix[n - 1] != '/')
		return xprintf("%s/*", prefix);
	return xprintf("%s*", prefix);
}

json_t *
aws_role_statements(const struct store_url *in, const struct store_url *out)
{
	json_t *st = json_array();
	char *obj;

	if (in != NULL) {
		obj = iam_objects(in->prefix, 0);
		json_array_append_new(st, json_pack("{s:s, s:s, s:s, s:s+, "
		    "s:{s:{s:[s]}}}", "Sid", "ListInputs", "Effect", "Allow",
		    "Action", "s3:ListBucket", "Resource", "arn:aws:s3:::",
		    in->bucket, "Condition", "StringLike", "s3:prefix", obj));
		json_array_append_new(st, json_pack("{s:s, s:s, s:s, "
		    "s:s+++}", "Sid", "ReadInputs", "Effect", "Allow", "Action",
		    "s3:GetObject", "Resource", "arn:aws:s3:::", in->bucket,
		    "/", obj));
		free(obj);
	}
	if (out != NULL) {
		obj = iam_objects(out->prefix, 1);
		json_array_append_new(st, json_pack("{s:s, s:s, s:s, "
		    "s:s+++}", "Sid", "WriteResults", "Effect", "Allow",
		    "Action", "s3:PutObject", "Resource", "arn:aws:s3:::",
		    out->bucket, "/", obj));
		free(obj);
	}
	return st;
}

char *
aws_iam_policy_document(json_t *statements)
{
	json_t *doc = json_pack("{s:s, s:O}", "Version", "2012-10-17",
	    "Statement", statements);
	char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(doc);
	return s;
}

char *
aws_iam_trust_ec2(void)
{
	return xstrdup("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect"
	    "\":\"Allow\",\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},"
	    "\"Action\":\"sts:AssumeRole\"}]}");
}

static void
iam_param_tags(struct aws_params *p, const struct aws_tags *t)
{
	const char *kv[] = { "managedBy", "fanout", "fanout:run-set",
	    t->run_set, "fanout:project", t->project, "Name", t->name };
	char key[48];
	int i, n = 0;

	for (i = 0; i < 4; i++) {
		if (kv[2 * i + 1] == NULL)
			continue;
		n++;
		snprintf(key, sizeof key, "Tags.member.%d.Key", n);
		aws_param(p, key, "%s", kv[2 * i]);
		snprintf(key, sizeof key, "Tags.member.%d.Value", n);
		aws_param(p, key, "%s", kv[2 * i + 1]);
	}
}

/* Runs an IAM call (and frees its parameters); NotFound (NoSuchEntity)
 * is 0 with *doc NULL when gone_ok. */
static int
iam_query(struct aws *a, struct aws_params *p, int gone_ok, xmlDocPtr *doc,
    char **cause)
{
	return aws_query_gone(a, "iam", p, gone_ok, doc, cause);
}

static int
iam_simple(struct aws *a, struct aws_params *p, int gone_ok, char **cause)
{
	xmlDocPtr doc;
	int rc;

	if ((rc = iam_query(a, p, gone_ok, &doc, cause)) == 0 && doc != NULL)
		xmlFreeDoc(doc);
	return rc;
}

int
aws_iam_create_role(struct aws *a, const char *name, const char *trust,
    const struct aws_tags *t, char **id, char **cause)
{
	struct aws_params p;
	xmlDocPtr doc;
	int rc;

	*id = NULL;
	aws_params_init(&p, "CreateRole", IAM_VERSION);
	aws_param(&p, "RoleName", "%s", name);
	aws_param(&p, "Path", "%s", AWS_IAM_PATH);
	aws_param(&p, "AssumeRolePolicyDocument", "%s", trust);
	aws_param(&p, "Description", "fanout run set %s: its machines' "
	    "access to the project's buckets", t->run_set);
	iam_param_tags(&p, t);
	if ((rc = iam_query(a, &p, 0, &doc, cause)) != 0)
		return rc;
	*id = xml_text(xmlDocGetRootElement(doc), "RoleId");
	xmlFreeDoc(doc);
	if (*id == NULL) {
		xasprintf(cause, "CreateRole: no RoleId in the answer");
		return CLOUD_ERR;
	}
	return 0;
}

int
aws_iam_get_role(struct aws *a, const char *name, char **id, char **cause)
{
	struct aws_params p;
	xmlDocPtr doc;
	int rc;

	*id = NULL;
	aws_params_init(&p, "GetRole", IAM_VERSION);
	aws_param(&p, "RoleName", "%s", name);
	if ((rc = iam_query(a, &p, 1, &doc, cause)) != 0)
		return rc;
	if (doc == NULL)
		return 0;
	*id = xml_text(xmlDocGetRootElement(doc), "RoleId");
	xmlFreeDoc(doc);
	return *id != NULL;
}

int
aws_iam_put_role_policy(struct aws *a, const char *role, const char *policy,
    const char *document, char **cause)
{
	struct aws_params p;

	aws_params_init(&p, "PutRolePolicy", IAM_VERSION);
	aws_param(&p, "RoleName", "%s", role);
	aws_param(&p, "PolicyName", "%s", policy);
	aws_param(&p, "PolicyDocument", "%s", document);
	return iam_simple(a, &p, 0, cause);
}

char *
aws_iam_get_role_policy(struct aws *a, const char *role, const char *policy,
    char **cause)
{
	struct aws_params p;
	xmlDocPtr doc;
	char *text, *out;
	int n;

	aws_params_init(&p, "GetRolePolicy", IAM_VERSION);
	aws_param(&p, "RoleName", "%s", role);
	aws_param(&p, "PolicyName", "%s", policy);
	if (iam_query(a, &p, 0, &doc, cause) != 0)
		return NULL;
	text = xml_text(xmlDocGetRootElement(doc), "PolicyDocument");
	xmlFreeDoc(doc);
	if (text == NULL) {
		xasprintf(cause, "GetRolePolicy: no document in the answer");
		return NULL;
	}
	/* IAM gives it URL-encoded. */
	out = curl_easy_unescape(NULL, text, 0, &n);
	free(text);
	text = xstrdup(out != NULL ? out : "");
	curl_free(out);
	return text;
}

/* The member names under path/member/el of a list answer. */
static json_t *
iam_members(xmlDocPtr doc, const char *list, const char *el)
{
	json_t *v = json_array();
	xmlNodePtr m;
	char *s;

	m = xml_find(xmlDocGetRootElement(doc), list);
	for (m = m != NULL ? xml_child(m, "member") : NULL; m != NULL;
	    m = xml_next(m, "member")) {
		if ((s = el != NULL ? xml_child_text(m, el) :
		    (char *)xmlNodeGetContent(m)) != NULL) {
			json_array_append_new(v, json_string(s));
			if (el != NULL)
				free(s);
			else
				xmlFree(s);
		}
	}
	return v;
}

int
aws_iam_delete_role(struct aws *a, const char *name, char **cause)
{
	struct aws_params p;
	xmlDocPtr doc;
	json_t *names, *v;
	size_t i;
	int rc;

	aws_params_init(&p, "ListRolePolicies", IAM_VERSION);
	aws_param(&p, "RoleName", "%s", name);
	if ((rc = iam_query(a, &p, 1, &doc, cause)) != 0 || doc == NULL)
		return rc;
	names = iam_members(doc, "PolicyNames", NULL);
	xmlFreeDoc(doc);
	json_array_foreach(names, i, v) {
		aws_params_init(&p, "DeleteRolePolicy", IAM_VERSION);
		aws_param(&p, "RoleName", "%s", name);
		aws_param(&p, "PolicyName", "%s", json_string_value(v));
		if ((rc = iam_simple(a, &p, 1, cause)) != 0)
			break;
	}
	json_decref(names);
	if (rc != 0)
		return rc;
	aws_params_init(&p, "ListInstanceProfilesForRole", IAM_VERSION);
	aws_param(&p, "RoleName", "%s", name);
	if ((rc = iam_query(a, &p, 1, &doc, cause)) != 0 || doc == NULL)
		return rc;
	names = iam_members(doc, "InstanceProfiles", "InstanceProfileName");
	xmlFreeDoc(doc);
	json_array_foreach(names, i, v) {
		aws_params_init(&p, "RemoveRoleFromInstanceProfile",
		    IAM_VERSION);
		aws_param(&p, "InstanceProfileName", "%s",
		    json_string_value(v));
		aws_param(&p, "RoleName", "%s", name);
		if ((rc = iam_simple(a, &p, 1, cause)) != 0)
			break;
	}
	json_decref(names);
	if (rc != 0)
		return rc;
	aws_params_init(&p, "DeleteRole", IAM_VERSION);
	aws_param(&p, "RoleName", "%s", name);
	return iam_simple(a, &p, 1, cause);
}

int
aws_iam_create_instance_profile(struct aws *a, const char *name,
    const struct aws_tags *t, char **id, char **cause)
{
	struct aws_params p;
	xmlDocPtr doc;
	int rc;

	*id = NULL;
	aws_params_init(&p, "CreateInstanceProfile", IAM_VERSION);
	aws_param(&p, "InstanceProfileName", "%s", name);
	aws_param(&p, "Path", "%s", AWS_IAM_PATH);
	iam_param_tags(&p, t);
	if ((rc = iam_query(a, &p, 0, &doc, cause)) != 0)
		return rc;
	*id = xml_text(xmlDocGetRootElement(doc), "InstanceProfileId");
	xmlFreeDoc(doc);
	if (*id == NULL) {
		xasprintf(cause, "CreateInstanceProfile: no id in the answer");
		return CLOUD_ERR;
	}
	return 0;
}

int
aws_iam_get_instance_profile(struct aws *a, const char *name, char **id,
    char **role, char **cause)
{
	struct aws_params p;
	xmlDocPtr doc;
	xmlNodePtr ip;
	int rc;

	*id = NULL;
	if (role != NULL)
		*role = NULL;
	aws_params_init(&p, "GetInstanceProfile", IAM_VERSION);
	aws_param(&p, "InstanceProfileName", "%s", name);
	if ((rc = iam_query(a, &p, 1, &doc, cause)) != 0)
		return rc;
	if (doc == NULL)
		return 0;
	ip = xml_find(xmlDocGetRootElement(doc), "InstanceProfile");
	*id = ip != NULL ? xml_child_text(ip, "InstanceProfileId") : NULL;
	if (role != NULL && ip != NULL)
		*role = xml_text(ip, "Roles/member/RoleName");
	xmlFreeDoc(doc);
	return *id != NULL;
}

int
aws_iam_add_role_to_profile(struct aws *a, const char *profile,
    const char *role, char **cause)
{
	struct aws_params p;
	char *id = NULL, *held = NULL, *why = NULL;
	int rc, found;

	aws_params_init(&p, "AddRoleToInstanceProfile", IAM_VERSION);
	aws_param(&p, "InstanceProfileName", "%s", profile);
	aws_param(&p, "RoleName", "%s", role);
	if ((rc = iam_simple(a, &p, 0, &why)) == 0)
		return 0;
	/* An earlier attempt whose answer was lost put it there (a
	 * profile holds one role: LimitExceeded). */
	found = aws_iam_get_instance_profile(a, profile, &id, &held, cause);
	if (found == 1 && held != NULL && strcmp(held, role) == 0)
		rc = 0;
	if (rc != 0 && *cause == NULL)
		*cause = why;
	else
		free(why);
	free(id);
	free(held);
	return rc;
}

int
aws_iam_delete_instance_profile(struct aws *a, const char *name,
    char **cause)
{
	struct aws_params p;
	char *id = NULL, *role = NULL;
	int rc;

	if ((rc = aws_iam_get_instance_profile(a, name, &id, &role,
	    cause)) <= 0)
		return rc;
	rc = 0;
	if (role != NULL) {
		aws_params_init(&p, "RemoveRoleFromInstanceProfile",
		    IAM_VERSION);
		aws_param(&p, "InstanceProfileName", "%s", name);
		aws_param(&p, "RoleName", "%s", role);
		rc = iam_simple(a, &p, 1, cause);
	}
	free(id);
	free(role);
	if (rc != 0)
		return rc;
	aws_params_init(&p, "DeleteInstanceProfile", IAM_VERSION);
	aws_param(&p, "InstanceProfileName", "%s", name);
	return iam_simple(a, &p, 1, cause);
}

/* One list call of fanout's path: appends {kind, id, name, ...}. */
static int
iam_tagged_one(struct aws *a, const char *action, const char *list,
    const char *kind, const char *id_el, const char *name_el, json_t *out,
    char **cause)
{
	struct aws_params p;
	xmlDocPtr doc;
	xmlNodePtr m;
	char *id, *name;
	int rc;

	aws_params_init(&p, action, IAM_VERSION);
	aws_param(&p, "PathPrefix", "%s", AWS_IAM_PATH);
	if ((rc = iam_query(a, &p, 0, &doc, cause)) != 0)
		return rc;
	m = xml_find(xmlDocGetRootElement(doc), list);
	for (m = m != NULL ? xml_child(m, "member") : NULL; m != NULL;
	    m = xml_next(m, "member")) {
		id = xml_child_text(m, id_el);
		name = xml_child_text(m, name_el);
		/* Named fanout-<run set> (and tagged so). */
		if (id != NULL && name != NULL && strncmp(name, "fanout-",
		    7) == 0)
			json_array_append_new(out, json_pack("{s:s, s:s, s:s, "
			    "s:s, s:s}", "kind", kind, "id", id, "name", name,
			    "region", a->region, "run_set", name + 7));
		free(id);
		free(name);
	}
	xmlFreeDoc(doc);
	return 0;
}

int
aws_iam_tagged(struct aws *a, json_t *out, char **cause)
{
	if (iam_tagged_one(a, "ListInstanceProfiles", "InstanceProfiles",
	    "instance_profile", "InstanceProfileId", "InstanceProfileName",
	    out, cause) != 0)
		return -1;
	return iam_tagged_one(a, "ListRoles", "Roles", "iam_role", "RoleId",
	    "RoleName", out, cause);
}
