"""vmkfstools -i: clone a virtual disk (chain merged) to a new disk or an RDM.

Decides, as the VMFS data mover does, whether the array can do the copy (XCOPY):
HardwareAcceleratedMove = 1, no snapshot/sparse source, source and target LUNs on
the same array, the target device reporting VAAI clone support, and not an RDM
source cloned to a plain file (vSphere Storage guide, "Hardware Acceleration
Considerations"). Offloaded copies are sparse-aware copy_file_range (fast) and
grow the clone counters; host copies read the merged chain, are throttled to
etc/sim.json host_copy_rate_mib_s and grow the ordinary read/write counters.

The copy runs in 100 slices; after each one the progress line is printed, which
is also where injected faults fire. SIGTERM keeps its default action, so a
cancelled clone dies at once and leaves a partly written target, like the real one.
"""
import os
import time

from . import devices, faults, stats, vmdk
from .host import SimError

MiB = 1 << 20
HOST_IO = MiB                  # I/O size the simulated host data mover counts
DEFAULT_HOST_RATE_MIB = 400
ERR_EXISTS = ("The file already exists", 39)
ERR_NO_DEVICE = ("No such device or address", 393225)
ERR_NO_SPACE = ("There is not enough space on the file system for the selected operation", 13)

# THE ASSUMPTION for the first output line of formats no public sample shows
# (eagerzeroedthick, rdmp): same wording pattern as the sampled ones.
FORMAT_LINES = {
    "zeroedthick": "VMFS zeroedthick",
    "thin": "VMFS thin-provisioned",
    "eagerzeroedthick": "VMFS eagerzeroedthick",
    "rdm": "raw disk mapping to '{dev}'",
    "rdmp": "pass-through raw disk mapping to '{dev}'",
}


def clone_error(err):
    return SimError(f"Failed to clone disk: {err[0]} ({err[1]}).")


class Out:
    """Unbuffered stdout: the agent reads progress live through a pipe."""

    def write(self, text):
        data = text.encode("utf-8", "surrogateescape")
        while data:
            n = os.write(1, data)
            data = data[n:]


class Source:
    def __init__(self, host, arg):
        try:
            self.chain = vmdk.open_chain(host.host_path(arg), host.host_path)
        except vmdk.VmdkError as e:
            if e.code == vmdk.ERR_NOT_FOUND[1]:
                raise SimError(f"Failed to open '{arg}': {e.text} ({e.code}).") from None
            raise SimError(f"Failed to clone disk: {e.text} ({e.code}).") from None
        base = self.chain.base
        if self.chain.is_rdm:
            mapping = _mapping(base)
            self.device = mapping["device"]
            self.data_path = _attached_lun(host, self.device)
        else:
            ds = host.datastore_of(base.path)
            self.device = ds["extents"][0]["device"] if ds else None
            self.data_path = base.extent_path()
        self.deltas = [vmdk.GrainFile(d.extent_path()) for d in self.chain.deltas]


def _mapping(desc):
    try:
        return vmdk.read_rdm_mapping(desc.extent_path())
    except vmdk.VmdkError as e:
        raise clone_error((e.text, e.code)) from None


def _attached_lun(host, dev_id):
    """The LUN data file of an attached, live device, or the error the tool prints."""
    entry = devices.load(host)["devices"].get(dev_id)
    if entry is None or entry.get("state") == "off" or not os.path.lexists(host.device_node(dev_id)):
        raise clone_error(vmdk.ERR_NOT_FOUND)
    if devices.status(host, dev_id, entry) != "on":
        raise clone_error(ERR_NO_DEVICE)
    return entry["node"]


