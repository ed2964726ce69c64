"""Shared set-up of the simulator's own tests (tests/sim/esxi/test_*).

Every host a test builds lives in its own temp folder and is removed at exit,
also when the test fails or is terminated.
"""
import atexit
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))

import simhost  # noqa: E402
from tap import Tap  # noqa: E402

_hosts = []


def _cleanup():
    while _hosts:
        _hosts.pop().cleanup()


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def host(spec="basic", **kw):
    h = simhost.SimHost.create(spec, **kw)
    _hosts.append(h)
    return h


def text(p):
    return p.stdout.decode("utf-8", "surrogateescape")


def lines(p):
    return text(p).splitlines()


def timed(fn, *args, **kw):
    t = time.monotonic()
    result = fn(*args, **kw)
    return result, time.monotonic() - t


def wait_for(predicate, timeout=20.0, step=0.02):
    """Poll until predicate() is true; generous timeout, no timing assertion."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def popen(h, tool, *args):
    return subprocess.Popen([h.tool(tool)] + list(args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
