"""Shared by test_array_cli_<vendor> (vantara, infinibox, flashsystem): test_array_cli
loaded as a module (its vendor_cycle, xclone() and TAP counter, not copies), and the
whole life cycle of one LUN with the ESXi host simulator on the same SAN fabric:
ensure the host object from the host's own adapters, map, rescan -> the device is
visible with the vendor's SCSI strings, a clone writes it, unmap, delete rescan -> gone.
"""
import importlib.machinery
import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "sim", "esxi"))


def load_cli_test():
    path = os.path.join(HERE, "test_array_cli")
    loader = importlib.machinery.SourceFileLoader("test_array_cli", path)
    spec = importlib.util.spec_from_loader("test_array_cli", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


cli = load_cli_test()
t = cli.t
fabric = cli.fabric
import simhost  # noqa: E402  (after cli: it put tests/lib and tests/sim on sys.path)


def host_initiators(h):
    """The adapter UIDs arrays map to: iSCSI, FC, and a PowerFlex SDC (scini.<GUID>)."""
    adapters = h.esxcli_json("storage", "core", "adapter", "list")
    return [a["UID"] for a in adapters if a["UID"].startswith(("iqn.", "fc.", "scini."))]


def life_cycle(sim, fab, product, secret_dir, pv_args, scsi_vendor, scsi_model,
               logins=None, host_name="esx01", scenario="basic", presented=None):
    """logins(initiators): lets the vendor's array see the host's initiators log in
    (FC ports are put in the fabric here already). presented(initiators): the fabric
    ids that must see the LUN (default: every initiator; an array may use fewer)."""
    base = ["--product", product, "--secret-dir", secret_dir, "--json"]
    h = simhost.SimHost.create(scenario, fabric=fab)
    try:
        inis = host_initiators(h)
        seen = presented(inis) if presented is not None else inis
        sim.seed({"fabric_logins": [i for i in inis if i.startswith("fc.")]})
        if logins is not None:
            logins(inis)
        args = []
        for i in inis:
            args += ["--initiator", i]
        rc, out, _, err = cli.xclone(*base, "ensure-host", "--name", host_name, *args)
        t.ok(rc == 0 and out[0]["name"] == host_name and len(out[0]["initiators"]) >= len(seen),
             f"{product} life cycle: host object from the host's {len(inis)} adapters", err)
        rc, out, _, err = cli.xclone(*base, "resolve", *pv_args)
        naa = out[0]["naa"] if rc == 0 else "naa.none"
        t.ok(rc == 0, f"{product} life cycle: resolve", err)

        def devices():
            return {d["Device"]: d for d in h.esxcli_json("storage", "core", "device", "list")}

        t.ok(naa not in devices(), f"{product} life cycle: not visible before the map")
        rc, out, _, err = cli.xclone(*base, "map", *pv_args, "--host", host_name)
        t.ok(rc == 0 and out[0]["action"] == "mapped", f"{product} life cycle: map", err or out)
        t.ok(all(naa in fabric.mapped(fab, [i]) for i in seen),
             f"{product} life cycle: the fabric presents it to each of the host's initiators")
        t.ok(naa not in devices(), f"{product} life cycle: mapped, not rescanned: not visible")
        p = h.esxcli("storage", "core", "adapter", "rescan", "--all")
        dev = devices().get(naa)
        t.ok(p.returncode == 0 and dev is not None,
             f"{product} life cycle: after a rescan {naa} is there")
        t.ok(dev is not None and dev.get("Vendor", "").strip() == scsi_vendor and
             dev.get("Model", "").strip() == scsi_model,
             f"{product} life cycle: as a {scsi_vendor} {scsi_model} device",
             json.dumps(dev)[:400])
        src = h.disk("vm1", 0)
        dst = os.path.dirname(src) + f"/to-{product}.vmdk"
        p = h.vmkfstools("-i", src, "-d", f"rdm:{h.device_path(naa)}", dst)
        t.ok(p.returncode == 0 and
             h.sha256_device(naa, h.disk_size("vm1", 0)) == h.expected_sha256("vm1", 0),
             f"{product} life cycle: a clone writes the LUN", p.stderr[-300:])
        rc, _, _, err = cli.xclone(*base, "unmap", *pv_args, "--host", host_name)
        t.ok(rc == 0 and naa not in fabric.mapped(fab, seen),
             f"{product} life cycle: unmap: off the fabric", err)
        h.esxcli("storage", "core", "adapter", "rescan", "--all", "--type=delete")
        t.ok(naa not in devices(), f"{product} life cycle: a delete rescan removes the device")
    finally:
        h.cleanup()
