"""Dell PowerStore personality: the PowerStore REST API under /api/rest.

Paths, query syntax (select=, <attr>=<op>.<value>, order=, limit/offset paging with
206 + Content-Range), the login session (HTTP Basic at login_session, auth_cookie +
DELL-EMC-TOKEN afterwards), JSON fields and the error body ({"messages": [...]})
follow /work/shared/array-apis/dell-powerstore.md (Dell's REST API guides,
gopowerstore, PyPowerStore, Dell's Ansible collection, csi-powerstore, forklift).
Where that file marks something [unconfirmed], the choice made here is listed in
README.md beside this file; error codes this file invents start with "0xE0SIM".
"""
import re
import secrets
import uuid

import model

VENDOR = "powerstore"
PRODUCT = "powerstore"
ARRAY_OPTIONS = ("cluster_name", "global_id", "release_version", "model", "next_lun",
                 "cookies")

LUN_MAX = 16383
PAGE_DEFAULT = 100
PAGE_MAX = 2000
OS_TYPES = ("Windows", "Linux", "ESXi", "AIX", "HP-UX", "Solaris")
PORT_TYPES = ("iSCSI", "FC", "NVMe")
UUID_RE = r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
MAPPING_NS = uuid.UUID("6f1d3a52-1c1e-4c55-9d0e-0b5e2a7d5f11")

# Error codes from Dell's clients (gopowerstore api/error_codes.go).
E_UNKNOWN_VOLUME = "0xE0A08001000E"
E_NO_HOST = "0xE0A010010003"
E_HOST_NOT_ATTACHED = "0xE0A01001001E"
E_NOT_FOUND = "0xE04040020009"
E_BAD_RANGE = "0xE04040010005"
# Invented by this simulator (no public source gives them).
E_SIM_AUTH = "0xE0SIM0000401"
E_SIM_CSRF = "0xE0SIM0000403"
E_SIM_BAD_REQUEST = "0xE0SIM0000400"
E_SIM_NAME_IN_USE = "0xE0SIM0000001"
E_SIM_INITIATOR_IN_USE = "0xE0SIM0000002"
E_SIM_ALREADY_ATTACHED = "0xE0SIM0000003"
E_SIM_LUN_IN_USE = "0xE0SIM0000004"
E_SIM_HOST_IN_GROUP = "0xE0SIM0000005"
E_SIM_HOST_MAPPED = "0xE0SIM0000006"


def message(code, text, args=None):
    return {"code": code, "severity": "Error", "message_l10n": text, "arguments": args or []}


def err(status, code, text, args=None):
    return status, {}, {"messages": [message(code, text, args)]}


def error_body(status, text):
    """The body of an injected error."""
    return {"messages": [message(f"0xE0SIM{status:07d}", text)]}


# ---- seeding ----

def new_array(name, spec):
    return {"cluster_name": spec.get("cluster_name", name),
            "global_id": spec.get("global_id") or "PS" + secrets.token_hex(5),
            "release_version": spec.get("release_version", "4.0.0.0"),
            "model": spec.get("model", "PowerStore 1200T"),
            "next_lun": int(spec.get("next_lun", 1)),
            "cookies": bool(spec.get("cookies", True)),
            "scsi_vendor": "DellEMC", "scsi_model": "PowerStore",
            "users": {}, "sessions": {}}


def seed_user(arr, spec):
    arr["users"][spec["name"]] = {"password": spec.get("password", ""),
                                  "id": spec.get("id") or str(len(arr["users"]) + 1)}


def new_wwn():
    # NAA type 6, Dell's OUI 8ccf09: every sample seen starts naa.68ccf098
    return "naa.68ccf098" + secrets.token_hex(12)


