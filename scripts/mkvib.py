#!/usr/bin/python3
"""Builds the xclone-agent VIB (`make vib`).

A VIB is an `ar` archive of three members, in this order: descriptor.xml, an
empty sig.pkcs7 (community acceptance level) and one gzip-compressed tar payload
(vib/README.md has the sourced facts behind every choice made here).

    scripts/mkvib.py --agent build/xclone-agent --version 0.1.0 \\
        --out build/xclone-agent-0.1.0.vib [--release 1] \\
        [--with-compat --compat-version MTV_VIB_VERSION]

Reproducible: the same inputs and SOURCE_DATE_EPOCH give a byte-identical VIB.
Owners, modes and times in the tar are fixed, entries are sorted, gzip leaves
out name and time (-n), and `ar D` writes zero uid/gid/mtime. The tar and gzip
are made by GNU tar and gzip rather than Python's modules, because a payload
gzipped by Python is reported failing to mount on ESXi 8 where the same files
packed by the command-line tools installed (vib/README.md, S13).
"""
import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from xml.sax.saxutils import escape

VIB_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vib")

# The payload: (path inside the payload, mode, source under vib/ or None for the
# agent binary, flavor). "all" files are in every VIB; "compat" ones only with
# --with-compat. Directories are made 0755 and are not listed here.
PAYLOAD = (
    ("opt/xclone/bin/xclone-agent", 0o755, None, "all"),
    ("etc/xclone/agent.conf", 0o644, "payload/etc/xclone/agent.conf", "all"),
    ("etc/init.d/xclone-agent", 0o755, "payload/etc/init.d/xclone-agent", "all"),
    ("etc/vmware/firewall/xclone.xml", 0o644, "payload/etc/vmware/firewall/xclone.xml", "all"),
    ("usr/lib/vmware/esxcli/ext/xclone.xml", 0o644,
     "payload/usr/lib/vmware/esxcli/ext/xclone.xml", "all"),
    ("usr/lib/vmware/esxcli/ext/xclone-vmkfstools.xml", 0o644,
     "compat/usr/lib/vmware/esxcli/ext/xclone-vmkfstools.xml", "compat"),
)

# Payload member name: at most 8 characters from [a-z0-9_], since ESXi stages
# each payload as an 8.3 "tardisk" name (vib/README.md, "Payload naming").
PAYLOAD_NAME = "xclone"

# Defaults substituted into the payload's text files (@NAME@ placeholders).
DEFAULT_SERVE_PORT = 8443
DEFAULT_SERVE_PIDFILE = "/var/run/xclone/serve.pid"
FORKLIFT_VIB_NAME = "vmkfstools-wrapper"

DESCRIPTION = ("xclone-agent runs vmkfstools clones of virtual disks onto raw device "
               "mappings of SAN volumes, so that the array copies the blocks itself "
               "(XCOPY), and reports their progress as JSON. Reached over a restricted "
               "SSH key, a mutual-TLS socket (serve, off by default) or esxcli xclone.")
COMPAT_DESCRIPTION = (" This build also answers the Forklift/MTV esxcli vmkfstools "
                      "namespace and conflicts with the vmkfstools-wrapper VIB.")


class BuildError(Exception):
    pass


def parse_args(argv):
    p = argparse.ArgumentParser(description="Build the xclone-agent VIB.")
    p.add_argument("--agent", required=True, help="static x86_64 xclone-agent binary")
    p.add_argument("--version", required=True, help="agent version, e.g. 0.1.0")
    p.add_argument("--release", default="1",
                   help="VIB release number (the part after '-'); bump it for every "
                        "rebuild that changes the payload")
    p.add_argument("--out", required=True, help="VIB file to write")
    p.add_argument("--with-compat", action="store_true",
                   help="add the Forklift-compatible esxcli vmkfstools namespace")
    p.add_argument("--compat-version",
                   help="with --with-compat, required: the vmkfstools-wrapper version the "
                        "compat namespace reports, i.e. the VibVersion of the MTV release "
                        "in use (MTV reinstalls its own VIB on any other answer)")
    p.add_argument("--serve-port", type=int, default=DEFAULT_SERVE_PORT,
                   help="serve port in the default agent.conf and the firewall ruleset")
    p.add_argument("--url", action="append", default=[], metavar="KEY=URL",
                   help="a descriptor <url> (repeatable)")
    p.add_argument("--source-date-epoch", type=int,
                   help="timestamp for the release date and every file time "
                        "(default: $SOURCE_DATE_EPOCH, else now)")
    return p.parse_args(argv)


