#!/bin/bash
# One default for "clean up everything after the run", read by the form
# (tui-create.sh) and by `fanout create` from the same menu data
# (menus/create.yaml): yes. --keep keeps, --cleanup-after cleans up, and
# --no-run keeps (a run set made to be run later). Against moto_server;
# the bastion's sshd is not there, so each run fails after FANOUT_SSH_WAIT
# seconds and what happens to the run set after a run is what is tested.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
plan_lazy

proj=$(example sleep)

help=$("$FANOUT" create --help)
ok $? "create --help exits 0"
like "$help" "--cleanup-after +tear everything down once the results are home \(the default\)" \
	"--help says that cleaning up is the default"
like "$help" "--keep +keep the run set, its bastion stopped, for 'fanout resume'$" "and how to keep instead"

# No option: the menu's default, yes.
"$FANOUT" create "$proj" --yes >"$TEST_TMP/a.id" 2>"$TEST_TMP/a.err"
id=$(newest_id)
is "deleted" "$(rec_get "$id" 'r["state"]')" "without an option, the run set is torn down after the run"
is "True" "$(rec_get "$id" 'r["answers"]["cleanup_after"]')" "and cleanup_after is recorded as yes"
is "0 0 0" "$(tagged_counts)" "nothing is left in EC2"

# --keep: kept, the bastion stopped.
"$FANOUT" create "$proj" --keep --yes >"$TEST_TMP/b.id" 2>"$TEST_TMP/b.err"
id=$(newest_id)
is "stopped" "$(rec_get "$id" 'r["state"]')" "--keep keeps the run set, its bastion stopped"
is "1 1 1" "$(tagged_counts)" "EC2 holds its bastion, group and key"
like "$(cat "$TEST_TMP/b.err")" "fanout resume $id" "and says how to resume it"
"$FANOUT" cleanup "$id" --yes >/dev/null 2>&1

# An answers file says the same as the option.
printf 'project: %s\ncleanup_after: no\n' "$proj" >"$TEST_TMP/keep.yaml"
"$FANOUT" create --answers "$TEST_TMP/keep.yaml" --yes >/dev/null 2>&1
id=$(newest_id)
is "stopped" "$(rec_get "$id" 'r["state"]')" "cleanup_after: no in an answers file keeps it"
"$FANOUT" cleanup "$id" --yes >/dev/null 2>&1

# --no-run makes a run set to run later: kept unless --cleanup-after.
"$FANOUT" create --no-run "$proj" --yes >/dev/null 2>&1
id=$(newest_id)
is "active" "$(rec_get "$id" 'r["state"]')" "--no-run keeps the run set it made"
"$FANOUT" cleanup "$id" --yes >/dev/null 2>&1
"$FANOUT" create --no-run --cleanup-after "$proj" --yes >/dev/null 2>&1
id=$(newest_id)
is "deleted" "$(rec_get "$id" 'r["state"]')" "--no-run --cleanup-after makes and tears down"
is "0 0 0" "$(tagged_counts)" "nothing is left"

# The default lives in the menu data alone: change it there, and both the
# help and the command follow.
data="$TEST_TMP/data"
mkdir -p "$data"
cp -R "$top_srcdir/menus" "$top_srcdir/templates" "$data/"
python3 - "$data/menus/create.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
i = s.index("key: cleanup_after")
j = s.index('default: "yes"', i)
open(p, "w").write(s[:j] + 'default: "no"' + s[j + len('default: "yes"'):])
PY
like "$(FANOUT_DATA_DIR=$data "$FANOUT" create --help)" "--keep +keep the run set.*\(the default\)" \
	"with the menu's default changed to no, --help says --keep is the default"
FANOUT_DATA_DIR=$data "$FANOUT" create "$proj" --yes >/dev/null 2>&1
id=$(newest_id)
is "stopped" "$(rec_get "$id" 'r["state"]')" "and create keeps by default"
FANOUT_DATA_DIR=$data "$FANOUT" create "$proj" --cleanup-after --yes >/dev/null 2>&1
is "deleted" "$(rec_get "$(newest_id)" 'r["state"]')" "--cleanup-after still tears down"
"$FANOUT" cleanup "$id" --yes >/dev/null 2>&1
is "0 0 0" "$(tagged_counts)" "nothing is left at the end"
done_testing
