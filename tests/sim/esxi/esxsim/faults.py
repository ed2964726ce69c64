"""Fault injection: ROOT/faults.json, re-read by every tool invocation.

Schema (every section optional; tests/sim/README.md documents it for users):
    "clone_fail":  {"at_percent": N, "message": str, "code": int, "exit_code": int,
                    "times": n, "match": str}
    "clone_hang":  {"at_percent": N, "times": n, "match": str}
    "clone_stall": {"at_percent": N, "ms": T, "times": n, "match": str}
    "esxcli_fail": [{"command": "storage core device list", "message": str,
                     "exit_code": int, "times": n}, ...]
    "device_delay": {"<device id>": K}   a mapped device appears only on the
                                          K-th add rescan that sees it
    "rescan_ms":   T                      every rescan takes T ms
"times" limits how often a rule fires (counted in ROOT/etc/fault-counters.json,
under a lock, so "fails twice then succeeds" holds across processes); without it
the rule fires every time. "match" restricts a clone rule to clones whose source
or destination argument contains that text.
"""
import os

from .host import SimError, read_json


def load(host):
    path = os.path.join(host.root, "faults.json")
    try:
        return read_json(path, {}) or {}
    except ValueError as e:
        raise SimError(f"simulator: {path}: {e}", 2) from None


def _consume(host, key, times):
    """True when the rule named key may fire now; counts the firing."""
    if times is None:
        return True
    with host.lock("faults"):
        counters = host.load("fault-counters.json", {})
        used = counters.get(key, 0)
        if used >= int(times):
            return False
        counters[key] = used + 1
        host.save("fault-counters.json", counters)
    return True


def esxcli_failure(host, words):
    """The (message, exit code) an esxcli command must fail with, or None."""
    rules = load(host).get("esxcli_fail") or []
    for i, rule in enumerate(rules):
        want = rule.get("command", "").split()
        if words[:len(want)] != want:
            continue
        if _consume(host, f"esxcli_fail.{i}", rule.get("times")):
            return rule.get("message", "Error: injected failure"), int(rule.get("exit_code", 1))
    return None


def rescan_delay_ms(host):
    return int(load(host).get("rescan_ms", 0) or 0)


def device_delay(host, dev_id):
    return int((load(host).get("device_delay") or {}).get(dev_id, 0) or 0)


class CloneFaults:
    """The clone rules that apply to one vmkfstools -i run, decided at start."""

    def __init__(self, host, src_arg, dst_arg):
        self.host = host
        self.rules = {}
        spec = load(host)
        for kind in ("clone_fail", "clone_hang", "clone_stall"):
            rule = spec.get(kind)
            if not rule:
                continue
            match = rule.get("match")
            if match and match not in src_arg and match not in dst_arg:
                continue
            if _consume(host, kind, rule.get("times")):
                self.rules[kind] = rule

    def at(self, kind, percent):
        rule = self.rules.get(kind)
        if rule is not None and int(rule.get("at_percent", 0)) == percent:
            return rule
        return None
