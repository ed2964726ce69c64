"""esxcli's error texts, in one place.

THE ASSUMPTION: apart from "Error: Unknown command or namespace ...", which public
sources quote (a VMware KB and several runbooks), no sample of these texts was found;
they follow the same "Error: ..." shape. Failures print them on stderr and exit 1
(also assumed). See tests/sim/README.md.
"""

ESXCLI_ERRORS = {
    "unknown": "Error: Unknown command or namespace {words}",
    "usage": "Usage: esxcli [options] {{namespace}}+ {{cmd}} [cmd options]",
    "option": "Error: Invalid option {opt}",
    "missing": "Error: Missing required parameter {flags}",
    "value": "Error: Invalid value for parameter {flags}: {value}",
    "formatter": "Error: Invalid formatter '{name}' (the simulator supports csv and json)",
    "no_device": "Error: Unable to find device {dev}",
    "no_detached": "Error: Unable to find detached device {dev}",
    "no_adapter": "Error: Unable to find adapter {name}",
    "no_option": "Error: Unable to find option {path}",
    "no_module": "Error: Unable to find module {name}",
    "rescan_target": "Error: Either --all or --adapter must be given",
    "range": "Error: Value {value} is out of range for option {path} ({lo}-{hi})",
}
