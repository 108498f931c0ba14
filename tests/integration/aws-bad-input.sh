#!/bin/bash
# Bad input: a clear one-line message, a non-zero exit, nothing made and
# no other record touched.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
plan_lazy

proj=$(example sleep)

# A healthy record that nothing below may touch.
"$FANOUT" create --no-run "$proj" --yes >"$TEST_TMP/good.id" 2>/dev/null
ok $? "a first run set is created"
good=$(cat "$TEST_TMP/good.id")
sum_before=$(md5sum "$FANOUT_HISTORY_DIR/$good.json")

fails() { # fails STATUS REGEX DESCRIPTION -- command...
	_want=$1 _re=$2 _d=$3
	shift 4
	"$@" >"$TEST_TMP/bad.out" 2>"$TEST_TMP/bad.err"
	is "$_want" "$?" "$_d: exit $_want"
	like "$(grep '^fanout: ' "$TEST_TMP/bad.err")" "$_re" "$_d: says what is wrong"
	is 1 "$(grep -c '^fanout: ' "$TEST_TMP/bad.err")" "$_d: in one line"
}

# No credentials anywhere: the message names the places looked at.
fails 2 'no AWS credentials found: looked at AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profile .default. in .*/\.aws/credentials \(missing\) and .*/\.aws/config \(missing\)' \
	"no credentials" -- env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$FANOUT" create --no-run "$proj" --yes
# A profile file without that profile's keys.
mkdir -p "$HOME/.aws"
printf '[default]\naws_access_key_id = AKIAFROMFILE\n' >"$HOME/.aws/credentials"
fails 2 "profile 'work' in .*credentials \(no keys there\)" "a profile without keys" -- \
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_PROFILE=work "$FANOUT" create --no-run "$proj" --yes
# Credentials from ~/.aws/credentials and the region from ~/.aws/config.
printf '[work]\naws_access_key_id = AKIAFROMFILE\naws_secret_access_key = fromfilesecret\n' >"$HOME/.aws/credentials"
printf '[profile work]\nregion = us-east-1\n' >"$HOME/.aws/config"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_REGION -u AWS_DEFAULT_REGION AWS_PROFILE=work \
	"$FANOUT" create --no-run "$proj" --yes --cleanup-after >/dev/null 2>&1
ok $? "credentials and region from the profile files work"
rm -rf "$HOME/.aws"

fails 2 "^fanout: --region: unknown region 'mars-north-1': not an AWS region; AWS regions: us-east-1, " "an unknown region" -- \
	"$FANOUT" create --no-run "$proj" --region mars-north-1 --yes
fails 2 "no AWS region: looked at --region, AWS_REGION, AWS_DEFAULT_REGION" "no region" -- \
	env -u AWS_REGION -u AWS_DEFAULT_REGION "$FANOUT" create --no-run "$proj" --yes
fails 2 "^fanout: region \(the default, from provider.region\): unknown region 'mars-north-1'" \
	"an unknown region in AWS_REGION" -- env AWS_REGION=mars-north-1 "$FANOUT" create --no-run "$proj" --yes

# The options go through the menu's checks (menus/create.yaml), and say
# what the form says under the field (tui-create.sh shows the same text),
# after the option's name.
long64=$(printf 'n%.0s' $(seq 64))
fails 2 "^fanout: --name: '-abc' is not valid: use letters, digits, '.', '_' and '-', starting with a letter or digit$" \
	"--name=-abc" -- "$FANOUT" create --no-run "$proj" --name=-abc --yes
fails 2 "^fanout: --name: must be at most 63 characters long, not 64$" "a 64-character name" -- \
	"$FANOUT" create --no-run "$proj" --name "$long64" --yes
fails 2 "^fanout: --name: must be at least 3 characters long, not 'x'$" "--name x" -- \
	"$FANOUT" create --no-run "$proj" --name x --yes
fails 2 "^fanout: --region: unknown region 'zz-nowhere-1': not an AWS region; AWS regions: us-east-1, us-east-2, us-west-1, us-west-2, \.\.\. \([0-9]+ in all\)$" \
	"a well-formed region that does not exist" -- "$FANOUT" create --no-run "$proj" --region zz-nowhere-1 --yes
fails 2 "^fanout: --files: must be a whole number of at least 0, not 'abc'$" "--files abc" -- \
	"$FANOUT" create --no-run "$proj" --files abc --yes
fails 2 "^fanout: --files: must be a whole number of at least 0, not '-1'$" "--files -1" -- \
	"$FANOUT" create --no-run "$proj" --files -1 --yes
fails 2 "^fanout: --engine: no engine 'kubernetes' in this build; engines: bastion, slurm$" "--engine kubernetes" -- \
	"$FANOUT" create --no-run "$proj" --engine kubernetes --yes
fails 2 "^fanout: --engine: no engine 'cloud9' in this build; engines: bastion, slurm$" "--engine cloud9" -- \
	"$FANOUT" create --no-run "$proj" --engine cloud9 --yes