def seed_volume(arr, spec):
    wwn = (spec.get("wwn") or new_wwn()).lower()
    if not re.fullmatch(r"naa\.6[0-9a-f]{31}", wwn):
        raise ValueError("a PowerStore volume WWN is naa. + 32 hex digits (NAA type 6)")
    return {"id": spec.get("id") or model.new_uuid(), "name": spec["name"],
            "size": int(spec.get("size", 1 << 30)), "wwn": wwn, "naa": wwn, "serial": wwn[4:],
            "type": spec.get("type", "Primary"), "state": "Ready", "appliance_id": "A1",
            "description": spec.get("description")}


def port_type_of(text):
    kind = model.initiator_kind(text)
    return {"iscsi": "iSCSI", "fc": "FC", "nvme": "NVMe"}.get(kind)


def stored_port_name(text):
    """A seeded initiator as the array stores it: FC WWPNs as lower-case colon pairs."""
    if model.initiator_kind(text) == "fc":
        h = model.split_fc(text)[1]
        return ":".join(h[i:i + 2] for i in range(0, 16, 2))
    return text


def seed_host(arr, spec):
    arr["hosts"][spec["name"]] = {
        "name": spec["name"], "id": spec.get("id") or model.new_uuid(),
        "initiators": [stored_port_name(i) for i in spec.get("initiators", [])],
        "os_type": spec.get("os_type", "ESXi"), "description": spec.get("description"),
        "host_group": spec.get("host_group")}


def seed_host_group(arr, spec):
    arr["host_groups"][spec["name"]] = {"name": spec["name"], "id": spec.get("id") or model.new_uuid(),
                                        "description": None}
    for h in spec.get("hosts", []):
        arr["hosts"][h]["host_group"] = spec["name"]


def luns_in_use(arr, kind, group):
    """LUN numbers the initiators behind (kind, group) already see."""
    if kind == "host":
        h = arr["hosts"].get(group) or {}
        return {m["lun"] for m in arr["mappings"]
                if (m["kind"] == "host" and m["group"] == group) or
                (h.get("host_group") and m["kind"] == "host_group" and m["group"] == h["host_group"])}
    members = {n for n, h in arr["hosts"].items() if h.get("host_group") == group}
    return {m["lun"] for m in arr["mappings"]
            if (m["kind"] == "host_group" and m["group"] == group) or
            (m["kind"] == "host" and m["group"] in members)}


def pick_lun(arr, kind, group):
    """Sequential with wraparound across the array (forklift's README, Dell KB 000199943):
    after enough attaches the numbers pass ESXi's default Disk.MaxLUN of 1024."""
    used = luns_in_use(arr, kind, group)
    n = arr["next_lun"]
    for _ in range(LUN_MAX + 1):
        if n > LUN_MAX:
            n = 1
        if n not in used:
            arr["next_lun"] = n + 1
            return n
        n += 1
    return None


# ---- records ----

def host_by_id(arr, hid):
    for h in arr["hosts"].values():
        if h["id"] == hid:
            return h
    return None


def group_by_id(arr, gid):
    for g in arr["host_groups"].values():
        if g["id"] == gid:
            return g
    return None


def mapping_id(m):
    return str(uuid.uuid5(MAPPING_NS, f"{m['volume']}/{m['kind']}/{m['group']}"))


def mapping_record(arr, m):
    vol = arr["volumes"][m["volume"]]
    host = arr["hosts"].get(m["group"]) if m["kind"] == "host" else None
    group = arr["host_groups"].get(m["group"]) if m["kind"] == "host_group" else None
    return {"id": mapping_id(m), "volume_id": vol["id"],
            "host_id": host["id"] if host else None,
            "host_group_id": group["id"] if group else None,
            "logical_unit_number": m["lun"],
            "volume": volume_record(arr, vol, nested=False),
            "host": host_record(arr, host, nested=False) if host else None,
            "host_group": group_record(arr, group, nested=False) if group else None}


