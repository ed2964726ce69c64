"""The golden cases: commands run on the host of scenarios/golden.json whose exact
output is pinned in golden/<name>.txt (what the agent's parsers are written against).

golden/regen rewrites the files; test_formats compares. A change to a golden file
is a change of the simulator's contract: review the diff against the real samples.
"""
import os

from esxsim import stats

LUN_OFF = "naa.624a93700e1b2c3d4e5f607182930a11"
LUN_RDM = "naa.624a93700e1b2c3d4e5f607182930a10"
DS_DEV = "naa.624a93700e1b2c3d4e5f607182930a01"
VM_DIR = "/vmfs/volumes/gold-iscsi/vm1"

ESXCLI = [
    ("system-version-get", ["system", "version", "get"]),
    ("system-hostname-get", ["system", "hostname", "get"]),
    ("storage-core-adapter-list", ["storage", "core", "adapter", "list"]),
    ("storage-core-device-list", ["storage", "core", "device", "list"]),
    ("storage-core-device-list-d", ["storage", "core", "device", "list", "-d", DS_DEV]),
    ("storage-core-device-list-d-off", ["storage", "core", "device", "list", "-d", LUN_OFF]),
    ("storage-core-device-detached-list", ["storage", "core", "device", "detached", "list"]),
    ("storage-core-path-list", ["storage", "core", "path", "list"]),
    ("storage-core-path-list-d", ["storage", "core", "path", "list", "-d", DS_DEV]),
    ("storage-vmfs-extent-list", ["storage", "vmfs", "extent", "list"]),
    ("storage-filesystem-list", ["storage", "filesystem", "list"]),
    ("storage-core-device-vaai-status-get", ["storage", "core", "device", "vaai", "status", "get"]),
    ("storage-core-device-vaai-status-get-d", ["storage", "core", "device", "vaai", "status", "get",
                                               "-d", DS_DEV]),
    ("system-settings-advanced-list-o-HardwareAcceleratedMove",
     ["system", "settings", "advanced", "list", "-o", "/DataMover/HardwareAcceleratedMove"]),
    ("system-settings-advanced-list-o-HardwareAcceleratedInit",
     ["system", "settings", "advanced", "list", "-o", "/DataMover/HardwareAcceleratedInit"]),
    ("system-settings-advanced-list-o-MaxHWTransferSize",
     ["system", "settings", "advanced", "list", "-o", "/DataMover/MaxHWTransferSize"]),
    ("iscsi-adapter-list", ["iscsi", "adapter", "list"]),
    ("iscsi-adapter-get", ["iscsi", "adapter", "get", "-A", "vmhba64"]),
    ("nvme-info-get", ["nvme", "info", "get"]),
    ("system-module-parameters-list-scini", ["system", "module", "parameters", "list", "-m", "scini"]),
]
FORMATTERS = (("default", []), ("csv", ["--formatter=csv"]), ("json", ["--formatter=json"]))

CASES = []
for name, argv in ESXCLI:
    for fmt, opts in FORMATTERS:
        CASES.append((f"esxcli.{name}.{fmt}", "esxcli", opts + argv, None))
CASES += [
    ("esxcli.storage-core-device-list.csv-fields", "esxcli",
     ["--formatter=csv", "--format-param=fields=DevfsPath,Vendor,Model", "storage", "core", "device", "list"],
     None),
    ("esxcli.storage-core-adapter-list.csv-fields", "esxcli",
     ["--formatter=csv", "--format-param=fields=HBAName,UID,LinkState", "storage", "core", "adapter", "list"], None),
    ("esxcli.storage-core-path-list.csv-fields", "esxcli",
     ["--formatter=csv", "--format-param=fields=Device,Adapter,State,TargetIdentifier", "storage", "core", "path",
      "list"], None),
    ("esxcli.storage-vmfs-extent-list.csv-fields", "esxcli",
     ["--formatter=csv", "--format-param=fields=VolumeName,DeviceName", "storage", "vmfs", "extent", "list"], None),
    ("esxcli.error-unknown-command", "esxcli", ["storage", "core", "frobnicate", "list"], None),
    ("esxcli.error-unknown-device", "esxcli", ["storage", "core", "device", "list", "-d", "naa.6000"], None),
    ("esxcli.error-missing-parameter", "esxcli", ["storage", "core", "device", "set", "--state", "off"], None),
    ("esxcli.rescan-all", "esxcli", ["storage", "core", "adapter", "rescan", "--all"], None),
    ("vsish.stats", "vsish", ["-e", "cat", f"/storage/scsifw/devices/{LUN_RDM}/stats"], None),
    ("vsish.stats-raw", "vsish", ["-r", "-e", "cat", f"/storage/scsifw/devices/{LUN_RDM}/stats"], None),
    ("vsish.error-no-node", "vsish", ["-e", "cat", "/storage/scsifw/devices/naa.6000/stats"], None),
    ("vmkfstools.clone-thin", "vmkfstools", ["-i", "vm1.vmdk", "-d", "thin", "copy.vmdk"], VM_DIR),
    ("vmkfstools.clone-rdm", "vmkfstools",
     ["-i", "vm1.vmdk", "-d", f"rdm:/vmfs/devices/disks/{LUN_RDM}", "copy-rdm.vmdk"], VM_DIR),
    ("vmkfstools.clone-exists", "vmkfstools", ["-i", "vm1.vmdk", "-d", "thin", "copy.vmdk"], VM_DIR),
    ("vmkfstools.query-rdmp", "vmkfstools", ["-q", "vm1_1.vmdk"], VM_DIR),
    ("vmkfstools.query-rdm", "vmkfstools", ["-q", "copy-rdm.vmdk"], VM_DIR),
]


def prepare(h):
    """State the golden outputs assume on top of the freshly built host."""
    p = h.esxcli("storage", "core", "device", "set", "--state=off", "-d", LUN_OFF)
    assert p.returncode == 0, p.stderr
    stats.add(h.host, LUN_RDM, commands=11816, blocksRead=36628, readOps=7468,
              reservationConflicts=10221, cloneWriteOps=39025, cloneWriteBlocks=8192)


def run(h, case):
    """One case's output as pinned text: stdout, then stderr and exit code if any."""
    name, tool, argv, cwd = case
    p = h.run(tool, *argv, cwd=h.path(cwd) if cwd else None)
    out = p.stdout.decode("utf-8", "surrogateescape")
    if p.stderr:
        out += "--- stderr ---\n" + p.stderr.decode("utf-8", "surrogateescape")
    if p.returncode:
        out += f"--- exit {p.returncode} ---\n"
    return out


def masked(name, out):
    """Free space depends on the test machine's file system: not part of the contract."""
    if not name.startswith("esxcli.storage-filesystem-list"):
        return out
    import re
    if name.endswith(".json"):
        return re.sub(r'"Free": \d+', '"Free": FREE', out)
    if name.endswith(".csv"):
        return re.sub(r",\d+,\n", ",FREE,\n", out)
    return re.sub(r"\s+\d+\n", "  FREE\n", out)


def golden_path(name):
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", name + ".txt")
