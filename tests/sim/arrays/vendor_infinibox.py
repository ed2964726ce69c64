"""Infinidat InfiniBox personality: the management REST API (/api/rest) with HTTP
Basic auth on every request.

Paths, query parameters, fields and error bodies follow /work/shared/array-apis/
infinidat-infinibox.md (Infinidat's infinisdk, its CSI driver and the iboxapi client
forklift vendors, the unofficial 8.4.6 API mirror, Infinidat's KB); the choices made
where that file says UNCONFIRMED are listed in README.md beside this file.

What makes this array different from the others, and is modelled:
- every answer is the envelope {"result", "error", "metadata"}; lists are paged
  (page_size, 1-based page, metadata.pages_total);
- dangerous writes (host ports, LUN map / unmap, deleting a host that sees LUNs) need
  ?approved=true, else APPROVAL_REQUIRED;
- an initiator (port) belongs to one host (PORT_ALREADY_BELONGS_TO_HOST);
- host clusters (/clusters) have LUNs of their own, seen by every member host as
  "clustered" LUs; automatic LUN numbers start at 1 for hosts and 11 for clusters;
- "//" in a path is taken as "/" (forklift's iboxapi sends /api/rest/hosts//<id>/...).
"""
import re
import secrets

import model

VENDOR = "infinibox"
PRODUCT = "infinibox"
ARRAY_OPTIONS = ("system_name", "serial_number", "model", "version", "system_id")
ROOT = "/api/rest"


def envelope(result, metadata=None):
    return {"result": result, "error": None, "metadata": metadata or {"ready": True}}


def err(status, code, message, reasons=None):
    return status, {}, {"result": None,
                        "error": {"code": code, "message": message, "reasons": reasons or [],
                                  "severity": "ERROR", "is_remote": False, "data": None},
                        "metadata": {"ready": True}}


def error_body(status, message):
    """An injected error: the envelope with an error, whatever the status (a 200 with an
    error in the body is what a client reading only the status would miss)."""
    code = {401: "UNAUTHORIZED", 403: "FORBIDDEN", 429: "TOO_MANY_REQUESTS"}.get(
        status, "INTERNAL_ERROR" if status >= 500 or status < 300 else "BAD_REQUEST")
    return err(status, code, message)[2]


# ---- seeding ----

def new_array(name, spec):
    return {"system_name": spec.get("system_name", name),
            "serial_number": int(spec.get("serial_number", 1000 + secrets.randbelow(9000))),
            "system_id": int(spec.get("system_id", 0x0bbd)),
            "model": spec.get("model", "InfiniBox F6230"),
            "version": spec.get("version", "7.3.10.0"),
            "scsi_vendor": "NFINIDAT", "scsi_model": "InfiniBox",
            "users": {}, "next_id": 1000, "next_volume": 1, "clusters": {}}


def seed_user(arr, spec):
    arr["users"][spec["name"]] = spec.get("password", "")


def next_id(arr):
    arr["next_id"] += 1
    return arr["next_id"]


def serial_of(arr, vol_id):
    """31 hex digits: Infinidat's OUI 742b0f, 20 reserved bits, the system id (16 bits),
    the volume id (64 bits) — infinisdk's SCSISerial."""
    return f"742b0f00000{arr['system_id']:04x}{vol_id:016x}"


def seed_volume(arr, spec):
    vid = int(spec.get("id") or 0)
    if vid <= 0:
        vid = arr["next_volume"] + 10000
        arr["next_volume"] += 1
    serial = serial_of(arr, vid)
    return {"id": str(vid), "vid": vid, "name": spec["name"], "serial": serial,
            "naa": "naa.6" + serial, "size": int(spec.get("size", 1 << 30)),
            "pool_name": spec.get("pool", "pool1"), "type": spec.get("type", "MASTER")}


def store_port(text):
    """A port as this array lists it: FC as colon-separated lower-case pairs (the form
    infinisdk's WWN type prints), iSCSI names as given."""
    kind = model.initiator_kind(text)
    if kind == "fc":
        h = model.split_fc(text)[1] if text.lower().startswith("fc.") else model.wwn_hex(text)
        return "FC", ":".join(h[i:i + 2] for i in range(0, 16, 2))
    if kind == "iscsi":
        return "ISCSI", text
    return "NVME", text


