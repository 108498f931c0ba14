/* The slurm engine's job array (slurm-run.c follows it): how the inputs
 * are cut into elements, the job script, its submission from the head,
 * squeue's view of each element (its state, its node, a requeue), the
 * progress per node, and a cancel. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/provider.h"
#include "engine/slurm-int.h"
#include "event.h"
#include "ssh/session.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/xmalloc.h"

/* How many array elements: several per node, so that Slurm can balance
 * and a lost node's requeued share is small (4 per node), but each with
 * at least 8 tasks per worker slot, so that Slurm's cost per element (a
 * job launch, a fraction of a second) stays small beside the work; never
 * fewer than one per node (while there are tasks), never more than
 * tasks. */
size_t
sl_elements(size_t tasks, size_t nodes, int workers)
{
	size_t e = 4 * nodes, cap = tasks / (8 * (size_t)workers);

	if (e > cap)
		e = cap;
	if (e < nodes)
		e = nodes;
	if (e > tasks)
		e = tasks;
	return e > 0 ? e : 1;
}

/* The job script: element E's share [E*N/n, (E+1)*N/n) of the inputs,
 * carried in the script, into runs/ID/eE.R/inputs; then fanout-worker
 * run on it with the node's name as the records' host. */
static char *
sl_script_text(struct sl_run *x)
{
	struct strbuf sb;
	char *q;
	size_t i, klen;

	strbuf_init(&sb);
	q = ssh_quote(x->rd);
	strbuf_addf(&sb, "#!/bin/sh\n# fanout run %s of run set %s\n"
	    "e=${SLURM_ARRAY_TASK_ID:?}\nr=${SLURM_RESTART_COUNT:-0}\n"
	    "cd && cd %s || exit 1\nd=runs/%s/e$e.$r\n"
	    "mkdir -p \"$d\" || exit 1\nexec >>\"$d/element.log\" 2>&1\n"
	    "a=$((e * %zu / %zu))\nb=$(((e + 1) * %zu / %zu))\n"
	    "sed -n \"$((a + 1)),${b}p\" >\"$d/inputs.new\" "
	    "<<'FANOUT_EOF_7f3a' || exit 1\n", x->run_id, x->run->id, q,
	    x->run_id, x->ninputs, x->nel, x->ninputs, x->nel);
	free(q);
	for (i = 0; i < x->ninputs; i++)
		strbuf_addf(&sb, "%s\n", x->paths != NULL ? x->paths[i] :
		    x->inputs[i]);
	strbuf_adds(&sb, "FANOUT_EOF_7f3a\nmv -f \"$d/inputs.new\" "
	    "\"$d/inputs\" || exit 1\n");
	/* Inputs in a bucket: the element's share fetched here first. */
	if (x->fetch_list != NULL)
		strbuf_addf(&sb, "sed -n \"$((a + 1)),${b}p\" >\"$d/fetch.list"
		    "\" <<'FANOUT_EOF_list' || exit 1\n%sFANOUT_EOF_list\n"
		    "fetch_list=$d/fetch.list\n%s", x->fetch_list, x->fetch);
	for (i = 0; i < x->pr.nenv; i++) {
		char *k;

		klen = strcspn(x->pr.env[i], "=");
		k = xstrndup(x->pr.env[i], klen);
		q = ssh_quote(x->pr.env[i] + klen + (x->pr.env[i][klen] != 0));
		strbuf_addf(&sb, "%s=%s\nexport %s\n", k, q, k);
		free(q);
		free(k);
	}
	q = ssh_quote(x->pr.entrypoint);
	strbuf_addf(&sb, "FANOUT_HOST=${SLURMD_NODENAME:-$(hostname -s)}\n"
	    "export FANOUT_HOST\nexec bin/fanout-worker-slurm run \"$d\" tree "
	    "%s %d %g %d\n", q, x->workers, x->pr.timeout, x->pr.retries);
	free(q);
	return strbuf_detach(&sb);
}

/* Submits the array from the head, unless a job of this run is there
 * already (a connection lost after sbatch): never twice. */
