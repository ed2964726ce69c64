"""IBM FlashSystem / Storage Virtualize personality: the RESTful API that runs CLI
commands over HTTPS (POST /rest/v1/<command>[/<object>], options in a JSON body).

Commands, fields, message texts and the token flow follow /work/shared/array-apis/
ibm-flashsystem.md (IBM's Storage Virtualize RESTful API pages, the command pages of
mkhost / mkvdiskhostmap, "Volume protection", IBM's Ansible collection, the
spectrum_virtualize exporter's fixtures, the IBM block CSI driver, Cinder's SVC
simulator, forklift); the choices made where that file says UNCONFIRMED are listed in
README.md beside this file.

What makes this array different from the others, and is modelled:
- everything is POST; every value in an answer is a string; ls commands with an object
  give one object, without one a list (filtervalue attr=value filters it);
- a token from POST /rest/v1/auth (X-Auth-Username / X-Auth-Password headers) sent as
  X-Auth-Token; it expires token_seconds after it was issued (one hour), and a new
  auth of the same user invalidates the previous token (forklift's PR says so);
  an expired or unknown token is 403;
- a failed command is HTTP 409 (500 for an ls of an object that does not exist) with
  the CLI's "CMMVCnnnnE text" as a plain-text body; rm/ch commands answer an empty body;
- volume protection: with the system's and the volume's pool's setting both "yes", a
  volume that had I/O within vdisk_protection_time minutes cannot be unmapped;
- a WWPN or iSCSI name belongs to one host; mkvdiskhostmap needs -force to map a volume
  that is mapped to another host already.
"""
import re
import secrets
import time

import model

VENDOR = "flashsystem"
PRODUCT = "flashsystem"
CONTENT_TYPE = "application/json"
ARRAY_OPTIONS = ("system_name", "system_id", "product_name", "code_level", "vdisk_protection_enabled",
                 "vdisk_protection_time", "pools", "token_seconds", "rest_v1")
TEXT = {"Content-Type": "text/plain"}


def fail(status, text):
    return status, dict(TEXT), text.encode()


def cli_error(code, text, status=409):
    return fail(status, f"{code} {text}")


def error_body(status, message):
    return message.encode()


# ---- seeding ----

def new_array(name, spec):
    return {"system_name": spec.get("system_name", name),
            "system_id": spec.get("system_id", "0000020" + secrets.token_hex(5).upper()[:9]),
            "product_name": spec.get("product_name", "IBM FlashSystem 7300"),
            "code_level": spec.get("code_level", "8.6.0.3 (build 169.8.2311101622000)"),
            "vdisk_protection_enabled": spec.get("vdisk_protection_enabled", "yes"),
            "vdisk_protection_time": str(spec.get("vdisk_protection_time", 15)),
            "pools": spec.get("pools", {"Pool0": {"id": "0", "vdisk_protection_enabled": "yes"}}),
            "token_seconds": float(spec.get("token_seconds", 3600)), "rest_v1": True,
            "scsi_vendor": "IBM", "scsi_model": "2145",
            "users": {}, "tokens": {}, "next_id": 0, "next_map": 0}


def seed_user(arr, spec):
    arr["users"][spec["name"]] = spec.get("password", "")


def next_id(arr):
    arr["next_id"] += 1
    return str(arr["next_id"])


def seed_volume(arr, spec):
    vid = str(spec.get("id") or next_id(arr))
    uid = (spec.get("uid") or ("60050768108" + secrets.token_hex(11)[:21])).upper()
    if not re.fullmatch(r"6005076[0-9A-F]{25}", uid):
        raise ValueError("a vdisk_UID is 32 hex digits starting 6005076")
    pool = spec.get("pool", "Pool0")
    if pool not in arr["pools"]:
        raise ValueError(f"no pool {pool}")
    return {"id": vid, "name": spec["name"], "serial": uid, "naa": "naa." + uid.lower(),
            "size": int(spec.get("size", 1 << 30)), "pool": pool,
            "recent_io": bool(spec.get("recent_io", False)), "copies": spec.get("copies", [pool])}


def store_port(text):
    """FC WWPNs as 16 upper-case hex digits (the exporter's fixtures), IQNs as given."""
    if model.initiator_kind(text) == "fc":
        h = model.split_fc(text)[1] if text.lower().startswith("fc.") else model.wwn_hex(text)
        return h.upper()
    return text


