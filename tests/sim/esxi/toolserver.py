#!/usr/bin/python3 -IS
"""Tool server of one simulated host root: esxcli, vmkfstools and vsish without
CPython's start-up on every call (usage: toolserver.py ROOT [--lifeline]).

A simulated tool costs ~13 ms of CPU as a fresh process, most of it CPython starting;
forked from a process that has already imported the simulator, the client's own start
included, ~4.5 ms. The compiled client (simtool.c, copied to ROOT/bin/<tool>) connects
to this server and passes its argv, umask, working directory and fds 0-2; the server
forks a child that becomes the tool exactly as ROOT/bin/.<tool>.py would run it, and
reports how the child ended. See tests/sim/README.md ("Tool server").

The child behaves as the script's process would: fds 0-2 are the client's, the
working directory and umask are the client's, signal dispositions and the signal
mask are those of a fresh CPython, stdio objects are made new as CPython makes them,
`sys.exit(run(tool, root, argv))` ends it with CPython's exit rules (exit code of
SystemExit, message for a non-integer code, traceback and 1 for an uncaught
exception, death by SIGINT after an uncaught KeyboardInterrupt, 120 when stdout
cannot be flushed). It is its own process group, like the client in the agent's;
signals the client receives arrive at that group, the client's disappearance kills
it, and so does the server's (PR_SET_PDEATHSIG). What differs: the process is not
the client (another pid and parent), it sees the server's environment (the tools
read none) and a traceback's first frame is this file.

Stops on SIGTERM, SIGINT, SIGHUP, or (--lifeline) when fd 0 reaches EOF, i.e. when
the process that started it is gone; the children still running are killed and
their clients told so (killed by SIGKILL).

Protocol on a SOCK_STREAM Linux abstract socket whose name is in ROOT/etc/toolserver.addr:
  client -> server: u32 magic "XST1", u32 length, then NUL-terminated strings
      tool, umask (octal), argc, argc arguments; fds 0, 1, 2 and the working
      directory (an O_PATH fd) ride with the first byte (SCM_RIGHTS).
      Then, while the tool runs: i32 signal numbers to pass on.
  server -> client: i32 kind, i32 value records: STARTED pid, then EXITED code or
      SIGNALED signal. A connection closed before STARTED means nothing ran.
"""
import atexit
import ctypes
import gc
import io
import os
import selectors
import signal
import socket
import struct
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)   # the scripts' sys.path[0] (esxsim.host.SIM_DIR)

ADDR_FILE = os.path.join("etc", "toolserver.addr")
TOOLS = ("esxcli", "vmkfstools", "vsish")
REQ_MAGIC = 0x31545358
REQ_MAX = 1 << 20
HEADER = struct.Struct("=II")
REC = struct.Struct("=ii")
SIG = struct.Struct("=i")
STARTED, EXITED, SIGNALED = 1, 2, 3
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
STOP_SIGNALS = FORWARDED
PR_SET_PDEATHSIG = 1
PRCTL = ctypes.CDLL(None, use_errno=True).prctl   # resolved here, not in every child


def preload():
    """Everything a tool run imports, imported once (and json for real: main.run's
    lazy stand-in for it only exists to save start-up time)."""
    import json  # noqa: F401
    from esxsim import esxcli, main, vmkfstools, vsish  # noqa: F401
    from esxsim.host import import_fabric
    import_fabric()
    gc.freeze()   # children then do not copy the server's objects just to scan them


class Client:
    """One connection: its request as it arrives, then the tool it runs."""

    def __init__(self, sock):
        self.sock = sock
        self.data = bytearray()
        self.fds = []
        self.pid = None
        self.pidfd = None
        self.gone = False     # the client closed its end
        self.closed = False   # done with: events still queued for it are ignored

    def close_fds(self):
        while self.fds:
            os.close(self.fds.pop())


def parse_request(payload):
    """(tool, umask, args) from the payload; ValueError if it is not one."""
    parts = bytes(payload).split(b"\0")
    if len(parts) < 4 or parts[-1] != b"" or not (parts[1].isdigit() and parts[2].isdigit()):
        raise ValueError("malformed request")
    tool, umask, argc = parts[0].decode("ascii"), int(parts[1], 8), int(parts[2])
    args = parts[3:-1]
    if tool not in TOOLS or len(args) != argc or not 0 <= umask <= 0o777:
        raise ValueError("bad request")
    return tool, umask, [os.fsdecode(a) for a in args]


