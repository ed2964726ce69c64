"""Per-device SCSI counters, as `vsish -e cat /storage/scsifw/devices/<id>/stats` shows them.

THE ASSUMPTION, in one place: the real stats node has been published only in part
(commands, blocksRead, blocksWritten, readOps, writeOps, reserveOps,
reservationConflicts, split statistics; see tests/sim/README.md). The clone
counters' names come from public scripts that parse the real output:
cloneReadOps, cloneWriteOps and failedCloneOps (kubev2v/forklift's
vmkfstools-wrapper greps cloneWriteOps; an XCOPY readiness script greps all
three). cloneReadBlocks and cloneWriteBlocks are our own guess. Where in the
block they appear is unknown; we put them after the split statistics.
"""
import os

from .host import read_json, write_json

# Field names in output order: the top block, the split-statistics sub-block, and
# the clone counters.
TOP_FIELDS = (
    "commands", "blocksRead", "blocksWritten", "readOps", "writeOps",
    "reserveOps", "reservationConflicts", "total cmds split", "total pae cmds",
)
SPLIT_TITLE = "per split-type stats"
SPLIT_BLOCK = "Split type statistics"
SPLIT_FIELDS = ("align", "maxxfer", "pae", "sgsize", "forcedCopy", "forcedSplit")
CLONE_FIELDS = (
    "cloneReadOps", "cloneWriteOps", "failedCloneOps", "cloneReadBlocks", "cloneWriteBlocks",
)
ALL_FIELDS = TOP_FIELDS + SPLIT_FIELDS + CLONE_FIELDS
INDENT = "   "


def _path(host, dev_id):
    return host.etc_path("stats", dev_id + ".json")


def read(host, dev_id):
    saved = read_json(_path(host, dev_id), {}) or {}
    return {name: int(saved.get(name, 0)) for name in ALL_FIELDS}


def add(host, dev_id, **deltas):
    """Add to a device's counters (keyword names without spaces map to fields)."""
    with host.lock("stats." + dev_id):
        counters = read(host, dev_id)
        for key, value in deltas.items():
            counters[key] = counters.get(key, 0) + int(value)
        os.makedirs(host.etc_path("stats"), exist_ok=True)
        write_json(_path(host, dev_id), counters)


def render(counters, raw):
    """The stats node as text; raw (-r) prints numbers as 0x%016x."""
    def num(v):
        return f"0x{v:016x}" if raw else str(v)

    lines = ["Statistics {"]
    for name in TOP_FIELDS:
        lines.append(f"{INDENT}{name}:{num(counters[name])}")
    lines.append(f"{INDENT}{SPLIT_TITLE}:{SPLIT_BLOCK} {{")
    for name in SPLIT_FIELDS:
        lines.append(f"{INDENT}{INDENT}{name}:{num(counters[name])}")
    lines.append(f"{INDENT}}}")
    for name in CLONE_FIELDS:
        lines.append(f"{INDENT}{name}:{num(counters[name])}")
    lines.append("}")
    return "\n".join(lines) + "\n"
