"""Pure Storage FlashArray personality: REST 1.x token exchange and REST 2.x.

Paths, parameters, JSON fields and error bodies follow /work/shared/array-apis/
pure-flasharray.md (Pure's FA2.x OpenAPI specs, py-pure-client, forklift, LXD);
where that file marks something UNCONFIRMED, the choice made here is listed in
README.md beside this file.
"""
import base64
import re

import model

VENDOR = "pure"
PRODUCT = "pureFlashArray"
# Array-level settings a seed may change on an existing array.
ARRAY_OPTIONS = ("api_versions", "array_name", "version", "model")
DEFAULT_API_VERSIONS = ["1.0", "1.1", "1.17", "1.19", "2.0", "2.1", "2.2", "2.17", "2.36"]

NAME_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
VOLUME_NAME_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_-]{0,62}::){0,2}[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
KINDS = {"iscsi": "iqns", "fc": "wwns", "nvme": "nqns"}


def err(status, message, context=None):
    return status, {}, {"errors": [{"context": context, "message": message}]}


def error_body(status, message):
    """The body of an injected error, as the array (or its API gateway) would send it."""
    if status in (403, 429):
        return {"message": message}  # API gateway ("kong") shape
    return {"errors": [{"context": None, "message": message}]}


# ---- seeding ----

def new_array(name, spec):
    return {
        "api_versions": list(spec.get("api_versions", DEFAULT_API_VERSIONS)),
        "array_name": spec.get("array_name", name),
        "os": "Purity//FA",
        "version": spec.get("version", "6.5.8"),
        "model": spec.get("model", "FA-X70R3"),
        "scsi_vendor": "PURE",
        "scsi_model": "FlashArray",
        "users": {},
        "sessions": {},
        "api_tokens_issued": 0,
    }


def seed_user(arr, spec):
    arr["users"][spec["name"]] = {"password": spec.get("password", ""),
                                  "api_token": spec.get("api_token") or model.new_uuid()}


def new_serial():
    return model.secrets.token_hex(12).upper()


def seed_volume(arr, spec):
    serial = spec.get("serial") or new_serial()
    if not re.fullmatch(r"[0-9A-Fa-f]{24}", serial):
        raise ValueError("a FlashArray serial is 24 hex digits")
    vol = {"id": spec.get("id") or model.new_uuid(), "name": spec["name"],
           "serial": serial.upper(), "naa": "naa.624a9370" + serial.lower(),
           "size": int(spec.get("size", 1 << 30)), "destroyed": bool(spec.get("destroyed", False)),
           "created": 1700000000000}
    return vol


def store_initiator(text):
    """An initiator as this array stores it: IQNs lower case, WWNs 16 upper hex digits."""
    kind = model.initiator_kind(text)
    if kind == "fc":
        return kind, model.split_fc(text)[1].upper()
    if kind == "iscsi":
        return kind, text.lower()
    return kind, text


def seed_host(arr, spec):
    arr["hosts"][spec["name"]] = {"name": spec["name"], "initiators": [],
                                  "host_group": spec.get("host_group"),
                                  "personality": spec.get("personality")}
    for ini in spec.get("initiators", []):
        arr["hosts"][spec["name"]]["initiators"].append(store_initiator(ini)[1])


def seed_host_group(arr, spec):
    arr["host_groups"][spec["name"]] = {"name": spec["name"]}
    for h in spec.get("hosts", []):
        arr["hosts"][h]["host_group"] = spec["name"]


# ---- helpers ----

def host_item(arr, h):
    lists = {"iqns": [], "wwns": [], "nqns": []}
    for ini in h["initiators"]:
        lists[KINDS[model.initiator_kind(ini)]].append(ini)
    count = sum(1 for m in arr["mappings"] if m["kind"] == "host" and m["group"] == h["name"])
    return {"name": h["name"], **lists,
            "host_group": {"name": h["host_group"]} if h.get("host_group") else None,
            "personality": h.get("personality"), "is_local": True, "connection_count": count,
            "chap": {"host_user": None, "host_password": None, "target_user": None,
                     "target_password": None},
            "port_connectivity": {"details": "", "status": "healthy"},
            "preferred_arrays": [], "destroyed": False}


def volume_item(arr, v):
    count = sum(1 for m in arr["mappings"] if m["volume"] == v["id"])
    pod = v["name"].split("::")[0] if "::" in v["name"] else None
    return {"id": v["id"], "name": v["name"], "serial": v["serial"], "provisioned": v["size"],
            "connection_count": count, "created": v["created"], "destroyed": v["destroyed"],
            "time_remaining": None, "subtype": "regular",
            "space": {"total_provisioned": v["size"], "virtual": 0},
            "pod": {"id": None, "name": pod} if pod else None, "volume_group": None,
            "source": None}


def connection_items(arr, m):
    vol = arr["volumes"][m["volume"]]
    ref = {"id": vol["id"], "name": vol["name"]}
    pe = {"id": None, "name": None}
    if m["kind"] == "host":
        return [{"host": {"name": m["group"]}, "host_group": None, "lun": m["lun"],
                 "volume": ref, "protocol_endpoint": pe}]
    # A shared connection is listed once per member host (and once if the group is empty).
    members = [h for h in sorted(arr["hosts"]) if arr["hosts"][h].get("host_group") == m["group"]]
    return [{"host": {"name": h} if h else None, "host_group": {"name": m["group"]},
             "lun": m["lun"], "volume": ref, "protocol_endpoint": pe} for h in (members or [None])]


def names_param(req, key):
    v = req.q(key)
    return [n for n in v.split(",")] if v is not None else None


def page(req, arr, items):
    """The list envelope, honouring limit / continuation_token and the array's page size."""
    start = 0
    token = req.q("continuation_token")
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode().split(":")[1])
        except (ValueError, IndexError, UnicodeDecodeError):
            return err(400, "Invalid continuation token.")
    limit = int(req.q("limit")) if (req.q("limit") or "").isdigit() else None
    ps = arr.get("page_size")
    if ps and (limit is None or limit > ps):
        limit = ps
    end = len(items) if limit is None else min(len(items), start + limit)
    more = end < len(items)
    nxt = base64.urlsafe_b64encode(f"ct:{end}".encode()).decode() if more else None
    headers = {"x-next-token": nxt} if nxt else {}
    return 200, headers, {"continuation_token": nxt, "more_items_remaining": more,
                          "total_item_count": None, "items": items[start:end]}