class Server:
    def __init__(self, root, lifeline):
        self.root = root
        self.pid = os.getpid()
        self.stopping = False
        self.clients = []
        self.sel = selectors.DefaultSelector()
        self.wake_r, self.wake_w = socket.socketpair()
        for s in (self.wake_r, self.wake_w):
            s.setblocking(False)
        signal.set_wakeup_fd(self.wake_w.fileno())
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._on_stop_signal)
        self.changed_signals = changed_signals()
        self.sel.register(self.wake_r, selectors.EVENT_READ, self._drain_wakeups)
        if lifeline:
            self.sel.register(0, selectors.EVENT_READ, self._lifeline)
        self.name = f"xclone-simtool-{self.pid}-{os.urandom(6).hex()}"
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind("\0" + self.name)
        self.listener.listen(128)
        self.listener.setblocking(False)
        self.sel.register(self.listener, selectors.EVENT_READ, self._accept)
        self.addr_path = os.path.join(root, ADDR_FILE)
        tmp = f"{self.addr_path}.tmp.{self.pid}"
        with open(tmp, "w", encoding="ascii") as f:
            f.write(self.name + "\n")
        os.rename(tmp, self.addr_path)

    # --- the loop ----------------------------------------------------------------
    def serve(self):
        """Runs until stopped (returns None); in a forked child returns its Tool."""
        while not self.stopping:
            for key, _ in self.sel.select():
                tool = key.data()
                if tool is not None:
                    return tool
        return None

    def _on_stop_signal(self, signum, frame):
        self.stopping = True

    def _drain_wakeups(self):
        try:
            while self.wake_r.recv(64):
                pass
        except BlockingIOError:
            pass

    def _lifeline(self):
        if not os.read(0, 64):
            self.stopping = True

    def _accept(self):
        try:
            sock, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return None
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        if struct.unpack("3i", creds)[1] != os.getuid():
            sock.close()   # only our own user's tools
            return None
        sock.setblocking(False)
        c = Client(sock)
        self.clients.append(c)
        self.sel.register(sock, selectors.EVENT_READ, lambda: self._on_client(c))
        return None

    def _on_client(self, c):
        if c.closed:
            return None
        if c.pid is None:
            return self._on_request(c)
        try:
            data = c.sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            data = b""
        if not data:
            # The client is gone (killed, maybe): its tool must not outlive it.
            c.gone = True
            self.sel.unregister(c.sock)
            self._signal(c, signal.SIGKILL)
            return None
        c.data += data
        while len(c.data) >= SIG.size:
            (sig,) = SIG.unpack_from(c.data)
            del c.data[:SIG.size]
            if sig in FORWARDED:
                self._signal(c, sig)
        return None

    def _on_request(self, c):
        try:
            data, fds, flags, _ = socket.recv_fds(c.sock, 65536, 4, socket.MSG_CMSG_CLOEXEC)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            data, fds, flags = b"", [], 0
        c.fds += fds
        c.data += data
        if not data or flags & socket.MSG_CTRUNC or len(c.fds) > 4:
            return self._drop(c)
        if len(c.data) < HEADER.size:
            return None
        magic, length = HEADER.unpack_from(c.data)
        if magic != REQ_MAGIC or length > REQ_MAX:
            return self._drop(c)
        if len(c.data) < HEADER.size + length:
            return None
        if len(c.data) > HEADER.size + length or len(c.fds) != 4:
            return self._drop(c)
        try:
            request = parse_request(c.data[HEADER.size:])
        except ValueError:
            return self._drop(c)   # the client then runs the plain tool
        c.data = bytearray()
        return self._start(c, *request)

    def _drop(self, c):
        self.sel.unregister(c.sock)
        self._forget(c)
        return None

    def _forget(self, c):
        c.closed = True
        c.sock.close()
        c.close_fds()
        self.clients.remove(c)

    # --- children ----------------------------------------------------------------
    def _start(self, c, tool, umask, args):
        sys.stdout.flush()
        sys.stderr.flush()
        # Blocked across fork: a signal the client passes on before the child has
        # reset its handlers stays pending and then acts as on a fresh process.
        signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED)
        pid = os.fork()
        if pid == 0:
            return self._become_tool(c, tool, umask, args)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED)
        c.close_fds()
        try:
            os.setpgid(pid, pid)   # also set in the child; whichever runs first
        except OSError:
            pass
        c.pid = pid
        c.pidfd = os.pidfd_open(pid)
        self.sel.register(c.pidfd, selectors.EVENT_READ, lambda: None if c.closed else self._on_exit(c))
        self._send(c, STARTED, pid)
        return None

    def _signal(self, c, sig):
        # Not reaped yet (reaping closes the client), so the group id is still ours.
        try:
            os.killpg(c.pid, sig)
        except OSError:
            pass

    def _send(self, c, kind, value):
        if c.gone:
            return
        try:
            c.sock.send(REC.pack(kind, value))
        except OSError:
            pass   # the client is gone; its EOF is handled on its own

    def _on_exit(self, c):
        _, status = os.waitpid(c.pid, 0)
        self.sel.unregister(c.pidfd)
        os.close(c.pidfd)
        if os.WIFSIGNALED(status):
            self._send(c, SIGNALED, os.WTERMSIG(status))
        else:
            self._send(c, EXITED, os.WEXITSTATUS(status))
        if not c.gone:
            self.sel.unregister(c.sock)
        self._forget(c)
        return None

    def _become_tool(self, c, tool, umask, args):
        """In the forked child: the process the script would have been."""
        die_with_parent(self.pid)
        os.setpgid(0, 0)
        fds = c.fds
        c.fds = []
        for target, fd in enumerate(fds[:3]):
            os.dup2(fd, target)
        os.fchdir(fds[3])
        for fd in fds:
            os.close(fd)
        self._close_everything()
        fresh_signals(self.changed_signals)
        os.umask(umask)
        fresh_stdio()
        sys.argv = [os.path.join(self.root, "bin", tool)] + args
        return Tool(tool, self.root, args)

    def _close_everything(self):
        """The child keeps none of the server's descriptors."""
        signal.set_wakeup_fd(-1)
        for c in self.clients:
            c.close_fds()
            c.sock.close()
            if c.pidfd is not None:
                os.close(c.pidfd)
        self.clients = []
        self.sel.close()
        for s in (self.listener, self.wake_r, self.wake_w):
            s.close()

    # --- stopping ----------------------------------------------------------------
    def stop(self):
        """Removes the address, kills the running tools, tells their clients."""
        if os.getpid() != self.pid:
            return   # a forked child that failed before it became a tool
        try:
            with open(self.addr_path, encoding="ascii") as f:
                ours = f.read().strip() == self.name
            if ours:
                os.unlink(self.addr_path)
        except OSError:
            pass
        self.listener.close()
        for c in list(self.clients):
            if c.pid is None:
                self._drop(c)
            else:
                self._signal(c, signal.SIGKILL)
                self._on_exit(c)
        self.sel.close()


