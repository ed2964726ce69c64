#!/usr/bin/python3
"""`make demo`: xclone populate from end to end, on this machine, in about a minute.

Starts a simulated Pure FlashArray (HTTPS REST on 127.0.0.1), a simulated ESXi 8.0.3
host whose datastores sit on that array and on another one, and a real OpenSSH sshd
on 127.0.0.1 whose only key is restricted to the xclone agent. Then it populates
three PersistentVolumes from a VM's three disks:

  disk 0, 1   on datastore "ds-xcopy", same array as the PVs: the array copies (XCOPY)
  disk 2      on datastore "ds-other", another array: the host copies (fallback)

shows the progress, prints the summary, verifies every target by checksum against
the simulator's own record of the source, checks that nothing was left mapped or
attached, and tears everything down, also on Ctrl-C or failure.

    scripts/demo.py [--keep]     (--keep leaves the temp folder for a look around)
"""
import os
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.dont_write_bytecode = True
from test_populate_world import World, thick, thin, vm  # noqa: E402

MiB = 1 << 20
VM_NAME = "demo-vm"
DISKS = [  # (label, disk spec, PV name)
    ("system disk, thin, on ds-xcopy", thin(256, fill=0.5), "pvc-demo-system"),
    ("data disk, thick, on ds-xcopy", thick(128, fill=0.7), "pvc-demo-data"),
    ("log disk, thin, on ds-other", thin(64, fill=0.8, datastore="ds-other"), "pvc-demo-logs"),
]


def say(text=""):
    print(f"\033[1m==>\033[0m {text}" if sys.stdout.isatty() and text else
          (f"==> {text}" if text else ""), flush=True)


def detail(text):
    print(f"    {text}", flush=True)


def main():
    keep = "--keep" in sys.argv
    t0 = time.monotonic()
    for tool in ("xclone", "xclone-agent"):
        if not os.access(os.path.join(REPO, os.environ.get("BUILD", "build"), tool), os.X_OK):
            sys.exit(f"demo: build/{tool} is missing: run `make demo` (or `make` first)")
    say("Setting up: an array simulator, an ESXi host simulator, sshd on 127.0.0.1")
    w = World([vm(VM_NAME, [d for _, d, _ in DISKS], ds="ds-xcopy")],
              sim={"host_copy_rate_mib_s": 96}, keep=keep)
    try:
        w.start()
        run(w)
    except KeyboardInterrupt:
        say("Interrupted: tearing down")
        return 130
    finally:
        w.stop()
        if keep:
            detail(f"kept {w.tmp}")
    say(f"Everything stopped and removed. The demo took {time.monotonic() - t0:.0f} s.")
    return 0


def run(w):
    arr = w.array.state()["arrays"]["fa1"]
    detail(f"array fa1: Pure FlashArray personality, REST API at https://{w.array.host('fa1')}"
           f" (array id {arr['id'][:8]}…)")
    detail(f"ESXi host esx-pop: software iSCSI initiator {w.host.initiator('vmhba64')};")
    detail("  datastores ds-xcopy (on fa1: XCOPY possible) and ds-other (another array)")
    detail(f"sshd on 127.0.0.1:{w.sshd.port}; its authorized_keys holds one line:")
    with open(w.sshd.authorized_keys) as f:
        line = f.read().strip()
    detail("  " + line[:line.index(" ssh-") if " ssh-" in line else 160].replace(
        w.tmp, "<demo>")[:200] + " ssh-ed25519 AAAA…")
    detail("  (the key can start the agent and nothing else: no shell, no forwarding)")
    print()

    say("Creating the PersistentVolumes' LUNs on the array (what the CSI driver does)")
    specs = []
    for i, (label, disk, pv) in enumerate(DISKS):
        naa = w.volume(pv, disk["size_mb"] * MiB * 2)
        src = w.source(VM_NAME, i)
        specs += ["--disk", f"{src}={pv}"]
        detail(f"{pv:<17} {naa}  <- {src}  ({label}, {disk['size_mb']} MiB)")
    print()

    argv = w.base_args() + ["--key", "demo", "--parallel", "3"] + specs
    say("Running xclone populate (one journaled run; Ctrl-C would cancel and clean up):")
    shown = " ".join(a if " " not in a else repr(a) for a in argv).replace(w.tmp, "<demo>")
    detail(shown.replace(os.path.join(REPO, ""), ""))
    print(flush=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("XCLONE_")}
    p = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL)
    print()
    if p.returncode != 0:
        say(f"populate failed (exit {p.returncode})")
        raise SystemExit(1)

    say("Verifying every target against the source disk's checksum")
    bad = 0
    for i, (label, disk, pv) in enumerate(DISKS):
        good = w.checksum_ok(VM_NAME, i, pv)
        bad += not good
        how = next((c["offloaded"] for c in reversed(w.clones()) if c["device"] == w.naa(pv)), None)
        detail(f"{pv:<17} {'OK  ' if good else 'BAD '} sha256 of {disk['size_mb']} MiB matches;"
               f" copied by {'the array (XCOPY)' if how else 'the host'}")
    say("Checking that nothing was left behind")
    leaks = w.leaks()
    for leak in leaks:
        detail(f"LEFT: {leak}")
    if not leaks:
        detail("no mapping added, host object as it was, no device attached or detached-configured,")
        detail("no RDM pointer file, no task folder on the host")
    if bad or leaks:
        raise SystemExit(1)
    print()


if __name__ == "__main__":
    sys.exit(main())
