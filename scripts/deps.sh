#!/usr/bin/env bash
# make deps: install the Debian packages xclone needs and build the static musl
# archives (OpenSSL, cJSON) that the agent links, from Debian's own source packages.
#
# Idempotent: packages already installed are not asked for again, and each musl
# build is cached under $XCLONE_DEPS_DIR keyed by the source version and by a hash
# of this script's build recipe, so a second run takes seconds.
#
# Nothing is downloaded from anywhere but the machine's configured Debian archives.
set -euo pipefail
shopt -s inherit_errexit

DEPS_DIR=${XCLONE_DEPS_DIR:-/var/cache/xclone-deps}
JOBS=${JOBS:-$(nproc)}

PACKAGES=(
	gcc make pkg-config binutils file dpkg-dev ca-certificates
	musl-tools musl-dev linux-libc-dev
	libssl-dev libssh2-1-dev libcurl4-openssl-dev libcjson-dev
	openssl openssh-server openssh-client
	clang libclang-rt-14-dev valgrind
	python3 xz-utils gzip tar busybox
)

log() { printf 'deps: %s\n' "$*" >&2; }
die() { printf 'deps: error: %s\n' "$*" >&2; exit 1; }

missing_packages() {
	local p
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			printf '%s\n' "$p"
	done
}

need_root() {
	[ "$(id -u)" = 0 ] || die "$1 needs root (run 'make deps' as root)"
}