class Target:
    def __init__(self, host, fmt, dev_arg, dst_arg, capacity):
        self.fmt = fmt
        self.path = host.host_path(dst_arg)
        self.rdm = fmt in ("rdm", "rdmp")
        if os.path.lexists(self.path):
            raise clone_error(ERR_EXISTS)
        if not os.path.isdir(os.path.dirname(os.path.abspath(self.path))):
            raise clone_error(vmdk.ERR_NOT_FOUND)
        base = os.path.basename(self.path)
        stem = base[:-5] if base.endswith(".vmdk") else base
        if self.rdm:
            node = host.host_path(dev_arg)
            if os.path.realpath(os.path.dirname(node)) != os.path.realpath(host.disks_dir):
                raise clone_error(vmdk.ERR_NOT_FOUND)
            self.device = os.path.basename(node)
            self.data_path = _attached_lun(host, self.device)
            self.size = devices.find(host, self.device)["size"]
            if self.size < capacity:
                raise clone_error(ERR_NO_SPACE)
            suffix = vmdk.RDM_TYPES[self._create_type()][1]
        else:
            ds = host.datastore_of(self.path)
            self.device = ds["extents"][0]["device"] if ds else None
            self.size = capacity
            suffix = "-flat.vmdk"
        self.extent_name = stem + suffix
        self.extent_path = os.path.join(os.path.dirname(self.path), self.extent_name)
        if os.path.lexists(self.extent_path):
            raise clone_error(ERR_EXISTS)

    def _create_type(self):
        if self.fmt == "rdm":
            return "vmfsRawDeviceMap"
        if self.fmt == "rdmp":
            return "vmfsPassthroughRawDeviceMap"
        return "vmfs"

    def create(self, host, capacity):
        """Make the descriptor and its extent, as the real clone does before copying."""
        cid = "%08x" % (int.from_bytes(os.urandom(4), "big") | 1)
        ddb = {"ddb.uuid": vmdk.new_uuid()}
        if self.fmt == "thin":
            ddb["ddb.thinProvisioned"] = "1"
        size = self.size if self.rdm else capacity
        text = vmdk.descriptor_text(self._create_type(), cid, size, self.extent_name, ddb=ddb)
        try:
            vmdk.write_new(self.path, text)
        except FileExistsError:
            raise clone_error(ERR_EXISTS) from None
        if self.rdm:
            entry = devices.find(host, self.device)
            vmdk.write_rdm_mapping(self.extent_path, self.device, entry["vml"],
                                   self.fmt == "rdmp", self.size)
            return
        fd = os.open(self.extent_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            if self.fmt == "thin":
                os.ftruncate(fd, capacity)
            else:
                os.posix_fallocate(fd, 0, capacity)
        finally:
            os.close(fd)
        self.data_path = self.extent_path


def offload_reason(host, src, dst):
    """None when the array can do the copy, else why not."""
    if host.advanced_int("/DataMover/HardwareAcceleratedMove", 1) != 1:
        return "HardwareAcceleratedMove is 0"
    if src.chain.sparse:
        return "source has snapshots (sparse)"
    if src.chain.is_rdm and not dst.rdm:
        return "RDM source to a non-RDM file"
    if src.device is None or dst.device is None:
        return "source or target is not on a SAN device"
    table = devices.load(host)["devices"]
    s, t = table.get(src.device), table.get(dst.device)
    if s is None or t is None or s.get("local") or t.get("local"):
        return "source or target is not on a SAN device"
    if s.get("array") != t.get("array"):
        return "source and target LUNs are on different arrays"
    if not t["vaai"]["clone"]:
        return "target device does not support VAAI clone"
    # XCOPY needs both ends: the source LUN must take the command as well.
    if not s["vaai"]["clone"]:
        return "source device does not support VAAI clone"
    return None


def _data_ranges(fd, start, end):
    """(start, end) of allocated data in [start, end) via SEEK_DATA/SEEK_HOLE."""
    pos = start
    while pos < end:
        try:
            data = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError:
            return
        if data >= end:
            return
        hole = min(os.lseek(fd, data, os.SEEK_HOLE), end)
        yield data, hole
        pos = hole


def _zero_fill(fd, start, end):
    """Make [start, end) read as zeros where the target already holds data."""
    zero = bytes(min(end - start, 4 * MiB))
    for a, b in list(_data_ranges(fd, start, end)):
        while a < b:
            n = os.pwrite(fd, zero[:min(len(zero), b - a)], a)
            a += n


class Counters:
    """Counter increments kept in memory and written every few slices: one locked
    file update per device per flush instead of one per slice."""

    def __init__(self, host):
        self.host = host
        self.pending = {}

    def add(self, dev_id, **deltas):
        if not dev_id:
            return
        mine = self.pending.setdefault(dev_id, {})
        for key, value in deltas.items():
            mine[key] = mine.get(key, 0) + value

    def flush(self):
        for dev_id, deltas in self.pending.items():
            stats.add(self.host, dev_id, **deltas)
        self.pending = {}


class Copier:
    def __init__(self, host, src, dst, offloaded):
        self.host = host
        self.src = src
        self.dst = dst
        self.offloaded = offloaded
        self.counters = Counters(host)
        self.sfd = os.open(src.data_path, os.O_RDONLY)
        self.dfd = os.open(dst.data_path, os.O_WRONLY)
        self.delta_fds = [os.open(g.path, os.O_RDONLY) for g in src.deltas]
        xfer_kb = host.advanced_int("/DataMover/MaxHWTransferSize", 4096)
        self.xfer = max(1, xfer_kb) * 1024

    def close(self):
        self.counters.flush()
        for fd in [self.sfd, self.dfd] + self.delta_fds:
            os.close(fd)

    def slice(self, start, end):
        if self.offloaded:
            self._offload(start, end)
        else:
            self._host_copy(start, end)

    def _offload(self, start, end):
        done = 0
        pos = start
        for a, b in _data_ranges(self.sfd, start, end):
            _zero_fill(self.dfd, pos, a)
            off = a
            while off < b:
                n = os.copy_file_range(self.sfd, self.dfd, b - off, off, off)
                if n <= 0:
                    raise clone_error(ERR_NO_DEVICE)
                off += n
            done += b - a
            pos = b
        _zero_fill(self.dfd, pos, end)
        if done:
            ops = -(-done // self.xfer)
            blocks = done // vmdk.SECTOR
            self.counters.add(self.dst.device, commands=ops, cloneWriteOps=ops, cloneWriteBlocks=blocks)
            self.counters.add(self.src.device, commands=ops, cloneReadOps=ops, cloneReadBlocks=blocks)

    def _merged(self, start, end):
        """The guest-visible bytes of [start, end), or None when they are all zero."""
        buf = None
        for a, b in _data_ranges(self.sfd, start, end):
            buf = buf or bytearray(end - start)
            chunk = os.pread(self.sfd, b - a, a)
            buf[a - start:a - start + len(chunk)] = chunk
        for grains, fd in zip(self.src.deltas, self.delta_fds):
            g = grains.grain_size
            for off, foff in grains.grains_in(start, end):
                buf = buf or bytearray(end - start)
                lo, hi = max(off, start), min(off + g, end)
                data = os.pread(fd, hi - lo, foff + (lo - off))
                buf[lo - start:lo - start + len(data)] = data
        return buf

    def _host_copy(self, start, end):
        buf = self._merged(start, end)
        length = end - start
        written = 0
        if buf is not None:
            view = memoryview(buf)
            while written < length:
                written += os.pwrite(self.dfd, view[written:], start + written)
        else:
            _zero_fill(self.dfd, start, end)
        rops = -(-length // HOST_IO)
        self.counters.add(self.src.device, commands=rops, readOps=rops, blocksRead=length // vmdk.SECTOR)
        if written:
            wops = -(-written // HOST_IO)
            self.counters.add(self.dst.device, commands=wops, writeOps=wops,
                              blocksWritten=written // vmdk.SECTOR)


def _log(host, record):
    """One JSON line per clone in etc/clones.log: tests read why XCOPY was or was not used."""
    from .fastjson import dumps
    line = (dumps(record) + "\n").encode()
    fd = os.open(host.etc_path("clones.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def _note_datastore_overwrite(host, dst):
    """The agent must never point an RDM at a datastore's LUN: record it if it does."""
    for ds in host.datastores():
        if any(e["device"] == dst.device for e in ds["extents"]):
            with open(host.etc_path("violations.log"), "a") as f:
                f.write(f"clone wrote datastore {ds['name']} device {dst.device}\n")


def run(host, src_arg, fmt, dev_arg, dst_arg, out, avoid_native=False):
    """Clone; returns the exit code. SimError carries the failure text.

    avoid_native (-N) makes the data mover skip the array's clone primitive."""
    src = Source(host, src_arg)
    capacity = src.chain.capacity
    dst = Target(host, fmt, dev_arg, dst_arg, capacity)
    fault = faults.CloneFaults(host, src_arg, dst_arg)
    reason = "-N (avoid native clone) given" if avoid_native else offload_reason(host, src, dst)
    offloaded = reason is None
    out.write("Destination disk format: " + FORMAT_LINES[fmt].format(dev=dev_arg) + "\n")
    out.write(f"Cloning disk '{src_arg}'...\n")
    dst.create(host, capacity)
    if dst.rdm:
        _note_datastore_overwrite(host, dst)
    _log(host, {"pid": os.getpid(), "source": src_arg, "target": dst_arg, "format": fmt,
                "device": dst.device, "offloaded": offloaded, "reason": reason or "",
                "capacity": capacity})
    rate = 0 if offloaded else host.sim_setting("host_copy_rate_mib_s", DEFAULT_HOST_RATE_MIB)
    if offloaded:
        rate = host.sim_setting("offload_rate_mib_s", 0)
    copier = Copier(host, src, dst, offloaded)
    try:
        return _copy(host, copier, capacity, rate, fault, out)
    finally:
        copier.close()


def _copy(host, copier, capacity, rate_mib, fault, out):
    started = time.monotonic()
    for percent in range(0, 101):
        if percent:
            copier.slice(capacity * (percent - 1) // 100, capacity * percent // 100)
            if rate_mib:
                due = started + (capacity * percent / 100) / (rate_mib * MiB)
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
        out.write(f"\rClone: {percent}% done.")
        if percent % 10 == 0:
            copier.counters.flush()
        code = _faults_at(host, copier, fault, percent, out)
        if code is not None:
            return code
    out.write("\n")
    return 0


def _faults_at(host, copier, fault, percent, out):
    rule = fault.at("clone_stall", percent)
    if rule:
        time.sleep(int(rule.get("ms", 1000)) / 1000.0)
    if fault.at("clone_hang", percent):
        while True:
            time.sleep(3600)
    rule = fault.at("clone_fail", percent)
    if rule:
        if copier.offloaded:
            copier.counters.add(copier.dst.device, failedCloneOps=1)
        message = rule.get("message", "Input/output error")
        code = int(rule.get("code", 327689))
        out.write(f"Failed to clone disk: {message} ({code}).\n")
        return int(rule.get("exit_code", 1))
    return None
