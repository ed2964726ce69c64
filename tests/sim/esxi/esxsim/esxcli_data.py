"""What each simulated esxcli command reports: records built from the host state.

Field names, their order and value shapes follow the public samples listed in
tests/sim/README.md. Version-dependent differences we know of are applied from
the host's version (ESXi 9 dropped "Is Local SAS Device"/"Is Boot USB Device" from
the device list and added "Maintenance" to the version).
"""
import os

from . import devices

TRANSPORT_WORD = {"iscsi": "iSCSI", "fc": "Fibre Channel", "tcp": "NVMe TCP", "scini": "EMC"}
ISCSI_SESSION = "00023d000001"
MAX_IO = 131072


def _major(host):
    return host.version_tuple()[0]


# --- system ------------------------------------------------------------------------

def version(host):
    c = host.config
    rec = [("Product", "VMware ESXi"), ("Version", str(c["version"])),
           ("Build", f"Releasebuild-{c['build']}"), ("Update", str(c.get("update", 0)))]
    if _major(host) >= 9:
        rec.append(("Maintenance", str(c.get("maintenance", 0))))
    rec.append(("Patch", str(c.get("patch", 0))))
    return [rec]


def hostname(host):
    c = host.config
    domain = c.get("domain", "")
    fqdn = f"{c['hostname']}.{domain}" if domain else c["hostname"]
    return [[("Domain Name", domain), ("Fully Qualified Domain Name", fqdn),
             ("Host Name", c["hostname"])]]


def advanced_record(host, path, opt):
    rec = [("Path", path), ("Type", opt.get("type", "integer")),
           ("Int Value", int(opt.get("int", 0))), ("Default Int Value", int(opt.get("default", 0))),
           ("Min Value", int(opt.get("min", 0))), ("Max Value", int(opt.get("max", 0))),
           ("String Value", opt.get("string", "")), ("Default String Value", opt.get("default_string", "")),
           ("Valid Characters", opt.get("valid", "")), ("Description", opt.get("description", ""))]
    if _major(host) >= 7:
        rec += [("Host Specific", bool(opt.get("host_specific", False))),
                ("Impact", opt.get("impact", "none"))]
    return rec


def module_parameters(host, module):
    if module != "scini" or not host.config.get("sdc_guid"):
        return None
    return [[("Name", "IoctlIniGuidStr"), ("Type", "string"), ("Value", host.config["sdc_guid"]),
             ("Description", "Ini Guid, for example: 12345678-90AB-CDEF-1234-567890ABCDEF")],
            [("Name", "IoctlMdmIPStr"), ("Type", "string"), ("Value", host.config.get("sdc_mdm", "")),
             ("Description", "Mdms IPs, IPs for MDM in same cluster should be comma separated.")]]


# --- adapters ------------------------------------------------------------------------

def _vmhba_order(adapter):
    digits = "".join(c for c in adapter["name"] if c.isdigit())
    return (int(digits) if digits else 0, adapter["name"])


def adapter_list(host):
    return [[("HBA Name", a["name"]), ("Driver", a["driver"]), ("Link State", a["link"]),
             ("UID", a["uid"]), ("Capabilities", a.get("capabilities", "")),
             ("Description", a["description"])] for a in sorted(host.adapters(), key=_vmhba_order)]


def iscsi_adapters(host):
    return [a for a in host.adapters() if a["transport"] == "iscsi"]


def iscsi_adapter_list(host):
    return [[("Adapter", a["name"]), ("Driver", a["driver"]), ("State", a["link"]),
             ("UID", "iscsi." + a["name"]), ("Description", "iSCSI Software Adapter")]
            for a in iscsi_adapters(host)]


def iscsi_adapter_get(host, name):
    for a in iscsi_adapters(host):
        if a["name"] == name:
            return [[("Adapter", a["name"]), ("Name", a["uid"]), ("Alias", ""),
                     ("Vendor", "VMware"), ("Model", "iSCSI Software Adapter"),
                     ("Description", "iSCSI Software Adapter")]]
    return None


def nvme_info(host):
    for a in host.adapters():
        if a["transport"] == "tcp":
            return [[("Host NQN", a["initiator"])]]
    return [[("Host NQN", host.config.get("nvme_host_nqn", ""))]]


