/* The wizard's step runner: order from "after", ready steps at once on
 * threads, events for each step, stop at the first failure or on cancel;
 * and the flows registered in flow_ops. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cloud/provider.h"
#include "event.h"
#include "flows.h"
#include "tap.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"
#include "wizard/wizard.h"

static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;
static struct strbuf order;	/* names of steps as they finish */
static int b_started;		/* step b has begun */
static int a_saw_b;		/* step a saw b running beside it */
static int cancel_after;	/* cancel once this many steps ran */
static int ran;

static void
note(const char *name)
{
	pthread_mutex_lock(&order_lock);
	strbuf_addf(&order, "%s ", name);
	ran++;
	pthread_mutex_unlock(&order_lock);
}

static int
step_a(struct cloud_run *run, char **cause)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i, seen = 0;

	(void)run;
	(void)cause;
	/* b is in the same wave: it starts while a waits (up to 5 s). */
	for (i = 0; i < 500 && !seen; i++) {
		pthread_mutex_lock(&order_lock);
		seen = b_started;
		pthread_mutex_unlock(&order_lock);
		if (!seen)
			nanosleep(&ts, NULL);
	}
	a_saw_b = seen;
	note("a");
	return 0;
}

static int
step_b(struct cloud_run *run, char **cause)
{
	(void)run;
	(void)cause;
	pthread_mutex_lock(&order_lock);
	b_started = 1;
	pthread_mutex_unlock(&order_lock);
	note("b");
	return 0;
}

static int
step_c(struct cloud_run *run, char **cause)
{
	(void)run;
	(void)cause;
	note("c");
	return 0;
}

static int
step_fail(struct cloud_run *run, char **cause)
{
	(void)run;
	note("fail");
	*cause = xstrdup("it broke");
	return -1;
}

/* A sink that counts events (called from the runner's threads, through
 * its lock). */
struct counts {
	int	start, done, fail;
	char	last_fail[64];
};

static void
count_emit(struct sink *s, const struct event *ev)
{
	struct counts *c = s->data;

	if (ev->type == EV_STEP_START)
		c->start++;
	else if (ev->type == EV_STEP_DONE)
		c->done++;
	else if (ev->type == EV_STEP_FAIL) {
		c->fail++;
		snprintf(c->last_fail, sizeof c->last_fail, "%s: %s", ev->step,
		    ev->text);
	}
}

static int
count_cancelled(struct sink *s)
{
	(void)s;
	return cancel_after > 0 && ran >= cancel_after;
}

static void
reset(struct cloud_run *run, struct sink *sink, struct counts *c)
{
	strbuf_reset(&order);
	b_started = a_saw_b = ran = cancel_after = 0;
	memset(c, 0, sizeof *c);
	sink->emit = count_emit;
	sink->cancelled = count_cancelled;
	sink->data = c;
	memset(run, 0, sizeof *run);
	run->sink = sink;
	pthread_mutex_init(&run->lock, NULL);
}

int
main(void)
{
	static const char *const after_ab[] = { "a", "b", NULL };
	static const char *const after_afail[] = { "a", "fail", NULL };
	static const char *const after_c[] = { "c", NULL };
	static const char *const after_nothing[] = { "nothing", NULL };
	static const struct cloud_step good[] = {
		{ "c", after_ab, step_c },
		{ "a", NULL, step_a },
		{ "b", NULL, step_b },
		{ NULL, NULL, NULL }
	};
	static const struct cloud_step failing[] = {
		{ "a", NULL, step_c },
		{ "fail", NULL, step_fail },
		{ "c", after_afail, step_c },
		{ NULL, NULL, NULL }
	};
	static const struct cloud_step cycle[] = {
		{ "a", after_nothing, step_c },
		{ NULL, NULL, NULL }
	};
	static const struct cloud_step chain[] = {
		{ "c", NULL, step_c },
		{ "b", after_c, step_b },
		{ NULL, NULL, NULL }
	};
	struct cloud_run run;
	struct sink sink;
	struct counts c;
	char *cause = NULL;

	plan_lazy();
	strbuf_init(&order);

	reset(&run, &sink, &c);
	ok(wizard_run_steps(&run, good, &cause) == 0, "a good table runs");
	ok(a_saw_b, "steps with nothing to wait for run at once");
	ok(strcmp(order.buf, "b a c ") == 0, "c runs after a and b (%s)",
	    order.buf);
	ok(c.start == 3 && c.done == 3 && c.fail == 0,
	    "a start and a done event per step");
	ok(run.sink == &sink, "the caller's sink is given back");
	pthread_mutex_destroy(&run.lock);

	reset(&run, &sink, &c);
	ok(wizard_run_steps(&run, failing, &cause) != 0, "a failing step fails "
	    "the table");
	is_string("it broke", cause, "with the step's cause");
	free(cause);
	cause = NULL;
	ok(strstr(order.buf, "c ") == order.buf ||
	    strstr(order.buf, "c ") == order.buf + 5,
	    "its wave finishes (%s)", order.buf);
	ok(ran == 2, "steps after the failure do not run");
	is_string("fail: it broke", c.last_fail, "a fail event names the step");
	pthread_mutex_destroy(&run.lock);

	reset(&run, &sink, &c);
	cancel_after = 1;
	ok(wizard_run_steps(&run, chain, &cause) != 0 && ran == 1,
	    "cancel stops before the next wave");
	is_string("cancelled", cause, "and says so");
	free(cause);
	cause = NULL;
	pthread_mutex_destroy(&run.lock);

	reset(&run, &sink, &c);
	ok(wizard_run_steps(&run, cycle, &cause) != 0 && ran == 0,
	    "a step waiting on a missing step is refused");
	free(cause);
	pthread_mutex_destroy(&run.lock);

	ok(flow_ops.create == NULL, "flow_ops is empty until registered");
	aws_flows_register();
	ok(flow_ops.plan == wizard_plan && flow_ops.create == wizard_create &&
	    flow_ops.resume == wizard_resume &&
	    flow_ops.cleanup == wizard_cleanup &&
	    flow_ops.orphans == wizard_orphans &&
	    flow_ops.cleanup_orphans == wizard_cleanup_orphans,
	    "aws_flows_register fills every flow");
	strbuf_free(&order);
	return done_testing();
}