def seed_host(arr, spec):
    inis = [store_port(i) for i in spec.get("initiators", [])]
    kinds = {model.initiator_kind(i) for i in inis}
    protocol = spec.get("protocol") or ("scsi" if len(kinds) > 1 else
                                        ("iscsi" if kinds == {"iscsi"} else "fcscsi"))
    arr["hosts"][spec["name"]] = {"name": spec["name"], "id": str(spec.get("id") or next_id(arr)),
                                  "initiators": inis, "protocol": protocol,
                                  "type": spec.get("type", "generic"), "host_group": None}


def seed_host_group(arr, spec):
    raise ValueError("host clusters are not modelled for FlashSystem")


def pick_lun(arr, kind, group):
    used = {m["lun"] for m in arr["mappings"] if m["group"] == group}
    for n in range(0, 2048):
        if n not in used:
            return n
    return None


# ---- items (every value a string) ----

def fmt_capacity(size, raw):
    if raw:
        return str(size)
    return f"{size / (1 << 30):.2f}GB"


def vdisk_item(arr, v, raw):
    pool = arr["pools"][v["pool"]]
    many = len(v["copies"]) > 1
    return {"id": v["id"], "name": v["name"], "IO_group_id": "0", "IO_group_name": "io_grp0",
            "status": "online", "mdisk_grp_id": "many" if many else pool["id"],
            "mdisk_grp_name": "many" if many else v["pool"],
            "capacity": fmt_capacity(v["size"], raw), "type": "many" if many else "striped",
            "FC_id": "", "FC_name": "", "RC_id": "", "RC_name": "", "vdisk_UID": v["serial"],
            "fc_map_count": "0", "copy_count": str(len(v["copies"])), "fast_write_state": "empty",
            "se_copy_count": "0", "RC_change": "no", "compressed_copy_count": "0",
            "parent_mdisk_grp_id": pool["id"], "parent_mdisk_grp_name": v["pool"],
            "formatting": "no", "encrypt": "no", "volume_id": v["id"], "volume_name": v["name"],
            "function": "", "protocol": "scsi"}


def host_item(arr, h, detail):
    it = {"id": h["id"], "name": h["name"], "port_count": str(len(h["initiators"])),
          "iogrp_count": "4", "status": "online", "site_id": "", "site_name": "",
          "host_cluster_id": "", "host_cluster_name": "", "protocol": h["protocol"],
          "owner_id": "", "owner_name": "", "portset_id": "64", "portset_name": "portset64"}
    if detail:
        it["type"] = h["type"]
        it["mask"] = "1" * 64
        nodes = []
        for ini in h["initiators"]:
            if model.initiator_kind(ini) == "fc":
                nodes.append({"WWPN": ini, "node_logged_in_count": "2", "state": "active"})
            else:
                nodes.append({"iscsi_name": ini, "node_logged_in_count": "1", "state": "active"})
        it["nodes"] = nodes
    return it


def vdiskhostmap_item(arr, m):
    v, h = arr["volumes"][m["volume"]], arr["hosts"][m["group"]]
    return {"id": v["id"], "name": v["name"], "SCSI_id": str(m["lun"]), "host_id": h["id"],
            "host_name": h["name"], "vdisk_UID": v["serial"], "IO_group_id": "0",
            "IO_group_name": "io_grp0", "mapping_type": "private", "host_cluster_id": "",
            "host_cluster_name": "", "protocol": "scsi"}


def hostvdiskmap_item(arr, m):
    v, h = arr["volumes"][m["volume"]], arr["hosts"][m["group"]]
    return {"id": h["id"], "name": h["name"], "SCSI_id": str(m["lun"]), "vdisk_id": v["id"],
            "vdisk_name": v["name"], "vdisk_UID": v["serial"], "IO_group_id": "0",
            "IO_group_name": "io_grp0", "mapping_type": "private", "host_cluster_id": "",
            "host_cluster_name": "", "protocol": "scsi"}


def find(items, key, obj):
    """An object given by id or name, as the CLI takes it."""
    for it in items:
        if it["id"] == obj or it["name"] == obj:
            return it
    return None


def filter_list(body, items):
    fv = body.get("filtervalue")
    if fv is None:
        return items, None
    m = re.fullmatch(r"([A-Za-z_]+)=(.*)", str(fv))
    if not m:
        return None, cli_error("CMMVC5707E", "Required parameters are missing.", 400)
    key, pattern = m.groups()
    regex = re.escape(pattern).replace(r"\*", ".*")
    return [it for it in items if re.fullmatch(regex, str(it.get(key, "")), re.IGNORECASE)], None


