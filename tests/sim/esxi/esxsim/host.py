"""One simulated ESXi host: its root folder, its state files and their locking.

Layout of a host root (made by tests/sim/esxi/mkhost):
    ROOT/bin/{esxcli,vmkfstools,vsish}    the tools, wrappers that know ROOT
    ROOT/vmfs/volumes/<uuid>/...          datastore contents; <name> -> <uuid> symlinks
    ROOT/vmfs/devices/disks/<id>          one node per attached device
    ROOT/etc/host.json                    identity, adapters, datastores, fabric path
    ROOT/etc/advanced.json                advanced settings (/DataMover/...)
    ROOT/etc/sim.json                     simulator knobs (host copy rate ...)
    ROOT/etc/devices.json                 devices the host has discovered
    ROOT/etc/detached.json                detached-device configuration
    ROOT/etc/stats/<id>.json              per-device vsish counters
    ROOT/etc/locks/                       flock files
    ROOT/faults.json                      fault injection, re-read by every tool run

Every state write is write-temp-then-rename, and read-modify-write sequences hold
an flock, so tools running at the same time never see half a file.
Imports stay minimal: esxcli must start in well under 20 ms.
"""
import os
import sys
import fcntl

from . import fastjson

SIM_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FABRIC_MODULE_DIR = os.path.dirname(SIM_DIR)


class SimError(Exception):
    """A failure a tool reports in its own words, with its own exit code."""

    def __init__(self, message, exit_code=1):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def read_json(path, default=None):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return default
    return fastjson.loads(data)


def write_json(path, obj):
    write_atomic(path, (fastjson.dumps(obj, indent=1) + "\n").encode())


def write_atomic(path, data):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


class FileLock:
    """An exclusive flock held for the duration of a with-block."""

    def __init__(self, path):
        self.path = path
        self.fd = -1

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)
        self.fd = -1
        return False


class LazyModule(type(sys)):
    """Stands in for a module until an attribute is first used.

    tests/sim/fabric.py imports json at load time; the host tools only need the
    json-based fabric functions on rescans and clones, so the tools' entry point
    (main.run) installs this for json and json is really imported then.
    """

    def __getattr__(self, attr):
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        real = __import__(name)
        self.__dict__.update(real.__dict__)
        return getattr(real, attr)


def import_fabric():
    if "fabric" in sys.modules:
        return sys.modules["fabric"]
    if FABRIC_MODULE_DIR not in sys.path:
        sys.path.insert(0, FABRIC_MODULE_DIR)
    import fabric
    return fabric


class Host:
    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.etc = os.path.join(self.root, "etc")
        self.vmfs = os.path.join(self.root, "vmfs")
        self.volumes = os.path.join(self.vmfs, "volumes")
        self.disks_dir = os.path.join(self.vmfs, "devices", "disks")
        self._config = None

    # --- static configuration -------------------------------------------------
    @property
    def config(self):
        if self._config is None:
            cfg = read_json(os.path.join(self.etc, "host.json"))
            if cfg is None:
                raise SimError(f"not a simulated host root: {self.root}", 2)
            self._config = cfg
        return self._config

    @property
    def fabric_dir(self):
        return self.config["fabric"]

    def version_tuple(self):
        parts = []
        for p in str(self.config["version"]).split("."):
            parts.append(int(p) if p.isdigit() else 0)
        return tuple(parts)

    def adapters(self):
        return self.config["adapters"]

    def adapter(self, name):
        for a in self.config["adapters"]:
            if a["name"] == name:
                return a
        return None

    def datastores(self):
        return self.config["datastores"]

    # --- mutable state --------------------------------------------------------
    def etc_path(self, *parts):
        return os.path.join(self.etc, *parts)

    def lock(self, name):
        return FileLock(os.path.join(self.etc, "locks", name + ".lock"))

    def load(self, name, default=None):
        return read_json(self.etc_path(name), default)

    def save(self, name, obj):
        write_json(self.etc_path(name), obj)

    def advanced(self):
        return self.load("advanced.json", {})

    def advanced_int(self, path, default=0):
        entry = self.advanced().get(path)
        return default if entry is None else int(entry.get("int", default))

    def sim_setting(self, key, default):
        return self.load("sim.json", {}).get(key, default)

    # --- paths ----------------------------------------------------------------
    def host_path(self, path):
        """Map an ESXi path (/vmfs/...) into this root; other paths are kept."""
        if path == "/vmfs" or path.startswith("/vmfs/"):
            return self.root + path
        return path

    def esxi_path(self, path):
        """The /vmfs/... spelling of a path inside this root (for messages)."""
        ap = os.path.abspath(path)
        if ap == self.vmfs or ap.startswith(self.vmfs + "/"):
            return ap[len(self.root):]
        return path

    def datastore_of(self, path):
        """The datastore entry whose folder holds path (after symlinks), or None."""
        real = os.path.realpath(self.host_path(path))
        vols = os.path.realpath(self.volumes)
        if not real.startswith(vols + "/"):
            return None
        uuid = real[len(vols) + 1:].split("/", 1)[0]
        for ds in self.config["datastores"]:
            if ds["uuid"] == uuid:
                return ds
        return None

    def device_node(self, dev_id):
        return os.path.join(self.disks_dir, dev_id)
