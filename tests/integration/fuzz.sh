#!/bin/bash
# Fuzzing in make check: 200 mutated history records, 200 fanout.yaml
# files and 200 answers files (fixed seed, so every run is the same) fed
# to fanout: no crash, no hang, no sanitizer report. bench/fuzz.sh N runs
# more. Failing inputs are kept in the build dir's fuzz-failures/.
. "$top_srcdir/tests/integration/lib.sh"
command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"
python3 "$top_srcdir/tests/fakes/fuzz.py" "$FANOUT" 200 --seed 1 --tap \
	--keep "$(pwd)/fuzz-failures"
