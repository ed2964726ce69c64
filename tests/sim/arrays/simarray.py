#!/usr/bin/python3
"""SAN array simulator: start/stop, seed, inspect and inject faults.

As a module (tests in Python):

    import simarray
    with simarray.start(tmpdir, ["pure:fa1", "ontap:cl1"], fabric=fabric_dir) as sim:
        sim.seed({"arrays": {"fa1": {"volumes": [{"name": "px_1234abcd-pvc-1", "size": 1 << 30}]}}})
        sim.fault(array="fa1", method="POST", path="/connections", action="lose_response")
        ... sim.host("fa1") is "127.0.0.1:<port>", sim.ca_file the CA to trust ...
        sim.state()["arrays"]["fa1"]["mappings"]

As a command (tests in C or shell; every verb but serve works on the files directly,
so it also works while a server runs in another process):

    simarray.py serve --dir D [--fabric F] --array pure:fa1 [--array ontap:cl1] [--watch-stdin]
        prints one JSON line {"dir", "ca_file", "arrays": {"fa1": {"vendor", "port"}}}
        then serves until SIGTERM/SIGINT, or until stdin closes with --watch-stdin
        (--cleanup also deletes D on exit)
    simarray.py seed  --dir D JSON       add arrays' users, volumes, hosts, groups, mappings
    simarray.py fault --dir D JSON       arm faults (an object or a list)
    simarray.py clear-faults --dir D
    simarray.py state --dir D            the whole model as JSON
    simarray.py certs --dir T            make a CA and a 127.0.0.1 server certificate

The seed format and the fault fields are described in README.md beside this file.
"""
import argparse
import importlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the work tree
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import model  # noqa: E402


def load_vendor(name):
    if not name.replace("_", "").isalnum():
        raise ValueError(f"bad vendor name {name!r}")
    return importlib.import_module(f"vendor_{name}")


# ---- certificates ----

