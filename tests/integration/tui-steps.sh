#!/bin/bash
# The progress screen's step list scrolls (tmux, 80x18 and 60x18), against
# moto_server: a create whose run cannot reach its bastion (lib-aws.sh's
# closed port) has more steps than fit. While the list is not scrolled
# the newest running step stays in view; Tab gives j/k/g/G to the list, a
# marker says how many steps are above and below, and scrolling shows
# every step, in the order they began; Tab gives the keys back to the
# log; ? lists the keys.
# Skipped while no cloud provider is built in.
. "$top_srcdir/tests/integration/lib.sh"
[ -f "$top_srcdir/tests/integration/lib-aws.sh" ] ||
	skip_all "no cloud provider in this build (tests/integration/lib-aws.sh)"
# shellcheck source=/dev/null
. "$top_srcdir/tests/integration/lib-aws.sh"
. "$top_srcdir/tests/integration/lib-tmux.sh"
plan_lazy

# The connect step waits this long for the bastion's (closed) port.
FANOUT_SSH_WAIT=8
ex=$(example sleep)

# The step pane: the rows under "  Steps" that are step cells ("ok name",
# " x name", " | name" running); the failure's cause ("x name: ...")
# and what follows are not.
pane() {
	tmux_screen | awk 'f && !/^(  ok|   [-x|\/\\]) / { exit }
	    f { print } /^  Steps/ { f = 1 }'
}
# names SPLIT: the step names in the pane, row by row, each row's cells
# left to right (cells split at column SPLIT; 0: one column).
names() {
	pane | awk -v s="$1" '{ if (s > 0) { print substr($0, 1, s);
	    print substr($0, s + 1) } else print }' |
	    sed -E 's/^ *(ok|[-x|/\\]) +//; s/ +$//;
	        s/ +([0-9.]+s|[0-9]+m[0-9]+s|[0-9]+h[0-9]+m|failed)$//' |
	    grep -v '^ *$'
}
# The pane shows step $1 running (spinner).
running() { pane | grep -Eq " [-|/\\] $1 +[0-9]"; }
# marker ABOVE BELOW: the pane's marker says so.
marker_is() { tmux_shows "\\[$1 more above, $2 below"; }
# collect SPLIT: from the top (g), j until nothing is below; prints every
# step name seen, first sighting first.
collect() {
	tmux_keys g
	wait_for 10 marker_is 0 '[0-9]+' || return 1
	_seen=""
	for _i in $(seq 1 30); do
		_seen=$(printf '%s\n%s\n' "$_seen" "$(names "$1")")
		tmux_shows "more above, 0 below" && break
		_above=$(tmux_screen | sed -nE 's/.*\[([0-9]+) more above.*/\1/p')
		tmux_keys j
		wait_for 10 eval '! marker_is "$_above" "[0-9]+"' || return 1
	done
	printf '%s\n' "$_seen" | grep -v '^$' | awk '!seen[$0]++'
}
# The order the steps began, as one line: each wave's steps in any order.
ORDER='^((identity|public address|network|image),){4}((key pair|security group),){2}bastion,bastion running,run,connect,stop bastion,$'

TMUX_PASS_ENV="HOME AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
    AWS_DEFAULT_REGION AWS_ENDPOINT_URL FANOUT_CHECKIP_URL
    FANOUT_BASTION_ADDRESS FANOUT_SSH_WAIT"
tmux_start 80 24
tmux_run "$FANOUT; echo fanout-exit=\$?"
tmux_expect "Run on this machine" "the main menu appears"

# A create, kept after its run (which cannot connect): 11 steps.
tmux_keys c
tmux_expect "> Project folder" "create asks the project folder"
tmux_type "$ex"
tmux_keys Enter Enter Enter Enter Enter Enter Enter Enter Enter Enter
tmux_expect "> Clean up everything after the run" "the last question"
tmux_keys n Enter
tmux_keys Enter	# the idle stop's default (a kept run set)
tmux_expect "Press Enter to start" "the confirmation, with the plan" 20
tmux_resize 80 18
tmux_keys Enter

# While it runs, not scrolled: the newest running step is in view, the
# earliest are not, and the marker says how many are above.
ok "$(wait_for 60 running connect; echo $?)" \
    "while connect runs, the list shows it running (the newest steps in view)"
tmux_expect "\\[[1-9][0-9]* more above, 0 below; Tab: scroll\\]" \
    "a marker says how many steps are above and none below"
like "$(names 40 | tr '\n' ',')" "connect," "the pane shows connect"
ok "$([ "$(names 40 | wc -l)" -lt 10 ]; echo $?)" \
    "fewer than the 10 steps begun so far show: they do not all fit"
tmux_expect "Steps \\(failed\\)" "the create's run fails (no sshd): the job ends" 90
tmux_expect "stop bastion" "the bastion is stopped: the last step"
like "$(names 40 | tail -1)" "^stop bastion$" \
    "after the end, not scrolled, the list shows its last step"
like "$(tmux_screen | tail -1)" "Tab steps/log" "the footer offers Tab"

# ? lists the keys.
tmux_keys '?'
tmux_expect "Tab +switch the scroll keys between the log and the step" \
    "? lists Tab (the scroll keys to the step list)"
tmux_expect "j/k, PgUp/PgDn, g/G +scroll the log pane, or the step list" \
    "? lists the scroll keys, for the log and for the steps"
tmux_keys Escape
tmux_expect "Steps \\(failed\\)" "Esc: back to the progress screen"

# Tab, then g and j: every step, in the order they began.
tmux_keys Tab
tmux_expect "below; j/k, Tab: log\\]" "Tab gives the scroll keys to the steps"
order=$(collect 40 | tr '\n' ',')
diag "steps at 80x18: $order"
like "$order" "$ORDER" "scrolling shows all 11 steps at 80x18, in the order they began"
is 11 "$(printf '%s' "$order" | tr ',' '\n' | grep -c .)" "each step once"
tmux_keys g
tmux_expect "\\[0 more above, [1-9][0-9]* below" "g: the top of the list; the marker says how many are below"
like "$(names 40 | head -1)" "^(identity|public address|network|image)$" \
    "g: a first-wave step is in view"
tmux_keys G
tmux_expect "\\[[1-9][0-9]* more above, 0 below" "G: the end of the list"
like "$(names 40 | tail -1)" "^stop bastion$" "G: the last step is in view"

# Tab again: j/k scroll the log.
tmux_keys Tab
tmux_expect "below; Tab: scroll\\]" "Tab gives the scroll keys back to the log"
tmux_keys k
tmux_expect "^  Log \\(scrolled; End for the newest\\)" "k now scrolls the log"
tmux_keys G
tmux_expect "^  Log *$" "G: the log back at its newest lines"

# One column below 70 columns: the same list, scrolled the same way.
tmux_resize 60 18
tmux_expect "Tab: scroll\\]" "at 60x18 the list still does not fit"
tmux_keys Tab
tmux_expect "j/k, Tab: log\\]" "Tab"
order=$(collect 0 | tr '\n' ',')
diag "steps at 60x18: $order"
like "$order" "$ORDER" "at 60x18 (one column) scrolling shows all 11 steps in order"

tmux_keys q
tmux_expect "fanout-exit=0" "q quits"

done_testing
