/* The instance role's policy (iam.h): the statements of a project's
 * buckets, the document built from a list of statements (others may add
 * theirs), the trust policy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cloud/iam.h"
#include "run/project.h"
#include "tap.h"

static char *
doc_of(const char *in, const char *out)
{
	struct store_url ui, uo;
	char *cause = NULL, *doc;
	json_t *st;

	if (in != NULL && store_url_parse(in, true, &ui, &cause) != 0)
		bail("%s", cause);
	if (out != NULL && store_url_parse(out, false, &uo, &cause) != 0)
		bail("%s", cause);
	st = aws_role_statements(in != NULL ? &ui : NULL, out != NULL ? &uo :
	    NULL);
	doc = aws_iam_policy_document(st);
	json_decref(st);
	if (in != NULL)
		store_url_free(&ui);
	if (out != NULL)
		store_url_free(&uo);
	return doc;
}

int
main(void)
{
	char *doc, *trust;
	json_t *st, *j;

	plan_lazy();
	doc = doc_of("s3://in-bucket/data/2024/*.csv", "s3://out-bucket/runs");
	is_string("{\"Version\":\"2012-10-17\",\"Statement\":["
	    "{\"Sid\":\"ListInputs\",\"Effect\":\"Allow\",\"Action\":"
	    "\"s3:ListBucket\",\"Resource\":\"arn:aws:s3:::in-bucket\","
	    "\"Condition\":{\"StringLike\":{\"s3:prefix\":[\"data/2024/*\"]}}},"
	    "{\"Sid\":\"ReadInputs\",\"Effect\":\"Allow\",\"Action\":"
	    "\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::in-bucket/data/2024/*\"},"
	    "{\"Sid\":\"WriteResults\",\"Effect\":\"Allow\",\"Action\":"
	    "\"s3:PutObject\",\"Resource\":\"arn:aws:s3:::out-bucket/runs/*\"}]}",
	    doc, "inputs read-only on their prefix, results write-only on "
	    "theirs");
	free(doc);

	doc = doc_of("s3://in-bucket/*", NULL);
	ok(strstr(doc, "\"s3:prefix\":[\"*\"]") != NULL &&
	    strstr(doc, "\"arn:aws:s3:::in-bucket/*\"") != NULL &&
	    strstr(doc, "PutObject") == NULL,
	    "inputs at the bucket's top, no results: the whole bucket, read "
	    "only");
	free(doc);

	doc = doc_of("s3://in-bucket/one/file.csv", NULL);
	ok(strstr(doc, "\"arn:aws:s3:::in-bucket/one/file.csv*\"") != NULL,
	    "a key without wildcards: that key (and what it prefixes)");
	free(doc);

	doc = doc_of(NULL, "s3://out-bucket/runs/");
	ok(strstr(doc, "\"arn:aws:s3:::out-bucket/runs/*\"") != NULL &&
	    strstr(doc, "GetObject") == NULL && strstr(doc, "ListBucket") ==
	    NULL, "results alone: write-only, nothing read or listed");
	free(doc);

	doc = doc_of(NULL, "s3://out-bucket");
	ok(strstr(doc, "\"arn:aws:s3:::out-bucket/*\"") != NULL,
	    "results at the bucket's top");
	free(doc);

	/* Another helper's statements go on the same list. */
	st = aws_role_statements(NULL, NULL);
	is_int(0, (long long)json_array_size(st), "no bucket: no statement");
	json_array_append_new(st, json_pack("{s:s, s:s, s:s}", "Effect",
	    "Allow", "Action", "ec2:TerminateInstances", "Resource", "*"));
	doc = aws_iam_policy_document(st);
	j = json_loads(doc, 0, NULL);
	is_int(1, (long long)json_array_size(json_object_get(j, "Statement")),
	    "a statement added to the list is in the document");
	json_decref(j);
	json_decref(st);
	free(doc);

	trust = aws_iam_trust_ec2();
	j = json_loads(trust, 0, NULL);
	is_string("ec2.amazonaws.com", json_string_value(json_object_get(
	    json_object_get(json_array_get(json_object_get(j, "Statement"), 0),
	    "Principal"), "Service")), "the role trusts EC2");
	json_decref(j);
	free(trust);
	return done_testing();
}