NOT_FOUND = ("CMMVC5753E", "The specified object does not exist or is not a suitable candidate.")


def ls(body, items, obj, detail_of=None):
    if obj is not None:
        it = find(items, "id", obj)
        if it is None:
            return cli_error(*NOT_FOUND, status=500)
        return 200, {}, detail_of(it) if detail_of else it
    out, e = filter_list(body, items)
    return e or (200, {}, out)


# ---- commands ----

def c_lssystem(req, arr, body, obj):
    return 200, {}, {"id": arr["system_id"], "name": arr["system_name"],
                     "code_level": arr["code_level"], "product_name": arr["product_name"],
                     "vdisk_protection_time": arr["vdisk_protection_time"],
                     "vdisk_protection_enabled": arr["vdisk_protection_enabled"],
                     "time_zone": "522 UTC"}


def c_lsvdisk(req, arr, body, obj):
    raw = body.get("bytes") is True
    vols = [vdisk_item(arr, v, raw) for v in sorted(arr["volumes"].values(),
                                                    key=lambda v: int(v["id"]))]
    return ls(body, vols, obj)


def c_lsvdiskcopy(req, arr, body, obj):
    v = find(list(arr["volumes"].values()), "id", obj or "")
    if v is None:
        return cli_error(*NOT_FOUND, status=500)
    return 200, {}, [{"vdisk_id": v["id"], "vdisk_name": v["name"], "copy_id": str(i),
                      "status": "online", "sync": "yes", "primary": "yes" if i == 0 else "no",
                      "mdisk_grp_id": arr["pools"][p]["id"], "mdisk_grp_name": p}
                     for i, p in enumerate(v["copies"])]


def c_lsmdiskgrp(req, arr, body, obj):
    pools = [{"id": p["id"], "name": n, "status": "online",
              "vdisk_protection_enabled": p.get("vdisk_protection_enabled", "yes"),
              "vdisk_protection_status": "active" if p.get("vdisk_protection_enabled", "yes") ==
              "yes" and arr["vdisk_protection_enabled"] == "yes" else "inactive"}
             for n, p in sorted(arr["pools"].items())]
    return ls(body, pools, obj)


def c_lshost(req, arr, body, obj):
    hosts = sorted(arr["hosts"].values(), key=lambda h: int(h["id"]))
    if obj is not None:
        h = find(hosts, "id", obj)
        return (200, {}, host_item(arr, h, True)) if h else cli_error(*NOT_FOUND, status=500)
    return ls(body, [host_item(arr, h, False) for h in hosts], None)


def port_owner(arr, value):
    kind = model.initiator_kind(value)
    for h in arr["hosts"].values():
        for ini in h["initiators"]:
            if kind == "fc" and model.wwn_hex(ini) == model.wwn_hex(value):
                return h
            if kind != "fc" and ini.lower() == value.lower():
                return h
    return None


def ports_of(body):
    """The ports a mkhost / addhostport body names, or an error tuple."""
    fc = [p for p in str(body.get("fcwwpn") or "").split(":") if p]
    iscsi = [p for p in str(body.get("iscsiname") or "").split(",") if p]
    if fc and iscsi:
        return None, cli_error("CMMVC5709E", "[-fcwwpn] and [-iscsiname] cannot be combined.",
                               400)
    for w in fc:
        if not re.fullmatch(r"[0-9A-Fa-f]{16}", w):
            return None, cli_error("CMMVC5867E", "The action failed because the worldwide port"
                                   " name is not valid.")
    for n in iscsi:
        if model.initiator_kind(n) != "iscsi":
            return None, cli_error("CMMVC6578E", "The command has failed because the iSCSI name"
                                   " is already assigned or is not valid.")
    return [w.upper() for w in fc] + iscsi, None


def allowed(protocol, port):
    kind = model.initiator_kind(port)
    return protocol == "scsi" or (protocol == "fcscsi" and kind == "fc") or \
        (protocol == "iscsi" and kind == "iscsi")


def add_ports(arr, h, ports):
    for p in ports:
        owner = port_owner(arr, p)
        if owner is not None:
            return cli_error("CMMVC6581E", f"The command has failed because the port {p} is"
                             f" already assigned to host {owner['name']}.")
        if not allowed(h["protocol"], p):
            return cli_error("CMMVC5709E", f"The port {p} does not match the host protocol"
                             f" {h['protocol']}.", 400)
    h["initiators"].extend(ports)
    return None


