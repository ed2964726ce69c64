#!/usr/bin/python3
"""The world `xclone populate` runs in, for its tests, benchmark and demo (a module;
run alone it prints an empty TAP plan).

    with World(vms=[...]) as w:            # array simulator, ESXi host simulator, sshd
        w.volume("pvc-a", 32 << 20)        # a PersistentVolume's LUN on the array
        p = w.populate(["--disk", w.disk_spec("vm1", 0, "pvc-a")])
        w.checksum_ok("vm1", 0, "pvc-a"), w.leaks(), p.summary, p.events

Everything is real except the two simulators: the real array simulator (HTTPS,
Pure FlashArray personality) publishes mappings into a SAN fabric folder that the
ESXi host simulator rescans; a real OpenSSH sshd on 127.0.0.1 forces the real
agent (`$BUILD/xclone-agent ssh`) with the restricted key; the real `xclone
populate` drives both. All of it lives in one temp folder, removed by stop().

Datastores of the host (`ds` argument of a VM or disk):
  ds-xcopy   on the simulated array fa1 (same array as the PVs: XCOPY offload)
  ds-xcopy2  a second datastore on fa1 (multi-datastore VMs)
  ds-other   on another array (the host copies: fallback)
  ds-novaai  on fa1, but its LUN does not support VAAI clone (the host copies)
  + HOSTILE_DS, on fa1, named with spaces, quotes, $() and unicode
"""
import hashlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))
sys.path.insert(0, os.path.join(REPO, "tests", "sim", "esxi"))
sys.path.insert(0, os.path.join(REPO, "tests", "sim", "arrays"))
sys.path.insert(0, os.path.join(REPO, "tests", "sim"))
sys.dont_write_bytecode = True
import fabric as fabric_mod  # noqa: E402
import simarray  # noqa: E402
import simhost  # noqa: E402
import sshd as sshd_mod  # noqa: E402

BUILD = os.environ.get("BUILD", "build")
XCLONE = os.path.join(REPO, BUILD, "xclone")
AGENT = os.path.join(REPO, BUILD, "xclone-agent")
PREFIX = "px_5eed1e55"          # PURE_CLUSTER_PREFIX: PV pvc-x is volume px_5eed1e55-pvc-x
HOST_NAME = "esx-pop"
IQN = "iqn.1998-01.com.vmware:esx-pop-0a1b2c3d"
HOSTILE_DS = "Datastore \"Prod\" $(id); `x` Ünï_Cödé €"
MiB = 1 << 20


def datastores(fa_id):
    return [
        {"name": "ds-xcopy", "array": fa_id, "size_mb": 2048, "via": ["vmhba64"]},
        {"name": "ds-xcopy2", "array": fa_id, "size_mb": 1024, "via": ["vmhba64"]},
        {"name": "ds-other", "array": "array-other", "size_mb": 1024, "via": ["vmhba64"]},
        {"name": "ds-novaai", "array": fa_id, "size_mb": 1024, "via": ["vmhba64"],
         "vaai_clone": False},
        {"name": HOSTILE_DS, "array": fa_id, "size_mb": 1024, "via": ["vmhba64"]},
    ]


def scenario(fa_id, vms, sim=None):
    s = {
        "hostname": HOST_NAME, "domain": "lab.example", "version": "8.0.3", "build": 24022510,
        "update": 3,
        "adapters": [{"kind": "iscsi", "name": "vmhba64", "iqn": IQN},
                     {"kind": "fc", "name": "vmhba2", "wwnn": "20000025b5a0a0a0",
                      "wwpn": "20000025b5b0b0b0"}],
        "datastores": datastores(fa_id),
        "vms": vms,
    }
    if sim:
        s["sim"] = sim
    # RDM sources live on the same array as the PVs (the MTV RDM case is Pure only).
    for vm in vms:
        for d in vm["disks"]:
            if d.get("kind") == "rdm" or d.get("base") == "rdm":
                d.setdefault("array", fa_id)
    return s


class Run:
    """One finished `xclone populate`: exit code, JSON events and summary, stderr."""

    def __init__(self, proc, elapsed):
        self.code = proc.returncode
        self.stdout = proc.stdout.decode("utf-8", "replace")
        self.stderr = proc.stderr.decode("utf-8", "replace")
        self.elapsed = elapsed
        self.events, self.summary = [], None
        for line in self.stdout.splitlines():
            try:
                o = json.loads(line)
            except ValueError:
                continue
            if "summary" in o:
                self.summary = o["summary"]
            else:
                self.events.append(o)

    def disks(self):
        return self.summary["disks"] if self.summary else []

    def __repr__(self):
        return f"exit {self.code}\nstdout: {self.stdout[-3000:]}\nstderr: {self.stderr[-3000:]}"


