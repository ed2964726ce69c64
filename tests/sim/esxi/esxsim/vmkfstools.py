"""The simulated vmkfstools: -i (clone), -U (delete a virtual disk), -q (query an RDM).

Option syntax as the real tool (getopt_long): short options take their value as
the next word or glued on (-dthin), long options as the next word or after "=".
Output goes to stdout, unbuffered; usage errors to stderr. Exit codes: 0 on
success, 1 on any failure (assumption, see tests/sim/README.md).
"""
import os
import sys

from . import clone, vmdk
from .host import SimError

# long name, short letter, takes a value, key
OPTIONS = (
    ("clonevirtualdisk", "i", True, "clone"),
    ("diskformat", "d", True, "format"),
    ("adaptertype", "a", True, "adapter"),
    ("deletevirtualdisk", "U", True, "delete"),
    ("queryrdm", "q", True, "query"),
    ("verbose", "v", True, "verbose"),
    ("avoidnativeclone", "N", False, "avoid_native"),
)
DISK_FORMATS = ("thin", "zeroedthick", "eagerzeroedthick")
USAGE = ("Usage: vmkfstools -i <src> [-d thin|zeroedthick|eagerzeroedthick|rdm:<dev>|rdmp:<dev>] <dst>\n"
         "       vmkfstools -U <disk>\n"
         "       vmkfstools -q <rdm>\n")


class UsageError(Exception):
    pass


def _lookup(short=None, long=None):
    for opt in OPTIONS:
        if opt[1] == short or opt[0] == long:
            return opt
    return None


def parse(argv):
    opts, positional = {}, []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            positional += argv[i:]
            break
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            opt = _lookup(long=name)
            if opt is None:
                raise UsageError(f"vmkfstools: unrecognized option '{arg}'")
            if opt[2] and not eq:
                if i >= len(argv):
                    raise UsageError(f"vmkfstools: option '--{name}' requires an argument")
                value = argv[i]
                i += 1
            opts[opt[3]] = value if opt[2] else True
        elif arg.startswith("-") and len(arg) > 1:
            opt = _lookup(short=arg[1])
            if opt is None:
                raise UsageError(f"vmkfstools: invalid option -- '{arg[1]}'")
            value = arg[2:]
            if opt[2] and not value:
                if i >= len(argv):
                    raise UsageError(f"vmkfstools: option requires an argument -- '{arg[1]}'")
                value = argv[i]
                i += 1
            opts[opt[3]] = value if opt[2] else True
        else:
            positional.append(arg)
    return opts, positional


def _split_format(spec):
    """('thin', None) / ('rdm', '<device path>') from a -d value."""
    if spec is None:
        return "zeroedthick", None
    for kind in ("rdm", "rdmp"):
        if spec.startswith(kind + ":") and len(spec) > len(kind) + 1:
            return kind, spec[len(kind) + 1:]
    if spec in DISK_FORMATS:
        return spec, None
    raise UsageError(f"vmkfstools: invalid disk format '{spec}'")


def do_clone(host, opts, positional, out):
    if len(positional) != 1:
        raise UsageError("vmkfstools: -i needs exactly one destination")
    fmt, dev = _split_format(opts.get("format"))
    if "adapter" in opts:
        out.write("Option --adaptertype is deprecated and hence will be ignored\n")
    return clone.run(host, opts["clone"], fmt, dev, positional[0], out,
                     avoid_native=bool(opts.get("avoid_native")))


def do_delete(host, arg, out):
    path = host.host_path(arg)
    try:
        desc = vmdk.parse(path)
    except vmdk.VmdkError as e:
        raise SimError(f"Failed to delete virtual disk: {e.text} ({e.code}).") from None
    # An RDM pointer's extent is the mapping file: deleting it never touches the LUN.
    for f in reversed(vmdk.files_of(desc)):
        try:
            os.unlink(f)
        except FileNotFoundError:
            pass
    return 0


def do_query(host, arg, out):
    try:
        desc = vmdk.parse(host.host_path(arg))
    except vmdk.VmdkError as e:
        raise SimError(f"Failed to open '{arg}': {e.text} ({e.code}).") from None
    kind = desc.create_type
    if kind not in vmdk.RDM_TYPES:
        out.write(f"Disk {arg} is not a Raw Device Mapping\n")
        return 0
    try:
        mapping = vmdk.read_rdm_mapping(desc.extent_path())
    except vmdk.VmdkError as e:
        raise SimError(f"Failed to open '{arg}': {e.text} ({e.code}).") from None
    what = "Passthrough" if kind == "vmfsPassthroughRawDeviceMap" else "Non-passthrough"
    out.write(f"Disk {arg} is a {what} Raw Device Mapping\nMaps to: {mapping['vml']}\n")
    return 0


def main(host, argv):
    # Die of SIGINT and SIGPIPE as a C tool does (Python would raise instead);
    # SIGTERM keeps its default action already.
    import signal
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    out = clone.Out()
    try:
        opts, positional = parse(argv)
        if "clone" in opts:
            return do_clone(host, opts, positional, out)
        if "delete" in opts:
            return do_delete(host, opts["delete"], out)
        if "query" in opts:
            return do_query(host, opts["query"], out)
        raise UsageError("vmkfstools: no operation given")
    except UsageError as e:
        sys.stderr.write(f"{e}\n{USAGE}")
        return 1
    except SimError as e:
        out.write(e.message + "\n")
        return e.exit_code
