"""Entry point of the simulated tools: ROOT/bin/<tool> calls run(tool, ROOT, argv)."""
import sys

from .host import Host, LazyModule, SimError


def _tool(name):
    # Import only the tool that runs: esxcli's start time is the budget that matters.
    if name == "esxcli":
        from . import esxcli
        return esxcli.main
    if name == "vmkfstools":
        from . import vmkfstools
        return vmkfstools.main
    if name == "vsish":
        from . import vsish
        return vsish.main
    raise SimError(f"unknown simulated tool {name}", 2)


def run(name, root, argv):
    if "json" not in sys.modules:
        sys.modules["json"] = LazyModule("json")
    try:
        return _tool(name)(Host(root), argv)
    except SimError as e:
        sys.stderr.write(e.message + "\n")
        return e.exit_code
