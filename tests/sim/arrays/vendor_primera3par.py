"""HPE 3PAR / Primera / Alletra 9000 personality: the Web Services API (WSAPI, /api/v1).

Paths, members, status codes and error bodies follow /work/shared/array-apis/
hpe-primera3par.md (HP 3PAR WSAPI 1.2 / 1.3.1 Developer's Guides, python-3parclient,
HPE CSI docs, forklift); the choices made where that file says [unconfirmed] are
listed in README.md beside this file.

What makes this array different from the others, and is modelled:
- session keys from POST /api/v1/credentials, sent as X-HP3PAR-WSAPI-SessionKey;
  an invalid or expired key is 403 with code 6 (401 with "expired_status": 401);
  keys expire after 15 idle minutes and are dropped by DELETE /credentials/<key>;
- every answer carries "Connection: close" (the WSAPI does), so clients get a new
  TCP+TLS connection per request; volume and VLUN collections are sent chunked;
- no paging: collections are {"total", "members"};
- an initiator (FC WWN, iSCSI name) belongs to one host; a host is created with
  either FCWWNs or iSCSINames and completed with PUT pathOperation 1;
- VLUN templates (what clients create) are listed with "active": false, beside one
  active VLUN (per initiator the fabric presents) for hosts that have live paths;
  the same volume may be exported to the same host twice at two LUN numbers, so a
  client that resends a create after a lost answer makes a second export;
- VLUN queries (query="volumeName EQ x") only from build 30201292 (3.2.1 MU2).
"""
import re
import secrets
import time
import urllib.parse

import model

VENDOR = "primera3par"
PRODUCT = "primera3par"
ARRAY_OPTIONS = ("wsapi", "system_name", "model", "system_version", "serial_number",
                 "expired_status", "keep_alive", "wwn_bits", "session_idle_seconds",
                 "vlun_query")

MIB = 1 << 20
VLUN_QUERY_MIN_BUILD = 30201292         # python-3parclient: 3.2.1 MU2
PERSONA_VMWARE = 8                      # WSAPI numbering (the CLI calls it 11)
PERSONA_DEFAULT = 2                     # GENERIC_ALUA, the default since 3.1.3
VLUN_TYPE_HOST, VLUN_TYPE_MATCHED_SET, VLUN_TYPE_HOST_SET = 3, 4, 5
NAME31 = re.compile(r"^[A-Za-z0-9_.\-]{1,31}$")
NAME27 = re.compile(r"^[A-Za-z0-9_.\-]{1,27}$")
WWN16 = re.compile(r"^[0-9A-Fa-f]{16}$")

# Error codes: WSAPI 1.3.1 tables 5/6 where listed there, else python-3parclient's
# mock server (README.md says which).
INT_SERV_ERR, INV_USER_PASS, INV_SESS_KEY, URI_RES_NOT_FOUND, UNSUP_OP = 1, 5, 6, 11, 9
INV_INPUT, EXISTENT_HOST, NON_EXISTENT_HOST, EXISTENT_LUN, NON_EXISTENT_VLUN = 12, 16, 17, 18, 19
NON_EXISTENT_VOL, TOO_LARGE, INV_INPUT_WRONG_TYPE, INV_INPUT_MISSING_REQUIRED = 23, 28, 39, 40
INV_INPUT_PARAM_CONFLICT, INV_INPUT_BAD_ENUM_VALUE, INV_INPUT_EXCEEDS_LENGTH = 44, 46, 57
INV_INPUT_ILLEGAL_CHAR, EXISTENT_PATH, NON_EXISTENT_SET, INV_INPUT_ONE_REQUIRED = 69, 73, 77, 78
NON_EXISTENT_PATH, INV_INPUT_DUP_PATH, INV_INPUT_PORT_SPECIFICATION = 80, 98, 55
# Named in the guide without a number: the numbers are this simulator's choice.
INV_INPUT_MATCHED_HOSTSET, AUTO_LUN_ID_UNAVAILABLE, HOST_IN_SET = 12, 130, 131
EXPORTED_VLUN = 26                      # guide table 6


