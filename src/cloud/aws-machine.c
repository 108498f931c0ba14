/* The machines that run the tasks on AWS: the dated price table shipped
 * in the data folder (data/aws-prices.json, read and checked once), and
 * the settling of a create's answers before anything is made: a type
 * given is checked against the region, or the cheapest type that fits
 * resources' cpus and memory is picked (DescribeInstanceTypes for the
 * facts, the table for on-demand prices, DescribeSpotPriceHistory for
 * spot), and the answers say what was chosen and why. */
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/aws.h"
#include "cloud/aws-internal.h"
#include "cloud/ec2.h"
#include "cloud/prices.h"
#include "cloud/provider.h"
#include "engine/engine.h"
#include "history/history.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

#define PRICES_FILE "data/aws-prices.json"

static struct price_table prices = PRICE_TABLE_INIT(PRICES_FILE,
    "^[a-z0-9][a-z0-9-]*\\.[a-z0-9-]+$", "instance type");

double
aws_price(const char *type)
{
	return price_table_price(&prices, "on_demand", type);
}

char *
aws_prices_note(char **cause)
{
	json_t *t;

	if ((t = price_table_get(&prices, cause)) == NULL)
		return NULL;
	return xprintf("estimates: %s on-demand prices of %s (%s)",
	    history_str(t, "region", "?"), history_str(t, "date", "?"),
	    PRICES_FILE);
}

json_t *
aws_price_list(char **cause)
{
	json_t *t, *types, *v;
	const char *k;

	if ((t = price_table_get(&prices, cause)) == NULL)
		return NULL;
	types = json_array();
	if (json_is_array(json_object_get(t, "menu"))) {
		size_t i;

		json_array_foreach(json_object_get(t, "menu"), i, v)
			json_array_append_new(types, json_pack("{s:s, s:O}",
			    "name", json_string_value(v), "hourly_usd",
			    json_object_get(json_object_get(t, "on_demand"),
			    json_string_value(v))));
		return types;
	}
	json_object_foreach(json_object_get(t, "on_demand"), k, v)
		json_array_append_new(types, json_pack("{s:s, s:f}", "name", k,
		    "hourly_usd", json_number_value(v)));
	return types;
}

/* Settling ----------------------------------------------------------- */

/* What the settling depends on: when the answers still say the same, a
 * second call (the plan, then the create) asks AWS nothing again. */
static json_t *
machine_for(json_t *answers, const char *region)
{
	return json_pack("{s:O?, s:O?, s:b, s:s, s:O?, s:O?}", "cpus",
	    json_object_get(answers, "cpus"), "memory",
	    json_object_get(answers, "memory"), "spot",
	    json_is_true(json_object_get(answers, "spot")), "region", region,
	    "engine", json_object_get(answers, "engine"), "head",
	    json_object_get(answers, "head_instance_type"));
}

/* "8 vCPUs 16 GiB". */
static char *
machine_facts(json_t *t)
{
	double gib = json_number_value(json_object_get(t, "memory_gib"));

	return xprintf("%lld vCPU%s %g GiB", (long long)json_integer_value(
	    json_object_get(t, "vcpus")), json_integer_value(json_object_get(t,
	    "vcpus")) == 1 ? "" : "s", gib);
}

/* ">= 8 vCPUs and >= 16 GiB". */
static char *
machine_asked(int cpus, double memory)
{
	if (cpus > 0 && memory > 0)
		return xprintf(">= %d vCPU%s and >= %g GiB", cpus, cpus == 1 ?
		    "" : "s", memory);
	if (cpus > 0)
		return xprintf(">= %d vCPU%s", cpus, cpus == 1 ? "" : "s");
	return xprintf(">= %g GiB", memory);
}

/* "$0.306", "$0.0104", "$0.00001": a price with its digits, no more. */
static char *
machine_usd(double v)
{
	char *s = xprintf("$%.5f", v), *e = s + strlen(s) - 1;

	while (*e == '0' && e[-1] != '.')
		*e-- = '\0';
	return s;
}

/* "c6a.2xlarge: 8 vCPUs 16 GiB, $0.306/h[ on demand, spot $x/h][, how]". */
static char *
machine_why(json_t *t, const char *how)
{
	struct strbuf sb;
	char *facts = machine_facts(t);
	char *usd;

	strbuf_init(&sb);
	strbuf_addf(&sb, "%s: %s", history_str(t, "name", ""), facts);
	if (json_is_number(json_object_get(t, "hourly_usd"))) {
		usd = machine_usd(json_number_value(json_object_get(t,
		    "hourly_usd")));
		strbuf_addf(&sb, ", %s/h", usd);
		free(usd);
	} else
		strbuf_adds(&sb, ", no price in fanout's table");
	if (json_is_number(json_object_get(t, "spot_hourly_usd"))) {
		usd = machine_usd(json_number_value(json_object_get(t,
		    "spot_hourly_usd")));
		strbuf_addf(&sb, " on demand, spot %s/h", usd);
		free(usd);
	}
	if (how != NULL)
		strbuf_addf(&sb, ", %s", how);
	free(facts);
	return strbuf_detach(&sb);
}

