# fanout: copies a run's results folder to S3 from the head (run as
# `python3 - DIR BUCKET PREFIX` in runs/ID), with the credentials boto3
# finds there: the instance role's write-only grant on the prefix. Each
# file goes to PREFIX/ID/PATH (ID: the run's folder name). Endpoint
# overrides as in s3-fetch.py. Prints "#copied s3://BUCKET/PREFIX/ID/ N",
# or "#error ..." and exits 1.
import os
import sys

try:
    import boto3
    import botocore.config
except ImportError:
    print("#error python3 has no boto3 here (install python3-boto3)")
    sys.exit(1)

src, bucket, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
run = os.path.basename(os.getcwd())
if prefix and not prefix.endswith("/"):
    prefix += "/"
dest = "%s%s/" % (prefix, run)
cfg = {"retries": {"mode": "standard", "max_attempts": 5}}
if os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"):
    cfg["s3"] = {"addressing_style": "path"}
s3 = boto3.client("s3", config=botocore.config.Config(**cfg))
n = 0
try:
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src)
            s3.upload_file(path, bucket, dest + rel)
            n += 1
except Exception as e:  # noqa: BLE001 - reported, then exit 1
    print("#error s3://%s/%s: %s" % (bucket, dest, str(e).replace("\n", " ")))
    sys.exit(1)
print("#copied s3://%s/%s %d" % (bucket, dest, n), flush=True)