FILTER_CMP = re.compile(r"^\s*([a-z_.]+)\s*(=|!=)\s*'([^']*)'\s*$")
FILTER_CONTAINS = re.compile(r"^\s*contains\(\s*([a-z_.]+)\s*,\s*'([^']*)'\s*\)\s*$")
FILTER_BARE = re.compile(r"^\s*([a-z_]+)\s*$")


def get_field(item, path):
    for part in path.split("."):
        if not isinstance(item, dict):
            return None
        item = item.get(part)
    return item


def compile_filter(text):
    """A predicate for the subset of the filter grammar clients use, or None."""
    preds = []
    for clause in re.split(r"\s+and\s+", text, flags=re.IGNORECASE):
        m = FILTER_CMP.match(clause)
        if m:
            f, op, val = m.groups()
            if op == "=":
                preds.append(lambda it, f=f, v=val: str(get_field(it, f)).lower() == v.lower())
            else:
                preds.append(lambda it, f=f, v=val: str(get_field(it, f)).lower() != v.lower())
            continue
        m = FILTER_CONTAINS.match(clause)
        if m:
            f, val = m.groups()
            preds.append(lambda it, f=f, v=val: v.lower() in str(get_field(it, f) or "").lower())
            continue
        m = FILTER_BARE.match(clause)
        if m:
            preds.append(lambda it, f=m.group(1): bool(get_field(it, f)))
            continue
        return None
    return lambda it: all(p(it) for p in preds)


def select(req, arr, items, kind_name, by_name, by_id=None):
    """names= / ids= / filter= selection with the spec's 'each name must match' rule."""
    names = names_param(req, "names")
    if names is not None:
        out = []
        for n in names:
            found = [it for it in items if it["name"].lower() == n.lower()]
            if not found:
                return None, err(400, f"{kind_name} does not exist.", n)
            out.extend(found)
        items = out
    ids = names_param(req, "ids")
    if ids is not None and by_id:
        out = []
        for i in ids:
            found = [it for it in items if it.get("id") == i]
            if not found:
                return None, err(400, f"{kind_name} does not exist.", i)
            out.extend(found)
        items = out
    flt = req.q("filter")
    if flt is not None:
        pred = compile_filter(flt)
        if pred is None:
            return None, err(400, "Invalid filter.", flt)
        items = [it for it in items if pred(it)]
    return items, None


def find_volume(arr, name):
    for v in arr["volumes"].values():
        if v["name"].lower() == name.lower() and not v["destroyed"]:
            return v
    return None


def luns_seen_by_host(arr, host):
    h = arr["hosts"].get(host)
    group = h.get("host_group") if h else None
    return {m["lun"] for m in arr["mappings"]
            if (m["kind"] == "host" and m["group"] == host) or
            (group and m["kind"] == "host_group" and m["group"] == group)}


def pick_lun(arr, kind, group):
    if kind == "host":
        used = luns_seen_by_host(arr, group)
        order = range(1, 4096)
    else:
        used = set()
        for h in arr["hosts"].values():
            if h.get("host_group") == group:
                used |= luns_seen_by_host(arr, h["name"])
        used |= {m["lun"] for m in arr["mappings"] if m["kind"] == "host_group" and m["group"] == group}
        order = list(range(254, 0, -1)) + list(range(255, 4096))
    for n in order:
        if n not in used:
            return n
    return None


# ---- handlers ----

def h_api_version(req, arr, st, ver):
    return 200, {}, {"version": arr["api_versions"]}


def h_apitoken(req, arr, st, ver):
    body = req.json or {}
    user = arr["users"].get(body.get("username") or "")
    if user is None or user["password"] != body.get("password"):
        return 401, {}, [{"msg": "invalid credentials", "ctx": None}]
    return 200, {}, {"api_token": user["api_token"]}


def new_session(arr, username):
    token = model.new_uuid()
    arr["sessions"][token] = {"username": username}
    return 200, {"x-auth-token": token}, {"items": [{"username": username}]}


def h_login(req, arr, st, ver):
    token = req.header("api-token")
    if token:
        for name, u in arr["users"].items():
            if u["api_token"] == token:
                return new_session(arr, name)
        return err(401, "Invalid API token.")
    body = req.json or {}
    if body.get("username") and minor(ver) >= 47:
        u = arr["users"].get(body["username"])
        if u is not None and u["password"] == body.get("password"):
            return new_session(arr, body["username"])
        return err(401, "Invalid username or password.")
    return err(400, "Missing api-token header.")


def h_logout(req, arr, st, ver):
    arr["sessions"].pop(req.header("x-auth-token") or "", None)
    return 200, {}, {}


def h_arrays(req, arr, st, ver):
    return page(req, arr, [{"id": arr["id"], "name": arr["array_name"], "os": arr["os"],
                            "version": arr["version"]}])


def h_controllers(req, arr, st, ver):
    return page(req, arr, [{"name": "CT0", "mode": "primary", "model": arr["model"],
                            "status": "ready", "version": arr["version"]},
                           {"name": "CT1", "mode": "secondary", "model": arr["model"],
                            "status": "ready", "version": arr["version"]}])


def h_get_volumes(req, arr, st, ver):
    vols = sorted(arr["volumes"].values(), key=lambda v: v["name"])
    destroyed = req.q("destroyed")
    if destroyed is not None:
        vols = [v for v in vols if v["destroyed"] == (destroyed == "true")]
    items, e = select(req, arr, [volume_item(arr, v) for v in vols], "Volume", True, True)
    return e or page(req, arr, items)


def h_get_hosts(req, arr, st, ver):
    hosts = [host_item(arr, h) for _, h in sorted(arr["hosts"].items())]
    items, e = select(req, arr, hosts, "Host", True)
    return e or page(req, arr, items)


def initiator_owner(arr, kind, value):
    for h in arr["hosts"].values():
        for ini in h["initiators"]:
            if model.initiator_kind(ini) != kind:
                continue
            if kind == "fc" and model.wwn_hex(ini) == model.wwn_hex(value):
                return h["name"]
            if kind != "fc" and ini.lower() == value.lower():
                return h["name"]
    return None


