"""Build a simulated host root from a scenario (the engine behind mkhost).

A scenario is JSON; tests/sim/README.md documents every key. Defaults are filled
in by normalize(), which also makes every identifier deterministic (derived from
names), so the same scenario always builds the same host. The normalized scenario
is saved as ROOT/etc/scenario.json; simhost reads it to compute expected checksums.
"""
import hashlib
import json
import os
import shutil

from . import content, devices, vmdk
from .host import SIM_DIR, Host, import_fabric, write_json

MiB = 1 << 20
DELTA_GRAIN = {"vmfsSparse": 512, "seSparse": 4096}
ADVANCED_DEFAULTS = {
    "/DataMover/HardwareAcceleratedMove": {
        "int": 1, "default": 1, "min": 0, "max": 1,
        "description": "Enable hardware accelerated VMFS data movement (requires compliant hardware)"},
    "/DataMover/HardwareAcceleratedInit": {
        "int": 1, "default": 1, "min": 0, "max": 1,
        "description": "Enable hardware accelerated VMFS data initialization (requires compliant hardware)"},
    "/DataMover/MaxHWTransferSize": {
        "int": 4096, "default": 4096, "min": 64, "max": 16384,
        "description": "Maximum transfer size in KB to use for a HW data mover"},
    "/VMFS3/HardwareAcceleratedLocking": {
        "int": 1, "default": 1, "min": 0, "max": 1,
        "description": "Enable hardware accelerated VMFS locking (requires compliant hardware)"},
}
TOOLS = ("esxcli", "vmkfstools", "vsish")


def _hex(*parts, n=32):
    return hashlib.sha256("\0".join(str(p) for p in parts).encode()).hexdigest()[:n]


def _uuid(name):
    h = _hex("ds", name)
    return f"{h[:8]}-{h[8:16]}-{h[16:20]}-{h[20:32]}"


def _naa(*parts):
    return "naa.624a9370" + _hex("naa", *parts, n=24)


def _size(spec, key="size_mb", default_mb=16):
    if "size" in spec:
        return int(spec["size"])
    return int(spec.get(key, default_mb)) * MiB


# --- normalization -------------------------------------------------------------------

def _adapter(a, hostname, index):
    kind = a.get("kind", "iscsi")
    h = _hex("adapter", hostname, index, n=12)
    if kind == "iscsi":
        iqn = a.get("iqn", f"iqn.1998-01.com.vmware:{hostname}-{h[:8]}")
        # iSCSI names compare case-insensitively (RFC 3720); the fabric, like the
        # array simulator, files them lower-case.
        return {"name": a.get("name", "vmhba64"), "driver": "iscsi_vmk", "link": "online",
                "uid": iqn, "capabilities": "Second Level Lun ID",
                "description": "iSCSI Software Adapter", "transport": "iscsi", "initiator": iqn.lower()}
    if kind == "fc":
        wwnn = a.get("wwnn", "20000025b5" + h[:6])
        wwpn = a.get("wwpn", "20000025b5" + h[6:12])
        uid = f"fc.{wwnn.lower()}:{wwpn.lower()}"
        return {"name": a.get("name", f"vmhba{index + 1}"), "driver": "qlnativefc", "link": "link-up",
                "uid": uid, "capabilities": "Second Level Lun ID",
                "description": f"(0000:{0x3b + index:02x}:00.0) QLogic Corp QLE2692 Dual Port 16Gb "
                               "Fibre Channel to PCIe Adapter",
                "transport": "fc", "initiator": uid}
    if kind == "nvmetcp":
        mac = a.get("mac", ":".join(["00", "50", "56"] + [h[i:i + 2] for i in (0, 2, 4)]))
        nqn = a.get("nqn", f"nqn.2014-08.org.nvmexpress:uuid:{_uuid(hostname + 'nqn')}")
        return {"name": a.get("name", "vmhba65"), "driver": "nvmetcp", "link": "link-n/a",
                "uid": f"tcp.{a.get('vmnic', 'vmnic1')}:{mac}", "capabilities": "",
                "description": "VMware NVMe over TCP Storage Adapter", "transport": "tcp",
                "initiator": nqn}
    if kind == "scini":
        guid = a.get("guid", _uuid(hostname + "sdc").upper())
        return {"name": a.get("name", "vmhba32"), "driver": "scini", "link": "link-n/a",
                "uid": f"scini.{guid}", "capabilities": "", "description": "PowerFlex SDC",
                "transport": "scini", "initiator": guid}
    raise ValueError(f"unknown adapter kind {kind!r}")


