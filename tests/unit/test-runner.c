/* The step runner as a dependency scheduler (wizard_run_steps): fake steps
 * that block until the test releases them, so every ordering is decided
 * by the test, with no sleeps and no timings (a deadline only bounds a
 * wait that should end, so a broken runner fails instead of hanging). */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cloud/provider.h"
#include "event.h"
#include "tap.h"
#include "util/xmalloc.h"
#include "wizard/wizard.h"

#define MAXSTEPS	64
#define DEADLINE	30	/* seconds a wait that should end may take */

/* The table under test: slot k is the k-th entry, run by fake_fn[k]. */
struct table {
	struct cloud_step	 steps[MAXSTEPS + 1];
	const char		*after[MAXSTEPS][MAXSTEPS + 1];
	char			 names[MAXSTEPS][16];
	int			 deps[MAXSTEPS][MAXSTEPS];	/* slots */
	int			 ndeps[MAXSTEPS];
	int			 n;
};

/* What the fake steps and the sink saw; all guarded by lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;	/* any change */
static struct table *cur;	/* the table being run */
static int gated[MAXSTEPS];	/* the step blocks until released */
static int released[MAXSTEPS];
static int failing[MAXSTEPS];	/* the step fails */
static int started[MAXSTEPS];	/* times its run function began */
static int ended[MAXSTEPS];	/* its run function is returning */
static int ev_start[MAXSTEPS];	/* start events seen by the sink */
static int ev_done[MAXSTEPS];
static int ev_fail[MAXSTEPS];
static int early;		/* steps begun before a dep ended */
static int early_ev;		/* start events before a dep's done event */
static int bad_events;		/* events naming no step of the table */
static int told;		/* the runner said it stopped starting */
static char told_text[256];	/* and what it said */
static int cancel;		/* what the sink's cancelled says */
static int returned;		/* wizard_run_steps has returned */
static int result;		/* and what it returned */
static char *result_cause;
static int ended_at_return[MAXSTEPS];	/* ended[] when it returned */

static int
fake_run(int k, struct cloud_run *run, char **cause)
{
	int i, fail;

	(void)run;
	pthread_mutex_lock(&lock);
	started[k]++;
	for (i = 0; i < cur->ndeps[k]; i++) {
		if (!ended[cur->deps[k][i]])
			early++;
	}
	pthread_cond_broadcast(&cond);
	while (gated[k] && !released[k])
		pthread_cond_wait(&cond, &lock);
	fail = failing[k];
	ended[k] = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	if (fail) {
		*cause = xprintf("%s broke", cur->names[k]);
		return -1;
	}
	return 0;
}

#define FAKE(a, b) static int fake_##a##b(struct cloud_run *r, char **c) \
	{ return fake_run(8 * a + b, r, c); }
#define FAKE8(a) FAKE(a, 0) FAKE(a, 1) FAKE(a, 2) FAKE(a, 3) FAKE(a, 4) \
	FAKE(a, 5) FAKE(a, 6) FAKE(a, 7)
FAKE8(0) FAKE8(1) FAKE8(2) FAKE8(3) FAKE8(4) FAKE8(5) FAKE8(6) FAKE8(7)
#define NAME8(k) fake_##k##0, fake_##k##1, fake_##k##2, fake_##k##3, \
	fake_##k##4, fake_##k##5, fake_##k##6, fake_##k##7
static int (*const fake_fn[MAXSTEPS])(struct cloud_run *, char **) = {
	NAME8(0), NAME8(1), NAME8(2), NAME8(3), NAME8(4), NAME8(5), NAME8(6),
	NAME8(7)
};

static int
slot_of(const char *name)
{
	int k;

	for (k = 0; k < cur->n; k++) {
		if (strcmp(cur->names[k], name) == 0)
			return k;
	}
	return -1;
}

