"""VMDK descriptors and the simulator's delta (snapshot) extent format.

Descriptors are real text descriptor files: header keys (version, encoding, CID,
parentCID, isNativeSnapshot, createType, parentFileNameHint), extent lines
`RW <sectors> <TYPE> "<file>"` and the `ddb.*` data base, laid out as the public
samples in tests/sim/README.md show them. File names are written as they are,
quotes included; a parser takes the text between the first and the last quote of
the line, which is unambiguous because nothing follows the file name.

Delta extents (vmfsSparse "-delta.vmdk", seSparse "-sesparse.vmdk") use a simple
grain format of our own (the real sparse formats are not needed by anyone here):
    0   8 bytes  magic b"XCSIMGRN"
    8   u32 LE   format version (1)
    12  u32 LE   grain size in bytes
    16  u64 LE   capacity in bytes
    24  u64 LE   number of grains N
    32  N x u64  grain numbers, ascending
    then, from the next 4096-byte boundary, N grains of data in the same order.
Only written grains are stored.
"""
import os
import struct

SECTOR = 512
GRAIN_MAGIC = b"XCSIMGRN"
GRAIN_HEADER = struct.Struct("<8sIIQQ")
GRAIN_ALIGN = 4096

FLAT_TYPES = ("vmfs", "monolithicFlat")
DELTA_TYPES = {"vmfsSparse": ("VMFSSPARSE", "-delta.vmdk"), "seSparse": ("SESPARSE", "-sesparse.vmdk")}
RDM_TYPES = {"vmfsRawDeviceMap": ("VMFSRDM", "-rdm.vmdk"),
             "vmfsPassthroughRawDeviceMap": ("VMFSRDM", "-rdmp.vmdk")}
NO_PARENT = "ffffffff"

# Error texts vmkfstools prints (see README: which are sampled, which assumed).
ERR_NOT_VMDK = ("The file specified is not a virtual disk", 15)
ERR_NOT_FOUND = ("The system cannot find the file specified", 25)
ERR_PARENT_CHANGED = ("The parent virtual disk has been modified since the child was created. "
                      "The content ID of the parent virtual disk does not match the corresponding "
                      "parent content ID in the child", 18)


class VmdkError(Exception):
    def __init__(self, err):
        super().__init__(err[0])
        self.text, self.code = err


class Descriptor:
    def __init__(self, path):
        self.path = path
        self.header = {}
        self.extents = []          # (access, sectors, type, filename)
        self.ddb = {}

    @property
    def create_type(self):
        return self.header.get("createType", "")

    @property
    def capacity(self):
        return sum(e[1] for e in self.extents) * SECTOR

    @property
    def cid(self):
        return self.header.get("CID", "")

    @property
    def parent_cid(self):
        return self.header.get("parentCID", NO_PARENT)

    def extent_path(self, i=0):
        return os.path.join(os.path.dirname(self.path), self.extents[i][3])


def _unquote(value):
    value = value.strip()
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1]
    return value


def _parse_extent(line):
    first, last = line.find('"'), line.rfind('"')
    if first < 0 or last <= first:
        raise VmdkError(ERR_NOT_VMDK)
    fields = line[:first].split()
    if len(fields) != 3 or not fields[1].isdigit():
        raise VmdkError(ERR_NOT_VMDK)
    return fields[0], int(fields[1]), fields[2], line[first + 1:last]


def parse(path):
    """Read a descriptor file; raises VmdkError like the real tool would."""
    try:
        with open(path, "rb") as f:
            data = f.read(65536)
    except FileNotFoundError:
        raise VmdkError(ERR_NOT_FOUND) from None
    except IsADirectoryError:
        raise VmdkError(ERR_NOT_VMDK) from None
    if b"\0" in data or not data.lstrip().startswith(b"# Disk DescriptorFile"):
        raise VmdkError(ERR_NOT_VMDK)
    d = Descriptor(path)
    for raw in data.decode("utf-8", "surrogateescape").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("RW ", "RDONLY ", "NOACCESS ")):
            d.extents.append(_parse_extent(line))
        elif line.startswith("ddb."):
            key, _, value = line.partition("=")
            d.ddb[key.strip()] = _unquote(value)
        elif "=" in line:
            key, _, value = line.partition("=")
            d.header[key.strip()] = _unquote(value)
    if not d.extents or "createType" not in d.header:
        raise VmdkError(ERR_NOT_VMDK)
    return d