def vib_version(version, release):
    """ESXi 'ver-rel': both parts start with a digit, then digits, letters and
    periods; 35 characters at most (VMware's descriptor template, S42)."""
    full = f"{version}-{release}"
    part = r"[0-9][0-9A-Za-z.]*"
    if not re.fullmatch(f"{part}-{part}", full) or len(full) > 35:
        raise BuildError(f"version {full!r} is not an ESXi version (ver-rel, digits first, "
                         "letters/digits/periods, at most 35 characters)")
    return full


def source_date_epoch(arg):
    if arg is not None:
        return arg
    env = os.environ.get("SOURCE_DATE_EPOCH")
    if env is not None:
        if not env.isdigit():
            raise BuildError(f"SOURCE_DATE_EPOCH={env!r} is not a whole number")
        return int(env)
    print("mkvib: SOURCE_DATE_EPOCH not set; using the current time "
          "(the VIB will not be reproducible)", file=sys.stderr)
    return int(time.time())


def check_agent(path):
    """Refuses anything but a 64-bit little-endian x86_64 ELF. The full static
    check (program headers) is the verifier's job: tests/integration/test_vib."""
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError as e:
        raise BuildError(f"agent {path}: {e.strerror}") from e
    if len(head) < 20 or head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
        raise BuildError(f"agent {path}: not a 64-bit little-endian ELF file")
    if int.from_bytes(head[18:20], "little") != 62:
        raise BuildError(f"agent {path}: not an x86_64 binary")


def check_settings(args):
    if not 1 <= args.serve_port <= 65535:
        raise BuildError(f"--serve-port {args.serve_port}: not a TCP port")
    if args.with_compat != (args.compat_version is not None):
        raise BuildError("--compat-version goes with --with-compat, and is required by it")
    # Lands single-quoted on an esxcli <execute> line: no quotes, no blanks.
    if args.with_compat and not re.fullmatch(r"[0-9A-Za-z.+-]{1,35}", args.compat_version):
        raise BuildError(f"--compat-version {args.compat_version!r}: letters, digits, '.', "
                         "'+' and '-' only")
    for u in args.url:
        key, sep, url = u.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z0-9_-]{1,20}", key) or not url:
            raise BuildError(f"--url {u!r}: expected KEY=URL with a short key")


def payload_files(with_compat):
    return [f for f in PAYLOAD if f[3] == "all" or (with_compat and f[3] == "compat")]


def substitute(text, values, name):
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    left = re.search(r"@[A-Z_]+@", text)
    if left:
        raise BuildError(f"{name}: placeholder {left.group(0)} has no value")
    return text


def stage_payload(stage, files, agent, values):
    """Copies every payload file under stage/ with its mode; directories 0755."""
    for path, mode, source, _ in files:
        dest = os.path.join(stage, path)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        if source is None:
            shutil.copyfile(agent, dest)
        else:
            with open(os.path.join(VIB_DIR, source), encoding="utf-8") as f:
                text = substitute(f.read(), values, source)
            with open(dest, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
        os.chmod(dest, mode)
    for root, dirs, _ in os.walk(stage):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)


def run(argv, **kw):
    env = dict(os.environ, LC_ALL="C", TZ="UTC")
    try:
        return subprocess.run(argv, check=True, env=env, **kw)
    except FileNotFoundError as e:
        raise BuildError(f"{argv[0]} not found: install it (GNU tar, gzip, binutils)") from e
    except subprocess.CalledProcessError as e:
        raise BuildError(f"{' '.join(argv)} failed with exit code {e.returncode}") from e


