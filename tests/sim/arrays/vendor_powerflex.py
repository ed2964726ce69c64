"""Dell PowerFlex (ScaleIO / VxFlex OS) personality: the REST gateway under /api.

Login (GET /api/login with Basic user:password → a quoted token; then the token as the
Basic password, or as a Bearer token from API 4.0), the URI scheme
(/api/types/<Type>/instances, /api/instances/<Type>::<id>[/relationships/<Type>|
/action/<action>]), SDCs identified by GUID, volume mappings with access mode and limits,
and the error body {"message", "httpStatusCode", "errorCode"} follow
/work/shared/array-apis/dell-powerflex.md (goscaleio, PyPowerFlex, csi-powerflex,
os-brick, forklift). Where that file marks something UNCONFIRMED, the choice made here is
listed in README.md beside this file.

The shared model's "hosts" are the SDCs, keyed by SDC id, each holding its GUID as its
only initiator (the fabric presents a mapped volume to that GUID, which is what the ESXi
host simulator's scini adapter looks under); devices are eui.<system id><volume id>.
"""
import hashlib
import re
import secrets
import time

import model

VENDOR = "powerflex"
PRODUCT = "powerflex"
ARRAY_OPTIONS = ("api_version", "system_name", "restricted_sdc_mode", "token_ttl",
                 "version_name")

HEX16 = r"[0-9a-f]{16}"
ACCESS_MODES = ("ReadWrite", "ReadOnly", "NoAccess")
# MDM error codes (os-brick, Cinder's siolib) and texts (goscaleio's table; flocker
# quotes 306 from a real gateway)
E_NOT_FOUND = 3
E_VOLUME_NOT_FOUND = 79
E_ALREADY_MAPPED = 81
E_NOT_MAPPED = 84
E_SINGLE_MAPPING = 306
E_SIM = 0  # no public code known for the others


def err(status, code, message):
    return status, {}, {"message": message, "httpStatusCode": status, "errorCode": code}


def mdm_err(code, message):
    """An MDM refusal: the gateway answers them as 500 with the MDM's code."""
    return err(500, code, message)


def error_body(status, message):
    return {"message": message, "httpStatusCode": status, "errorCode": 0}


def short_hash(text, n):
    return hashlib.sha256(text.encode()).hexdigest()[:n]


# ---- seeding ----

def new_array(name, spec):
    return {"id": spec.get("system_id") or short_hash(name, 16),
            "api_version": spec.get("api_version", "4.5"),
            "system_name": spec.get("system_name", name),
            "version_name": spec.get("version_name", "DellEMC PowerFlex Version: R4_5.2100.0"),
            "restricted_sdc_mode": spec.get("restricted_sdc_mode", "None"),
            "token_ttl": spec.get("token_ttl"),
            "scsi_vendor": "EMC", "scsi_model": "ScaleIO",
            "install_id": short_hash(name + "install", 16), "pool_id": short_hash(name + "pool", 16),
            "users": {}, "sessions": {}, "next_volume": 1}


def seed_user(arr, spec):
    arr["users"][spec["name"]] = spec.get("password", "")


