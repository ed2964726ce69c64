"""Hitachi Vantara VSP personality: the REST API embedded in the array
(https://<array>/ConfigurationManager/v1/objects/...), as the Configuration Manager
REST API Reference Guide describes it.

Paths, fields, error bodies and the job life cycle follow /work/shared/array-apis/
hitachi-vantara.md (Hitachi's REST API Reference Guide MK-98RD9014, the Configuration
Manager guide, the Cinder Hitachi driver, Hitachi's Ansible collection, forklift);
the choices made where that file says UNCONFIRMED are listed in README.md beside
this file.

What makes this array different from the others, and is modelled:
- sessions: POST /v1/objects/sessions with HTTP Basic gives a token sent as
  "Authorization: Session <token>"; a session dies after aliveTime idle seconds
  (at most 300; the seed option session_alive_max shortens it), at most
  max_sessions (64) live at once, beyond that 503; DELETE discards one;
- host groups live on ports: "<portId>,<number>" ids ("CL1-A,1"), names unique per
  port, WWNs / iSCSI names registered per host group; an FC initiator presents
  LUNs only through ports it is logged in to (fabric_logins, or fc_logins per port);
- every write (host group, WWN, iSCSI name, LU path, deleting a host group) answers 202 with a job that
  completes job_ms later (lazily, at the next request to this array); its effect
  is applied only then, a client that does not wait sees nothing yet;
- LU paths: one LDEV at most once per host group, LUNs from 0, the path error
  (B958,015A) "already defined" and (B958,0947) "LUN in use";
- LDEV ids are decimal, naaId is 32 upper-case hex digits ending with the LDEV id.
"""
import re
import secrets
import time

import model

VENDOR = "vantara"
PRODUCT = "vantara"
ARRAY_OPTIONS = ("model", "serial_number", "model_code", "dkc_micro", "api_version",
                 "ports", "fc_logins", "iscsi_logins", "job_ms", "session_alive_max",
                 "max_sessions", "wwn_case", "naa_case", "storages_extra")
ROOT = "/ConfigurationManager"
OBJ = ROOT + "/v1/objects"

PORT_RE = re.compile(r"^CL[0-9A-F]{1,2}-[A-Z]{1,2}$")
NAME_RE = re.compile(r"^[A-Za-z0-9 !#$%&'()+\-.=@\[\]^_`{}~]+$")
WWN_RE = re.compile(r"^[0-9A-Fa-f]{16}$")
DEFAULT_PORTS = [
    {"portId": "CL1-A", "portType": "FIBRE", "wwn": "50060e8012273d00"},
    {"portId": "CL2-A", "portType": "FIBRE", "wwn": "50060e8012273d10"},
    {"portId": "CL1-B", "portType": "ISCSI", "ipv4Address": "192.0.2.11", "tcpPort": 3260},
    {"portId": "CL2-B", "portType": "ISCSI", "ipv4Address": "192.0.2.12", "tcpPort": 3260},
]
# hv-ansible NAIDCalculator: family mask OR'd with the serial (HM800 reduces it first)
HM800_MASK = 0x50400000


def err(status, message_id, message, ssb=None, code=None, source=None):
    body = {"errorSource": source or OBJ, "message": message,
            "solution": "Check the request.", "cause": message, "messageId": message_id}
    ec = {}
    if ssb:
        ec["SSB1"], ec["SSB2"] = ssb
    if code:
        ec["errorCode"] = code
    if ec:
        body["errorCode"] = ec
    return status, {}, body


def error_body(status, message):
    """An injected error as the REST server writes it; a 502/504 from the proxy in
    front of it is an HTML page (the guide warns error bodies may be HTML)."""
    if status in (502, 504):
        return b"<html><body><h1>Proxy Error</h1><p>" + message.encode() + b"</p></body></html>"
    if status == 503:
        return {"message": message, "messageId": "KART00003-E", "cause": message,
                "solution": "Wait a while, then retry."}
    return {"message": message, "messageId": "KART00000-E", "cause": message,
            "solution": "Check the request."}


def now_text():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# ---- seeding ----