def volume_record(arr, v, nested=True):
    r = {"id": v["id"], "name": v["name"], "description": v.get("description"), "size": v["size"],
         "wwn": v["wwn"], "type": v["type"], "state": v["state"], "appliance_id": v["appliance_id"],
         "nsid": None, "nguid": None}
    if nested:
        maps = [m for m in arr["mappings"] if m["volume"] == v["id"]]
        r["mapped_volumes"] = [{"id": mapping_id(m), "logical_unit_number": m["lun"]} for m in maps]
        r["host"] = [host_record(arr, arr["hosts"][m["group"]], nested=False)
                     for m in maps if m["kind"] == "host" and m["group"] in arr["hosts"]]
        r["host_group"] = [group_record(arr, arr["host_groups"][m["group"]], nested=False)
                           for m in maps if m["kind"] == "host_group" and m["group"] in arr["host_groups"]]
    return r


def host_record(arr, h, nested=True):
    g = arr["host_groups"].get(h.get("host_group") or "")
    r = {"id": h["id"], "name": h["name"], "description": h.get("description"),
         "os_type": h["os_type"], "os_type_l10n": h["os_type"], "type": "External",
         "host_group_id": g["id"] if g else None, "host_connectivity": "Local_Only",
         "host_initiators": [{"port_name": i, "port_type": port_type_of(i), "active_sessions": [],
                              "chap_single_username": "", "chap_mutual_username": ""}
                             for i in h["initiators"]]}
    if nested:
        r["host_group"] = group_record(arr, g, nested=False) if g else None
        r["mapped_hosts"] = [mapping_record(arr, m) for m in arr["mappings"]
                             if m["kind"] == "host" and m["group"] == h["name"]]
    return r


def group_record(arr, g, nested=True):
    r = {"id": g["id"], "name": g["name"], "description": g.get("description"),
         "host_connectivity": "Local_Only"}
    if nested:
        r["hosts"] = [host_record(arr, h, nested=False) for _, h in sorted(arr["hosts"].items())
                      if h.get("host_group") == g["name"]]
        r["mapped_host_groups"] = [mapping_record(arr, m) for m in arr["mappings"]
                                   if m["kind"] == "host_group" and m["group"] == g["name"]]
    return r


# Embedded resources: only returned when select= names them.
RELATIONS = {"volume": {"mapped_volumes", "host", "host_group"},
             "host": {"host_group", "mapped_hosts"},
             "host_group": {"hosts", "mapped_host_groups"},
             "host_volume_mapping": {"volume", "host", "host_group"},
             "cluster": set(), "appliance": set(), "software_installed": set(),
             "login_session": set()}


# ---- select, filter, order, paging ----

def parse_select(text):
    """'id,name,hosts(id,name)' → {"id": None, "name": None, "hosts": {...}}; None on error."""
    tree, stack, key = {}, [], ""
    node = tree
    for ch in text + ",":
        if ch == "(":
            if not key.strip():
                return None
            sub = {}
            node[key.strip()] = sub
            stack.append(node)
            node, key = sub, ""
        elif ch == ")":
            if not stack:
                return None
            if key.strip():
                node[key.strip()] = None
            node, key = stack.pop(), ""
        elif ch == ",":
            if key.strip():
                node[key.strip()] = None
            key = ""
        else:
            key += ch
    return tree if not stack else None


def project(kind, rec, tree):
    if tree is None:
        return {"id": rec.get("id")} if "id" in rec else dict(rec)
    out = {}
    for key, sub in tree.items():
        if key == "*":
            for k, v in rec.items():
                if k not in RELATIONS.get(kind, set()):
                    out[k] = v
            continue
        if key not in rec:
            continue
        v = rec[key]
        if key in RELATIONS.get(kind, set()):
            if isinstance(v, list):
                out[key] = [project(key, x, sub or {"id": None}) for x in v]
            elif isinstance(v, dict):
                out[key] = project(key, v, sub or {"id": None})
            else:
                out[key] = v
        else:
            out[key] = v
    return out