def c_mkhost(req, arr, body, obj):
    name = body.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]{0,62}", name):
        return cli_error("CMMVC5754E", "The specified object does not exist, or the name"
                         " supplied does not meet the naming rules.", 400)
    if name in arr["hosts"]:
        return cli_error("CMMVC6035E", "The action failed as the object already exists.")
    protocol = body.get("protocol", "fcscsi")
    if protocol not in ("fcscsi", "iscsi", "scsi"):
        return cli_error("CMMVC5709E", f"[{protocol}] is not a supported parameter.", 400)
    ports, e = ports_of(body)
    if e:
        return e
    h = {"name": name, "id": next_id(arr), "initiators": [], "protocol": protocol,
         "type": body.get("type", "generic"), "host_group": None}
    arr["hosts"][name] = h
    e = add_ports(arr, h, ports)
    if e:
        del arr["hosts"][name]
        return e
    return 200, {}, {"id": h["id"], "message": f"Host, id [{h['id']}], successfully created"}


def host_arg(arr, text):
    return find(list(arr["hosts"].values()), "id", text or "")


def c_addhostport(req, arr, body, obj):
    h = host_arg(arr, obj)
    if h is None:
        return cli_error("CMMVC5754E", "The specified object does not exist, or the name"
                         " supplied does not meet the naming rules.")
    ports, e = ports_of(body)
    if e:
        return e
    return add_ports(arr, h, ports) or (200, {}, b"")


def c_lsvdiskhostmap(req, arr, body, obj):
    v = find(list(arr["volumes"].values()), "id", obj or "")
    if v is None:
        return cli_error(*NOT_FOUND, status=500)
    return 200, {}, [vdiskhostmap_item(arr, m) for m in arr["mappings"] if m["volume"] == v["id"]]


def c_lshostvdiskmap(req, arr, body, obj):
    h = host_arg(arr, obj)
    if h is None:
        return cli_error(*NOT_FOUND, status=500)
    return 200, {}, [hostvdiskmap_item(arr, m) for m in arr["mappings"] if m["group"] == h["name"]]


def c_mkvdiskhostmap(req, arr, body, obj):
    v = find(list(arr["volumes"].values()), "id", obj or "")
    h = host_arg(arr, body.get("host"))
    if v is None or h is None:
        return cli_error("CMMVC5754E", "The specified object does not exist, or the name"
                         " supplied does not meet the naming rules.")
    mine = [m for m in arr["mappings"] if m["volume"] == v["id"]]
    if any(m["group"] == h["name"] for m in mine):
        return cli_error("CMMVC5878E", "The virtual disk (VDisk)-to-host mapping was not created"
                         " because the VDisk is already mapped to this host.")
    if mine and body.get("force") is not True:
        return cli_error("CMMVC6071E", "The VDisk-to-host mapping was not created because the"
                         " VDisk is already mapped to a host.")
    scsi = body.get("scsi")
    if scsi is None:
        lun = pick_lun(arr, "host", h["name"])
    else:
        try:
            lun = int(scsi)
        except (TypeError, ValueError):
            return cli_error("CMMVC5709E", "[-scsi] is not valid.", 400)
        if any(m["group"] == h["name"] and m["lun"] == lun for m in arr["mappings"]):
            return cli_error("CMMVC5879E", "The VDisk-to-host mapping was not created because a"
                             " VDisk is already mapped to this host with this SCSI LUN.")
    arr["next_map"] += 1
    arr["mappings"].append({"volume": v["id"], "kind": "host", "group": h["name"], "lun": lun})
    mid = str(arr["next_map"])
    return 200, {}, {"id": mid, "message": f"Virtual Disk to Host map, id [{mid}], successfully"
                                           " created"}


def protected(arr, v):
    """Volume protection applies: system and the volume's pool(s) both enabled, and I/O
    within the protection time (the model's recent_io)."""
    if arr["vdisk_protection_enabled"] != "yes" or not v.get("recent_io"):
        return False
    return any(arr["pools"][p].get("vdisk_protection_enabled", "yes") == "yes" for p in v["copies"])


