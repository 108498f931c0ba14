/* Shared by the AWS provider's files (aws-steps.c: the create steps;
 * aws-provider.c: the ops table, resume and teardown). */
#ifndef FANOUT_CLOUD_AWS_INTERNAL_H
#define FANOUT_CLOUD_AWS_INTERNAL_H

#include <jansson.h>

#include "cloud/ec2.h"
#include "cloud/provider.h"

#define AWS_DEFAULT_TYPE "t3.micro"
#define AWS_WAIT_SECONDS 600.0	/* default deadline of a wait */
#define AWS_EBS_HOURLY (30 * 0.08 / 730)	/* 30 GB gp3 */
#define AWS_IPV4_HOURLY 0.005			/* public IPv4 address */

/* What the create steps hand to later steps (see struct cloud_run). */
struct aws_state {
	char	*cidr;		/* SSH source, "a.b.c.d/32" */
	char	*vpc;
	char	*subnet;
	char	*ami;
	char	*key_name;
	char	*group_id;
	char	*instance_id;
};

extern const struct cloud_step aws_base_steps[];
extern const struct cloud_step aws_head_steps[];
/* The login user of the images fanout starts (Amazon Linux 2023). */
#define AWS_LOGIN_USER	"ec2-user"

void	*aws_state_new(void);
void	 aws_state_free(void *);
/* On-demand hourly USD price of an instance type, or -1 when unknown. */
double	 aws_price(const char *type);
/* answers[key] as a string, or def. */
const char *aws_answer_str(json_t *answers, const char *key, const char *def);
/* A wait: polls until its own deadline ($FANOUT_CLOUD_WAIT seconds, else
 * AWS_WAIT_SECONDS), whatever transient errors the polls meet. */
struct aws_poll {
	double	start;		/* time_mono() at the first poll */
	double	limit;		/* seconds the wait may take */
	double	delay;		/* pause before the next poll (backoff) */
};

/* The deadline of a wait: $FANOUT_CLOUD_WAIT seconds (1 to 86400), else
 * AWS_WAIT_SECONDS; -1 with a cause for a bad value. */
int	 aws_wait_limit(double *, char **cause);
void	 aws_poll_init(struct aws_poll *);
/* Pauses before the next poll (0.5 s doubling to 5 s). Returns 0, or -1
 * when the deadline has passed or the sink was cancelled (*why says
 * which: "cancelled" or the wait's length, e.g. "10 minutes"). */
int	 aws_poll_next(struct cloud_run *, struct aws_poll *, char **why);
/* Waits until instance id is in one of the states in want (a
 * space-separated list; "gone" = terminated or not found); fills out
 * when not NULL. A status check that fails with a transient error
 * (throttled, 5xx, no answer, even after its 3 attempts) does not end
 * the wait; the deadline does, with a cause naming the last state seen
 * and the last failed check. Honours cancel. */
int	 aws_wait_instance(struct cloud_run *, const char *step,
	     const char *id, const char *want, struct aws_instance *out,
	     char **cause);
/* Records where the bastion answers (the resource and rec.ssh). */
int	 aws_record_address(struct cloud_run *, json_t *res,
	     const struct aws_instance *, char **cause);

#endif
