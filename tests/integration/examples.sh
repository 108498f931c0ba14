#!/bin/bash
# Every example produces the whole results folder; flaky shows each way a
# task can go wrong; the Gantt PNG is a real image.
. "$top_srcdir/tests/integration/lib.sh"
plan_lazy

png_size() { # prints "WIDTH HEIGHT" of a PNG, or fails
	python3 - "$1" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, w, h = 8, 0, 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    chunk = data[pos + 8:pos + 8 + n]
    crc, = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
    assert zlib.crc32(kind + chunk) & 0xffffffff == crc, "bad CRC"
    if kind == b"IHDR":
        w, h = struct.unpack(">II", chunk[:8])
    pos += 12 + n
    if kind == b"IEND":
        break
print(w, h)
PY
}

for ex in sleep wordcount flaky; do
	p=$(example "$ex")
	"$FANOUT" run --local "$p" >"$TEST_TMP/$ex.out" 2>"$TEST_TMP/$ex.err"
	rc=$?
	if [ "$ex" = flaky ]; then
		is 1 "$rc" "$ex: exits 1 because tasks failed"
	else
		is 0 "$rc" "$ex: exits 0"
	fi
	r=$(readlink -f "$p/results/latest")
	for f in results.csv errors.csv logs.csv performance.txt records.jsonl runtime.png; do
		check "$ex: $f is written" test -s "$r/$f"
	done
	size=$(png_size "$r/runtime.png")
	like "$size" "^1200 [0-9]+$" "$ex: runtime.png is a valid PNG"
	like "$(cat "$TEST_TMP/$ex.out")" "Efficiency" "$ex: the summary table is printed"
done

# sleep: 8 tasks of 1 s, 4 workers
r=$(readlink -f "$TEST_TMP/sleep/results/latest")
is 9 "$(wc -l <"$r/results.csv" | tr -d ' ')" "sleep: eight results"
is 1 "$(wc -l <"$r/errors.csv" | tr -d ' ')" "sleep: no errors"

# wordcount: real counts of the shipped texts
r=$(readlink -f "$TEST_TMP/wordcount/results/latest")
want=$(wc -w <"$top_srcdir/examples/wordcount/texts/gettysburg.txt" | tr -d ' ')
like "$(grep gettysburg "$r/results.csv")" ",$want,[0-9]+,[a-z]+$" "wordcount: the Gettysburg word count matches wc"

# flaky: each way of failing lands in errors.csv, the retry in results.csv
r=$(readlink -f "$TEST_TMP/flaky/results/latest")
like "$(cat "$r/errors.csv")" "fail-always,failed,3,2,exit status 3" "flaky: a failure is retried once, then reported"
like "$(cat "$r/errors.csv")" "timeout,timeout,[0-9]+,2,timed out after 2s" "flaky: a timeout is reported"
like "$(cat "$r/errors.csv")" "bad-json,badjson,0,2,the last line of output is not a JSON object" "flaky: bad JSON is reported"
like "$(grep retry-once "$r/results.csv")" "recovered" "flaky: the retried task succeeds on attempt 2"
is 5 "$(grep -c ',ok$' "$r/logs.csv")" "flaky: logs.csv has five successful attempts"
is 12 "$(($(wc -l <"$r/logs.csv") - 1))" "flaky: logs.csv has one row per attempt (12)"
like "$(cat "$r/performance.txt")" "Errors +3" "flaky: performance.txt counts three errors"
like "$(cat "$TEST_TMP/flaky.err")" "3 of 8 task\(s\) failed; see .*errors.csv" "flaky: the summary points at errors.csv"
done_testing