int
sl_submit(struct sl_run *x, struct ssh_session *hs, char **cause)
{
	struct strbuf out;
	char *script, *cmd, *p;
	int status, rc;

	script = sl_script_text(x);
	cmd = xprintf("j=$(squeue -h -n fanout-%s -o %%F 2>/dev/null | "
	    "head -n 1); if [ -z \"$j\" ]; then j=$(sbatch --parsable "
	    "--job-name=fanout-%s --array=0-%zu --requeue --nodes=1 "
	    "--ntasks=1 --cpus-per-task=%d --chdir=/tmp --output=/dev/null "
	    "--error=/dev/null) || exit 1; fi; echo \"#job ${j%%%%;*}\"",
	    x->run_id, x->run_id, x->nel - 1, x->workers);
	strbuf_init(&out);
	rc = sl_exec(hs, cmd, script, strlen(script), &out, &status, cause);
	free(cmd);
	free(script);
	if (rc == 0) {
		p = out.buf != NULL ? strstr(out.buf, "#job ") : NULL;
		if (status != 0 || p == NULL || p[5] < '0' || p[5] > '9') {
			xasprintf(cause, "sbatch on the head failed (exit %d)"
			    "%s%.300s", status, out.len > 0 ? ": " : "",
			    out.buf != NULL ? out.buf : "");
			rc = -1;
		} else {
			p += 5;
			x->job = xstrndup(p, strspn(p, "0123456789"));
		}
	}
	strbuf_free(&out);
	return rc;
}

/* Slurm states in which an element has not ended. */
static int
sl_active(const char *st)
{
	static const char *const live[] = { "PENDING", "RUNNING",
	    "CONFIGURING", "COMPLETING", "REQUEUED", "REQUEUE_HOLD",
	    "REQUEUE_FED", "RESIZING", "SUSPENDED", "STOPPED", "SIGNALING",
	    "STAGE_OUT", "SPECIAL_EXIT", "RESV_DEL_HOLD", NULL };
	size_t i;

	for (i = 0; live[i] != NULL; i++) {
		if (strcmp(st, live[i]) == 0)
			return 1;
	}
	return 0;
}

static struct sl_node *
sl_node_named(struct sl_run *x, const char *name)
{
	size_t i;

	for (i = 0; i < x->nnodes; i++) {
		if (strcmp(x->nodes[i].h.name, name) == 0)
			return &x->nodes[i];
	}
	return NULL;
}

/* One element's state and node, as squeue said (under x->lock). */
static void
sl_elem_set(struct sl_run *x, size_t i, const char *st, const char *node)
{
	struct sl_elem *e = &x->el[i];
	struct sl_node *was;
	double since;

	if (strcmp(node, "(null)") == 0)
		node = "";
	if (strcmp(e->state, "RUNNING") == 0 && (strcmp(st, "PENDING") == 0 ||
	    strncmp(st, "REQUEUE", 7) == 0) && e->node[0] != '\0') {
		/* Left its node without ending: requeued. */
		e->requeued = time_mono();
		snprintf(e->from, sizeof e->from, "%s", e->node);
		was = sl_node_named(x, e->node);
		if (was != NULL && was->lost)
			event_log(&x->sink, "run", "element %zu requeued by "
			    "Slurm %.1f s after node %s was lost", i,
			    e->requeued - was->lost_at, e->from);
		else
			event_log(&x->sink, "run", "element %zu requeued by "
			    "Slurm (was on %s)", i, e->from);
	}
	if (e->requeued > 0 && strcmp(st, "RUNNING") == 0 && *node != '\0') {
		was = sl_node_named(x, e->from);
		since = was != NULL && was->lost ? time_mono() - was->lost_at :
		    -1;
		if (since >= 0)
			event_log(&x->sink, "run", "element %zu running again "
			    "on %s, %.1f s after node %s was lost (requeue "
			    "time)", i, node, since, e->from);
		else
			event_log(&x->sink, "run", "element %zu running again "
			    "on %s", i, node);
		e->requeued = 0;
	}
	snprintf(e->state, sizeof e->state, "%s", st);
	if (*node != '\0')
		snprintf(e->node, sizeof e->node, "%s", node);
	if (!e->ended && !sl_active(st))
		e->ended = 1;
}

/* Reads squeue's view of the array; 1 when every element has ended, 0
 * not yet, -1 with a cause. */
