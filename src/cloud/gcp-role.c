/* The Google Cloud role block (CLOUD_BLOCK_ROLE): the machines' own
 * service account, made when the project reads inputs from or writes
 * results to a bucket, and its bindings on those buckets only (nothing
 * project-wide): roles/storage.objectViewer on the inputs' bucket,
 * roles/storage.objectCreator on the results' bucket, each a member
 * added to the bucket's IAM policy (getIamPolicy, then setIamPolicy with
 * the etag read, again on a conflict). The instances name the account
 * (state->sa_email) and get its tokens from their metadata server; the
 * user's credentials never go to a host.
 *
 * The account is "fanout-<run-set id>" (IAM account ids: 6-30 characters,
 * [a-z][a-z0-9-]*[a-z0-9]); its display name and description name the run
 * set, so that the orphan search finds it (gcp_role_tagged). Kinds:
 * "service_account" (id: its e-mail) and "bucket_binding" (name
 * "gs://BUCKET ROLE", id "gs://BUCKET ROLE MEMBER"); teardown removes the
 * bindings (made after the account, so undone before it) and deletes the
 * account. An account is read and deleted as projects/-/serviceAccounts/
 * EMAIL (the project inferred from the e-mail), as gcloud does. IAM's
 * endpoint: CLOUDSDK_API_ENDPOINT_OVERRIDES_IAM, as gcloud
 * reads it, else https://iam.googleapis.com/. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cloud/gcp-internal.h"
#include "cloud/gcp-role.h"
#include "cloud/gcs.h"
#include "cloud/http.h"
#include "event.h"
#include "history/history.h"
#include "run/project.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

#define GCP_IAM_URL	"https://iam.googleapis.com/"
#define GCP_ROLE_READ	"roles/storage.objectViewer"
#define GCP_ROLE_WRITE	"roles/storage.objectCreator"
#define GCP_SA_DESC	"fanout run set "
/* How long a new account may stay unknown to setIamPolicy (IAM is
 * eventually consistent), s. */
#define GCP_SA_SETTLE	90.0

static void
role_sleep(double d)
{
	struct timespec ts;

	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0)
		;
}

static double
role_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* IAM's base + the path made from fmt. */
static char *
role_iam_url(const char *fmt, ...)
{
	const char *v = getenv("CLOUDSDK_API_ENDPOINT_OVERRIDES_IAM");
	struct strbuf sb;
	va_list ap;

	strbuf_init(&sb);
	if (v == NULL || *v == '\0')
		strbuf_adds(&sb, GCP_IAM_URL);
	else {
		strbuf_adds(&sb, v);
		if (v[strlen(v) - 1] != '/')
			strbuf_addc(&sb, '/');
	}
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	return strbuf_detach(&sb);
}

char *
gcp_role_account_id(const char *run_id)
{
	char *s = xprintf("fanout-%s", run_id), *p;
	size_t n;

	for (p = s; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
		else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' &&
		    *p <= '9')))
			*p = '-';
	}
	if ((n = strlen(s)) > 30)
		s[n = 30] = '\0';
	while (n > 0 && s[n - 1] == '-')
		s[--n] = '\0';
	return s;
}

static char *
role_email(struct gcp *g, const char *account_id)
{
	return xprintf("%s@%s.iam.gserviceaccount.com", account_id,
	    g->project);
}

/* An account by e-mail: 1 with *out (may be NULL), 0 none, or an enum
 * cloud_err with a cause. */
static int
role_sa_get(struct gcp *g, const char *email, json_t **out, char **cause)
{
	char *e = http_escape(email);
	char *url = role_iam_url("v1/projects/-/serviceAccounts/%s", e);
	int rc;

	free(e);
	rc = gcp_call(g, "GET", url, NULL, out, cause);
	free(url);
	if (rc == CLOUD_ENOTFOUND) {
		free(*cause);
		*cause = NULL;
		return 0;
	}
	return rc == 0 ? 1 : rc;
}

/* Makes the account (an account already there under the id is taken:
 * an attempt whose answer was lost). */