def err(status, code, desc, ref=None):
    body = {"code": code, "desc": desc}
    if ref:
        body["ref"] = ref
    return status, {}, body


def error_body(status, message):
    """An injected error as the WSAPI would write it."""
    if status in (401, 403):
        return {"code": INV_SESS_KEY, "desc": message}
    return {"code": INT_SERV_ERR if status >= 500 else INV_INPUT, "desc": message}


# ---- seeding ----

def new_array(name, spec):
    return {"wsapi": dict(spec.get("wsapi", {"major": 1, "minor": 10, "build": 40500021})),
            "system_name": spec.get("system_name", name),
            "model": spec.get("model", "HPE Primera 630"),
            "system_version": spec.get("system_version", "4.5.21"),
            "system_id": spec.get("system_id", 10000 + secrets.randbelow(80000)),
            "serial_number": spec.get("serial_number", "CZ" + secrets.token_hex(4).upper()),
            "expired_status": spec.get("expired_status", 403),
            "keep_alive": bool(spec.get("keep_alive", False)),
            "wwn_bits": spec.get("wwn_bits", 128),
            "session_idle_seconds": spec.get("session_idle_seconds", 900),
            "vlun_query": bool(spec.get("vlun_query", True)),
            "scsi_vendor": "3PARdata", "scsi_model": "VV",
            "users": {}, "sessions": {}, "next_id": {"vv": 0, "host": 0, "set": 0}}


def next_id(arr, kind):
    n = arr["next_id"][kind]
    arr["next_id"][kind] = n + 1
    return n


def volume_wwn(arr, vv_id):
    """The WWN the array gives a VV: NAA 6 with 3PAR's IEEE id 0002AC, then the VV id
    and the system id (the layout the public samples show); NAA 5 on old arrays."""
    if arr["wwn_bits"] == 64:
        return f"50002AC{arr['system_id'] & 0xFFFFF:05X}{vv_id & 0xFFFF:04X}"
    return f"60002AC000000000{vv_id:08X}{arr['system_id']:08X}"


def seed_user(arr, spec):
    arr["users"][spec["name"]] = spec.get("password", "")


def seed_volume(arr, spec):
    name = spec["name"]
    if not NAME31.match(name):
        raise ValueError("a 3PAR volume name is 1-31 letters, digits, '.', '-' or '_'")
    size = int(spec.get("size", 1 << 30))
    if size <= 0 or size % MIB:
        raise ValueError("a 3PAR volume size is a whole number of MiB")
    vv_id = spec["vv_id"] if "vv_id" in spec else next_id(arr, "vv")
    wwn = (spec.get("wwn") or volume_wwn(arr, vv_id)).upper()
    if not re.fullmatch(r"[0-9A-F]{32}|5[0-9A-F]{15}", wwn):
        raise ValueError("a volume WWN is 32 hex digits (NAA 6) or 16 starting with 5 (NAA 5)")
    return {"id": str(vv_id), "vv_id": vv_id, "name": name, "serial": wwn, "wwn": wwn,
            "naa": "naa." + wwn.lower(), "size": size, "uuid": model.new_uuid(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())}


def stored_initiator(text):
    """FC WWNs as 16 upper-case hex digits (the WSAPI's form), iSCSI names as given."""
    if model.initiator_kind(text) == "fc":
        return model.split_fc(text)[1].upper()
    return text


def seed_host(arr, spec):
    arr["hosts"][spec["name"]] = {
        "name": spec["name"], "id": next_id(arr, "host"),
        "persona": spec.get("persona", PERSONA_VMWARE),
        "initiators": [stored_initiator(i) for i in spec.get("initiators", [])],
        "host_group": spec.get("host_group")}


