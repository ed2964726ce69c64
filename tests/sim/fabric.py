"""The SAN fabric contract shared by the array simulator and the ESXi host simulator.

The array simulator (tests/sim/arrays) is the only writer of mappings; the host
simulator (tests/sim/esxi) reads them when it rescans. A fabric is a folder:

    <fabric>/luns/<device-id>/meta.json   {"array": id, "vendor": str, "model": str,
                                            "size": bytes, "serial": str,
                                            "vaai_clone": bool}
    <fabric>/luns/<device-id>/data        the LUN's bytes (a sparse regular file,
                                          or a symlink to the volume's backing file)
    <fabric>/maps/<initiator>/<device-id> empty file: the LUN is presented to that
                                          initiator (iSCSI IQN, fc.WWNN:WWPN, NVMe NQN,
                                          or a PowerFlex SDC GUID)

<device-id> is the id ESXi shows (naa.*, eui.*, t10.*). Every write is a
create-then-rename so a concurrent reader never sees half a file. Two LUNs are
"on the same array" when their meta.json "array" values are equal: that is what
the host simulator's XCOPY decision reads.

Usable as a module or as a command (python3 fabric.py ROOT VERB ...).
"""
import json
import os
import sys

_DEFAULT_META = {"vendor": "SIMARRAY", "model": "SimLUN", "serial": "", "vaai_clone": True}


def _check_name(kind, name):
    if not name or "/" in name or name.startswith(".") or "\0" in name:
        raise ValueError(f"bad {kind} name: {name!r}")


def _write_atomic(path, data):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def lun_dir(root, dev_id):
    _check_name("device", dev_id)
    return os.path.join(root, "luns", dev_id)


def create_lun(root, dev_id, array, size, backing=None, **meta):
    """Create (or resize/update) a LUN; its data file is sparse unless backing is given."""
    d = lun_dir(root, dev_id)
    os.makedirs(d, exist_ok=True)
    m = dict(_DEFAULT_META)
    m.update(meta)
    m.update({"array": array, "size": int(size)})
    data = os.path.join(d, "data")
    if backing is not None:
        if os.path.lexists(data):
            os.unlink(data)
        os.symlink(os.path.abspath(backing), data)
    else:
        with open(data, "ab") as f:
            f.truncate(int(size))
    _write_atomic(os.path.join(d, "meta.json"), json.dumps(m, sort_keys=True).encode())
    return d


def delete_lun(root, dev_id):
    d = lun_dir(root, dev_id)
    for ini in _initiators(root):
        unmap_lun(root, ini, dev_id)
    for name in ("meta.json", "data"):
        try:
            os.unlink(os.path.join(d, name))
        except FileNotFoundError:
            pass
    try:
        os.rmdir(d)
    except FileNotFoundError:
        pass


def lun_meta(root, dev_id):
    """The LUN's meta.json as a dict, or None when the LUN does not exist."""
    try:
        with open(os.path.join(lun_dir(root, dev_id), "meta.json"), "rb") as f:
            return json.loads(f.read())
    except FileNotFoundError:
        return None


def lun_data_path(root, dev_id):
    return os.path.join(lun_dir(root, dev_id), "data")


def map_lun(root, initiator, dev_id):
    _check_name("initiator", initiator)
    _check_name("device", dev_id)
    d = os.path.join(root, "maps", initiator)
    os.makedirs(d, exist_ok=True)
    _write_atomic(os.path.join(d, dev_id), b"")


def unmap_lun(root, initiator, dev_id):
    _check_name("initiator", initiator)
    _check_name("device", dev_id)
    try:
        os.unlink(os.path.join(root, "maps", initiator, dev_id))
    except FileNotFoundError:
        pass


def _initiators(root):
    try:
        return sorted(os.listdir(os.path.join(root, "maps")))
    except FileNotFoundError:
        return []


def mapped(root, initiators):
    """Device ids presented to any of the given initiators and whose LUN exists."""
    out = set()
    for ini in initiators:
        _check_name("initiator", ini)
        try:
            names = os.listdir(os.path.join(root, "maps", ini))
        except FileNotFoundError:
            continue
        out.update(n for n in names if ".tmp." not in n and lun_meta(root, n) is not None)
    return sorted(out)


def mappings(root):
    """{initiator: [device ids]} for the whole fabric."""
    return {ini: mapped(root, [ini]) for ini in _initiators(root)}


# --- added for the ESXi host simulator: lookups that read no JSON -------------
# (the host's esxcli answers device questions in a few milliseconds, so these
# stay free of the json import; they follow the layout in the docstring above)


def is_presented(root, initiator, dev_id):
    """True when the LUN exists and is mapped to that initiator."""
    _check_name("initiator", initiator)
    return (os.path.exists(os.path.join(root, "maps", initiator, dev_id))
            and os.path.exists(os.path.join(lun_dir(root, dev_id), "meta.json")))


def _main(argv):
    usage = ("usage: fabric.py ROOT create-lun DEV ARRAY SIZE [BACKING] | delete-lun DEV |"
             " map INITIATOR DEV | unmap INITIATOR DEV | list")
    if len(argv) < 2:
        sys.exit(usage)
    root, verb, args = argv[0], argv[1], argv[2:]
    if verb == "create-lun" and len(args) in (3, 4):
        create_lun(root, args[0], args[1], int(args[2]), args[3] if len(args) == 4 else None)
    elif verb == "delete-lun" and len(args) == 1:
        delete_lun(root, args[0])
    elif verb == "map" and len(args) == 2:
        map_lun(root, args[0], args[1])
    elif verb == "unmap" and len(args) == 2:
        unmap_lun(root, args[0], args[1])
    elif verb == "list" and not args:
        print(json.dumps(mappings(root), indent=1, sort_keys=True))
    else:
        sys.exit(usage)


if __name__ == "__main__":
    _main(sys.argv[1:])
