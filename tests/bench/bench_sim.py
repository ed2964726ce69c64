#!/usr/bin/python3
"""Speed of the ESXi host simulator, printed beside its targets (nothing asserted).

    tests/bench/bench_sim.py [--quick]

- esxcli start-to-exit time, median over many calls (target <= 20 ms);
- an offloaded (XCOPY) clone of a 1 GiB disk to an RDM (target <= 1 s), for a
  half-written thin disk and a fully written one;
- a host copy, to show the configured throttle holds.
--quick uses a 256 MiB disk and fewer calls.
"""
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim", "esxi"))
import simhost  # noqa: E402

QUICK = "--quick" in sys.argv
GIB = 1 << 30
SIZE = GIB // 4 if QUICK else GIB
CALLS = 20 if QUICK else 60


def median_ms(argv, n):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def report(what, value, unit, target):
    print(f"{what:<58} {value:8.1f} {unit:<5} (target {target})")


def main():
    size_mb = SIZE >> 20
    h = simhost.SimHost.create({
        "datastores": [{"name": "ds1", "array": "array-1", "size_mb": 8 * size_mb}],
        "luns": [{"device": f"naa.624a9370ffffffffffffffffffff000{i}", "array": "array-1",
                  "size_mb": size_mb} for i in range(3)],
        "vms": [{"name": "half", "disks": [{"kind": "thin", "size_mb": size_mb, "fill": 0.5}]},
                {"name": "full", "disks": [{"kind": "thin", "size_mb": size_mb, "fill": 1.0}]},
                {"name": "small", "disks": [{"kind": "thin", "size_mb": 64, "fill": 1.0}]}],
        "sim": {"host_copy_rate_mib_s": 400},
    })
    try:
        os.sync()   # let writeback of the freshly built disks finish before timing
        for words in (["system", "version", "get"], ["storage", "core", "device", "list"],
                      ["--formatter=json", "storage", "core", "device", "list"],
                      ["storage", "core", "path", "list"]):
            report(f"esxcli {' '.join(words)}", median_ms([h.tool("esxcli")] + words, CALLS), "ms", "<= 20 ms")
        dev = "naa.624a9370ffffffffffffffffffff0000"
        report("vsish -r -e cat .../stats",
               median_ms([h.tool("vsish"), "-r", "-e", "cat", f"/storage/scsifw/devices/{dev}/stats"], CALLS),
               "ms", "none")
        for i, vm in enumerate(("half", "full")):
            dev = f"naa.624a9370ffffffffffffffffffff000{i}"
            dst = os.path.join(os.path.dirname(h.disk(vm)), "copy.vmdk")
            start = time.perf_counter()
            p = h.vmkfstools("-i", h.disk(vm), "-d", f"rdm:{h.device_path(dev)}", dst)
            secs = time.perf_counter() - start
            assert p.returncode == 0 and h.clone_log()[-1]["offloaded"], p.stdout[-200:]
            report(f"offloaded clone, {size_mb} MiB thin disk, {vm}-written", secs, "s", "<= 1 s for 1 GiB")
            os.sync()
        dev = "naa.624a9370ffffffffffffffffffff0002"
        h.set_advanced("/DataMover/HardwareAcceleratedMove", 0)
        start = time.perf_counter()
        p = h.vmkfstools("-i", h.disk("small"), "-d", f"rdm:{h.device_path(dev)}",
                         os.path.join(os.path.dirname(h.disk("small")), "host.vmdk"))
        secs = time.perf_counter() - start
        assert p.returncode == 0 and not h.clone_log()[-1]["offloaded"]
        report("host copy, 64 MiB at host_copy_rate_mib_s=400 (incl. start)", 64 / secs, "MiB/s", "<= 400 MiB/s")
    finally:
        h.cleanup()


if __name__ == "__main__":
    main()
