/* EC2 calls about machine types and spot capacity: the region's instance
 * types and their facts (DescribeInstanceTypes, paginated), whether the
 * region offers a type (DescribeInstanceTypeOfferings), the latest spot
 * prices (DescribeSpotPriceHistory, paginated), and the spot requests of
 * a run set (DescribeSpotInstanceRequests, CancelSpotInstanceRequests). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>

#include "cloud/aws.h"
#include "cloud/ec2.h"
#include "cloud/provider.h"
#include "cloud/xml.h"
#include "util/xmalloc.h"

#define EC2_VERSION "2016-11-15"
#define EC2_PAGES_MAX 200	/* pages of one listing: a loop guard */

/* A number from an element's text, or -1. */
static double
types_number(xmlNodePtr n, const char *path)
{
	char *s = xml_text(n, path), *end;
	double v;

	if (s == NULL)
		return -1;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || !(v >= 0))
		v = -1;
	free(s);
	return v;
}

/* The next page's token of an answer, or NULL at the last page. */
static char *
types_next(xmlDocPtr doc)
{
	char *t = xml_child_text(xmlDocGetRootElement(doc), "nextToken");

	if (t != NULL && *t == '\0') {
		free(t);
		t = NULL;
	}
	return t;
}

int
aws_ec2_instance_types(struct aws *a, const char *type, json_t **types,
    char **cause)
{
	struct aws_params p;
	xmlNodePtr it, u;
	xmlDocPtr doc;
	char *token = NULL, *name, *name2, *why = NULL;
	double vcpus, mib;
	int rc, page, spot, burst;

	*types = json_array();
	for (page = 0; page < EC2_PAGES_MAX; page++) {
		aws_params_init(&p, "DescribeInstanceTypes", EC2_VERSION);
		if (type != NULL)
			aws_param(&p, "InstanceType.1", "%s", type);
		else {
			aws_param(&p, "Filter.1.Name",
			    "processor-info.supported-architecture");
			aws_param(&p, "Filter.1.Value.1", "x86_64");
			aws_param(&p, "Filter.2.Name", "current-generation");
			aws_param(&p, "Filter.2.Value.1", "true");
			aws_param(&p, "MaxResults", "100");
		}
		if (token != NULL)
			aws_param(&p, "NextToken", "%s", token);
		free(token);
		token = NULL;
		if ((rc = aws_ec2_query(a, &p, 0, &doc, &why)) != 0) {
			/* A type that does not exist anywhere. */
			if (type != NULL && why != NULL && strstr(why,
			    "InvalidInstanceType") != NULL) {
				free(why);
				return 0;
			}
			json_decref(*types);
			*types = NULL;
			*cause = why;
			return rc;
		}
		it = xml_child(xml_child(xmlDocGetRootElement(doc),
		    "instanceTypeSet"), "item");
		for (; it != NULL; it = xml_next(it, "item")) {
			name = xml_child_text(it, "instanceType");
			vcpus = types_number(it, "vCpuInfo/defaultVCpus");
			mib = types_number(it, "memoryInfo/sizeInMiB");
			spot = 0;
			burst = 0;
			if ((name2 = xml_child_text(it,
			    "burstablePerformanceSupported")) != NULL)
				burst = strcmp(name2, "true") == 0;
			free(name2);
			u = xml_child(xml_child(it, "supportedUsageClasses"),
			    "item");
			for (; u != NULL; u = xml_next(u, "item")) {
				char *c = (char *)xmlNodeGetContent(u);

				if (c != NULL && strcmp(c, "spot") == 0)
					spot = 1;
				xmlFree(c);
			}
			/* An entry without its facts is not a choice. */
			if (name != NULL && vcpus >= 1 && mib > 0)
				json_array_append_new(*types, json_pack(
				    "{s:s, s:I, s:f, s:b, s:b}", "name", name,
				    "vcpus", (json_int_t)vcpus, "memory_gib",
				    mib / 1024, "spot", spot, "burstable",
				    burst));
			free(name);
		}
		token = types_next(doc);
		xmlFreeDoc(doc);
		if (token == NULL || type != NULL)
			break;
	}
	free(token);
	return 0;
}

int
aws_ec2_type_offered(struct aws *a, const char *type, char **cause)
{
	struct aws_params p;
	xmlDocPtr doc;
	char *found;
	int rc;

	aws_params_init(&p, "DescribeInstanceTypeOfferings", EC2_VERSION);
	aws_param(&p, "LocationType", "region");
	aws_param(&p, "Filter.1.Name", "instance-type");
	aws_param(&p, "Filter.1.Value.1", "%s", type);
	if ((rc = aws_ec2_query(a, &p, 0, &doc, cause)) != 0)
		return rc;
	found = xml_text(xmlDocGetRootElement(doc),
	    "instanceTypeOfferingSet/item/instanceType");
	xmlFreeDoc(doc);
	rc = found != NULL && strcmp(found, type) == 0;
	free(found);
	return rc;
}