int
sl_queue(struct sl_run *x, struct ssh_session *hs, char **cause)
{
	struct strbuf out;
	char *cmd, *p, *nl, id[64], st[32], node[128], *r, meta[32], *listed;
	unsigned long lo, hi, k;
	size_t i, left = 0;
	int status, rc, n;

	cmd = xprintf("squeue -h -r -t all -j %s -o '%%K %%T %%N' 2>&1",
	    x->job);
	strbuf_init(&out);
	rc = sl_exec(hs, cmd, "", 0, &out, &status, cause);
	free(cmd);
	if (rc != 0) {
		strbuf_free(&out);
		return -1;
	}
	pthread_mutex_lock(&x->lock);
	if (status != 0) {
		if (out.buf != NULL && strstr(out.buf, "Invalid job id") !=
		    NULL) {
			/* Gone from slurmctld's memory: every element
			 * ended long enough ago. */
			for (i = 0; i < x->nel; i++)
				x->el[i].ended = 1;
		} else {
			pthread_mutex_unlock(&x->lock);
			xasprintf(cause, "squeue on the head failed (exit %d)"
			    ": %.300s", status, out.buf != NULL ? out.buf :
			    "");
			strbuf_free(&out);
			return -1;
		}
	}
	listed = xcalloc(x->nel, 1);
	meta[0] = '\0';
	for (p = out.buf; status == 0 && p != NULL && *p != '\0'; p = nl) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl++ = '\0';
		node[0] = '\0';
		n = sscanf(p, "%63s %31s %127s", id, st, node);
		if (n < 2)
			continue;
		/* The array's own record (N/A): what it says holds for the
		 * elements not listed (its waiting ones, cancelled). */
		if (strcmp(id, "N/A") == 0) {
			snprintf(meta, sizeof meta, "%s", st);
			continue;
		}
		/* One element, or a range of pending ones: 3, 4-7,9%2. */
		for (r = strtok(id, "[],"); r != NULL; r = strtok(NULL, "[],")) {
			r[strcspn(r, "%")] = '\0';
			if (sscanf(r, "%lu-%lu", &lo, &hi) != 2) {
				if (sscanf(r, "%lu", &lo) != 1)
					continue;
				hi = lo;
			}
			for (k = lo; k <= hi && k < x->nel; k++) {
				sl_elem_set(x, k, st, node);
				listed[k] = 1;
			}
		}
	}
	for (i = 0; status == 0 && i < x->nel; i++) {
		if (listed[i] || x->el[i].ended)
			x->el[i].missing = 0;
		else if (meta[0] != '\0' && !sl_active(meta))
			sl_elem_set(x, i, meta, "");
		else if (++x->el[i].missing >= 5) {
			/* Gone from squeue (purged): ended. */
			x->el[i].ended = 1;
		}
	}
	free(listed);
	for (i = 0; i < x->nel; i++)
		left += !x->el[i].ended;
	pthread_mutex_unlock(&x->lock);
	strbuf_free(&out);
	return left == 0;
}

/* "node1 1 running 2 done, node2 ..." when it changed since *last. */
void
sl_progress(struct sl_run *x, char **last)
{
	struct strbuf sb;
	size_t i, pending = 0;
	struct sl_node *nd;

	pthread_mutex_lock(&x->lock);
	for (i = 0; i < x->nnodes; i++)
		x->nodes[i].running = x->nodes[i].done = 0;
	for (i = 0; i < x->nel; i++) {
		nd = sl_node_named(x, x->el[i].node);
		/* Not ended and not on a node yet (PENDING, REQUEUED):
		 * waiting; one that is finishing (COMPLETING) still holds
		 * its node. */
		if (!x->el[i].ended && (nd == NULL || strcmp(x->el[i].state,
		    "PENDING") == 0 || strncmp(x->el[i].state, "REQUEUE",
		    7) == 0))
			pending++;
		else if (nd != NULL && x->el[i].ended)
			nd->done++;
		else if (nd != NULL)
			nd->running++;
	}
	strbuf_init(&sb);
	strbuf_adds(&sb, "elements:");
	for (i = 0; i < x->nnodes; i++) {
		nd = &x->nodes[i];
		strbuf_addf(&sb, " %s %d running %d done%s%s", nd->h.name,
		    nd->running, nd->done, nd->lost ? " (lost)" : "",
		    i + 1 < x->nnodes ? "," : "");
	}
	strbuf_addf(&sb, "; %zu waiting", pending);
	pthread_mutex_unlock(&x->lock);
	if (*last == NULL || strcmp(*last, sb.buf) != 0) {
		event_log(&x->sink, "run", "%s", sb.buf);
		free(*last);
		*last = strbuf_detach(&sb);
	}
	strbuf_free(&sb);
}

/* A cancel: the waiting elements are cancelled, the running ones' worker
 * asked to stop (its tasks end as cancelled and are recorded). */
int
sl_cancel(struct sl_run *x, struct ssh_session *hs, char **cause)
{
	char *cmd;
	int rc;

	cmd = xprintf("scancel -t PENDING %s; scancel -b -s TERM %s; true",
	    x->job, x->job);
	rc = ssh_exec_input(hs, cmd, "", 0, cause);
	free(cmd);
	return rc;
}
