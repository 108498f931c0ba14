# Helpers for TUI tests driven through tmux: a private tmux server (its own
# socket, no config), a pane running an interactive shell in which fanout
# is started, keys sent with send-keys, the screen read with capture-pane.
# Source after lib.sh: . "$top_srcdir/tests/integration/lib-tmux.sh"

command -v tmux >/dev/null 2>&1 || skip_all "tmux is not installed"

TMUX_SOCK="fanout-test-$$"
export TMUX_SOCK
unset TMUX TMUX_PANE

tm() { tmux -L "$TMUX_SOCK" -f /dev/null "$@"; }

# tmux_start [W H]: a session with a plain shell, sized W x H (80 x 24).
tmux_start() {
	_ts_cmd=$(printf 'env -u NO_COLOR TERM=xterm-256color FANOUT_HISTORY_DIR=%q FANOUT_DATA_DIR=%q HOME=%q HISTFILE= PS1=%q' \
	    "$FANOUT_HISTORY_DIR" "${FANOUT_DATA_DIR:-$top_srcdir}" \
	    "$TEST_TMP" 'shell$ ')
	# The idle stop's watcher a create starts on a test host runs on
	# this machine: never a real power-off (lib-sshd.sh, lib-cluster.sh).
	_ts_cmd="$_ts_cmd $(printf 'FANOUT_IDLE_POWEROFF=%q' \
	    "${FANOUT_IDLE_POWEROFF:-echo idle-stop: would power off}")"
	# TMUX_PASS_ENV: more variables (names) to hand to the pane.
	for _v in ${TMUX_PASS_ENV:-}; do
		_ts_cmd="$_ts_cmd $(printf '%s=%q' "$_v" "${!_v}")"
	done
	_ts_cmd="$_ts_cmd bash --norc --noprofile -i"
	tm new-session -d -s t -x "${1:-80}" -y "${2:-24}" "$_ts_cmd" ||
	    bail "tmux would not start"
	at_exit "tmux_stop"
	tm set-option -g status off
	tmux_wait 'shell\$' 10 || bail "no shell prompt in tmux"
}

# Ends the private server and waits until its pane's shell is gone.
tmux_stop() {
	_pid=$(tm display -p -t t '#{pane_pid}' 2>/dev/null)
	tm kill-server 2>/dev/null
	_i=0
	while [ -n "$_pid" ] && kill -0 "$_pid" 2>/dev/null && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

# The visible screen as text.
tmux_screen() { tm capture-pane -p -t t; }

# tmux_wait REGEX [SECONDS]: polls the screen until it matches (grep -E).
# (tmux_shows REGEX: whether it matches now.)
tmux_shows() { tmux_screen | grep -Eq -- "$1"; }
tmux_wait() { wait_for "${2:-10}" tmux_shows "$1"; }

# tmux_wait_row ROW REGEX [SECONDS]: polls until row ROW (from 1) matches.
tmux_row_shows() { tmux_screen | sed -n "$1p" | grep -Eq -- "$2"; }
tmux_wait_row() { wait_for "${3:-10}" tmux_row_shows "$1" "$2"; }

# tmux_keys KEY...: send-keys (tmux key names: Enter, Escape, Down, C-u).
tmux_keys() { tm send-keys -t t "$@"; }
# tmux_type TEXT: literal text.
tmux_type() { tm send-keys -t t -l -- "$1"; }

# tmux_run CMD: types a command line at the shell and presses Enter.
tmux_run() { tmux_type "$1"; tmux_keys Enter; }

# tmux_expect REGEX DESCRIPTION [SECONDS]: a TAP assertion on the screen.
tmux_expect() {
	if tmux_wait "$1" "${3:-10}"; then
		ok 0 "$2"
	else
		ok 1 "$2"
		diag "screen does not match: $1"
		tmux_screen | sed 's/^/  | /' | while IFS= read -r l; do diag "$l"; done
	fi
}

# tmux_absent REGEX DESCRIPTION: a TAP assertion that the screen does not
# show REGEX (now).
tmux_absent() {
	if tmux_screen | grep -Eq -- "$1"; then
		ok 1 "$2"
		diag "the screen shows: $1"
	else
		ok 0 "$2"
	fi
}

# tmux_resize W H
tmux_resize() { tm resize-window -t t -x "$1" -y "$2"; }

# The pane's size as seen by tmux, e.g. "100x30".
tmux_size() { tm display -p -t t '#{pane_width}x#{pane_height}'; }
