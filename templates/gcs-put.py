# fanout: copies a run's results folder to Cloud Storage from the head (run
# as `python3 - DIR BUCKET PREFIX` in runs/ID), with the host's own service
# account (a token from the metadata server, as in gcs-fetch.py; the
# account may create objects in that bucket and nothing else). Each file
# goes to PREFIX/ID/PATH (ID: the run's folder name) with a media upload.
# Prints "#copied gs://BUCKET/PREFIX/ID/ N", or "#error ..." and exits 1.
import json
import os
import random
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

STORAGE = os.environ.get("CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE") or \
    "https://storage.googleapis.com/storage/v1/"
if not STORAGE.endswith("/"):
    STORAGE += "/"
# Uploads go to /upload/storage/v1/ beside /storage/v1/ (as gcloud does).
if STORAGE.endswith("storage/v1/"):
    UPLOAD = STORAGE[:-len("storage/v1/")] + "upload/storage/v1/"
else:
    UPLOAD = STORAGE + "upload/"
META = os.environ.get("GCE_METADATA_HOST") or "metadata.google.internal"
TOKEN_URL = ("http://%s/computeMetadata/v1/instance/service-accounts/"
             "default/token" % META)
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_tok = {"value": None, "until": 0.0}


def token(renew=False):
    if renew or _tok["value"] is None or time.time() > _tok["until"]:
        req = urllib.request.Request(TOKEN_URL,
                                     headers={"Metadata-Flavor": "Google"})
        try:
            with OPENER.open(req, timeout=30) as r:
                d = json.load(r)
        except urllib.error.HTTPError as e:
            raise RuntimeError("the metadata server gives no token (HTTP "
                               "%d): does this VM have a service account?"
                               % e.code) from None
        _tok["value"] = d["access_token"]
        _tok["until"] = time.time() + int(d.get("expires_in", 0)) - 225
    return _tok["value"]


def put(bucket, name, path):
    url = "%sb/%s/o?uploadType=media&name=%s" % (
        UPLOAD, urllib.parse.quote(bucket, ""), urllib.parse.quote(name, ""))
    with open(path, "rb") as f:
        data = f.read()
    renewed = False
    for attempt in range(1, 8):
        req = urllib.request.Request(url, data=data, method="POST", headers={
            "Authorization": "Bearer " + token(),
            "Content-Type": "application/octet-stream"})
        try:
            with OPENER.open(req, timeout=600) as r:
                r.read()
                return
        except urllib.error.HTTPError as e:
            if e.code == 401 and not renewed:
                renewed = True
                token(renew=True)
                continue
            if e.code not in (429, 500, 502, 503, 504) or attempt == 7:
                try:
                    msg = json.load(e)["error"]["message"]
                except Exception:  # noqa: BLE001 - any body
                    msg = e.reason
                raise RuntimeError("HTTP %d: %s" % (e.code, msg)) from None
        except (urllib.error.URLError, OSError) as e:
            if attempt == 7:
                raise RuntimeError(str(e)) from None
        time.sleep(random.uniform(0, min(2 ** (attempt - 1), 60)))


src, bucket, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
run = os.path.basename(os.getcwd())
if prefix and not prefix.endswith("/"):
    prefix += "/"
dest = "%s%s/" % (prefix, run)
n = 0
try:
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src)
            put(bucket, dest + rel, path)
            n += 1
except Exception as e:  # noqa: BLE001 - reported, then exit 1
    print("#error gs://%s/%s: %s" % (bucket, dest, str(e).replace("\n", " ")))
    sys.exit(1)
print("#copied gs://%s/%s %d" % (bucket, dest, n), flush=True)
