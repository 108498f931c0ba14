#!/bin/bash
# The main menu in a real terminal (tmux): it shows, has help, redraws on
# resize, has colours (none with NO_COLOR), survives any keys, and leaves
# the terminal as it found it: on q, on SIGTERM and on a crash signal.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-tmux.sh"
plan_lazy

# Only src/tui includes curses.
is "" "$(grep -rl curses "$top_srcdir/src" | grep -v "src/tui/")" "curses appears only in src/tui"

# Without a terminal the menu says what to use instead.
out=$("$FANOUT" </dev/null 2>&1 >/dev/null)
is 2 "$("$FANOUT" </dev/null >/dev/null 2>&1; echo $?)" "no terminal: exit 2"
like "$out" "needs a terminal.*fanout run --local" "no terminal: says what to use"

tmux_start 80 24
tmux_run "$FANOUT; echo fanout-exit=\$?"
tmux_expect "Run on this machine" "the main menu appears"
screen=$(tmux_screen)
for item in "Create cloud resources and run" "Resume from history" \
    "Clean up resources" "History" "Quit"; do
	like "$screen" "$item" "menu item: $item"
done
like "$(tmux_screen | sed -n 24p)" "q quit" "the key hints are on the last row of 24"
is 1 "$(tm display -p -t t '#{alternate_on}')" "the menu is on the alternate screen"

# Colours: the title bar is coloured unless NO_COLOR is set (below).
colours=$(tm capture-pane -p -e -t t | grep -c $'\033\\[[0-9;]*\\(3[0-7]\\|4[0-7]\\|[34]8;5\\)' || true)
ok "$([ "$colours" -gt 0 ]; echo $?)" "colours are used ($colours coloured rows)"

tmux_keys j
tmux_expect "Run again on machines" "j moves to the next item (its help shows)"
tmux_keys '?'
tmux_expect "Keys of the main menu" "? shows the menu's keys"
like "$(tmux_screen)" "Esc +back" "help lists the common keys"
tmux_keys Escape
tmux_expect "Run again on machines" "Esc leaves the help"
tmux_keys k
tmux_wait "brings the results" 5

# The first item's help is wrapped to the width: it breaks elsewhere at 100.
like "$(tmux_screen)" "runs the\s*\$" "at 80 columns the help breaks after 'runs the'"

tmux_resize 100 30
tmux_wait "q quit" 5
is "100x30" "$(tmux_size)" "the pane is now 100x30"
tmux_wait_row 30 "q quit" 5
like "$(tmux_screen | sed -n 30p)" "q quit" "resized to 100x30: the hints move to row 30"
like "$(tmux_screen | sed -n 1p)" "fanout: main menu" "resized: the title is redrawn"
tmux_expect "runs the project and brings the" "resized: the help is wrapped to 100 columns" 5
tmux_resize 80 24
tmux_expect "runs the\s*\$" "back to 80x24: the help is wrapped to 80 again" 5
like "$(tmux_screen | sed -n 24p)" "q quit" "back to 80x24: the hints are on row 24 again"

# Any keys: nothing crashes (a crash would end fanout with a signal).
keys=(j k l c h u Enter Escape Tab BTab Up Down Left Right Home End PPage
    NPage BSpace DC '?' a 1 / '~' C-u C-w y n Space F1 C-l x 0 9 - .)
RANDOM=42
for _ in $(seq 1 300); do
	tmux_keys "${keys[$((RANDOM % ${#keys[@]}))]}"
done
for _ in 1 2 3 4 5 6 7 8 9 10; do tmux_keys Escape; done
tmux_wait "Run on this machine" 10
tmux_keys q
tmux_expect "fanout-exit=0" "300 random keys, then q: fanout ends well"

# q leaves the terminal clean.
is 0 "$(tm display -p -t t '#{alternate_on}')" "q: no alternate screen left"
screen=$(tmux_screen)
like "$screen" 'shell\$ *$' "q: the shell prompt is back"
tmux_absent "Create cloud resources" "q: no menu text left on the screen"

# NO_COLOR: no colours at all.
tm send-keys -t t 'clear' Enter
tmux_run "NO_COLOR=1 $FANOUT; echo fanout-exit=\$?"
tmux_expect "Run on this machine" "the menu appears with NO_COLOR"
colours=$(tm capture-pane -p -e -t t | grep -c $'\033\\[[0-9;]*\\(3[0-7]\\|4[0-7]\\|[34]8;5\\)' || true)
is 0 "$colours" "NO_COLOR: no colour sequences"
like "$(tm capture-pane -p -e -t t)" $'\033\\[[0-9;]*7m' "NO_COLOR: the selection is shown in reverse"

# A terminal without colours (vt100): no colours either.
tmux_keys q
tmux_expect "fanout-exit=0" "q again"
tm send-keys -t t 'clear' Enter
tmux_run "TERM=vt100 $FANOUT; echo fanout-exit=\$?"
tmux_expect "Run on this machine" "the menu appears on a vt100"
colours=$(tm capture-pane -p -e -t t | grep -c $'\033\\[[0-9;]*\\(3[0-7]\\|4[0-7]\\|[34]8;5\\)' || true)
is 0 "$colours" "vt100: no colour sequences"

# A signal to quit (SIGTERM) and a crash signal (SIGSEGV) restore the
# terminal too.
fanout_pid() { pgrep -n -P "$(tm display -p -t t '#{pane_pid}')" fanout; }
pid=$(fanout_pid)
ok "$([ -n "$pid" ]; echo $?)" "fanout runs in the pane (pid $pid)"
kill -TERM "$pid"
tmux_expect "fanout-exit=143" "SIGTERM: fanout ends with 128+15"
is 0 "$(tm display -p -t t '#{alternate_on}')" "SIGTERM: no alternate screen left"

tm send-keys -t t 'clear' Enter
tmux_run "$FANOUT; echo fanout-exit=\$?"
tmux_expect "Run on this machine" "the menu appears again"
kill -SEGV "$(fanout_pid)"
tmux_expect "fanout-exit=139" "SIGSEGV: fanout dies of the signal"
is 0 "$(tm display -p -t t '#{alternate_on}')" "SIGSEGV: no alternate screen left"

done_testing
