#!/bin/sh
# fanout's task harness: runs a project's entrypoint once per input on this
# machine (the bastion), W at a time, and writes one JSON record per attempt
# to RUN/records.jsonl in the format of src/run/record.h (the local engine's).
#
#   sh harness.sh RUN PROJECT            the run (started detached)
#   sh harness.sh --task RUN PROJECT I   one task (xargs calls this)
#
# RUN is the run folder the client made: run.env (sourced: FANOUT_RUN_*
# settings and the project's env as exports) and inputs (one input a line,
# task I = line I+1, already expanded by the client). The harness writes
# pid (at start), records.jsonl (a failed attempt's record ends with the
# last line of its stderr, "stderr_tail"), logs/I-ATTEMPT.out|err, and done
# (the exit status, written last) so a client that reconnects polls instead of
# starting the run twice. The result is the last non-empty stdout line when
# it is a JSON object, checked with python3, else jq, else by its braces.
set -u

now() { date +%s.%N; }

# JSON string body: backslashes, quotes and tabs escaped.
json_str() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/	/\\t/g'; }

# The system's python3 first: a wrapper earlier in PATH (pyenv's shims)
# can cost half a second per task.
if [ -x /usr/bin/python3 ]; then
	PYTHON3=/usr/bin/python3
else
	PYTHON3=$(command -v python3 2>/dev/null || true)
fi

# The compact JSON object on the last non-empty line of $1, or nothing.
json_result() {
	line=$(awk 'NF { l = $0 } END { print l }' "$1")
	[ -n "$line" ] || return 1
	if [ -n "$PYTHON3" ]; then
		"$PYTHON3" -c 'import json, sys
o = json.loads(sys.argv[1])
if not isinstance(o, dict):
    sys.exit(1)
sys.stdout.write(json.dumps(o, separators=(",", ":"), ensure_ascii=False))' \
		    "$line" 2>/dev/null
	elif command -v jq >/dev/null 2>&1; then
		printf '%s\n' "$line" | jq -ce 'if type == "object" then . else error("no object") end' 2>/dev/null
	else
		case $line in
		'{'*'}') printf '%s' "$line" ;;
		*) return 1 ;;
		esac
	fi
}

# The last non-blank line of the stderr file $1 (of its last 4096 bytes),
# as the local engine keeps it (record_stderr_tail in src/run/record.c):
# blanks around it trimmed, tabs as spaces, control characters and
# invalid UTF-8 dropped, at most 200 bytes.
stderr_tail() {
	tail -c 4096 "$1" 2>/dev/null |
	    awk '{ gsub(/\r/, "") } NF { l = $0 }
		END { sub(/^[ \t]+/, "", l); sub(/[ \t]+$/, "", l); print l }' |
	    tr '\t' ' ' | tr -d '\000-\037\177' | cut -c 1-200 |
	    sed 's/ *$//' | if command -v iconv >/dev/null 2>&1; then
		iconv -c -f UTF-8 -t UTF-8 2>/dev/null
	else
		LC_ALL=C tr -cd ' -~'
	fi
}

run_task() {
	run=$1 proj=$2 task=$3
	# shellcheck disable=SC1091
	. "$run/run.env"
	input=$(sed -n "$((task + 1))p" "$run/inputs")
	host=$(hostname)
	# A worker number no other running task holds: 1..W.
	w=1
	while ! mkdir "$run/slots/$w" 2>/dev/null; do
		w=$((w + 1))
		if [ "$w" -gt "$FANOUT_RUN_WORKERS" ]; then
			w=1
			sleep 0.05
		fi
	done
	cd "$proj" || exit 1
	attempt=1
	while :; do
		out="$run/logs/$task-$attempt.out"
		err="$run/logs/$task-$attempt.err"
		start=$(now)
		if [ "${FANOUT_RUN_TIMEOUT:-0}" != 0 ]; then
			FANOUT_INPUT=$input FANOUT_TASK=$task FANOUT_WORKER=$w \
			    FANOUT_ATTEMPT=$attempt timeout -k 2 \
			    "$FANOUT_RUN_TIMEOUT" "$FANOUT_RUN_ENTRYPOINT" \
			    "$input" </dev/null >"$out" 2>"$err" &
		else
			FANOUT_INPUT=$input FANOUT_TASK=$task FANOUT_WORKER=$w \
			    FANOUT_ATTEMPT=$attempt "$FANOUT_RUN_ENTRYPOINT" \
			    "$input" </dev/null >"$out" 2>"$err" &
		fi
		pid=$!
		wait "$pid"
		rc=$?
		end=$(now)
		result=null
		error=
		if [ "${FANOUT_RUN_TIMEOUT:-0}" != 0 ] && { [ "$rc" = 124 ] ||
		    [ "$rc" = 137 ]; }; then
			status=timeout
			rc=143
			error="timed out after ${FANOUT_RUN_TIMEOUT}s"
		elif [ "$rc" -gt 128 ]; then
			status=failed
			error="killed by signal $((rc - 128))"
		elif [ "$rc" != 0 ]; then
			status=failed
			error="exit status $rc"
		elif result=$(json_result "$out") && [ -n "$result" ]; then
			status=ok
		else
			result=null
			status=badjson
			error="the last line of output is not a JSON object"
		fi
		if [ -n "$error" ]; then
			error="\"$(json_str "$error")\""
		else
			error=null
		fi
		etail=
		[ "$status" = ok ] || etail=$(stderr_tail "$err")
		[ -z "$etail" ] ||
		    etail=",\"stderr_tail\":\"$(json_str "$etail")\""
		tmp="$run/tmp.$task.$attempt"
		printf '{"task":%s,"input":"%s","worker":%s,"host":"%s","pid":%s,"start":%s,"end":%s,"exit":%s,"attempt":%s,"status":"%s","result":%s,"error":%s%s}\n' \
		    "$task" "$(json_str "$input")" "$w" "$(json_str "$host")" \
		    "$pid" "$start" "$end" "$rc" "$attempt" "$status" \
		    "$result" "$error" "$etail" >"$tmp"
		# One write per record, so parallel appends do not interleave.
		cat "$tmp" >>"$run/records.jsonl"
		rm -f "$tmp"
		if [ "$status" = ok ] || [ "$attempt" -gt "$FANOUT_RUN_RETRIES" ]; then
			break
		fi
		attempt=$((attempt + 1))
	done
	rmdir "$run/slots/$w"
	return 0
}

run_all() {
	run=$(cd "$1" && pwd) || exit 2
	proj=$(cd "$2" && pwd) || exit 2
	self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
	# shellcheck disable=SC1091
	. "$run/run.env"
	echo $$ >"$run/pid"
	rm -rf "$run/slots"
	mkdir -p "$run/logs" "$run/slots"
	: >>"$run/records.jsonl"
	i=0
	while [ "$i" -lt "$FANOUT_RUN_NTASKS" ]; do
		echo "$i"
		i=$((i + 1))
	done | xargs -P "$FANOUT_RUN_WORKERS" -n 1 sh "$self" --task "$run" "$proj"
	rc=$?
	echo "$rc" >"$run/done.tmp"
	mv "$run/done.tmp" "$run/done"
	exit "$rc"
}

case ${1:-} in
--task)
	shift
	run_task "$@"
	;;
'')
	echo "usage: harness.sh RUN PROJECT" >&2
	exit 2
	;;
*)
	run_all "$@"
	;;
esac