def make_payload(stage, work, epoch):
    """GNU tar (sorted, root-owned, fixed times, relative paths, directory
    entries included) piped through gzip -n. Returns (tar path, gzip path)."""
    tar_path = os.path.join(work, "payload.tar")
    gz_path = os.path.join(work, PAYLOAD_NAME)
    tops = sorted(os.listdir(stage))
    run(["tar", "--create", "--format=gnu", "--sort=name", "--owner=root:0", "--group=root:0",
         f"--mtime=@{epoch}", "--no-acls", "--no-xattrs", "--no-selinux",
         "-C", stage, "-f", tar_path, "--"] + tops)
    with open(gz_path, "wb") as out:
        run(["gzip", "-9", "-n", "-c", tar_path], stdout=out)
    return tar_path, gz_path


def digest(path, algo):
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def tar_file_list(tar_path):
    """The payload's regular files, in archive order (what <file-list> must hold)."""
    with tarfile.open(tar_path, "r:") as t:
        return [m.name for m in t.getmembers() if m.isfile()]


def render_descriptor(version, epoch, with_compat, urls, files, tar_path, gz_path):
    with open(os.path.join(VIB_DIR, "descriptor.xml.in"), encoding="utf-8") as f:
        template = f.read()
    if urls:
        lines = [f'    <url key="{escape(k)}">{escape(u)}</url>'
                 for k, _, u in (x.partition("=") for x in urls)]
        urls_xml = "<urls>\n" + "\n".join(lines) + "\n  </urls>"
    else:
        urls_xml = "<urls/>"
    if with_compat:
        conflicts = ("<conflicts>\n"
                     f'      <constraint name="{FORKLIFT_VIB_NAME}"/>\n'
                     "    </conflicts>")
    else:
        conflicts = "<conflicts/>"
    values = {
        "VERSION": escape(version),
        "DESCRIPTION": escape(DESCRIPTION + (COMPAT_DESCRIPTION if with_compat else "")),
        # YYYY-MM-DDTHH:MM:SS in UTC: the form used by working ESXi 8 VIBs.
        "RELEASE_DATE": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)),
        "URLS": urls_xml,
        "CONFLICTS": conflicts,
        "FILE_LIST": "\n".join(f"    <file>{escape(p)}</file>" for p in files),
        "PAYLOAD_NAME": PAYLOAD_NAME,
        "PAYLOAD_SIZE": str(os.path.getsize(gz_path)),
        "SHA256": digest(gz_path, "sha256"),
        "SHA256_GUNZIP": digest(tar_path, "sha256"),
        "SHA1_GUNZIP": digest(tar_path, "sha1"),
    }
    return substitute(template, values, "descriptor.xml.in")


def make_vib(work, descriptor, gz_path, out):
    """ar in deterministic mode (D): uid, gid and mtime 0, mode 644. Members are
    written in argument order into a new file, then renamed over out."""
    with open(os.path.join(work, "descriptor.xml"), "w", encoding="utf-8") as f:
        f.write(descriptor)
    open(os.path.join(work, "sig.pkcs7"), "wb").close()
    tmp = os.path.join(work, "out.vib")
    run(["ar", "rcD", tmp, "descriptor.xml", "sig.pkcs7", PAYLOAD_NAME], cwd=work)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    shutil.move(tmp, out)


def build(args):
    version = vib_version(args.version, args.release)
    epoch = source_date_epoch(args.source_date_epoch)
    check_agent(args.agent)
    check_settings(args)
    values = {
        "SERVE_PORT": str(args.serve_port),
        "SERVE_PIDFILE": DEFAULT_SERVE_PIDFILE,
        "COMPAT_VERSION": args.compat_version or "",
    }
    files = payload_files(args.with_compat)
    with tempfile.TemporaryDirectory(prefix="mkvib.") as work:
        stage = os.path.join(work, "stage")
        os.mkdir(stage)
        stage_payload(stage, files, args.agent, values)
        tar_path, gz_path = make_payload(stage, work, epoch)
        listed = tar_file_list(tar_path)
        if sorted(listed) != sorted(f[0] for f in files):
            raise BuildError(f"payload holds {listed}, expected {[f[0] for f in files]}")
        descriptor = render_descriptor(version, epoch, args.with_compat, args.url, listed,
                                       tar_path, gz_path)
        make_vib(work, descriptor, gz_path, args.out)
    print(f"mkvib: wrote {args.out} (xclone-agent {version}"
          f"{', with compat namespace' if args.with_compat else ''})")


def main(argv):
    args = parse_args(argv)
    try:
        build(args)
    except BuildError as e:
        print(f"mkvib: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