fails 2 "^fanout: --nodes: 'nodes' does not apply to engine 'bastion', only to engine slurm; leave it out or choose one of those$" \
	"--nodes 3 with the bastion engine" -- "$FANOUT" create --no-run "$proj" --engine bastion --nodes 3 --yes
fails 2 "^fanout: --provider: no provider 'azure' in this build; providers: aws" "--provider azure" -- \
	"$FANOUT" create --no-run "$proj" --provider azure --yes
fails 2 "^fanout: create: --cleanup-after and --keep contradict each other; give one$" "--cleanup-after --keep" -- \
	"$FANOUT" create --no-run "$proj" --cleanup-after --keep --yes
fails 2 "fanout.yaml" "a folder without fanout.yaml" -- \
	"$FANOUT" create --no-run "$TEST_TMP" --yes
# A name of 45 characters fits every place a name goes (tags take 256,
# labels 63): it passes the question and the create alike.
long45=$(printf 'n%.0s' $(seq 45))
"$FANOUT" create --no-run --cleanup-after "$proj" --name "$long45" --yes >"$TEST_TMP/long.id" 2>"$TEST_TMP/long.err"
ok $? "a 45-character name creates (and --cleanup-after tears down)"
is "$long45" "$(rec_get "$(cat "$TEST_TMP/long.id")" 'r["project"]')" "the record carries the name"

# The answers file: the same reader, checks and messages, with file:line:column.
printf 'project: %s\nnodes: [1, 2]\n' "$proj" >"$TEST_TMP/bad-answers.yaml"
fails 2 "bad-answers.yaml:2:8: nodes: give one value, not a list or mapping" "an answers file with a list" -- \
	"$FANOUT" create --no-run --answers "$TEST_TMP/bad-answers.yaml" --yes
printf 'project: %s\ncolour: blue\n' "$proj" >"$TEST_TMP/bad-answers.yaml"
fails 2 "unknown key 'colour' \(the keys are project, name, " "an answers file with an unknown key" -- \
	"$FANOUT" create --no-run --answers "$TEST_TMP/bad-answers.yaml" --yes
printf 'project: %s\nfiles: lots\n' "$proj" >"$TEST_TMP/bad-answers.yaml"
fails 2 "bad-answers.yaml:2:8: files: must be a whole number of at least 0, not 'lots'$" \
	"an answers file with a non-number" -- "$FANOUT" create --no-run --answers "$TEST_TMP/bad-answers.yaml" --yes
printf 'project: %s\nname: -abc\n' "$proj" >"$TEST_TMP/bad-answers.yaml"
fails 2 "bad-answers.yaml:2:7: name: '-abc' is not valid: use letters" \
	"an answers file with a bad name" -- "$FANOUT" create --no-run --answers "$TEST_TMP/bad-answers.yaml" --yes
printf 'project: %s\nregion: zz-nowhere-1\n' "$proj" >"$TEST_TMP/bad-answers.yaml"
fails 2 "bad-answers.yaml:2:9: region: unknown region 'zz-nowhere-1'" \
	"an answers file with an unknown region" -- "$FANOUT" create --no-run --answers "$TEST_TMP/bad-answers.yaml" --yes
printf 'project: %s\nengine: bastion\nnodes: 1\n' "$proj" >"$TEST_TMP/bad-answers.yaml"
fails 2 "bad-answers.yaml:3:8: nodes: 'nodes' does not apply to engine 'bastion'" \
	"an answers file with nodes for the bastion engine" -- "$FANOUT" create --no-run --answers "$TEST_TMP/bad-answers.yaml" --yes
printf 'project: %s\ncleanup_after: maybe\n' "$proj" >"$TEST_TMP/bad-answers.yaml"
fails 2 "bad-answers.yaml:2:16: cleanup_after: answer yes or no, not 'maybe'" \
	"an answers file with a non-boolean" -- "$FANOUT" create --no-run --answers "$TEST_TMP/bad-answers.yaml" --yes
printf 'project: %s\nname: first\nfiles: 1\nname: second\n' "$proj" >"$TEST_TMP/bad-answers.yaml"
fails 2 "bad-answers.yaml:4:1: duplicate key 'name' \(first at line 2\)" \
	"an answers file with a key twice" -- "$FANOUT" create --no-run --answers "$TEST_TMP/bad-answers.yaml" --yes
printf 'project: %s\nfiles: lots\n' "$proj" >"$TEST_TMP/bad-answers.yaml"
"$FANOUT" create --no-run --cleanup-after --answers "$TEST_TMP/bad-answers.yaml" --files 1 --yes >/dev/null 2>&1
ok $? "an option answers over the answers file"
is "1 1 1" "$(tagged_counts)" "none of the refused answers made anything"
fails 2 "say --yes" "create without --yes and no terminal" -- \
	"$FANOUT" create --no-run "$proj"

# The caller's address cannot be found: refuse to open 22 wider...
fails 1 "refusing to open SSH wider than your address without --ssh-anywhere" \
	"checkip unreachable" -- env FANOUT_CHECKIP_URL="http://127.0.0.1:$(free_port)/" \
	"$FANOUT" create --no-run "$proj" --yes