def seed_host(arr, spec):
    h = {"name": spec["name"], "id": int(spec.get("id") or next_id(arr)), "initiators": [],
         "host_group": spec.get("cluster"), "security_method": "NONE"}
    for ini in spec.get("initiators", []):
        h["initiators"].append(store_port(ini)[1])
    arr["hosts"][spec["name"]] = h
    if h["host_group"]:
        ensure_cluster(arr, h["host_group"])


def ensure_cluster(arr, name):
    if name not in arr["host_groups"]:
        arr["host_groups"][name] = {"name": name, "id": next_id(arr)}
    return arr["host_groups"][name]


def seed_host_group(arr, spec):
    ensure_cluster(arr, spec["name"])
    for h in spec.get("hosts", []):
        arr["hosts"][h]["host_group"] = spec["name"]


def host_luns_used(arr, host):
    h = arr["hosts"].get(host)
    cluster = h.get("host_group") if h else None
    return {m["lun"] for m in arr["mappings"]
            if (m["kind"] == "host" and m["group"] == host) or
            (cluster and m["kind"] == "host_group" and m["group"] == cluster)}


def pick_lun(arr, kind, group):
    """Infinidat's KB: the next free number from 1 for a host, from 11 for a cluster."""
    if kind == "host":
        used, start = host_luns_used(arr, group), 1
    else:
        used = {m["lun"] for m in arr["mappings"] if m["kind"] == "host_group" and m["group"] == group}
        for h in arr["hosts"].values():
            if h.get("host_group") == group:
                used |= host_luns_used(arr, h["name"])
        start = 11
    for n in range(start, 4096):
        if n not in used:
            return n
    return None


# ---- objects ----

def host_by_id(arr, hid):
    return next((h for h in arr["hosts"].values() if str(h["id"]) == str(hid)), None)


def cluster_by_id(arr, cid):
    return next((c for c in arr["host_groups"].values() if str(c["id"]) == str(cid)), None)


def lu_item(arr, m, host=None):
    vol = arr["volumes"][m["volume"]]
    clustered = m["kind"] == "host_group"
    cid = arr["host_groups"][m["group"]]["id"] if clustered else 0
    hid = host["id"] if host is not None else (0 if clustered else arr["hosts"][m["group"]]["id"])
    return {"id": vol["vid"] * 10000 + m["lun"], "lun": m["lun"],
            "clustered": clustered, "volume_id": vol["vid"], "host_cluster_id": cid,
            "host_id": hid, "udid": None}


def host_luns(arr, h):
    return [lu_item(arr, m, h) for m in arr["mappings"]
            if m["volume"] in arr["volumes"] and
            ((m["kind"] == "host" and m["group"] == h["name"]) or
             (h.get("host_group") and m["kind"] == "host_group" and m["group"] == h["host_group"]))]


def host_item(arr, h):
    ports = []
    for ini in h["initiators"]:
        kind = model.initiator_kind(ini)
        ports.append({"type": {"fc": "FC", "iscsi": "ISCSI"}.get(kind, "NVME"), "address": ini,
                      "host_id": h["id"]})
    cluster = arr["host_groups"].get(h.get("host_group") or "")
    return {"id": h["id"], "name": h["name"], "ports": ports, "luns": host_luns(arr, h),
            "host_cluster_id": cluster["id"] if cluster else 0, "host_type": "esxi",
            "security_method": h.get("security_method", "NONE"), "optimized": True,
            "san_client_type": "HOST", "tenant_id": 1, "created_at": 1700000000000,
            "updated_at": 1700000000000}


def cluster_item(arr, c):
    members = [h for h in arr["hosts"].values() if h.get("host_group") == c["name"]]
    return {"id": c["id"], "name": c["name"],
            "hosts": [{"id": h["id"], "name": h["name"]} for h in members],
            "luns": [lu_item(arr, m) for m in arr["mappings"]
                     if m["kind"] == "host_group" and m["group"] == c["name"]],
            "host_type": "esxi", "tenant_id": 1}


def volume_item(arr, v):
    mapped = any(m["volume"] == v["id"] for m in arr["mappings"])
    return {"id": v["vid"], "name": v["name"], "serial": v["serial"], "size": v["size"],
            "type": v["type"], "provtype": "THIN", "mapped": mapped, "write_protected": False,
            "pool_id": 1, "pool_name": v["pool_name"], "parent_id": 0, "family_id": v["vid"],
            "cg_id": None, "created_at": 1700000000000, "updated_at": 1700000000000,
            "rmr_source": False, "rmr_target": False, "lock_state": "UNLOCKED"}


