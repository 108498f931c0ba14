#!/bin/bash
# Bad bucket input, for create and run --local: a bucket that does not
# exist, no permission (a stand-in S3 that answers 403 AccessDenied), an
# empty prefix (nothing matches), a malformed s3:// URL, a results bucket
# that does not exist. Each: one line naming what is wrong and the fix,
# exit 2, nothing made (no history record, nothing tagged in EC2, no IAM
# role or profile). Against moto.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
plan_lazy

# An S3 stand-in that refuses everything, as S3 does for credentials
# without s3:ListBucket.
DENY_PORT=$(free_port)
python3 - "$DENY_PORT" <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        body = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied'
                b'</Code><Message>Access Denied</Message></Error>')
        self.send_response(403)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_HEAD = do_GET
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
at_exit "kill $! 2>/dev/null"
wait_port "$DENY_PORT" 20 || bail "the denying S3 stand-in did not start"

awsq s3 mb s3://fanout-in >/dev/null
echo 1 | awsq s3 cp - s3://fanout-in/data/a.csv >/dev/null
ok $? "a bucket with one object"

proj="$TEST_TMP/p"
mkdir -p "$proj"
printf '#!/bin/sh\necho "{\\"ok\\": 1}"\n' >"$proj/entrypoint"
chmod +x "$proj/entrypoint"
setglob() { # setglob GLOB [RESULTS]
	printf 'name: s3-bad\nentrypoint: ./entrypoint\ninputs:\n  glob: %s\n' "$1" >"$proj/fanout.yaml"
	[ -z "${2:-}" ] || printf 'results: %s\n' "$2" >>"$proj/fanout.yaml"
}

nothing_made() {
	is 0 "$(ls "$FANOUT_HISTORY_DIR"/*.json 2>/dev/null | wc -l)" "$1: no history record"
	is "0 0 0" "$(tagged_counts)" "$1: nothing tagged in EC2"
	is "" "$(awsq iam list-roles --path-prefix /fanout/ --query 'Roles[].RoleName')$(awsq iam list-instance-profiles --path-prefix /fanout/ --query 'InstanceProfiles[].InstanceProfileName')" \
		"$1: no IAM role or profile"
}

fails() { # fails REGEX DESCRIPTION -- command...
	_re=$1 _d=$2
	shift 3
	"$@" >"$TEST_TMP/bad.out" 2>"$TEST_TMP/bad.err"
	is 2 "$?" "$_d: exit 2"
	like "$(grep '^fanout: ' "$TEST_TMP/bad.err")" "$_re" "$_d: says what is wrong and what to do"
	is 1 "$(grep -c . "$TEST_TMP/bad.err")" "$_d: in one line"
}

both() { # both REGEX DESCRIPTION [ENV...]
	fails "$1" "create, $2" -- env "${@:3}" "$FANOUT" create "$proj" --yes
	nothing_made "create, $2"
	fails "$1" "run --local, $2" -- env "${@:3}" "$FANOUT" run --local "$proj"
}

setglob 's3://no-such-bucket-7/data/*.csv'
both "^fanout: inputs.glob s3://no-such-bucket-7/data/\*\.csv: bucket 'no-such-bucket-7' does not exist \(region us-east-1\); check the bucket name in fanout.yaml$" \
	"a bucket that does not exist"

setglob 's3://fanout-in/data/*.csv'
both "^fanout: inputs.glob s3://fanout-in/data/\*\.csv: access denied \(AccessDenied\) to credentials from environment; grant them s3:ListBucket and s3:GetObject on bucket 'fanout-in', or use a profile that has it$" \
	"no permission" AWS_ENDPOINT_URL_S3="http://127.0.0.1:$DENY_PORT"

setglob 's3://fanout-in/nothing-here/*.csv'
both "^fanout: inputs.glob s3://fanout-in/nothing-here/\*\.csv: no object matches \(0 listed under 'nothing-here/'\); check the prefix and pattern$" \
	"an empty prefix"
setglob 's3://fanout-in/data/*.txt'
both "^fanout: inputs.glob s3://fanout-in/data/\*\.txt: no object matches \(1 listed under 'data/'\); check the prefix and pattern$" \
	"a pattern nothing matches"

# A key that would leave the local cache: refused before any fetch.
echo "out of the cache" >"$TEST_TMP/evil.csv"
awsq s3api put-object --bucket fanout-in --key 'up/../../../evil.csv' --body "$TEST_TMP/evil.csv" >/dev/null
setglob 's3://fanout-in/up/'
fails "^fanout: s3://fanout-in/up/\.\./\.\./\.\./evil\.csv: a name with '\.\.' or a leading '/' cannot be an input; rename it$" \
	"run --local, a key with '..'" -- "$FANOUT" run --local "$proj"
is "" "$(find "$TEST_TMP" -maxdepth 3 -name evil.csv -newer "$TEST_TMP/evil.csv")" \
	"run --local, a key with '..': nothing was written outside the cache"

setglob 's3://Fanout_In/data/*.csv'
both "^fanout: .*fanout.yaml:[0-9]+:[0-9]+: .*'s3://Fanout_In/data/\*\.csv': bucket names hold only lower-case letters, digits, '-' and '.', not 'F'" \
	"a malformed s3:// URL"

setglob 's3://fanout-in/data/*.csv' 's3://no-such-out-9/runs'
fails "^fanout: results s3://no-such-out-9/runs: bucket 'no-such-out-9' does not exist \(region us-east-1\); check the bucket name in fanout.yaml$" \
	"create, a results bucket that does not exist" -- "$FANOUT" create "$proj" --yes
nothing_made "create, a results bucket that does not exist"

done_testing