def new_array(name, spec):
    serial = int(spec.get("serial_number", 400000 + secrets.randbelow(99999)))
    return {"model": spec.get("model", "VSP G900"), "serial_number": serial,
            "model_code": spec.get("model_code", "886000"),
            "dkc_micro": spec.get("dkc_micro", "88-08-10-60/00"),
            "api_version": spec.get("api_version", "1.9.0"),
            "ports": [dict(p) for p in spec.get("ports", DEFAULT_PORTS)],
            "fc_logins": spec.get("fc_logins"), "iscsi_logins": spec.get("iscsi_logins", {}),
            "job_ms": int(spec.get("job_ms", 150)),
            "session_alive_max": float(spec.get("session_alive_max", 300)),
            "max_sessions": int(spec.get("max_sessions", 64)),
            "wwn_case": spec.get("wwn_case", "lower"), "naa_case": spec.get("naa_case", "upper"),
            "storages_extra": spec.get("storages_extra", []),
            "scsi_vendor": "HITACHI", "scsi_model": "OPEN-V",
            "users": {}, "sessions": {}, "next_session": 1, "jobs": {}, "next_job": 1}


def seed_user(arr, spec):
    arr["users"][spec["name"]] = spec.get("password", "")


def naa_of(arr, ldev_id):
    wwn = next((p["wwn"] for p in arr["ports"] if p.get("wwn")), "50060e8000000000")
    port_part = int(wwn[-8:], 16) & 0xFFFFFF00
    serial_part = HM800_MASK | (arr["serial_number"] % 100000)
    return f"60060e80{port_part:08x}{serial_part:08x}0000{ldev_id:04x}"


def seed_volume(arr, spec):
    ldev = int(spec.get("id", spec.get("ldev", 0)) or 0)
    if ldev <= 0:
        ldev = 100 + len(arr["volumes"])
        while str(ldev) in arr["volumes"]:
            ldev += 1
    if not 0 <= ldev <= 65279:
        raise ValueError("an LDEV id is 0..65279")
    naa = naa_of(arr, ldev)
    return {"id": str(ldev), "ldev": ldev, "name": spec["name"], "serial": naa, "naa": "naa." + naa,
            "size": int(spec.get("size", 1 << 30)), "pool": int(spec.get("pool", 0))}


def store_wwn(arr, text):
    h = model.split_fc(text)[1] if text.lower().startswith("fc.") else model.wwn_hex(text)
    return h.upper() if arr.get("wwn_case") == "upper" else h


def port_of(arr, port_id):
    return next((p for p in arr["ports"] if p["portId"] == port_id), None)


def seed_host(arr, spec):
    """A host group: {"name", "port", "number", "initiators", "host_mode"}."""
    port = port_of(arr, spec["port"])
    if port is None:
        raise ValueError(f"no port {spec['port']}")
    number = int(spec.get("number", 0)) or free_number(arr, spec["port"])
    hg = new_host_group(arr, port, number, spec["name"], spec.get("host_mode", "VMWARE_EX"),
                        spec.get("host_mode_options", [54, 63]), spec.get("iscsi_name"))
    for ini in spec.get("initiators", []):
        if port["portType"] == "ISCSI":
            hg["initiators"].append(ini)
        else:
            hg["initiators"].append(store_wwn(arr, ini))


def seed_host_group(arr, spec):
    raise ValueError("Vantara host groups are per port: seed them as hosts with a port")


def pick_lun(arr, kind, group):
    used = {m["lun"] for m in arr["mappings"] if m["group"] == group}
    for n in range(0, 2048):
        if n not in used:
            return n
    return None


# ---- model helpers ----

def hg_id(port_id, number):
    return f"{port_id},{number}"


def free_number(arr, port_id):
    used = {h["hostGroupNumber"] for h in arr["hosts"].values() if h["portId"] == port_id}
    for n in range(1, 255):
        if n not in used:
            return n
    return None