def seed_host_group(arr, spec):
    arr["host_groups"][spec["name"]] = {"name": spec["name"], "id": next_id(arr, "set")}
    for h in spec.get("hosts", []):
        arr["hosts"][h]["host_group"] = spec["name"]


def luns_used(arr, hosts):
    """LUN numbers any of these hosts sees, through its own or its set's templates."""
    sets = {arr["hosts"][h].get("host_group") for h in hosts if h in arr["hosts"]} - {None}
    return {m["lun"] for m in arr["mappings"]
            if (m["kind"] == "host" and m["group"] in hosts) or
            (m["kind"] == "host_group" and m["group"] in sets)}


def target_hosts(arr, kind, group):
    if kind == "host":
        return [group]
    return [h for h, v in arr["hosts"].items() if v.get("host_group") == group]


def pick_lun(arr, kind, group, start=0, limit=16383):
    used = luns_used(arr, target_hosts(arr, kind, group))
    for n in range(start, limit + 1):
        if n not in used:
            return n
    return None


# ---- objects as the WSAPI shows them ----

def volume_obj(req, arr, v):
    return {"id": v["vv_id"], "name": v["name"], "uuid": v["uuid"], "wwn": v["wwn"],
            "sizeMiB": v["size"] // MIB, "provisioningType": 2, "copyType": 1, "state": 1,
            "baseId": v["vv_id"], "readOnly": False, "userCPG": "SSD_r6", "snapCPG": "SSD_r6",
            "creationTime8601": v["created"],
            "links": [{"href": f"https://{req.header('Host') or '127.0.0.1'}/api/v1/volumes/"
                               f"{urllib.parse.quote(v['name'])}", "rel": "self"}]}


def host_obj(st, h):
    fc, iscsi = [], []
    for i, ini in enumerate(h["initiators"]):
        if model.initiator_kind(ini) == "fc":
            path = {"wwn": ini}
            if model.fabric_id(st, ini) is not None:  # logged in: the array knows its port
                path.update({"portPos": {"node": i % 2, "slot": 2, "cardPort": 1},
                             "hostSpeed": 0})
            fc.append(path)
        else:
            iscsi.append({"name": ini, "IPAddr": "0.0.0.0", "hostSpeed": 0})
    return {"id": h["id"], "name": h["name"], "persona": h["persona"],
            "descriptors": {"os": "VMware ESXi"} if h["persona"] == PERSONA_VMWARE else {},
            "FCPaths": fc, "iSCSIPaths": iscsi,
            "initiatorChapEnabled": False, "targetChapEnabled": False}


def hostname_of(m):
    return m["group"] if m["kind"] == "host" else "set:" + m["group"]


def vlun_objs(st, arr, m):
    """The template, then one active VLUN per presented initiator of its hosts."""
    vol = arr["volumes"][m["volume"]]
    base = {"lun": m["lun"], "volumeName": vol["name"], "volumeWWN": vol["wwn"],
            "multipathing": 1, "failedPathPol": 1, "failedPathInterval": 0}
    vtype = (VLUN_TYPE_HOST_SET if m["kind"] == "host_group" else
             VLUN_TYPE_MATCHED_SET if m.get("port") else VLUN_TYPE_HOST)
    template = dict(base, hostname=hostname_of(m), type=vtype, active=False)
    if m.get("port"):
        template["portPos"] = m["port"]
    out = [template]
    for host in target_hosts(arr, m["kind"], m["group"]):
        for i, ini in enumerate(arr["hosts"].get(host, {}).get("initiators", [])):
            if model.fabric_id(st, ini) is None:
                continue
            port = m.get("port") or {"node": i % 2, "slot": 2, "cardPort": 1}
            out.append(dict(base, hostname=host, remoteName=ini, portPos=port, type=vtype,
                            active=True))
    return out


def collection(members, chunked=False):
    headers = {"Transfer-Encoding": "chunked"} if chunked else {}
    return 200, headers, {"total": len(members), "members": members}