def unknown_select(kind, rec, tree):
    """A selected attribute the resource does not have, or None."""
    for key in tree:
        if key != "*" and key not in rec:
            return key
    return None


RESERVED = {"select", "order", "limit", "offset", "is_async"}
OPS = ("eq", "neq", "gt", "gte", "lt", "lte", "in", "is", "like", "ilike")


def compare(op, have, want):
    if op == "is":
        return (have is None) == (want.lower() == "null")
    if have is None:
        return False
    if op == "in":
        inner = want[1:-1] if want.startswith("(") and want.endswith(")") else None
        return inner is not None and str(have).lower() in [x.lower() for x in inner.split(",")]
    if op in ("eq", "neq"):
        same = str(have).lower() == want.lower()
        return same if op == "eq" else not same
    if op in ("like", "ilike"):
        rx = "^" + ".*".join(re.escape(p) for p in want.split("*")) + "$"
        return re.match(rx, str(have), re.IGNORECASE if op == "ilike" else 0) is not None
    try:
        a, b = float(have), float(want)
    except (TypeError, ValueError):
        a, b = str(have), want
    return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]


def row_filter(key, expr):
    neg = False
    while expr.startswith("not."):
        neg, expr = not neg, expr[4:]
    op, _, want = expr.partition(".")
    if op not in OPS:
        return None
    return lambda rec: (key in rec and compare(op, rec[key], want)) != neg


def collection(req, arr, kind, records):
    preds = []
    for key, values in req.query.items():
        if key in RESERVED:
            continue
        pred = row_filter(key, values[0])
        if pred is None or (records and key not in records[0]):
            return err(400, E_SIM_BAD_REQUEST, f"Invalid filter {key}={values[0]}.", [key])
        preds.append(pred)
    rows = [r for r in records if all(p(r) for p in preds)]
    order = req.q("order")
    if order:
        for part in reversed(order.split(",")):
            field, _, direction = part.partition(".")
            rows.sort(key=lambda r: (r.get(field) is None, str(r.get(field) or "").lower()),
                      reverse=direction == "desc")
    try:
        limit = int(req.q("limit")) if req.q("limit") is not None else PAGE_DEFAULT
        offset = int(req.q("offset") or 0)
    except ValueError:
        return err(400, E_SIM_BAD_REQUEST, "Invalid limit or offset.")
    if limit <= 0 or offset < 0 or (offset > 0 and offset >= len(rows)):
        return err(416, E_BAD_RANGE, "Invalid range.")
    limit = min(limit, PAGE_MAX, arr.get("page_size") or PAGE_MAX)
    tree = None
    if req.q("select") is not None:
        tree = parse_select(req.q("select"))
        if tree is None:
            return err(400, E_SIM_BAD_REQUEST, "Invalid select.")
        bad = unknown_select(kind, records[0], tree) if records else None
        if bad:
            return err(400, E_SIM_BAD_REQUEST, f"Invalid attribute {bad} in select.", [bad])
    page = rows[offset:offset + limit]
    body = [project(kind, r, tree) for r in page]
    if offset == 0 and len(page) == len(rows):
        return 200, {}, body
    last = offset + len(page) - 1
    return 206, {"Content-Range": f"{offset}-{last}/{len(rows)}"}, body


def instance(req, kind, rec, missing_code, what):
    if rec is None:
        return err(404, missing_code, f"Could not find the {what} with ID: {req.path.rsplit('/', 1)[-1]}")
    tree = parse_select(req.q("select")) if req.q("select") is not None else None
    if req.q("select") is not None and tree is None:
        return err(400, E_SIM_BAD_REQUEST, "Invalid select.")
    if tree is not None and unknown_select(kind, rec, tree):
        return err(400, E_SIM_BAD_REQUEST, "Invalid attribute in select.")
    return 200, {}, project(kind, rec, tree)


# ---- authentication ----