def die_with_parent(server_pid):
    if PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0 or os.getppid() != server_pid:
        os._exit(125)   # the server died between fork and prctl


def changed_signals():
    """The signals whose disposition in this process is not the default: what a
    child must reset (fewer calls than resetting all 62)."""
    return [sig for sig in sorted(signal.valid_signals() - {signal.SIGKILL, signal.SIGSTOP})
            if signal.getsignal(sig) != signal.SIG_DFL]


def fresh_signals(changed):
    """Dispositions and mask of a CPython just started by the agent (which resets
    every signal to its default before exec)."""
    for sig in changed:
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def _stdio(fd, name, mode, like):
    """A stdio stream as CPython's create_stdio makes it (closefd=False), with the
    encoding CPython chose for the server's own (the same locale rules)."""
    buf = io.open(fd, mode + "b", -1, closefd=False)
    buf.raw.name = name
    line_buffering = buf.raw.isatty() or fd == 2
    text = io.TextIOWrapper(buf, getattr(like, "encoding", "utf-8"), getattr(like, "errors", "strict"),
                            "\n", line_buffering, False)
    text.mode = mode
    return text


def fresh_stdio():
    sys.stdin = sys.__stdin__ = _stdio(0, "<stdin>", "r", sys.__stdin__)
    sys.stdout = sys.__stdout__ = _stdio(1, "<stdout>", "w", sys.__stdout__)
    sys.stderr = sys.__stderr__ = _stdio(2, "<stderr>", "w", sys.__stderr__)


class Tool:
    def __init__(self, name, root, args):
        self.name, self.root, self.args = name, root, args

    def run(self):
        """`sys.exit(run(tool, root, argv))` and the interpreter's exit; never returns."""
        from esxsim.main import run
        sigint = False
        try:
            sys.exit(run(self.name, self.root, self.args))
        except SystemExit as e:
            status = exit_status(e.code)
        except BaseException as e:   # noqa: B902 - what the interpreter does with it
            sys.excepthook(type(e), e, e.__traceback__)
            status, sigint = 1, isinstance(e, KeyboardInterrupt)
        status = finalize(status)
        if sigint:   # CPython dies of SIGINT after an uncaught KeyboardInterrupt
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
            status = 128 + signal.SIGINT
        os._exit(status)


def exit_status(code):
    """CPython's _Py_HandleSystemExit."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF if -(1 << 63) <= code < (1 << 63) else 255
    sys.stderr.write(str(code))
    sys.stderr.write("\n")
    return 1


def finalize(status):
    """The parts of Py_FinalizeEx a tool can observe: atexit, then flushing stdout
    (a failure is reported as unraisable and makes the status 120) and stderr. The
    full finalization would cost more than the tool; gc.collect closes files left
    in reference cycles."""
    atexit._run_exitfuncs()
    gc.collect()
    out, err = getattr(sys, "stdout", None), getattr(sys, "stderr", None)
    try:
        if out is not None and not out.closed:
            out.flush()
    except Exception as e:   # noqa: B902
        sys.stderr.write(f"Exception ignored in: {out!r}\n")
        traceback.print_exception(type(e), e, None, file=sys.stderr)
        status = 120
    try:
        if err is not None and not err.closed:
            err.flush()
    except Exception:   # noqa: B902
        status = 120
    return status


def main(argv):
    if len(argv) not in (1, 2) or argv[1:] not in ([], ["--lifeline"]):
        sys.stderr.write(__doc__.split("\n", 2)[0] + "\n")
        return 2
    root = os.path.abspath(argv[0])
    preload()
    server = Server(root, lifeline=argv[1:] == ["--lifeline"])
    tool = None
    try:
        tool = server.serve()
    finally:
        if tool is None:
            server.stop()
    if tool is not None:
        tool.run()   # in a forked child: never returns
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