def c_rmvdiskhostmap(req, arr, body, obj):
    v = find(list(arr["volumes"].values()), "id", obj or "")
    h = host_arg(arr, body.get("host"))
    if v is None or h is None:
        return cli_error("CMMVC5754E", "The specified object does not exist, or the name"
                         " supplied does not meet the naming rules.")
    for m in arr["mappings"]:
        if m["volume"] == v["id"] and m["group"] == h["name"]:
            if protected(arr, v):
                return cli_error("CMMVC9999E", "The command failed because volume protection is"
                                 f" active and the volume has received I/O in the last"
                                 f" {arr['vdisk_protection_time']} minutes.")
            arr["mappings"].remove(m)
            return 200, {}, b""
    return cli_error("CMMVC5842E", "The action failed because an object that was specified in"
                     " the command does not exist.")


def c_rmhost(req, arr, body, obj):
    """rmhost <host>: the host and its ports. Refused while a volume is mapped to it
    unless -force (then the mappings go too); Cinder's SVC simulator answers the
    refusal with CMMVC5871E and an unknown host with CMMVC5753E, the codes used here.
    Assumption: the status is 409 like every failed command here (the facts file
    leaves the status of CLI failures UNCONFIRMED)."""
    h = host_arg(arr, obj)
    if h is None:
        return cli_error(*NOT_FOUND)
    mapped = [m for m in arr["mappings"] if m["group"] == h["name"]]
    if mapped and body.get("force") is not True:
        return cli_error("CMMVC5871E", "The action failed because one or more of the"
                         " configured port names is in a mapping.")
    for m in mapped:
        arr["mappings"].remove(m)
    del arr["hosts"][h["name"]]
    return 200, {}, b""


COMMANDS = {"lssystem": c_lssystem, "lsvdisk": c_lsvdisk, "lsvdiskcopy": c_lsvdiskcopy,
            "lsmdiskgrp": c_lsmdiskgrp, "lshost": c_lshost, "mkhost": c_mkhost,
            "addhostport": c_addhostport, "lsvdiskhostmap": c_lsvdiskhostmap,
            "lshostvdiskmap": c_lshostvdiskmap, "mkvdiskhostmap": c_mkvdiskhostmap,
            "rmvdiskhostmap": c_rmvdiskhostmap, "rmhost": c_rmhost}


def header_text(req, name):
    """A header as the client wrote it: http.server reads header bytes as Latin-1; the
    array is taken to read them as UTF-8, what Go's net/http (forklift) and libcurl send
    (UNCONFIRMED)."""
    v = req.header(name)
    if v is None:
        return None
    try:
        return v.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return v


def h_auth(req, arr):
    user, password = header_text(req, "X-Auth-Username"), header_text(req, "X-Auth-Password")
    if user is None or user not in arr["users"] or arr["users"][user] != password:
        return fail(403, "Authentication failed: check the user name and password.")
    # one valid token per user: a new one invalidates the previous
    for tok in [t for t, s in arr["tokens"].items() if s["user"] == user]:
        del arr["tokens"][tok]
    token = secrets.token_hex(16)
    arr["tokens"][token] = {"user": user, "issued": time.time()}
    return 200, {}, {"token": token}


def token_ok(req, arr):
    s = arr["tokens"].get(req.header("X-Auth-Token") or "")
    if s is None:
        return False
    if time.time() - s["issued"] > arr["token_seconds"]:
        del arr["tokens"][req.header("X-Auth-Token")]
        return False
    return True


def handle(req, arr, st):
    prefix = "/rest/v1/" if arr.get("rest_v1", True) else "/rest/"
    if not req.path.startswith(prefix) or (prefix == "/rest/" and req.path.startswith("/rest/v1/")):
        return fail(404, "Not found")
    if req.method != "POST":
        return fail(405, "Only POST is supported.")
    parts = req.path[len(prefix):].split("/", 1)
    cmd, obj = parts[0], (parts[1] if len(parts) > 1 and parts[1] else None)
    if cmd == "auth":
        return h_auth(req, arr)
    if not token_ok(req, arr):
        return fail(403, "The token is not valid or has expired.")
    fn = COMMANDS.get(cmd)
    if fn is None:
        return fail(404, f"CMMVC5707E Unknown command {cmd}.")
    body = req.json if isinstance(req.json, dict) else {}
    if req.body and not isinstance(req.json, dict):
        return cli_error("CMMVC5707E", "The request body is not a JSON object.", 400)
    return fn(req, arr, body, obj)


def expire_sessions(arr):
    arr["tokens"].clear()
    return True