/* The rank of a candidate: its spot price when asked and known, else
 * its on-demand price; then the on-demand price, then the name. */
static int
machine_better(json_t *a, json_t *b)
{
	double ra = json_number_value(json_object_get(a, "rank"));
	double rb = json_number_value(json_object_get(b, "rank"));
	double pa = json_number_value(json_object_get(a, "hourly_usd"));
	double pb = json_number_value(json_object_get(b, "hourly_usd"));

	if (ra != rb)
		return ra < rb;
	if (pa != pb)
		return pa < pb;
	return strcmp(history_str(a, "name", ""), history_str(b, "name",
	    "")) < 0;
}

/* Non-zero when t has more vCPUs than than (then more memory). */
static int
machine_larger(json_t *t, json_t *than)
{
	json_int_t a = json_integer_value(json_object_get(t, "vcpus"));
	json_int_t b = json_integer_value(json_object_get(than, "vcpus"));

	if (than == NULL || a != b)
		return than == NULL || a > b;
	return json_number_value(json_object_get(t, "memory_gib")) >
	    json_number_value(json_object_get(than, "memory_gib"));
}

/* "c6a.16xlarge (64 vCPUs 128 GiB)". */
static char *
machine_named_facts(json_t *t)
{
	char *facts = machine_facts(t), *s;

	s = xprintf("%s (%s)", history_str(t, "name", ""), facts);
	free(facts);
	return s;
}

/* Why nothing fits: the largest type of the region (of those priced,
 * when types fit that have no price). */
static char *
machine_none(struct aws *a, const char *asked, int spot, size_t nfit,
    json_t *largest, json_t *largest_priced, json_t *smallest_unpriced)
{
	char *big, *other, *s;

	if (largest == NULL)
		return xprintf("nothing fits: the region %s lists no x86_64 "
		    "instance type of the current generation that is not "
		    "burstable", a->region);
	if (nfit == 0) {
		big = machine_named_facts(largest);
		s = xprintf("nothing fits: no instance type in %s has %s%s; "
		    "the largest available is %s", a->region, asked, spot ?
		    " and spot capacity" : "", big);
		free(big);
		return s;
	}
	big = largest_priced != NULL ? machine_named_facts(largest_priced) :
	    xstrdup("none");
	other = machine_named_facts(smallest_unpriced);
	s = xprintf("nothing fits among the types fanout has prices for "
	    "(data/aws-prices.json, of %s): none has %s, the largest of them "
	    "is %s; %zu types in %s fit but have no price there: name one "
	    "with --instance-type (or resources.instance_type), e.g. %s",
	    history_str(price_table_get(&prices, NULL), "date", "?"), asked,
	    big, nfit, a->region, other);
	free(big);
	free(other);
	return s;
}

/* Picks the cheapest type that fits: 0 with *out (a type's facts and
 * prices) and *why; 1 (nothing fits) or -1 with a cause. */