def new_uuid(raw=None):
    """ddb.uuid in the descriptor samples' spelling: "60 00 c2 97 ee 00 4e ed-cb 09 ..."."""
    raw = raw or os.urandom(16)
    hexes = ["%02x" % b for b in raw]
    return " ".join(hexes[:8]) + "-" + " ".join(hexes[8:])


def geometry(capacity):
    sectors = capacity // SECTOR
    return {"ddb.geometry.cylinders": str(max(1, sectors // (255 * 63))),
            "ddb.geometry.heads": "255", "ddb.geometry.sectors": "63"}


def render(header, extents, ddb):
    """Descriptor text. header: ordered (key, value, quoted) triples."""
    lines = ["# Disk DescriptorFile"]
    for key, value, quoted in header:
        lines.append(f'{key}="{value}"' if quoted else f"{key}={value}")
    lines += ["", "# Extent description"]
    for access, sectors, kind, name in extents:
        lines.append(f'{access} {sectors} {kind} "{name}"')
    lines += ["", "# The Disk Data Base", "#DDB", ""]
    for key in sorted(ddb):
        lines.append(f'{key} = "{ddb[key]}"')
    return "\n".join(lines) + "\n"


def descriptor_text(create_type, cid, capacity, extent_name, parent_cid=NO_PARENT,
                    parent_hint=None, ddb=None):
    header = [("version", "1", False), ("encoding", "UTF-8", True), ("CID", cid, False),
              ("parentCID", parent_cid, False), ("isNativeSnapshot", "no", True),
              ("createType", create_type, True)]
    if parent_hint is not None:
        header.append(("parentFileNameHint", parent_hint, True))
    if create_type in DELTA_TYPES:
        kind = DELTA_TYPES[create_type][0]
    elif create_type in RDM_TYPES:
        kind = RDM_TYPES[create_type][0]
    else:
        kind = "VMFS"
    base = dict(ddb or {})
    if create_type not in DELTA_TYPES:
        base.update(geometry(capacity))
        base.setdefault("ddb.adapterType", "lsilogic")
        base.setdefault("ddb.virtualHWVersion", "13")
    base.setdefault("ddb.longContentID", (cid * 4)[:32])
    return render(header, [("RW", capacity // SECTOR, kind, extent_name)], base)


def write_new(path, text):
    """Create a descriptor; fails if it exists (O_EXCL), like the real create."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(text.encode("utf-8", "surrogateescape"))


# --- delta extents -----------------------------------------------------------------

def write_grains(path, grain_size, capacity, grains):
    """Write a delta extent holding exactly the given {grain number: bytes}."""
    numbers = sorted(grains)
    header = GRAIN_HEADER.pack(GRAIN_MAGIC, 1, grain_size, capacity, len(numbers))
    index = struct.pack(f"<{len(numbers)}Q", *numbers)
    data_at = -(-(len(header) + len(index)) // GRAIN_ALIGN) * GRAIN_ALIGN
    with open(path, "wb") as f:
        f.write(header + index)
        f.seek(data_at)
        for n in numbers:
            block = grains[n]
            if len(block) != grain_size:
                raise ValueError("grain of wrong size")
            f.write(block)


class GrainFile:
    """Read access to a delta extent."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            head = f.read(GRAIN_HEADER.size)
            if len(head) != GRAIN_HEADER.size:
                raise VmdkError(ERR_NOT_VMDK)
            magic, version, self.grain_size, self.capacity, count = GRAIN_HEADER.unpack(head)
            if magic != GRAIN_MAGIC or version != 1 or self.grain_size <= 0:
                raise VmdkError(ERR_NOT_VMDK)
            raw = f.read(8 * count)
        if len(raw) != 8 * count:
            raise VmdkError(ERR_NOT_VMDK)
        self.numbers = list(struct.unpack(f"<{count}Q", raw))
        self.data_at = -(-(GRAIN_HEADER.size + 8 * count) // GRAIN_ALIGN) * GRAIN_ALIGN
        self.slot = {n: i for i, n in enumerate(self.numbers)}

    def grains_in(self, start, end):
        """(offset, file offset) of stored grains overlapping [start, end)."""
        g = self.grain_size
        first, last = start // g, (end - 1) // g
        if last - first < len(self.numbers):
            for n in range(first, last + 1):
                i = self.slot.get(n)
                if i is not None:
                    yield n * g, self.data_at + i * g
        else:
            for i, n in enumerate(self.numbers):
                if first <= n <= last:
                    yield n * g, self.data_at + i * g


# --- chains --------------------------------------------------------------------------

class Chain:
    """A disk as the guest sees it: a base (flat or RDM) and deltas, oldest first."""

    def __init__(self, base, deltas):
        self.base = base           # Descriptor
        self.deltas = deltas       # [Descriptor], oldest first
        self.top = deltas[-1] if deltas else base

    @property
    def capacity(self):
        return self.top.capacity

    @property
    def sparse(self):
        return bool(self.deltas)

    @property
    def is_rdm(self):
        return self.base.create_type in RDM_TYPES


def resolve_parent(child, host_path):
    hint = child.header.get("parentFileNameHint")
    if not hint:
        raise VmdkError(ERR_NOT_VMDK)
    hint = host_path(hint)
    if not os.path.isabs(hint):
        hint = os.path.join(os.path.dirname(child.path), hint)
    return hint


def open_chain(path, host_path=lambda p: p, max_depth=255):
    """Follow parentFileNameHint to the base; checks every parentCID."""
    top = parse(path)
    deltas = []
    d = top
    while d.create_type in DELTA_TYPES:
        if len(deltas) >= max_depth:
            raise VmdkError(ERR_NOT_VMDK)
        deltas.append(d)
        parent = parse(resolve_parent(d, host_path))
        if parent.cid != d.parent_cid:
            raise VmdkError(ERR_PARENT_CHANGED)
        d = parent
    if d.create_type not in FLAT_TYPES and d.create_type not in RDM_TYPES:
        raise VmdkError(ERR_NOT_VMDK)
    deltas.reverse()
    return Chain(d, deltas)


def files_of(desc):
    """The descriptor and its extent files (what -U deletes)."""
    return [desc.path] + [desc.extent_path(i) for i in range(len(desc.extents))]


# --- RDM mapping files ------------------------------------------------------------
# The real -rdm.vmdk is a VMFS mapping object; ours is a small text header naming
# the device, extended (sparse) to the LUN size so `ls -l` shows that size.
RDM_MAGIC = "XCLONE-SIM RDM v1"


def write_rdm_mapping(path, dev_id, vml, physical, size):
    text = f"{RDM_MAGIC}\ndevice={dev_id}\nvml={vml}\nmode={'physical' if physical else 'virtual'}\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(text.encode())
        f.truncate(max(size, len(text)))


def read_rdm_mapping(path):
    try:
        with open(path, "rb") as f:
            head = f.read(4096).split(b"\0", 1)[0].decode("utf-8", "replace")
    except FileNotFoundError:
        raise VmdkError(ERR_NOT_FOUND) from None
    lines = head.splitlines()
    if not lines or lines[0] != RDM_MAGIC:
        raise VmdkError(ERR_NOT_VMDK)
    out = {}
    for line in lines[1:]:
        key, _, value = line.partition("=")
        out[key] = value
    return out
