"""Dell PowerMax personality: Unisphere for PowerMax REST (/univmax/restapi/<version>/...)
with HTTP Basic on every request.

Paths, bodies, iterators, error bodies ({"message"}) and the masking model (storage
group + host or host group + port group = masking view) follow
/work/shared/array-apis/dell-powermax.md (gopowermax, PyU4V, csi-powermax, the Cinder
PowerMax driver, forklift). Where that file marks something UNCONFIRMED, the choice
made here is listed in README.md beside this file.

The model keeps storage groups, port groups and masking views of its own; the
shared model's "mappings" (what the fabric presents) are derived from the masking
views after every request. Seeded plain mappings become CSI-style objects
(csi-no-srp-sg-<host> + csi-mv-<host>) on the first request.
"""
import hashlib
import re
import secrets
import time

import model

VENDOR = "powermax"
PRODUCT = "powermax"
ARRAY_OPTIONS = ("api_versions", "unisphere_version", "model", "ucode", "generation",
                 "port_groups", "logins")

CYLINDER_BYTES = 15 * 128 * 1024  # an FBA cylinder: 15 tracks of 128 KiB
ITERATOR_MAX_PAGE = 1000
NAME_RE = r"[A-Za-z0-9_\-]{1,64}"
PORTS = {"SCSI_FC": [{"directorId": "FA-1D", "portId": "4"}, {"directorId": "FA-2D", "portId": "4"}],
         "iSCSI": [{"directorId": "SE-1E", "portId": "SE-1E:000"},
                   {"directorId": "SE-2E", "portId": "SE-2E:000"}]}
HOST_TYPE = {"SCSI_FC": "Fibre", "iSCSI": "iSCSI"}


def err(status, message):
    return status, {}, {"message": message}


def error_body(status, message):
    return {"message": message}


# ---- seeding ----

def new_array(name, spec):
    digits = int(hashlib.sha256(name.encode()).hexdigest(), 16) % 10 ** 6
    return {"id": spec.get("symmetrix_id") or f"000197{digits:06d}",
            "api_versions": spec.get("api_versions", ["101", "100", "92"]),
            "unisphere_version": spec.get("unisphere_version", "T10.1.0.468"),
            "model": spec.get("model", "PowerMax_8500"), "ucode": spec.get("ucode", "6079.175.0"),
            "generation": spec.get("generation", "V4"),
            "scsi_vendor": "EMC", "scsi_model": "SYMMETRIX",
            "users": {}, "storage_groups": {}, "masking_views": {}, "iterators": {},
            "logins": [], "next_dev": 0x100,
            "port_groups": [{"name": "PG_FC", "protocol": "SCSI_FC"},
                            {"name": "PG_ISCSI", "protocol": "iSCSI"}]}


def seed_user(arr, spec):
    arr["users"][spec["name"]] = spec.get("password", "")


def wwn_of(sym, dev):
    """The samples' layout: 6 + Dell/EMC OUI 000097 + 0 + array serial + ASCII hex of
    "S<dev>" (UNCONFIRMED, inferred from gopowermax and csi-powermax samples)."""
    return "6000097" + "0" + sym + ("S" + dev).encode().hex().upper()


def new_storage_group(name, srp=None):
    return {"name": name, "srp": srp, "volumes": [], "parents": [], "children": []}


