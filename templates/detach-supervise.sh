#!/bin/sh
# fanout's supervisor of a detached run (`fanout create --detach`), started
# by fanout in the run folder (runs/ID) right after the run, in a session
# of its own, so that it outlives the login and the laptop:
#   sh detach-supervise.sh RUNSET URL REGION ACTION RETRIES [AWS_ENDPOINT_URL...=URL]...
# URL is s3://BUCKET/PREFIX/RUNSET, where it keeps status.json up to date
# (what `fanout status ID` and `fanout history` show) while the run goes
# on; when the run is over it copies records.jsonl, inputs (and names:
# the bucket objects the inputs were fetched from), worker.log and logs/
# there (what `fanout fetch ID` brings home), then runs
# detach-teardown.sh RUNSET REGION ACTION: ACTION terminate tears the run
# set down, stop stops it (the create's cleanup answer). When the copy
# fails the head is stopped instead of terminated, so that the results
# stay on its disk. Everything runs with the head's instance role (the aws
# CLI finds it through the instance metadata service); no user credential
# is here. The AWS_ENDPOINT_URL* assignments after RETRIES are the
# endpoint overrides of the laptop's settings (a private endpoint; tests'
# moto), exported for the aws CLI here and in the teardown.
set -u

runset=$1 url=${2%/} region=$3 action=$4 retries=$5
shift 5
for kv in "$@"; do
	case $kv in
	AWS_ENDPOINT_URL=*|AWS_ENDPOINT_URL_S3=*|AWS_ENDPOINT_URL_EC2=*)
		export "$kv" ;;
	*)	echo "detach-supervise: ignored argument '$kv'" >&2 ;;
	esac
done
total=$(wc -l <inputs | tr -d ' ')
poll=${FANOUT_DETACH_POLL:-15}
echo $$ >supervise.pid

# The aws CLI (Debian's awscli) when the head lacks it.
if ! command -v aws >/dev/null 2>&1; then
	sudo=
	[ "$(id -u)" = 0 ] || sudo="sudo -n"
	$sudo apt-get install -y -qq awscli >/dev/null 2>&1 ||
	    $sudo dnf install -y -q awscli >/dev/null 2>&1 || true
fi

now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
started=$(now)

# "DONE FAILED" from the records: tasks whose last attempt is final (ok,
# cancelled, or past the retries); failed: final and not ok.
counts() {
	[ -f records.jsonl ] || { echo "0 0"; return; }
	sed -n 's/^{"task":\([0-9]*\),.*,"attempt":\([0-9]*\),"status":"\([a-z]*\)".*/\1 \2 \3/p' \
	    records.jsonl | awk -v retries="$retries" '
		$3 == "ok" || $3 == "cancelled" || $2 > retries {
			if ($3 != "cancelled") done[$1] = 1
			if ($3 != "ok" && $3 != "cancelled") failed[$1] = 1
			else delete failed[$1]
		}
		END { d = 0; f = 0; for (t in done) d++; for (t in failed) f++
		      print d, f }'
}

# JSON string of $1 (quotes and backslashes escaped, line breaks and tabs
# as spaces).
jstr() {
	printf '"%s"' "$(printf '%s' "$1" | tr '\n\t' '  ' |
	    sed 's/\\/\\\\/g; s/"/\\"/g')"
}

# put_status STATE [OUTCOME [ERROR]]: status.json in the bucket.
put_status() {
	set -- "$1" "${2:-}" "${3:-}"
	c=$(counts)
	ended=null
	case $1 in running|uploading) ;; *) ended="\"$(now)\"" ;; esac
	printf '{"version":1,"run_set":%s,"run":%s,"state":%s,"done":%s,"failed":%s,"total":%s,"outcome":%s,"error":%s,"started":"%s","updated":"%s","ended":%s,"action":%s}\n' \
	    "$(jstr "$runset")" "$(jstr "$(basename "$(pwd)")")" "$(jstr "$1")" \
	    "${c% *}" "${c#* }" "$total" "$(jstr "$2")" "$(jstr "$3")" \
	    "$started" "$(now)" "$ended" "$(jstr "$action")" >status.json
	aws --region "$region" s3 cp --only-show-errors \
	    --content-type application/json status.json "$url/status.json"
}

# Follows the run: the worker writes done last; a pool gone without it
# died.
last=
outcome=
while :; do
	if [ -f done ]; then
		outcome="done $(cat done)"
		break
	fi
	if [ -f pid ] && ! kill -0 "$(cat pid)" 2>/dev/null; then
		[ -f done ] && continue
		outcome=dead
		break
	fi
	c=$(counts)
	if [ "$c" != "$last" ]; then
		put_status running && last=$c
	fi
	sleep "$poll"
done

put_status uploading "$outcome"
err=
for f in records.jsonl inputs names worker.log; do
	[ -f "$f" ] || continue
	aws --region "$region" s3 cp --only-show-errors "$f" "$url/$f" ||
	    err="cannot copy $f to $url"
done
if [ -z "$err" ] && [ -d logs ]; then
	aws --region "$region" s3 cp --only-show-errors --recursive logs \
	    "$url/logs" || err="cannot copy logs/ to $url"
fi
if [ -n "$err" ]; then
	# The results stay on the head's disk: stopped, not terminated.
	action=stop
fi

put_status tearing-down "$outcome" "$err"
if sh detach-teardown.sh "$runset" "$region" "$action" others; then
	if [ "$action" = terminate ]; then final=torn-down; else final=stopped; fi
	put_status "$final" "$outcome" "$err"
	sh detach-teardown.sh "$runset" "$region" "$action" self
else
	put_status failed "$outcome" "${err:-the teardown failed (see $(pwd)/supervise.log on the head); run 'fanout cleanup $runset'}"
fi