def basic_user(req, arr):
    """(user name, ok) from the Authorization header; (None, False) when absent."""
    auth = req.basic_auth()
    if auth is None:
        return None, False
    u = arr["users"].get(auth[0])
    return auth[0], u is not None and u["password"] == auth[1]


def cookie_value(req, name):
    for part in (req.header("Cookie") or "").split(";"):
        k, _, v = part.strip().partition("=")
        if k == name:
            return v
    return None


def h_login(req, arr, st, m):
    user, good = basic_user(req, arr)
    if not good:
        return err(401, E_SIM_AUTH, "Authentication failed.")
    sid = model.new_uuid()
    token = secrets.token_hex(16)
    cookie = secrets.token_urlsafe(24)
    arr["sessions"][cookie] = {"user": user, "token": token, "id": sid}
    headers = {"DELL-EMC-TOKEN": token}
    if arr.get("cookies", True):
        headers["Set-Cookie"] = f"auth_cookie={cookie}; Path=/; Secure; HttpOnly"
    rec = {"id": sid, "user": {"id": arr["users"][user]["id"], "name": user}, "role_ids": ["1"],
           "idle_timeout": 3600, "is_password_change_required": False, "is_built_in_user": False}
    tree = parse_select(req.q("select")) if req.q("select") else {"*": None}
    return 200, headers, [project("login_session", rec, tree)]


def h_logout(req, arr, st, m):
    arr["sessions"].pop(cookie_value(req, "auth_cookie") or "", None)
    return 204, {}, None


def authenticate(req, arr):
    """None when the request may proceed, else the error answer."""
    session = arr["sessions"].get(cookie_value(req, "auth_cookie") or "")
    user, good = basic_user(req, arr)
    if session is None and not good:
        return err(401, E_SIM_AUTH, "Authentication required." if user is None and session is None
                   else "Authentication failed.")
    if req.method != "GET":
        # CSRF: the token of this session (or, with Basic on every request, of one of the user's)
        token = req.header("DELL-EMC-TOKEN") or ""
        if session is not None:
            valid = token == session["token"]
        else:
            valid = any(s["token"] == token and s["user"] == user for s in arr["sessions"].values())
        if not valid:
            return err(403, E_SIM_CSRF, "Forbidden: missing or invalid DELL-EMC-TOKEN.")
    return None


# ---- handlers: cluster ----

def h_cluster(req, arr, st, m):
    rec = {"id": "0", "global_id": arr["global_id"], "name": arr["cluster_name"],
           "management_address": "127.0.0.1", "state": "Configured",
           "appliance_count": 1, "master_appliance_id": "A1", "system_time": "2024-01-01T00:00:00Z",
           "compatibility_level": 10, "physical_mtu": 1500, "is_encryption_enabled": False}
    return collection(req, arr, "cluster", [rec])


def h_software(req, arr, st, m):
    rel = arr["release_version"]
    recs = [{"id": "cluster", "release_version": rel, "is_cluster": True, "appliance": None},
            {"id": "A1", "release_version": rel, "is_cluster": False, "appliance": {"id": "A1"}}]
    return collection(req, arr, "software_installed", recs)


def h_appliance(req, arr, st, m):
    rec = {"id": "A1", "name": f"{arr['cluster_name']}-appliance-1", "model": arr["model"],
           "service_tag": "SIM0001", "express_service_code": "000000001"}
    return collection(req, arr, "appliance", [rec])


# ---- handlers: volumes ----

def h_volumes(req, arr, st, m):
    vols = sorted(arr["volumes"].values(), key=lambda v: v["id"])
    return collection(req, arr, "volume", [volume_record(arr, v) for v in vols])


def h_volume(req, arr, st, m):
    v = arr["volumes"].get(m.group(1).lower())
    return instance(req, "volume", volume_record(arr, v) if v else None, E_UNKNOWN_VOLUME, "volume")


