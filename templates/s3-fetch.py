# fanout: fetches a run's inputs from S3 on the host itself (run as
# `python3 - LIST`), with the credentials boto3 finds there: on a VM, the
# instance role's, from the instance metadata service. The user's own
# credentials never come here. LIST has one line per object:
# "BUCKET<TAB>KEY<TAB>SIZE<TAB>ETAG<TAB>DEST"; DEST (relative to the
# current folder) is kept when its size and recorded ETag match (the
# record is store/index.json). Endpoint overrides as the SDKs read them
# (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL): path-style addressing then.
# Several may run at once on a host (a cluster's elements, each its
# share): the index is merged as well as it can be, at worst an object is
# fetched again.
# Prints "#fetched N BYTES KEPT", or "#error ..." and exits 1.
import concurrent.futures
import json
import os
import sys

try:
    import boto3
    import botocore.config
except ImportError:
    print("#error python3 has no boto3 here (install python3-boto3)")
    sys.exit(1)

INDEX = "store/index.json"

def load_index():
    """The index as a dict; a missing or damaged one is empty."""
    try:
        with open(INDEX) as f:
            index = json.load(f)
    except (OSError, ValueError):
        return {}
    return index if isinstance(index, dict) else {}

objs = []
with open(sys.argv[1]) as f:
    for line in f:
        b, k, size, etag, dest = line.rstrip("\n").split("\t")
        objs.append((b, k, int(size), etag, dest))
index = load_index()

cfg = {"retries": {"mode": "standard", "max_attempts": 5},
       "max_pool_connections": 16}
if os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"):
    cfg["s3"] = {"addressing_style": "path"}
s3 = boto3.client("s3", config=botocore.config.Config(**cfg))


def fetch(o):
    b, k, size, etag, dest = o
    try:
        if os.path.getsize(dest) == size and index.get(dest) == etag:
            return 0, False
    except OSError:
        pass
    os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
    tmp = dest + ".part"
    s3.download_file(b, k, tmp)
    os.replace(tmp, dest)
    return size, True


done = kept = total = 0
with concurrent.futures.ThreadPoolExecutor(16) as ex:
    futs = {ex.submit(fetch, o): o for o in objs}
    for fut in concurrent.futures.as_completed(futs):
        o = futs[fut]
        try:
            n, new = fut.result()
        except Exception as e:  # noqa: BLE001 - reported, then exit 1
            msg = str(e).replace("\n", " ")
            print("#error s3://%s/%s: %s" % (o[0], o[1], msg), flush=True)
            for f2 in futs:
                f2.cancel()
            sys.exit(1)
        index[o[4]] = o[3]
        if new:
            done += 1
            total += n
        else:
            kept += 1
ours = {o[4]: index[o[4]] for o in objs if o[4] in index}
# Read again: another element on this node may have written it meanwhile.
index = load_index()
index.update(ours)
os.makedirs(os.path.dirname(INDEX), exist_ok=True)
tmp = "%s.%d" % (INDEX, os.getpid())
with open(tmp, "w") as f:
    json.dump(index, f)
os.replace(tmp, INDEX)
print("#fetched %d %d %d" % (done, total, kept), flush=True)
