"""Identity and access for the Google Cloud stand-in (gcp_fake.py): the
IAM v1 subset fanout uses (projects.serviceAccounts create, get, delete,
list), Cloud Storage bucket IAM (b/BUCKET/iam get and set with etag,
testPermissions), a metadata server that gives an access token for the
service account of the instances (as a VM's
/computeMetadata/v1/instance/service-accounts/default/token does, header
Metadata-Flavor: Google), and who may do what on a bucket:

- a token of the user's credentials (a JWT of the key, a refresh token)
  is the project's owner: everything, except on a bucket denied to it
  (control /_fake/iam/deny {"bucket": B}): 403 there, as Cloud Storage
  answers credentials without storage.objects.list;
- a token of the metadata server is the service account's: only what the
  bucket's policy binds to serviceAccount:EMAIL (roles/storage.
  objectViewer: list and read; roles/storage.objectCreator: create).

Each storage request's log entry gets "who" (the token's identity).
Shapes follow the public references of iam.googleapis.com v1 and the
storage JSON API (Policy, ServiceAccount, error bodies)."""
import base64
import json
import re
import secrets
import time
import urllib.parse

ROLE_PERMS = {
    "roles/storage.objectViewer": {"storage.objects.list",
                                   "storage.objects.get"},
    "roles/storage.objectCreator": {"storage.objects.create"},
    "roles/storage.objectAdmin": {"storage.objects.list",
                                  "storage.objects.get",
                                  "storage.objects.create",
                                  "storage.objects.delete"},
    "roles/storage.admin": {"storage.objects.list", "storage.objects.get",
                            "storage.objects.create",
                            "storage.objects.delete",
                            "storage.buckets.get",
                            "storage.buckets.getIamPolicy",
                            "storage.buckets.setIamPolicy"},
}
OWNER_PERMS = ROLE_PERMS["roles/storage.admin"]
ACCOUNT_ID = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])$")
STATUS = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED",
          404: "NOT_FOUND", 409: "ALREADY_EXISTS",
          412: "FAILED_PRECONDITION"}


class IamState:
    def __init__(self):
        self.accounts = {}      # email -> ServiceAccount
        self.policies = {}      # bucket -> Policy (without the defaults)
        self.owners = {}        # access token -> identity ("serviceAccount:E"
        #                         for the metadata server's, else "user:...")
        self.denied = set()     # buckets the user's tokens may not touch
        self.metadata_sa = None  # the metadata server's account, else the
        #                          instances' own
        self.etag_n = 1


def err(fake, code, message, reason=None):
    """An error body as IAM (no errors[]) or storage (with reason) give."""
    e = {"code": code, "message": message,
         "status": STATUS.get(code, "UNKNOWN")}
    if reason:
        e["errors"] = [{"message": message, "domain": "global",
                        "reason": reason}]
    fake.answer(code, {"error": e})
    return True


def note_token(state, tok, claims):
    """Called by the token endpoint: a user's (or key's) token."""
    who = (claims or {}).get("iss") or "adc"
    state.iam.owners[tok] = "user:" + who


def who(fake):
    auth = fake.headers.get("Authorization", "")
    tok = auth[7:] if auth.startswith("Bearer ") else ""
    with fake.state.lock:
        return fake.state.iam.owners.get(tok)


def new_etag(iam):
    iam.etag_n += 1
    return base64.b64encode(b"C" + str(iam.etag_n).encode()).decode()


def perms_of(state, bucket, ident):
    """The storage permissions ident holds on bucket."""
    if ident is None:
        return set()
    if ident.startswith("user:"):
        return set() if bucket in state.iam.denied else set(OWNER_PERMS)
    out = set()
    pol = state.iam.policies.get(bucket) or {}
    for b in pol.get("bindings", []):
        if ident in b.get("members", []):
            out |= ROLE_PERMS.get(b.get("role"), set())
    return out


