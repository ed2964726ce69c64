"""The array simulator's shared model, persisted in <dir>/state.json.

Every reader and writer (the HTTPS server's threads, `simarray.py state|seed|fault`,
tests in other processes) goes through Store.locked(), which holds an flock on
<dir>/state.lock for the whole read-modify-write, so they never see half a change.

Shape (one dict, JSON):

    {"fabric": "/path/to/fabric" | null,
     "fabric_logins": ["fc.<wwnn>:<wwpn>", ...],   FC ports logged in to the fabric
     "arrays": {"<name>": ARRAY, ...},
     "faults": [FAULT, ...],
    }

    <dir>/requests.jsonl: one line per request answered (or faulted):
    {"array", "method", "path", "status", "fault"}; Store.read() adds it as "requests".

    ARRAY = {"name", "vendor", "id", "port", "connections",
             "volumes":     {"<id>": {"id", "name", "serial", "naa", "size", "backing", ...}},
             "hosts":       {"<name>": {"name", "initiators": [...as the array stores them],
                                         "host_group": name | null, ...vendor fields}},
             "host_groups": {"<name>": {"name", ...}},
             "mappings":    [{"volume": id, "kind": "host" | "host_group", "group": name,
                              "lun": n}],
             "users": {...}, "sessions": {...}, "page_size": n | null, ...vendor fields}

After every write the fabric (tests/sim/fabric.py) is reconciled with the mappings:
each (initiator, device) pair that the mappings present is in <fabric>/maps, and no
other pair for this simulator's LUNs is. An FC initiator is presented only when its
WWPN is in fabric_logins (as on a real SAN, a port that has not logged in sees nothing).
"""
import contextlib
import fcntl
import json
import os
import re
import secrets
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import fabric  # noqa: E402  (tests/sim/fabric.py)

def empty_state(fabric_root=None):
    return {"fabric": fabric_root, "fabric_logins": [], "arrays": {}, "faults": [],
            "next_fault": 1}


class Store:
    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.path = os.path.join(self.root, "state.json")
        self.lock_path = os.path.join(self.root, "state.lock")

    def init(self, fabric_root=None):
        os.makedirs(self.root, exist_ok=True)
        with self.locked() as st:
            if not st["arrays"] and fabric_root is not None:
                st["fabric"] = os.path.abspath(fabric_root)

    def _load(self):
        try:
            with open(self.path, "rb") as f:
                raw = f.read()
            return json.loads(raw), raw
        except FileNotFoundError:
            return empty_state(), None

    def _save(self, raw):
        tmp = f"{self.path}.tmp.{os.getpid()}.{secrets.token_hex(4)}"
        with open(tmp, "wb") as f:
            f.write(raw)
        os.rename(tmp, self.path)

    @contextlib.contextmanager
    def locked(self, write=True):
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            st, raw = self._load()
            yield st
            if write:
                new = json.dumps(st, indent=1, sort_keys=True).encode()
                if new != raw:  # reads change nothing: no write, no fabric walk
                    reconcile_fabric(st)
                    self._save(new)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def read(self):
        with self.locked(write=False) as st:
            st["requests"] = self.requests()
            return st

    @property
    def requests_path(self):
        return os.path.join(self.root, "requests.jsonl")

    def log_request(self, array, method, target, status, fault):
        """Appends one line to <dir>/requests.jsonl (kept apart: it only grows)."""
        line = json.dumps({"array": array, "method": method, "path": target, "status": status,
                           "fault": fault}) + "\n"
        with open(self.requests_path, "a") as f:
            f.write(line)

    def requests(self):
        try:
            with open(self.requests_path) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []


# ---- identifiers ----

def new_uuid():
    return str(uuid.uuid4())


def wwn_hex(text):
    """16 lower-case hex digits of a WWN written any way, or None."""
    h = re.sub(r"[:\-\s]", "", text or "").lower()
    return h if re.fullmatch(r"[0-9a-f]{16}", h) else None


def initiator_kind(text):
    t = (text or "").lower()
    if t.startswith("iqn.") or t.startswith("eui."):
        return "iscsi"
    if t.startswith("nqn."):
        return "nvme"
    if re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", t):
        return "sdc"  # a PowerFlex SDC GUID
    if t.startswith("fc.") or wwn_hex(t):
        return "fc"
    return None