def file_name(display_name):
    """vSphere's escaping of a display name used as a file or folder name."""
    return display_name.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")


def normalize(sc):
    sc = json.loads(json.dumps(sc))
    host = sc.setdefault("hostname", "esx01")
    sc.setdefault("domain", "")
    sc.setdefault("version", "8.0.3")
    sc.setdefault("build", 24022510)
    sc.setdefault("update", 3)
    sc.setdefault("patch", 0)
    sc.setdefault("maintenance", 0)
    sc.setdefault("local_boot", True)
    specs = sc.get("adapters") or [{"kind": "iscsi"}]
    sc["adapters"] = [_adapter(a, host, i) for i, a in enumerate(specs)]
    san = [a for a in sc["adapters"] if a.get("initiator")]
    default_via = [san[0]["name"]] if san else []
    for ds in sc.setdefault("datastores", []):
        if "/" in ds["name"] or ds["name"] in ("", ".", ".."):
            raise ValueError(f"datastore name not allowed: {ds['name']!r}")
        ds.setdefault("uuid", _uuid(ds["name"]))
        ds.setdefault("array", "array-1")
        ds.setdefault("device", _naa("ds", ds["name"]))
        ds["size"] = _size(ds, default_mb=4096)
        ds.setdefault("via", default_via)
        ds.setdefault("vaai_clone", True)
    arrays = {ds["name"]: ds["array"] for ds in sc["datastores"]}
    for lun in sc.setdefault("luns", []):
        lun.setdefault("array", "array-1")
        lun["size"] = _size(lun, default_mb=64)
        lun.setdefault("map_to", default_via)
        lun.setdefault("discovered", True)
        lun.setdefault("vaai_clone", True)
    for vm in sc.setdefault("vms", []):
        vm.setdefault("datastore", sc["datastores"][0]["name"])
        vm.setdefault("folder", file_name(vm["name"]))
        for i, disk in enumerate(vm.setdefault("disks", [])):
            _normalize_disk(sc, vm, i, disk, arrays, default_via)
    sc.setdefault("settings", {})
    sc.setdefault("sim", {})
    return sc


def _normalize_disk(sc, vm, i, disk, arrays, default_via):
    disk.setdefault("kind", "thin")
    disk.setdefault("datastore", vm["datastore"])
    stem = file_name(vm["name"])
    disk.setdefault("stem", stem if i == 0 else f"{stem}_{i}")
    disk["size"] = _size(disk)
    disk.setdefault("seed", f"{vm['name']}/{i}")
    disk.setdefault("fill", 0.5)
    disk.setdefault("mode", "persistent")
    disk.setdefault("controller", f"scsi0:{i}")
    if disk["kind"] == "snapshot":
        disk.setdefault("base", "thin")
        disk.setdefault("format", "vmfsSparse")
        disk.setdefault("deltas", 1)
        disk.setdefault("delta_fill", 0.05)
        disk.setdefault("parent_hint", "relative")
    base_kind = disk["base"] if disk["kind"] == "snapshot" else disk["kind"]
    if base_kind == "rdm":
        disk.setdefault("rdm_mode", "virtual")
        disk.setdefault("device", _naa("rdm", vm["name"], i))
        disk.setdefault("array", arrays.get(disk["datastore"], "array-1"))
        disk.setdefault("lun_size", disk["size"])
        disk.setdefault("map_to", default_via)


# --- building -----------------------------------------------------------------------------

PYTHON = "/usr/bin/python3"   # the tools' interpreter; the tool server runs under it too


def tool_script(root, tool):
    return (f"#!{PYTHON} -IS\n"
            f"# simulated {tool} of the host in {root!r} (tests/sim/esxi)\n"
            "import sys\n"
            f"sys.path.insert(0, {SIM_DIR!r})\n"
            "from esxsim.main import run\n"
            f"sys.exit(run({tool!r}, {root!r}, sys.argv[1:]))\n")