static int
role_sa_create(struct gcp *g, const char *aid, const char *display,
    const char *desc, char **email, char **cause)
{
	char *url = role_iam_url("v1/projects/%s/serviceAccounts", g->project);
	json_t *body, *out = NULL;
	int rc;

	body = json_pack("{s:s, s:{s:s, s:s}}", "accountId", aid,
	    "serviceAccount", "displayName", display, "description", desc);
	rc = gcp_call(g, "POST", url, body, &out, cause);
	json_decref(body);
	free(url);
	*email = NULL;
	if (rc == CLOUD_EDUPLICATE) {
		free(*cause);
		*cause = NULL;
		*email = role_email(g, aid);
		rc = role_sa_get(g, *email, NULL, cause);
		if (rc == 0)
			xasprintf(cause, "service account %s exists and does "
			    "not", *email);
		return rc == 1 ? 0 : -1;
	}
	if (rc == 0 && json_is_string(json_object_get(out, "email")))
		*email = xstrdup(json_string_value(json_object_get(out,
		    "email")));
	else if (rc == 0) {
		*cause = xstrdup("serviceAccounts.create: no email in the "
		    "answer");
		rc = -1;
	}
	json_decref(out);
	return rc;
}

/* "b/BUCKET/iam" of the storage endpoint. */
static char *
role_policy_url(struct gcp *g, const char *bucket)
{
	char *e = http_escape(bucket), *url;

	url = gcp_storage_url(g, "b/%s/iam", e);
	free(e);
	return url;
}

/* The members of role in policy (NULL when no binding has it). */
static json_t *
role_members(json_t *policy, const char *role)
{
	json_t *b;
	size_t i;

	json_array_foreach(json_object_get(policy, "bindings"), i, b) {
		if (json_is_string(json_object_get(b, "role")) && strcmp(
		    json_string_value(json_object_get(b, "role")), role) == 0 &&
		    json_object_get(b, "condition") == NULL)
			return json_object_get(b, "members");
	}
	return NULL;
}

static int
role_has_member(json_t *members, const char *member)
{
	json_t *m;
	size_t i;

	json_array_foreach(members, i, m)
		if (json_is_string(m) && strcmp(json_string_value(m),
		    member) == 0)
			return 1;
	return 0;
}

/* The bucket's policy: 0 with *out, CLOUD_ENOTFOUND (bucket gone), or an
 * enum cloud_err with a cause that names the fix for a 403. */
static int
role_policy_get(struct gcp *g, const char *bucket, json_t **out,
    char **cause)
{
	char *url = role_policy_url(g, bucket), *what, *why, *v3;
	long status = 0;
	int rc;

	/* Version 3: a policy with conditional bindings is read whole (and
	 * written back with them), as gcloud asks for it. */
	v3 = xprintf("%s?optionsRequestedPolicyVersion=3", url);
	free(url);
	url = v3;
	what = xprintf("GET b/%s/iam", bucket);
	rc = gcs_json(g, "GET", url, what, NULL, out, &status, cause);
	free(what);
	free(url);
	if (rc != 0 && status == 403) {
		why = *cause;
		xasprintf(cause, "the credentials of %s may not read the IAM "
		    "policy of gs://%s, which gives the machines' service "
		    "account its access: grant roles/storage.admin on the "
		    "bucket (%s)", gcs_who(g), bucket, why);
		free(why);
	}
	return rc;
}

