"""Run the real xclone-agent against a simulated ESXi host, for integration tests.

    host = simhost.SimHost.create("basic")
    a = AgentRun(host, workdir)             # writes agent.conf, a state folder, tool spies
    a.call("hello")                          # one request through `xclone-agent local`
    a.session([req(...), req(...)])          # many requests, one process
    a.spy_calls("vmkfstools")                # every argv the agent executed, per tool

The tool spies are tiny wrappers that record each argv (NUL-separated, one record
per line) before exec'ing the simulator's tool, so a test can prove which host
commands a request ran, or that it ran none.
"""
import json
import os
import subprocess

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("BUILD", "build")


def agent_path():
    return os.path.join(REPO, BUILD, "xclone-agent")


def req(op, args=None, rid="r1", version=1):
    return json.dumps({"xclone": version, "id": rid, "op": op, "args": args or {}},
                      ensure_ascii=False)


class AgentRun:
    TOOLS = ("vmkfstools", "esxcli", "vsish")

    def __init__(self, host, workdir, settings=None, spy=True):
        self.host = host
        self.dir = os.path.abspath(workdir)
        os.makedirs(self.dir, exist_ok=True)
        self.state_dir = os.path.join(self.dir, "state")
        os.makedirs(self.state_dir, exist_ok=True)
        self.spy_dir = os.path.join(self.dir, "spy")
        tools = {}
        for t in self.TOOLS:
            tools[t] = self._spy(t) if spy else host.tool(t)
        conf = {
            "vmkfstools_path": tools["vmkfstools"],
            "esxcli_path": tools["esxcli"],
            "vsish_path": tools["vsish"],
            "vmfs_root": os.path.join(host.root, "vmfs"),
            "state_dir": self.state_dir,
            "log_level": "debug",
        }
        conf.update(settings or {})
        self.conf = os.path.join(self.dir, "agent.conf")
        with open(self.conf, "w") as f:
            f.write("# written by tests/lib/agentrun.py\n")
            for k, v in conf.items():
                f.write(f"{k} = {v}\n")
        os.chmod(self.conf, 0o600)

    def _spy(self, tool):
        os.makedirs(self.spy_dir, exist_ok=True)
        path = os.path.join(self.spy_dir, tool)
        log = os.path.join(self.spy_dir, tool + ".log")
        real = self.host.tool(tool)
        # The spy is test scaffolding run by the agent through execve: the agent
        # itself never involves a shell. Paths here are the test's own.
        with open(path, "w") as f:
            f.write("#!/bin/sh\n"
                    f"for a in \"$0\" \"$@\"; do printf '%s\\0' \"$a\"; done >> '{log}'\n"
                    f"printf '\\n' >> '{log}'\n"
                    f"exec '{real}' \"$@\"\n")
        os.chmod(path, 0o755)
        return path

    def spy_calls(self, tool):
        """argv lists (without argv[0]) the agent ran for a tool, oldest first."""
        try:
            with open(os.path.join(self.spy_dir, tool + ".log"), "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        calls = []
        for rec in data.split(b"\0\n"):
            if rec:
                calls.append([a.decode("utf-8", "replace") for a in rec.split(b"\0")][1:])
        return calls

    def clear_spies(self):
        for t in self.TOOLS:
            try:
                os.unlink(os.path.join(self.spy_dir, t + ".log"))
            except FileNotFoundError:
                pass

    def argv(self, mode="local", *flags):
        return [agent_path(), mode, "--config", self.conf, *flags]

    def forced_command(self, *flags):
        """The command= of the authorized_keys line for this agent."""
        return " ".join([agent_path(), "ssh", "--config", self.conf, *flags])

    def run_lines(self, lines, mode="local", flags=(), env=None, timeout=120):
        """Sends request lines (str or bytes) to one agent process; returns
        (parsed response dicts, CompletedProcess)."""
        data = b"".join((l if isinstance(l, bytes) else l.encode()) + b"\n" for l in lines)
        p = subprocess.run(self.argv(mode, *flags), input=data, capture_output=True,
                           timeout=timeout, env=env)
        return parse_lines(p.stdout), p

    def call(self, op, args=None, rid="r1", flags=()):
        """One request; returns the final response dict (events dropped)."""
        out, p = self.run_lines([req(op, args, rid)], flags=flags)
        finals = [o for o in out if "ok" in o]
        if len(finals) != 1:
            raise AssertionError(f"expected one response, got {out!r}; stderr {p.stderr!r}")
        return finals[0]


def parse_lines(data):
    out = []
    for line in data.splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out


def error_code(resp):
    """The error code of a response, or None when it succeeded."""
    if resp.get("ok"):
        return None
    return resp.get("error", {}).get("code")


def tree_snapshot(root, skip=()):
    """{relative path: (type, size, mtime_ns)} of everything under root, not
    following symlinks, leaving out the given absolute folders."""
    snap = {}
    skip = tuple(os.path.abspath(s) for s in skip)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if os.path.join(dirpath, d) not in skip]
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            kind = "l" if os.path.islink(p) else ("d" if os.path.isdir(p) else "f")
            snap[os.path.relpath(p, root)] = (kind, 0 if kind == "d" else st.st_size,
                                              0 if kind == "d" else st.st_mtime_ns)
    return snap