def route(fake, path, query, body, entry):
    """Requests this module serves, or checks; True when answered."""
    if path.startswith("/computeMetadata/"):
        return metadata(fake, path, entry)
    m = re.match(r"/iam/v1/projects/([^/]+)/serviceAccounts(?:/([^/]+))?/?$",
                 path)
    if m:
        fake.authorize()
        return accounts(fake, m.group(1), m.group(2), query, body, entry)
    m = re.match(r"/(upload/|download/)?storage/v1/b/([^/]+)(/.*)?$", path)
    if not m:
        return False
    fake.authorize()
    bucket, rest = m.group(2), m.group(3) or ""
    ident = who(fake)
    entry["who"] = ident
    st = fake.state
    with st.lock:
        exists = bucket in st.buckets
    if not exists:
        return False    # gcp_fake.py says there is no such bucket
    if rest in ("/iam", "/iam/"):
        return bucket_policy(fake, bucket, ident, body)
    if rest == "/iam/testPermissions":
        asked = [v for k, v in urllib.parse.parse_qsl(
            urllib.parse.urlsplit(fake.path).query) if k == "permissions"]
        with st.lock:
            have = perms_of(st, bucket, ident)
        got = [p for p in asked if p in have]
        out = {"kind": "storage#testIamPermissionsResponse"}
        if got:
            out["permissions"] = got
        fake.answer(200, out)
        return True
    if m.group(1) == "upload/":
        need = "storage.objects.create"
    elif rest in ("", "/"):
        need = "storage.buckets.get"
    elif rest.rstrip("/") == "/o" and fake.command == "GET":
        need = "storage.objects.list"
    elif fake.command == "GET":
        need = "storage.objects.get"
    elif fake.command == "DELETE":
        need = "storage.objects.delete"
    else:
        need = "storage.objects.create"
    with st.lock:
        ok = need in perms_of(st, bucket, ident)
    if not ok:
        name = (ident or "anonymous").split(":", 1)[-1]
        what = "bucket" if need.startswith("storage.buckets") or \
            need == "storage.objects.list" else "object"
        return err(fake, 403, "%s does not have %s access to the Google "
                   "Cloud Storage %s. Permission '%s' denied on resource "
                   "(or it may not exist)." % (name, need, what, need),
                   "forbidden")
    return False


def bucket_policy(fake, bucket, ident, body):
    st = fake.state
    with st.lock:
        have = perms_of(st, bucket, ident)
        pol = st.iam.policies.setdefault(bucket, {
            "bindings": [], "etag": "CAE="})
        if fake.command == "GET":
            if "storage.buckets.getIamPolicy" not in have:
                return err(fake, 403, "no storage.buckets.getIamPolicy",
                           "forbidden")
            fake.answer(200, policy_out(st, bucket, pol))
            return True
        if fake.command == "PUT":
            if "storage.buckets.setIamPolicy" not in have:
                return err(fake, 403, "no storage.buckets.setIamPolicy",
                           "forbidden")
            if not isinstance(body, dict):
                return err(fake, 400, "a policy is a JSON object", "invalid")
            if body.get("etag") and body["etag"] != pol["etag"]:
                return err(fake, 412, "Precondition Failed",
                           "conditionNotMet")
            binds = []
            for b in body.get("bindings", []):
                if b.get("role", "").startswith("roles/storage.legacy"):
                    continue    # the defaults, shown by policy_out
                if not b.get("members"):
                    continue
                for mem in b["members"]:
                    if mem.startswith("serviceAccount:") and \
                            mem.split(":", 1)[1] not in st.iam.accounts:
                        return err(fake, 400, "Service account %s does "
                                   "not exist." % mem.split(":", 1)[1],
                                   "invalid")
                binds.append({"role": b["role"],
                              "members": sorted(set(b["members"]))})
            pol["bindings"] = binds
            pol["etag"] = new_etag(st.iam)
            fake.answer(200, policy_out(st, bucket, pol))
            return True
    return err(fake, 404, "unknown bucket IAM call", "notFound")


def policy_out(st, bucket, pol):
    proj = st.project
    defaults = [
        {"role": "roles/storage.legacyBucketOwner",
         "members": ["projectEditor:" + proj, "projectOwner:" + proj]},
        {"role": "roles/storage.legacyBucketReader",
         "members": ["projectViewer:" + proj]}]
    return {"kind": "storage#policy", "resourceId":
            "projects/_/buckets/" + bucket, "version": 1,
            "etag": pol["etag"],
            "bindings": defaults + [dict(b) for b in pol["bindings"]]}


def account_out(st, a):
    return dict(a)