def split_fc(text):
    """'fc.<wwnn>:<wwpn>' → (wwnn, wwpn); a bare WWPN → (None, wwpn)."""
    t = text.lower()
    if t.startswith("fc."):
        nn, _, pn = t[3:].partition(":")
        return wwn_hex(nn), wwn_hex(pn)
    return None, wwn_hex(t)


# ---- fabric ----

def fabric_id(st, initiator):
    """The id under which the fabric presents LUNs to this initiator, or None."""
    kind = initiator_kind(initiator)
    if kind == "iscsi":
        return initiator.lower()
    if kind == "nvme":
        return initiator
    if kind == "sdc":
        return initiator.upper()  # as the scini module reports it (IoctlIniGuidStr)
    if kind == "fc":
        _, pn = split_fc(initiator)
        for login in st.get("fabric_logins", []):
            if split_fc(login)[1] == pn:
                return login
    return None


def group_initiators(arr, kind, group):
    if kind == "host_group":
        out = []
        for h in arr["hosts"].values():
            if h.get("host_group") == group:
                out.extend(h["initiators"])
        return out
    h = arr["hosts"].get(group)
    return list(h["initiators"]) if h else []


def presented_pairs(st):
    """{(fabric initiator id, device id)} that the mappings of every array present."""
    pairs = set()
    for arr in st["arrays"].values():
        for m in arr["mappings"]:
            vol = arr["volumes"].get(m["volume"])
            if vol is None:
                continue
            for ini in group_initiators(arr, m["kind"], m["group"]):
                fid = fabric_id(st, ini)
                if fid is not None:
                    pairs.add((fid, vol["naa"]))
    return pairs


def reconcile_fabric(st):
    root = st.get("fabric")
    if not root:
        return
    ours = {}
    for arr in st["arrays"].values():
        for vol in arr["volumes"].values():
            ours[vol["naa"]] = (arr, vol)
    for naa, (arr, vol) in ours.items():
        meta = fabric.lun_meta(root, naa)
        if meta is None or meta.get("size") != vol["size"]:
            fabric.create_lun(root, naa, arr["id"], vol["size"], vol.get("backing"),
                              vendor=arr.get("scsi_vendor", "SIMARRAY"),
                              model=arr.get("scsi_model", "SimLUN"), serial=vol["serial"],
                              vaai_clone=True)
    want = presented_pairs(st)
    have = set()
    for ini, devs in fabric.mappings(root).items():
        for dev in devs:
            if dev in ours:
                have.add((ini, dev))
    for ini, dev in sorted(have - want):
        fabric.unmap_lun(root, ini, dev)
    for ini, dev in sorted(want - have):
        fabric.map_lun(root, ini, dev)


def make_backing(store_root, array_name, vol_id, size):
    d = os.path.join(store_root, "volumes", array_name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, f"{vol_id}.img")
    with open(path, "ab") as f:
        f.truncate(int(size))
    return path


# ---- faults ----

FAULT_ACTIONS = ("status", "drop", "latency", "expire_session", "lose_response")


def add_faults(st, faults):
    out = []
    for f in faults:
        f = dict(f)
        if f.get("action") not in FAULT_ACTIONS:
            raise ValueError(f"fault action must be one of {FAULT_ACTIONS}")
        f.setdefault("array", None)
        f.setdefault("method", None)
        f.setdefault("path", None)
        f.setdefault("after", 0)
        f.setdefault("times", 1)
        f["id"] = st.get("next_fault", 1)
        st["next_fault"] = f["id"] + 1
        st["faults"].append(f)
        out.append(f)
    return out


def take_fault(st, array, method, target):
    """The first armed fault matching this request, consumed; or None."""
    for f in list(st["faults"]):
        if f["array"] not in (None, array):
            continue
        if f["method"] and f["method"].upper() != method:
            continue
        if f["path"] and not re.search(f["path"], target):
            continue
        if f["after"] > 0:
            f["after"] -= 1
            continue
        if f["times"] is not None:
            f["times"] -= 1
            if f["times"] <= 0:
                st["faults"].remove(f)
        return dict(f)
    return None


