/* The GCP provider's table and its pure parts: zones and regions, label
 * values, requestIds, labels, the region from gcloud's settings (no
 * network: gcp-create.sh and gcp-machine.sh call the stand-in). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloud/gcp-internal.h"
#include "cloud/provider.h"
#include "tap.h"

static void
zone_is(const char *zone, const char *want, const char *what)
{
	char *r = provider_gcp.zone_of(zone);

	is_string(want, r, what);
	free(r);
}

int
main(void)
{
	const struct provider *p = provider_find("gcp");
	struct cloud_run run;
	char *a, *b, *cause = NULL, dir[] = "/tmp/test-gcp-provider.XXXXXX";
	char *path;
	json_t *l;
	FILE *f;
	int ok_uuid;

	plan(22);

	ok(p == &provider_gcp, "provider_find(\"gcp\") is the GCP table");
	ok(p->zoned == 1 && p->detach == 0 && strcmp(p->store_scheme, "gs") ==
	    0, "zoned, no --detach, buckets are gs://");
	ok(p->store_check == NULL && p->store_fetch == NULL &&
	    p->store_put == NULL, "no bucket hooks yet: a gs:// project is "
	    "refused before anything is made");
	ok(p->blocks[CLOUD_BLOCK_BASE] == gcp_base_steps &&
	    p->blocks[CLOUD_BLOCK_HEAD] == gcp_head_steps,
	    "the base and head blocks");
	is_string("bastion running", gcp_head_steps[1].name,
	    "the head block's steps are named as AWS's (engines wait on them)");

	zone_is("us-central1-b", "us-central1", "a zone names its region");
	zone_is("europe-west10-a", "europe-west10", "a region with two digits");
	zone_is("us-central1", NULL, "a region is no zone");
	zone_is("mars-1-a", NULL, "a zone of no known region");
	zone_is("us-central1-", NULL, "a zone needs its letter");
	zone_is("", NULL, "an empty name");

	a = gcp_label_value("My Project.v2");
	is_string("my-project-v2", a, "label values: lowercase, other "
	    "characters as '-'");
	free(a);
	a = gcp_label_value("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	is_int(63, (long long)strlen(a), "label values: at most 63");
	free(a);

	a = gcp_request_id();
	b = gcp_request_id();
	ok_uuid = strlen(a) == 36 && a[8] == '-' && a[13] == '-' &&
	    a[14] == '4' && a[18] == '-' && strchr("89ab", a[19]) != NULL &&
	    a[23] == '-';
	ok(ok_uuid, "a requestId is a UUID v4 (%s)", a);
	ok(strcmp(a, b) != 0, "each requestId is new");
	free(a);
	free(b);

	memset(&run, 0, sizeof run);
	run.id = "fo-20261130-ab12";
	run.project = "Sleep Demo";
	l = gcp_labels(&run, "fanout-fo-20261130-ab12-bastion");
	a = json_dumps(l, JSON_SORT_KEYS | JSON_COMPACT);
	is_string("{\"fanout-name\":\"fanout-fo-20261130-ab12-bastion\","
	    "\"fanout-project\":\"sleep-demo\",\"fanout-run-set\":"
	    "\"fo-20261130-ab12\",\"managed-by\":\"fanout\"}", a,
	    "the labels of a resource");
	free(a);
	json_decref(l);

	/* The region from gcloud's settings. */
	if (mkdtemp(dir) == NULL)
		bail("mkdtemp");
	setenv("HOME", dir, 1);
	unsetenv("CLOUDSDK_CONFIG");
	unsetenv("CLOUDSDK_ACTIVE_CONFIG_NAME");
	unsetenv("CLOUDSDK_COMPUTE_REGION");
	unsetenv("CLOUDSDK_COMPUTE_ZONE");
	a = p->config_region(&cause);
	is_string("us-central1", a, "no settings: us-central1");
	free(a);
	setenv("CLOUDSDK_COMPUTE_ZONE", "asia-east1-b", 1);
	a = p->config_region(&cause);
	is_string("asia-east1", a, "CLOUDSDK_COMPUTE_ZONE's region");
	free(a);
	unsetenv("CLOUDSDK_COMPUTE_ZONE");
	path = malloc(strlen(dir) + 64);
	sprintf(path, "%s/.config", dir);
	mkdir(path, 0700);
	sprintf(path, "%s/.config/gcloud", dir);
	mkdir(path, 0700);
	sprintf(path, "%s/.config/gcloud/configurations", dir);
	mkdir(path, 0700);
	sprintf(path, "%s/.config/gcloud/configurations/config_default", dir);
	if ((f = fopen(path, "w")) == NULL)
		bail("fopen");
	fputs("[core]\nregion = nope\n[compute]\nzone = europe-west1-c\n"
	    "region = europe-west4\n", f);
	fclose(f);
	a = p->config_region(&cause);
	is_string("europe-west4", a, "[compute] region of the default "
	    "configuration (not [core]'s)");
	free(a);
	setenv("CLOUDSDK_COMPUTE_REGION", "us-east1", 1);
	a = p->config_region(&cause);
	is_string("us-east1", a, "CLOUDSDK_COMPUTE_REGION first");
	free(a);
	a = gcp_config_zone("europe-west1");
	is_string("europe-west1-c", a, "[compute] zone, for its region");
	free(a);
	a = gcp_config_zone("us-east1");
	is_string(NULL, a, "not for another region");
	free(a);
	unlink(path);
	sprintf(path, "%s/.config/gcloud/configurations", dir);
	rmdir(path);
	sprintf(path, "%s/.config/gcloud", dir);
	rmdir(path);
	sprintf(path, "%s/.config", dir);
	rmdir(path);
	rmdir(dir);
	free(path);
	free(cause);
	return done_testing();
}