def new_host_group(arr, port, number, name, mode, options, iscsi_name=None):
    hid = hg_id(port["portId"], number)
    hg = {"name": hid, "portId": port["portId"], "hostGroupNumber": number,
          "hostGroupName": name, "hostMode": mode, "hostModeOptions": list(options or []),
          "initiators": [], "host_group": None}
    if port["portType"] == "ISCSI":
        hg["iscsiName"] = iscsi_name or (
            f"iqn.1994-04.jp.co.hitachi:rsd.h8m.t.{arr['serial_number']:05d}."
            f"{port['portId'][2:].replace('-', '').lower()}{number:03x}")
    arr["hosts"][hid] = hg
    return hg


def hg_item(h, detail):
    it = {"hostGroupId": h["name"], "portId": h["portId"], "hostGroupNumber": h["hostGroupNumber"],
          "hostGroupName": h["hostGroupName"], "hostMode": h["hostMode"]}
    if detail:
        it["hostModeOptions"] = h["hostModeOptions"]
        if "iscsiName" in h:
            it["iscsiName"] = h["iscsiName"]
            it["authenticationMode"] = "NONE"
            it["iscsiTargetDirection"] = "S"
    return it


def ldev_item(arr, v):
    paths = [m for m in arr["mappings"] if m["volume"] == v["id"] and m["group"] in arr["hosts"]]
    naa = v["serial"].upper() if arr.get("naa_case") == "upper" else v["serial"].lower()
    it = {"ldevId": v["ldev"], "clprId": 0, "emulationType": "OPEN-V-CVS",
          "byteFormatCapacity": f"{v['size'] / (1 << 30):.2f} G",
          "blockCapacity": v["size"] // 512, "numOfPorts": len(paths),
          "attributes": ["CVS", "HDP"], "label": v["name"], "status": "NML",
          "mpBladeId": 0, "ssid": "0004", "poolId": v["pool"], "resourceGroupId": 0,
          "dataReductionMode": "disabled", "naaId": naa}
    if paths:
        it["ports"] = [{"portId": arr["hosts"][m["group"]]["portId"],
                        "hostGroupNumber": arr["hosts"][m["group"]]["hostGroupNumber"],
                        "hostGroupName": arr["hosts"][m["group"]]["hostGroupName"],
                        "lun": m["lun"]} for m in paths]
    return it


def lun_item(arr, m):
    h = arr["hosts"][m["group"]]
    return {"lunId": f"{m['group']},{m['lun']}", "portId": h["portId"],
            "hostGroupNumber": h["hostGroupNumber"], "hostMode": h["hostMode"], "lun": m["lun"],
            "ldevId": arr["volumes"][m["volume"]]["ldev"], "isCommandDevice": False}


def logged_in(arr, st, port):
    """Initiators logged in to a port: FC WWPNs of the fabric (or fc_logins), iSCSI
    names seeded in iscsi_logins plus those with a session through a target there."""
    if port["portType"] == "FIBRE":
        if arr.get("fc_logins") is not None:
            return [model.wwn_hex(w) for w in arr["fc_logins"].get(port["portId"], [])]
        return [model.split_fc(x)[1] for x in st.get("fabric_logins", [])]
    names = list(arr.get("iscsi_logins", {}).get(port["portId"], []))
    for h in arr["hosts"].values():
        if h["portId"] == port["portId"]:
            names.extend(i for i in h["initiators"] if i not in names)
    return names


def port_item(arr, st, p, logins):
    it = {"portId": p["portId"], "portType": p["portType"], "portAttributes": ["TAR"],
          "portSpeed": "AUT", "loopId": "EF", "fabricMode": True,
          "portConnection": "PtoP", "lunSecuritySetting": True}
    if p.get("wwn"):
        it["wwn"] = p["wwn"]
    for k in ("ipv4Address", "tcpPort"):
        if k in p:
            it[k] = p[k]
    if logins:
        out = []
        for ini in logged_in(arr, st, p):
            hg = next((h for h in arr["hosts"].values() if h["portId"] == p["portId"] and
                       any(i.lower() == ini.lower() for i in h["initiators"])), None)
            entry = {"isLogin": True}
            if p["portType"] == "FIBRE":
                entry["loginWwn"] = ini.upper() if arr.get("wwn_case") == "upper" else ini
            else:
                entry["loginIscsiName"] = ini
            if hg is not None:
                entry["hostGroupId"] = hg["name"]
            out.append(entry)
        it["logins"] = out
    return it