# ---- sessions ----

def h_api(req, arr, st, m):
    return 200, {}, dict(arr["wsapi"])


def h_login(req, arr, st, m):
    body = req.json
    if not isinstance(body, dict) or "user" not in body or "password" not in body:
        return err(400, INV_INPUT_MISSING_REQUIRED, "user and password are required")
    if arr["users"].get(body["user"]) != body["password"] or not body["user"]:
        return err(403, INV_USER_PASS, "invalid username or password")
    key = f"2-{secrets.token_hex(16)}-{secrets.token_hex(4)}"
    arr["sessions"][key] = {"user": body["user"], "last_used": time.time()}
    return 201, {"Location": f"/api/v1/credentials/{key}"}, {"key": key}


def h_logout(req, arr, st, m):
    arr["sessions"].pop(m.group(1), None)
    return 200, {}, None


def session_ok(req, arr):
    key = req.header("X-HP3PAR-WSAPI-SessionKey") or ""
    s = arr["sessions"].get(key)
    if s is None:
        return False
    if time.time() - s["last_used"] > arr["session_idle_seconds"]:
        del arr["sessions"][key]  # unused keys expire
        return False
    s["last_used"] = time.time()
    return True


def h_system(req, arr, st, m):
    return 200, {}, {"id": arr["system_id"], "name": arr["system_name"],
                     "systemVersion": arr["system_version"], "model": arr["model"],
                     "serialNumber": arr["serial_number"], "totalNodes": 2,
                     "masterNode": 0, "onlineNodes": [0, 1], "clusterNodes": [0, 1],
                     "IPv4Addr": "127.0.0.1", "timeZone": "UTC"}


# ---- volumes ----

def check_name(name, what, limit=31):
    if len(name) > limit:
        return err(400, INV_INPUT_EXCEEDS_LENGTH, f"{what} name is longer than {limit}", "name")
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        return err(400, INV_INPUT_ILLEGAL_CHAR, f"invalid character in {what} name", "name")
    return None


def find_volume(arr, name):
    for v in arr["volumes"].values():
        if v["name"] == name:
            return v
    return None


def h_volumes(req, arr, st, m):
    if req.q("query") is not None:
        return err(400, INV_INPUT, "invalid query string (not simulated for volumes)")
    vols = sorted(arr["volumes"].values(), key=lambda v: v["vv_id"])
    return collection([volume_obj(req, arr, v) for v in vols], chunked=True)


def h_volume(req, arr, st, m):
    name = m.group(1)
    e = check_name(name, "volume")
    if e:
        return e
    v = find_volume(arr, name)
    if v is None:
        return err(404, NON_EXISTENT_VOL, "volume does not exist")
    return 200, {}, volume_obj(req, arr, v)


# ---- hosts and host sets ----

def path_owner(arr, stored):
    for h in arr["hosts"].values():
        for ini in h["initiators"]:
            if ini.lower() == stored.lower():
                return h["name"]
    return None


def parse_paths(body):
    """(stored initiators, kind) from FCWWNs / iSCSINames, or an error tuple as kind."""
    fc, iscsi = body.get("FCWWNs"), body.get("iSCSINames")
    if fc and iscsi:
        return None, err(400, INV_INPUT_PARAM_CONFLICT, "FCWWNs and iSCSINames are exclusive")
    values = fc or iscsi or []
    if not isinstance(values, list):
        return None, err(400, INV_INPUT_WRONG_TYPE, "a list is expected")
    out = []
    for v in values:
        if fc and (not isinstance(v, str) or not WWN16.match(v)):
            return None, err(400, INV_INPUT_WRONG_TYPE, "a WWN is 16 hex digits", "FCWWNs")
        if iscsi and (not isinstance(v, str) or model.initiator_kind(v) != "iscsi"):
            return None, err(400, INV_INPUT, "invalid iSCSI name", "iSCSINames")
        out.append(v.upper() if fc else v)
    if len(set(o.lower() for o in out)) != len(out):
        return None, err(400, INV_INPUT_DUP_PATH, "duplicate path in the request")
    return out, None


