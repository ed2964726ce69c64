"""The simulated vsish: `-e cat|get|ls <node>` and `-r` (raw numbers) on the
/storage/scsifw/devices tree, which is all xclone reads.

Errors for nodes that do not exist mimic vsish's path complaints; the wording is
an assumption (see tests/sim/README.md). Exit code 1 on error.
"""
import sys

from . import devices, stats

DEVICES_NODE = "/storage/scsifw/devices"
ERR_PATH = "VSISHPath_Form():Extraneous '{part}' in path.\nVSISHCmdGetInfo():mal-formed path\nError: mal-formed path\n"
USAGE = "Usage: vsish [-r] -e <cat|get|ls> <node>\n"


def _bad_path(path):
    parts = [p for p in path.split("/") if p]
    sys.stderr.write(ERR_PATH.format(part=parts[-1] if parts else path))
    return 1


def _stats_device(path):
    """The device id of /storage/scsifw/devices/<id>/stats, else None."""
    prefix = DEVICES_NODE + "/"
    if not path.startswith(prefix) or not path.endswith("/stats"):
        return None
    dev = path[len(prefix):-len("/stats")]
    return dev if dev and "/" not in dev else None


def parse(argv):
    """(raw, verb, node) from `[-r] -e VERB NODE`, or None."""
    raw = False
    for i, arg in enumerate(argv):
        if arg == "-r":
            raw = True
        elif arg == "-e":
            cmd = argv[i + 1:]
            return (raw, cmd[0], cmd[1]) if len(cmd) == 2 else None
        else:
            return None
    return None


def main(host, argv):
    parsed = parse(argv)
    if parsed is None:
        sys.stderr.write(USAGE)
        return 1
    raw, verb, node = parsed
    path = node.rstrip("/") or "/"
    table = devices.load(host)["devices"]
    if verb == "ls":
        if path != DEVICES_NODE:
            return _bad_path(path)
        sys.stdout.write("".join(d + "/\n" for d in sorted(table)))
        return 0
    if verb not in ("cat", "get"):
        sys.stderr.write(USAGE)
        return 1
    dev = _stats_device(path)
    if dev is None or dev not in table:
        return _bad_path(path)
    sys.stdout.write(stats.render(stats.read(host, dev), raw))
    return 0