def add_initiators(arr, host, body, prefix):
    """Validates then applies {prefix+iqns|wwns|nqns: [...]} to host; an error tuple or None."""
    adds = []
    for kind, key in KINDS.items():
        for value in body.get(prefix + key) or []:
            if not isinstance(value, str) or model.initiator_kind(value) != kind:
                return err(400, f"Invalid {key[:-1].upper()}.", value)
            _, stored = store_initiator(value)
            owner = initiator_owner(arr, kind, stored)
            if owner is not None and owner != host:
                return err(400, f"The specified {key[:-1].upper()} is already in use.", value)
            if owner is None:
                adds.append(stored)
    arr["hosts"][host]["initiators"].extend(adds)
    return None


def h_post_hosts(req, arr, st, ver):
    names = names_param(req, "names") or []
    if len(names) != 1:
        return err(400, "Exactly one host name is required.")
    name = names[0]
    if not NAME_RE.match(name) or not re.search(r"[A-Za-z]", name):
        return err(400, "Invalid name.", name)
    if any(n.lower() == name.lower() for n in arr["hosts"]):
        return err(400, "Host already exists.", name)
    body = req.json or {}
    arr["hosts"][name] = {"name": name, "initiators": [], "host_group": None,
                          "personality": body.get("personality")}
    e = add_initiators(arr, name, body, "")
    if e:
        del arr["hosts"][name]
        return e
    return 200, {}, {"items": [host_item(arr, arr["hosts"][name])]}


def h_patch_hosts(req, arr, st, ver):
    names = names_param(req, "names") or []
    if len(names) != 1 or names[0] not in arr["hosts"]:
        return err(400, "Host does not exist.", names[0] if names else None)
    name = names[0]
    body = req.json or {}
    saved = list(arr["hosts"][name]["initiators"])
    e = add_initiators(arr, name, body, "add_")
    if e:
        arr["hosts"][name]["initiators"] = saved
        return e
    for kind, key in KINDS.items():
        for value in body.get("remove_" + key) or []:
            stored = store_initiator(value)[1]
            arr["hosts"][name]["initiators"] = [
                i for i in arr["hosts"][name]["initiators"]
                if not (model.initiator_kind(i) == kind and
                        (i.lower() == stored.lower() or
                         (kind == "fc" and model.wwn_hex(i) == model.wwn_hex(stored))))]
    return 200, {}, {"items": [host_item(arr, arr["hosts"][name])]}


def h_delete_hosts(req, arr, st, ver):
    """DELETE /hosts?names=h. The facts file lists no DELETE /hosts answers. Assumptions:
    an unknown host is 400 "Host does not exist." (the wording the other calls use), and
    a host with a connection (private, or shared through its host group) is refused with
    400 "Host has connected volumes." since Purity deletes hosts only once disconnected
    (Ansible's purefa_host disconnects every volume before deleting)."""
    names = names_param(req, "names") or []
    if len(names) != 1 or names[0] not in arr["hosts"]:
        return err(400, "Host does not exist.", names[0] if names else None)
    name = names[0]
    group = arr["hosts"][name].get("host_group")
    if any((m["kind"] == "host" and m["group"] == name) or
           (m["kind"] == "host_group" and group and m["group"] == group)
           for m in arr["mappings"]):
        return err(400, "Host has connected volumes.", name)
    del arr["hosts"][name]
    return 200, {}, {}


def h_get_host_groups(req, arr, st, ver):
    groups = []
    for name in sorted(arr["host_groups"]):
        members = [h for h in arr["hosts"].values() if h.get("host_group") == name]
        groups.append({"name": name, "host_count": len(members), "is_local": True,
                       "connection_count": sum(1 for m in arr["mappings"]
                                               if m["kind"] == "host_group" and m["group"] == name),
                       "destroyed": False})
    items, e = select(req, arr, groups, "Host group", True)
    return e or page(req, arr, items)


def connection_target(req, arr):
    """(kind, group, volume) named by the query, or an error tuple as the 4th item."""
    hosts = names_param(req, "host_names")
    groups = names_param(req, "host_group_names")
    vols = names_param(req, "volume_names")
    if vols is None or len(vols) != 1 or (hosts is None) == (groups is None):
        return None, None, None, err(400, "host_names or host_group_names, and volume_names,"
                                          " are required.")
    vol = find_volume(arr, vols[0])
    if vol is None:
        return None, None, None, err(400, "Volume does not exist.", vols[0])
    if hosts is not None:
        if len(hosts) != 1 or hosts[0] not in arr["hosts"]:
            return None, None, None, err(400, "Host does not exist.", hosts[0])
        return "host", hosts[0], vol, None
    if len(groups) != 1 or groups[0] not in arr["host_groups"]:
        return None, None, None, err(400, "Host group does not exist.", groups[0])
    return "host_group", groups[0], vol, None