def filtered(req, items, fields):
    """?<field>=<value> or ?<field>=eq:<value> (infinisdk's filter form)."""
    for f in fields:
        v = req.q(f)
        if v is None:
            continue
        if v.startswith("eq:"):
            v = v[3:]
        items = [it for it in items if str(it.get(f)) == v]
    return items


def page(req, arr, items):
    try:
        size = int(req.q("page_size") or 50)
        number = int(req.q("page") or 1)
    except ValueError:
        return err(400, "BAD_REQUEST", "page and page_size must be numbers")
    if not 1 <= size <= 1000 or number < 1:
        return err(400, "BAD_REQUEST", "page_size must be 1 to 1000, page from 1")
    if arr.get("page_size"):
        size = min(size, arr["page_size"])
    total = max(1, (len(items) + size - 1) // size)
    chunk = items[(number - 1) * size:number * size]
    return 200, {}, envelope(chunk, {"ready": True, "number_of_objects": len(items),
                                     "page_size": size, "pages_total": total, "page": number})


def approved(req):
    if (req.q("approved") or "").lower() == "true":
        return None
    return err(403, "APPROVAL_REQUIRED", "This operation requires approval.",
               ["The operation may affect hosts: add approved=true"])


def port_owner(arr, kind, address):
    for h in arr["hosts"].values():
        for ini in h["initiators"]:
            if model.initiator_kind(ini) != kind:
                continue
            if kind == "fc" and model.wwn_hex(ini) == model.wwn_hex(address):
                return h
            if kind != "fc" and ini.lower() == address.lower():
                return h
    return None


# ---- handlers ----

def h_system(req, arr, st, m):
    return 200, {}, envelope({"name": arr["system_name"], "serial_number": arr["serial_number"],
                              "model": arr["model"], "full_model": arr["model"] + " (sim)",
                              "version": arr["version"], "release": arr["version"],
                              "operational_state": {"state": "ACTIVE"},
                              "wwnn": "57:42:b0:f0:00:0b:bd:00"})


def h_volumes(req, arr, st, m):
    vols = [volume_item(arr, v) for v in sorted(arr["volumes"].values(), key=lambda v: v["vid"])]
    return page(req, arr, filtered(req, vols, ("name", "id")))


def h_volume(req, arr, st, m):
    v = arr["volumes"].get(m.group(1))
    if v is None:
        return err(404, "VOLUME_NOT_FOUND", f"Volume {m.group(1)} not found")
    return 200, {}, envelope(volume_item(arr, v))


def h_volume_luns(req, arr, st, m):
    v = arr["volumes"].get(m.group(1))
    if v is None:
        return err(404, "VOLUME_NOT_FOUND", f"Volume {m.group(1)} not found")
    return page(req, arr, [lu_item(arr, mp) for mp in arr["mappings"] if mp["volume"] == v["id"]])


def h_hosts(req, arr, st, m):
    hosts = [host_item(arr, h) for h in sorted(arr["hosts"].values(), key=lambda h: h["id"])]
    return page(req, arr, filtered(req, hosts, ("name", "id")))


def h_host(req, arr, st, m):
    h = host_by_id(arr, m.group(1))
    if h is None:
        return err(404, "HOST_NOT_FOUND", f"Host {m.group(1)} not found")
    return 200, {}, envelope(host_item(arr, h))


def h_post_host(req, arr, st, m):
    name = (req.json or {}).get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.:\-]{1,64}", name):
        return err(400, "BAD_REQUEST", "Invalid host name")
    if name in arr["hosts"]:
        return err(409, "NAME_CONFLICT", f"A host named {name} already exists")
    h = {"name": name, "id": next_id(arr), "initiators": [], "host_group": None}
    arr["hosts"][name] = h
    return 201, {}, envelope(host_item(arr, h))