static int
machine_pick(struct aws *a, int cpus, double memory, int spot,
    json_t **out, char **why, char **cause)
{
	json_t *types, *fit, *names, *sp = NULL, *t, *best = NULL;
	json_t *largest = NULL, *largest_priced = NULL, *small = NULL;
	struct strbuf sb;
	char *asked;
	size_t i, nfit = 0;
	double price;
	int rc;

	if ((rc = aws_ec2_instance_types(a, NULL, &types, cause)) != 0)
		return -1;
	fit = json_array();
	names = json_array();
	json_array_foreach(types, i, t) {
		/* Tasks keep their CPUs busy: a burstable type would run
		 * them at its baseline, or bill the surplus. */
		if (json_is_true(json_object_get(t, "burstable")))
			continue;
		price = aws_price(history_str(t, "name", ""));
		if (price > 0)
			json_object_set_new(t, "hourly_usd", json_real(price));
		if (machine_larger(t, largest))
			largest = t;
		if (price > 0 && machine_larger(t, largest_priced))
			largest_priced = t;
		if (json_integer_value(json_object_get(t, "vcpus")) < cpus ||
		    json_number_value(json_object_get(t, "memory_gib")) <
		    memory || (spot && !json_is_true(json_object_get(t,
		    "spot"))))
			continue;
		nfit++;
		if (price > 0) {
			json_array_append(fit, t);
			json_array_append_new(names, json_string(history_str(t,
			    "name", "")));
		} else if (small == NULL || machine_larger(small, t))
			small = t;
	}
	asked = machine_asked(cpus, memory);
	if (json_array_size(fit) == 0) {
		*cause = machine_none(a, asked, spot, nfit, largest,
		    largest_priced, small);
		rc = 1;
		goto out;
	}
	if (spot && aws_ec2_spot_prices(a, names, &sp, cause) != 0) {
		rc = -1;
		goto out;
	}
	json_array_foreach(fit, i, t) {
		price = json_number_value(json_object_get(t, "hourly_usd"));
		if (spot && json_is_number(json_object_get(sp, history_str(t,
		    "name", ""))))
			json_object_set(t, "spot_hourly_usd", json_object_get(sp,
			    history_str(t, "name", "")));
		json_object_set_new(t, "rank", json_real(spot &&
		    json_is_number(json_object_get(t, "spot_hourly_usd")) ?
		    json_number_value(json_object_get(t, "spot_hourly_usd")) :
		    price));
		if (best == NULL || machine_better(t, best))
			best = t;
	}
	*why = machine_why(best, NULL);
	strbuf_init(&sb);
	strbuf_addf(&sb, "%s; the cheapest%s of %zu types with %s in %s "
	    "(burstable types left out), prices of %s", *why, spot ?
	    " as spot" : "", json_array_size(fit), asked, a->region,
	    history_str(price_table_get(&prices, NULL), "date", "?"));
	if (nfit > json_array_size(fit))
		strbuf_addf(&sb, "; %zu types that fit have no price in "
		    "fanout's table and were not considered",
		    nfit - json_array_size(fit));
	free(*why);
	*why = strbuf_detach(&sb);
	json_object_del(best, "rank");
	*out = json_incref(best);
	rc = 0;
out:
	free(asked);
	json_decref(sp);
	json_decref(names);
	json_decref(fit);
	json_decref(types);
	return rc;
}

/* A type named by the answers (or the default): 0 with its facts, 1 when
 * the region lacks it, -1 failed. */
static int
machine_named(struct aws *a, const char *type, int spot, json_t **out,
    char **cause)
{
	json_t *types, *sp, *names;
	int rc;

	if ((rc = aws_ec2_type_offered(a, type, cause)) < 0)
		return -1;
	if (rc == 0 || aws_ec2_instance_types(a, type, &types, cause) != 0 ||
	    json_array_size(types) == 0) {
		if (rc != 0 && *cause != NULL)
			return -1;
		if (rc != 0)
			json_decref(types);
		xasprintf(cause, "instance type '%s' is not offered in %s; "
		    "choose one the region has (aws ec2 "
		    "describe-instance-type-offerings)", type, a->region);
		return 1;
	}
	*out = json_incref(json_array_get(types, 0));
	json_decref(types);
	if (aws_price(type) > 0)
		json_object_set_new(*out, "hourly_usd", json_real(aws_price(
		    type)));
	if (spot) {
		names = json_pack("[s]", type);
		rc = aws_ec2_spot_prices(a, names, &sp, cause);
		json_decref(names);
		if (rc != 0) {
			json_decref(*out);
			return -1;
		}
		if (json_is_number(json_object_get(sp, type)))
			json_object_set(*out, "spot_hourly_usd",
			    json_object_get(sp, type));
		json_decref(sp);
	}
	return 0;
}