int
aws_ec2_spot_prices(struct aws *a, json_t *names, json_t **prices,
    char **cause)
{
	struct aws_params p;
	xmlNodePtr it;
	xmlDocPtr doc;
	json_t *latest = json_object(), *v, *z, *zones;
	char *token = NULL, *type, *zone, *stamp, *key;
	char now[32];
	const char *k;
	double price;
	time_t t = time(NULL);
	struct tm tm;
	size_t i;
	int rc = 0, page;

	*prices = json_object();
	if (json_array_size(names) == 0)
		goto out;
	gmtime_r(&t, &tm);
	strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
	for (page = 0; page < EC2_PAGES_MAX; page++) {
		aws_params_init(&p, "DescribeSpotPriceHistory", EC2_VERSION);
		/* From now: the price in force in each zone. */
		aws_param(&p, "StartTime", "%s", now);
		aws_param(&p, "ProductDescription.1", "Linux/UNIX");
		json_array_foreach(names, i, v) {
			char pk[48];

			snprintf(pk, sizeof pk, "InstanceType.%zu", i + 1);
			aws_param(&p, pk, "%s", json_string_value(v));
		}
		aws_param(&p, "MaxResults", "1000");
		if (token != NULL)
			aws_param(&p, "NextToken", "%s", token);
		free(token);
		token = NULL;
		if ((rc = aws_ec2_query(a, &p, 0, &doc, cause)) != 0)
			goto out;
		it = xml_child(xml_child(xmlDocGetRootElement(doc),
		    "spotPriceHistorySet"), "item");
		for (; it != NULL; it = xml_next(it, "item")) {
			type = xml_child_text(it, "instanceType");
			zone = xml_child_text(it, "availabilityZone");
			stamp = xml_child_text(it, "timestamp");
			price = types_number(it, "spotPrice");
			if (type != NULL && zone != NULL && stamp != NULL &&
			    price > 0) {
				/* The latest of each type in each zone. */
				key = xprintf("%s %s", type, zone);
				v = json_object_get(latest, key);
				if (v == NULL || strcmp(json_string_value(
				    json_array_get(v, 0)), stamp) < 0)
					json_object_set_new(latest, key,
					    json_pack("[s,f,s]", stamp, price,
					    type));
				free(key);
			}
			free(type);
			free(zone);
			free(stamp);
		}
		token = types_next(doc);
		xmlFreeDoc(doc);
		if (token == NULL)
			break;
	}
	/* Each type's highest zone price: what a launch in any zone of the
	 * region may pay. */
	zones = latest;
	json_object_foreach(zones, k, z) {
		type = (char *)json_string_value(json_array_get(z, 2));
		price = json_real_value(json_array_get(z, 1));
		v = json_object_get(*prices, type);
		if (v == NULL || json_real_value(v) < price)
			json_object_set_new(*prices, type, json_real(price));
	}
out:
	free(token);
	json_decref(latest);
	if (rc != 0) {
		json_decref(*prices);
		*prices = NULL;
	}
	return rc;
}

int
aws_ec2_spot_requests(struct aws *a, const char *key, const char *value,
    const char *key2, const char *value2, json_t **ids, char **cause)
{
	struct aws_params p;
	xmlNodePtr it;
	xmlDocPtr doc;
	char *id;
	int rc;

	*ids = json_array();
	aws_params_init(&p, "DescribeSpotInstanceRequests", EC2_VERSION);
	aws_param(&p, "Filter.1.Name", "tag:%s", key);
	aws_param(&p, "Filter.1.Value.1", "%s", value);
	aws_param(&p, "Filter.2.Name", "state");
	aws_param(&p, "Filter.2.Value.1", "open");
	aws_param(&p, "Filter.2.Value.2", "active");
	aws_param(&p, "Filter.2.Value.3", "disabled");
	if (key2 != NULL) {
		aws_param(&p, "Filter.3.Name", "tag:%s", key2);
		aws_param(&p, "Filter.3.Value.1", "%s", value2);
	}
	if ((rc = aws_ec2_query(a, &p, 0, &doc, cause)) != 0) {
		json_decref(*ids);
		*ids = NULL;
		return rc;
	}
	it = xml_child(xml_child(xmlDocGetRootElement(doc),
	    "spotInstanceRequestSet"), "item");
	for (; it != NULL; it = xml_next(it, "item")) {
		if ((id = xml_child_text(it, "spotInstanceRequestId")) != NULL)
			json_array_append_new(*ids, json_string(id));
		free(id);
	}
	xmlFreeDoc(doc);
	return 0;
}

int
aws_ec2_cancel_spot_request(struct aws *a, const char *id, char **cause)
{
	struct aws_params p;
	xmlDocPtr doc;
	int rc;

	aws_params_init(&p, "CancelSpotInstanceRequests", EC2_VERSION);
	aws_param(&p, "SpotInstanceRequestId.1", "%s", id);
	if ((rc = aws_ec2_query(a, &p, 1, &doc, cause)) != 0)
		return rc;
	xmlFreeDoc(doc);
	return 0;
}

void
aws_ec2_param_spot(struct aws_params *p, const char *prefix,
    const struct aws_spot *s)
{
	char k[128];

	if (s == NULL)
		return;
	snprintf(k, sizeof k, "%sInstanceMarketOptions.MarketType", prefix);
	aws_param(p, k, "spot");
	snprintf(k, sizeof k, "%sInstanceMarketOptions.SpotOptions."
	    "SpotInstanceType", prefix);
	aws_param(p, k, "%s", s->persistent ? "persistent" : "one-time");
	snprintf(k, sizeof k, "%sInstanceMarketOptions.SpotOptions."
	    "InstanceInterruptionBehavior", prefix);
	aws_param(p, k, "%s", s->interruption);
}