def seed_volume(arr, spec):
    vid = spec.get("id") or f"{short_hash(arr['name'] + 'vol', 8)}{arr['next_volume']:08x}"
    arr["next_volume"] += 1
    if not re.fullmatch(HEX16, vid):
        raise ValueError("a PowerFlex volume id is 16 lower-case hex digits")
    if len(spec["name"]) > 31:
        raise ValueError("a PowerFlex volume name is at most 31 characters")
    kb = max(1, -(-int(spec.get("size", 8 << 30)) // 1024))
    return {"id": vid, "name": spec["name"], "serial": vid, "naa": f"eui.{arr['id']}{vid}",
            "size": kb * 1024, "size_kb": kb, "created": int(time.time())}


def seed_host(arr, spec):
    """An SDC: {"id"?, "name"? (the SDC's name), "initiators": [GUID] or "guid",
    "os_type" (Esx), "approved", "ip"}."""
    guid = (spec.get("guid") or spec["initiators"][0]).upper()
    if model.initiator_kind(guid) != "sdc":
        raise ValueError("an SDC is identified by a GUID")
    sid = spec.get("id") or short_hash(guid, 16)
    arr["hosts"][sid] = {"name": sid, "initiators": [guid], "sdc_name": spec.get("sdc_name"),
                         "os_type": spec.get("os_type", "Esx"),
                         "approved": spec.get("approved", True),
                         "ip": spec.get("ip", f"10.0.0.{len(arr['hosts']) + 10}"),
                         "host_group": None}


def seed_host_group(arr, spec):
    raise ValueError("PowerFlex maps volumes to SDCs; it has no host groups")


def pick_lun(arr, kind, group):
    return None  # an SDC mapping has no LUN number


# ---- records ----

def links(kind, oid, rels=()):
    out = [{"rel": "self", "href": f"/api/instances/{kind}::{oid}"}]
    out.extend({"rel": f"/api/{kind}/relationship/{r}",
                "href": f"/api/instances/{kind}::{oid}/relationships/{r}"} for r in rels)
    return out


def system_record(arr):
    return {"id": arr["id"], "name": arr["system_name"], "systemVersionName": arr["version_name"],
            "installId": arr["install_id"],
            "mdmCluster": {"clusterState": "ClusteredNormal", "clusterMode": "ThreeNodes"},
            "mdmManagementPort": 6611, "perfProfile": "Default", "authenticationMethod": "Native",
            "restrictedSdcModeEnabled": arr["restricted_sdc_mode"] != "None",
            "restrictedSdcMode": arr["restricted_sdc_mode"], "upgradeState": "NoUpgrade",
            "links": links("System", arr["id"], ("Sdc", "ProtectionDomain"))}


def sdc_record(arr, h):
    return {"id": h["name"], "name": h["sdc_name"], "sdcGuid": h["initiators"][0],
            "sdcIp": h["ip"], "sdcIps": [h["ip"]], "sdcApproved": h["approved"],
            "osType": h["os_type"], "mdmConnectionState": "Connected", "perfProfile": "HighPerformance",
            "systemId": arr["id"], "onVmWare": h["os_type"] == "Esx",
            "installedSoftwareVersionInfo": "R4_5.2100.0",
            "links": links("Sdc", h["name"], ("Volume",)) +
            [{"rel": "/api/parent/relationship/systemId", "href": f"/api/instances/System::{arr['id']}"}]}


def mapping_info(arr, m):
    h = arr["hosts"].get(m["group"], {})
    return {"sdcId": m["group"], "sdcIp": h.get("ip"), "sdcName": h.get("sdc_name"),
            "limitIops": m.get("limit_iops", 0), "limitBwInMbps": m.get("limit_bw_mbps", 0),
            "accessMode": m.get("access_mode", "ReadWrite"), "isDirectBufferMapping": False}


def volume_record(arr, v):
    maps = [mapping_info(arr, m) for m in arr["mappings"] if m["volume"] == v["id"]]
    return {"id": v["id"], "name": v["name"], "sizeInKb": v["size_kb"],
            "storagePoolId": arr["pool_id"], "vtreeId": short_hash(v["id"], 16),
            "volumeType": "ThinProvisioned", "ancestorVolumeId": None, "consistencyGroupId": None,
            "creationTime": v["created"], "useRmcache": False, "isObfuscated": False,
            "mappingToAllSdcsEnabled": False, "mappedSdcInfo": maps,
            "links": links("Volume", v["id"], ("Sdc", "Statistics"))}


# ---- authentication ----

def version_tuple(text):
    m = re.match(r"(\d+)\.(\d+)", text)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def h_login(req, arr, st, m):
    auth = req.basic_auth()
    if auth is None or arr["users"].get(auth[0]) != auth[1] or auth[0] not in arr["users"]:
        return err(401, 0, "Unauthorized")
    token = secrets.token_urlsafe(24)
    ttl = arr.get("token_ttl")
    arr["sessions"][token] = {"user": auth[0], "expires": time.time() + ttl if ttl else None}
    return 200, {}, token


def session_token(req, arr):
    """The token of a request (Basic <any user>:<token>, or Bearer <token> from 4.0), or None."""
    h = req.header("Authorization") or ""
    if h.lower().startswith("bearer ") and version_tuple(arr["api_version"]) >= (4, 0):
        token = h[7:].strip()
    else:
        auth = req.basic_auth()
        token = auth[1] if auth else None
    s = arr["sessions"].get(token) if token else None
    if s is None or (s["expires"] is not None and s["expires"] < time.time()):
        return None
    return token


def h_logout(req, arr, st, m):
    arr["sessions"].pop(session_token(req, arr), None)
    return 200, {}, None


def h_version(req, arr, st, m):
    return 200, {}, arr["api_version"]


# ---- handlers ----

def check_system(arr, sid):
    if sid != arr["id"]:
        return mdm_err(E_NOT_FOUND, "Could not find the System")
    return None


def h_systems(req, arr, st, m):
    return 200, {}, [system_record(arr)]


def h_system(req, arr, st, m):
    return check_system(arr, m.group(1)) or (200, {}, system_record(arr))


def h_system_sdcs(req, arr, st, m):
    return check_system(arr, m.group(1)) or \
        (200, {}, [sdc_record(arr, h) for _, h in sorted(arr["hosts"].items())])


def h_sdc(req, arr, st, m):
    h = arr["hosts"].get(m.group(1))
    if h is None:
        return mdm_err(E_SIM, "Could not find the SDC")
    return 200, {}, sdc_record(arr, h)


def sdc_by_guid(arr, guid):
    for h in arr["hosts"].values():
        if h["initiators"][0].upper() == (guid or "").upper():
            return h
    return None


def h_approve(req, arr, st, m):
    e = check_system(arr, m.group(1))
    if e:
        return e
    h = sdc_by_guid(arr, (req.json or {}).get("sdcGuid"))
    if h is None:
        return mdm_err(E_SIM, "Could not find the SDC")
    h["approved"] = True
    return 200, {}, {}


def h_volumes(req, arr, st, m):
    return 200, {}, [volume_record(arr, v) for _, v in sorted(arr["volumes"].items())]


def volume_or_error(arr, vid):
    if not re.fullmatch(r"[0-9a-fA-F]+", vid):
        return None, mdm_err(0, f"Volume id {vid} must be a hexadecimal number")
    v = arr["volumes"].get(vid.lower())
    if v is None:
        return None, mdm_err(E_VOLUME_NOT_FOUND, "Could not find the volume")
    return v, None


def h_volume(req, arr, st, m):
    v, e = volume_or_error(arr, m.group(1))
    return e or (200, {}, volume_record(arr, v))


def h_query_id(req, arr, st, m):
    name = (req.json or {}).get("name")
    for v in arr["volumes"].values():
        if v["name"] == name:
            return 200, {}, v["id"]
    return mdm_err(E_NOT_FOUND, "Not found")


def true_string(value):
    """String booleans come as TRUE, True and true from different clients."""
    return str(value).lower() == "true"


def target_sdc(arr, body, allow_all):
    """The SDC a map/unmap body names: exactly one of sdcId, guid (or allSdcs)."""
    given = [k for k in ("sdcId", "guid", "allSdcs") if k in body and (allow_all or k != "allSdcs")]
    if len(given) != 1:
        return None, mdm_err(0, "Exactly one of sdcId, guid" + (", allSdcs" if allow_all else "") +
                             " must be given")
    if given[0] == "allSdcs":
        return "*", None
    h = arr["hosts"].get(body["sdcId"]) if given[0] == "sdcId" else sdc_by_guid(arr, body["guid"])
    if h is None:
        return None, mdm_err(E_SIM, "Could not find the SDC")
    return h, None


def mappings_of(arr, vid):
    return [mp for mp in arr["mappings"] if mp["volume"] == vid]


def h_add_mapped(req, arr, st, m):
    v, e = volume_or_error(arr, m.group(1))
    if e:
        return e
    body = req.json or {}
    h, e = target_sdc(arr, body, False)
    if e:
        return e
    mode = body.get("accessMode", "ReadWrite")
    if mode not in ACCESS_MODES:
        return mdm_err(0, f"Invalid access mode {mode}")
    if arr["restricted_sdc_mode"] != "None" and not h["approved"]:
        return mdm_err(E_SIM, "The SDC is not approved")
    current = mappings_of(arr, v["id"])
    if any(mp["group"] == h["name"] for mp in current):
        return mdm_err(E_ALREADY_MAPPED, "The volume is already mapped to this SDC")
    if current and not true_string(body.get("allowMultipleMappings", "FALSE")):
        return mdm_err(E_SINGLE_MAPPING, "Only a single SDC may be mapped to this volume at a time")
    arr["mappings"].append({"volume": v["id"], "kind": "host", "group": h["name"], "lun": None,
                            "access_mode": mode, "limit_iops": 0, "limit_bw_mbps": 0})
    return 200, {}, {}


def h_remove_mapped(req, arr, st, m):
    v, e = volume_or_error(arr, m.group(1))
    if e:
        return e
    h, e = target_sdc(arr, req.json or {}, True)
    if e:
        return e
    mine = [mp for mp in mappings_of(arr, v["id"]) if h == "*" or mp["group"] == h["name"]]
    if not mine:
        return mdm_err(E_NOT_MAPPED, "The volume is not mapped to SDC")
    for mp in mine:
        arr["mappings"].remove(mp)
    return 200, {}, {}


def h_set_limits(req, arr, st, m):
    v, e = volume_or_error(arr, m.group(1))
    if e:
        return e
    body = req.json or {}
    h, e = target_sdc(arr, body, False)
    if e:
        return e
    mine = [mp for mp in mappings_of(arr, v["id"]) if mp["group"] == h["name"]]
    if not mine:
        return mdm_err(E_NOT_MAPPED, "The volume is not mapped to SDC")
    try:
        if "iopsLimit" in body:
            mine[0]["limit_iops"] = int(body["iopsLimit"])
        if "bandwidthLimitInKbps" in body:
            mine[0]["limit_bw_mbps"] = int(body["bandwidthLimitInKbps"]) // 1024
    except ValueError:
        return mdm_err(0, "Invalid limit")
    return 200, {}, {}


ID = r"([^/]+)"
ROUTES = [
    ("GET", r"/api/version", h_version),
    ("GET", r"/api/logout", h_logout),
    ("GET", r"/api/types/System/instances", h_systems),
    ("GET", r"/api/instances/System::" + ID, h_system),
    ("GET", r"/api/instances/System::" + ID + r"/relationships/Sdc", h_system_sdcs),
    ("POST", r"/api/instances/System::" + ID + r"/action/approveSdc", h_approve),
    ("GET", r"/api/types/Sdc/instances", lambda req, arr, st, m: (
        200, {}, [sdc_record(arr, h) for _, h in sorted(arr["hosts"].items())])),
    ("GET", r"/api/instances/Sdc::" + ID, h_sdc),
    ("GET", r"/api/types/Volume/instances", h_volumes),
    ("POST", r"/api/types/Volume/instances/action/queryIdByKey", h_query_id),
    ("GET", r"/api/instances/Volume::" + ID, h_volume),
    ("POST", r"/api/instances/Volume::" + ID + r"/action/addMappedSdc", h_add_mapped),
    ("POST", r"/api/instances/Volume::" + ID + r"/action/removeMappedSdc", h_remove_mapped),
    ("POST", r"/api/instances/Volume::" + ID + r"/action/setMappedSdcLimits", h_set_limits),
]


def handle(req, arr, st):
    if req.path == "/api/login" and req.method == "GET":
        return h_login(req, arr, st, None)
    if session_token(req, arr) is None:
        return err(401, 0, "Unauthorized")
    path_matched = False
    for method, pattern, fn in ROUTES:
        m = re.fullmatch(pattern, req.path)
        if not m:
            continue
        path_matched = True
        if method == req.method:
            return fn(req, arr, st, m)
    if path_matched:
        return err(405, 0, "Method not allowed")
    return err(404, 0, "Not found")


def expire_sessions(arr):
    arr["sessions"] = {}
    return True
