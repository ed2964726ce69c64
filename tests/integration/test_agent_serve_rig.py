"""The rig of the serve tests and benchmark (a module, not a test itself).

    certs = Certs(folder)                  # CA, server, clients via scripts/xclone-certs
    srv = Serve(folder, certs, host, settings).start()   # real `xclone-agent serve`
    with srv.client("populator") as c:     # Python ssl client with that certificate
        c.request("hello")                 # -> the final response dict
    srv.stop()                             # SIGTERM; returns the exit status

Serve listens on 127.0.0.1 port 0 (a free port chosen by the kernel, read back
from its "listening on" log line), so parallel runs never collide. Everything
lives in the given folder; Serve.kill() is safe to call on any path.
"""
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path[:0] = [os.path.join(REPO, "tests", "lib"), os.path.join(REPO, "tests", "sim", "esxi")]

from agentrun import AgentRun, agent_path  # noqa: E402

CERTS = os.path.join(REPO, "scripts", "xclone-certs")
TIMEOUT = 20  # seconds for any single wait; generous for a loaded machine


def req(op, args=None, rid="r1"):
    return json.dumps({"xclone": 1, "id": rid, "op": op, "args": args or {}},
                      ensure_ascii=False)


def certs_tool(*args, check=True):
    return subprocess.run([CERTS, *args], capture_output=True, text=True, timeout=120,
                          check=check)


class Certs:
    """Every certificate the tests need, made by the operator's tool."""

    def __init__(self, folder):
        self.dir = os.path.join(folder, "tls")
        self.rogue_dir = os.path.join(folder, "rogue ca")
        d = ["--dir", self.dir]
        certs_tool(*d, "ca", "--name", "xclone test CA")
        certs_tool(*d, "server", "--host", "127.0.0.1", "--host", "localhost")
        self.pins = {}
        for base, name, extra in (
                ("populator", "populator 'q' \"$(x)\"; ü/+\\", []),
                ("other", "other client", []),
                ("expired", "expired client", ["--days", "-1"]),
                ("monitor", "monitor", [])):
            out = certs_tool(*d, *extra, "client", "--name", name, "--out", base).stdout
            self.pins[base] = re.search(r"SHA256:[0-9a-f]{64}", out).group(0)
        certs_tool("--dir", self.rogue_dir, "ca", "--name", "xclone test CA")
        certs_tool("--dir", self.rogue_dir, "client", "--name", "populator", "--out",
                   "populator")

    def path(self, name):
        return os.path.join(self.dir, name)

    def pair(self, who):
        """(cert, key) of a client: a base name in tls/, 'rogue', or 'server'."""
        if who == "rogue":
            return (os.path.join(self.rogue_dir, "populator.crt"),
                    os.path.join(self.rogue_dir, "populator.key"))
        return self.path(who + ".crt"), self.path(who + ".key")


class Client:
    """One TLS connection speaking the line protocol."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self, timeout=TIMEOUT):
        """The next line (bytes without LF); None at EOF."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no line from serve in time")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def response(self, timeout=TIMEOUT):
        """The next final response (events skipped); None at EOF."""
        while True:
            raw = self.line(timeout)
            if raw is None:
                return None
            obj = json.loads(raw)
            if "ok" in obj:
                return obj

    def request(self, op, args=None, rid="r1", timeout=TIMEOUT):
        self.send(req(op, args, rid) + "\n")
        return self.response(timeout)

    def closed_by_server(self, timeout=TIMEOUT):
        """True when the server ends the connection (EOF, reset or TLS alert)."""
        try:
            return self.line(timeout) is None
        except (ssl.SSLError, ConnectionError):
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def client_context(certs, who="populator", tls_max=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(certs.path("ca.crt"))
    if who is not None:
        ctx.load_cert_chain(*certs.pair(who))
    if tls_max is not None:
        ctx.maximum_version = tls_max
    return ctx


class Serve:
    def __init__(self, folder, certs, host, settings=None, name="serve"):
        self.dir = os.path.join(folder, name)
        os.makedirs(self.dir, exist_ok=True)
        self.certs = certs
        self.pidfile = os.path.join(self.dir, "run dir", "serve.pid")
        conf = {
            "serve_listen": "127.0.0.1",
            "serve_port": "0",
            "serve_cert": certs.path("server.crt"),
            "serve_key": certs.path("server.key"),
            "serve_ca": certs.path("ca.crt"),
            "serve_pidfile": self.pidfile,
            "log_level": "info",
        }
        conf.update(settings or {})
        self.agent = AgentRun(host, os.path.join(self.dir, "agent"), settings=conf, spy=False)
        self.conf = self.agent.conf
        self.log_path = os.path.join(self.dir, "serve.log")
        self.proc = None
        self.port = None

    def start(self, flags=(), wait=True):
        self.log_file = open(self.log_path, "ab")
        offset = len(self.log())
        self.proc = subprocess.Popen([agent_path(), "serve", "--config", self.conf, *flags],
                                     stdin=subprocess.DEVNULL, stdout=self.log_file,
                                     stderr=subprocess.STDOUT)
        if not wait:
            return self
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", self.log()[offset:])
            if m and os.path.exists(self.pidfile):
                self.port = int(m.group(1))
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited {self.proc.returncode}: {self.log()}")
            time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"serve did not start listening: {self.log()}")

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, pattern, timeout=TIMEOUT):
        """Waits for a regex in the log; the match or None."""
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.log())
            if m or time.monotonic() >= deadline:
                return m
            time.sleep(0.05)

    def tcp(self, timeout=TIMEOUT):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        # As any line client should: a request must not wait for the ACK of the
        # previous segment (Nagle + delayed ACK cost 40 ms after the handshake).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def client(self, who="populator", tls_max=None):
        """A connected, handshaken client (the handshake may still be refused
        later under TLS 1.3, where the server checks the client's certificate
        after the client has finished)."""
        ctx = client_context(self.certs, who, tls_max)
        sock = ctx.wrap_socket(self.tcp(), server_hostname="127.0.0.1")
        return Client(sock)

    def attempt(self, who="populator", tls_max=None):
        """'answered' when a hello gets its answer, else 'refused: <why>'."""
        try:
            with self.client(who, tls_max) as c:
                r = c.request("hello", rid="try")
                if r is not None and r.get("id") == "try":
                    return "answered"
                return "refused: no answer"
        except (ssl.SSLError, ConnectionError, TimeoutError, OSError) as e:
            return f"refused: {e}"

    def children(self):
        """Pids of serve's child processes (its workers)."""
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                return [int(p) for p in f.read().split()]
        except OSError:
            return []

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
