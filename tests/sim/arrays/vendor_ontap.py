"""NetApp ONTAP personality: the ONTAP REST API (/api) with HTTP Basic auth.

Paths, query parameters, record fields, error codes and status codes follow
/work/shared/array-apis/netapp-ontap.md (ONTAP OpenAPI as compiled into Trident's
client, NetApp's REST docs, Trident, forklift); choices where that file says
UNCONFIRMED are listed in README.md beside this file.

Records come back with their identity fields (uuid, name) plus what `fields=` asks
for, as ONTAP does: a client that forgets to ask for serial_number gets none.
"""
import re
import secrets
import urllib.parse

import model

VENDOR = "ontap"
PRODUCT = "ontap"
CONTENT_TYPE = "application/hal+json"
ARRAY_OPTIONS = ("cluster_name", "version", "model")

SERIAL_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-/$?{"
OS_TYPES = ("aix", "hpux", "hyper_v", "linux", "netware", "openvms", "solaris", "vmware",
            "windows", "xen")


def err(status, code, message, target=None):
    e = {"message": message, "code": str(code)}
    if target:
        e["target"] = target
    return status, {}, {"error": e}


def error_body(status, message):
    return {"error": {"message": message, "code": "2" if status < 500 else "1"}}


# ---- seeding ----

def new_array(name, spec):
    return {"cluster_name": spec.get("cluster_name", name),
            "version": spec.get("version", [9, 14, 1]),
            "model": spec.get("model", "AFF-A400"),
            "scsi_vendor": "NETAPP", "scsi_model": "LUN C-Mode",
            "users": {}, "svms": {}}


def seed_user(arr, spec):
    arr["users"][spec["name"]] = spec.get("password", "")


def seed_svm(arr, name):
    if name not in arr["svms"]:
        arr["svms"][name] = model.new_uuid()
    return arr["svms"][name]


def new_serial():
    # ONTAP serials are 12 printable characters and do contain punctuation
    head = "".join(secrets.choice(SERIAL_CHARS[:62]) for _ in range(4))
    return head + "".join(secrets.choice(SERIAL_CHARS) for _ in range(8))


def seed_volume(arr, spec):
    serial = spec.get("serial") or new_serial()
    if len(serial) != 12:
        raise ValueError("an ONTAP LUN serial is 12 characters")
    svm = spec.get("svm", "svm0")
    seed_svm(arr, svm)
    if not spec["name"].startswith("/vol/"):
        raise ValueError("an ONTAP LUN name is a path /vol/<volume>/<lun>")
    return {"id": spec.get("id") or model.new_uuid(), "name": spec["name"], "serial": serial,
            "naa": "naa.600a0980" + serial.encode().hex(), "size": int(spec.get("size", 1 << 30)),
            "svm": svm, "os_type": spec.get("os_type", "vmware")}


def stored_initiator(text):
    """An initiator as ONTAP lists it: IQN lower case, WWPN as lower-case colon pairs."""
    if model.initiator_kind(text) == "fc":
        h = model.split_fc(text)[1]
        return ":".join(h[i:i + 2] for i in range(0, 16, 2))
    return text.lower() if text.lower().startswith(("iqn.", "eui.")) else text


def seed_host(arr, spec):
    svm = spec.get("svm", "svm0")
    seed_svm(arr, svm)
    inis = [stored_initiator(i) for i in spec.get("initiators", [])]
    kinds = {model.initiator_kind(i) for i in inis}
    protocol = spec.get("protocol") or ("mixed" if len(kinds) > 1 else
                                        ("fcp" if kinds == {"fc"} else "iscsi"))
    arr["hosts"][spec["name"]] = {"name": spec["name"], "uuid": spec.get("uuid") or model.new_uuid(),
                                  "initiators": inis, "protocol": protocol,
                                  "os_type": spec.get("os_type", "vmware"), "svm": svm,
                                  "host_group": None}


def seed_host_group(arr, spec):
    raise ValueError("ONTAP has no host groups (nested igroups are not modelled)")


def pick_lun(arr, kind, group):
    used = {m["lun"] for m in arr["mappings"] if m["group"] == group}
    for n in range(0, 4096):
        if n not in used:
            return n
    return None


# ---- records and queries ----

def field_tree(fields):
    tree = {}
    for f in (fields or "").split(","):
        f = f.strip()
        if not f:
            continue
        node = tree
        for part in f.split("."):
            node = node.setdefault(part, {})
    return tree


def project(obj, tree):
    if "*" in tree or "**" in tree:
        return obj
    out = {}
    for key, sub in tree.items():
        if key not in obj:
            continue
        v = obj[key]
        if not sub:
            out[key] = v
        elif isinstance(v, list):
            out[key] = [project(x, sub) if isinstance(x, dict) else x for x in v]
        elif isinstance(v, dict):
            out[key] = project(v, sub)
        else:
            out[key] = v
    return out


def get_values(obj, path):
    """All values at a dotted path, descending into lists."""
    vals = [obj]
    for part in path.split("."):
        nxt = []
        for v in vals:
            if isinstance(v, list):
                nxt.extend(x.get(part) for x in v if isinstance(x, dict) and part in x)
            elif isinstance(v, dict) and part in v:
                nxt.append(v[part])
        vals = nxt
    flat = []
    for v in vals:
        flat.extend(v if isinstance(v, list) else [v])
    return flat


def matches(record, key, pattern):
    """ONTAP query semantics: '*' wildcards, '|' alternatives, case-insensitive."""
    regex = "|".join(re.escape(p).replace(r"\*", ".*") for p in pattern.split("|"))
    return any(re.fullmatch(regex, str(v), flags=re.IGNORECASE) for v in get_values(record, key))


CONTROL_PARAMS = {"fields", "max_records", "return_records", "return_timeout", "order_by",
                  "start.index", "allow_delete_while_mapped"}


def collection(req, arr, records, default_fields):
    for key, values in req.query.items():
        if key in CONTROL_PARAMS:
            continue
        records = [r for r in records if matches(r, key, values[0])]
    tree = field_tree(default_fields + "," + (req.q("fields") or ""))
    start = int(req.q("start.index") or 0)
    limit = int(req.q("max_records")) if (req.q("max_records") or "").isdigit() else None
    if arr.get("page_size") and (limit is None or limit > arr["page_size"]):
        limit = arr["page_size"]
    end = len(records) if limit is None else min(len(records), start + limit)
    page = [project(r, tree) for r in records[start:end]]
    links = {"self": {"href": req.target}}
    if end < len(records):
        q = {k: v[0] for k, v in req.query.items() if k != "start.index"}
        q["start.index"] = str(end)
        links["next"] = {"href": req.path + "?" + urllib.parse.urlencode(q)}
    return 200, {}, {"records": page, "num_records": len(page), "_links": links}


def svm_ref(arr, name):
    return {"name": name, "uuid": arr["svms"][name]}


def lun_record(arr, v):
    maps = [{"igroup": {"name": m["group"], "uuid": arr["hosts"][m["group"]]["uuid"]},
             "logical_unit_number": m["lun"]} for m in arr["mappings"] if m["volume"] == v["id"]]
    parts = v["name"].split("/")
    return {"uuid": v["id"], "name": v["name"], "serial_number": v["serial"],
            "space": {"size": v["size"], "used": 0}, "svm": svm_ref(arr, v["svm"]),
            "location": {"volume": {"name": parts[2] if len(parts) > 2 else ""},
                         "logical_unit": parts[-1]},
            "status": {"state": "online", "container_state": "online", "mapped": bool(maps),
                       "read_only": False},
            "enabled": True, "os_type": v["os_type"], "class": "regular", "lun_maps": maps}


def igroup_record(arr, h):
    maps = []
    for m in arr["mappings"]:
        if m["group"] == h["name"] and m["volume"] in arr["volumes"]:
            vol = arr["volumes"][m["volume"]]
            maps.append({"logical_unit_number": m["lun"],
                         "lun": {"name": vol["name"], "uuid": vol["id"]}})
    return {"uuid": h["uuid"], "name": h["name"], "protocol": h["protocol"],
            "os_type": h["os_type"], "svm": svm_ref(arr, h["svm"]),
            "initiators": [{"name": i} for i in h["initiators"]],
            "lun_maps": maps, "delete_on_unmap": False, "comment": ""}


def map_record(arr, m):
    vol = arr["volumes"][m["volume"]]
    h = arr["hosts"][m["group"]]
    return {"svm": svm_ref(arr, vol["svm"]),
            "lun": {"name": vol["name"], "uuid": vol["id"]},
            "igroup": {"name": h["name"], "uuid": h["uuid"], "os_type": h["os_type"],
                       "protocol": h["protocol"], "initiators": list(h["initiators"])},
            "logical_unit_number": m["lun"],
            "reporting_nodes": [{"name": "node-01", "uuid": arr["id"]}]}


def ref_lookup(arr, body, key, items, id_key):
    """Finds body[key] given as {"uuid"} or {"name"} among items."""
    ref = body.get(key) or {}
    for it in items:
        if ref.get("uuid") and it[id_key] == ref["uuid"]:
            return it
        if ref.get("name") and it["name"] == ref["name"]:
            return it
    return None


def svm_of(arr, body):
    ref = body.get("svm") or {}
    for name, uuid in arr["svms"].items():
        if ref.get("uuid") == uuid or ref.get("name") == name:
            return name
    return None


def valid_initiator(text):
    if re.fullmatch(r"iqn\.\d{4}-\d{2}\.[a-z0-9.\-]+(:[^\s]*)?", text, re.IGNORECASE):
        return "iscsi", None
    if re.fullmatch(r"eui\.[0-9a-fA-F]{16}", text):
        return "iscsi", None
    if re.fullmatch(r"([0-9a-fA-F]{2}:){7}[0-9a-fA-F]{2}", text):
        return "fc", None
    if text.lower().startswith(("iqn.", "eui.")):
        return None, (400, 5374039, "The specified iSCSI name is invalid.")
    return None, (400, 5374038, "The specified WWPN is invalid.")


def check_initiators(arr, igroup_name, os_type, names):
    """An error tuple when an initiator is malformed or sits in an igroup of another OS type."""
    for n in names:
        kind, e = valid_initiator(n)
        if e:
            return err(e[0], e[1], e[2], "initiators.name")
        for h in arr["hosts"].values():
            if h["name"] != igroup_name and stored_initiator(n) in h["initiators"] and \
                    h["os_type"] != os_type:
                return err(400, 5374732, "An initiator is already in another initiator group"
                                         " with a conflicting operating system type.",
                           "initiators.name")
    return None


# ---- handlers ----

def h_cluster(req, arr, st, m):
    g, ma, mi = arr["version"]
    rec = {"name": arr["cluster_name"], "uuid": arr["id"],
           "version": {"full": f"NetApp Release {g}.{ma}.{mi}: Mon Jan 01 00:00:00 UTC 2024",
                       "generation": g, "major": ma, "minor": mi}}
    return 200, {}, project(rec, field_tree("name,uuid," + (req.q("fields") or "")))


def h_nodes(req, arr, st, m):
    recs = [{"uuid": arr["id"], "name": f"{arr['cluster_name']}-01", "model": arr["model"]},
            {"uuid": model.new_uuid(), "name": f"{arr['cluster_name']}-02", "model": arr["model"]}]
    return collection(req, arr, recs, "uuid,name")


def h_svms(req, arr, st, m):
    recs = [{"uuid": u, "name": n, "state": "running"} for n, u in sorted(arr["svms"].items())]
    return collection(req, arr, recs, "uuid,name")


def h_luns(req, arr, st, m):
    recs = [lun_record(arr, v) for v in sorted(arr["volumes"].values(), key=lambda v: v["name"])]
    return collection(req, arr, recs, "uuid,name")


def h_lun(req, arr, st, m):
    v = arr["volumes"].get(m.group(1))
    if v is None:
        return err(404, 4, "entry doesn't exist", "uuid")
    return 200, {}, project(lun_record(arr, v), field_tree("uuid,name," + (req.q("fields") or "")))


def h_igroups(req, arr, st, m):
    recs = [igroup_record(arr, h) for _, h in sorted(arr["hosts"].items())]
    return collection(req, arr, recs, "uuid,name")


def created(req, path, record):
    headers = {"Location": path}
    if (req.q("return_records") or "").lower() == "true":
        return 201, headers, {"num_records": 1, "records": [record]}
    return 201, headers, {}


def h_post_igroup(req, arr, st, m):
    body = req.json or {}
    svm = svm_of(arr, body)
    if svm is None:
        return err(400, 2621462, "The specified SVM does not exist.", "svm")
    name = body.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.:\-]{1,96}", name):
        return err(400, 5373958, "Invalid initiator group name.", "name")
    if body.get("os_type") not in OS_TYPES:
        return err(400, 2, 'Missing or invalid "os_type".', "os_type")
    if name in arr["hosts"]:
        return err(409, 5374023, "The initiator group name already exists.", "name")
    protocol = body.get("protocol", "mixed")
    if protocol not in ("fcp", "iscsi", "mixed"):
        return err(400, 2, 'Invalid "protocol".', "protocol")
    names = [i.get("name", "") for i in body.get("initiators") or []]
    e = check_initiators(arr, name, body["os_type"], names)
    if e:
        return e
    h = {"name": name, "uuid": model.new_uuid(), "protocol": protocol, "os_type": body["os_type"],
         "svm": svm, "initiators": [stored_initiator(n) for n in names], "host_group": None}
    arr["hosts"][name] = h
    return created(req, f"/api/protocols/san/igroups/{h['uuid']}", igroup_record(arr, h))


