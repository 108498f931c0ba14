/* AWS: credentials and settings found the way the AWS CLI finds them, and
 * the two API styles fanout speaks: the Query API with XML answers (EC2,
 * IAM, STS; libxml2) and the JSON API (SSM, EKS, ECR; jansson). Every AWS
 * error becomes a cause "<Action>: <Code>: <Message>". */
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

/* The last AWS error code of a call on this thread ("" when the call
 * failed without one), for callers that treat e.g. NotFound as done. */
const char	*aws_last_code(void);
/* Non-zero when code ends with suffix (e.g. ".NotFound"). */
int		 aws_code_is(const char *suffix);

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

/* Calls a Query API (POST, SigV4). Returns the parsed answer (caller
 * xmlFreeDoc's) or NULL with a cause. Frees nothing of p. */
xmlDocPtr	 aws_query(struct aws *, const char *service,
		     struct aws_params *, char **cause);
/* Calls a JSON API: target "AmazonSSM.GetParameter". */
json_t		*aws_json(struct aws *, const char *service,
		     const char *target, json_t *body, char **cause);

#endif