def h_get_connections(req, arr, st, ver):
    items = []
    vols = names_param(req, "volume_names")
    hosts = names_param(req, "host_names")
    groups = names_param(req, "host_group_names")
    if vols is not None:
        for n in vols:
            if find_volume(arr, n) is None:
                return err(400, "Volume does not exist.", n)
    for m in arr["mappings"]:
        vol = arr["volumes"][m["volume"]]
        if vols is not None and vol["name"].lower() not in [v.lower() for v in vols]:
            continue
        for it in connection_items(arr, m):
            if hosts is not None and (it["host"] or {}).get("name") not in hosts:
                continue
            if groups is not None and (it["host_group"] or {}).get("name") not in groups:
                continue
            items.append(it)
    return page(req, arr, items)


def h_post_connections(req, arr, st, ver):
    kind, group, vol, e = connection_target(req, arr)
    if e:
        return e
    for m in arr["mappings"]:
        if m["volume"] == vol["id"] and m["kind"] == kind and m["group"] == group:
            return err(400, "Connection already exists.", vol["name"])
    body = req.json or {}
    lun = body.get("lun")
    if lun is None:
        lun = pick_lun(arr, kind, group)
        if lun is None:
            return err(400, "No free LUN.", vol["name"])
    elif not isinstance(lun, int) or not 1 <= lun <= 4095:
        return err(400, "Invalid LUN.", vol["name"])
    elif kind == "host" and lun in luns_seen_by_host(arr, group):
        return err(400, "LUN already in use.", vol["name"])
    m = {"volume": vol["id"], "kind": kind, "group": group, "lun": lun}
    arr["mappings"].append(m)
    return 200, {}, {"items": connection_items(arr, m)[:1]}


def h_delete_connections(req, arr, st, ver):
    kind, group, vol, e = connection_target(req, arr)
    if e:
        return e
    for m in arr["mappings"]:
        if m["volume"] == vol["id"] and m["kind"] == kind and m["group"] == group:
            arr["mappings"].remove(m)
            return 200, {}, {}
    return err(400, "Connection does not exist.", vol["name"])


V2 = r"/api/(2\.\d+)"
ROUTES = [
    ("GET", r"/api/api_version", h_api_version, False),
    ("POST", r"/api/(1\.\d+)/auth/apitoken", h_apitoken, False),
    ("POST", V2 + r"/login", h_login, False),
    ("POST", V2 + r"/logout", h_logout, True),
    ("GET", V2 + r"/arrays", h_arrays, True),
    ("GET", V2 + r"/controllers", h_controllers, True),
    ("GET", V2 + r"/volumes", h_get_volumes, True),
    ("GET", V2 + r"/hosts", h_get_hosts, True),
    ("POST", V2 + r"/hosts", h_post_hosts, True),
    ("PATCH", V2 + r"/hosts", h_patch_hosts, True),
    ("DELETE", V2 + r"/hosts", h_delete_hosts, True),
    ("GET", V2 + r"/host-groups", h_get_host_groups, True),
    ("GET", V2 + r"/connections", h_get_connections, True),
    ("POST", V2 + r"/connections", h_post_connections, True),
    ("DELETE", V2 + r"/connections", h_delete_connections, True),
]


def minor(ver):
    try:
        return int(ver.split(".")[1])
    except (AttributeError, IndexError, ValueError):
        return -1


def handle(req, arr, st):
    for method, pattern, fn, needs_session in ROUTES:
        m = re.fullmatch(pattern, req.path)
        if not m:
            continue
        if method != req.method:
            continue
        ver = m.group(1) if m.groups() else None
        if ver is not None and ver not in arr["api_versions"]:
            return err(404, f"REST API version {ver} is not supported.")
        if needs_session and (req.header("x-auth-token") or "") not in arr["sessions"]:
            return err(401, "Invalid or expired session token.")
        return fn(req, arr, st, ver)
    if any(re.fullmatch(p, req.path) for _, p, _, _ in ROUTES):
        return err(405, "Method not allowed.")
    return err(404, "Not found.")


def expire_sessions(arr):
    arr["sessions"].clear()
    return True
