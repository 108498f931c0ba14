#!/usr/bin/env python3
"""A recording stand-in for the parts of Google Cloud that fanout uses, on
loopback: the OAuth 2.0 token endpoint, a subset of Compute Engine v1 and
of Cloud Storage JSON v1, shaped as the public API reference describes
them (kinds, selfLinks, operations that go PENDING -> RUNNING -> DONE,
error bodies {"error": {"code", "message", "errors": [{"reason"}],
"status"}}). Held honest by gcloud (tests/integration/gcp-gcloud.sh).

usage: gcp_fake.py PORT --pubkey PEM --log FILE [--project P]

As HTTP(S)_PROXY of a client it logs and refuses whatever would leave
loopback ("outside": true).

Every request goes to FILE as one JSON line: method, path, query, the
body's keys (never its values: the token request logs the JWT's header
and claims, not the assertion), status, and "unknown": true for a path
this stand-in does not serve (answered 404). Tokens are only ever
accepted from the token endpoint's own answers.

Test controls (not Google's API), under /_fake/:
  POST /_fake/inject {"method": "POST", "path": REGEX, "status": 503,
       "reason": "backendError", "count": 1}   answer with an error
  POST /_fake/inject {"method": "POST", "path": REGEX, "op_error":
       {"code": "QUOTA_EXCEEDED", "message": "..."}, "count": 1}
       the call's operation ends DONE with that error
  POST /_fake/token {"expires_in": 5}           lifetime of new tokens
  POST /_fake/bucket {"name": B}                 make a bucket
  POST /_fake/clear                             forget the injections
  POST /_fake/object {"bucket", "name", "data"}  put an object
  POST /_fake/revoke                            forget the tokens given
  POST /_fake/reset                             forget everything
  GET  /_fake/state                             everything held (JSON)
"""
import argparse
import base64
import hashlib
import http.server
import json
import re
import secrets
import threading
import time
import urllib.parse

GOOGLE_TOKEN_AUD = "https://oauth2.googleapis.com/token"
ZONES = ["us-central1-a", "us-central1-b", "us-central1-c", "us-central1-f",
         "europe-west1-b", "europe-west1-c", "europe-west1-d"]
IMAGES = {("debian-cloud", "debian-12"): "debian-12-bookworm-v20250610",
          ("debian-cloud", "debian-11"): "debian-11-bullseye-v20250610"}
# Machine types as machineTypes.list shows them: name -> (guestCpus,
# memoryMb, isSharedCpu). Every zone offers them all but the c2d family,
# which europe-west1-d lacks (a type a zone does not offer).
MACHINE_TYPES = {"e2-micro": (2, 1024, True), "e2-small": (2, 2048, True),
                 "e2-medium": (2, 4096, True)}
for _fam, _mb in (("e2-standard", 4096), ("e2-highcpu", 1024),
                  ("e2-highmem", 8192), ("n2-standard", 4096),
                  ("n2d-standard", 4096), ("c2d-standard", 4096)):
    for _n in (2, 4, 8, 16, 32):
        MACHINE_TYPES["%s-%d" % (_fam, _n)] = (_n, _n * _mb, False)
STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED",
          403: "PERMISSION_DENIED", 404: "NOT_FOUND", 409: "ALREADY_EXISTS",
          412: "FAILED_PRECONDITION", 429: "RESOURCE_EXHAUSTED",
          500: "INTERNAL", 503: "UNAVAILABLE"}


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def der_read(b, i):
    """One DER element at i: (tag, content start, content end)."""
    tag, n = b[i], b[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[i:i + k], "big")
        i += k
    return tag, i, i + n


def rsa_public(pem):
    """(n, e) of a PEM SubjectPublicKeyInfo RSA key."""
    body = "".join(l for l in pem.splitlines() if not l.startswith("-----"))
    der = base64.b64decode(body)
    _, s, _ = der_read(der, 0)                  # SubjectPublicKeyInfo
    _, a, ae = der_read(der, s)                 # AlgorithmIdentifier
    tag, bs, be = der_read(der, ae)             # BIT STRING
    key = der[bs + 1:be]                        # skip unused-bits byte
    _, ks, _ = der_read(key, 0)                 # RSAPublicKey SEQUENCE
    _, ns, ne = der_read(key, ks)
    _, es, ee = der_read(key, ne)
    return int.from_bytes(key[ns:ne], "big"), int.from_bytes(key[es:ee], "big")


