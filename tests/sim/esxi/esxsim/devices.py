"""The host's view of its storage devices, and how rescans change it.

etc/devices.json holds what the host has discovered:
    {"devices": {id: entry}, "pending": {id: rescans seen}, "next_lun": n}
an entry: {"lun", "paths": [{"adapter", "initiator", "target"}], "size", "vendor",
"model", "revision", "array", "vaai": {"ats","clone","zero","delete"}, "transport",
"vml", "local", "state": "on"|"off", "node": devfs symlink target}.
etc/detached.json lists devices set off ("detached"); that configuration outlives
the device itself until `esxcli storage core device detached remove`.

Liveness is read from the fabric at every call (json-free), so a LUN unmapped by
the array shows as dead at once; only a delete (or all) rescan removes it.
"""
import os
import time
import zlib

from . import faults
from .host import SimError, import_fabric
from .messages import ESXCLI_ERRORS

# THE ASSUMPTION for a device whose LUN is no longer presented: Forklift's
# populator waits for "off" and "dead timeout" after unmapping (see README).
DEAD_STATUS = "dead timeout"
RESCAN_TYPES = ("add", "all", "delete", "update")


def load(host):
    state = host.load("devices.json", None) or {}
    state.setdefault("devices", {})
    state.setdefault("pending", {})
    state.setdefault("next_lun", 1)
    return state


def save(host, state):
    host.save("devices.json", state)


def detached(host):
    return host.load("detached.json", {}) or {}


def path_alive(host, dev_id, entry, path):
    if entry.get("local"):
        return True
    fabric = import_fabric()
    return fabric.is_presented(host.fabric_dir, path["initiator"], dev_id)


def status(host, dev_id, entry):
    if entry.get("state") == "off":
        return "off"
    if entry.get("local"):
        return "on"
    for path in entry["paths"]:
        if path_alive(host, dev_id, entry, path):
            return "on"
    return DEAD_STATUS


def sync_node(host, dev_id, entry):
    """Keep /vmfs/devices/disks/<id> present exactly while the device is attached."""
    node = host.device_node(dev_id)
    want = entry is not None and entry.get("state") != "off"
    exists = os.path.lexists(node)
    if want and not exists:
        os.symlink(entry["node"], node)
    elif not want and exists:
        os.unlink(node)


def vml_id(dev_id, lun, model):
    """A vml.* alias in the shape the samples show: 0200 <lun> 0000 <id hex> <model hex>."""
    ident = dev_id.split(".", 1)[1] if "." in dev_id else dev_id
    ident = "".join(c for c in ident.lower() if c in "0123456789abcdef")
    return "vml.0200%02x0000%s%s" % (lun & 0xFF, ident, model.encode()[:6].hex())


def _pad(text, width):
    return (text or "")[:width].ljust(width)


def _target_id(adapter, array):
    """A stable target identity for the array behind an adapter's path."""
    h = "%08x" % zlib.crc32(array.encode())
    kind = adapter["transport"]
    if kind == "iscsi":
        name = "".join(c if c.isalnum() or c in "-." else "-" for c in array.lower())
        return f"iqn.2010-06.com.simarray:{name}"
    if kind == "fc":
        return f"fc.5000{h}0000:5001{h}0000"
    return f"{kind}.{h}"


def new_entry(host, dev_id, adapter, meta, lun):
    vaai_clone = bool(meta.get("vaai_clone", True))
    vaai = {k: bool(meta.get("vaai_" + k, vaai_clone)) for k in ("ats", "zero", "delete")}
    vaai["clone"] = vaai_clone
    fabric = import_fabric()
    model = _pad(meta.get("model", "SimLUN"), 16)
    return {
        "lun": lun,
        "paths": [],
        "size": int(meta["size"]),
        "vendor": _pad(meta.get("vendor", "SIMARRAY"), 8),
        "model": model,
        "revision": _pad(meta.get("revision", "0001"), 4),
        "array": meta.get("array"),
        "vaai": vaai,
        "transport": adapter["transport"],
        "vml": vml_id(dev_id, lun, model),
        "local": False,
        "state": "on",
        "node": fabric.lun_data_path(host.fabric_dir, dev_id),
    }