def storage_device_id(arr):
    """12 digits: the model code and the zero-padded serial (886000123456)."""
    return f"{arr['model_code']}{int(arr['serial_number']):06d}"


def storage_item(arr):
    return {"storageDeviceId": storage_device_id(arr), "model": arr["model"],
            "serialNumber": arr["serial_number"], "svpIp": "192.0.2.100",
            "ctl1Ip": "192.0.10.10", "ctl2Ip": "192.0.10.11",
            "dkcMicroVersion": arr["dkc_micro"], "isSecure": True, "usesSvp": True}


# ---- sessions ----

def live_sessions(arr):
    now = time.time()
    for tok in [t for t, s in arr["sessions"].items() if now - s["last"] > s["alive"]]:
        del arr["sessions"][tok]
    return arr["sessions"]


def session_of(req, arr):
    h = req.header("Authorization") or ""
    if not h.startswith("Session "):
        return None
    s = live_sessions(arr).get(h[8:].strip())
    if s is not None:
        s["last"] = time.time()
    return s


def unauthorized(realm="Session"):
    if realm == "Basic":
        status, headers, body = err(401, "KART40047-E", "User authentication failed.")
    else:
        status, headers, body = err(401, "KART40046-E", "The specified token is invalid.")
    return status, {"WWW-Authenticate": f'{realm} realm="Block storage"'}, body


# ---- jobs ----

def new_job(req, arr, action, user):
    jid = arr["next_job"]
    arr["next_job"] += 1
    job = {"jobId": jid, "self": f"{OBJ}/jobs/{jid}", "userId": user, "status": "Initializing",
           "state": "Queued", "createdTime": now_text(), "updatedTime": now_text(),
           "request": {"requestUrl": req.path, "requestMethod": req.method,
                       "requestBody": req.body.decode(errors="replace") if req.body else ""},
           "affectedResources": [], "due": time.time() + arr["job_ms"] / 1000.0,
           "action": action}
    arr["jobs"][str(jid)] = job
    return 202, {}, public_job(job)


def public_job(job):
    return {k: v for k, v in job.items() if k not in ("due", "action")}


JOBS_KEPT = 200  # completed jobs remembered (the array purges old ones too)


def run_due_jobs(arr):
    now = time.time()
    done = sorted((int(j) for j, job in arr["jobs"].items() if job["status"] == "Completed"))
    for jid in done[:-JOBS_KEPT]:
        del arr["jobs"][str(jid)]
    for jid in sorted(arr["jobs"], key=int):
        job = arr["jobs"][jid]
        if job["status"] == "Completed" or job["due"] > now:
            continue
        result = ACTIONS[job["action"]["op"]](arr, job["action"])
        job["status"], job["updatedTime"], job["completedTime"] = "Completed", now_text(), now_text()
        if isinstance(result, tuple):
            _, _, body = result
            job["state"] = "Failed"
            job["error"] = body
        else:
            job["state"] = "Succeeded"
            job["affectedResources"] = [result]


def act_add_host_group(arr, a):
    port = port_of(arr, a["portId"])
    if any(h["portId"] == a["portId"] and h["hostGroupName"] == a["name"]
           for h in arr["hosts"].values()):
        return err(409, "KART30003-E", "The specified host group name is already in use on"
                   " the port.", ssb=("B957", "4016"))
    number = a.get("number") or free_number(arr, a["portId"])
    if number is None or hg_id(a["portId"], number) in arr["hosts"]:
        return err(409, "KART30003-E", "No free host group number on the port.",
                   ssb=("B957", "4017"))
    new_host_group(arr, port, number, a["name"], a["mode"], a["options"], a.get("iscsiName"))
    return f"{OBJ}/host-groups/{hg_id(a['portId'], number)}"