def seed_volume(arr, spec):
    dev = (spec.get("id") or f"{arr['next_dev']:05X}").upper()
    if not re.fullmatch(r"[0-9A-F]{5}", dev):
        raise ValueError("a PowerMax device id is 5 hex digits")
    arr["next_dev"] = max(arr["next_dev"], int(dev, 16)) + 1
    cyl = max(1, -(-int(spec.get("size", 1 << 30)) // CYLINDER_BYTES))
    wwn = spec.get("wwn") or wwn_of(arr["id"], dev)
    shown = spec.get("effective_wwn") or wwn
    sg = spec.get("storage_group", "csi-XYZ-Bronze-SRP_1-SG")
    if sg:
        group = arr["storage_groups"].setdefault(sg, new_storage_group(sg, "SRP_1"))
        group["volumes"].append(dev)
    return {"id": dev, "name": spec["name"], "serial": shown, "naa": "naa." + shown.lower(),
            "size": cyl * CYLINDER_BYTES, "cyl": cyl, "wwn": wwn,
            "effective_wwn": spec.get("effective_wwn")}


def stored_initiator(text):
    """A host's initiator as Unisphere lists it: a bare WWPN (16 lower-case hex) or IQN."""
    t = text.split(":", 2)[2] if re.match(r"[A-Z]{2}-\w+:\w+:", text) else text
    if model.initiator_kind(t) == "fc":
        return model.split_fc(t)[1]
    if model.initiator_kind(t) == "iscsi":
        return t.lower()
    if model.initiator_kind(t) == "nvme":
        return t
    return None


def type_of(initiator):
    return {"fc": "Fibre", "iscsi": "iSCSI", "nvme": "NVMe"}.get(model.initiator_kind(initiator))


def seed_host(arr, spec):
    inis = [stored_initiator(i) for i in spec.get("initiators", [])]
    types = {type_of(i) for i in inis}
    if None in inis or len(types) > 1:
        raise ValueError("a PowerMax host holds initiators of one type")
    arr["hosts"][spec["name"]] = {"name": spec["name"], "initiators": inis,
                                  "type": types.pop() if types else "Fibre", "host_group": None}


def seed_host_group(arr, spec):
    arr["host_groups"][spec["name"]] = {"name": spec["name"]}
    for h in spec.get("hosts", []):
        arr["hosts"][h]["host_group"] = spec["name"]


def luns_used(arr, kind, group):
    used = set()
    for mv in arr["masking_views"].values():
        if mv["kind"] == kind and mv["group"] == group:
            used.update(mv["luns"].values())
    used.update(m["lun"] for m in arr["mappings"]
                if m["kind"] == kind and m["group"] == group and "view" not in m)
    return used


def pick_lun(arr, kind, group, start=1):
    used = luns_used(arr, kind, group)
    n = max(1, start)
    while n in used:
        n += 1
    return n


# ---- the masking model ----

def normalize(arr):
    """Seeded forms made whole: port groups as a dict, plain mappings as CSI-style
    storage group + masking view (what csi-powermax creates per node)."""
    if isinstance(arr["port_groups"], list):
        arr["port_groups"] = {p["name"]: {"name": p["name"], "protocol": p.get("protocol", "SCSI_FC"),
                                          "ports": p.get("ports") or PORTS[p.get("protocol", "SCSI_FC")]}
                              for p in arr["port_groups"]}
    for m in arr["mappings"]:
        if "view" in m:
            continue
        sg_name, mv_name = f"csi-no-srp-sg-{m['group']}", f"csi-mv-{m['group']}"
        sg = arr["storage_groups"].setdefault(sg_name, new_storage_group(sg_name))
        if m["volume"] not in sg["volumes"]:
            sg["volumes"].append(m["volume"])
        mv = arr["masking_views"].get(mv_name)
        if mv is None:
            itype = group_type(arr, m["kind"], m["group"])
            pg = next((p["name"] for p in arr["port_groups"].values()
                       if HOST_TYPE.get(p["protocol"]) == itype), None)
            mv = arr["masking_views"][mv_name] = {"name": mv_name, "kind": m["kind"],
                                                  "group": m["group"], "port_group": pg,
                                                  "storage_group": sg_name, "luns": {}}
        mv["luns"][m["volume"]] = m["lun"]
        m["view"] = mv_name


def group_type(arr, kind, group):
    if kind == "host":
        return arr["hosts"][group]["type"] if group in arr["hosts"] else None
    for h in arr["hosts"].values():
        if h["host_group"] == group:
            return h["type"]
    return None


def sg_volumes(arr, name, depth=0):
    """Volumes of a storage group, its child groups' included (cascaded groups)."""
    sg = arr["storage_groups"].get(name)
    if sg is None or depth > 2:
        return []
    out = list(sg["volumes"])
    for c in sg["children"]:
        out.extend(v for v in sg_volumes(arr, c, depth + 1) if v not in out)
    return out


def views_of_sg(arr, name):
    """Masking views presenting a storage group, directly or through a parent group."""
    sg = arr["storage_groups"].get(name)
    names = {name} | set(sg["parents"] if sg else [])
    return [mv for mv in arr["masking_views"].values() if mv["storage_group"] in names]


def mv_initiators(arr, mv):
    return set(model.group_initiators(arr, mv["kind"], mv["group"]))


def mv_ports(arr, mv):
    pg = arr["port_groups"].get(mv["port_group"])
    return {(p["directorId"], p["portId"]) for p in pg["ports"]} if pg else set()


def presents(arr, mv):
    """Whether a masking view's port group speaks its initiators' protocol (else the host
    sees nothing through it)."""
    pg = arr["port_groups"].get(mv["port_group"])
    return pg is not None and HOST_TYPE.get(pg["protocol"]) == group_type(arr, mv["kind"], mv["group"])


def already_masked(arr, mv, volumes):
    """A volume of `volumes` that another view already shows to one of mv's initiators
    through one of its ports, or None."""
    inis, ports = mv_initiators(arr, mv), mv_ports(arr, mv)
    for other in arr["masking_views"].values():
        if other["name"] == mv["name"]:
            continue
        if inis & mv_initiators(arr, other) and ports & mv_ports(arr, other):
            common = set(volumes) & set(sg_volumes(arr, other["storage_group"]))
            if common:
                return sorted(common)[0]
    return None


def give_luns(arr, mv, start=1):
    for dev in sg_volumes(arr, mv["storage_group"]):
        if dev not in mv["luns"]:
            mv["luns"][dev] = pick_lun(arr, mv["kind"], mv["group"], start)


def derive_mappings(arr):
    out = []
    for mv in arr["masking_views"].values():
        if not presents(arr, mv):
            continue
        for dev in sg_volumes(arr, mv["storage_group"]):
            if dev in arr["volumes"]:
                out.append({"volume": dev, "kind": mv["kind"], "group": mv["group"],
                            "lun": mv["luns"].get(dev), "view": mv["name"]})
    arr["mappings"] = out


# ---- records ----

def volume_record(arr, v):
    sgs = sorted(n for n, sg in arr["storage_groups"].items() if v["id"] in sg["volumes"])
    paths = sum(1 for m in arr["mappings"] if m["volume"] == v["id"])
    eff = v.get("effective_wwn")
    return {"volumeId": v["id"], "type": "TDEV", "emulation": "FBA", "ssid": "FFFFFFFF",
            "allocated_percent": 0, "cap_gb": round(v["size"] / 2 ** 30, 2),
            "cap_mb": round(v["size"] / 2 ** 20), "cap_cyl": v["cyl"], "status": "Ready",
            "reserved": False, "pinned": False, "volume_identifier": v["name"],
            "wwn": v["wwn"], "encapsulated": False, "num_of_storage_groups": len(sgs),
            "num_of_front_end_paths": paths, "storageGroupId": sgs, "snapvx_source": False,
            "snapvx_target": False, "has_effective_wwn": bool(eff),
            "effective_wwn": eff or v["wwn"]}


def sg_record(arr, sg):
    vols = sg_volumes(arr, sg["name"])
    rec = {"storageGroupId": sg["name"], "slo": "Diamond" if sg["srp"] else "None",
           "service_level": "Diamond" if sg["srp"] else "None", "workload": "None",
           "slo_compliance": "STABLE" if sg["srp"] else "NONE", "num_of_vols": len(vols),
           "num_of_child_sgs": len(sg["children"]), "num_of_parent_sgs": len(sg["parents"]),
           "num_of_masking_views": len([mv for mv in arr["masking_views"].values()
                                        if mv["storage_group"] == sg["name"]]),
           "num_of_snapshots": 0,
           "cap_gb": round(sum(arr["volumes"][d]["size"] for d in vols if d in arr["volumes"])
                           / 2 ** 30, 2),
           "device_emulation": "FBA",
           "type": "Parent" if sg["children"] else ("Child" if sg["parents"] else "Standalone"),
           "unprotected": True, "compression": bool(sg["srp"]),
           "maskingview": sorted(mv["name"] for mv in arr["masking_views"].values()
                                 if mv["storage_group"] == sg["name"]),
           "child_storage_group": list(sg["children"]),
           "parent_storage_group": list(sg["parents"])}
    if sg["srp"]:
        rec["srp"] = sg["srp"]
    return rec


def views_of_group(arr, kind, name):
    return sorted(mv["name"] for mv in arr["masking_views"].values()
                  if mv["kind"] == kind and mv["group"] == name)


def host_record(arr, h):
    rec = {"hostId": h["name"], "num_of_masking_views": len(views_of_group(arr, "host", h["name"])),
           "num_of_initiators": len(h["initiators"]),
           "num_of_host_groups": 1 if h["host_group"] else 0, "port_flags_override": False,
           "consistent_lun": False, "enabled_flags": "", "disabled_flags": "", "type": h["type"],
           "initiator": list(h["initiators"]), "maskingview": views_of_group(arr, "host", h["name"]),
           "num_of_powerpath_hosts": 0}
    if h["host_group"]:
        rec["hostGroup"] = [h["host_group"]]
    return rec


def hg_record(arr, g):
    members = [h for h in arr["hosts"].values() if h["host_group"] == g["name"]]
    return {"hostGroupId": g["name"], "num_of_hosts": len(members),
            "num_of_masking_views": len(views_of_group(arr, "host_group", g["name"])),
            "num_of_initiators": sum(len(h["initiators"]) for h in members),
            "type": members[0]["type"] if members else "Fibre", "port_flags_override": False,
            "consistent_lun": False, "maskingview": views_of_group(arr, "host_group", g["name"]),
            "host": [{"hostId": h["name"], "initiator": list(h["initiators"])} for h in members]}


def pg_record(arr, pg):
    views = sorted(mv["name"] for mv in arr["masking_views"].values()
                   if mv["port_group"] == pg["name"])
    rec = {"portGroupId": pg["name"], "symmetrixPortKey": [dict(p) for p in pg["ports"]],
           "num_of_ports": len(pg["ports"]), "num_of_masking_views": len(views),
           "type": HOST_TYPE.get(pg["protocol"], pg["protocol"]), "maskingview": views}
    if arr["generation"] == "V4":
        rec["port_group_protocol"] = pg["protocol"]
    return rec


def mv_record(mv):
    rec = {"maskingViewId": mv["name"], "portGroupId": mv["port_group"],
           "storageGroupId": mv["storage_group"]}
    rec["hostGroupId" if mv["kind"] == "host_group" else "hostId"] = mv["group"]
    return rec


# ---- initiators (logged-in HBAs × array ports) ----

def known_hbas(arr, st):
    out = []
    for h in arr["hosts"].values():
        out.extend(h["initiators"])
    out.extend(stored_initiator(x) for x in arr.get("logins", []))
    out.extend(model.split_fc(x)[1] for x in st.get("fabric_logins", []))
    seen = []
    for x in out:
        if x and x not in seen:
            seen.append(x)
    return seen


def initiator_ids(arr, hba):
    protocol = "SCSI_FC" if type_of(hba) == "Fibre" else "iSCSI"
    ids = []
    for p in PORTS[protocol]:
        port = p["portId"].split(":")[-1]
        ids.append(f"{p['directorId']}:{port}:{hba}")
    return ids


def host_of(arr, hba):
    for h in arr["hosts"].values():
        if hba in h["initiators"]:
            return h
    return None


def initiator_record(arr, iid):
    director, port, hba = iid.split(":", 2)
    h = host_of(arr, hba)
    rec = {"initiatorId": iid, "symmetrixPortKey": [{"directorId": director, "portId": port}],
           "type": "Fibre" if type_of(hba) == "Fibre" else "GigE", "logged_in": True,
           "on_fabric": True, "flags_in_effect": "Common_Serial_Number(C), SCSI_3(SC3)",
           "num_of_vols": 0, "num_of_host_groups": 1 if h and h["host_group"] else 0,
           "num_of_masking_views": len(views_of_group(arr, "host", h["name"])) if h else 0,
           "maskingview": views_of_group(arr, "host", h["name"]) if h else [],
           "num_of_powerpath_hosts": 0}
    if h:
        rec["host"] = h["name"]
        if h["host_group"]:
            rec["hostGroup"] = [h["host_group"]]
    return rec


# ---- handlers ----

def check_version(arr, m):
    if m.group(1) not in arr["api_versions"]:
        return err(404, f"Unsupported API version {m.group(1)}")
    return None


def check_sym(arr, sym):
    if sym != arr["id"]:
        return err(404, "Symmetrix not found")
    return None


def h_version(req, arr, st, m):
    return 200, {}, {"version": arr["unisphere_version"], "api_version": arr["api_versions"][0],
                     "supported_api_versions": list(arr["api_versions"])}


def h_sym_list(req, arr, st, m):
    return 200, {}, {"symmetrixId": [arr["id"]]}


def h_sym(req, arr, st, m):
    return check_sym(arr, m.group(2)) or (200, {}, {
        "symmetrixId": arr["id"], "device_count": len(arr["volumes"]), "ucode": arr["ucode"],
        "model": arr["model"], "local": True, "all_flash": True, "disk_count": 8,
        "cache_size_mb": 203776, "data_encryption": "Disabled"})


def like_match(value, pattern):
    """Unisphere list filters: exact, or "<like>text" for a substring."""
    if pattern.startswith("<like>"):
        return pattern[6:].lower() in value.lower()
    return value == pattern


def iterator(arr, results):
    page = min(arr.get("page_size") or ITERATOR_MAX_PAGE, ITERATOR_MAX_PAGE)
    it_id = f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}_0"
    if len(results) > page:
        arr["iterators"][it_id] = results
    first = results[:page]
    return 200, {}, {"id": it_id, "count": len(results), "maxPageSize": page,
                     "expirationTime": int(time.time() * 1000) + 600000,
                     "resultList": {"result": first, "from": 1 if first else 0, "to": len(first)}}


def h_iter_page(req, arr, st, m):
    items = arr["iterators"].get(m.group(1))
    if items is None:
        return err(404, "Iterator not found")
    try:
        lo, hi = int(req.q("from")), int(req.q("to"))
    except (TypeError, ValueError):
        return err(400, "from and to are required")
    if lo < 1 or hi < lo or hi > len(items) or hi - lo + 1 > ITERATOR_MAX_PAGE:
        return err(400, f"Invalid page range {lo}-{hi}")
    return 200, {}, {"result": items[lo - 1:hi], "from": lo, "to": hi}


def h_iter_delete(req, arr, st, m):
    if arr["iterators"].pop(m.group(1), None) is None:
        return err(404, "Iterator not found")
    return 204, {}, None


def h_volumes(req, arr, st, m):
    vols = sorted(arr["volumes"].values(), key=lambda v: v["id"])
    ident, sg = req.q("volume_identifier"), req.q("storageGroupId")
    if ident is not None:
        vols = [v for v in vols if like_match(v["name"], ident)]
    if sg is not None:
        members = sg_volumes(arr, sg)
        vols = [v for v in vols if v["id"] in members]
    return iterator(arr, [{"volumeId": v["id"]} for v in vols])


def h_volume(req, arr, st, m):
    v = arr["volumes"].get(m.group(3).upper())
    if v is None:
        return err(404, f"Could not find volume: {m.group(3)}")
    return 200, {}, volume_record(arr, v)


def h_sgs(req, arr, st, m):
    names = sorted(arr["storage_groups"])
    f = req.q("storageGroupId")
    if f is not None:
        names = [n for n in names if like_match(n, f)]
    return 200, {}, {"storageGroupId": names}


def sg_missing():
    return err(404, "The requested storage group cannot be found")


def h_sg(req, arr, st, m):
    sg = arr["storage_groups"].get(m.group(3))
    return (200, {}, sg_record(arr, sg)) if sg else sg_missing()


def h_sg_create(req, arr, st, m):
    body = req.json or {}
    name = body.get("storageGroupId")
    if not isinstance(name, str) or not re.fullmatch(NAME_RE, name):
        return err(400, "A problem occurred creating the storage group resource: invalid"
                        " storageGroupId")
    if name in arr["storage_groups"]:
        return err(409, "The requested storage group resource already exists")
    srp = body.get("srpId")
    if srp is None or str(srp).lower() == "none":
        srp = None  # gopowermax sends "None", forklift "none": both mean no SRP
    elif srp != "SRP_1":
        return err(400, f"A problem occurred creating the storage group resource: SRP {srp}"
                        " cannot be found")
    if body.get("emulation", "FBA") != "FBA":
        return err(400, "A problem occurred creating the storage group resource: unsupported"
                        " emulation")
    arr["storage_groups"][name] = new_storage_group(name, srp)
    return 200, {}, sg_record(arr, arr["storage_groups"][name])


def modify_fail(text):
    return err(400, f"A problem occurred modifying the storage group resource: {text}")


def sg_add(arr, sg, devs):
    for d in devs:
        if d not in arr["volumes"]:
            return modify_fail(f"Could not find volume: {d}")
        if d in sg["volumes"]:
            return modify_fail(f"Device {d} is already in the storage group")
        if sg["srp"] and any(d in o["volumes"] and o["srp"] for o in arr["storage_groups"].values()):
            return modify_fail(f"Device {d} is already in a storage group with an SRP")
    for mv in views_of_sg(arr, sg["name"]):
        clash = already_masked(arr, mv, devs)
        if clash:
            return modify_fail(f"device {clash} already masked within a view")
    sg["volumes"].extend(devs)
    for mv in views_of_sg(arr, sg["name"]):
        give_luns(arr, mv)
    return 200, {}, sg_record(arr, sg)


def sg_remove(arr, sg, devs):
    for d in devs:
        if d not in sg["volumes"]:
            return modify_fail(f"Device {d} is not in the storage group")
    left = [d for d in sg_volumes(arr, sg["name"]) if d not in devs]
    if not left and views_of_sg(arr, sg["name"]):
        return modify_fail("Cannot remove the last volume from a storage group in a masking"
                           " view")
    for d in devs:
        sg["volumes"].remove(d)
        for mv in views_of_sg(arr, sg["name"]):
            mv["luns"].pop(d, None)
    return 200, {}, sg_record(arr, sg)


def h_sg_edit(req, arr, st, m):
    sg = arr["storage_groups"].get(m.group(3))
    if sg is None:
        return sg_missing()
    edit = (req.json or {}).get("editStorageGroupActionParam") or {}
    add = (edit.get("expandStorageGroupParam") or {}).get("addSpecificVolumeParam")
    remove = edit.get("removeVolumeParam")
    for param in (add, remove):
        if param is not None and "remoteSymmSGInfoParam" not in param:
            return modify_fail("remoteSymmSGInfoParam is required")
    if add is not None:
        return sg_add(arr, sg, [str(d).upper() for d in add.get("volumeId") or []])
    if remove is not None:
        return sg_remove(arr, sg, [str(d).upper() for d in remove.get("volumeId") or []])
    return modify_fail("no supported edit in editStorageGroupActionParam")


def h_sg_delete(req, arr, st, m):
    name = m.group(3)
    sg = arr["storage_groups"].get(name)
    if sg is None:
        return sg_missing()
    if views_of_sg(arr, name):
        return err(400, "A problem occurred deleting the storage group resource: the storage"
                        " group is in a masking view")
    for other in arr["storage_groups"].values():
        for rel in ("parents", "children"):
            if name in other[rel]:
                other[rel].remove(name)
    del arr["storage_groups"][name]
    return 204, {}, None


def h_hosts(req, arr, st, m):
    return 200, {}, {"hostId": sorted(arr["hosts"])}


def host_missing(name):
    return err(404, f"Host {name} cannot be found")


def h_host(req, arr, st, m):
    h = arr["hosts"].get(m.group(3))
    return (200, {}, host_record(arr, h)) if h else host_missing(m.group(3))


def check_new_initiators(arr, host_name, htype, names, verb):
    """(stored initiators, None) or (None, error answer)."""
    out = []
    for n in names:
        s = stored_initiator(str(n))
        if s is None:
            return None, err(400, f"A problem occurred {verb} the host resource: invalid"
                                  f" initiator {n}")
        if htype is not None and type_of(s) != htype:
            return None, err(400, f"A problem occurred {verb} the host resource: initiator {n}"
                                  f" is not of type {htype}")
        htype = type_of(s)
        owner = host_of(arr, s)
        if owner is not None and owner["name"] != host_name:
            return None, err(400, f"A problem occurred {verb} the host resource: Initiator {s}"
                                  " is already in use in another Initiator Group")
        if owner is not None:
            return None, err(400, f"A problem occurred {verb} the host resource: Initiator {s}"
                                  f" is already in host {host_name}")
        out.append(s)
    return out, None


def h_host_create(req, arr, st, m):
    body = req.json or {}
    name = body.get("hostId")
    if not isinstance(name, str) or not re.fullmatch(NAME_RE, name):
        return err(400, "A problem occurred creating the host resource: invalid hostId")
    if name in arr["hosts"]:
        return err(409, "The requested host resource already exists")
    inis, e = check_new_initiators(arr, name, None, body.get("initiatorId") or [], "creating")
    if e:
        return e
    h = arr["hosts"][name] = {"name": name, "initiators": inis,
                              "type": type_of(inis[0]) if inis else "Fibre", "host_group": None}
    return 200, {}, host_record(arr, h)


def h_host_edit(req, arr, st, m):
    h = arr["hosts"].get(m.group(3))
    if h is None:
        return host_missing(m.group(3))
    edit = (req.json or {}).get("editHostActionParam") or {}
    if "addInitiatorParam" in edit:
        inis, e = check_new_initiators(arr, h["name"], h["type"] if h["initiators"] else None,
                                       edit["addInitiatorParam"].get("initiator") or [],
                                       "modifying")
        if e:
            return e
        h["initiators"].extend(inis)
        h["type"] = type_of(h["initiators"][0])
    elif "removeInitiatorParam" in edit:
        for n in edit["removeInitiatorParam"].get("initiator") or []:
            s = stored_initiator(str(n))
            if s not in h["initiators"]:
                return err(400, f"A problem occurred modifying the host resource: Initiator {n}"
                                " is not in the host")
            h["initiators"].remove(s)
    else:
        return err(400, "A problem occurred modifying the host resource: no supported edit")
    return 200, {}, host_record(arr, h)


def h_host_delete(req, arr, st, m):
    """DELETE .../host/<hostId> (gopowermax DeleteHost) → 204 (this file's choice for
    every DELETE). Assumption (UNCONFIRMED, no public text found): Unisphere refuses
    an initiator group still in a masking view or in a host group with 400 and a
    message in its "A problem occurred deleting the host resource: ..." pattern, and
    deletes nothing; its initiators go with it."""
    h = arr["hosts"].get(m.group(3))
    if h is None:
        return host_missing(m.group(3))
    views = views_of_group(arr, "host", h["name"])
    if views:
        return err(400, f"A problem occurred deleting the host resource: Initiator Group"
                        f" {h['name']} is in masking view {views[0]}")
    if h["host_group"]:
        return err(400, f"A problem occurred deleting the host resource: Initiator Group"
                        f" {h['name']} is a member of host group {h['host_group']}")
    del arr["hosts"][h["name"]]
    return 204, {}, None


def h_hgs(req, arr, st, m):
    return 200, {}, {"hostGroupId": sorted(arr["host_groups"])}


def h_hg(req, arr, st, m):
    g = arr["host_groups"].get(m.group(3))
    if g is None:
        return err(404, f"Host Group {m.group(3)} cannot be found")
    return 200, {}, hg_record(arr, g)


def h_initiators(req, arr, st, m):
    hba, in_host = req.q("initiator_hba"), (req.q("in_a_host") or "").lower() == "true"
    ids = []
    for x in known_hbas(arr, st):
        if hba is not None and x != stored_initiator(hba):
            continue
        if in_host and host_of(arr, x) is None:
            continue
        if (req.q("iscsi") or "").lower() == "true" and type_of(x) != "iSCSI":
            continue
        ids.extend(initiator_ids(arr, x))
    return 200, {}, {"initiatorId": ids}


def h_initiator(req, arr, st, m):
    iid = m.group(3)
    if not re.match(r"[A-Z]{2}-\w+:\w+:", iid):
        # forklift asks for a bare IQN; Unisphere's answer to that is UNCONFIRMED: the
        # first port's id is answered (the request log shows which form was used)
        s = stored_initiator(iid)
        iid = initiator_ids(arr, s)[0] if s in known_hbas(arr, st) else iid
    parts = iid.split(":", 2)
    if len(parts) != 3 or parts[2] not in known_hbas(arr, st) or iid not in initiator_ids(arr, parts[2]):
        return err(404, f"Initiator {m.group(3)} cannot be found")
    return 200, {}, initiator_record(arr, iid)


def h_pgs(req, arr, st, m):
    return 200, {}, {"portGroupId": sorted(arr["port_groups"])}


def h_pg(req, arr, st, m):
    pg = arr["port_groups"].get(m.group(3))
    if pg is None:
        return err(404, "The requested port group cannot be found")
    return 200, {}, pg_record(arr, pg)


def h_mvs(req, arr, st, m):
    return 200, {}, {"maskingViewId": sorted(arr["masking_views"])}


def mv_missing(name):
    return err(404, f"Masking View {name} cannot be found")


def h_mv(req, arr, st, m):
    mv = arr["masking_views"].get(m.group(3))
    return (200, {}, mv_record(mv)) if mv else mv_missing(m.group(3))


def selection(body, key, param, field):
    return ((body.get(key) or {}).get(param) or {}).get(field)


def h_mv_create(req, arr, st, m):
    body = req.json or {}
    name = body.get("maskingViewId")
    if not isinstance(name, str) or not re.fullmatch(NAME_RE, name):
        return err(400, "A problem occurred creating the masking view resource: invalid"
                        " maskingViewId")
    if name in arr["masking_views"]:
        return err(409, "The requested masking view resource already exists")
    # Either selector names a host or a host group (forklift sends a host as
    # hostGroupId, csi-powermax a host group as hostId; both ship): resolve by name.
    group = selection(body, "hostOrHostGroupSelection", "useExistingHostParam", "hostId") or \
        selection(body, "hostOrHostGroupSelection", "useExistingHostGroupParam", "hostGroupId")
    kind = "host" if group in arr["hosts"] else ("host_group" if group in arr["host_groups"] else None)
    pg = selection(body, "portGroupSelection", "useExistingPortGroupParam", "portGroupId")
    sg = selection(body, "storageGroupSelection", "useExistingStorageGroupParam", "storageGroupId")
    if kind is None:
        return err(404, "Initiator Group on Symmetrix cannot be found")
    if pg not in arr["port_groups"]:
        return err(404, "Port Group on Symmetrix cannot be found")
    if sg not in arr["storage_groups"]:
        return err(404, "Storage Group on Symmetrix cannot be found")
    start = body.get("starting_lun_address", 1)
    if not isinstance(start, int) or not 0 <= start <= 0xFFFF:
        return err(400, "A problem occurred creating the masking view resource: invalid"
                        " starting_lun_address")
    mv = {"name": name, "kind": kind, "group": group, "port_group": pg, "storage_group": sg,
          "luns": {}}
    clash = already_masked(arr, mv, sg_volumes(arr, sg))
    if clash:
        return err(400, f"A problem occurred creating the masking view resource: device {clash}"
                        " already masked within a view")
    arr["masking_views"][name] = mv
    give_luns(arr, mv, start)
    return 200, {}, mv_record(mv)


def h_mv_delete(req, arr, st, m):
    if arr["masking_views"].pop(m.group(3), None) is None:
        return mv_missing(m.group(3))
    return 204, {}, None


def h_mv_connections(req, arr, st, m):
    mv = arr["masking_views"].get(m.group(3))
    if mv is None:
        return mv_missing(m.group(3))
    rows = []
    want = (req.q("volume_id") or "").upper()
    if presents(arr, mv):
        for dev in sg_volumes(arr, mv["storage_group"]):
            if (want and dev != want) or dev not in arr["volumes"]:
                continue
            for ini in sorted(mv_initiators(arr, mv)):
                for director, port in sorted(mv_ports(arr, mv)):
                    rows.append({"volumeId": dev, "host_lun_address": f"{mv['luns'][dev]:04X}",
                                 "cap_gb": round(arr["volumes"][dev]["size"] / 2 ** 30, 2),
                                 "initiatorId": ini, "alias": ini, "dir_port": f"{director}:{port}",
                                 "logged_in": True, "on_fabric": True})
    return 200, {}, {"maskingViewConnection": rows}


V = r"/univmax/restapi/(\d+)"
S = V + r"/sloprovisioning/symmetrix/(\d+)"
ROUTES = [
    ("GET", r"/univmax/restapi/version", h_version, False),
    ("GET", r"/univmax/restapi/common/Iterator/([^/]+)/page", h_iter_page, False),
    ("DELETE", r"/univmax/restapi/common/Iterator/([^/]+)", h_iter_delete, False),
    ("GET", V + r"/system/symmetrix", h_sym_list, True),
    ("GET", V + r"/system/symmetrix/([^/]+)", h_sym, True),
    ("GET", S + r"/volume", h_volumes, True),
    ("GET", S + r"/volume/([^/]+)", h_volume, True),
    ("GET", S + r"/storagegroup", h_sgs, True),
    ("POST", S + r"/storagegroup", h_sg_create, True),
    ("GET", S + r"/storagegroup/([^/]+)", h_sg, True),
    ("PUT", S + r"/storagegroup/([^/]+)", h_sg_edit, True),
    ("DELETE", S + r"/storagegroup/([^/]+)", h_sg_delete, True),
    ("GET", S + r"/host", h_hosts, True),
    ("POST", S + r"/host", h_host_create, True),
    ("GET", S + r"/host/([^/]+)", h_host, True),
    ("PUT", S + r"/host/([^/]+)", h_host_edit, True),
    ("DELETE", S + r"/host/([^/]+)", h_host_delete, True),
    ("GET", S + r"/hostgroup", h_hgs, True),
    ("GET", S + r"/hostgroup/([^/]+)", h_hg, True),
    ("GET", S + r"/initiator", h_initiators, True),
    ("GET", S + r"/initiator/(.+)", h_initiator, True),
    ("GET", S + r"/portgroup", h_pgs, True),
    ("GET", S + r"/portgroup/([^/]+)", h_pg, True),
    ("GET", S + r"/maskingview", h_mvs, True),
    ("POST", S + r"/maskingview", h_mv_create, True),
    ("GET", S + r"/maskingview/([^/]+)/connections", h_mv_connections, True),
    ("GET", S + r"/maskingview/([^/]+)", h_mv, True),
    ("DELETE", S + r"/maskingview/([^/]+)", h_mv_delete, True),
]


def route(req, arr, st):
    path_matched = False
    for method, pattern, fn, versioned in ROUTES:
        m = re.fullmatch(pattern, req.path)
        if not m:
            continue
        path_matched = True
        if method != req.method:
            continue
        if versioned:
            bad = check_version(arr, m)
            if bad is None and "/sloprovisioning/" in pattern:
                bad = check_sym(arr, m.group(2))
            if bad:
                return bad
        return fn(req, arr, st, m)
    if path_matched:
        return err(405, "Method not allowed")
    return err(404, "Resource not found")


def handle(req, arr, st):
    auth = req.basic_auth()
    if auth is None or auth[0] not in arr["users"] or arr["users"][auth[0]] != auth[1]:
        return err(401, "Unauthorized")
    normalize(arr)
    answer = route(req, arr, st)
    derive_mappings(arr)
    return answer


def expire_sessions(arr):
    return False  # Basic auth on every request: an "expired" request is answered 401
