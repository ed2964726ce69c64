"""A real OpenSSH sshd on 127.0.0.1 for xclone's tests (Python standard library only).

    with Sshd(workdir, forced_command="/path/xclone-agent ssh --config F") as s:
        s.ssh("session", stdin=b"...")         # runs the OpenSSH client with the test key
        s.port, s.client_key, s.known_hosts    # for libxclone tests

Everything lives in `workdir`: host keys, the client key pair, authorized_keys with
the exact restricted line xclone documents, sshd_config, pid and log. The server
runs in the foreground of its own process (-D), is killed on exit, and never reads
the system's sshd configuration or host keys.
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time

SSHD = "/usr/sbin/sshd"
SSH = "/usr/bin/ssh"
KEYGEN = "/usr/bin/ssh-keygen"

# The options of the forced-command line, exactly as DESIGN.md and the VIB docs give them.
RESTRICT = "no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-pty"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def authorized_key_line(forced_command, pubkey_text):
    """The restricted authorized_keys line for one key."""
    # OpenSSH unescapes only \" inside command="..." (auth-options.c); a
    # backslash stays as it is.
    escaped = forced_command.replace('"', '\\"')
    return f'command="{escaped}",{RESTRICT} {pubkey_text.strip()}'


def keygen(path, kind="ed25519", passphrase=""):
    subprocess.run([KEYGEN, "-q", "-t", kind, "-N", passphrase, "-C", "xclone-test", "-f", path],
                   check=True, stdin=subprocess.DEVNULL)
    with open(path + ".pub") as f:
        return f.read().strip()


class Sshd:
    def __init__(self, workdir, forced_command, extra_keys=(), key_kind="ed25519"):
        """extra_keys: (name, forced_command) pairs: one more client key each,
        its own restricted line (e.g. a read-only monitoring key)."""
        self.dir = os.path.abspath(workdir)
        self.forced_command = forced_command
        self.extra_keys = list(extra_keys)
        self.key_kind = key_kind
        self.proc = None
        self.port = None
        self.user = pwd.getpwuid(os.getuid()).pw_name
        self.keys = {}

    def _write_config(self):
        host_key = os.path.join(self.dir, "ssh_host_ed25519_key")
        keygen(host_key)
        self.host_pub = open(host_key + ".pub").read().strip()
        lines = []
        self.client_key = os.path.join(self.dir, "id_client")
        lines.append(authorized_key_line(self.forced_command,
                                         keygen(self.client_key, self.key_kind)))
        self.keys["default"] = self.client_key
        for name, cmd in self.extra_keys:
            path = os.path.join(self.dir, f"id_{name}")
            lines.append(authorized_key_line(cmd, keygen(path)))
            self.keys[name] = path
        self.authorized_keys = os.path.join(self.dir, "authorized_keys")
        with open(self.authorized_keys, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(self.authorized_keys, 0o600)
        self.port = free_port()
        self.known_hosts = os.path.join(self.dir, "known_hosts")
        with open(self.known_hosts, "w") as f:
            f.write(f"[127.0.0.1]:{self.port} {self.host_pub}\n")
        # sshd runs the forced command through the user's login shell, and Debian's
        # bash reads ~/.bashrc when started by sshd: a developer's rc file (pyenv
        # init: ~100 ms of CPU) would run before every agent. ESXi's shell reads
        # nothing for `sh -c`; an empty HOME gives the same here.
        self.home = os.path.join(self.dir, "home")
        os.makedirs(self.home, exist_ok=True)
        self.config = os.path.join(self.dir, "sshd_config")
        with open(self.config, "w") as f:
            f.write(f"""Port {self.port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile {self.dir}/sshd.pid
AuthorizedKeysFile {self.authorized_keys}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
AllowUsers {self.user}
PermitUserEnvironment no
LogLevel VERBOSE
MaxStartups 200
MaxSessions 64
ClientAliveInterval 0
SetEnv HOME={self.home}
""")

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation dir
        self._write_config()
        self.log = os.path.join(self.dir, "sshd.log")
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", self.config],
                                     stdout=open(self.log, "ab"), stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd exited: {open(self.log).read()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as c:
                    if c.recv(4).startswith(b"SSH-"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not start listening in 20 s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def ssh_argv(self, command, key="default"):
        """argv of the OpenSSH client reaching this server with a test key."""
        return [SSH, "-T", "-p", str(self.port), "-i", self.keys[key],
                "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                "-o", f"UserKnownHostsFile={self.known_hosts}",
                "-o", "StrictHostKeyChecking=yes", "-o", "LogLevel=ERROR",
                "-F", "/dev/null",
                f"{self.user}@127.0.0.1", command]

    def ssh(self, command, stdin=b"", key="default", timeout=60):
        """Run `command` (it becomes SSH_ORIGINAL_COMMAND); returns CompletedProcess."""
        return subprocess.run(self.ssh_argv(command, key), input=stdin, capture_output=True,
                              timeout=timeout)


def have_sshd():
    return os.path.exists(SSHD) and shutil.which("ssh-keygen") is not None