def h_hosts(req, arr, st, m):
    if req.q("query") is not None:
        return err(400, INV_INPUT, "invalid query string (not simulated for hosts)")
    return collection([host_obj(st, h) for _, h in sorted(arr["hosts"].items(),
                                                          key=lambda kv: kv[1]["id"])])


def h_host(req, arr, st, m):
    h = arr["hosts"].get(m.group(1))
    if h is None:
        return err(404, NON_EXISTENT_HOST, "host does not exist")
    return 200, {}, host_obj(st, h)


def h_post_host(req, arr, st, m):
    body = req.json if isinstance(req.json, dict) else {}
    name = body.get("name")
    if not isinstance(name, str) or not name:
        return err(400, INV_INPUT_MISSING_REQUIRED, "name is required", "name")
    e = check_name(name, "host")
    if e:
        return e
    persona = body.get("persona", PERSONA_DEFAULT)
    if not isinstance(persona, int) or not 1 <= persona <= 11:
        return err(400, INV_INPUT_BAD_ENUM_VALUE, "invalid persona", "persona")
    if "NQN" in body:
        return err(400, INV_INPUT, "NVMe hosts are not simulated", "NQN")
    paths, e = parse_paths(body)
    if e:
        return e
    if name in arr["hosts"]:
        return err(409, EXISTENT_HOST, "host name is already used")
    for p in paths:
        if path_owner(arr, p) is not None:
            return err(409, EXISTENT_PATH, f"{p} is already used by host {path_owner(arr, p)}")
    arr["hosts"][name] = {"name": name, "id": next_id(arr, "host"), "persona": persona,
                          "initiators": paths, "host_group": None}
    return 201, {"Location": f"/api/v1/hosts/{urllib.parse.quote(name)}"}, None


def h_put_host(req, arr, st, m):
    h = arr["hosts"].get(m.group(1))
    if h is None:
        return err(404, NON_EXISTENT_HOST, "host does not exist")
    body = req.json if isinstance(req.json, dict) else {}
    op = body.get("pathOperation")
    has_paths = "FCWWNs" in body or "iSCSINames" in body
    if op is not None and any(k in body for k in ("newName", "persona", "chapOperation")):
        return err(400, INV_INPUT_PARAM_CONFLICT, "pathOperation excludes other changes")
    if has_paths and op not in (1, 2):
        return err(400, INV_INPUT_ONE_REQUIRED, "pathOperation is required with paths")
    paths, e = parse_paths(body)
    if e:
        return e
    if op == 1:
        for p in paths:
            owner = path_owner(arr, p)
            if owner is not None:
                return err(409, EXISTENT_PATH, f"{p} is already used by host {owner}")
        h["initiators"].extend(paths)
    elif op == 2:
        for p in paths:
            if path_owner(arr, p) != h["name"]:
                return err(400, NON_EXISTENT_PATH, f"{p} is not a path of this host")
        h["initiators"] = [i for i in h["initiators"] if i.lower() not in
                           {p.lower() for p in paths}]
    if "persona" in body:
        h["persona"] = body["persona"]
    return 200, {"Location": f"/api/v1/hosts/{urllib.parse.quote(h['name'])}"}, None


def h_delete_host(req, arr, st, m):
    """DELETE /api/v1/hosts/<name>: 200; 404 NON_EXISTENT_HOST; 409 HOST_IN_SET for a set
    member (the guide). Assumptions: HOST_IN_SET's number (the guide gives none), and a
    host with a VLUN template of its own is refused with 409 EXPORTED_VLUN (code 26), as
    the guide answers for a host set with VLUNs and for a persona change while exported;
    the host delete lists no such answer, but the array never drops exports silently."""
    h = arr["hosts"].get(m.group(1))
    if h is None:
        return err(404, NON_EXISTENT_HOST, "host does not exist")
    if h.get("host_group"):
        return err(409, HOST_IN_SET, f"host is a member of host set {h['host_group']}")
    if any(mp["kind"] == "host" and mp["group"] == h["name"] for mp in arr["mappings"]):
        return err(409, EXPORTED_VLUN, "host has exported VLUNs")
    del arr["hosts"][h["name"]]
    return 200, {}, None


