#!/bin/bash
# "Run on this machine" in a real terminal (tmux): bad answers keep the
# field, Tab completes, the confirmation, progress and results screens,
# the results folder listing, the history screen, and a cancelled run.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-tmux.sh"
plan_lazy

ex=$(example sleep)
mkdir -p "$TEST_TMP/empty"

tmux_start 80 24
tmux_run "cd $TEST_TMP && $FANOUT; echo fanout-exit=\$?"
tmux_expect "Run on this machine" "the main menu appears"
# Is a cloud provider built in? The menu says so under the create item.
if tmux_screen | grep -q "Not available in this build"; then cloud=0; else cloud=1; fi
diag "cloud provider built in: $cloud"
tmux_keys l
tmux_expect "> Project folder" "Run on this machine asks the project folder"

# A bad answer shows what is wrong under the field; the field stays.
tmux_type "$TEST_TMP/nowhere"
tmux_keys Enter
tmux_expect "no such folder" "a missing folder is refused"
like "$(tmux_screen)" "> Project folder +$TEST_TMP/nowhere" "the field keeps the answer"
tmux_keys C-u
tmux_type "$TEST_TMP/empty"
tmux_keys Enter
tmux_expect "has no fanout.yaml" "a folder without fanout.yaml is refused"
like "$(tmux_screen)" "> Project folder" "the cursor stays on the project folder"
tmux_absent "> Number of inputs" "the form did not move on"

tmux_keys '?'
tmux_expect "Keys of the questions" "? on the form lists its keys"
like "$(tmux_screen)" "Tab +complete a folder name" "including Tab"
tmux_keys Escape
tmux_expect "has no fanout.yaml" "Esc: back on the field, message and all"

# Tab completes the folder name.
tmux_keys C-u
tmux_type "$TEST_TMP/sle"
tmux_keys Tab
tmux_expect "Project folder +$TEST_TMP/sleep/" "Tab completes to sleep/"
tmux_keys Enter
tmux_expect "> Number of inputs +0" "the project is accepted; inputs default to 0 (all)"
tmux_keys Enter
tmux_expect "> Workers +4" "workers default to the project's 4"
tmux_keys C-u
tmux_type abc
tmux_keys Enter
tmux_expect "must be a whole number from 1 to 4096, not 'abc'" "abc workers is refused"
like "$(tmux_screen)" "> Workers" "and the field stays"
tmux_keys C-u
tmux_type 2
tmux_keys Enter

tmux_expect "Check the answers" "the confirmation screen shows"
screen=$(tmux_screen)
like "$screen" "Workers +2" "it lists the answers"
like "$screen" "8 task\\(s\\) of sleep-demo will run with 2 worker\\(s\\)" "it says what will run"

tmux_keys Enter
tmux_expect "Tasks +\\[" "the progress screen shows" 5
screen=$(tmux_screen)
like "$screen" "run on this machine" "its step is listed"
like "$screen" "Bytes" "with a bytes bar"
like "$screen" "Log" "and a log pane"
tmux_expect "task [0-9]+ \\(data/task-0[0-9].txt\\) ok" "finished tasks show in the log" 20

tmux_expect "sleep-demo: done, 8 of 8 task\\(s\\) ok" "the results screen follows" 30
# Read it once it is whole (its last line drawn), not half-painted.
tmux_wait "Results: " 10
screen=$(tmux_screen)
like "$screen" "Total tasks +8" "the performance table"
like "$screen" "Efficiency +[0-9.]+ %" "with the efficiency"
like "$screen" "Gantt" "a Gantt chart"
like "$screen" "w1 \\|[#=]+" "one row per worker (w1)"
like "$screen" "w2 \\|[#=]+" "one row per worker (w2)"
tmux_absent " w3 \\|" "no third worker row"
like "$screen" "Results: $TEST_TMP/sleep/results/20" "the results path"
results=$(find "$ex/results" -maxdepth 1 -name '20*' | head -1)
check "results.csv was written" test -s "$results/results.csv"
check "records.jsonl was written" test -s "$results/records.jsonl"

tmux_keys '?'
tmux_expect "Keys of the results" "? on the results lists its keys"
like "$(tmux_screen)" "o +list the results folder" "including o"
tmux_keys Escape
tmux_keys o
tmux_expect "results.csv" "o lists the results folder"
like "$(tmux_screen)" "runtime.png" "with the chart file"
tmux_keys Down Down Down Enter
tmux_expect "performance.txt" "Enter opens a file" 5
like "$(tmux_screen)" "Total tasks +8" "performance.txt is shown"
tmux_keys Escape Escape Escape
tmux_expect "Run on this machine" "Esc goes back to the main menu"

# History: the run is there; a record that does not parse is counted.
echo '{"id": "fo-broken' > "$FANOUT_HISTORY_DIR/fo-20260101-zzzz.json"
tmux_keys h
tmux_expect "sleep-demo" "the history screen lists the run"
like "$(tmux_screen)" "fo-[0-9]{8}-[a-z0-9]{4} +sleep-demo +local +done" "id, project, provider, state"
like "$(tmux_screen)" "1 record\\(s\\) in the history dir could not be read" "a broken record is counted, not shown"
tmux_keys '?'
tmux_expect "Keys of the history" "? on the history lists its keys"
like "$(tmux_screen)" "o +orphan sweep" "including o"
tmux_keys Escape
tmux_keys Enter
tmux_expect "Runs \\(1\\)" "Enter shows the details"
like "$(tmux_screen)" "results: $TEST_TMP/sleep/results/20" "with the results path"
tmux_keys Escape d
tmux_expect "made no cloud resources" "d on a local run says there is nothing to tear down"
tmux_keys o
if [ "$cloud" = 0 ]; then
	tmux_expect "not available in this build" "o: the orphan sweep is not in this build"
else
	tmux_expect "orphan sweep:|no orphans|tagged resource" "o: the orphan sweep answers" 30
fi
tmux_keys Escape

# A cancelled run: tasks that sleep long, c, y.
cp -R "$ex" "$TEST_TMP/slow"
rm -rf "$TEST_TMP/slow/results"
for f in "$TEST_TMP"/slow/data/*; do echo 30 > "$f"; done
tmux_keys l
tmux_expect "> Project folder" "the form again"
tmux_keys C-u
tmux_type "$TEST_TMP/slow"
tmux_keys Enter Enter Enter
tmux_expect "Check the answers" "confirmation for the slow run"
tmux_keys Enter
tmux_expect "Tasks +\\[" "the slow run runs"
tmux_wait "task.*slow|0/8 done" 5
wait_for 10 pgrep -f "$TEST_TMP/slow/./entrypoint"
ok $? "its tasks are running"
tmux_keys '?'
tmux_expect "Keys of the progress" "? on the progress screen lists its keys"
like "$(tmux_screen)" "c +cancel" "including c"
tmux_keys Escape
tmux_keys c
tmux_expect "Cancel the run\\?" "c asks before cancelling"
tmux_keys y
tmux_expect "sleep-demo: interrupted" "the run stops and shows what it has" 20
like "$(tmux_screen)" "Unfinished +[1-8]" "unfinished tasks are counted"
tmux_keys q
tmux_expect "fanout-exit=0" "q quits"
is 0 "$(tm display -p -t t '#{alternate_on}')" "no alternate screen left"
if pgrep -f "$TEST_TMP/slow/./entrypoint" >/dev/null; then
	ok 1 "no task of the cancelled run is left running"
else
	ok 0 "no task of the cancelled run is left running"
fi

done_testing