class World:
    def __init__(self, vms, sim=None, agent_settings=None, host_object=True, keep=False):
        self.vms = vms
        self.sim_settings = sim
        self.agent_settings = {"max_clones": "16", "cancel_grace_seconds": "2"}
        self.agent_settings.update(agent_settings or {})
        self.host_object = host_object
        self.keep = keep
        self.tmp = None
        self.array = None
        self.host = None
        self.sshd = None
        self.volumes = {}

    # ---- set-up -------------------------------------------------------------------------
    def start(self):
        self.tmp = tempfile.mkdtemp(prefix="xclone-populate-")
        self.fabric = os.path.join(self.tmp, "fabric")
        os.makedirs(self.fabric)
        self.array = simarray.start(os.path.join(self.tmp, "array"), ["pure:fa1"],
                                    fabric=self.fabric)
        self.fa_id = self.array.state()["arrays"]["fa1"]["id"]
        seed = {"users": [{"name": "pureuser", "password": "pure pw $(x) \"q\"",
                           "api_token": "0c9ed4a2-7a3b-4d7e-9a48-5eed1e550001"}]}
        if self.host_object:
            seed["hosts"] = [{"name": HOST_NAME, "initiators": [IQN]}]
        self.array.seed({"arrays": {"fa1": seed}})
        # tool_server: esxcli & co. forked from a warm simulator (tests/sim/README.md);
        # stopped with the host in stop(). SIM_TOOL_SERVER=0 runs the plain scripts.
        self.host = simhost.SimHost.create(scenario(self.fa_id, self.vms, self.sim_settings),
                                           root=os.path.join(self.tmp, "host"),
                                           fabric=self.fabric, tool_server=True)
        self._look_like_fa1()
        self._start_sshd()
        self._write_secret()
        self.state_dir = os.path.join(self.tmp, "populate-state")
        self.baseline = self.snapshot()
        return self

    def _look_like_fa1(self):
        """The host simulator gives every datastore LUN the vendor SIMARRAY; a datastore on
        the same FlashArray as the PVs shows PURE FlashArray on a real host, and the agent's
        preflight compares those strings. Make ours say so (fabric meta + the host's record)."""
        devs = self.host.host.load("devices.json")
        for ds in self.host.scenario["datastores"]:
            if ds.get("array") != self.fa_id:
                continue
            meta = fabric_mod.lun_meta(self.fabric, ds["device"])
            fabric_mod.create_lun(self.fabric, ds["device"], self.fa_id, meta["size"],
                                  vendor="PURE", model="FlashArray",
                                  vaai_clone=meta.get("vaai_clone", True))
            entry = devs["devices"].get(ds["device"])
            if entry is not None:
                entry["vendor"], entry["model"] = "PURE    ", "FlashArray      "
        self.host.host.save("devices.json", devs)

    def _start_sshd(self):
        r = self.host.root
        self.agent_state = os.path.join(self.tmp, "agent-state")
        os.makedirs(self.agent_state, mode=0o700)
        sets = {"vmkfstools_path": f"{r}/bin/vmkfstools", "esxcli_path": f"{r}/bin/esxcli",
                "vsish_path": f"{r}/bin/vsish", "vmfs_root": f"{r}/vmfs",
                "state_dir": self.agent_state}
        sets.update(self.agent_settings)
        argv = [AGENT, "ssh"]
        for k, v in sets.items():
            argv += ["--set", f"{k}={v}"]
        self.forced = " ".join(shlex.quote(a) for a in argv)
        self.sshd = sshd_mod.Sshd(os.path.join(self.tmp, "sshd"), self.forced)
        self.sshd.start()

    def _write_secret(self):
        self.secret_dir = os.path.join(self.tmp, "secret")
        os.makedirs(self.secret_dir, mode=0o700)
        keys = {"STORAGE_HOSTNAME": self.array.host("fa1"), "STORAGE_USERNAME": "pureuser",
                "STORAGE_PASSWORD": "pure pw $(x) \"q\"", "PURE_CLUSTER_PREFIX": PREFIX,
                "STORAGE_CA_FILE": self.array.ca_file}
        for k, v in keys.items():
            with open(os.path.join(self.secret_dir, k), "w") as f:
                f.write(v + "\n")

    def stop(self):
        if self.sshd:
            self.sshd.stop()
            kill_children(self.sshd.proc.pid if self.sshd.proc else None)
        if self.array:
            self.array.stop()
        if self.host:
            self.host.cleanup()
        if self.tmp and not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()

    # ---- PVs and sources ------------------------------------------------------------------
    def volume(self, pv, size=32 * MiB, mapped_to=None):
        """A PersistentVolume's LUN on fa1 (volume PREFIX-pv); returns its NAA id."""
        spec = {"volumes": [{"name": f"{PREFIX}-{pv}", "size": size}]}
        if mapped_to:
            spec["hosts"] = [{"name": mapped_to, "initiators": [
                "iqn.2020-01.io.k8s:node-" + hashlib.sha256(mapped_to.encode()).hexdigest()[:8]]}]
            spec["mappings"] = [{"volume": f"{PREFIX}-{pv}", "host": mapped_to}]
        self.array.seed({"arrays": {"fa1": spec}})
        self.volumes[pv] = self.naa(pv)
        self.baseline = self.snapshot()
        return self.volumes[pv]

    def naa(self, pv):
        for v in self.array.state()["arrays"]["fa1"]["volumes"].values():
            if v["name"] == f"{PREFIX}-{pv}":
                return v["naa"]
        raise KeyError(pv)

    def source(self, vm, index=0):
        """The disk's descriptor as "[datastore] folder/file.vmdk"."""
        path = self.host.disk(vm, index)  # /vmfs/volumes/<uuid>/<rest>
        uuid, rest = path[len("/vmfs/volumes/"):].split("/", 1)
        for ds in self.host.scenario["datastores"]:
            if ds["uuid"] == uuid:
                return f"[{ds['name']}] {rest}"
        raise KeyError(path)

    def disk_spec(self, vm, index, pv):
        return f"{self.source(vm, index)}={pv}"

    # ---- running ------------------------------------------------------------------------
    def base_args(self):
        s = self.sshd
        return [XCLONE, "populate", "--host", "127.0.0.1", "--port", str(s.port), "--user", s.user,
                "--identity", s.client_key, "--known-hosts", s.known_hosts,
                "--product", "pureFlashArray", "--secret-dir", self.secret_dir,
                "--state-dir", self.state_dir]

    def populate(self, args, json_out=True, env=None, timeout=180, popen=False):
        argv = self.base_args() + (["--json"] if json_out else []) + list(args)
        e = {k: v for k, v in os.environ.items() if not k.startswith("XCLONE_")}
        e.update(env or {})
        if popen:
            return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    stdin=subprocess.DEVNULL, env=e)
        t0 = time.monotonic()
        p = subprocess.run(argv, capture_output=True, timeout=timeout, env=e,
                           stdin=subprocess.DEVNULL)
        return Run(p, time.monotonic() - t0)

    # ---- checks ---------------------------------------------------------------------------
    def checksum_ok(self, vm, index, pv):
        size = self.host.disk_size(vm, index)
        return self.host.sha256_device(self.naa(pv), size) == self.host.expected_sha256(vm, index)

    def journal(self, key):
        path = os.path.join(self.state_dir, key, "journal.jsonl")
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def snapshot(self):
        """What populate must leave as it found it."""
        st = self.array.state()["arrays"]["fa1"]
        devices = {d["Device"] for d in self.host.esxcli_json("storage", "core", "device", "list")}
        detached = {d["DeviceUID"] for d in
                    self.host.esxcli_json("storage", "core", "device", "detached", "list")}
        return {
            "mappings": sorted((m["volume"], m["kind"], m["group"], m["lun"]) for m in st["mappings"]),
            "hosts": {n: sorted(h["initiators"]) for n, h in st["hosts"].items()},
            "host_groups": sorted(st["host_groups"]),
            "fabric": fabric_mod.mappings(self.fabric),
            "devices": devices,
            "detached": detached,
        }

    def leaks(self):
        """Everything populate left behind: [] when nothing."""
        now, base = self.snapshot(), self.baseline
        out = []
        for k in ("mappings", "hosts", "host_groups", "fabric"):
            if now[k] != base[k]:
                out.append(f"array {k}: {base[k]!r} -> {now[k]!r}")
        extra = now["devices"] - base["devices"]
        if extra:
            out.append(f"devices left on the host: {sorted(extra)}")
        extra = now["detached"] - base["detached"]
        if extra:
            out.append(f"detached devices left configured: {sorted(extra)}")
        vols = os.path.join(self.host.root, "vmfs", "volumes")
        for ds in os.listdir(vols):
            p = os.path.join(vols, ds, ".xclone")
            if not os.path.islink(os.path.join(vols, ds)) and os.path.isdir(p) and os.listdir(p):
                out.append(f"pointer files left in {ds}: {os.listdir(p)}")
        tasks = os.path.join(self.agent_state, "tasks")
        if os.path.isdir(tasks) and os.listdir(tasks):
            out.append(f"agent task folders left: {os.listdir(tasks)}")
        if self.host.violations():
            out.append(f"violations: {self.host.violations()}")
        return out

    def clones(self):
        return self.host.clone_log()


def finished(popen, timeout=180):
    """The Run of a populate started with World.populate(popen=True)."""
    t0 = time.monotonic()
    out, err = popen.communicate(timeout=timeout)
    done = subprocess.CompletedProcess(popen.args, popen.returncode, out, err)
    return Run(done, time.monotonic() - t0)


def children_of(pid):
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(entry))
    return out


def kill_children(pid):
    """sshd's per-connection processes outlive the listener: end them too."""
    if pid is None:
        return
    for child in children_of(pid):
        try:
            os.kill(child, signal.SIGKILL)
        except OSError:
            pass


def vm(name, disks, ds="ds-xcopy", folder=None):
    v = {"name": name, "datastore": ds, "disks": disks}
    if folder:
        v["folder"] = folder
    return v


def thin(mb=4, **kw):
    return dict({"kind": "thin", "size_mb": mb, "fill": 0.6}, **kw)


def thick(mb=4, **kw):
    return dict({"kind": "zeroedthick", "size_mb": mb, "fill": 0.6}, **kw)


if __name__ == "__main__":
    print("1..0 # SKIP the populate tests' world, not a test")