int
aws_machine_settle(void *s, json_t *answers, char **cause)
{
	struct aws *a = s;
	const struct engine *e = engine_of(answers);
	json_t *m = json_object_get(answers, "machine"), *forv, *t = NULL;
	json_t *v;
	const char *type = aws_answer_str(answers, "instance_type", NULL);
	const char *how, *head;
	char *why = NULL;
	double memory = 0;
	int cpus = 0, spot, rc, picked = 0;

	if (price_table_get(&prices, cause) == NULL)
		return -1;
	if (json_is_integer(v = json_object_get(answers, "cpus")))
		cpus = (int)json_integer_value(v);
	if (json_is_number(v = json_object_get(answers, "memory")))
		memory = json_number_value(v);
	else if (json_is_string(v)) {
		char *end;

		/* The form's text: a number from here on. */
		memory = strtod(json_string_value(v), &end);
		if (end == json_string_value(v) || *end != '\0' ||
		    !isfinite(memory))
			memory = -1;
		else
			json_object_set_new(answers, "memory",
			    json_real(memory));
	}
	if (cpus < 0 || memory < 0 || (json_is_integer(json_object_get(answers,
	    "cpus")) && cpus == 0) || (json_object_get(answers, "memory") !=
	    NULL && !json_is_null(json_object_get(answers, "memory")) &&
	    memory == 0)) {
		xasprintf(cause, "cpus must be 1 or more and memory more than "
		    "0 GiB; leave them out to take the instance type as given");
		return 1;
	}
	spot = json_is_true(json_object_get(answers, "spot"));
	forv = machine_for(answers, a->region);
	if (json_is_object(m) && json_equal(json_object_get(m, "for"), forv) &&
	    type != NULL && strcmp(history_str(m, "type", ""), type) == 0) {
		json_decref(forv);
		return 0;	/* settled already, for the same answers */
	}
	/* A type picked for other answers is picked again. */
	if (json_is_object(m) && json_is_true(json_object_get(m, "picked")) &&
	    type != NULL && strcmp(history_str(m, "type", ""), type) == 0)
		type = NULL;
	if (type == NULL && (cpus > 0 || memory > 0)) {
		rc = machine_pick(a, cpus, memory, spot, &t, &why, cause);
		picked = 1;
		how = NULL;
	} else {
		how = type == NULL || strcmp(type, AWS_DEFAULT_TYPE) == 0 ?
		    "the default" : "as given";
		if (type == NULL)
			type = AWS_DEFAULT_TYPE;
		rc = machine_named(a, type, spot, &t, cause);
		if (rc == 0)
			why = machine_why(t, how);
		/* A type named wins over a size asked (fanout.yaml's
		 * instance_type, or one given on the command line): said
		 * when it is smaller. */
		if (rc == 0 && (json_integer_value(json_object_get(t,
		    "vcpus")) < cpus || json_number_value(json_object_get(t,
		    "memory_gib")) < memory)) {
			char *w = why, *asked = machine_asked(cpus, memory);

			why = xprintf("%s, though resources asks for %s", w,
			    asked);
			free(asked);
			free(w);
		}
	}
	/* A cluster's head: a type the region has. */
	if (rc == 0 && e != NULL && e->nodes) {
		head = aws_answer_str(answers, "head_instance_type",
		    AWS_HEAD_TYPE);
		if ((rc = aws_ec2_type_offered(a, head, cause)) == 0) {
			xasprintf(cause, "head instance type '%s' is not "
			    "offered in %s; choose one the region has", head,
			    a->region);
			rc = 1;
		} else
			rc = rc < 0 ? -1 : 0;
	}
	if (rc != 0) {
		json_decref(t);
		json_decref(forv);
		free(why);
		return rc;
	}
	json_object_set_new(answers, "instance_type", json_string(
	    history_str(t, "name", "")));
	json_object_set_new(answers, "machine", json_pack("{s:s, s:O, s:O, "
	    "s:O?, s:O?, s:s, s:b, s:o}", "type", history_str(t, "name", ""),
	    "vcpus", json_object_get(t, "vcpus"), "memory_gib",
	    json_object_get(t, "memory_gib"), "hourly_usd", json_object_get(t,
	    "hourly_usd"), "spot_hourly_usd", json_object_get(t,
	    "spot_hourly_usd"), "why", why, "picked", picked, "for", forv));
	json_decref(t);
	free(why);
	return 0;
}

double
aws_type_hourly(json_t *answers, const char *type)
{
	json_t *m = json_object_get(answers, "machine");

	if (type != NULL && json_is_true(json_object_get(answers, "spot")) &&
	    strcmp(history_str(m, "type", ""), type) == 0 &&
	    json_is_number(json_object_get(m, "spot_hourly_usd")))
		return json_number_value(json_object_get(m, "spot_hourly_usd"));
	return aws_price(type);
}

/* Why these (docs/cloud.md "Spot"): a persistent request whose instance
 * is stopped on interruption keeps the machine's disk, so a reclaimed
 * bastion is started again by resume and the run finishes there, and it
 * can be stopped (kept) as an on-demand one can; a one-time request's
 * instance cannot be stopped at all. A cluster node that is lost is
 * Slurm's to requeue: one-time and terminated, unless the run set is
 * kept (then stopped with the rest, so as the head). A persistent request
 * relaunches its instance after a terminate until it is cancelled:
 * teardown cancels it first (aws-provider.c). */
static const struct aws_spot aws_spot_keep = { 1, "stop" };
static const struct aws_spot aws_spot_once = { 0, "terminate" };

const struct aws_spot *
aws_spot_of(json_t *answers, int head)
{
	const struct engine *e = engine_of(answers);

	if (!json_is_true(json_object_get(answers, "spot")))
		return NULL;
	if (head && e != NULL && e->nodes)
		return NULL;	/* the scheduler: on demand */
	if (head || json_is_false(json_object_get(answers, "cleanup_after")))
		return &aws_spot_keep;
	return &aws_spot_once;
}