def act_add_initiator(arr, a):
    hid = hg_id(a["portId"], a["number"])
    h = arr["hosts"].get(hid)
    if h is None:
        return err(404, "KART30013-E", "The specified object does not exist.",
                   code="EX_ENOOBJ")
    for other in arr["hosts"].values():
        if other["portId"] == a["portId"] and \
                any(i.lower() == a["value"].lower() for i in other["initiators"]):
            if other is h:
                return err(409, "KART30003-E", "The WWN or iSCSI name is already registered.",
                           ssb=("B957", "4085"))
            return err(409, "KART30003-E", "The WWN or iSCSI name is registered in another"
                       " host group of the port.", ssb=("B957", "4086"))
    h["initiators"].append(a["value"])
    kind = "host-iscsis" if a["kind"] == "iscsi" else "host-wwns"
    return f"{OBJ}/{kind}/{hid},{a['value']}"


def act_add_path(arr, a):
    hid = hg_id(a["portId"], a["number"])
    vol = arr["volumes"].get(str(a["ldevId"]))
    if hid not in arr["hosts"]:
        return err(404, "KART30013-E", "The specified host group does not exist.",
                   code="EX_ENOOBJ")
    if vol is None:
        return err(400, "KART30000-E", "The LDEV is not defined.", ssb=("B958", "0B2B"))
    if any(m["volume"] == vol["id"] and m["group"] == hid for m in arr["mappings"]):
        return err(409, "KART30000-E", "An LU path is already defined for the LDEV in the host"
                   " group.", ssb=("B958", "015A"))
    lun = a.get("lun")
    if lun is None:
        lun = pick_lun(arr, "host", hid)
    elif any(m["group"] == hid and m["lun"] == lun for m in arr["mappings"]):
        return err(409, "KART30000-E", "Another LDEV already uses the LUN in the host group.",
                   ssb=("B958", "0947"))
    arr["mappings"].append({"volume": vol["id"], "kind": "host", "group": hid, "lun": lun})
    return f"{OBJ}/luns/{hid},{lun}"


def act_delete_path(arr, a):
    for m in arr["mappings"]:
        if m["group"] == a["group"] and m["lun"] == a["lun"]:
            arr["mappings"].remove(m)
            return f"{OBJ}/luns/{a['group']},{a['lun']}"
    return err(404, "KART30013-E", "The specified object does not exist.", code="EX_ENOOBJ")


def act_delete_host_group(arr, a):
    """The host group goes with its WWNs / iSCSI names (Cinder deletes host groups this
    way). Assumptions (the facts file does not say): a host group with LU paths is
    refused, (B957,4012) "LU paths are defined", rather than deleted with its paths;
    a port's default host group (number 0) cannot be deleted, (B957,4010)."""
    h = arr["hosts"].get(a["group"])
    if h is None:
        return err(404, "KART30013-E", "The specified object does not exist.", code="EX_ENOOBJ")
    if h["hostGroupNumber"] == 0:
        return err(409, "KART30000-E", "The default host group of a port cannot be deleted.",
                   ssb=("B957", "4010"))
    if any(mp["group"] == a["group"] for mp in arr["mappings"]):
        return err(409, "KART30000-E", "LU paths are defined in the host group.",
                   ssb=("B957", "4012"))
    del arr["hosts"][a["group"]]
    return f"{OBJ}/host-groups/{a['group']}"


ACTIONS = {"add_host_group": act_add_host_group, "add_initiator": act_add_initiator,
           "add_path": act_add_path, "delete_path": act_delete_path,
           "delete_host_group": act_delete_host_group}


# ---- handlers ----