# ---- handlers: hosts ----

def h_hosts(req, arr, st, m):
    return collection(req, arr, "host", [host_record(arr, h) for _, h in sorted(arr["hosts"].items())])


def h_host(req, arr, st, m):
    h = host_by_id(arr, m.group(1).lower())
    return instance(req, "host", host_record(arr, h) if h else None, E_NO_HOST, "host")


def check_port(p):
    """(stored port name, None) or (None, error answer) for {"port_name", "port_type"}."""
    if not isinstance(p, dict) or p.get("port_type") not in PORT_TYPES or \
            not isinstance(p.get("port_name"), str):
        return None, err(400, E_SIM_BAD_REQUEST, "Invalid initiator: port_name and port_type"
                                                 " (iSCSI, FC, NVMe) are required.")
    name, ptype = p["port_name"], p["port_type"]
    ok = {"iSCSI": re.fullmatch(r"(iqn\.\d{4}-\d{2}\.[^\s]+|eui\.[0-9A-Fa-f]{16})", name),
          "FC": re.fullmatch(r"([0-9A-Fa-f]{2}:){7}[0-9A-Fa-f]{2}", name),
          "NVMe": re.fullmatch(r"nqn\.[^\s]+", name)}[ptype]
    if not ok:
        return None, err(400, E_SIM_BAD_REQUEST, f"Invalid {ptype} port name {name}.", [name])
    return (name.lower() if ptype == "FC" else name), None


def initiator_owner(arr, port_name):
    for h in arr["hosts"].values():
        for i in h["initiators"]:
            if i.lower() == port_name.lower():
                return h["name"]
    return None


def add_ports(arr, host_name, ports):
    """Validates then adds; an error answer or None. Nothing changes on error."""
    adds = []
    for p in ports or []:
        stored, e = check_port(p)
        if e:
            return e
        owner = initiator_owner(arr, stored)
        if owner is not None and owner != host_name:
            return err(422, E_SIM_INITIATOR_IN_USE,
                       f"The initiator {stored} is already registered to host {owner}.", [stored, owner])
        if owner is None and stored.lower() not in [a.lower() for a in adds]:
            adds.append(stored)
    arr["hosts"][host_name]["initiators"].extend(adds)
    return None


def valid_name(name):
    return isinstance(name, str) and 0 < len(name) <= 128 and name.isprintable() and \
        name == name.strip()


def h_create_host(req, arr, st, m):
    body = req.json if isinstance(req.json, dict) else {}
    name = body.get("name")
    if not valid_name(name):
        return err(400, E_SIM_BAD_REQUEST, "Invalid host name.", [str(name)])
    if body.get("os_type") not in OS_TYPES:
        return err(400, E_SIM_BAD_REQUEST, "Invalid os_type.", [str(body.get("os_type"))])
    if not body.get("initiators"):
        return err(400, E_SIM_BAD_REQUEST, "At least one initiator is required.")
    if name in arr["hosts"]:
        return err(422, E_SIM_NAME_IN_USE, f"The host name {name} is already in use.", [name])
    h = {"name": name, "id": model.new_uuid(), "initiators": [], "os_type": body["os_type"],
         "description": body.get("description"), "host_group": None}
    arr["hosts"][name] = h
    e = add_ports(arr, name, body.get("initiators"))
    if e:
        del arr["hosts"][name]
        return e
    return 201, {}, {"id": h["id"]}


def h_modify_host(req, arr, st, m):
    h = host_by_id(arr, m.group(1).lower())
    if h is None:
        return err(404, E_NO_HOST, f"Could not find the host with ID: {m.group(1)}")
    body = req.json if isinstance(req.json, dict) else {}
    saved = list(h["initiators"])
    e = add_ports(arr, h["name"], body.get("add_initiators"))
    if e:
        h["initiators"] = saved
        return e
    for name in body.get("remove_initiators") or []:
        h["initiators"] = [i for i in h["initiators"] if i.lower() != str(name).lower()]
    if "description" in body:
        h["description"] = body["description"]
    return 204, {}, None