def accounts(fake, proj, email, query, body, entry):
    st = fake.state
    iam = st.iam
    if proj not in (st.project, "-"):
        return err(fake, 403, "Permission 'iam.serviceAccounts.%s' denied "
                   "on resource (or it may not exist)." %
                   ("create" if email is None else "get"))
    with st.lock:
        if email is None and fake.command == "POST":
            if not isinstance(body, dict):
                return err(fake, 400, "Invalid JSON payload received.")
            entry["body_keys"] = sorted(body)
            aid = body.get("accountId", "")
            if not (6 <= len(aid) <= 30 and ACCOUNT_ID.match(aid)):
                return err(fake, 400, "Invalid account ID %r: 6 to 30 "
                           "characters, [a-z][-a-z0-9]*[a-z0-9]." % aid)
            em = "%s@%s.iam.gserviceaccount.com" % (aid, st.project)
            if em in iam.accounts:
                return err(fake, 409, "Service account %s already exists "
                           "within project projects/%s." % (aid, st.project))
            sa = body.get("serviceAccount") or {}
            uid = str(100000000000000000000 + len(iam.accounts) +
                      secrets.randbelow(10 ** 9))
            a = {"name": "projects/%s/serviceAccounts/%s" % (st.project, em),
                 "projectId": st.project, "uniqueId": uid, "email": em,
                 "etag": base64.b64encode(secrets.token_bytes(6)).decode(),
                 "oauth2ClientId": uid}
            for k in ("displayName", "description"):
                if sa.get(k):
                    a[k] = sa[k]
            iam.accounts[em] = a
            fake.answer(200, account_out(st, a))
            return True
        if email is None and fake.command == "GET":
            items = sorted(iam.accounts.values(), key=lambda a: a["email"])
            start = int(query.get("pageToken") or 0)
            size = int(query.get("pageSize") or 100)
            out = {}
            if items[start:start + size]:
                out["accounts"] = [account_out(st, a)
                                   for a in items[start:start + size]]
            if start + size < len(items):
                out["nextPageToken"] = str(start + size)
            fake.answer(200, out)
            return True
        # An account by e-mail or unique id.
        a = iam.accounts.get(email) or next(
            (x for x in iam.accounts.values() if x["uniqueId"] == email),
            None)
        if a is None:
            return err(fake, 404, "Unknown service account")
        if fake.command == "GET":
            fake.answer(200, account_out(st, a))
            return True
        if fake.command == "DELETE":
            del iam.accounts[a["email"]]
            # Deleting an account leaves "deleted:serviceAccount:..."
            # members behind in real policies; dropped here.
            mem = "serviceAccount:" + a["email"]
            for pol in iam.policies.values():
                for b in pol["bindings"]:
                    if mem in b["members"]:
                        b["members"].remove(mem)
                pol["bindings"] = [b for b in pol["bindings"]
                                   if b["members"]]
            fake.answer(200, {})
            return True
    return err(fake, 404, "unknown serviceAccounts call")


def metadata(fake, path, entry):
    """The metadata server: the instances' service account's token."""
    entry["metadata"] = True
    if fake.headers.get("Metadata-Flavor") != "Google":
        fake.answer(403, raw=b"Missing Metadata-Flavor:Google header.",
                    ctype="text/html")
        return True
    st = fake.state
    m = re.match(r"/computeMetadata/v1/instance/service-accounts/"
                 r"(default|[^/]+)/(token|email)$", path)
    if not m:
        fake.answer(404, raw=b"Not Found", ctype="text/html")
        return True
    with st.lock:
        em = st.iam.metadata_sa
        if em is None:
            for inst in st.instances.values():
                for sa in inst.get("serviceAccounts") or []:
                    if sa.get("email") and sa["email"] != "default":
                        em = sa["email"]
        if em is None or em not in st.iam.accounts:
            fake.answer(404, raw=b"Not Found", ctype="text/html")
            return True
        entry["who"] = "serviceAccount:" + em
        if m.group(2) == "email":
            fake.answer(200, raw=em.encode(), ctype="application/text")
            return True
        tok = "ya29.meta-" + secrets.token_urlsafe(24)
        st.tokens[tok] = time.time() + st.token_life
        st.iam.owners[tok] = "serviceAccount:" + em
        life = st.token_life
    fake.answer(200, {"access_token": tok, "expires_in": life,
                      "token_type": "Bearer"})
    return True


def control(fake, path, body):
    st = fake.state
    with st.lock:
        if path == "/_fake/iam/deny":
            st.iam.denied.add(body["bucket"])
        elif path == "/_fake/iam/allow":
            st.iam.denied.discard(body["bucket"])
        elif path == "/_fake/iam/metadata":
            st.iam.metadata_sa = body.get("email")
        elif path == "/_fake/iam/unbind":
            # Takes member out of every binding of bucket.
            pol = st.iam.policies.get(body["bucket"]) or {"bindings": []}
            for b in pol["bindings"]:
                if body["member"] in b["members"]:
                    b["members"].remove(body["member"])
            pol["bindings"] = [b for b in pol["bindings"] if b["members"]]
        elif path == "/_fake/iam/cat":
            # An object's bytes, for the tests to compare.
            objs = st.buckets.get(body.get("bucket"), {})
            if body.get("name") not in objs:
                return err(fake, 404, "No such object", "notFound")
            return fake.answer(200, raw=objs[body["name"]][0],
                               ctype="application/octet-stream")
        elif path == "/_fake/iam/state":
            return fake.answer(200, {
                "accounts": sorted(st.iam.accounts),
                "policies": {b: p["bindings"]
                             for b, p in st.iam.policies.items()}})
        else:
            return err(fake, 404, "no control " + path)
    fake.answer(200, {})