def as_int(v):
    """The guides type numbers as ints; forklift sends them as strings: both work."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str) and re.fullmatch(r"\d{1,6}", v):
        return int(v)
    return None


def parse_hg(text):
    m = re.fullmatch(r"(CL[0-9A-F]{1,2}-[A-Z]{1,2}),(\d{1,3})", text or "")
    return (m.group(1), int(m.group(2))) if m else (None, None)


def h_version(req, arr, st, m, s):
    return 200, {}, {"productName": "Configuration Manager REST API",
                     "apiVersion": arr["api_version"]}


def h_storages(req, arr, st, m, s):
    return 200, {}, {"data": [storage_item(arr)] + list(arr.get("storages_extra", []))}


def h_storage(req, arr, st, m, s):
    if m.group(1) not in ("instance", storage_device_id(arr)):
        return err(404, "KART30013-E", "The specified storage system does not exist.")
    return 200, {}, storage_item(arr)


def h_new_session(req, arr, st, m, s):
    auth = req.basic_auth()
    if auth is None or auth[0] not in arr["users"] or arr["users"][auth[0]] != auth[1]:
        return unauthorized("Basic")
    if len(live_sessions(arr)) >= arr["max_sessions"]:
        return err(503, "KART00006-E", "The maximum number of sessions has been reached.")
    alive = (req.json or {}).get("aliveTime", 300)
    if not isinstance(alive, int) or not 1 <= alive <= 300:
        return err(400, "KART30000-E", "aliveTime must be 1 to 300.")
    token = secrets.token_hex(16)
    sid = arr["next_session"]
    arr["next_session"] += 1
    arr["sessions"][token] = {"sessionId": sid, "user": auth[0], "last": time.time(),
                              "alive": min(float(alive), arr["session_alive_max"])}
    return 200, {}, {"token": token, "sessionId": sid}


def h_sessions(req, arr, st, m, s):
    return 200, {}, {"data": [{"sessionId": x["sessionId"], "userId": x["user"]}
                              for x in live_sessions(arr).values()]}


def h_delete_session(req, arr, st, m, s):
    for tok, x in list(arr["sessions"].items()):
        if str(x["sessionId"]) == m.group(1):
            del arr["sessions"][tok]
            return 200, {}, {"affectedResources": [f"{OBJ}/sessions/{m.group(1)}"]}
    return err(404, "KART30013-E", "The specified object does not exist.", code="EX_ENOOBJ")


def h_ldev(req, arr, st, m, s):
    if not re.fullmatch(r"\d{1,5}", m.group(1)) or int(m.group(1)) > 65279:
        return err(400, "KART30000-E", "The LDEV number is invalid.")
    v = arr["volumes"].get(str(int(m.group(1))))
    if v is None:
        # an undefined LDEV is answered, not refused (Cinder reads emulationType)
        return 200, {}, {"ldevId": int(m.group(1)), "emulationType": "NOT DEFINED",
                         "numOfPorts": 0, "status": "NML"}
    return 200, {}, ldev_item(arr, v)


def h_ports(req, arr, st, m, s):
    logins = req.q("detailInfoType") == "logins"
    ports = [p for p in arr["ports"]
             if req.q("portType") in (None, p["portType"])]
    return 200, {}, {"data": [port_item(arr, st, p, logins) for p in ports]}


def h_port(req, arr, st, m, s):
    p = port_of(arr, m.group(1))
    if p is None:
        return err(404, "KART30013-E", "The specified object does not exist.", code="EX_ENOOBJ")
    return 200, {}, port_item(arr, st, p, req.q("detailInfoType") == "logins")


def h_host_groups(req, arr, st, m, s):
    port = req.q("portId")
    if port is not None and port_of(arr, port) is None:
        return err(400, "KART30000-E", "The specified port does not exist.")
    items = [hg_item(h, port is not None) for h in sorted(
        arr["hosts"].values(), key=lambda h: (h["portId"], h["hostGroupNumber"]))
        if port in (None, h["portId"])]
    return 200, {}, {"data": items}


def h_host_group(req, arr, st, m, s):
    h = arr["hosts"].get(m.group(1))
    if h is None:
        return err(404, "KART30013-E", "The specified object does not exist.", code="EX_ENOOBJ")
    return 200, {}, hg_item(h, True)


def h_post_host_group(req, arr, st, m, s):
    body = req.json or {}
    port = port_of(arr, body.get("portId") or "")
    name = body.get("hostGroupName")
    if port is None:
        return err(400, "KART30000-E", "The specified port does not exist.")
    limit = 32 if port["portType"] == "ISCSI" else 64
    if not isinstance(name, str) or not 1 <= len(name) <= limit or not NAME_RE.match(name):
        return err(400, "KART30000-E", f"hostGroupName must be 1 to {limit} valid characters.")
    number = body.get("hostGroupNumber")
    if number is not None and (as_int(number) is None or not 1 <= as_int(number) <= 254):
        return err(400, "KART30000-E", "hostGroupNumber must be 1 to 254.")
    action = {"op": "add_host_group", "portId": port["portId"], "name": name,
              "number": as_int(number) if number is not None else None,
              "mode": body.get("hostMode", "LINUX/IRIX"),
              "options": body.get("hostModeOptions", []), "iscsiName": body.get("iscsiName")}
    return new_job(req, arr, action, s["user"])


def h_delete_host_group(req, arr, st, m, s):
    if m.group(1) not in arr["hosts"]:
        return err(404, "KART30013-E", "The specified object does not exist.", code="EX_ENOOBJ")
    return new_job(req, arr, {"op": "delete_host_group", "group": m.group(1)}, s["user"])


def initiators_of(req, arr, kind):
    port, number = req.q("portId"), as_int(req.q("hostGroupNumber"))
    h = arr["hosts"].get(hg_id(port, number)) if port and number is not None else None
    if h is None:
        return err(404, "KART30013-E", "The specified host group does not exist.",
                   code="EX_ENOOBJ")
    items = []
    for ini in h["initiators"]:
        if kind == "wwn":
            items.append({"hostWwnId": f"{h['name']},{ini}", "portId": h["portId"],
                          "hostGroupNumber": h["hostGroupNumber"],
                          "hostGroupName": h["hostGroupName"], "hostWwn": ini,
                          "wwnNickname": "-"})
        else:
            items.append({"hostIscsiId": f"{h['name']},{ini}", "portId": h["portId"],
                          "hostGroupNumber": h["hostGroupNumber"],
                          "hostGroupName": h["hostGroupName"], "iscsiName": ini,
                          "iscsiNickname": "-"})
    return 200, {}, {"data": items}


def h_host_wwns(req, arr, st, m, s):
    return initiators_of(req, arr, "wwn")


def h_host_iscsis(req, arr, st, m, s):
    return initiators_of(req, arr, "iscsi")


def post_initiator(req, arr, s, kind):
    body = req.json or {}
    port = port_of(arr, body.get("portId") or "")
    number = as_int(body.get("hostGroupNumber"))
    if port is None or number is None or hg_id(port["portId"], number) not in arr["hosts"]:
        return err(404, "KART30013-E", "The specified host group does not exist.",
                   code="EX_ENOOBJ")
    if kind == "wwn":
        value = body.get("hostWwn") or ""
        if port["portType"] != "FIBRE" or not WWN_RE.match(value):
            return err(400, "KART30000-E", "hostWwn must be 16 hex digits on an FC port.")
        value = value.upper() if arr.get("wwn_case") == "upper" else value.lower()
    else:
        value = body.get("iscsiName") or ""
        if port["portType"] != "ISCSI" or not value.lower().startswith(("iqn.", "eui.")):
            return err(400, "KART30000-E", "iscsiName must be an iSCSI name on an iSCSI port.")
    action = {"op": "add_initiator", "portId": port["portId"], "number": number,
              "value": value, "kind": kind}
    return new_job(req, arr, action, s["user"])


def h_post_host_wwn(req, arr, st, m, s):
    return post_initiator(req, arr, s, "wwn")


def h_post_host_iscsi(req, arr, st, m, s):
    return post_initiator(req, arr, s, "iscsi")


def h_luns(req, arr, st, m, s):
    port, number = req.q("portId"), as_int(req.q("hostGroupNumber"))
    hid = hg_id(port, number) if port and number is not None else None
    if hid is None or hid not in arr["hosts"]:
        return err(404, "KART30013-E", "The specified host group does not exist.",
                   code="EX_ENOOBJ")
    return 200, {}, {"data": [lun_item(arr, mp) for mp in arr["mappings"] if mp["group"] == hid]}


def h_lun(req, arr, st, m, s):
    port, number = parse_hg(m.group(1))
    for mp in arr["mappings"]:
        if mp["group"] == hg_id(port, number) and mp["lun"] == int(m.group(2)):
            return 200, {}, lun_item(arr, mp)
    return err(404, "KART30013-E", "The specified object does not exist.", code="EX_ENOOBJ")


def h_post_lun(req, arr, st, m, s):
    body = req.json or {}
    ldev, number = as_int(body.get("ldevId")), as_int(body.get("hostGroupNumber"))
    port = port_of(arr, body.get("portId") or "")
    lun = body.get("lun")
    if ldev is None or number is None or port is None:
        return err(400, "KART30000-E", "ldevId, portId and hostGroupNumber are required.")
    if lun is not None and (as_int(lun) is None or not 0 <= as_int(lun) <= 2047):
        return err(400, "KART30000-E", "lun must be 0 to 2047.")
    action = {"op": "add_path", "ldevId": ldev, "portId": port["portId"], "number": number,
              "lun": as_int(lun) if lun is not None else None}
    return new_job(req, arr, action, s["user"])


def h_delete_lun(req, arr, st, m, s):
    port, number = parse_hg(m.group(1))
    hid, lun = hg_id(port, number), int(m.group(2))
    if not any(mp["group"] == hid and mp["lun"] == lun for mp in arr["mappings"]):
        return err(404, "KART30013-E", "The specified object does not exist.", code="EX_ENOOBJ")
    return new_job(req, arr, {"op": "delete_path", "group": hid, "lun": lun}, s["user"])


def h_job(req, arr, st, m, s):
    job = arr["jobs"].get(m.group(1))
    if job is None:
        return err(404, "KART30013-E", "The specified object does not exist.", code="EX_ENOOBJ")
    return 200, {}, public_job(job)


HG = r"(CL[0-9A-F]{1,2}-[A-Z]{1,2},\d{1,3})"
# (method, path regex, handler, auth): auth None / "basic-or-none" / "session"
ROUTES = [
    ("GET", ROOT + r"/configuration/version", h_version, None),
    ("GET", OBJ + r"/storages", h_storages, "any"),
    ("GET", OBJ + r"/storages/([^/]+)", h_storage, "any"),
    ("POST", OBJ + r"/sessions", h_new_session, None),
    ("GET", OBJ + r"/sessions", h_sessions, "session"),
    ("DELETE", OBJ + r"/sessions/(\d+)", h_delete_session, "session"),
    ("GET", OBJ + r"/ldevs/([^/]+)", h_ldev, "session"),
    ("GET", OBJ + r"/ports", h_ports, "session"),
    ("GET", OBJ + r"/ports/([^/]+)", h_port, "session"),
    ("GET", OBJ + r"/host-groups", h_host_groups, "session"),
    ("POST", OBJ + r"/host-groups", h_post_host_group, "session"),
    ("GET", OBJ + r"/host-groups/" + HG, h_host_group, "session"),
    ("DELETE", OBJ + r"/host-groups/" + HG, h_delete_host_group, "session"),
    ("GET", OBJ + r"/host-wwns", h_host_wwns, "session"),
    ("POST", OBJ + r"/host-wwns", h_post_host_wwn, "session"),
    ("GET", OBJ + r"/host-iscsis", h_host_iscsis, "session"),
    ("POST", OBJ + r"/host-iscsis", h_post_host_iscsi, "session"),
    ("GET", OBJ + r"/luns", h_luns, "session"),
    ("POST", OBJ + r"/luns", h_post_lun, "session"),
    ("GET", OBJ + r"/luns/" + HG + r",(\d{1,4})", h_lun, "session"),
    ("DELETE", OBJ + r"/luns/" + HG + r",(\d{1,4})", h_delete_lun, "session"),
    ("GET", OBJ + r"/jobs/(\d+)", h_job, "session"),
]


def handle(req, arr, st):
    run_due_jobs(arr)
    for method, pattern, fn, auth in ROUTES:
        m = re.fullmatch(pattern, req.path)
        if not m or method != req.method:
            continue
        s = None
        if auth == "session":
            s = session_of(req, arr)
            if s is None:
                return unauthorized()
        elif auth == "any" and (req.header("Authorization") or "").startswith("Session "):
            s = session_of(req, arr)
            if s is None:
                return unauthorized()
        return fn(req, arr, st, m, s)
    if any(re.fullmatch(p, req.path) for _, p, _, _ in ROUTES):
        return err(405, "KART00000-E", "Method not allowed.")
    return err(404, "KART00000-E", "The requested URL was not found.")


def expire_sessions(arr):
    arr["sessions"].clear()
    return True