int
gcp_role_binding(struct gcp *g, const char *bucket, const char *role,
    const char *member, int add, char **cause)
{
	double start = role_now();
	json_t *pol = NULL, *members, *b, *m;
	char *url, *what, *why;
	long status = 0;
	size_t i;
	int rc, n;

	for (n = 1;; n++) {
		if ((rc = role_policy_get(g, bucket, &pol, cause)) != 0)
			return rc == CLOUD_ENOTFOUND && !add ? 0 : rc;
		members = role_members(pol, role);
		if (add == role_has_member(members, member)) {
			json_decref(pol);
			return 0;
		}
		if (add && members == NULL) {
			if (!json_is_array(json_object_get(pol, "bindings")))
				json_object_set_new(pol, "bindings",
				    json_array());
			members = json_array();
			json_array_append_new(json_object_get(pol, "bindings"),
			    json_pack("{s:s, s:o}", "role", role, "members",
			    members));
		}
		if (add)
			json_array_append_new(members, json_string(member));
		else {
			json_array_foreach(members, i, m) {
				if (json_is_string(m) && strcmp(
				    json_string_value(m), member) == 0) {
					json_array_remove(members, i);
					break;
				}
			}
			/* A binding without members is refused. */
			json_array_foreach(json_object_get(pol, "bindings"), i,
			    b) {
				if (json_array_size(json_object_get(b,
				    "members")) == 0) {
					json_array_remove(json_object_get(pol,
					    "bindings"), i);
					break;
				}
			}
		}
		url = role_policy_url(g, bucket);
		what = xprintf("PUT b/%s/iam", bucket);
		rc = gcs_json(g, "PUT", url, what, pol, NULL, &status, cause);
		free(what);
		free(url);
		json_decref(pol);
		pol = NULL;
		if (rc == 0)
			return 0;
		/* 412: changed since read (the etag); 400 "does not exist":
		 * a new account IAM does not know everywhere yet. */
		if (n < 20 && (status == 412 || (add && status == 400 &&
		    strstr(*cause, "does not exist") != NULL &&
		    role_now() - start < GCP_SA_SETTLE))) {
			free(*cause);
			*cause = NULL;
			role_sleep(n < 5 ? 0.2 * n : 2.0);
			continue;
		}
		if (status == 403) {
			why = *cause;
			xasprintf(cause, "the credentials of %s may not set the "
			    "IAM policy of gs://%s, which gives the machines' "
			    "service account its access: grant "
			    "roles/storage.admin on the bucket (%s)", gcs_who(g),
			    bucket, why);
			free(why);
		}
		return rc;
	}
}

int
gcp_role_binding_has(struct gcp *g, const char *bucket, const char *role,
    const char *member, char **cause)
{
	json_t *pol = NULL;
	int rc;

	if ((rc = role_policy_get(g, bucket, &pol, cause)) != 0) {
		if (rc != CLOUD_ENOTFOUND)
			return rc;
		free(*cause);
		*cause = NULL;
		return 0;
	}
	rc = role_has_member(role_members(pol, role), member);
	json_decref(pol);
	return rc;
}

/* The project of run (its record's folder), or -1 with a cause. */
static int
role_project(struct cloud_run *run, struct project *pr, char **cause)
{
	const char *dir;

	pthread_mutex_lock(&run->lock);
	dir = history_str(run->rec, "project_dir", NULL);
	pthread_mutex_unlock(&run->lock);
	if (dir == NULL) {
		xasprintf(cause, "run set %s has no project folder in its "
		    "record", run->id);
		return -1;
	}
	return project_load(dir, pr, cause);
}

/* One binding of the account: intent (kind "bucket_binding", the bucket,
 * role and member recorded first: "bucket", "iam_role", "member"), the change, created. */
static int
role_bind(struct cloud_run *run, const char *bucket, const char *role,
    const char *member, char **cause)
{
	static const char *const deps[] = { "service_account", NULL };
	char *name = xprintf("gs://%s %s", bucket, role), *id;
	json_t *res;
	int rc = -1;

	if ((res = cloud_intent(run, "bucket_binding", name, NULL, deps,
	    cause)) == NULL)
		goto out;
	if (cloud_resource_set(run, res, "bucket", json_string(bucket),
	    cause) != 0 || cloud_resource_set(run, res, "iam_role",
	    json_string(role), cause) != 0 || cloud_resource_set(run, res,
	    "member", json_string(member), cause) != 0)
		goto out;
	if (gcp_role_binding(gcp_of(run), bucket, role, member, 1,
	    cause) != 0)
		goto out;
	id = xprintf("%s %s", name, member);
	rc = cloud_created(run, res, id, cause);
	free(id);
out:
	free(name);
	return rc;
}