# --- devices ---------------------------------------------------------------------------

def display_name(dev_id, entry):
    if entry.get("local"):
        return f"Local {entry['vendor'].strip()} Disk ({dev_id})"
    word = TRANSPORT_WORD.get(entry["transport"], "SCSI")
    return f"{entry['vendor'].strip()} {word} Disk ({dev_id})"


def device_record(host, dev_id, entry):
    local = bool(entry.get("local"))
    vaai = entry.get("vaai", {})
    supported = not local and any(vaai.values())
    nvme = entry.get("transport") == "tcp"
    rec = [
        ("Device", dev_id),
        ("Display Name", display_name(dev_id, entry)),
        ("Has Settable Display Name", not local),
        ("Size", entry["size"] // (1 << 20)),
        ("Device Type", "Direct-Access "),
        ("Multipath Plugin", "HPP" if local or nvme else "NMP"),
        ("Devfs Path", f"/vmfs/devices/disks/{dev_id}"),
        ("Vendor", entry["vendor"]),
        ("Model", entry["model"]),
        ("Revision", entry["revision"]),
        ("SCSI Level", 6),
        ("Is Pseudo", False),
        ("Status", devices.status(host, dev_id, entry)),
        ("Is RDM Capable", not local),
        ("Is Local", local),
        ("Is Removable", False),
        ("Is SSD", bool(entry.get("ssd", not local))),
        ("Is VVOL PE", False),
        ("Is Offline", False),
        ("Is Perennially Reserved", False),
        ("Queue Full Sample Size", 0),
        ("Queue Full Threshold", 0),
        ("Thin Provisioning Status", "yes"),
        ("Attached Filters", ["VAAI_FILTER"] if supported else []),
        ("VAAI Status", "supported" if supported else "unsupported"),
        ("Other UIDs", [entry["vml"]]),
        ("Is Shared Clusterwide", not local),
    ]
    if _major(host) < 9:
        rec.append(("Is Local SAS Device", False))
    rec += [("Is SAS", False), ("Is USB", False)]
    if _major(host) < 9:
        rec.append(("Is Boot USB Device", False))
    rec += [
        ("Is Boot Device", local),
        ("Device Max Queue Depth", 1024 if local else 128),
        ("No of outstanding IOs with competing worlds", 32),
        ("Drive Type", "unknown"),
        ("RAID Level", "unknown"),
        ("Number of Physical Drives", "unknown"),
        ("Protection Enabled", False),
        ("PI Activated", False),
        ("PI Type", 0),
        ("PI Protection Mask", "NO PROTECTION"),
        ("Supported Guard Types", "NO GUARD SUPPORT"),
        ("DIX Enabled", False),
        ("DIX Guard Type", "NO GUARD SUPPORT"),
        ("Emulated DIX/DIF Enabled", False),
    ]
    return rec


def vaai_record(dev_id, entry):
    vaai = entry.get("vaai", {})
    word = {True: "supported", False: "unsupported"}
    return [("Device", dev_id), ("VAAI Plugin Name", entry.get("vaai_plugin", "")),
            ("ATS Status", word[bool(vaai.get("ats"))]),
            ("Clone Status", word[bool(vaai.get("clone"))]),
            ("Zero Status", word[bool(vaai.get("zero"))]),
            ("Delete Status", word[bool(vaai.get("delete"))])]


def _wwn_colons(hexstr):
    return ":".join(hexstr[i:i + 2] for i in range(0, len(hexstr), 2))


def _fc_details(uid):
    wwnn, _, wwpn = uid[3:].partition(":")
    return f"WWNN: {_wwn_colons(wwnn)} WWPN: {_wwn_colons(wwpn)}"


def path_record(host, dev_id, entry, path, alive):
    adapter = host.adapter(path["adapter"]) or {"transport": "unknown", "uid": path["adapter"]}
    kind = adapter["transport"]
    target = path["target"]
    if kind == "iscsi":
        ini = adapter["uid"]
        target_ident = f"{ISCSI_SESSION},{target},t,1"
        uid = f"{ini}-{target_ident}-{dev_id}"
        adapter_ident, adapter_details = ini, ini
        target_details = f"IQN={target} Alias= Session={ISCSI_SESSION} PortalTag=1"
    elif kind == "fc":
        adapter_ident = adapter["uid"]
        uid = f"{adapter_ident}-{target}-{dev_id}"
        target_ident = target
        adapter_details, target_details = _fc_details(adapter_ident), _fc_details(target)
    else:
        adapter_ident = adapter["uid"]
        uid = f"{adapter_ident}-{target}-{dev_id}"
        target_ident, adapter_details, target_details = target, path["initiator"], target
    lun = entry["lun"]
    return [("UID", uid), ("Runtime Name", f"{path['adapter']}:C0:T0:L{lun}"), ("Device", dev_id),
            ("Device Display Name", display_name(dev_id, entry)), ("Adapter", path["adapter"]),
            ("Channel", 0), ("Target", 0), ("LUN", lun),
            ("Plugin", "HPP" if kind == "tcp" else "NMP"),
            ("State", "active" if alive else "dead"), ("Transport", kind),
            ("Adapter Identifier", adapter_ident), ("Target Identifier", target_ident),
            ("Adapter Transport Details", adapter_details),
            ("Target Transport Details", target_details), ("Maximum IO Size", MAX_IO)]


def local_path_record(dev_id, entry):
    adapter = dev_id.split(".", 1)[1].split(":", 1)[0]
    return [("UID", f"sata.{adapter}-{dev_id}"), ("Runtime Name", f"{adapter}:C0:T0:L0"),
            ("Device", dev_id), ("Device Display Name", display_name(dev_id, entry)),
            ("Adapter", adapter), ("Channel", 0), ("Target", 0), ("LUN", 0), ("Plugin", "HPP"),
            ("State", "active"), ("Transport", "parallel"), ("Adapter Identifier", f"pscsi.{adapter}"),
            ("Target Identifier", "pscsi.0:0"), ("Adapter Transport Details", "Unavailable or path is unclaimed"),
            ("Target Transport Details", "Unavailable or path is unclaimed"), ("Maximum IO Size", 33553920)]


def path_records(host, state, dev_filter=None):
    out = []
    for dev_id in sorted(state["devices"]):
        if dev_filter is not None and dev_id != dev_filter:
            continue
        entry = state["devices"][dev_id]
        if entry.get("local"):
            out.append(local_path_record(dev_id, entry))
            continue
        for path in entry["paths"]:
            alive = devices.path_alive(host, dev_id, entry, path)
            out.append(path_record(host, dev_id, entry, path, alive))
    return out


# --- datastores ------------------------------------------------------------------------

def _used_bytes(folder):
    used = 0
    for top, dirs, files in os.walk(folder):
        for name in files:
            try:
                used += os.lstat(os.path.join(top, name)).st_blocks * 512
            except FileNotFoundError:
                pass
    return used


def filesystems(host):
    recs = []
    for vol in host.config.get("local_volumes", []):
        recs.append([("Mount Point", f"/vmfs/volumes/{vol['uuid']}"), ("Volume Name", vol["name"]),
                     ("UUID", vol["uuid"]), ("Mounted", True), ("Type", vol["type"]),
                     ("Size", int(vol["size"])), ("Free", int(vol["free"]))])
    for ds in host.datastores():
        mount = f"/vmfs/volumes/{ds['uuid']}"
        size = int(ds["size"])
        free = max(0, size - _used_bytes(os.path.join(host.volumes, ds["uuid"])))
        recs.append([("Mount Point", mount), ("Volume Name", ds["name"]), ("UUID", ds["uuid"]),
                     ("Mounted", True), ("Type", ds.get("type", "VMFS-6")), ("Size", size),
                     ("Free", free)])
    return recs


def extents(host):
    recs = []
    vols = [v for v in host.config.get("local_volumes", []) if v.get("extents")] + list(host.datastores())
    for ds in vols:
        for i, ext in enumerate(ds["extents"]):
            recs.append([("Volume Name", ds["name"]), ("VMFS UUID", ds["uuid"]), ("Extent Number", i),
                         ("Device Name", ext["device"]), ("Partition", int(ext.get("partition", 1)))])
    return recs
