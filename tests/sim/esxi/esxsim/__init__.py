"""xclone's ESXi host simulator (a test fixture; never shipped). See tests/sim/README.md."""