static int
step_account(struct cloud_run *run, char **cause)
{
	struct gcp_state *st = run->state;
	struct gcp *g = gcp_of(run);
	struct project pr;
	char *aid = gcp_role_account_id(run->id), *email = NULL, *member = NULL;
	char *display, *desc;
	json_t *res;
	int rc = -1;

	memset(&pr, 0, sizeof pr);
	display = xprintf(GCP_SA_DESC "%s", run->id);
	desc = xprintf(GCP_SA_DESC "%s (project %s): the machines' access to "
	    "its buckets; fanout deletes it with the run set", run->id,
	    run->project != NULL ? run->project : "?");
	if (role_project(run, &pr, cause) != 0)
		goto out;
	if ((res = cloud_intent(run, "service_account", aid, NULL, NULL,
	    cause)) == NULL)
		goto out;
	email = role_email(g, aid);
	if (cloud_resource_set(run, res, "email", json_string(email),
	    cause) != 0)
		goto out;
	free(email);
	if (role_sa_create(g, aid, display, desc, &email, cause) != 0 ||
	    cloud_created(run, res, email, cause) != 0)
		goto out;
	member = xprintf("serviceAccount:%s", email);
	if (pr.inputs_url != NULL && role_bind(run, pr.inputs_url->bucket,
	    GCP_ROLE_READ, member, cause) != 0)
		goto out;
	if (pr.results_url != NULL && role_bind(run, pr.results_url->bucket,
	    GCP_ROLE_WRITE, member, cause) != 0)
		goto out;
	st->sa_email = xstrdup(email);
	event_log(run->sink, "service account", "%s: %s%s%s%s%s%s", email,
	    pr.inputs_url != NULL ? "reads gs://" : "",
	    pr.inputs_url != NULL ? pr.inputs_url->bucket : "",
	    pr.inputs_url != NULL && pr.results_url != NULL ? "; " : "",
	    pr.results_url != NULL ? "writes to gs://" : "",
	    pr.results_url != NULL ? pr.results_url->bucket : "",
	    " (bucket bindings only)");
	rc = 0;
out:
	project_free(&pr);
	free(member);
	free(email);
	free(display);
	free(desc);
	free(aid);
	return rc;
}

const struct cloud_step gcp_role_steps[] = {
	{ "service account", NULL, step_account },
	{ NULL, NULL, NULL }
};

void
gcp_role_plan(json_t *answers, json_t *resources)
{
	const char *dir = json_string_value(json_object_get(answers,
	    "project"));
	const struct store_url *in, *out;
	struct project pr;
	char *why = NULL;

	if (dir == NULL || project_load(dir, &pr, &why) != 0) {
		free(why);
		return;
	}
	in = pr.inputs_url;
	out = pr.results_url;
	if (in != NULL || out != NULL)
		json_array_append_new(resources, json_pack("{s:s, s:s, "
		    "s:s+++++, s:f}", "kind", "service_account", "name",
		    "service account", "detail", in != NULL ? "reads gs://" :
		    "", in != NULL ? in->bucket : "", in != NULL && out !=
		    NULL ? "; " : "", out != NULL ? "writes to gs://" : "",
		    out != NULL ? out->bucket : "", " (bucket bindings only)",
		    "hourly_usd", 0.0));
	project_free(&pr);
}

/* Recovery, existence and teardown (gcp-provider.c's kind table). */

/* The account's e-mail: res "email", else made from its name. */
static char *
role_res_email(struct cloud_run *run, json_t *res)
{
	const char *e = history_str(res, "email", NULL);
	const char *id = history_str(res, "id", "");

	if (e == NULL && strchr(id, '@') != NULL)
		e = id;		/* an orphan's: its id is the e-mail */
	return e != NULL ? xstrdup(e) : role_email(gcp_of(run),
	    history_str(res, "name", ""));
}

int
gcp_recover_sa(struct cloud_run *run, json_t *res, char **id, char **cause)
{
	char *email = role_res_email(run, res);
	int rc = role_sa_get(gcp_of(run), email, NULL, cause);

	if (rc == 1)
		*id = email;
	else
		free(email);
	return rc < 0 ? -1 : rc;
}

int
gcp_exists_sa(struct cloud_run *run, json_t *res, char **cause)
{
	char *email = role_res_email(run, res);
	int rc = role_sa_get(gcp_of(run), email, NULL, cause);

	free(email);
	return rc < 0 ? -1 : rc;
}

int
gcp_destroy_sa(struct cloud_run *run, json_t *res, char **cause)
{
	char *email = role_res_email(run, res), *e = http_escape(email), *url;
	int rc;

	url = role_iam_url("v1/projects/-/serviceAccounts/%s", e);
	rc = gcp_call(gcp_of(run), "DELETE", url, NULL, NULL, cause);
	if (rc == CLOUD_ENOTFOUND) {
		free(*cause);
		*cause = NULL;
		rc = 0;
	}
	free(url);
	free(e);
	free(email);
	return rc < 0 ? -1 : 0;
}

/* A binding's bucket, role and member: recorded on res, else from its
 * name ("gs://BUCKET ROLE") and the run set's account. */