def set_obj(arr, s):
    members = sorted(h for h, v in arr["hosts"].items() if v.get("host_group") == s["name"])
    return {"id": s["id"], "name": s["name"], "setmembers": members}


def h_hostsets(req, arr, st, m):
    return collection([set_obj(arr, s) for _, s in sorted(arr["host_groups"].items())])


def h_hostset(req, arr, st, m):
    s = arr["host_groups"].get(m.group(1))
    if s is None:
        return err(404, NON_EXISTENT_SET, "host set does not exist")
    return 200, {}, set_obj(arr, s)


# ---- VLUNs ----

VLUN_QUERY = re.compile(r'^"\s*(volumeName|hostname)\s+(?:EQ|==)\s+(\S+)\s*"$')


def h_vluns(req, arr, st, m):
    members = []
    for mp in arr["mappings"]:
        if mp["volume"] in arr["volumes"]:
            members.extend(vlun_objs(st, arr, mp))
    query = req.q("query")
    if query is not None:
        q = VLUN_QUERY.match(query)
        if arr["wsapi"]["build"] < VLUN_QUERY_MIN_BUILD or not arr.get("vlun_query", True) or \
                q is None:
            return err(400, INV_INPUT, "invalid query string")
        members = [v for v in members if v.get(q.group(1)) == q.group(2)]
    return collection(members, chunked=True)


def resolve_target(arr, hostname):
    """(kind, group) for a VLUN hostname, or an error tuple as kind."""
    if hostname.startswith("set:"):
        name = hostname[4:]
        if name not in arr["host_groups"]:
            return None, err(404, NON_EXISTENT_SET, "host set does not exist")
        return ("host_group", name), None
    if hostname not in arr["hosts"]:
        return None, err(404, NON_EXISTENT_HOST, "host does not exist")
    return ("host", hostname), None


def h_post_vlun(req, arr, st, m):
    body = req.json if isinstance(req.json, dict) else {}
    if "volumeName" not in body or "lun" not in body:
        return err(400, INV_INPUT_MISSING_REQUIRED, "volumeName and lun are required")
    if not body.get("hostname"):
        return err(400, INV_INPUT_MISSING_REQUIRED, "hostname is required (port VLUNs are not"
                                                     " simulated)")
    lun = body["lun"]
    if not isinstance(lun, int) or lun < 0:
        return err(400, INV_INPUT_WRONG_TYPE, "invalid lun", "lun")
    if lun > 16383:
        return err(400, TOO_LARGE, "LUN is too large", "lun")
    vol = find_volume(arr, body["volumeName"])
    if vol is None:
        return err(404, NON_EXISTENT_VOL, "volume does not exist")
    target, e = resolve_target(arr, body["hostname"])
    if e:
        return e
    kind, group = target
    port = body.get("portPos")
    if port is not None and kind != "host":
        return err(400, INV_INPUT_MATCHED_HOSTSET, "a host set and a port cannot be combined")
    if body.get("autoLun"):
        limit = body.get("maxAutoLun") or 16383
        lun = pick_lun(arr, kind, group, start=lun, limit=limit)
        if lun is None:
            return err(409, AUTO_LUN_ID_UNAVAILABLE, "no LUN available in the range")
    elif lun in luns_used(arr, target_hosts(arr, kind, group)):
        return err(409, EXISTENT_LUN, "LUN is already used by this host")
    mapping = {"volume": vol["id"], "kind": kind, "group": group, "lun": lun}
    if port is not None:
        mapping["port"] = {k: int(port.get(k, 0)) for k in ("node", "slot", "cardPort")}
    arr["mappings"].append(mapping)
    loc = f"{vol['name']},{lun},{body['hostname']}"
    if port is not None:
        loc += ",{node}:{slot}:{cardPort}".format(**mapping["port"])
    return 201, {"Location": "/api/v1/vluns/" + urllib.parse.quote(loc, safe=",:")}, None