def _add_path(entry, adapter, meta):
    for p in entry["paths"]:
        if p["adapter"] == adapter["name"]:
            return
    entry["paths"].append({
        "adapter": adapter["name"],
        "initiator": adapter["initiator"],
        "target": _target_id(adapter, str(meta.get("array", ""))),
    })
    entry["paths"].sort(key=lambda p: p["adapter"])


def _scan_add(host, state, adapters, off):
    fabric = import_fabric()
    devices = state["devices"]
    for adapter in adapters:
        for dev_id in fabric.mapped(host.fabric_dir, [adapter["initiator"]]):
            meta = fabric.lun_meta(host.fabric_dir, dev_id)
            if meta is None:
                continue
            entry = devices.get(dev_id)
            if entry is None:
                need = faults.device_delay(host, dev_id)
                if need:
                    seen = state["pending"].get(dev_id, 0) + 1
                    state["pending"][dev_id] = seen
                    if seen < need:
                        continue
                state["pending"].pop(dev_id, None)
                entry = new_entry(host, dev_id, adapter, meta, state["next_lun"])
                state["next_lun"] += 1
                if dev_id in off:
                    entry["state"] = "off"
                devices[dev_id] = entry
            _add_path(entry, adapter, meta)


def _scan_delete(host, state, adapters):
    names = {a["name"] for a in adapters}
    devices = state["devices"]
    for dev_id in sorted(devices):
        entry = devices[dev_id]
        if entry.get("local"):
            continue
        entry["paths"] = [p for p in entry["paths"]
                          if p["adapter"] not in names or path_alive(host, dev_id, entry, p)]
        if not entry["paths"]:
            del devices[dev_id]


def rescan(host, adapter_names, kind):
    """esxcli storage core adapter rescan: adapter_names None means --all."""
    if adapter_names is None:
        adapters = [a for a in host.adapters() if a.get("initiator")]
    else:
        adapters = []
        for name in adapter_names:
            a = host.adapter(name)
            if a is None:
                raise SimError(ESXCLI_ERRORS["no_adapter"].format(name=name))
            if a.get("initiator"):
                adapters.append(a)
    delay = faults.rescan_delay_ms(host)
    with host.lock("devices"):
        if delay:
            time.sleep(delay / 1000.0)
        state = load(host)
        before = set(state["devices"])
        if kind in ("add", "all", "update"):
            _scan_add(host, state, adapters, detached(host))
        if kind in ("delete", "all"):
            _scan_delete(host, state, adapters)
        save(host, state)
        for dev_id in before | set(state["devices"]):
            sync_node(host, dev_id, state["devices"].get(dev_id))


def find(host, dev_id):
    entry = load(host)["devices"].get(dev_id)
    if entry is None:
        raise SimError(ESXCLI_ERRORS["no_device"].format(dev=dev_id))
    return entry


def set_state(host, dev_id, on):
    with host.lock("devices"):
        state = load(host)
        entry = state["devices"].get(dev_id)
        if entry is None:
            raise SimError(ESXCLI_ERRORS["no_device"].format(dev=dev_id))
        entry["state"] = "on" if on else "off"
        save(host, state)
        sync_node(host, dev_id, entry)
        config = detached(host)
        if on:
            config.pop(dev_id, None)
        else:
            config[dev_id] = {"state": "off"}
        host.save("detached.json", config)


def detached_remove(host, dev_id):
    """Forget a detached device's configuration; the device object goes with it."""
    with host.lock("devices"):
        config = detached(host)
        if dev_id not in config:
            raise SimError(ESXCLI_ERRORS["no_detached"].format(dev=dev_id))
        del config[dev_id]
        host.save("detached.json", config)
        state = load(host)
        entry = state["devices"].get(dev_id)
        if entry is not None and entry.get("state") == "off":
            del state["devices"][dev_id]
            save(host, state)
            sync_node(host, dev_id, None)