static int
role_res_binding(struct cloud_run *run, json_t *res, char **bucket,
    char **role, char **member, char **cause)
{
	const char *name = history_str(res, "name", ""), *sp;
	char *aid, *email;

	*bucket = *role = *member = NULL;
	if (history_str(res, "bucket", NULL) != NULL && history_str(res,
	    "iam_role", NULL) != NULL && history_str(res, "member", NULL) != NULL) {
		*bucket = xstrdup(history_str(res, "bucket", NULL));
		*role = xstrdup(history_str(res, "iam_role", NULL));
		*member = xstrdup(history_str(res, "member", NULL));
		return 0;
	}
	if (strncmp(name, "gs://", 5) != 0 || (sp = strchr(name, ' ')) ==
	    NULL || sp == name + 5 || strncmp(sp + 1, "roles/", 6) != 0) {
		xasprintf(cause, "bucket binding '%s' of the record is not "
		    "'gs://BUCKET ROLE'", name);
		return -1;
	}
	*bucket = xstrndup(name + 5, (size_t)(sp - name - 5));
	*role = xstrdup(sp + 1);
	aid = gcp_role_account_id(run->id);
	email = role_email(gcp_of(run), aid);
	*member = xprintf("serviceAccount:%s", email);
	free(email);
	free(aid);
	return 0;
}

int
gcp_recover_binding(struct cloud_run *run, json_t *res, char **id,
    char **cause)
{
	char *b, *r, *m;
	int rc;

	if (role_res_binding(run, res, &b, &r, &m, cause) != 0)
		return -1;
	rc = gcp_role_binding_has(gcp_of(run), b, r, m, cause);
	if (rc == 1)
		*id = xprintf("gs://%s %s %s", b, r, m);
	free(b);
	free(r);
	free(m);
	return rc < 0 ? -1 : rc;
}

int
gcp_exists_binding(struct cloud_run *run, json_t *res, char **cause)
{
	char *b, *r, *m;
	int rc;

	if (role_res_binding(run, res, &b, &r, &m, cause) != 0)
		return -1;
	rc = gcp_role_binding_has(gcp_of(run), b, r, m, cause);
	free(b);
	free(r);
	free(m);
	return rc < 0 ? -1 : rc;
}

int
gcp_destroy_binding(struct cloud_run *run, json_t *res, char **cause)
{
	char *b, *r, *m;
	int rc;

	if (role_res_binding(run, res, &b, &r, &m, cause) != 0)
		return -1;
	rc = gcp_role_binding(gcp_of(run), b, r, m, 0, cause);
	free(b);
	free(r);
	free(m);
	return rc < 0 ? -1 : 0;
}

int
gcp_role_tagged(struct gcp *g, const char *region, json_t *out,
    char **cause)
{
	json_t *pages, *page, *a;
	const char *email, *desc;
	char *url, *e, *rs;
	size_t i, k, n;

	url = role_iam_url("v1/projects/%s/serviceAccounts?pageSize=100",
	    g->project);
	pages = gcp_list_pages(g, url, NULL, cause);
	free(url);
	if (pages == NULL)
		return -1;
	json_array_foreach(pages, k, page) {
		json_array_foreach(json_object_get(page, "accounts"), i, a) {
			email = json_string_value(json_object_get(a, "email"));
			desc = json_string_value(json_object_get(a,
			    "description"));
			if (email == NULL)
				continue;
			rs = NULL;
			if (desc != NULL && strncmp(desc, GCP_SA_DESC,
			    strlen(GCP_SA_DESC)) == 0) {
				desc += strlen(GCP_SA_DESC);
				rs = xstrndup(desc, strcspn(desc, " "));
			} else if (strncmp(email, GCP_NAME_PREFIX,
			    strlen(GCP_NAME_PREFIX)) == 0) {
				n = strcspn(email + 7, "@");
				rs = xstrndup(email + 7, n);
			} else
				continue;
			e = xstrndup(email, strcspn(email, "@"));
			json_array_append_new(out, json_pack("{s:s, s:s, s:s, "
			    "s:s, s:s, s:s}", "kind", "service_account", "id",
			    email, "name", e, "region", region, "run_set", rs,
			    "provider", "gcp"));
			free(e);
			free(rs);
		}
	}
	json_decref(pages);
	return 0;
}