def parse_port(text):
    parts = text.split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    return {"node": int(parts[0]), "slot": int(parts[1]), "cardPort": int(parts[2])}


def h_delete_vlun(req, arr, st, m):
    parts = m.group(1).split(",")
    if len(parts) not in (3, 4) or not parts[0] or not parts[1].isdigit():
        return err(400, INV_INPUT_MISSING_REQUIRED, "<volume>,<lun>,<host>[,<n:s:p>] expected")
    vol_name, lun, hostname = parts[0], int(parts[1]), parts[2]
    port = parse_port(parts[3]) if len(parts) == 4 else None
    if len(parts) == 4 and port is None:
        return err(400, INV_INPUT_PORT_SPECIFICATION, "invalid port specification")
    if not hostname:
        return err(400, INV_INPUT_MISSING_REQUIRED, "port VLUNs are not simulated")
    target, e = resolve_target(arr, hostname)
    if e:
        return e
    vol = find_volume(arr, vol_name)
    for mp in arr["mappings"]:
        if vol is not None and mp["volume"] == vol["id"] and mp["lun"] == lun and \
                (mp["kind"], mp["group"]) == target and mp.get("port") == port:
            arr["mappings"].remove(mp)
            return 200, {}, None
    return err(404, NON_EXISTENT_VLUN, "VLUN does not exist")


V1 = r"/api/v1"
# (method, path regex, handler, needs a session key)
ROUTES = [
    ("GET", r"/api", h_api, False),
    ("POST", V1 + r"/credentials", h_login, False),
    ("DELETE", V1 + r"/credentials/([^/]+)", h_logout, False),
    ("GET", V1 + r"/system", h_system, True),
    ("GET", V1 + r"/volumes", h_volumes, True),
    ("GET", V1 + r"/volumes/(.+)", h_volume, True),
    ("GET", V1 + r"/hosts", h_hosts, True),
    ("POST", V1 + r"/hosts", h_post_host, True),
    ("GET", V1 + r"/hosts/(.+)", h_host, True),
    ("PUT", V1 + r"/hosts/(.+)", h_put_host, True),
    ("DELETE", V1 + r"/hosts/(.+)", h_delete_host, True),
    ("GET", V1 + r"/hostsets", h_hostsets, True),
    ("GET", V1 + r"/hostsets/(.+)", h_hostset, True),
    ("GET", V1 + r"/vluns", h_vluns, True),
    ("POST", V1 + r"/vluns", h_post_vlun, True),
    ("DELETE", V1 + r"/vluns/(.+)", h_delete_vlun, True),
]


def route(req, arr, st):
    known = False
    for method, pattern, fn, needs_session in ROUTES:
        m = re.fullmatch(pattern, req.path)
        if not m:
            continue
        known = True
        if method != req.method:
            continue
        if needs_session and not session_ok(req, arr):
            return err(arr["expired_status"], INV_SESS_KEY, "invalid session key")
        return fn(req, arr, st, m)
    if known:
        return err(405, UNSUP_OP, "unsupported operation")
    return err(404, URI_RES_NOT_FOUND, "URI resource not found")


def handle(req, arr, st):
    status, headers, body = route(req, arr, st)
    headers = dict(headers)
    headers.update({"Cache-Control": "no-cache", "Pragma": "no-cache"})
    if not arr.get("keep_alive"):
        headers["Connection"] = "close"
    return status, headers, body


def expire_sessions(arr):
    arr["sessions"].clear()
    return True