def h_post_port(req, arr, st, m):
    h = host_by_id(arr, m.group(1))
    if h is None:
        return err(404, "HOST_NOT_FOUND", f"Host {m.group(1)} not found")
    e = approved(req)
    if e:
        return e
    body = req.json or {}
    ptype, address = str(body.get("type") or "").upper(), body.get("address")
    kind = {"FC": "fc", "ISCSI": "iscsi"}.get(ptype)
    if kind is None or not isinstance(address, str) or model.initiator_kind(address) != kind:
        return err(400, "BAD_REQUEST", "A port needs a type (FC, ISCSI) and a matching address")
    owner = port_owner(arr, kind, address)
    if owner is not None:
        return err(409, "PORT_ALREADY_BELONGS_TO_HOST",
                   f"Port {address} already belongs to host {owner['name']}")
    h["initiators"].append(store_port(address)[1])
    return 201, {}, envelope({"type": ptype, "address": h["initiators"][-1], "host_id": h["id"]})


def luns_of(req, arr, kind, group_name, base_items):
    items = base_items
    vid = req.q("volume_id")
    if vid is not None:
        items = [it for it in items if str(it["volume_id"]) == vid.replace("eq:", "")]
    return page(req, arr, items)


def h_host_luns(req, arr, st, m):
    h = host_by_id(arr, m.group(1))
    if h is None:
        return err(404, "HOST_NOT_FOUND", f"Host {m.group(1)} not found")
    return luns_of(req, arr, "host", h["name"], host_luns(arr, h))


def h_cluster_luns(req, arr, st, m):
    c = cluster_by_id(arr, m.group(1))
    if c is None:
        return err(404, "CLUSTER_NOT_FOUND", f"Host cluster {m.group(1)} not found")
    return luns_of(req, arr, "host_group", c["name"], cluster_item(arr, c)["luns"])


def map_volume(req, arr, kind, name, target_item):
    e = approved(req)
    if e:
        return e
    body = req.json or {}
    vol = arr["volumes"].get(str(body.get("volume_id")))
    if vol is None:
        return err(404, "VOLUME_NOT_FOUND", f"Volume {body.get('volume_id')} not found")
    if kind == "host":
        visible = [lu for lu in host_luns(arr, target_item) if lu["volume_id"] == vol["vid"]]
    else:
        visible = [mp for mp in arr["mappings"] if mp["volume"] == vol["id"] and
                   mp["kind"] == "host_group" and mp["group"] == name]
    if visible:
        return err(409, "MAPPING_ALREADY_EXISTS",
                   f"Volume {vol['name']} is already mapped to {name}")
    lun = body.get("lun")
    if lun is None:
        lun = pick_lun(arr, kind, name)
    elif not isinstance(lun, int) or not 0 <= lun <= 4095:
        return err(400, "BAD_REQUEST", "Invalid LUN")
    elif lun in (host_luns_used(arr, name) if kind == "host" else
                 {mp["lun"] for mp in arr["mappings"] if mp["group"] == name}):
        return err(409, "LUN_ALREADY_IN_USE", f"LUN {lun} is in use")
    mp = {"volume": vol["id"], "kind": kind, "group": name, "lun": lun}
    arr["mappings"].append(mp)
    return 201, {}, envelope(lu_item(arr, mp, target_item if kind == "host" else None))


def h_map_host(req, arr, st, m):
    h = host_by_id(arr, m.group(1))
    if h is None:
        return err(404, "HOST_NOT_FOUND", f"Host {m.group(1)} not found")
    return map_volume(req, arr, "host", h["name"], h)


def h_map_cluster(req, arr, st, m):
    c = cluster_by_id(arr, m.group(1))
    if c is None:
        return err(404, "CLUSTER_NOT_FOUND", f"Host cluster {m.group(1)} not found")
    return map_volume(req, arr, "host_group", c["name"], c)


def unmap_volume(req, arr, kind, name, vid, host=None):
    e = approved(req)
    if e:
        return e
    vol = arr["volumes"].get(vid)
    if vol is None:
        return err(404, "VOLUME_NOT_FOUND", f"Volume {vid} not found")
    for mp in arr["mappings"]:
        if mp["volume"] == vol["id"] and mp["kind"] == kind and mp["group"] == name:
            item = lu_item(arr, mp, host)
            arr["mappings"].remove(mp)
            return 200, {}, envelope(item)
    if kind == "host" and host is not None and host.get("host_group") and any(
            mp["volume"] == vol["id"] and mp["kind"] == "host_group" and
            mp["group"] == host["host_group"] for mp in arr["mappings"]):
        return err(409, "LUN_IS_CLUSTERED",
                   f"Volume {vol['name']} is mapped to host cluster {host['host_group']}:"
                   " unmap it from the cluster")
    return err(404, "LUN_NOT_FOUND", f"Volume {vol['name']} is not mapped to {name}")