def rs256_ok(pub, signing_input, sig):
    """PKCS #1 v1.5 SHA-256 verification (RFC 8017 8.2.2)."""
    n, e = pub
    k = (n.bit_length() + 7) // 8
    if len(sig) != k:
        return False
    em = pow(int.from_bytes(sig, "big"), e, n).to_bytes(k, "big")
    info = bytes.fromhex("3031300d060960864801650304020105000420")
    t = info + hashlib.sha256(signing_input).digest()
    return em == b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t


class GoogleError(Exception):
    def __init__(self, code, reason, message):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


class State:
    def __init__(self, project):
        self.lock = threading.RLock()
        self.project = project
        self.reset()

    def reset(self):
        self.instances = {}     # (zone, name) -> instance
        self.firewalls = {}     # name -> firewall
        self.ops = {}           # name -> [operation, on_done, scope]
        self.buckets = {}       # name -> {object name: (bytes, meta)}
        self.tokens = {}        # access token -> expiry (epoch seconds)
        self.request_ids = {}   # an insert's requestId -> operation name
        self.zone_status = {}   # zone -> status other than UP
        self.injects = []
        self.token_life = 3600
        self.next_id = 1000


def fingerprint():
    """A fingerprint as Google gives them: base64 of 8 bytes."""
    return base64.b64encode(secrets.token_bytes(8)).decode()


def now_rfc3339():
    return time.strftime("%Y-%m-%dT%H:%M:%S.000-00:00", time.gmtime())


