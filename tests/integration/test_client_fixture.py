#!/usr/bin/python3
"""The world the client tests run in (a module and a wrapper; not a test itself).

    tests/integration/test_client_fixture.py [--valgrind] -- PROGRAM [ARGS...]

builds it all in a temp folder, runs PROGRAM with XCT_* variables describing it,
and tears it down on every path (exit, exception, SIGTERM, SIGINT):

- an ESXi host simulator (tests/sim/esxi) with datastores (one with a hostile
  name), VM disks, and spare LUNs to clone onto: XCT_TARGET_FAST (same array as
  the datastore: XCOPY) and XCT_TARGET_SLOW (another array: host copy, throttled
  so a clone lasts seconds);
- a real OpenSSH sshd on 127.0.0.1 (tests/lib/sshd.py) whose keys force the real
  agent ($BUILD/xclone-agent ssh ...) pointed at the simulator: the default
  Ed25519 key, an RSA key, a passphrase-protected Ed25519 key, a read-only key,
  a key forcing a missing agent binary, a key whose command never answers, and
  a key the server does not know;
- the real `xclone-agent serve` (mutual TLS, certificates made here with the
  openssl tool) over the same simulator; with an agent built without serve, a
  Python stand-in that runs `xclone-agent local` per connection. SIGUSR1 to the
  fixture cuts every TLS connection (serve is killed and started again);
- a stand-in TLS server that speaks nothing newer than TLS 1.1 (to be refused);
- a port that accepts TCP connections and never says anything.

The module is also imported by the Python client tests (ClientEnv). Run without
"--" it prints an empty TAP plan, so that running it as a test is harmless.
"""
import os
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import select
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "sim", "esxi"))
import sshd as sshd_mod  # noqa: E402
import simhost  # noqa: E402

HOSTILE_DS = "DS \"q\" $(touch xclone-pwned); `id` ünï €"
HOSTILE_VM = "VM 'a' $(x); rm -rf ~ \\ (1) `id` 名前 \u00e9"
TARGET_FAST = "naa.624a9370c1e70000000000000000a001"
TARGET_FAST2 = "naa.624a9370c1e70000000000000000a002"
TARGET_SLOW = "naa.60000970c1e70000000000000000b001"
TARGET_DATASTORE = None  # filled from the scenario: the LUN behind ds1 (unsafe target)
UNMAPPED = "naa.624a9370c1e70000000000000000a0ff"

SCENARIO = {
    "hostname": "esx-client",
    "domain": "lab.local",
    "adapters": [{"kind": "iscsi", "name": "vmhba64"}, {"kind": "fc", "name": "vmhba2"}],
    "datastores": [
        {"name": "ds1", "array": "array-1", "size_mb": 1024},
        {"name": HOSTILE_DS, "array": "array-1", "size_mb": 512},
    ],
    "luns": [
        {"device": TARGET_FAST, "array": "array-1", "size_mb": 64},
        {"device": TARGET_FAST2, "array": "array-1", "size_mb": 64},
        {"device": TARGET_SLOW, "array": "array-2", "size_mb": 64},
        {"device": UNMAPPED, "array": "array-1", "size_mb": 64, "map_to": [], "discovered": False},
    ],
    "vms": [
        {"name": "vm1", "datastore": "ds1",
         "disks": [{"kind": "thin", "size_mb": 16, "fill": 0.5}]},
        {"name": "big", "datastore": "ds1",
         "disks": [{"kind": "thin", "size_mb": 48, "fill": 1.0}]},
        {"name": HOSTILE_VM, "datastore": HOSTILE_DS,
         "disks": [{"kind": "thin", "size_mb": 8, "fill": 0.5}]},
    ],
    # Host copies (XCOPY impossible) at 8 MiB/s: a 48 MiB clone takes about 6 s.
    "sim": {"host_copy_rate_mib_s": 8},
}


def hostile_bracket_form(esxi_path):
    """"/vmfs/volumes/<uuid>/<folder>/<file>" as "[<hostile datastore>] <folder>/<file>"."""
    rest = esxi_path.split("/", 4)[4]
    return f"[{HOSTILE_DS}] {rest}"


def build_dir():
    return os.path.join(ROOT, os.environ.get("BUILD", "build"))


def run(argv, **kw):
    return subprocess.run(argv, check=True, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)