# deb-src entries mirroring every configured Debian 'deb' entry, written once.
ensure_deb_src() {
	local out=/etc/apt/sources.list.d/xclone-deb-src.sources
	if grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		return 0
	fi
	need_root "adding deb-src entries"
	log "adding deb-src entries for the configured Debian archives ($out)"
	# deb822 files: copy each stanza of Debian archives with Types: deb-src.
	python3 - "$out" /etc/apt/sources.list.d/*.sources <<'PY'
import sys
out, files = sys.argv[1], sys.argv[2:]
stanzas = []
for f in files:
    for block in open(f).read().split("\n\n"):
        fields = {}
        for line in block.splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            k, v = line.split(":", 1)
            fields[k.strip()] = v.strip()
        if "deb" in fields.get("Types", "").split() and "debian" in fields.get("URIs", ""):
            fields["Types"] = "deb-src"
            stanzas.append("\n".join(f"{k}: {v}" for k, v in fields.items()))
if not stanzas:
    sys.exit("no Debian 'deb' entries found in deb822 sources")
open(out, "w").write("\n\n".join(stanzas) + "\n")
PY
	apt-get update -qq
}

install_packages() {
	local miss
	miss=$(missing_packages)
	[ -z "$miss" ] && return 0
	need_root "installing packages"
	log "installing: $(echo $miss)"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $miss >/dev/null
}

# A folder of the kernel headers musl-gcc does not see on its own (OpenSSL
# includes <linux/...> for its Linux-specific random source).
kernel_headers() {
	local d=$DEPS_DIR/kernel-headers
	if [ ! -e "$d/linux" ]; then
		mkdir -p "$d"
		ln -sfn /usr/include/linux "$d/linux"
		ln -sfn /usr/include/asm-generic "$d/asm-generic"
		ln -sfn "/usr/include/$(gcc -dumpmachine)/asm" "$d/asm"
	fi
	printf '%s\n' "$d"
}

# Fetch Debian's source package $1 into the current folder, unpack it as ./src and
# print the version obtained. The installed version ($2) is preferred; when its
# source is gone from the mirror (security updates often are), every version the
# archives list is tried, newest first. When the .dsc or Debian tarball of a
# version is missing but its .orig tarball arrived, that tarball is used as is.
fetch_source() {
	local pkg=$1 want=$2 v dsc orig
	local versions
	versions=$( { printf '%s\n' "$want"; apt-cache showsrc "$pkg" 2>/dev/null |
		awk '/^Version:/ {print $2}' | sort -rV; } | awk '!seen[$0]++')
	for v in $versions; do
		rm -rf dl src && mkdir dl
		(cd dl && apt-get source -qq --download-only "$pkg=$v" >/dev/null 2>&1) || true
		dsc=$(ls dl/*.dsc 2>/dev/null | head -n1 || true)
		if [ -n "$dsc" ] && dpkg-source -x --no-check "$dsc" src >/dev/null 2>&1; then
			printf '%s\n' "$v"; return 0
		fi
		orig=$(ls dl/*.orig.tar.* 2>/dev/null | grep -v '\.asc$' | head -n1 || true)
		if [ -n "$orig" ]; then
			log "$pkg=$v: using the .orig tarball alone"
			rm -rf src && mkdir src
			tar -xf "$orig" -C src --strip-components=1
			printf '%s\n' "$v"; return 0
		fi
		log "$pkg=$v: source not available, trying the next version"
	done
	die "no source of $pkg could be fetched from the configured archives"
}

OPENSSL_CONFIG=(
	linux-x86_64 no-shared no-dso no-engine no-async no-module no-legacy
	no-autoload-config no-tests no-ui-console no-afalgeng no-capieng
	no-ssl3 no-tls1 no-tls1_1 no-dtls no-srp no-psk no-comp no-ct no-ocsp
	no-cms no-ts no-sctp no-srtp no-nextprotoneg no-gost
	no-idea no-seed no-camellia no-aria no-bf no-cast no-rc2 no-rc4 no-rc5
	no-md2 no-md4 no-mdc2 no-whirlpool no-rmd160 no-sm2 no-sm3 no-sm4
	no-siphash no-scrypt no-ec2m no-dsa no-des no-deprecated
	no-ssl-trace no-filenames no-err
)
CFLAGS_MUSL="-Os -ffunction-sections -fdata-sections -fPIE"

recipe_hash() {
	{ printf '%s\n' "${OPENSSL_CONFIG[@]}" "$CFLAGS_MUSL"; sed -n '/^build_/,/^}/p' "$0"; } |
		sha256sum | cut -c1-12
}

build_openssl() {
	local ver key dir work got
	ver=$(dpkg-query -W -f='${source:Version}' libssl-dev)
	key="openssl-$ver-$(recipe_hash)"
	dir=$DEPS_DIR/musl/$key
	if [ -f "$dir/.done" ]; then printf '%s\n' "$dir"; return 0; fi
	need_root "building OpenSSL for musl"
	log "building static OpenSSL $ver for musl (a few minutes, once)"
	work=$(mktemp -d)
	(
		cd "$work"
		got=$(fetch_source openssl "$ver")
		cd src
		CC=musl-gcc CFLAGS="$CFLAGS_MUSL -isystem $(kernel_headers)" \
			./Configure "${OPENSSL_CONFIG[@]}" --prefix="$dir" --libdir=lib >build.log 2>&1 ||
			{ tail -n 30 build.log >&2; exit 1; }
		make -j"$JOBS" build_libs >>build.log 2>&1 || { tail -n 30 build.log >&2; exit 1; }
		make install_dev >>build.log 2>&1 || { tail -n 30 build.log >&2; exit 1; }
		printf '%s\n' "$got" >"$dir/source-version"
	)
	rm -rf "$work"
	touch "$dir/.done"
	printf '%s\n' "$dir"
}

build_cjson() {
	local ver key dir work got
	ver=$(dpkg-query -W -f='${source:Version}' libcjson-dev)
	key="cjson-$ver-$(recipe_hash)"
	dir=$DEPS_DIR/musl/$key
	if [ -f "$dir/.done" ]; then printf '%s\n' "$dir"; return 0; fi
	need_root "building cJSON for musl"
	log "building static cJSON $ver for musl"
	work=$(mktemp -d)
	(
		cd "$work"
		got=$(fetch_source cjson "$ver")
		mkdir -p "$dir/include/cjson" "$dir/lib"
		musl-gcc $CFLAGS_MUSL -std=c89 -c src/cJSON.c -o cJSON.o
		ar rcs "$dir/lib/libcjson.a" cJSON.o
		cp src/cJSON.h "$dir/include/cjson/cJSON.h"
		printf '%s\n' "$got" >"$dir/source-version"
	)
	rm -rf "$work"
	touch "$dir/.done"
	printf '%s\n' "$dir"
}

main() {
	install_packages
	mkdir -p "$DEPS_DIR/musl"
	ensure_deb_src
	local ossl cjson
	ossl=$(build_openssl)
	cjson=$(build_cjson)
	# The Makefile includes this file to find the musl archives.
	cat >"$DEPS_DIR/musl.mk.tmp" <<MK
MUSL_OPENSSL := $ossl
MUSL_CJSON := $cjson
MK
	mv "$DEPS_DIR/musl.mk.tmp" "$DEPS_DIR/musl.mk"
	log "ready ($DEPS_DIR/musl.mk)"
}

main "$@"
