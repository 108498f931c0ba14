# fanout: fetches a run's inputs from Cloud Storage on the host itself (run
# as `python3 - LIST`), with the host's own service account: an access
# token from the instance's metadata server (GCE_METADATA_HOST, as
# google-auth reads it, else metadata.google.internal). The user's own
# credentials never come here. Python's standard library only (Debian 12
# has python3, no Google libraries). LIST has one line per object:
# "BUCKET<TAB>NAME<TAB>SIZE<TAB>GENERATION<TAB>DEST"; DEST (relative to
# the current folder) is kept when its size and recorded generation match
# (the record is store/index.json). The storage endpoint as gcloud
# overrides it (CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE). Several may run
# at once on a host (a cluster's elements, each its share): the index is
# merged as well as it can be, at worst an object is fetched again.
# Prints "#fetched N BYTES KEPT", or "#error ..." and exits 1.
import concurrent.futures
import json
import os
import random
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

INDEX = "store/index.json"
STORAGE = os.environ.get("CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE") or \
    "https://storage.googleapis.com/storage/v1/"
if not STORAGE.endswith("/"):
    STORAGE += "/"
META = os.environ.get("GCE_METADATA_HOST") or "metadata.google.internal"
TOKEN_URL = ("http://%s/computeMetadata/v1/instance/service-accounts/"
             "default/token" % META)
# Never through a proxy: the metadata server and Google's endpoints are
# reached directly, as google-auth does for the metadata server.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_tok = {"value": None, "until": 0.0}
_lock = threading.Lock()


def token(renew=False):
    """The service account's access token, renewed 225 s before expiry."""
    with _lock:
        if renew or _tok["value"] is None or time.time() > _tok["until"]:
            req = urllib.request.Request(TOKEN_URL,
                                         headers={"Metadata-Flavor": "Google"})
            try:
                with OPENER.open(req, timeout=30) as r:
                    d = json.load(r)
            except urllib.error.HTTPError as e:
                raise RuntimeError("the metadata server gives no token "
                                   "(HTTP %d): does this VM have a service "
                                   "account?" % e.code) from None
            _tok["value"] = d["access_token"]
            _tok["until"] = time.time() + int(d.get("expires_in", 0)) - 225
        return _tok["value"]


def get(bucket, name, dest):
    url = "%sb/%s/o/%s?alt=media" % (STORAGE, urllib.parse.quote(bucket, ""),
                                      urllib.parse.quote(name, ""))
    renewed = False
    for attempt in range(1, 8):
        req = urllib.request.Request(url, headers={
            "Authorization": "Bearer " + token(), "Accept": "*/*"})
        try:
            with OPENER.open(req, timeout=600) as r, open(dest, "wb") as f:
                while True:
                    b = r.read(1 << 20)
                    if not b:
                        return
                    f.write(b)
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
        b, k, size, gen, dest = line.rstrip("\n").split("\t")
        objs.append((b, k, int(size), gen, dest))
index = load_index()


def fetch(o):
    b, k, size, gen, dest = o
    try:
        if os.path.getsize(dest) == size and index.get(dest) == gen:
            return 0, False
    except OSError:
        pass
    os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
    tmp = dest + ".part"
    get(b, k, tmp)
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
            print("#error gs://%s/%s: %s" % (o[0], o[1], msg), flush=True)
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
