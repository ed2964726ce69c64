"""The simulated esxcli: the command subset xclone needs, with esxcli's syntax.

    esxcli [--formatter=json|csv] [--format-param=fields=A,B] [--debug] NAMESPACE... COMMAND [OPTIONS]

Each command is one row of COMMANDS: its words, its options, how its output is
shaped and the handler that builds it. Unknown commands fail as the real tool
does ("Error: Unknown command or namespace ..."). Error texts live in
messages.ESXCLI_ERRORS; failures print them on stderr and exit 1.
"""
import sys

from . import devices, esxcli_data as data, faults
from .esxcli_format import Output, render
from .host import SimError
from .messages import ESXCLI_ERRORS as ERRORS

TRUE_WORDS = ("true", "1", "yes")
BOOL_WORDS = TRUE_WORDS + ("false", "0", "no")


class Opt:
    def __init__(self, long, short=None, value=True, required=False, choices=None):
        self.long, self.short, self.value = long, short, value
        self.required, self.choices = required, choices

    @property
    def flags(self):
        return f"-{self.short}|--{self.long}" if self.short else f"--{self.long}"


def fail(key, **kw):
    raise SimError(ERRORS[key].format(**kw))


def parse_options(argv, specs):
    """{long name: value} from command options; booleans become True/False."""
    got = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        spec = None
        value = None
        if arg.startswith("--"):
            name, eq, v = arg[2:].partition("=")
            spec = next((s for s in specs if s.long == name), None)
            value = v if eq else None
        elif arg.startswith("-") and len(arg) >= 2:
            spec = next((s for s in specs if s.short == arg[1]), None)
            value = arg[2:] or None
        if spec is None:
            fail("option", opt=arg)
        if spec.value:
            if value is None:
                if i >= len(argv):
                    fail("missing", flags=spec.flags)
                value = argv[i]
                i += 1
            if spec.choices and value not in spec.choices:
                fail("value", flags=spec.flags, value=value)
            got[spec.long] = value
        else:
            if value is None and i < len(argv) and argv[i].lower() in BOOL_WORDS:
                value = argv[i]
                i += 1
            got[spec.long] = value is None or value.lower() in TRUE_WORDS
    for s in specs:
        if s.required and s.long not in got:
            fail("missing", flags=s.flags)
    return got


# --- handlers: (host, options) -> records -----------------------------------------------

def h_version(host, o):
    return data.version(host)


def h_hostname(host, o):
    return data.hostname(host)


def h_adapter_list(host, o):
    return data.adapter_list(host)


def h_rescan(host, o):
    if not o.get("all") and "adapter" not in o:
        fail("rescan_target")
    names = None if o.get("all") else [o["adapter"]]
    devices.rescan(host, names, o.get("type", "all"))
    return []


def _one_device(state, dev):
    if dev not in state["devices"]:
        fail("no_device", dev=dev)


def h_device_list(host, o):
    state = devices.load(host)
    dev = o.get("device")
    if dev is not None:
        _one_device(state, dev)
    return [data.device_record(host, d, state["devices"][d]) for d in sorted(state["devices"])
            if dev is None or d == dev]


def h_device_set(host, o):
    if "state" in o:
        devices.set_state(host, o["device"], o["state"] == "on")
    else:
        devices.find(host, o["device"])
    return []


def h_detached_list(host, o):
    config = devices.detached(host)
    dev = o.get("device")
    if dev is not None and dev not in config:
        fail("no_device", dev=dev)
    return [[("Device UID", d), ("State", config[d].get("state", "off"))]
            for d in sorted(config) if dev is None or d == dev]


def h_detached_remove(host, o):
    if o.get("all"):
        for dev in sorted(devices.detached(host)):
            devices.detached_remove(host, dev)
    elif "device" in o:
        devices.detached_remove(host, o["device"])
    else:
        fail("missing", flags="-d|--device")
    return []


def h_path_list(host, o):
    state = devices.load(host)
    dev = o.get("device")
    if dev is not None:
        _one_device(state, dev)
    recs = data.path_records(host, state, dev)
    if "path" in o:
        recs = [r for r in recs if dict(r)["UID"] == o["path"] or dict(r)["Runtime Name"] == o["path"]]
    return recs


def h_vaai(host, o):
    state = devices.load(host)
    dev = o.get("device")
    if dev is not None:
        _one_device(state, dev)
    return [data.vaai_record(d, state["devices"][d]) for d in sorted(state["devices"])
            if (dev is None or d == dev) and not state["devices"][d].get("local")]


def h_extents(host, o):
    return data.extents(host)


def h_filesystems(host, o):
    return data.filesystems(host)


def h_advanced_list(host, o):
    settings = host.advanced()
    path = o.get("option")
    if path is not None and path not in settings:
        fail("no_option", path=path)
    return [data.advanced_record(host, p, settings[p]) for p in sorted(settings)
            if path is None or p == path]


def h_advanced_set(host, o):
    path = o["option"]
    with host.lock("advanced"):
        settings = host.advanced()
        opt = settings.get(path)
        if opt is None:
            fail("no_option", path=path)
        if "int-value" in o:
            try:
                value = int(o["int-value"])
            except ValueError:
                fail("value", flags="-i|--int-value", value=o["int-value"])
            lo, hi = int(opt.get("min", 0)), int(opt.get("max", 0))
            if not lo <= value <= hi:
                fail("range", value=value, path=path, lo=lo, hi=hi)
            opt["int"] = value
        elif o.get("default"):
            opt["int"] = opt.get("default", 0)
        host.save("advanced.json", settings)
    return []