def igroup_by_uuid(arr, uuid):
    for h in arr["hosts"].values():
        if h["uuid"] == uuid:
            return h
    return None


def h_post_initiators(req, arr, st, m):
    h = igroup_by_uuid(arr, m.group(1))
    if h is None:
        return err(404, 5374852, "The initiator group specified in the URI does not exist.",
                   "igroup.uuid")
    body = req.json or {}
    names = [r.get("name", "") for r in body["records"]] if "records" in body else [body.get("name", "")]
    e = check_initiators(arr, h["name"], h["os_type"], names)
    if e:
        return e
    for n in names:
        if stored_initiator(n) in h["initiators"]:
            return err(409, 5374035, "The initiator is already in the initiator group.", "name")
    h["initiators"].extend(stored_initiator(n) for n in names)
    return 201, {"Location": f"/api/protocols/san/igroups/{h['uuid']}/initiators"}, {}


def h_delete_initiator(req, arr, st, m):
    h = igroup_by_uuid(arr, m.group(1))
    if h is None:
        return err(404, 5374852, "The initiator group specified in the URI does not exist.")
    name = stored_initiator(urllib.parse.unquote(m.group(2)))
    if name not in h["initiators"]:
        return err(404, 5374034, "The initiator is not in the initiator group.")
    if any(mp["group"] == h["name"] for mp in arr["mappings"]) and \
            (req.q("allow_delete_while_mapped") or "").lower() != "true":
        return err(400, 1254213, "The initiator group is mapped to LUNs.")
    h["initiators"].remove(name)
    return 200, {}, {}