def h_unmap_host(req, arr, st, m):
    h = host_by_id(arr, m.group(1))
    if h is None:
        return err(404, "HOST_NOT_FOUND", f"Host {m.group(1)} not found")
    return unmap_volume(req, arr, "host", h["name"], m.group(2), h)


def h_unmap_cluster(req, arr, st, m):
    c = cluster_by_id(arr, m.group(1))
    if c is None:
        return err(404, "CLUSTER_NOT_FOUND", f"Host cluster {m.group(1)} not found")
    return unmap_volume(req, arr, "host_group", c["name"], m.group(2))


def h_clusters(req, arr, st, m):
    items = [cluster_item(arr, c) for c in sorted(arr["host_groups"].values(),
                                                  key=lambda c: c["id"])]
    return page(req, arr, filtered(req, items, ("name", "id")))


def h_cluster(req, arr, st, m):
    c = cluster_by_id(arr, m.group(1))
    if c is None:
        return err(404, "CLUSTER_NOT_FOUND", f"Host cluster {m.group(1)} not found")
    return 200, {}, envelope(cluster_item(arr, c))


def h_delete_host(req, arr, st, m):
    """DELETE /hosts/<id>: the host and its ports. iboxapi sends it without
    approved=true and knows HOST_NOT_FOUND from it. Assumption (not in the facts
    file): deleting a host that sees LUNs (its own or its cluster's) disturbs it, so
    it needs approval like the other dangerous writes: without approved=true the
    answer is APPROVAL_REQUIRED (403, the status used for it here), with it the host
    goes with its own mappings and leaves its cluster."""
    h = host_by_id(arr, m.group(1))
    if h is None:
        return err(404, "HOST_NOT_FOUND", f"Host {m.group(1)} not found")
    luns = host_luns(arr, h)
    if luns and (req.q("approved") or "").lower() != "true":
        return err(403, "APPROVAL_REQUIRED", "This operation requires approval.",
                   [f"Host {h['name']} has {len(luns)} mapped LUN(s): add approved=true"])
    item = host_item(arr, h)
    arr["mappings"] = [mp for mp in arr["mappings"]
                       if not (mp["kind"] == "host" and mp["group"] == h["name"])]
    del arr["hosts"][h["name"]]
    return 200, {}, envelope(item)


ROUTES = [
    ("GET", r"/system", h_system),
    ("GET", r"/volumes", h_volumes),
    ("GET", r"/volumes/(\d+)", h_volume),
    ("GET", r"/volumes/(\d+)/luns", h_volume_luns),
    ("GET", r"/hosts", h_hosts),
    ("POST", r"/hosts", h_post_host),
    ("GET", r"/hosts/(\d+)", h_host),
    ("DELETE", r"/hosts/(\d+)", h_delete_host),
    ("POST", r"/hosts/(\d+)/ports", h_post_port),
    ("GET", r"/hosts/(\d+)/luns", h_host_luns),
    ("POST", r"/hosts/(\d+)/luns", h_map_host),
    ("DELETE", r"/hosts/(\d+)/luns/volume_id/(\d+)", h_unmap_host),
    ("GET", r"/clusters", h_clusters),
    ("GET", r"/clusters/(\d+)", h_cluster),
    ("GET", r"/clusters/(\d+)/luns", h_cluster_luns),
    ("POST", r"/clusters/(\d+)/luns", h_map_cluster),
    ("DELETE", r"/clusters/(\d+)/luns/volume_id/(\d+)", h_unmap_cluster),
]


def handle(req, arr, st):
    auth = req.basic_auth()
    if auth is None or auth[0] not in arr["users"] or arr["users"][auth[0]] != auth[1]:
        return err(401, "UNAUTHORIZED", "Request authentication failed")
    path = re.sub(r"/{2,}", "/", req.path)
    if not path.startswith(ROOT + "/"):
        return err(404, "NOT_FOUND", "Not found")
    path = path[len(ROOT):]
    for method, pattern, fn in ROUTES:
        m = re.fullmatch(pattern, path)
        if m and method == req.method:
            return fn(req, arr, st, m)
    if any(re.fullmatch(p, path) for _, p, _ in ROUTES):
        return err(405, "METHOD_NOT_ALLOWED", "Method not allowed")
    return err(404, "NOT_FOUND", "Not found")


def expire_sessions(arr):
    return False  # HTTP Basic on every request: no session to expire