def h_iscsi_list(host, o):
    return data.iscsi_adapter_list(host)


def h_iscsi_get(host, o):
    recs = data.iscsi_adapter_get(host, o["adapter"])
    if recs is None:
        fail("no_adapter", name=o["adapter"])
    return recs


def h_nvme_info(host, o):
    return data.nvme_info(host)


def h_module_params(host, o):
    recs = data.module_parameters(host, o["module"])
    if recs is None:
        fail("no_module", name=o["module"])
    return recs


RIGHT_FS = ("Mounted", "Size", "Free")
DEVICE = Opt("device", "d")
COMMANDS = {
    ("system", "version", "get"): ((), Output("struct"), h_version),
    ("system", "hostname", "get"): ((), Output("struct"), h_hostname),
    ("storage", "core", "adapter", "list"): (
        (), Output("table", ["HBA Name", "Driver", "Link State", "UID", "Capabilities", "Description"],
                   wide_last=True), h_adapter_list),
    ("storage", "core", "adapter", "rescan"): (
        (Opt("adapter", "A"), Opt("all", "a", value=False),
         Opt("type", "t", choices=devices.RESCAN_TYPES), Opt("skip-claim", "S", value=False),
         Opt("update-path", "u", value=False)), Output("none"), h_rescan),
    ("storage", "core", "device", "list"): (
        (DEVICE, Opt("exclude-offline", "o", value=False), Opt("pe-only", "p", value=False)),
        Output("blocks", key="Device"), h_device_list),
    ("storage", "core", "device", "set"): (
        (Opt("device", "d", required=True), Opt("state", None, choices=("on", "off"))),
        Output("none"), h_device_set),
    ("storage", "core", "device", "detached", "list"): (
        (DEVICE,), Output("table", ["Device UID", "State"]), h_detached_list),
    ("storage", "core", "device", "detached", "remove"): (
        (DEVICE, Opt("all", "a", value=False)), Output("none"), h_detached_remove),
    ("storage", "core", "device", "vaai", "status", "get"): (
        (DEVICE,), Output("blocks", key="Device"), h_vaai),
    ("storage", "core", "path", "list"): (
        (DEVICE, Opt("path", "p")), Output("blocks", key="UID", key_line=True, key_colon=True),
        h_path_list),
    ("storage", "vmfs", "extent", "list"): (
        (), Output("table", ["Volume Name", "VMFS UUID", "Extent Number", "Device Name", "Partition"],
                   right=("Extent Number", "Partition")), h_extents),
    ("storage", "filesystem", "list"): (
        (Opt("ignore-errors", "i", value=False),),
        Output("table", ["Mount Point", "Volume Name", "UUID", "Mounted", "Type", "Size", "Free"],
               right=RIGHT_FS), h_filesystems),
    ("system", "settings", "advanced", "list"): (
        (Opt("option", "o"), Opt("delta", "d", value=False), Opt("tree", "t")),
        Output("structs"), h_advanced_list),
    ("system", "settings", "advanced", "set"): (
        (Opt("option", "o", required=True), Opt("int-value", "i"), Opt("string-value", "s"),
         Opt("default", "d", value=False)), Output("none"), h_advanced_set),
    ("iscsi", "adapter", "list"): (
        (), Output("table", ["Adapter", "Driver", "State", "UID", "Description"]), h_iscsi_list),
    ("iscsi", "adapter", "get"): (
        (Opt("adapter", "A", required=True),), Output("blocks", key="Adapter"), h_iscsi_get),
    ("nvme", "info", "get"): ((), Output("struct"), h_nvme_info),
    ("system", "module", "parameters", "list"): (
        (Opt("module", "m", required=True),), Output("table", ["Name", "Type", "Value", "Description"]),
        h_module_params),
}


def split_global(argv):
    """(formatter, fields, rest) from esxcli's own options before the namespace."""
    formatter, fields = "default", None
    i = 0
    while i < len(argv) and argv[i].startswith("--"):
        name, eq, value = argv[i][2:].partition("=")
        i += 1
        if name in ("formatter", "format-param") and not eq:
            if i >= len(argv):
                fail("missing", flags="--" + name)
            value = argv[i]
            i += 1
        if name == "formatter":
            if value not in ("csv", "json"):
                fail("formatter", name=value)
            formatter = value
        elif name == "format-param":
            key, _, v = value.partition("=")
            if key == "fields":
                fields = [f.strip() for f in v.strip('"').split(",")]
        elif name != "debug":
            fail("option", opt=argv[i - 1])
    return formatter, fields, argv[i:]


def find_command(rest):
    words = []
    for w in rest:
        if w.startswith("-"):
            break
        words.append(w)
    key = tuple(words)
    if not key:
        fail("usage")
    if key not in COMMANDS:
        fail("unknown", words=" ".join(words))
    return key, rest[len(words):]


def main(host, argv):
    try:
        formatter, fields, rest = split_global(argv)
        key, opt_argv = find_command(rest)
        failure = faults.esxcli_failure(host, list(key))
        if failure is not None:
            raise SimError(*failure)
        specs, output, handler = COMMANDS[key]
        records = handler(host, parse_options(opt_argv, specs))
        text = render(output, records, formatter, fields)
    except SimError as e:
        sys.stderr.buffer.write((e.message + "\n").encode("utf-8", "surrogateescape"))
        return e.exit_code
    sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))
    return 0