def _write_tools(root, client=None):
    """ROOT/bin/<tool>: the Python script; or, given the compiled tool client
    (simtool.c), a copy of it, with the script as ROOT/bin/.<tool>.py for when no
    tool server runs. Either way every tool name is an executable file of its own."""
    bindir = os.path.join(root, "bin")
    for tool in TOOLS:
        path = os.path.join(bindir, tool)
        text = tool_script(root, tool).encode("utf-8", "surrogateescape")
        _put_executable(os.path.join(bindir, f".{tool}.py") if client else path,
                        lambda f: f.write(text))
        if client:
            with open(client, "rb") as src:
                _put_executable(path, lambda f: shutil.copyfileobj(src, f))


def _put_executable(path, fill):
    """Temp file then rename: a tool running meanwhile keeps its old file."""
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        fill(f)
    os.chmod(tmp, 0o755)
    os.rename(tmp, path)


def install_tools(root, client=None):
    """(Re)writes a built root's tools; see _write_tools."""
    _write_tools(os.path.abspath(root), client)


def _local_boot(root, sc, devs, cfg):
    dev_id = "mpx.vmhba0:C0:T0:L0"
    backing = os.path.join(root, "etc", "local-disks", dev_id)
    with open(backing, "wb") as f:
        f.truncate(40960 * MiB)
    model = "Virtual disk    "
    devs[dev_id] = {"lun": 0, "paths": [], "size": 40960 * MiB, "vendor": "VMware  ",
                    "model": model, "revision": "2.0 ", "array": None,
                    "vaai": {"ats": False, "clone": False, "zero": False, "delete": False},
                    "transport": "local", "vml": "vml.0000000000766d686261303a303a30", "local": True,
                    "state": "on", "node": backing}
    cfg["adapters"].insert(0, {"name": "vmhba0", "driver": "pvscsi", "link": "link-n/a",
                               "uid": "pscsi.vmhba0", "capabilities": "",
                               "description": "(0000:02:00.0) VMware Inc. PVSCSI SCSI Controller",
                               "transport": "local"})
    osdata = _uuid(sc["hostname"] + "osdata")
    cfg["local_volumes"] = [
        {"name": f"OSDATA-{osdata}", "uuid": osdata, "type": "VMFSOS", "size": 34091302912,
         "free": 32238469120, "extents": [{"device": dev_id, "partition": 7}]},
        {"name": "BOOTBANK1", "uuid": _uuid(sc["hostname"] + "bb1"), "type": "vfat",
         "size": 4293591040, "free": 3975413760},
        {"name": "BOOTBANK2", "uuid": _uuid(sc["hostname"] + "bb2"), "type": "vfat",
         "size": 4293591040, "free": 4293525504},
    ]


def _present(fabric, sc, dev_id, array, size, via, vaai_clone, discovered, state):
    """Create a LUN in the fabric, map it to the adapters' initiators, maybe discover it."""
    fab = import_fabric()
    fab.create_lun(fabric, dev_id, array, size, vaai_clone=vaai_clone)
    adapters = {a["name"]: a for a in sc["adapters"]}
    for name in via:
        fab.map_lun(fabric, adapters[name]["initiator"], dev_id)
    if not discovered:
        return
    host_adapters = [adapters[n] for n in via]
    meta = fab.lun_meta(fabric, dev_id)
    entry = devices.new_entry(_FabricHost(fabric), dev_id, host_adapters[0], meta, state["next_lun"])
    state["next_lun"] += 1
    for a in host_adapters:
        devices._add_path(entry, a, meta)
    state["devices"][dev_id] = entry


class _FabricHost:
    """The bit of Host that devices.new_entry needs while the host is being built."""

    def __init__(self, fabric):
        self.fabric_dir = fabric