def h_delete_igroup(req, arr, st, m):
    """DELETE /protocols/san/igroups/{uuid}: codes 5374852 (no such igroup) and 1254213
    (mapped, allow_delete_while_mapped not set) from NetApp's REST reference. Assumption:
    the HTTP statuses, which the reference leaves as "default": 404 and 400, as for the
    initiator DELETE above."""
    h = igroup_by_uuid(arr, m.group(1))
    if h is None:
        return err(404, 5374852, "The initiator group does not exist.", "uuid")
    if any(mp["group"] == h["name"] for mp in arr["mappings"]) and \
            (req.q("allow_delete_while_mapped") or "").lower() != "true":
        return err(400, 1254213, "The initiator group is mapped to one or more LUNs and"
                                 " allow_delete_while_mapped has not been specified.")
    arr["mappings"] = [mp for mp in arr["mappings"] if mp["group"] != h["name"]]
    del arr["hosts"][h["name"]]
    return 200, {}, {}


def h_lun_maps(req, arr, st, m):
    recs = [map_record(arr, mp) for mp in arr["mappings"]
            if mp["volume"] in arr["volumes"] and mp["group"] in arr["hosts"]]
    return collection(req, arr, recs, "svm.name,svm.uuid,lun.name,lun.uuid,igroup.name,igroup.uuid")


