/* AWS settings as the CLI finds them, endpoints, query parameters, the
 * backoff and the XML helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "cloud/aws.h"
#include "cloud/http.h"
#include "cloud/xml.h"
#include "tap.h"
#include "util/fs.h"
#include "util/xmalloc.h"

static void
write_file(const char *path, const char *text)
{
	char *cause = NULL;

	if (fs_write_atomic(path, text, strlen(text), 0600, &cause) != 0)
		bail("%s", cause);
}

static void
clear_env(void)
{
	static const char *const vars[] = { "AWS_ACCESS_KEY_ID",
	    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
	    "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
	    "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
	    "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2", "AWS_MAX_ATTEMPTS",
	    NULL };
	size_t i;

	for (i = 0; vars[i] != NULL; i++)
		unsetenv(vars[i]);
}

static void
test_settings(void)
{
	char *home = xprintf("%s/home", tap_tmpdir()), *cause = NULL, *p, *e;
	struct aws *a;

	clear_env();
	setenv("HOME", home, 1);
	a = aws_open(NULL, &cause);
	ok(a == NULL, "no credentials: aws_open fails");
	ok(cause != NULL && strstr(cause, "AWS_ACCESS_KEY_ID") != NULL &&
	    strstr(cause, "/home/.aws/credentials (missing)") != NULL &&
	    strstr(cause, "/home/.aws/config (missing)") != NULL,
	    "the cause names every place looked at: %s", cause);
	free(cause);
	cause = NULL;

	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	a = aws_open(NULL, &cause);
	ok(a == NULL && cause != NULL && strstr(cause, "no AWS region") !=
	    NULL, "keys but no region: says so");
	free(cause);
	cause = NULL;
	setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
	a = aws_open(NULL, &cause);
	ok(a != NULL, "keys from the environment");
	if (a != NULL) {
		is_string("AKIDENV", a->access_key, "access key from env");
		is_string("eu-west-1", a->region, "AWS_DEFAULT_REGION");
		is_string("environment", a->creds_from, "source named");
		p = aws_endpoint(a, "ec2");
		is_string("https://ec2.eu-west-1.amazonaws.com/", p,
		    "public regional endpoint");
		free(p);
		p = aws_endpoint(a, "iam");
		is_string("https://iam.amazonaws.com/", p, "IAM is global");
		free(p);
		setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1", 1);
		setenv("AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:2/", 1);
		p = aws_endpoint(a, "ec2");
		e = aws_endpoint(a, "sts");
		is_string("http://127.0.0.1:2/", p,
		    "AWS_ENDPOINT_URL_EC2 wins for ec2");
		is_string("http://127.0.0.1:1/", e,
		    "AWS_ENDPOINT_URL for the others");
		free(p);
		free(e);
		aws_free(a);
	}
	setenv("AWS_REGION", "us-west-2", 1);
	a = aws_open(NULL, &cause);
	is_string("us-west-2", a != NULL ? a->region : NULL,
	    "AWS_REGION before AWS_DEFAULT_REGION");
	aws_free(a);
	a = aws_open("ap-south-1", &cause);
	is_string("ap-south-1", a != NULL ? a->region : NULL,
	    "--region before both");
	aws_free(a);
	a = aws_open("xx-nowhere-9", &cause);
	ok(a == NULL && cause != NULL && strstr(cause,
	    "unknown AWS region 'xx-nowhere-9'") != NULL,
	    "an unknown region is refused");
	free(cause);
	cause = NULL;

	/* Profiles in ~/.aws. */
	clear_env();
	p = xprintf("%s/.aws", home);
	fs_mkdir_p(p, 0700, &cause);
	free(p);
	p = xprintf("%s/.aws/credentials", home);
	write_file(p, "[default]\naws_access_key_id = AKIDDEF\n"
	    "aws_secret_access_key = defsecret\n\n[work]\n"
	    "  aws_access_key_id=AKIDWORK  \naws_secret_access_key=ws\n"
	    "aws_session_token = tok\n");
	free(p);
	p = xprintf("%s/.aws/config", home);
	write_file(p, "[default]\nregion = us-east-2\n# comment\n"
	    "[profile work]\nregion = eu-north-1\n"
	    "endpoint_url = http://127.0.0.1:3\n");
	free(p);
	a = aws_open(NULL, &cause);
	ok(a != NULL && strcmp(a->access_key, "AKIDDEF") == 0 &&
	    strcmp(a->region, "us-east-2") == 0,
	    "default profile: keys and region from ~/.aws");
	aws_free(a);
	setenv("AWS_PROFILE", "work", 1);
	a = aws_open(NULL, &cause);
	ok(a != NULL && strcmp(a->access_key, "AKIDWORK") == 0 &&
	    strcmp(a->session_token, "tok") == 0 &&
	    strcmp(a->region, "eu-north-1") == 0,
	    "AWS_PROFILE=work: trimmed keys, token, region of [profile work]");
	if (a != NULL) {
		p = aws_endpoint(a, "ec2");
		is_string("http://127.0.0.1:3/", p,
		    "the profile's endpoint_url");
		free(p);
	}
	aws_free(a);
	setenv("AWS_PROFILE", "nosuch", 1);
	a = aws_open(NULL, &cause);
	ok(a == NULL && strstr(cause, "profile 'nosuch'") != NULL &&
	    strstr(cause, "(no keys there)") != NULL,
	    "a missing profile is named");
	free(cause);
	clear_env();
	free(home);
}