def make_certs(tls_dir):
    """A throw-away CA and a server certificate for 127.0.0.1 / localhost, made with
    the openssl tool. Returns (ca_file, cert_file, key_file)."""
    os.makedirs(tls_dir, exist_ok=True)
    ca_key, ca = os.path.join(tls_dir, "ca.key"), os.path.join(tls_dir, "ca.pem")
    key, csr = os.path.join(tls_dir, "server.key"), os.path.join(tls_dir, "server.csr")
    cert, ext = os.path.join(tls_dir, "server.pem"), os.path.join(tls_dir, "server.ext")
    if all(os.path.exists(p) for p in (ca, cert, key)):
        return ca, cert, key
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args):
        subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)

    run("req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "3",
        "-subj", "/CN=xclone simarray test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "basicConstraints=critical,CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", "3", "-extfile", ext)
    return ca, cert, key


# ---- seeding ----

def ensure_array(st, name, vendor_name, spec=None):
    arr = st["arrays"].get(name)
    if arr is None:
        vendor = load_vendor(vendor_name)
        arr = {"name": name, "vendor": vendor_name, "id": model.new_uuid(), "port": None,
               "connections": 0, "volumes": {}, "hosts": {}, "host_groups": {},
               "mappings": [], "page_size": None}
        arr.update(vendor.new_array(name, spec or {}))
        st["arrays"][name] = arr
    return arr


def find_volume_id(arr, name):
    for vid, v in arr["volumes"].items():
        if v["name"] == name:
            return vid
    raise KeyError(f"no volume {name!r} on array {arr['name']}")


def seed_state(st, spec, root):
    for login in spec.get("fabric_logins", []):
        if login not in st["fabric_logins"]:
            st["fabric_logins"].append(login)
    for name, a in spec.get("arrays", {}).items():
        if name not in st["arrays"] and "vendor" not in a:
            raise KeyError(f"array {name!r} does not exist: give its vendor")
        arr = ensure_array(st, name, a.get("vendor", ""), a)
        vendor = load_vendor(arr["vendor"])
        for key in ("page_size",) + tuple(getattr(vendor, "ARRAY_OPTIONS", ())):
            if key in a:
                arr[key] = a[key]
        for u in a.get("users", []):
            vendor.seed_user(arr, u)
        for v in a.get("volumes", []):
            vol = vendor.seed_volume(arr, v)
            vol["backing"] = v.get("backing") or model.make_backing(root, name, vol["id"],
                                                                    vol["size"])
            arr["volumes"][vol["id"]] = vol
        for h in a.get("hosts", []):
            vendor.seed_host(arr, h)
            for ini in h.get("initiators", []):
                if ini.lower().startswith("fc.") and ini.lower() not in st["fabric_logins"]:
                    st["fabric_logins"].append(ini.lower())
        for g in a.get("host_groups", []):
            vendor.seed_host_group(arr, g)
        for m in a.get("mappings", []):
            kind = "host_group" if "host_group" in m else "host"
            group = m.get("host_group") or m["host"]
            lun = m.get("lun")
            if lun is None:
                lun = vendor.pick_lun(arr, kind, group)
            mapping = {"volume": find_volume_id(arr, m["volume"]), "kind": kind,
                       "group": group, "lun": lun}
            # vendor details of a mapping (a 3PAR matched set's "port") kept as given
            mapping.update({k: v for k, v in m.items() if k not in ("volume", "host",
                                                                    "host_group", "lun")})
            arr["mappings"].append(mapping)


# ---- module API ----

class Sim:
    """A simulator process serving some arrays; see the module docstring."""

    def __init__(self, workdir, arrays, fabric=None):
        self.dir = os.path.abspath(workdir)
        self.arrays = list(arrays)
        self.fabric = os.path.abspath(fabric) if fabric else None
        self.store = model.Store(self.dir)
        self.proc = None
        self.info = None
        self.ca_file = None

    def start(self, timeout=60):
        cmd = [sys.executable, os.path.abspath(__file__), "serve", "--dir", self.dir,
               "--watch-stdin"]
        if self.fabric:
            cmd += ["--fabric", self.fabric]
        for a in self.arrays:
            cmd += ["--array", a]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else b""
        if not line:
            self.stop()
            raise RuntimeError("array simulator did not start")
        self.info = json.loads(line)
        self.ca_file = self.info["ca_file"]
        return self

    def stop(self):
        if self.proc is None:
            return
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def port(self, name):
        return self.info["arrays"][name]["port"]

    def host(self, name):
        return f"127.0.0.1:{self.port(name)}"

    def url(self, name):
        return f"https://{self.host(name)}"

    def state(self):
        return self.store.read()

    def seed(self, spec):
        with self.store.locked() as st:
            seed_state(st, spec, self.dir)

    def fault(self, **fault):
        with self.store.locked() as st:
            return model.add_faults(st, [fault])[0]["id"]

    def clear_faults(self):
        with self.store.locked() as st:
            st["faults"] = []

    def requests(self, array=None):
        return [r for r in self.state()["requests"] if array is None or r["array"] == array]


def start(workdir, arrays=("pure:fa1",), fabric=None, seed=None):
    sim = Sim(workdir, arrays, fabric).start()
    if seed:
        sim.seed(seed)
    return sim


# ---- command line ----

def cmd_serve(args):
    import server
    store = model.Store(args.dir)
    store.init(args.fabric)
    vendors = {}
    with store.locked() as st:
        for spec in args.array:
            vendor_name, _, name = spec.partition(":")
            if not name:
                raise SystemExit(f"--array wants vendor:name, got {spec!r}")
            arr = ensure_array(st, name, vendor_name)
            vendors[name] = load_vendor(arr["vendor"])
    ca, cert, key = make_certs(args.tls_dir or os.path.join(args.dir, "tls"))
    servers = server.serve(store, list(vendors), vendors, cert, key)
    ready = {"dir": store.root, "ca_file": ca, "pid": os.getpid(),
             "arrays": {s.array_name: {"vendor": vendors[s.array_name].VENDOR,
                                       "port": s.server_port} for s in servers}}
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    if args.watch_stdin:
        def watch():
            try:
                while sys.stdin.buffer.read(4096):
                    pass
            finally:
                done.set()
        threading.Thread(target=watch, daemon=True).start()
    done.wait()
    for s in servers:
        s.shutdown()
        s.server_close()
    if args.cleanup:
        shutil.rmtree(args.dir, ignore_errors=True)


def read_json_arg(text):
    return json.loads(sys.stdin.read() if text == "-" else text)


def main(argv):
    p = argparse.ArgumentParser(prog="simarray.py", description="SAN array simulator")
    sub = p.add_subparsers(dest="verb", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--dir", required=True)
    s.add_argument("--fabric")
    s.add_argument("--array", action="append", default=[], help="vendor:name")
    s.add_argument("--tls-dir")
    s.add_argument("--watch-stdin", action="store_true")
    s.add_argument("--cleanup", action="store_true")
    for verb in ("seed", "fault"):
        s = sub.add_parser(verb)
        s.add_argument("--dir", required=True)
        s.add_argument("json")
    for verb in ("state", "clear-faults"):
        s = sub.add_parser(verb)
        s.add_argument("--dir", required=True)
    s = sub.add_parser("certs")
    s.add_argument("--dir", required=True)
    args = p.parse_args(argv)

    if args.verb == "serve":
        cmd_serve(args)
        return 0
    if args.verb == "certs":
        print(json.dumps(dict(zip(("ca_file", "cert_file", "key_file"), make_certs(args.dir)))))
        return 0
    store = model.Store(args.dir)
    if args.verb == "state":
        print(json.dumps(store.read(), indent=1, sort_keys=True))
    elif args.verb == "seed":
        with store.locked() as st:
            seed_state(st, read_json_arg(args.json), store.root)
    elif args.verb == "fault":
        spec = read_json_arg(args.json)
        with store.locked() as st:
            added = model.add_faults(st, spec if isinstance(spec, list) else [spec])
        print(json.dumps(added))
    elif args.verb == "clear-faults":
        with store.locked() as st:
            st["faults"] = []
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