def h_delete_host(req, arr, st, m):
    """DELETE /host/<id> → 204 (gopowerstore host.go). Assumption (no public source
    gives the refusal): a host with volumes attached is refused with 422, the status
    gopowerstore reads as "request could not be completed", and an invented code;
    nothing is deleted. force_internal (internal hosts only) changes nothing here."""
    h = host_by_id(arr, m.group(1).lower())
    if h is None:
        return err(404, E_NO_HOST, f"Could not find the host with ID: {m.group(1)}", [m.group(1)])
    mapped = [mp for mp in arr["mappings"] if mp["kind"] == "host" and mp["group"] == h["name"]]
    if mapped:
        return err(422, E_SIM_HOST_MAPPED, f"The host {h['name']} cannot be deleted because it"
                                           f" has {len(mapped)} volume(s) attached.", [h["name"]])
    del arr["hosts"][h["name"]]
    return 204, {}, None


# ---- handlers: host groups ----

def h_groups(req, arr, st, m):
    return collection(req, arr, "host_group",
                      [group_record(arr, g) for _, g in sorted(arr["host_groups"].items())])


def h_group(req, arr, st, m):
    g = group_by_id(arr, m.group(1).lower())
    return instance(req, "host_group", group_record(arr, g) if g else None, E_NOT_FOUND, "host group")


# ---- handlers: attach / detach ----

def attach(arr, kind, group, body):
    vid = body.get("volume_id")
    vol = arr["volumes"].get(str(vid).lower()) if vid else None
    if vol is None:
        return err(404, E_UNKNOWN_VOLUME, f"Could not find the volume with ID: {vid}", [str(vid)])
    if kind == "host" and arr["hosts"][group].get("host_group"):
        # forklift PR #6158 (MTV-5270); wording and code unconfirmed
        hg = arr["hosts"][group]["host_group"]
        return err(400, E_SIM_HOST_IN_GROUP, f"The host {group} is a member of host group {hg}:"
                                             " attach the volume to the host group.", [group, hg])
    for mp in arr["mappings"]:
        if mp["volume"] == vol["id"] and mp["kind"] == kind and mp["group"] == group:
            return err(422, E_SIM_ALREADY_ATTACHED, f"The volume {vol['name']} is already attached"
                                                    f" to {group}.", [vol["name"], group])
    lun = body.get("logical_unit_number")
    if lun is None:
        lun = pick_lun(arr, kind, group)
        if lun is None:
            return err(422, E_SIM_LUN_IN_USE, "No free logical unit number.")
    elif isinstance(lun, bool) or not isinstance(lun, int) or not 0 <= lun <= LUN_MAX:
        return err(400, E_SIM_BAD_REQUEST, "Invalid logical_unit_number.", [str(lun)])
    elif lun in luns_in_use(arr, kind, group):
        return err(422, E_SIM_LUN_IN_USE, f"The logical unit number {lun} is already in use.",
                   [str(lun)])
    arr["mappings"].append({"volume": vol["id"], "kind": kind, "group": group, "lun": lun})
    return 204, {}, None


def detach(arr, kind, group, body):
    vid = body.get("volume_id")
    vol = arr["volumes"].get(str(vid).lower()) if vid else None
    if vol is None:
        return err(404, E_UNKNOWN_VOLUME, f"Could not find the volume with ID: {vid}", [str(vid)])
    for mp in arr["mappings"]:
        if mp["volume"] == vol["id"] and mp["kind"] == kind and mp["group"] == group:
            arr["mappings"].remove(mp)
            return 204, {}, None
    return err(400, E_HOST_NOT_ATTACHED, f"The volume {vol['name']} is not attached to {group}.",
               [vol["name"], group])