static void
test_params(void)
{
	struct aws_params p;
	char *e;

	aws_params_init(&p, "RunInstances", "2016-11-15");
	aws_param(&p, "UserData", "a b/c+d=");
	aws_param_tags(&p, 1, "instance", "fo-1", "demo", "fanout-bastion");
	ok(strncmp(p.sb.buf, "Action=RunInstances&Version=2016-11-15&"
	    "UserData=a%20b%2Fc%2Bd%3D", 64) == 0,
	    "parameters are percent-encoded");
	ok(strstr(p.sb.buf, "TagSpecification.1.ResourceType=instance") !=
	    NULL && strstr(p.sb.buf, "TagSpecification.1.Tag.1.Key="
	    "managedBy&TagSpecification.1.Tag.1.Value=fanout") != NULL &&
	    strstr(p.sb.buf, "Tag.2.Key=fanout%3Arun-set&"
	    "TagSpecification.1.Tag.2.Value=fo-1") != NULL &&
	    strstr(p.sb.buf, "Tag.4.Key=Name&TagSpecification.1.Tag.4."
	    "Value=fanout-bastion") != NULL, "the four fanout tags");
	aws_params_free(&p);
	e = http_escape("AZaz09-_.~ é");
	is_string("AZaz09-_.~%20%C3%A9", e, "unreserved kept, rest encoded");
	free(e);
}

static void
test_backoff(void)
{
	double d, max[8] = { 0 };
	int i, n, in_range = 1;

	for (i = 0; i < 4000; i++) {
		for (n = 1; n <= 7; n++) {
			d = http_backoff(n);
			if (d < 0 || d > (n >= 6 ? 20.0 : (double)(1 << (n -
			    1))))
				in_range = 0;
			if (d > max[n])
				max[n] = d;
		}
	}
	ok(in_range, "backoff is within [0, min(20, 2^(n-1))]");
	ok(max[1] > 0.9 && max[3] > 3.6, "full jitter reaches the cap");
	ok(max[7] > 19 && max[7] <= 20, "capped at 20 seconds");
}

static void
test_xml(void)
{
	static const char answer[] =
	    "<?xml version=\"1.0\"?><DescribeInstancesResponse xmlns="
	    "\"http://ec2.amazonaws.com/doc/2016-11-15/\"><reservationSet>"
	    "<item><instancesSet><item><instanceId>i-1</instanceId>"
	    "<instanceState><code>16</code><name>running</name>"
	    "</instanceState><networkInterfaceSet><item><association>"
	    "<ipAddress>9.9.9.9</ipAddress></association></item>"
	    "</networkInterfaceSet><ipAddress>1.2.3.4</ipAddress></item>"
	    "<item><instanceId>i-2</instanceId></item></instancesSet>"
	    "</item></reservationSet></DescribeInstancesResponse>";
	xmlDocPtr doc = xml_parse(answer, sizeof answer - 1);
	xmlNodePtr it;
	char *s;

	ok(doc != NULL, "an EC2 answer parses");
	if (doc == NULL)
		return;
	it = xml_path(xmlDocGetRootElement(doc),
	    "reservationSet/item/instancesSet/item");
	ok(it != NULL, "xml_path follows children (default namespace)");
	s = xml_text(it, "instanceState/name");
	is_string("running", s, "xml_text with a path");
	free(s);
	s = xml_child_text(it, "ipAddress");
	is_string("1.2.3.4", s, "xml_child_text skips nested elements");
	free(s);
	s = xml_text(it, "ipAddress");
	is_string("9.9.9.9", s, "xml_text searches depth-first");
	free(s);
	it = xml_next(it, "item");
	s = it != NULL ? xml_child_text(it, "instanceId") : NULL;
	is_string("i-2", s, "xml_next walks item lists");
	free(s);
	ok(xml_text(xmlDocGetRootElement(doc), "nothing") == NULL,
	    "a missing element is NULL");
	xmlFreeDoc(doc);
	ok(xml_parse("<a><b></a>", 10) == NULL, "broken XML is refused");
	ok(xml_parse("", 0) == NULL, "an empty answer is refused");
}

int
main(void)
{
	plan_lazy();
	xmlInitParser();
	test_settings();
	test_params();
	test_backoff();
	test_xml();
	xmlCleanupParser();
	return done_testing();
}