/* The sink (called through the runner's lock, from its threads). */
static void
test_emit(struct sink *s, const struct event *ev)
{
	int i, k;

	(void)s;
	pthread_mutex_lock(&lock);
	if (ev->type == EV_LOG && ev->step == NULL && ev->text != NULL &&
	    strstr(ev->text, "no more steps start") != NULL) {
		told++;
		snprintf(told_text, sizeof told_text, "%s", ev->text);
		pthread_cond_broadcast(&cond);
		pthread_mutex_unlock(&lock);
		return;
	}
	if (ev->type != EV_STEP_START && ev->type != EV_STEP_DONE &&
	    ev->type != EV_STEP_FAIL) {
		pthread_mutex_unlock(&lock);
		return;
	}
	k = ev->step != NULL ? slot_of(ev->step) : -1;
	if (k < 0)
		bad_events++;
	else if (ev->type == EV_STEP_START) {
		ev_start[k]++;
		for (i = 0; i < cur->ndeps[k]; i++) {
			if (!ev_done[cur->deps[k][i]])
				early_ev++;
		}
	} else if (ev->type == EV_STEP_DONE)
		ev_done[k]++;
	else
		ev_fail[k]++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static int
test_cancelled(struct sink *s)
{
	int c;

	(void)s;
	pthread_mutex_lock(&lock);
	c = cancel;
	pthread_mutex_unlock(&lock);
	return c;
}

static void
table_init(struct table *t)
{
	memset(t, 0, sizeof *t);
}

/* Adds a step; deps are slots, -1 ended. */
static int
table_add(struct table *t, const char *name, ...)
{
	va_list ap;
	int k = t->n++, d;

	snprintf(t->names[k], sizeof t->names[k], "%s", name);
	va_start(ap, name);
	while ((d = va_arg(ap, int)) >= 0) {
		t->deps[k][t->ndeps[k]] = d;
		t->after[k][t->ndeps[k]++] = t->names[d];
	}
	va_end(ap);
	t->steps[k].name = t->names[k];
	t->steps[k].after = t->ndeps[k] > 0 ? t->after[k] : NULL;
	t->steps[k].run = fake_fn[k];
	return k;
}

/* Adds a dependency on a name that need not be a step. */
static void
table_after(struct table *t, int k, const char *name)
{
	t->after[k][t->ndeps[k]++] = name;
	t->steps[k].after = t->after[k];
}

static struct cloud_run run;
static struct sink sink;
static pthread_t runner_thread;

static void *
runner_main(void *arg)
{
	char *c = NULL;
	int rc, k;

	rc = wizard_run_steps(&run, arg, &c);
	pthread_mutex_lock(&lock);
	for (k = 0; k < cur->n; k++)
		ended_at_return[k] = ended[k];
	result = rc;
	result_cause = c;
	returned = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* Runs t on a thread; the test drives its steps. */
static void
start(struct table *t)
{
	pthread_mutex_lock(&lock);
	cur = t;
	memset(gated, 0, sizeof gated);
	memset(released, 0, sizeof released);
	memset(failing, 0, sizeof failing);
	memset(started, 0, sizeof started);
	memset(ended, 0, sizeof ended);
	memset(ev_start, 0, sizeof ev_start);
	memset(ev_done, 0, sizeof ev_done);
	memset(ev_fail, 0, sizeof ev_fail);
	memset(ended_at_return, 0, sizeof ended_at_return);
	early = early_ev = bad_events = cancel = returned = result = 0;
	told = 0;
	told_text[0] = '\0';
	free(result_cause);
	result_cause = NULL;
	pthread_mutex_unlock(&lock);
	memset(&run, 0, sizeof run);
	sink.emit = test_emit;
	sink.cancelled = test_cancelled;
	sink.data = NULL;
	run.sink = &sink;
	pthread_mutex_init(&run.lock, NULL);
}

static void
go(struct table *t)
{
	if (pthread_create(&runner_thread, NULL, runner_main, t->steps) != 0)
		bail("pthread_create failed");
}

static void
finish(void)
{
	pthread_join(runner_thread, NULL);
	pthread_mutex_destroy(&run.lock);
}

/* Waits (lock held) until *flag is set, up to the deadline: 0 if set. */
static int
wait_flag(const int *flag)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += DEADLINE;
	while (!*flag) {
		if (pthread_cond_timedwait(&cond, &lock, &ts) != 0)
			return *flag ? 0 : -1;
	}
	return 0;
}

/* Waits until the runner says it stopped starting steps. */
static int
wait_told(void)
{
	int rc;

	pthread_mutex_lock(&lock);
	rc = wait_flag(&told);
	pthread_mutex_unlock(&lock);
	return rc;
}

static int
wait_started(int k)
{
	int rc;

	pthread_mutex_lock(&lock);
	rc = wait_flag(&started[k]);
	pthread_mutex_unlock(&lock);
	return rc;
}

static void
release(int k)
{
	pthread_mutex_lock(&lock);
	released[k] = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void
gate(int k, int fail)
{
	gated[k] = 1;
	failing[k] = fail;
}

static int
count(const int *v, int n)
{
	int k, sum = 0;

	for (k = 0; k < n; k++)
		sum += v[k];
	return sum;
}

/* (1) b waits only on a; c, beside a, runs on: b starts before c ends. */
static void
test_no_waves(void)
{
	struct table t;
	int a, b, c, d, b_started, c_running;

	table_init(&t);
	a = table_add(&t, "a", -1);
	c = table_add(&t, "c", -1);
	b = table_add(&t, "b", a, -1);
	d = table_add(&t, "d", b, c, -1);
	start(&t);
	gate(a, 0);
	gate(b, 0);
	gate(c, 0);
	go(&t);
	ok(wait_started(a) == 0 && wait_started(c) == 0,
	    "steps with nothing to wait for start at once");
	release(a);
	b_started = wait_started(b) == 0;
	pthread_mutex_lock(&lock);
	c_running = started[c] && !ended[c];
	pthread_mutex_unlock(&lock);
	ok(b_started && c_running, "a step starts as soon as its after steps "
	    "are done, while an unrelated step of its wave still runs");
	release(b);
	release(c);
	finish();
	ok(result == 0 && started[d] == 1, "the table runs to its end");
	ok(early == 0 && early_ev == 0, "no step starts before its after "
	    "steps end");
	ok(count(ev_start, t.n) == 4 && count(ev_done, t.n) == 4 &&
	    count(ev_fail, t.n) == 0 && bad_events == 0,
	    "a start and a done event per step");
	ok(run.sink == &sink, "the caller's sink is given back");
}

/* (2) A diamond and a chain: order holds at every step. */
static void
test_order(void)
{
	struct table t;
	int a, b, c, d, e;

	table_init(&t);
	a = table_add(&t, "a", -1);
	b = table_add(&t, "b", a, -1);
	c = table_add(&t, "c", a, -1);
	d = table_add(&t, "d", b, c, -1);
	e = table_add(&t, "e", d, -1);
	start(&t);
	gate(a, 0);
	gate(b, 0);
	gate(c, 0);
	go(&t);
	wait_started(a);
	pthread_mutex_lock(&lock);
	ok(!started[b] && !started[c], "b and c wait for a");
	pthread_mutex_unlock(&lock);
	release(a);
	ok(wait_started(b) == 0 && wait_started(c) == 0,
	    "b and c start once a is done");
	release(c);
	pthread_mutex_lock(&lock);
	ok(!started[d], "d waits for b although c is done");
	pthread_mutex_unlock(&lock);
	release(b);
	finish();
	ok(result == 0 && started[d] == 1 && started[e] == 1,
	    "d and e run after b and c");
	ok(early == 0 && early_ev == 0, "no step starts before its after "
	    "steps end (and its start event follows their done events)");
}

/* (3) A failure starts nothing more, joins the running steps, and gives
 * the failing step's cause. */
static void
test_failure(void)
{
	struct table t;
	int a, f, b, d, g;

	table_init(&t);
	a = table_add(&t, "a", -1);
	f = table_add(&t, "f", -1);
	b = table_add(&t, "b", f, -1);
	d = table_add(&t, "d", a, -1);
	g = table_add(&t, "g", -1);
	start(&t);
	gate(a, 0);
	gate(f, 1);
	gate(g, 0);
	go(&t);
	wait_started(a);
	wait_started(f);
	wait_started(g);
	release(f);
	ok(wait_told() == 0, "after a failure the runner says it starts no "
	    "more steps");
	is_string("no more steps start; waiting for the steps still running "
	    "to end: a, g", told_text, "and names the steps it waits for");
	pthread_mutex_lock(&lock);
	ok(!returned, "it has not returned while a and g run");
	pthread_mutex_unlock(&lock);
	release(g);
	release(a);
	finish();
	ok(result != 0, "a failing step fails the table");
	is_string("f broke", result_cause, "with the failing step's cause");
	ok(ended_at_return[a] && ended_at_return[g],
	    "the steps running at the failure end before it returns");
	ok(started[b] == 0 && started[d] == 0, "no step starts after the "
	    "failure (not even d, ready once a is done)");
	ok(ev_done[a] == 1 && ev_done[g] == 1 && ev_fail[f] == 1 &&
	    count(ev_fail, t.n) == 1, "events say which step failed");
	ok(told == 1, "the runner says it once");
}

/* (4) Cancel through the sink: the running steps end, nothing starts. */
static void
test_cancel(void)
{
	struct table t;
	int a, c, b, d;

	table_init(&t);
	a = table_add(&t, "a", -1);
	c = table_add(&t, "c", -1);
	b = table_add(&t, "b", a, -1);
	d = table_add(&t, "d", b, -1);
	start(&t);
	gate(a, 0);
	gate(c, 0);
	go(&t);
	wait_started(a);
	wait_started(c);
	pthread_mutex_lock(&lock);
	cancel = 1;
	pthread_mutex_unlock(&lock);
	release(a);
	ok(wait_told() == 0, "a cancel seen when a step ends starts no more "
	    "steps");
	is_string("no more steps start; waiting for the steps still running "
	    "to end: c", told_text, "and it waits for the one still running");
	release(c);
	finish();
	ok(result != 0, "a cancel fails the table");
	is_string("cancelled", result_cause, "and says so");
	ok(started[b] == 0 && started[d] == 0, "no step starts after the "
	    "cancel");
	ok(ended_at_return[a] && ended_at_return[c] && ev_done[a] == 1 &&
	    ev_done[c] == 1, "the running steps end (and say so)");

	/* Cancelled before anything starts. */
	table_init(&t);
	table_add(&t, "a", -1);
	start(&t);
	cancel = 1;
	go(&t);
	finish();
	ok(result != 0 && started[0] == 0 && count(ev_start, t.n) == 0,
	    "a cancel before the start runs nothing");
	is_string("cancelled", result_cause, "and says so");

	/* A cancel once the last step runs changes nothing. */
	table_init(&t);
	a = table_add(&t, "a", -1);
	start(&t);
	gate(a, 0);
	go(&t);
	wait_started(a);
	pthread_mutex_lock(&lock);
	cancel = 1;
	pthread_mutex_unlock(&lock);
	release(a);
	finish();
	ok(result == 0, "a cancel after the last step started: the table "
	    "still went well");
}

/* (5) A cycle or an unknown name is refused before anything starts. */
static void
test_refused(void)
{
	struct table t;
	int a, x, y;

	table_init(&t);
	table_add(&t, "c", -1);
	a = table_add(&t, "a", -1);
	table_add(&t, "b", a, -1);
	table_after(&t, a, "b");
	start(&t);
	go(&t);
	finish();
	ok(result != 0 && count(started, t.n) == 0 &&
	    count(ev_start, t.n) == 0, "a cycle is refused and nothing runs "
	    "(not even the step outside it)");
	ok(result_cause != NULL && strstr(result_cause, "cycle") != NULL &&
	    (strstr(result_cause, "a -> b -> a") != NULL ||
	    strstr(result_cause, "b -> a -> b") != NULL),
	    "the cause names the cycle (%s)", result_cause);

	table_init(&t);
	x = table_add(&t, "x", -1);
	table_add(&t, "w", x, -1);
	y = table_add(&t, "y", x, -1);
	table_add(&t, "z", y, -1);
	table_after(&t, x, "z");
	start(&t);
	go(&t);
	finish();
	ok(result != 0 && count(started, t.n) == 0 && result_cause != NULL &&
	    strstr(result_cause, "w ") == NULL &&
	    (strstr(result_cause, "x -> z -> y -> x") != NULL ||
	    strstr(result_cause, "z -> y -> x -> z") != NULL ||
	    strstr(result_cause, "y -> x -> z -> y") != NULL),
	    "a longer cycle, entered from outside, is named (%s)",
	    result_cause);

	table_init(&t);
	a = table_add(&t, "a", -1);
	table_after(&t, a, "a");
	start(&t);
	go(&t);
	finish();
	ok(result != 0 && count(started, t.n) == 0 && result_cause != NULL &&
	    strstr(result_cause, "a -> a") != NULL,
	    "a step waiting on itself is refused (%s)", result_cause);

	table_init(&t);
	table_add(&t, "c", -1);
	a = table_add(&t, "a", -1);
	table_after(&t, a, "nothing");
	start(&t);
	go(&t);
	finish();
	ok(result != 0 && count(started, t.n) == 0, "a step waiting on an "
	    "unknown step is refused and nothing runs");
	is_string("step \"a\" waits on \"nothing\", which is not in the step "
	    "table", result_cause, "the cause names both");

	table_init(&t);
	table_add(&t, "a", -1);
	table_add(&t, "a", -1);
	start(&t);
	go(&t);
	finish();
	ok(result != 0 && count(started, t.n) == 0, "two steps of one name "
	    "are refused");
	is_string("two steps are named \"a\" in the step table", result_cause,
	    "and the cause says so");

	table_init(&t);
	start(&t);
	go(&t);
	finish();
	ok(result == 0, "an empty table runs");
}

/* A small seeded generator (the same sequence everywhere). */
static unsigned long rng_state;

static unsigned
rng(unsigned n)
{
	rng_state = rng_state * 6364136223846793005UL + 1442695040888963407UL;
	return (unsigned)((rng_state >> 33) % n);
}

/* A random DAG of n steps, listed in a shuffled order. */
static void
random_dag(struct table *t, int n)
{
	int perm[MAXSTEPS], rank[MAXSTEPS], i, k, tmp, d;
	char name[16];

	for (i = 0; i < n; i++)
		perm[i] = i;
	for (i = n - 1; i > 0; i--) {
		k = (int)rng((unsigned)i + 1);
		tmp = perm[i];
		perm[i] = perm[k];
		perm[k] = tmp;
	}
	/* Slot perm[r] holds the r-th step of a topological order; names
	 * first, so that deps can point at any slot. */
	table_init(t);
	t->n = n;
	for (i = 0; i < n; i++) {
		rank[perm[i]] = i;
		snprintf(name, sizeof name, "s%02d", i);
		snprintf(t->names[perm[i]], sizeof t->names[0], "%s", name);
	}
	for (k = 0; k < n; k++) {
		for (d = 0; d < n; d++) {
			if (rank[d] < rank[k] && rng(8) == 0) {
				t->deps[k][t->ndeps[k]] = d;
				t->after[k][t->ndeps[k]++] = t->names[d];
			}
		}
		t->steps[k].name = t->names[k];
		t->steps[k].after = t->ndeps[k] > 0 ? t->after[k] : NULL;
		t->steps[k].run = fake_fn[k];
	}
}

static int
ready(const struct table *t, int k)
{
	int i;

	for (i = 0; i < t->ndeps[k]; i++) {
		if (!ended[t->deps[k][i]])
			return 0;
	}
	return 1;
}

/* (6) 50 steps, a random DAG: the test ends one running step at a time in
 * a random order; after each, every step now ready starts; all run once. */
static void
test_many(unsigned long seed)
{
	static struct table t;
	int running[MAXSTEPS], nrun, i, k, r, n = 50, missing = 0, edges = 0;
	struct timespec ts;

	rng_state = seed;
	random_dag(&t, n);
	for (k = 0; k < n; k++)
		edges += t.ndeps[k];
	start(&t);
	for (k = 0; k < n; k++)
		gate(k, 0);
	go(&t);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += DEADLINE;
	pthread_mutex_lock(&lock);
	for (r = 0; r < n; r++) {
		/* Waits until every ready step has started. */
		for (;;) {
			for (k = 0; k < n; k++) {
				if (!started[k] && ready(&t, k))
					break;
			}
			if (k == n)
				break;
			if (pthread_cond_timedwait(&cond, &lock, &ts) != 0) {
				missing++;
				break;
			}
		}
		if (missing)
			break;
		nrun = 0;
		for (k = 0; k < n; k++) {
			if (started[k] && !released[k])
				running[nrun++] = k;
		}
		if (nrun == 0)
			break;
		i = (int)rng((unsigned)nrun);
		released[running[i]] = 1;
		pthread_cond_broadcast(&cond);
		/* Waits for its end, so the next check sees it done. */
		while (!ended[running[i]])
			pthread_cond_wait(&cond, &lock);
	}
	/* Whatever happened, let everything end. */
	for (k = 0; k < n; k++)
		released[k] = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	finish();
	ok(missing == 0, "seed %lu (%d steps, %d edges): each step starts "
	    "as soon as its after steps end", seed, n, edges);
	ok(result == 0, "all %d steps go well", n);
	for (k = 0; k < n && started[k] == 1 && ev_start[k] == 1 &&
	    ev_done[k] == 1; k++)
		;
	ok(k == n, "each step ran once, with one start and one done event");
	ok(early == 0 && early_ev == 0 && bad_events == 0,
	    "no step started before its after steps ended");
}

/* Free running: the steps do not block; the scheduler alone orders them. */
static void
test_free(unsigned long seed)
{
	static struct table t;
	int k, n = 60;

	rng_state = seed;
	random_dag(&t, n);
	start(&t);
	go(&t);
	finish();
	for (k = 0; k < n && started[k] == 1 && ev_done[k] == 1; k++)
		;
	ok(result == 0 && k == n && early == 0 && early_ev == 0,
	    "seed %lu: %d free-running steps each run once, in order", seed,
	    n);
}

int
main(void)
{
	plan_lazy();
	test_no_waves();
	test_order();
	test_failure();
	test_cancel();
	test_refused();
	test_many(20240611UL);
	test_many(7UL);
	test_free(42UL);
	free(result_cause);
	return done_testing();
}