def build(sc, root, fabric=None, tool_client=None):
    sc = normalize(sc)
    root = os.path.abspath(root)
    fabric = os.path.abspath(fabric or os.path.join(root, "fabric"))
    for d in ("bin", "etc/locks", "etc/stats", "etc/local-disks", "vmfs/volumes",
              "vmfs/devices/disks"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    os.makedirs(fabric, exist_ok=True)
    cfg = {k: sc[k] for k in ("hostname", "domain", "version", "build", "update", "patch",
                              "maintenance")}
    cfg.update({"fabric": fabric, "adapters": [dict(a) for a in sc["adapters"]], "datastores": []})
    for a in sc["adapters"]:
        if a["transport"] == "scini":
            cfg["sdc_guid"] = a["initiator"]
    state = {"devices": {}, "pending": {}, "next_lun": 1}
    if sc["local_boot"]:
        _local_boot(root, sc, state["devices"], cfg)
    for ds in sc["datastores"]:
        _present(fabric, sc, ds["device"], ds["array"], ds["size"], ds["via"], ds["vaai_clone"],
                 True, state)
        cfg["datastores"].append({"name": ds["name"], "uuid": ds["uuid"], "type": "VMFS-6",
                                  "size": ds["size"], "array": ds["array"],
                                  "extents": [{"device": ds["device"], "partition": 1}]})
        os.makedirs(os.path.join(root, "vmfs", "volumes", ds["uuid"]), exist_ok=True)
        link = os.path.join(root, "vmfs", "volumes", ds["name"])
        if not os.path.lexists(link):
            os.symlink(ds["uuid"], link)
    for lun in sc["luns"]:
        _present(fabric, sc, lun["device"], lun["array"], lun["size"], lun["map_to"],
                 lun["vaai_clone"], lun["discovered"], state)
    write_json(os.path.join(root, "etc", "host.json"), cfg)
    host = Host(root)
    for vm in sc["vms"]:
        _build_vm(host, fabric, sc, vm, state)
    advanced = {k: dict(v, type="integer") for k, v in ADVANCED_DEFAULTS.items()}
    for path, value in sc["settings"].items():
        advanced.setdefault(path, {"type": "integer", "default": value, "min": 0, "max": 1 << 30})
        advanced[path]["int"] = value
    write_json(os.path.join(root, "etc", "advanced.json"), advanced)
    write_json(os.path.join(root, "etc", "sim.json"), sc["sim"])
    write_json(os.path.join(root, "etc", "devices.json"), state)
    write_json(os.path.join(root, "etc", "detached.json"), {})
    write_json(os.path.join(root, "etc", "scenario.json"), sc)
    write_json(os.path.join(root, "faults.json"), {})
    for dev_id, entry in state["devices"].items():
        devices.sync_node(host, dev_id, entry)
    _write_tools(root, tool_client)
    return sc


# --- virtual machines -------------------------------------------------------------------

def _ds(host, name):
    for ds in host.datastores():
        if ds["name"] == name:
            return ds
    raise ValueError(f"unknown datastore {name!r}")


def _cid(*parts):
    return _hex("cid", *parts, n=8)


def disk_dir(host, vm, disk):
    return os.path.join(host.volumes, _ds(host, disk["datastore"])["uuid"], vm["folder"])


def _write_base(host, fabric, vm, disk, state):
    """The base disk; returns its descriptor file name and CID."""
    folder = disk_dir(host, vm, disk)
    kind = disk["base"] if disk["kind"] == "snapshot" else disk["kind"]
    stem, size, cid = disk["stem"], disk["size"], _cid(vm["name"], disk["stem"], "base")
    chunks = content.base_chunks(disk["seed"], size, disk["fill"])
    if kind == "rdm":
        _present(fabric, {"adapters": host.adapters()}, disk["device"], disk["array"],
                 disk["lun_size"], disk["map_to"], True, True, state)
        data_path = import_fabric().lun_data_path(fabric, disk["device"])
        _write_chunks(data_path, chunks, None)
        physical = disk["rdm_mode"] == "physical"
        create = "vmfsPassthroughRawDeviceMap" if physical else "vmfsRawDeviceMap"
        extent = stem + vmdk.RDM_TYPES[create][1]
        entry = state["devices"][disk["device"]]
        vmdk.write_rdm_mapping(os.path.join(folder, extent), disk["device"], entry["vml"],
                               physical, disk["lun_size"])
        text = vmdk.descriptor_text(create, cid, size, extent, ddb=_uuid_ddb(vm, stem))
    else:
        extent = stem + "-flat.vmdk"
        _write_chunks(os.path.join(folder, extent), chunks, size if kind != "thin" else None, size)
        ddb = _uuid_ddb(vm, stem)
        if kind == "thin":
            ddb["ddb.thinProvisioned"] = "1"
        text = vmdk.descriptor_text("vmfs", cid, size, extent, ddb=ddb)
    vmdk.write_new(os.path.join(folder, stem + ".vmdk"), text)
    return stem + ".vmdk", cid


def _uuid_ddb(vm, stem):
    return {"ddb.uuid": vmdk.new_uuid(bytes.fromhex(_hex("uuid", vm["name"], stem)))}


def _write_chunks(path, chunks, allocate, truncate=None):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        if truncate is not None:
            os.ftruncate(fd, truncate)
        if allocate:
            os.posix_fallocate(fd, 0, allocate)
        for i, data in chunks.items():
            os.pwrite(fd, data, i * content.CHUNK)
    finally:
        os.close(fd)


def _write_deltas(host, vm, disk, parent_name, parent_cid):
    folder = disk_dir(host, vm, disk)
    fmt = disk["format"]
    grain = DELTA_GRAIN[fmt]
    kind, suffix = vmdk.DELTA_TYPES[fmt]
    name = parent_name
    for level in range(1, disk["deltas"] + 1):
        stem = f"{disk['stem']}-{level:06d}"
        extent = stem + suffix
        grains = content.delta_grains(disk["seed"], level, disk["size"], grain, disk["delta_fill"])
        vmdk.write_grains(os.path.join(folder, extent), grain, disk["size"], grains)
        hint = name
        if disk["parent_hint"] == "absolute":
            hint = host.esxi_path(os.path.join(folder, name))
        cid = _cid(vm["name"], disk["stem"], level)
        claimed = parent_cid if not disk.get("break_cid") else "0badc1d0"
        ddb = {"ddb.grain": str(grain // vmdk.SECTOR)} if fmt == "seSparse" else {}
        text = vmdk.descriptor_text(fmt, cid, disk["size"], extent, parent_cid=claimed,
                                    parent_hint=hint, ddb=ddb)
        vmdk.write_new(os.path.join(folder, stem + ".vmdk"), text)
        name, parent_cid = stem + ".vmdk", cid
    return name


def _vmx_value(text):
    """.vmx escaping: '|' and '"' (and control characters) as |XX."""
    return "".join(f"|{ord(c):02X}" if c in '|"' or ord(c) < 0x20 else c for c in text)


def _build_vm(host, fabric, sc, vm, state):
    lines = ['.encoding = "UTF-8"', 'config.version = "8"', 'virtualHW.version = "19"',
             f'displayName = "{_vmx_value(vm["name"])}"', 'guestOS = "other5xlinux-64guest"',
             'memSize = "1024"', 'numvcpus = "1"', 'scsi0.present = "TRUE"',
             'scsi0.virtualDev = "pvscsi"']
    home = disk_dir(host, vm, {"datastore": vm["datastore"]})
    for disk in vm["disks"]:
        folder = disk_dir(host, vm, disk)
        os.makedirs(folder, exist_ok=True)
        name, cid = _write_base(host, fabric, vm, disk, state)
        if disk["kind"] == "snapshot":
            name = _write_deltas(host, vm, disk, name, cid)
        disk["file"] = host.esxi_path(os.path.join(folder, name))
        ref = name if folder == home else disk["file"]
        ctl = disk["controller"]
        lines += [f'{ctl}.present = "TRUE"', f'{ctl}.deviceType = "scsi-hardDisk"',
                  f'{ctl}.fileName = "{_vmx_value(ref)}"']
        if disk["mode"] != "persistent":
            lines.append(f'{ctl}.mode = "{disk["mode"]}"')
    os.makedirs(home, exist_ok=True)
    with open(os.path.join(home, file_name(vm["name"]) + ".vmx"), "w", encoding="utf-8",
              errors="surrogateescape") as f:
        f.write("\n".join(lines) + "\n")


# --- expectations ---------------------------------------------------------------------------

def expected_sha256(disk):
    """sha256 of a normalized disk's guest-visible bytes (independent of the sim's reader)."""
    chunks = content.base_chunks(disk["seed"], disk["size"], disk["fill"])
    layers = []
    if disk["kind"] == "snapshot":
        grain = DELTA_GRAIN[disk["format"]]
        for level in range(1, disk["deltas"] + 1):
            layers.append((grain, content.delta_grains(disk["seed"], level, disk["size"], grain,
                                                       disk["delta_fill"])))
    return content.merged_image_sha256(disk["size"], chunks, layers)