# ... unless told so.
env FANOUT_CHECKIP_URL="http://127.0.0.1:$(free_port)/" "$FANOUT" create --no-run "$proj" --yes \
	--ssh-anywhere >"$TEST_TMP/wide.id" 2>/dev/null
ok $? "--ssh-anywhere creates when the address is unknown"
wide=$(cat "$TEST_TMP/wide.id")
is "0.0.0.0/0" "$(rec_get "$wide" 'r["ssh_cidr"]')" "and records SSH open to 0.0.0.0/0"
"$FANOUT" cleanup "$wide" --yes >/dev/null 2>&1

# On a terminal fanout asks instead (tmux plays the user).
if command -v tmux >/dev/null 2>&1; then
	sock="fanout-aws-$$"
	at_exit "tmux -L $sock kill-server 2>/dev/null"
	screen_has() { # screen_has REGEX: waits up to 60 s for it on screen
		for _ in $(seq 600); do
			tmux -L "$sock" capture-pane -p -t t 2>/dev/null | grep -Eq -- "$1" && return 0
			sleep 0.1
		done
		return 1
	}
	closed="http://127.0.0.1:$(free_port)/"
	tmux -L "$sock" -f /dev/null new-session -d -s t -x 150 -y 40 \
		"FANOUT_CHECKIP_URL=$closed '$FANOUT' create '$proj'; echo EXIT=\$?; sleep 60"
	screen_has 'to every address, 0.0.0.0/0, instead\? \[y/N\]'
	ok $? "on a terminal, an unknown address brings a question"
	tmux -L "$sock" send-keys -t t n Enter
	screen_has 'EXIT=1'
	ok $? "answering no stops with exit 1"
	like "$(tmux -L "$sock" capture-pane -p -t t)" 'nothing was created' "and says nothing was made"
	tmux -L "$sock" kill-session -t t
	n_before=$(ls "$FANOUT_HISTORY_DIR"/*.json | wc -l)
	tmux -L "$sock" -f /dev/null new-session -d -s t -x 150 -y 40 \
		"FANOUT_CHECKIP_URL=$closed '$FANOUT' create --no-run '$proj' >'$TEST_TMP/asked.id'; echo EXIT=\$?; sleep 60"
	screen_has 'instead\? \[y/N\]' && tmux -L "$sock" send-keys -t t y Enter
	screen_has 'Create these\? \[y/N\]'
	ok $? "after yes, the create asks for confirmation"
	tmux -L "$sock" send-keys -t t y Enter
	screen_has 'EXIT=0'
	ok $? "answering yes twice creates"
	asked=$(cat "$TEST_TMP/asked.id")
	is "0.0.0.0/0" "$(rec_get "$asked" 'r["ssh_cidr"]')" "with SSH open to 0.0.0.0/0 as agreed"
	is $((n_before + 1)) "$(ls "$FANOUT_HISTORY_DIR"/*.json | wc -l)" "one new record, none before"
	tmux -L "$sock" kill-session -t t
	"$FANOUT" cleanup "$asked" --yes >/dev/null 2>&1
else
	skip "tmux not installed: the questions on a terminal are not tested"
fi

# Run-set ids that do not exist.
fails 2 "no run set 'fo-20200101-none'" "status of a missing id" -- "$FANOUT" status fo-20200101-none
fails 2 "no run set 'fo-20200101-none'" "resume of a missing id" -- "$FANOUT" resume fo-20200101-none
fails 2 "no run set 'fo-20200101-none'" "cleanup of a missing id" -- "$FANOUT" cleanup fo-20200101-none --yes
fails 2 "not a run-set id" "cleanup of a path" -- "$FANOUT" cleanup ../etc --yes

# A truncated record and one that is not JSON.
head -c 100 "$FANOUT_HISTORY_DIR/$good.json" >"$FANOUT_HISTORY_DIR/fo-20200101-trnc.json"
echo 'this is not json' >"$FANOUT_HISTORY_DIR/fo-20200101-notj.json"
fails 2 "history record fo-20200101-trnc is damaged" "status of a truncated record" -- \
	"$FANOUT" status fo-20200101-trnc
fails 2 "history record fo-20200101-notj is damaged" "cleanup of a non-JSON record" -- \
	"$FANOUT" cleanup fo-20200101-notj --yes
fails 2 "history record fo-20200101-trnc is damaged" "resume of a truncated record" -- \
	"$FANOUT" resume fo-20200101-trnc
h=$("$FANOUT" history 2>"$TEST_TMP/hist.err")
ok $? "history still lists the readable records"
like "$h" "$good" "history shows the good record"
like "$(cat "$TEST_TMP/hist.err")" '2 history record\(s\) could not be read' "history warns about the damaged ones"
fails 1 "cannot be read, so orphans cannot be told apart" "orphans with damaged records" -- \
	"$FANOUT" cleanup --orphans --yes
is "1 1 1" "$(tagged_counts)" "the good run set still has its resources"
is "$sum_before" "$(md5sum "$FANOUT_HISTORY_DIR/$good.json")" "the good record was not touched"
"$FANOUT" cleanup "$good" --yes >/dev/null 2>&1
ok $? "the good run set cleans up"
done_testing