def h_post_lun_map(req, arr, st, m):
    body = req.json or {}
    if svm_of(arr, body) is None:
        return err(400, 2621462, "The specified SVM does not exist.", "svm")
    if not body.get("lun"):
        return err(400, 5374901, "A LUN must be supplied.", "lun")
    if not body.get("igroup"):
        return err(400, 5374902, "An initiator group must be supplied.", "igroup")
    vol = ref_lookup(arr, body, "lun", arr["volumes"].values(), "id")
    if vol is None:
        return err(400, 5374875, "The specified LUN does not exist.", "lun")
    h = ref_lookup(arr, body, "igroup", arr["hosts"].values(), "uuid")
    if h is None:
        return err(400, 5374878, "The specified initiator group does not exist.", "igroup")
    for mp in arr["mappings"]:
        if mp["volume"] == vol["id"] and mp["group"] == h["name"]:
            return err(409, 1254207, "The LUN is already mapped to the same initiator group.")
    lun = body.get("logical_unit_number")
    if lun is None:
        lun = pick_lun(arr, "host", h["name"])
    elif not isinstance(lun, int) or not 0 <= lun <= 4095:
        return err(400, 2, "Invalid logical_unit_number.", "logical_unit_number")
    elif any(mp["group"] == h["name"] and mp["lun"] == lun for mp in arr["mappings"]):
        return err(409, 8, "The logical unit number is in use.", "logical_unit_number")
    mp = {"volume": vol["id"], "kind": "host", "group": h["name"], "lun": lun}
    arr["mappings"].append(mp)
    return created(req, f"/api/protocols/san/lun-maps/{vol['id']}/{h['uuid']}", map_record(arr, mp))