def h_host_action(req, arr, st, m):
    h = host_by_id(arr, m.group(1).lower())
    if h is None:
        return err(404, E_NO_HOST, f"Could not find the host with ID: {m.group(1)}")
    body = req.json if isinstance(req.json, dict) else {}
    return (attach if m.group(2) == "attach" else detach)(arr, "host", h["name"], body)


def h_group_action(req, arr, st, m):
    g = group_by_id(arr, m.group(1).lower())
    if g is None:
        return err(404, E_NOT_FOUND, f"Could not find the host group with ID: {m.group(1)}")
    body = req.json if isinstance(req.json, dict) else {}
    return (attach if m.group(2) == "attach" else detach)(arr, "host_group", g["name"], body)


def h_volume_action(req, arr, st, m):
    """PyPowerStore's form: POST /volume/<id>/attach {"host_id"} or {"host_group_id"}."""
    body = req.json if isinstance(req.json, dict) else {}
    h = host_by_id(arr, str(body.get("host_id") or "").lower())
    g = group_by_id(arr, str(body.get("host_group_id") or "").lower())
    if (h is None) == (g is None):
        return err(400, E_SIM_BAD_REQUEST, "Give exactly one of host_id and host_group_id.")
    fn = attach if m.group(2) == "attach" else detach
    inner = dict(body, volume_id=m.group(1))
    return fn(arr, "host", h["name"], inner) if h else fn(arr, "host_group", g["name"], inner)


def h_mappings(req, arr, st, m):
    recs = [mapping_record(arr, mp) for mp in arr["mappings"] if mp["volume"] in arr["volumes"]]
    recs.sort(key=lambda r: r["id"])
    return collection(req, arr, "host_volume_mapping", recs)


ROOT = r"/api/rest"
ROUTES = [
    ("GET", ROOT + r"/login_session", h_login),
    ("POST", ROOT + r"/logout", h_logout),
    ("GET", ROOT + r"/cluster", h_cluster),
    ("GET", ROOT + r"/software_installed", h_software),
    ("GET", ROOT + r"/appliance", h_appliance),
    ("GET", ROOT + r"/volume", h_volumes),
    ("GET", ROOT + r"/volume/" + UUID_RE, h_volume),
    ("POST", ROOT + r"/volume/" + UUID_RE + r"/(attach|detach)", h_volume_action),
    ("GET", ROOT + r"/host", h_hosts),
    ("POST", ROOT + r"/host", h_create_host),
    ("GET", ROOT + r"/host/" + UUID_RE, h_host),
    ("PATCH", ROOT + r"/host/" + UUID_RE, h_modify_host),
    ("DELETE", ROOT + r"/host/" + UUID_RE, h_delete_host),
    ("POST", ROOT + r"/host/" + UUID_RE + r"/(attach|detach)", h_host_action),
    ("GET", ROOT + r"/host_group", h_groups),
    ("GET", ROOT + r"/host_group/" + UUID_RE, h_group),
    ("POST", ROOT + r"/host_group/" + UUID_RE + r"/(attach|detach)", h_group_action),
    ("GET", ROOT + r"/host_volume_mapping", h_mappings),
]


def handle(req, arr, st):
    if (req.header("Accept") or "application/json") not in ("application/json", "*/*"):
        return err(406, E_SIM_BAD_REQUEST, "Only application/json is supported.")
    path_matched = False
    for method, pattern, fn in ROUTES:
        m = re.fullmatch(pattern, req.path)
        if not m:
            continue
        path_matched = True
        if method != req.method:
            continue
        if fn is not h_login:
            e = authenticate(req, arr)
            if e:
                return e
        return fn(req, arr, st, m)
    if path_matched:
        return err(405, E_SIM_BAD_REQUEST, "Method not allowed.")
    return err(404, E_NOT_FOUND, "Invalid resource.")


def expire_sessions(arr):
    arr["sessions"].clear()
    return True