def make_certs(folder):
    """A CA, a server certificate for 127.0.0.1/localhost, a client certificate, and
    a client certificate from another CA (must be refused)."""
    def req(name, cn, ca=None, ext=None):
        key, crt = f"{folder}/{name}.key", f"{folder}/{name}.crt"
        if ca is None:
            run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                 "-out", crt, "-days", "2", "-subj", f"/CN={cn}"])
        else:
            csr = f"{folder}/{name}.csr"
            run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
                 "-subj", f"/CN={cn}"])
            argv = ["openssl", "x509", "-req", "-in", csr, "-CA", f"{folder}/{ca}.crt",
                    "-CAkey", f"{folder}/{ca}.key", "-CAcreateserial", "-out", crt, "-days", "2"]
            if ext:
                with open(f"{folder}/{name}.ext", "w") as f:
                    f.write(ext)
                argv += ["-extfile", f"{folder}/{name}.ext"]
            run(argv)
        return key, crt
    req("ca", "xclone test CA")
    req("other-ca", "some other CA")
    req("server", "esx-client.lab.local", "ca",
        "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:esx-client.lab.local\n"
        "extendedKeyUsage=serverAuth\n")
    req("client", "populator", "ca", "extendedKeyUsage=clientAuth\n")
    req("stranger", "stranger", "other-ca", "extendedKeyUsage=clientAuth\n")
    der = subprocess.run(["openssl", "x509", "-in", f"{folder}/server.crt", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    import hashlib
    return hashlib.sha256(der).hexdigest()


class TlsAgentServer:
    """Mutual TLS 1.2+ line server: every connection runs `agent_argv` and pumps lines."""

    def __init__(self, certdir, agent_argv, min_version=ssl.TLSVersion.TLSv1_2):
        self.agent_argv = agent_argv
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.minimum_version = min_version
        self.ctx.load_cert_chain(f"{certdir}/server.crt", f"{certdir}/server.key")
        self.ctx.load_verify_locations(f"{certdir}/ca.crt")
        self.ctx.verify_mode = ssl.CERT_REQUIRED
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.live = set()
        self.connections = 0
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def drop_all(self):
        """Network failure: every open connection is cut without a TLS goodbye."""
        with self.lock:
            socks = list(self.live)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _serve(self, raw):
        try:
            conn = self.ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        with self.lock:
            self.live.add(raw)
            self.connections += 1
        agent = subprocess.Popen(self.agent_argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL)
        try:
            self._pump(conn, agent)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            with self.lock:
                self.live.discard(raw)
            try:
                agent.stdin.close()
            except OSError:
                pass
            agent.kill()
            agent.wait()
            conn.close()

    @staticmethod
    def _pump(conn, agent):
        conn.setblocking(False)
        out = agent.stdout.fileno()
        while True:
            ready = [conn] if conn.pending() else select.select([conn, out], [], [], 1.0)[0]
            if conn in ready:
                try:
                    data = conn.recv(65536)
                except ssl.SSLWantReadError:
                    data = None
                if data == b"":
                    agent.stdin.close()
                    conn = None
                    break
                if data:
                    agent.stdin.write(data)
                    agent.stdin.flush()
            if out in ready:
                data = os.read(out, 65536)
                if not data:
                    return
                conn.setblocking(True)
                conn.sendall(data)
                conn.setblocking(False)
        # the client is done sending: forward what the agent still says
        while os.read(out, 65536):
            pass

    def stop(self):
        self.stopping = True
        self.sock.close()
        self.drop_all()


class ClientEnv:
    """Everything above, started; .env() is what a test program gets."""

    def __init__(self, want_tls=True):
        self.tmp = tempfile.mkdtemp(prefix="xclone-client-")
        self.sshd = None
        self.tls = None
        self.tls_old = None
        self.host = None
        self.silent = None
        self.want_tls = want_tls
        self.serve = None
        self.serve_port = None

    # --- set-up -------------------------------------------------------------------
    def start(self):
        self.host = simhost.SimHost.create(SCENARIO, root=os.path.join(self.tmp, "host"))
        self.state = os.path.join(self.tmp, "state")
        os.makedirs(self.state, mode=0o700)
        r = self.host.root
        self.agent = os.path.join(build_dir(), "xclone-agent")
        self.agent_sets = ["--set", f"vmkfstools_path={r}/bin/vmkfstools",
                           "--set", f"esxcli_path={r}/bin/esxcli",
                           "--set", f"vsish_path={r}/bin/vsish",
                           "--set", f"vmfs_root={r}/vmfs",
                           "--set", f"state_dir={self.state}",
                           "--set", "cancel_grace_seconds=2"]
        sets = " ".join(shlex.quote(a) for a in self.agent_sets)
        agent = shlex.quote(self.agent)
        self.forced = f"{agent} ssh {sets}"
        keys = [("readonly", f"{agent} ssh --read-only {sets}"),
                ("missing", "/nonexistent/xclone/bin/xclone-agent ssh"),
                ("silent", "cat >/dev/null")]
        self.sshd = sshd_mod.Sshd(os.path.join(self.tmp, "sshd"), self.forced, extra_keys=keys)
        self.sshd.start()
        self._more_keys()
        self.silent = socket.socket()
        self.silent.bind(("127.0.0.1", 0))
        self.silent.listen(8)
        if self.want_tls:
            self._start_tls()
        return self

    def _more_keys(self):
        d = self.sshd.dir
        self.rsa_key = os.path.join(d, "id_rsa")
        self.pass_key = os.path.join(d, "id_pass")
        self.unknown_key = os.path.join(d, "id_unknown")
        self.passphrase = "correct horse \"battery\" $(staple)"
        lines = [sshd_mod.authorized_key_line(self.forced,
                                              sshd_mod.keygen(self.rsa_key, "rsa")),
                 sshd_mod.authorized_key_line(self.forced,
                                              sshd_mod.keygen(self.pass_key, "ed25519",
                                                              self.passphrase))]
        sshd_mod.keygen(self.unknown_key)
        with open(self.sshd.authorized_keys, "a") as f:
            f.write("\n".join(lines) + "\n")

    def _start_tls(self):
        self.certs = os.path.join(self.tmp, "tls")
        os.makedirs(self.certs)
        self.server_sha256 = make_certs(self.certs)
        os.chmod(f"{self.certs}/server.key", 0o600)
        if self._agent_has_serve():
            self.serve_port = sshd_mod.free_port()
            self._start_serve()
        else:
            argv = [self.agent, "local"] + self.agent_sets
            self.tls = TlsAgentServer(self.certs, argv)
            self.serve_port = self.tls.port
        argv = [self.agent, "local"] + self.agent_sets
        # a server stuck at TLS 1.1 and below must be refused by the client
        try:
            self.tls_old = TlsAgentServer(self.certs, argv, ssl.TLSVersion.TLSv1)
            self.tls_old.ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        except (ValueError, ssl.SSLError):
            self.tls_old = None

    def _agent_has_serve(self):
        p = subprocess.run([self.agent, "--help"], capture_output=True, text=True)
        return "xclone-agent serve" in p.stdout + p.stderr

    def _start_serve(self):
        """The real `xclone-agent serve` on 127.0.0.1:serve_port over the simulator."""
        self.serve_pidfile = os.path.join(self.tmp, "serve.pid")
        c = self.certs
        argv = [self.agent, "serve"] + self.agent_sets + [
            "--set", "serve_listen=127.0.0.1", "--set", f"serve_port={self.serve_port}",
            "--set", f"serve_cert={c}/server.crt", "--set", f"serve_key={c}/server.key",
            "--set", f"serve_ca={c}/ca.crt", "--set", f"serve_pidfile={self.serve_pidfile}"]
        log = open(os.path.join(self.tmp, "serve.log"), "ab")
        self.serve = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.serve.poll() is not None:
                raise RuntimeError("xclone-agent serve exited: " +
                                   open(os.path.join(self.tmp, "serve.log")).read())
            try:
                with socket.create_connection(("127.0.0.1", self.serve_port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("xclone-agent serve did not listen in 20 s")

    def _stop_serve(self):
        if self.serve is not None and self.serve.poll() is None:
            self.serve.kill()
            self.serve.wait()

    def drop_tls(self):
        """Network failure for TLS clients: serve dies (every connection with it) and
        comes back on the same port; the stand-in cuts its connections instead."""
        if self.serve is not None:
            self._stop_serve()
            self._start_serve()
        elif self.tls:
            self.tls.drop_all()

    def env(self):
        s = self.sshd
        e = {
            "XCT_HOST": "127.0.0.1",
            "XCT_PORT": str(s.port),
            "XCT_USER": s.user,
            "XCT_KEY": s.client_key,
            "XCT_KEY_RSA": self.rsa_key,
            "XCT_KEY_PASS": self.pass_key,
            "XCT_PASSPHRASE": self.passphrase,
            "XCT_KEY_READONLY": s.keys["readonly"],
            "XCT_KEY_MISSING": s.keys["missing"],
            "XCT_KEY_SILENT": s.keys["silent"],
            "XCT_KEY_UNKNOWN": self.unknown_key,
            "XCT_KNOWN_HOSTS": s.known_hosts,
            "XCT_HOST_PUB": s.host_pub,
            "XCT_SSHD_PID": str(s.proc.pid),
            "XCT_SILENT_PORT": str(self.silent.getsockname()[1]),
            "XCT_TMP": self.tmp,
            "XCT_SIMROOT": self.host.root,
            "XCT_STATE": self.state,
            "XCT_FIXTURE_PID": str(os.getpid()),
            # The agent runs with vmfs_root = ROOT/vmfs: paths are ESXi's, rooted there.
            "XCT_SOURCE": "[ds1] vm1/vm1.vmdk",
            "XCT_SOURCE_BIG": "[ds1] big/big.vmdk",
            "XCT_SOURCE_HOSTILE": self.host.path(self.host.disk(HOSTILE_VM, 0)),
            "XCT_SOURCE_HOSTILE_DS": hostile_bracket_form(self.host.disk(HOSTILE_VM, 0)),
            "XCT_TARGET_FAST": self.host.device_path(TARGET_FAST),
            "XCT_TARGET_FAST2": self.host.device_path(TARGET_FAST2),
            "XCT_TARGET_SLOW": self.host.device_path(TARGET_SLOW),
            "XCT_DEVICE": TARGET_FAST,
            "XCT_DEVICE_UNMAPPED": UNMAPPED,
            "XCT_DEVICE_DATASTORE": self.host.datastore("ds1").get("device", ""),
        }
        if self.serve_port:
            e.update({
                "XCT_TLS_REAL": "1" if self.serve is not None else "0",
                "XCT_TLS_PORT": str(self.serve_port),
                "XCT_TLS_CA": f"{self.certs}/ca.crt",
                "XCT_TLS_OTHER_CA": f"{self.certs}/other-ca.crt",
                "XCT_TLS_CERT": f"{self.certs}/client.crt",
                "XCT_TLS_KEY": f"{self.certs}/client.key",
                "XCT_TLS_STRANGER_CERT": f"{self.certs}/stranger.crt",
                "XCT_TLS_STRANGER_KEY": f"{self.certs}/stranger.key",
                "XCT_TLS_PIN": self.server_sha256,
            })
            if self.tls_old:
                e["XCT_TLS_OLD_PORT"] = str(self.tls_old.port)
        return e

    # --- tear-down ----------------------------------------------------------------
    def stop(self):
        self._stop_serve()
        if self.tls:
            self.tls.stop()
        if self.tls_old:
            self.tls_old.stop()
        if self.silent:
            self.silent.close()
        if self.sshd:
            self.sshd.stop()
            kill_children(self.sshd.proc.pid if self.sshd.proc else None)
        if self.host:
            self.host.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


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


VALGRIND = ["valgrind", "--quiet", "--error-exitcode=97", "--leak-check=full",
            "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
            f"--suppressions={os.path.join(os.path.dirname(os.path.abspath(__file__)), 'test_client.supp')}"]


def main(argv):
    if "--" not in argv:
        print("1..0 # SKIP the client tests' fixture, not a test")
        return 0
    opts, prog = argv[:argv.index("--")], argv[argv.index("--") + 1:]
    if "--valgrind" in opts:
        prog = VALGRIND + prog
    env = ClientEnv()
    child = None

    def on_signal(signum, frame):
        if signum == signal.SIGUSR1:
            env.drop_tls()
            return
        if child is not None and child.poll() is None:
            child.kill()
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1):
        signal.signal(sig, on_signal)
    try:
        env.start()
        child = subprocess.Popen(prog, env={**os.environ, **env.env()})
        while True:
            try:
                return child.wait()
            except InterruptedError:
                continue
    finally:
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        env.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
