/* AWS: credentials and settings found the way the AWS CLI finds them, and
 * the two API styles fanout speaks: the Query API with XML answers (EC2,
 * IAM, STS; libxml2) and the JSON API (SSM, EKS, ECR; jansson). Every AWS
 * error becomes a cause "<Action>: <Code>: <Message>" and one of the kinds
 * of enum cloud_err (provider.h). */
#ifndef FANOUT_CLOUD_AWS_H
#define FANOUT_CLOUD_AWS_H

#include <jansson.h>
#include <libxml/tree.h>

#include "util/strbuf.h"

struct aws {
	char	*access_key;	/* never logged, never written */
	char	*secret_key;
	char	*session_token;	/* or NULL */
	char	*region;
	char	*profile;	/* profile used, for messages */
	char	*creds_from;	/* where the credentials came from */
	char	*endpoint_url;	/* endpoint_url of the profile, or NULL */
};

/* The kind (enum cloud_err, provider.h) of an AWS error: code is the AWS
 * error code or NULL, status the HTTP status (0: no answer came). */
int		 aws_error_kind(const char *code, long status);

/* Finds credentials and the region: AWS_ACCESS_KEY_ID/SECRET/SESSION_TOKEN,
 * else AWS_PROFILE (or "default") in AWS_SHARED_CREDENTIALS_FILE
 * (~/.aws/credentials) and AWS_CONFIG_FILE (~/.aws/config); region from
 * region_override, AWS_REGION, AWS_DEFAULT_REGION, the profile. The cause
 * names every place looked at. */
struct aws	*aws_open(const char *region_override, char **cause);
void		 aws_free(struct aws *);
/* The region names AWS has (a fixed table, NULL-terminated). */
extern const char *const aws_regions[];
/* Non-zero for a region name AWS has. */
int		 aws_region_known(const char *);
/* The region the settings name (as aws_open without an override finds
 * it, credentials aside), or NULL with a cause naming where it looked. */
char		*aws_config_region(char **cause);
/* Endpoint of service ("ec2", "sts", "ssm", ...): AWS_ENDPOINT_URL_<SVC>,
 * AWS_ENDPOINT_URL, the profile's endpoint_url, else the public one. */
char		*aws_endpoint(const struct aws *, const char *service);

/* Query-API parameters (Action=...&Version=...). */
struct aws_params {
	struct strbuf	 sb;
	char		*action;
};
void	aws_params_init(struct aws_params *, const char *action,
	    const char *version);
void	aws_param(struct aws_params *, const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* TagSpecification.N for resource_type with fanout's tags. */
void	aws_param_tags(struct aws_params *, int n, const char *resource_type,
	    const char *run_set, const char *project, const char *name);
void	aws_params_free(struct aws_params *);

/* Calls a Query API (POST, SigV4). Returns 0 with the parsed answer in
 * *doc (caller xmlFreeDoc's), or an enum cloud_err with a cause and *doc
 * NULL. Frees nothing of p. */
int		 aws_query(struct aws *, const char *service,
		     struct aws_params *, xmlDocPtr *doc, char **cause);
/* aws_query that frees p, for EC2 and IAM calls: NotFound, when gone_ok,
 * is no error: 0 with *doc NULL. */
int		 aws_query_gone(struct aws *, const char *service,
		     struct aws_params *, int gone_ok, xmlDocPtr *doc,
		     char **cause);
/* Calls a JSON API (target "AmazonSSM.GetParameter"): as aws_query, the
 * answer in *out (caller json_decref's). */
int		 aws_json(struct aws *, const char *service,
		     const char *target, json_t *body, json_t **out,
		     char **cause);

#endif
