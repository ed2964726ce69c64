"""Build a simulated ESXi host in one call, for the tests of any component.

    import sys; sys.path.insert(0, "tests/sim/esxi")
    import simhost
    h = simhost.SimHost.create("tests/sim/esxi/scenarios/basic.json")   # temp folder
    try:
        h.esxcli("storage", "core", "device", "list")
        src = h.disk("vm2", 0)                 # /vmfs/... path of the disk's top descriptor
        h.vmkfstools("-i", src, "-d", f"rdm:{h.device_path(dev)}", dst)
        assert h.sha256_device(dev, h.disk_size("vm2", 0)) == h.expected_sha256("vm2", 0)
    finally:
        h.cleanup()

Everything the simulator keeps is plain files under h.root (see esxsim/host.py);
the helpers below only spare callers from knowing the file names.

SimHost.create(..., tool_server=True) runs the host's tools through a tool server
(toolserver.py, tests/sim/README.md "Tool server") when the compiled client
$BUILD/tests/sim/simtool exists. SIM_TOOL_SERVER=0 in the environment turns it off
everywhere; SIM_TOOL_SERVER=1 turns it on for every host that does not say.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from esxsim import content, scenario
from esxsim.host import Host, import_fabric, read_json, write_json

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = os.path.join(HERE, "scenarios")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
TOOL_SERVER = os.path.join(HERE, "toolserver.py")
TOOL_SERVER_ADDR = os.path.join("etc", "toolserver.addr")
TOOL_SERVER_LOG = os.path.join("etc", "toolserver.log")


def tool_client():
    """The compiled tool client ($BUILD/tests/sim/simtool), or None: not built, or
    turned off with SIM_TOOL_SERVER=0."""
    if os.environ.get("SIM_TOOL_SERVER", "1") == "0":
        return None
    path = os.path.join(REPO, os.environ.get("BUILD") or "build", "tests", "sim", "simtool")
    return path if os.access(path, os.X_OK) else None


def load_scenario(spec):
    """A scenario given as a dict, a path, or a name under tests/sim/esxi/scenarios."""
    if isinstance(spec, dict):
        return spec
    named = os.path.join(SCENARIOS, spec + ".json")
    path = named if os.sep not in spec and os.path.isfile(named) else spec
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class SimHost:
    def __init__(self, root, owned=None):
        self.root = os.path.abspath(root)
        self.host = Host(self.root)
        self._owned = owned
        self.scenario = read_json(os.path.join(self.root, "etc", "scenario.json"))
        self.tool_server = None   # the server's Popen while one runs

    @classmethod
    def create(cls, spec, root=None, fabric=None, tool_server=None):
        """Build a host from a scenario; without root, in a new temp folder that
        cleanup() removes. tool_server: run the tools through a tool server if the
        client is built (else as plain scripts, as without); None: SIM_TOOL_SERVER=1."""
        if tool_server is None:
            tool_server = os.environ.get("SIM_TOOL_SERVER") == "1"
        owned = None
        if root is None:
            owned = tempfile.mkdtemp(prefix="esxsim-")
            root = os.path.join(owned, "host")
        client = tool_client() if tool_server else None
        try:
            scenario.build(load_scenario(spec), root, fabric, tool_client=client)
            h = cls(root, owned)
            if client:
                h.start_tool_server()
        except BaseException:
            if owned:
                shutil.rmtree(owned, ignore_errors=True)
            raise
        return h

    def cleanup(self):
        self.stop_tool_server()
        if self._owned:
            shutil.rmtree(self._owned, ignore_errors=True)
            self._owned = None

    # --- tool server ---------------------------------------------------------
    def start_tool_server(self, timeout=20.0):
        """Installs the tool client in bin/ (scripts become bin/.<tool>.py) and starts
        the server; True, or False when the client is not built. Its stdin is a pipe
        only this object holds: if this process dies, the server stops too."""
        client = tool_client()
        if client is None:
            return False
        if self.tool_server is not None and self.tool_server.poll() is None:
            return True
        self.stop_tool_server()   # one that died on its own
        scenario.install_tools(self.root, client)
        self._remove_stale_addr()
        with open(os.path.join(self.root, TOOL_SERVER_LOG), "ab") as log:
            proc = subprocess.Popen([scenario.PYTHON, "-IS", TOOL_SERVER, self.root, "--lifeline"],
                                    stdin=subprocess.PIPE, stdout=log, stderr=log,
                                    start_new_session=True)
        self.tool_server = proc
        end = time.monotonic() + timeout
        while not os.path.exists(os.path.join(self.root, TOOL_SERVER_ADDR)):
            if proc.poll() is not None or time.monotonic() > end:
                self.stop_tool_server()
                raise RuntimeError(f"tool server did not start; see {TOOL_SERVER_LOG} in {self.root}")
            time.sleep(0.005)
        return True

    def stop_tool_server(self, timeout=20.0):
        """Stops the server; it kills the tools still running (their callers see
        them killed by SIGKILL). The bin/ tools then run as plain scripts."""
        proc, self.tool_server = self.tool_server, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            self._remove_stale_addr()
        proc.stdin.close()

    def _remove_stale_addr(self):
        """A killed server's address would only cost each call a failed connect."""
        try:
            os.unlink(os.path.join(self.root, TOOL_SERVER_ADDR))
        except FileNotFoundError:
            pass

    # --- tools ---------------------------------------------------------------
    def tool(self, name):
        return os.path.join(self.root, "bin", name)

    def run(self, name, *args, **kw):
        kw.setdefault("capture_output", True)
        return subprocess.run([self.tool(name)] + list(args), **kw)

    def esxcli(self, *args, **kw):
        return self.run("esxcli", *args, **kw)

    def esxcli_json(self, *args):
        p = self.esxcli("--formatter=json", *args)
        if p.returncode != 0:
            raise RuntimeError(f"esxcli {' '.join(args)} failed: {p.stderr.decode()}")
        return json.loads(p.stdout)

    def vmkfstools(self, *args, **kw):
        return self.run("vmkfstools", *args, **kw)

    def vsish(self, *args, **kw):
        return self.run("vsish", *args, **kw)

    # --- paths ---------------------------------------------------------------
    @property
    def fabric(self):
        return self.host.fabric_dir

    def path(self, esxi_path):
        """An ESXi path (/vmfs/volumes/ds1/vm/vm.vmdk) spelled under the root, as the
        agent passes paths; it is also the real file behind that path."""
        return self.host.host_path(esxi_path)

    def device_path(self, dev_id, rooted=True):
        p = f"/vmfs/devices/disks/{dev_id}"
        return self.path(p) if rooted else p

    def datastore(self, name):
        for ds in self.scenario["datastores"]:
            if ds["name"] == name:
                return ds
        raise KeyError(name)

    def _disk(self, vm, index):
        for v in self.scenario["vms"]:
            if v["name"] == vm:
                return v["disks"][index]
        raise KeyError(vm)

    def disk(self, vm, index=0):
        """/vmfs/... path of the descriptor a VM's disk points at (top of its chain)."""
        return self._disk(vm, index)["file"]

    def disk_spec(self, vm, index=0):
        return self._disk(vm, index)

    def disk_size(self, vm, index=0):
        return self._disk(vm, index)["size"]

    def expected_sha256(self, vm, index=0):
        return scenario.expected_sha256(self._disk(vm, index))

    # --- data ----------------------------------------------------------------
    def lun_data(self, dev_id):
        return import_fabric().lun_data_path(self.fabric, dev_id)

    def sha256_device(self, dev_id, length):
        return content.file_sha256(self.lun_data(dev_id), length)

    def sha256_flat(self, esxi_vmdk, length):
        """Checksum of a flat disk's data (its -flat.vmdk extent)."""
        from esxsim import vmdk
        desc = vmdk.parse(self.path(esxi_vmdk))
        return content.file_sha256(desc.extent_path(), length)

    # --- fabric --------------------------------------------------------------
    def initiator(self, adapter):
        a = self.host.adapter(adapter)
        if a is None or not a.get("initiator"):
            raise KeyError(adapter)
        return a["initiator"]

    def create_lun(self, dev_id, array, size, **meta):
        return import_fabric().create_lun(self.fabric, dev_id, array, size, **meta)

    def map_lun(self, dev_id, adapter="vmhba64"):
        import_fabric().map_lun(self.fabric, self.initiator(adapter), dev_id)

    def unmap_lun(self, dev_id, adapter="vmhba64"):
        import_fabric().unmap_lun(self.fabric, self.initiator(adapter), dev_id)

    # --- knobs ---------------------------------------------------------------
    def set_faults(self, faults):
        """Replaces the fault rules; their "times" counters start again from zero,
        since counters are kept per rule position."""
        write_json(os.path.join(self.root, "faults.json"), faults)
        self.reset_fault_counters()

    def reset_fault_counters(self):
        try:
            os.unlink(self.host.etc_path("fault-counters.json"))
        except FileNotFoundError:
            pass

    def set_advanced(self, path, value):
        settings = self.host.advanced()
        settings[path]["int"] = int(value)
        self.host.save("advanced.json", settings)

    def set_sim(self, key, value):
        sim = self.host.load("sim.json", {})
        sim[key] = value
        self.host.save("sim.json", sim)

    def stats(self, dev_id):
        from esxsim import stats
        return stats.read(self.host, dev_id)

    def clone_log(self):
        try:
            with open(self.host.etc_path("clones.log"), encoding="utf-8") as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def violations(self):
        try:
            with open(self.host.etc_path("violations.log"), encoding="utf-8") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []
