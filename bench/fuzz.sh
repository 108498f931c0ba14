#!/bin/sh
# Fuzzing: N mutated history records, N mutated fanout.yaml files and N
# mutated answers files, each fed to the real fanout binary (history,
# status, cleanup, resume on a record; run --local on a project; create
# --answers on an answers file), every cloud endpoint a closed loopback
# port. Counts crashes (a signal, or exit >= 128), hangs (20 s a command)
# and sanitizer reports; keeps each failing input in ./fuzz-failures.
# Build with --enable-sanitizers for the reports to mean anything.
#   bench/fuzz.sh N [BUILD_DIR [SEED]]   (defaults: the current directory, 1)
# The mutator is tests/fakes/fuzz.py (radamsa is not in Debian 12). A
# 200-case run of it is tests/integration/fuzz.sh in make check.
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: bench/fuzz.sh N [BUILD_DIR [SEED]]" >&2; exit 2; }
build=$(cd "${2:-.}" && pwd)
[ -x "$build/fanout" ] || { echo "bench: no fanout in $build; build it first" >&2; exit 2; }
FANOUT_DATA_DIR=$top_srcdir
export FANOUT_DATA_DIR
exec python3 "$top_srcdir/tests/fakes/fuzz.py" "$build/fanout" "$1" \
	--seed "${3:-1}" --keep "$(pwd)/fuzz-failures"
