#!/bin/bash
# Incremental upload to a loopback sshd: the first upload sends the tree
# (with .fanoutignore, .git/ and results/ left out, exec bits kept), an
# unchanged one sends no file bytes, one changed file is all that is sent,
# a file removed locally is removed remotely; download brings a tree back.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
plan_lazy
sshd_setup
sshd_start

p="$TEST_TMP/proj"
r="$TEST_TMP/remote"
mkdir -p "$p/data/deep" "$p/.git" "$p/results/old" "$p/scratch" "$p/logs"
printf '#!/bin/sh\necho hi\n' >"$p/entrypoint"
chmod 755 "$p/entrypoint"
for i in $(seq 1 40); do
	printf 'row %s\n' "$i" >"$p/data/file-$i.csv"
done
head -c 3000000 /dev/urandom >"$p/data/deep/big.bin"
: >"$p/data/empty"
long=$(printf 'n%.0s' $(seq 1 120))
echo long >"$p/data/deep/$long.txt"
echo "with space" >"$p/data/with space.txt"
echo ref >"$p/.git/HEAD"
echo old >"$p/results/old/results.csv"
echo junk >"$p/scratch/junk"
echo log >"$p/logs/a.log"
echo keep >"$p/logs/keep.log"
printf '# comment\nscratch/\n*.log\n!keep.log\n' >"$p/.fanoutignore"
total=$(( $(cat "$p"/data/file-*.csv "$p/data/deep/big.bin" "$p/data/deep/$long.txt" \
    "$p/data/with space.txt" "$p/entrypoint" "$p/.fanoutignore" "$p/logs/keep.log" | wc -c) ))

out=$(drv upload "$p" "$r" 2>/dev/null)
is true "$(jfield "$out" ok)" "first upload"
is 47 "$(jfield "$out" files)" "47 files after the ignore rules"
is 47 "$(jfield "$out" files_sent)" "all sent the first time"
is "$total" "$(jfield "$out" bytes_sent)" "bytes sent = the files' sizes"
check "the remote tree holds the files" cmp "$p/data/deep/big.bin" "$r/tree/data/deep/big.bin"
check "a path longer than 100 bytes" cmp "$p/data/deep/$long.txt" "$r/tree/data/deep/$long.txt"
check "a name with a space" test -f "$r/tree/data/with space.txt"
check "an empty file" test -f "$r/tree/data/empty"
check "exec bits kept" test -x "$r/tree/entrypoint"
check "data files not executable" test ! -x "$r/tree/data/file-1.csv"
is "$(stat -c %Y "$p/data/file-3.csv")" "$(stat -c %Y "$r/tree/data/file-3.csv")" "mtime kept"
check ".git/ not uploaded" test ! -e "$r/tree/.git"
check "results/ not uploaded" test ! -e "$r/tree/results"
check ".fanoutignore: scratch/ left out" test ! -e "$r/tree/scratch"
check ".fanoutignore: *.log left out" test ! -e "$r/tree/logs/a.log"
check ".fanoutignore: !keep.log kept" test -f "$r/tree/logs/keep.log"

out=$(drv upload "$p" "$r" 2>/dev/null)
is true "$(jfield "$out" ok)" "unchanged re-upload"
is 0 "$(jfield "$out" files_sent)" "sends no file"
is 0 "$(jfield "$out" bytes_sent)" "sends no file bytes"

echo "row 7 changed" >"$p/data/file-7.csv"
touch -d @1000000000 "$p/data/file-7.csv"	# another mtime, whatever the clock
out=$(drv upload "$p" "$r" 2>/dev/null)
is 1 "$(jfield "$out" files_sent)" "one changed file: one file sent"
is 14 "$(jfield "$out" bytes_sent)" "and only its bytes"
is '["data/file-7.csv"]' "$(jfield "$out" sent)" "the changed one"
check "the remote has the new content" cmp "$p/data/file-7.csv" "$r/tree/data/file-7.csv"

# Same size, same mtime, other content: the SHA-256 tells.
m=$(stat -c %y "$p/data/file-8.csv")
echo "row 9" >"$p/data/file-8.csv"
touch -d "$m" "$p/data/file-8.csv"
out=$(drv upload "$p" "$r" 2>/dev/null)
is '["data/file-8.csv"]' "$(jfield "$out" sent)" "content change under the same size and mtime found by SHA-256"

chmod 755 "$p/data/file-9.csv"
out=$(drv upload "$p" "$r" 2>/dev/null)
is '["data/file-9.csv"]' "$(jfield "$out" sent)" "a mode change is sent"
check "and the exec bit arrives" test -x "$r/tree/data/file-9.csv"

rm "$p/data/file-10.csv"
out=$(drv upload "$p" "$r" 2>/dev/null)
is 1 "$(jfield "$out" deleted)" "a file removed locally"
check "is removed remotely" test ! -e "$r/tree/data/file-10.csv"

# A remote file damaged behind our back is sent again.
echo tampered >"$r/tree/data/file-11.csv"
out=$(drv upload "$p" "$r" 2>/dev/null)
is '["data/file-11.csv"]' "$(jfield "$out" sent)" "a remote file changed behind our back is sent again"

# The local hash cache: unchanged files are not hashed again, yet a
# content change under the same size and mtime is still seen (ctime).
c="$TEST_TMP/upload.cache"
out=$(drv -C "$c" upload "$p" "$r" 2>/dev/null)
is 0 "$(jfield "$out" bytes_sent)" "with a cache: nothing to send"
check "the cache is written" test -s "$c"
out=$(drv -C "$c" upload "$p" "$r" 2>/dev/null)
is false "$(jfield "$out" listed)" "cache and remote unchanged: the remote's digest is enough, no listing"
is 0 "$(jfield "$out" bytes_sent)" "and nothing is sent"
echo tampered >"$r/tree/data/file-20.csv"
out=$(drv -C "$c" upload "$p" "$r" 2>/dev/null)
is true "$(jfield "$out" listed)" "a remote file changed: its digest differs, the listing is asked for"
is '["data/file-20.csv"]' "$(jfield "$out" sent)" "and the file is sent again"
rm -f "$r"/manifest.d/*
out=$(drv -C "$c" upload "$p" "$r" 2>/dev/null)
is true "$(jfield "$out" listed)" "the remote manifest removed: the listing is asked for"
is "$(jfield "$out" files)" "$(jfield "$out" files_sent)" \
    "and, with no hashes on the remote, every file is sent"
out=$(drv -C "$c" upload "$p" "$r" 2>/dev/null)
is false "$(jfield "$out" listed)" "after that, the digest matches again"
out=$(drv -C "$c" -T upload "$p" "$r" 2>/dev/null)
is true "$(jfield "$out" trusted)" "a tree equal to the cache needs no remote listing (-T)"
m=$(stat -c %y "$p/data/file-12.csv")
echo "row 99" >"$p/data/file-12.csv"
touch -d "$m" "$p/data/file-12.csv"
out=$(drv -C "$c" -T upload "$p" "$r" 2>/dev/null)
is false "$(jfield "$out" trusted)" "a changed file: the remote is asked"
is '["data/file-12.csv"]' "$(jfield "$out" sent)" "same size and mtime, new content: sent despite the cache"

out=$(drv download "$r/tree" "$TEST_TMP/back" 2>/dev/null)
is true "$(jfield "$out" ok)" "download"
check "download brings the tree back" diff -r "$r/tree" "$TEST_TMP/back"
like "$(jfield "$out" bytes)" "^[1-9][0-9]{6,}$" "download reports its bytes"

done_testing