def h_delete_lun_map(req, arr, st, m):
    vol = arr["volumes"].get(m.group(1))
    if vol is None:
        return err(404, 5374875, "The specified LUN does not exist.", "lun.uuid")
    h = igroup_by_uuid(arr, m.group(2))
    if h is None:
        return err(404, 5374878, "The specified initiator group does not exist.", "igroup.uuid")
    for mp in arr["mappings"]:
        if mp["volume"] == vol["id"] and mp["group"] == h["name"]:
            arr["mappings"].remove(mp)
            return 200, {}, {}
    return err(404, 5374922, "The specified LUN map does not exist.")


UUID = r"([0-9a-fA-F-]{36})"
ROUTES = [
    ("GET", r"/api/cluster", h_cluster),
    ("GET", r"/api/cluster/nodes", h_nodes),
    ("GET", r"/api/svm/svms", h_svms),
    ("GET", r"/api/storage/luns", h_luns),
    ("GET", r"/api/storage/luns/" + UUID, h_lun),
    ("GET", r"/api/protocols/san/igroups", h_igroups),
    ("POST", r"/api/protocols/san/igroups", h_post_igroup),
    ("POST", r"/api/protocols/san/igroups/" + UUID + r"/initiators", h_post_initiators),
    ("DELETE", r"/api/protocols/san/igroups/" + UUID + r"/initiators/(.+)", h_delete_initiator),
    ("DELETE", r"/api/protocols/san/igroups/" + UUID, h_delete_igroup),
    ("GET", r"/api/protocols/san/lun-maps", h_lun_maps),
    ("POST", r"/api/protocols/san/lun-maps", h_post_lun_map),
    ("DELETE", r"/api/protocols/san/lun-maps/" + UUID + "/" + UUID, h_delete_lun_map),
]


def handle(req, arr, st):
    auth = req.basic_auth()
    if auth is None or auth[0] not in arr["users"] or arr["users"][auth[0]] != auth[1]:
        return err(401, 6, "User is not authorized.")
    path_matched = False
    for method, pattern, fn in ROUTES:
        m = re.fullmatch(pattern, req.path)
        if not m:
            continue
        path_matched = True
        if method == req.method:
            return fn(req, arr, st, m)
    if path_matched:
        return err(405, 3, "The operation is not supported.")
    return err(404, 4, "API not found.")


def expire_sessions(arr):
    return False  # Basic auth has no session: an "expired" request is answered 401