class Fake(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None
    pub = None
    logf = None
    loglock = threading.Lock()

    def log_message(self, *args):
        pass

    # -- plumbing --------------------------------------------------------
    def base(self):
        return "http://%s" % self.headers.get("Host", "127.0.0.1")

    def answer(self, code, obj=None, raw=None, ctype="application/json"):
        data = raw if raw is not None else json.dumps(obj).encode()
        entry = getattr(self, "entry", None)
        if entry is not None:
            # Logged before the answer leaves: the log's order is the
            # order in which clients saw the answers.
            entry["status"] = code
            self.record(entry)
            self.entry = None
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.status = code

    def error(self, code, reason, message):
        self.answer(code, {"error": {
            "code": code, "message": message,
            "errors": [{"message": message, "domain": "global",
                        "reason": reason}],
            "status": STATUS.get(code, "UNKNOWN")}})

    def record(self, entry):
        with Fake.loglock:
            Fake.logf.write(json.dumps(entry, sort_keys=True) + "\n")
            Fake.logf.flush()

    def handle_any(self):
        self.status = 0
        self.entry = None
        u = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(u.path)
        if u.netloc:
            # An absolute URI: a request sent to us as a proxy.
            path = self.path
        query = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        entry = {"method": self.command, "path": path,
                 "query": sorted(query), "body_keys": []}
        if not path.startswith("/_fake/"):
            self.entry = entry
        ctype = self.headers.get("Content-Type", "")
        body = None
        if ctype.startswith("application/json") and raw:
            try:
                body = json.loads(raw)
                entry["body_keys"] = sorted(body) if isinstance(body, dict) \
                    else []
            except ValueError:
                body = None
        try:
            if u.netloc:
                entry["unknown"] = entry["outside"] = True
                raise GoogleError(403, "forbidden", "no traffic off loopback")
            if path.startswith("/_fake/"):
                return self.control(path, body or {})
            if self.inject(entry):
                return
            if path.rstrip("/") == "/token":
                return self.token(raw, entry)
            self.authorize()
            m = re.match(r"/compute/v1/(.*)$", path)
            if m:
                return self.compute(self.command, m.group(1), query, body,
                                    entry)
            m = re.match(r"/(upload/|download/)?storage/v1/(.*)$", path)
            if m:
                if m.group(1) == "download/":
                    query["alt"] = "media"
                return self.storage(self.command, m.group(2), query, raw,
                                    entry, m.group(1) == "upload/")
            entry["unknown"] = True
            raise GoogleError(404, "notFound", "unknown path " + path)
        except GoogleError as e:
            self.error(e.code, e.reason, e.message)
        finally:
            if self.entry is not None:
                # No answer was sent (the handler failed).
                entry["status"] = 0
                self.record(entry)
                self.entry = None

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any

    def do_CONNECT(self):
        """Used as HTTPS_PROXY by the tests: a client that tries to leave
        loopback is logged ("outside") and refused."""
        self.record({"method": "CONNECT", "path": self.path, "query": [],
                     "body_keys": [], "status": 403, "unknown": True,
                     "outside": True})
        self.answer(403, raw=b"")

    def inject(self, entry):
        with self.state.lock:
            for inj in self.state.injects:
                if inj.get("count", 1) <= 0 or inj.get("op_error"):
                    continue
                if inj.get("method", self.command) != self.command or \
                        not re.search(inj["path"], entry["path"]):
                    continue
                inj["count"] = inj.get("count", 1) - 1
                entry["injected"] = inj["status"]
                code = inj["status"]
                break
            else:
                return False
        self.error(code, inj.get("reason", "backendError"),
                   inj.get("message", "injected error %d" % code))
        return True

    def op_error(self, path):
        with self.state.lock:
            for inj in self.state.injects:
                if inj.get("op_error") and inj.get("count", 1) > 0 and \
                        inj.get("method", self.command) == self.command and \
                        re.search(inj["path"], path):
                    inj["count"] = inj.get("count", 1) - 1
                    return inj["op_error"]
        return None

    def control(self, path, body):
        st = self.state
        with st.lock:
            if path == "/_fake/inject":
                st.injects.append(dict(body))
            elif path == "/_fake/token":
                st.token_life = int(body.get("expires_in", 3600))
            elif path == "/_fake/bucket":
                st.buckets.setdefault(body["name"], {})
            elif path == "/_fake/zone":
                st.zone_status[body["name"]] = body.get("status", "UP")
            elif path == "/_fake/clear":
                st.injects = []
            elif path == "/_fake/object":
                data = body.get("data", "").encode()
                st.buckets.setdefault(body["bucket"], {})[body["name"]] = (
                    data, self.obj_meta(body["bucket"], body["name"], data,
                                        "application/octet-stream"))
            elif path == "/_fake/revoke":
                st.tokens.clear()
            elif path == "/_fake/reset":
                st.reset()
            elif path == "/_fake/state":
                return self.answer(200, {
                    "instances": list(st.instances.values()),
                    "firewalls": list(st.firewalls.values()),
                    "operations": [o[0] for o in st.ops.values()],
                    "request_ids": st.request_ids,
                    "buckets": {b: sorted(o) for b, o in st.buckets.items()}})
            else:
                raise GoogleError(404, "notFound", "no control " + path)
        self.answer(200, {})

    # -- OAuth -----------------------------------------------------------
    def token(self, raw, entry):
        form = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace")))
        entry["body_keys"] = sorted(form)
        grant = form.get("grant_type", "")
        st = self.state
        if grant == "refresh_token":
            if not form.get("refresh_token") or not form.get("client_id"):
                return self.answer(400, {"error": "invalid_request"})
        elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            parts = form.get("assertion", "").split(".")
            try:
                header, claims = json.loads(b64d(parts[0])), \
                    json.loads(b64d(parts[1]))
                sig = b64d(parts[2])
            except (ValueError, IndexError):
                return self.answer(400, {"error": "invalid_grant",
                                         "error_description": "bad JWT"})
            entry["jwt_header"], entry["jwt_claims"] = header, claims
            signed = (parts[0] + "." + parts[1]).encode()
            aud_ok = claims.get("aud") in (GOOGLE_TOKEN_AUD,
                                           self.base() + "/token")
            if header.get("alg") != "RS256" or \
                    not rs256_ok(self.pub, signed, sig):
                entry["jwt_verified"] = False
                return self.answer(400, {"error": "invalid_grant",
                                         "error_description":
                                         "Invalid JWT Signature."})
            entry["jwt_verified"] = True
            t = time.time()
            if not aud_ok or not claims.get("iss") or \
                    not (claims.get("iat", 0) - 300 <= t <=
                         claims.get("exp", 0)):
                return self.answer(400, {"error": "invalid_grant",
                                         "error_description":
                                         "Invalid JWT claims."})
            if "target_audience" in claims:
                # An ID token (gcloud asks for one on activation).
                idt = ".".join(base64.urlsafe_b64encode(json.dumps(x)
                               .encode()).decode().rstrip("=") for x in (
                    {"alg": "RS256", "typ": "JWT"},
                    {"iss": "https://accounts.google.com",
                     "aud": claims["target_audience"],
                     "email": claims["iss"], "iat": int(t),
                     "exp": int(t) + 3600})) + ".c2ln"
                return self.answer(200, {"id_token": idt})
        else:
            return self.answer(400, {"error": "unsupported_grant_type"})
        tok = "ya29.fake-" + secrets.token_urlsafe(24)
        with st.lock:
            life = st.token_life
            st.tokens[tok] = time.time() + life
        self.answer(200, {"access_token": tok, "expires_in": life,
                          "token_type": "Bearer"})

    def authorize(self):
        auth = self.headers.get("Authorization", "")
        tok = auth[7:] if auth.startswith("Bearer ") else ""
        with self.state.lock:
            exp = self.state.tokens.get(tok)
        if exp is None or exp < time.time():
            raise GoogleError(401, "authError",
                              "Request had invalid authentication "
                              "credentials.")

    # -- Compute Engine --------------------------------------------------
    def link(self, rest):
        return "%s/compute/v1/%s" % (self.base(), rest)

    def new_id(self):
        self.state.next_id += 1
        return str(4_000_000_000_000_000_000 + self.state.next_id)

    def operation(self, kind, target_link, scope, on_done=None, path=""):
        """A new operation in scope ("zones/Z" or "global")."""
        st = self.state
        name = "operation-%d-%s" % (int(time.time() * 1000),
                                    secrets.token_hex(8))
        op = {"kind": "compute#operation", "id": self.new_id(),
              "name": name, "operationType": kind, "targetLink": target_link,
              "targetId": self.new_id(), "status": "PENDING",
              "user": "fanout-test@example.com", "progress": 0,
              "insertTime": now_rfc3339(),
              "selfLink": self.link("projects/%s/%s/operations/%s" %
                                    (st.project, scope, name))}
        if scope.startswith("zones/"):
            op["zone"] = self.link("projects/%s/%s" % (st.project, scope))
        err = self.op_error(path)
        st.ops[name] = [op, None if err else on_done, err]
        return op

    def advance(self, name, to_done):
        st = self.state
        rec = st.ops.get(name)
        if rec is None:
            raise GoogleError(404, "notFound",
                              "The resource 'operations/%s' was not found"
                              % name)
        op, on_done, err = rec
        while op["status"] != "DONE":
            if op["status"] == "PENDING":
                op["status"], op["startTime"] = "RUNNING", now_rfc3339()
                op["progress"] = 50
            else:
                op["status"], op["endTime"] = "DONE", now_rfc3339()
                op["progress"] = 100
                if err:
                    op["error"] = {"errors": [dict(err)]}
                    op["httpErrorStatusCode"] = 403
                    op["httpErrorMessage"] = "FORBIDDEN"
                elif on_done:
                    on_done()
            if not to_done:
                break
        return op

    def compute(self, method, rest, query, body, entry):
        st = self.state
        p = rest.rstrip("/").split("/")
        with st.lock:
            if len(p) < 2 or p[0] != "projects":
                raise GoogleError(404, "notFound", "unknown path " + rest)
            proj = p[1]
            if proj in ("debian-cloud",) and p[2:4] == ["global", "images"]:
                return self.image(proj, p[4:])
            if proj != st.project:
                raise GoogleError(403, "forbidden",
                                  "Project %s not found or no access" % proj)
            q = p[2:]
            if not q and method == "GET":
                return self.answer(200, {
                    "kind": "compute#project", "name": proj,
                    "id": "123456789012", "xpnProjectStatus":
                    "UNSPECIFIED_XPN_PROJECT_STATUS",
                    "defaultServiceAccount":
                    "123456789012-compute@developer.gserviceaccount.com",
                    "commonInstanceMetadata": {"kind": "compute#metadata",
                                               "fingerprint": fingerprint()},
                    "selfLink": self.link("projects/" + proj)})
            if q == ["zones"]:
                return self.answer(200, self.listing(
                    "compute#zoneList", [self.zone(z) for z in ZONES],
                    query, "projects/%s/zones" % proj))
            if len(q) == 2 and q[0] == "zones":
                return self.answer(200, self.zone(self.known_zone(q[1])))
            if len(q) >= 3 and q[0] == "zones" and q[2] == "machineTypes":
                return self.machine_types(self.known_zone(q[1]), q[3:],
                                          query)
            if q == ["aggregated", "instances"]:
                return self.aggregated(query)
            if len(q) >= 3 and q[0] == "zones" and q[2] == "instances":
                return self.instances(method, self.known_zone(q[1]), q[3:],
                                      query, body)
            if len(q) >= 3 and q[0] == "zones" and q[2] == "operations":
                return self.get_op(q[3:], method)
            if q[:2] == ["global", "operations"]:
                return self.get_op(q[2:], method)
            if q[:2] == ["global", "firewalls"]:
                return self.firewall(method, q[2:], query, body)
            if q[:2] == ["global", "networks"] and len(q) == 3:
                return self.answer(200, {
                    "kind": "compute#network", "name": q[2],
                    "id": "1", "autoCreateSubnetworks": True,
                    "selfLink": self.link("projects/%s/global/networks/%s"
                                          % (proj, q[2]))})
        entry["unknown"] = True
        raise GoogleError(404, "notFound", "unknown path " + rest)

    def known_zone(self, z):
        if z not in ZONES:
            raise GoogleError(404, "notFound",
                              "The resource 'projects/%s/zones/%s' was not "
                              "found" % (self.state.project, z))
        return z

    def zone(self, z):
        region = z.rsplit("-", 1)[0]
        return {"kind": "compute#zone", "id": str(2000 + ZONES.index(z)),
                "name": z, "status": self.state.zone_status.get(z, "UP"),
                "description": z,
                "region": self.link("projects/%s/regions/%s" %
                                    (self.state.project, region)),
                "selfLink": self.link("projects/%s/zones/%s" %
                                      (self.state.project, z)),
                "availableCpuPlatforms": ["Intel Cascade Lake"]}

    def machine_types(self, zone, rest, query):
        """machineTypes.list / get in a zone (the reference's fields)."""
        def mt(name):
            cpus, mb, shared = MACHINE_TYPES[name]
            return {"kind": "compute#machineType", "name": name,
                    "id": str(abs(hash(name)) % 10**9),
                    "description": "%d vCPUs, %g GB RAM" % (cpus, mb / 1024),
                    "guestCpus": cpus, "memoryMb": mb,
                    "isSharedCpu": shared, "zone": zone,
                    "maximumPersistentDisks": 128,
                    "maximumPersistentDisksSizeGb": "263168",
                    "imageSpaceGb": 0,
                    "creationTimestamp": "1969-12-31T16:00:00.000-08:00",
                    "selfLink": self.link("projects/%s/zones/%s/"
                                          "machineTypes/%s" % (
                                              self.state.project, zone,
                                              name))}
        names = [n for n in sorted(MACHINE_TYPES)
                 if not (zone == "europe-west1-d" and n.startswith("c2d"))]
        if not rest:
            return self.answer(200, self.listing(
                "compute#machineTypeList", [mt(n) for n in names], query,
                "projects/%s/zones/%s/machineTypes" % (self.state.project,
                                                       zone)))
        if len(rest) == 1 and rest[0] in names:
            return self.answer(200, mt(rest[0]))
        raise GoogleError(404, "notFound",
                          "The resource 'projects/%s/zones/%s/machineTypes/"
                          "%s' was not found" % (self.state.project, zone,
                                                 "/".join(rest)))

    def check_instance(self, body):
        """The shapes the reference gives: metadata items {key, value}
        strings, label keys/values [a-z0-9_-] <= 63, tags.items names."""
        for it in body.get("metadata", {}).get("items", []):
            if not isinstance(it, dict) or set(it) - {"key", "value"} or \
                    not isinstance(it.get("key"), str) or \
                    not isinstance(it.get("value", ""), str):
                raise GoogleError(400, "invalid",
                                  "Invalid value for field "
                                  "'resource.metadata.items': %r" % (it,))
        for k, v in body.get("labels", {}).items():
            if not re.match(r"^[a-z][a-z0-9_-]{0,62}$", k) or \
                    not re.match(r"^[a-z0-9_-]{0,63}$", str(v)):
                raise GoogleError(400, "invalid",
                                  "Invalid value for field "
                                  "'resource.labels': %s=%s" % (k, v))
        for t in body.get("tags", {}).get("items", []):
            if not re.match(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$", t):
                raise GoogleError(400, "invalid",
                                  "Invalid value for field "
                                  "'resource.tags.items': %s" % t)

    def listing(self, kind, items, query, path):
        items = self.filtered(items, query.get("filter", ""))
        out = {"kind": kind, "id": "projects/%s" % path,
               "selfLink": self.link(path), "items": items}
        if not items:
            del out["items"]
        return out

    def filtered(self, items, flt):
        """Google's list filter, the forms fanout and gcloud send:
        labels.K = V / labels.K eq V / name = N, joined by AND."""
        for term in re.findall(r"\(?([\w.-]+)\s*(?:=|eq)\s*\"?([^\s\")]+)",
                               flt):
            k, v = term
            if k.startswith("labels."):
                items = [i for i in items
                         if i.get("labels", {}).get(k[7:]) == v]
            else:
                items = [i for i in items if str(i.get(k)) == v]
        return items

    def image(self, proj, rest):
        if len(rest) == 2 and rest[0] == "family" and \
                (proj, rest[1]) in IMAGES:
            name = IMAGES[(proj, rest[1])]
            return self.answer(200, {
                "kind": "compute#image", "id": "7000", "name": name,
                "family": rest[1], "status": "READY", "diskSizeGb": "10",
                "architecture": "X86_64", "sourceType": "RAW",
                "shieldedInstanceInitialState": {},
                "guestOsFeatures": [{"type": "UEFI_COMPATIBLE"},
                                    {"type": "VIRTIO_SCSI_MULTIQUEUE"},
                                    {"type": "GVNIC"}],
                "selfLink": self.link("projects/%s/global/images/%s" %
                                      (proj, name))})
        if len(rest) == 1 and rest[0] in IMAGES.values():
            return self.image(proj, ["family",
                                     rest[0].split("-")[0] + "-" +
                                     rest[0].split("-")[1]])
        raise GoogleError(404, "notFound",
                          "The resource 'projects/%s/global/images/%s' was "
                          "not found" % (proj, "/".join(rest)))

    def instances(self, method, zone, rest, query, body):
        st = self.state
        base = "projects/%s/zones/%s/instances" % (st.project, zone)
        scope = "zones/" + zone
        if not rest and method == "GET":
            items = [i for (z, _), i in sorted(st.instances.items())
                     if z == zone]
            return self.answer(200, self.listing("compute#instanceList",
                                                 items, query, base))
        if not rest and method == "POST":
            if not body or not body.get("name"):
                raise GoogleError(400, "required",
                                  "Required field 'resource.name' not "
                                  "specified")
            rid = query.get("requestId")
            if rid and rid in st.request_ids:
                # The same insert again (its answer was lost): Compute
                # Engine answers with the first one's operation.
                return self.answer(200, st.ops[st.request_ids[rid]][0])
            self.check_instance(body)
            if (zone, body["name"]) in st.instances:
                raise GoogleError(409, "alreadyExists",
                                  "The resource '%s/%s' already exists" %
                                  (base, body["name"]))
            inst = self.make_instance(zone, base, body)
            st.instances[(zone, body["name"])] = inst

            def done():
                inst["status"] = "RUNNING"
                inst["lastStartTimestamp"] = now_rfc3339()
            op = self.operation("insert", inst["selfLink"], scope, done,
                                "/" + base)
            if rid:
                st.request_ids[rid] = op["name"]
            if st.ops[op["name"]][2]:
                # The insert fails in its operation: nothing is made.
                del st.instances[(zone, body["name"])]
            return self.answer(200, op)
        name = rest[0]
        inst = st.instances.get((zone, name))
        if inst is None:
            raise GoogleError(404, "notFound",
                              "The resource '%s/%s' was not found" %
                              (base, name))
        if len(rest) == 1 and method == "GET":
            return self.answer(200, inst)
        if len(rest) == 1 and method == "DELETE":
            inst["status"] = "STOPPING"

            def gone():
                st.instances.pop((zone, name), None)
            return self.answer(200, self.operation(
                "delete", inst["selfLink"], scope, gone, "/" + base))
        if len(rest) == 2 and method == "POST" and rest[1] in ("stop",
                                                               "start"):
            if rest[1] == "stop":
                inst["status"] = "STOPPING"

                def fin():
                    inst["status"] = "TERMINATED"
            else:
                inst["status"] = "STAGING"

                def fin():
                    inst["status"] = "RUNNING"
            return self.answer(200, self.operation(
                rest[1], inst["selfLink"], scope, fin, "/" + base))
        raise GoogleError(404, "notFound", "unknown path " + "/".join(rest))

    def make_instance(self, zone, base, body):
        inst = json.loads(json.dumps(body))
        st = self.state
        n = len(st.instances) + 2
        inst.update({
            "kind": "compute#instance", "id": self.new_id(),
            "creationTimestamp": now_rfc3339(), "status": "PROVISIONING",
            "zone": self.link("projects/%s/zones/%s" % (st.project, zone)),
            "selfLink": self.link("%s/%s" % (base, body["name"])),
            "cpuPlatform": "Intel Cascade Lake",
            "fingerprint": fingerprint(),
            "labelFingerprint": fingerprint(),
            "startRestricted": False, "deletionProtection": False})
        mt = inst.get("machineType", "e2-small")
        if "/" not in mt:
            mt = "zones/%s/machineTypes/%s" % (zone, mt)
        if not mt.startswith("http"):
            mt = self.link("projects/%s/%s" % (st.project,
                           mt.split("projects/%s/" % st.project)[-1]))
        inst["machineType"] = mt
        for i, nic in enumerate(inst.setdefault("networkInterfaces", [{}])):
            nic.setdefault("network", self.link(
                "projects/%s/global/networks/default" % st.project))
            nic["name"] = "nic%d" % i
            nic["networkIP"] = "10.128.0.%d" % n
            nic["kind"] = "compute#networkInterface"
            for ac in nic.get("accessConfigs", []):
                ac.setdefault("type", "ONE_TO_ONE_NAT")
                ac.setdefault("name", "external-nat")
                ac["natIP"] = "192.0.2.%d" % n
                ac["kind"] = "compute#accessConfig"
        for i, d in enumerate(inst.get("disks", [])):
            d.update({"kind": "compute#attachedDisk", "index": i,
                      "deviceName": d.get("deviceName") or
                      ("persistent-disk-%d" % i),
                      "source": self.link("projects/%s/zones/%s/disks/%s" %
                                          (st.project, zone, body["name"])),
                      "type": d.get("type", "PERSISTENT")})
            d.pop("initializeParams", None)
        md = inst.setdefault("metadata", {})
        md["kind"] = "compute#metadata"
        md["fingerprint"] = fingerprint()
        inst.setdefault("tags", {})["fingerprint"] = fingerprint()
        inst.setdefault("scheduling", {"onHostMaintenance": "MIGRATE",
                                       "automaticRestart": True,
                                       "preemptible": False})
        return inst

    def aggregated(self, query):
        st = self.state
        by = {}
        for (z, _), i in sorted(st.instances.items()):
            by.setdefault("zones/" + z, []).append(i)
        items = {}
        for z in ZONES:
            got = self.filtered(by.get("zones/" + z, []),
                                query.get("filter", ""))
            items["zones/" + z] = {"instances": got} if got else {
                "warning": {"code": "NO_RESULTS_ON_PAGE",
                            "message": "There are no results for scope "
                            "'zones/%s' on this page." % z,
                            "data": [{"key": "scope",
                                      "value": "zones/" + z}]}}
        return self.answer(200, {
            "kind": "compute#instanceAggregatedList",
            "id": "projects/%s/aggregated/instances" % st.project,
            "items": items,
            "selfLink": self.link("projects/%s/aggregated/instances" %
                                  st.project)})

    def get_op(self, rest, method):
        if len(rest) == 1 and method == "GET":
            return self.answer(200, self.advance(rest[0], False))
        if len(rest) == 2 and rest[1] == "wait" and method == "POST":
            return self.answer(200, self.advance(rest[0], True))
        raise GoogleError(404, "notFound", "unknown operation call")

    def firewall(self, method, rest, query, body):
        st = self.state
        base = "projects/%s/global/firewalls" % st.project
        if not rest and method == "GET":
            items = [f for _, f in sorted(st.firewalls.items())]
            return self.answer(200, self.listing("compute#firewallList",
                                                 items, query, base))
        if not rest and method == "POST":
            if not body or not body.get("name"):
                raise GoogleError(400, "required",
                                  "Required field 'resource.name' not "
                                  "specified")
            rid = query.get("requestId")
            if rid and rid in st.request_ids:
                return self.answer(200, st.ops[st.request_ids[rid]][0])
            if body["name"] in st.firewalls:
                raise GoogleError(409, "alreadyExists",
                                  "The resource '%s/%s' already exists" %
                                  (base, body["name"]))
            fw = json.loads(json.dumps(body))
            fw.update({"kind": "compute#firewall", "id": self.new_id(),
                       "creationTimestamp": now_rfc3339(),
                       "selfLink": self.link("%s/%s" % (base, body["name"])),
                       "disabled": False})
            fw.setdefault("direction", "INGRESS")
            fw.setdefault("priority", 1000)
            fw.setdefault("network", self.link(
                "projects/%s/global/networks/default" % st.project))

            def done():
                st.firewalls[fw["name"]] = fw
            op = self.operation("insert", fw["selfLink"], "global", done,
                                "/" + base)
            if rid:
                st.request_ids[rid] = op["name"]
            return self.answer(200, op)
        fw = st.firewalls.get(rest[0]) if rest else None
        if fw is None:
            raise GoogleError(404, "notFound",
                              "The resource '%s/%s' was not found" %
                              (base, rest[0] if rest else ""))
        if method == "GET":
            return self.answer(200, fw)
        if method == "DELETE":
            def gone():
                st.firewalls.pop(fw["name"], None)
            return self.answer(200, self.operation(
                "delete", fw["selfLink"], "global", gone, "/" + base))
        raise GoogleError(404, "notFound", "unknown firewall call")

    # -- Cloud Storage ---------------------------------------------------
    def obj_meta(self, bucket, name, data, ctype):
        return {"kind": "storage#object", "bucket": bucket, "name": name,
                "id": "%s/%s/1" % (bucket, name), "generation": "1",
                "metageneration": "1", "size": str(len(data)),
                "contentType": ctype, "storageClass": "STANDARD",
                "md5Hash": base64.b64encode(hashlib.md5(data).digest())
                .decode(),
                "crc32c": "AAAAAA==", "etag": "CAE=",
                "timeCreated": now_rfc3339(), "updated": now_rfc3339(),
                "selfLink": "%s/storage/v1/b/%s/o/%s" % (
                    self.base(), bucket, urllib.parse.quote(name, safe="")),
                "mediaLink": "%s/download/storage/v1/b/%s/o/%s?alt=media" %
                (self.base(), bucket, urllib.parse.quote(name, safe=""))}

    def storage(self, method, rest, query, raw, entry, upload):
        st = self.state
        p = rest.split("/", 3)
        with st.lock:
            if len(p) < 2 or p[0] != "b" or p[1] not in st.buckets:
                if len(p) >= 2 and p[0] == "b":
                    raise GoogleError(404, "notFound",
                                      "The specified bucket does not exist.")
                entry["unknown"] = True
                raise GoogleError(404, "notFound", "unknown path " + rest)
            bucket, objs = p[1], st.buckets[p[1]]
            if len(p) == 2 and method == "GET":
                return self.answer(200, {
                    "kind": "storage#bucket", "id": bucket, "name": bucket,
                    "projectNumber": "123456789012", "location": "US",
                    "storageClass": "STANDARD", "metageneration": "1",
                    "locationType": "multi-region", "etag": "CAE=",
                    "timeCreated": now_rfc3339(), "updated": now_rfc3339(),
                    "selfLink": "%s/storage/v1/b/%s" % (self.base(),
                                                        bucket)})
            if len(p) == 3 and p[2] == "o" and upload and method == "POST":
                return self.upload(bucket, objs, query, raw, entry)
            if len(p) == 3 and p[2] == "o" and method == "GET":
                return self.list_objects(bucket, objs, query)
            if len(p) == 4 and p[2] == "o":
                name = p[3]
                if name not in objs:
                    raise GoogleError(404, "notFound",
                                      "No such object: %s/%s" % (bucket,
                                                                 name))
                data, meta = objs[name]
                if method == "GET" and query.get("alt") == "media":
                    return self.answer(200, raw=data,
                                       ctype=meta["contentType"])
                if method == "GET":
                    return self.answer(200, meta)
                if method == "DELETE":
                    del objs[name]
                    return self.answer(204, raw=b"")
        entry["unknown"] = True
        raise GoogleError(404, "notFound", "unknown path " + rest)

    def list_objects(self, bucket, objs, query):
        prefix = query.get("prefix", "")
        delim = query.get("delimiter", "")
        names = sorted(n for n in objs if n.startswith(prefix))
        items, prefixes = [], []
        for n in names:
            if delim and delim in n[len(prefix):]:
                pfx = prefix + n[len(prefix):].split(delim, 1)[0] + delim
                if pfx not in prefixes:
                    prefixes.append(pfx)
            else:
                items.append(n)
        start = int(query.get("pageToken") or 0)
        size = int(query.get("maxResults") or 1000)
        page = items[start:start + size]
        out = {"kind": "storage#objects",
               "items": [objs[n][1] for n in page]}
        if prefixes:
            out["prefixes"] = prefixes
        if start + size < len(items):
            out["nextPageToken"] = str(start + size)
        if not page:
            del out["items"]
        return self.answer(200, out)

    def upload(self, bucket, objs, query, raw, entry):
        kind = query.get("uploadType", "")
        ctype = self.headers.get("Content-Type", "application/octet-stream")
        if kind == "media":
            name, data = query.get("name", ""), raw
        elif kind == "multipart":
            m = re.search(r"boundary=[\"']?([^\"';]+)", ctype)
            if not m:
                raise GoogleError(400, "invalid", "no multipart boundary")
            parts = raw.split(b"--" + m.group(1).encode())
            bodies = []
            for part in parts[1:-1]:
                head, _, content = part.partition(b"\r\n\r\n")
                if not _:
                    head, _, content = part.partition(b"\n\n")
                # The line break before a delimiter is the delimiter's.
                if content.endswith(b"\r\n"):
                    content = content[:-2]
                elif content.endswith(b"\n"):
                    content = content[:-1]
                bodies.append((head, content))
            if len(bodies) != 2:
                raise GoogleError(400, "invalid", "multipart needs 2 parts")
            meta = json.loads(bodies[0][1])
            entry["body_keys"] = sorted(meta)
            name, data = meta.get("name", ""), bodies[1][1]
            m = re.search(rb"(?i)content-type:\s*([^\r\n]+)", bodies[1][0])
            ctype = m.group(1).decode() if m else "application/octet-stream"
        else:
            raise GoogleError(400, "invalid",
                              "uploadType %r not served here" % kind)
        if not name:
            raise GoogleError(400, "required", "Required object name")
        objs[name] = (data, self.obj_meta(bucket, name, data, ctype))
        return self.answer(200, objs[name][1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--pubkey", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--project", default="fanout-test")
    a = ap.parse_args()
    Fake.state = State(a.project)
    Fake.pub = rsa_public(open(a.pubkey).read())
    Fake.logf = open(a.log, "a")
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), Fake)
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    main()
