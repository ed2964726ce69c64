# xclone — one entry point for everything. `make help` lists the targets.
#
# Two toolchains:
#   musl-gcc  builds the agent, statically, against the musl archives of OpenSSL
#             and cJSON that `make deps` builds from Debian's source packages;
#   gcc       builds libxclone, the xclone CLI, the tests, and (with SAN=1) a
#             sanitized glibc agent, since ASan cannot instrument a static musl binary.

VERSION := $(shell cat VERSION)
DEPS_DIR ?= /var/cache/xclone-deps
-include $(DEPS_DIR)/musl.mk

SAN ?= 0
ifeq ($(SAN),1)
BUILD ?= build-san
else
BUILD ?= build
endif

CC ?= gcc
MUSL_CC ?= musl-gcc
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60

WARN := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wvla -Wno-unused-parameter
BASE_CFLAGS := -std=c17 -D_GNU_SOURCE= -O2 -g $(WARN) -fstack-protector-strong \
	-DXCLONE_VERSION='"$(VERSION)"'
INCLUDES := -Iprotocol -Iagent -Iclient/include -Iclient/lib -Iclient/arrays -Itests/lib

# glibc builds: fortified, PIE, full RELRO.
HOST_CFLAGS := $(BASE_CFLAGS) -D_FORTIFY_SOURCE=2 -fPIC $(INCLUDES) -MMD -MP
HOST_LDFLAGS := -pie -Wl,-z,relro,-z,now
HOST_LIBS := -lssh2 -lcurl -lssl -lcrypto -lcjson -lpthread
ifeq ($(SAN),1)
HOST_CFLAGS := $(filter-out -O2 -D_FORTIFY_SOURCE=2,$(HOST_CFLAGS)) -O1 \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
HOST_LDFLAGS += -fsanitize=address,undefined
endif

# musl build of the agent: static, sections garbage-collected, stripped.
# musl has no _FORTIFY_SOURCE support, hence its absence here.
MUSL_CFLAGS := $(BASE_CFLAGS) -Os -ffunction-sections -fdata-sections $(INCLUDES) \
	-I$(MUSL_OPENSSL)/include -I$(MUSL_CJSON)/include -MMD -MP
MUSL_LDFLAGS := -static -Wl,--gc-sections -s
MUSL_LIBS := -L$(MUSL_OPENSSL)/lib -L$(MUSL_CJSON)/lib -lssl -lcrypto -lcjson

PROTOCOL_SRC := $(wildcard protocol/*.c)
AGENT_SRC := $(filter-out agent/main.c,$(wildcard agent/*.c agent/*/*.c))
CLIENT_SRC := $(wildcard client/lib/*.c client/arrays/*.c)
CLI_SRC := $(wildcard client/cli/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)

hobj = $(patsubst %.c,$(BUILD)/host/%.o,$(1))
mobj = $(patsubst %.c,$(BUILD)/musl/%.o,$(1))

AGENT_BIN := $(BUILD)/xclone-agent
CLI_BIN := $(BUILD)/xclone
LIB_A := $(BUILD)/libxclone.a
LIB_SO := $(BUILD)/libxclone.so
PROTO_A := $(BUILD)/libxproto.a
AGENT_CORE_A := $(BUILD)/libxagent.a
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(FUZZ_SRC))

.PHONY: all deps agent client check fuzz fuzz-smoke size bench vib demo install clean help
.DEFAULT_GOAL := all

all: agent client

help:
	@echo "make deps            install Debian packages, build static musl OpenSSL + cJSON (root, idempotent)"
	@echo "make                 build build/xclone-agent (static musl), libxclone, build/xclone"
	@echo "make demo            set up, build, and populate a sample VM through the simulators"
	@echo "make check [SAN=1]   build and run the whole test suite (SAN=1: ASan+UBSan build)"
	@echo "make fuzz            run every libFuzzer target FUZZ_SECONDS (default 60) each"
	@echo "make fuzz-smoke      run every libFuzzer target for 10 s (CI)"
	@echo "make bench           run the benchmarks; figures printed beside their targets"
	@echo "make size            print the stripped agent's size"
	@echo "make vib             build build/xclone-agent-VERSION.vib (COMPAT_VERSION=v adds the Forklift namespace)"
	@echo "make install         install xclone, libxclone and headers under PREFIX (/usr/local)"

deps:
	@bash scripts/deps.sh

# --- the agent ---------------------------------------------------------------

ifeq ($(SAN),1)
# Sanitized glibc agent (tests only): same sources, host toolchain.
$(AGENT_BIN): $(call hobj,agent/main.c $(AGENT_SRC) $(PROTOCOL_SRC))
	@mkdir -p $(@D)
	$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS)
else
$(AGENT_BIN): $(call mobj,agent/main.c $(AGENT_SRC) $(PROTOCOL_SRC)) | musl-deps
	@mkdir -p $(@D)
	$(MUSL_CC) $(MUSL_LDFLAGS) -o $@ $(filter %.o,$^) $(MUSL_LIBS)
endif

agent: $(AGENT_BIN)

.PHONY: musl-deps
musl-deps:
	@test -n "$(MUSL_OPENSSL)" -a -f "$(MUSL_OPENSSL)/lib/libssl.a" || \
		{ echo "static musl OpenSSL missing: run 'make deps' first" >&2; exit 1; }

$(BUILD)/musl/%.o: %.c | musl-deps
	@mkdir -p $(@D)
	$(MUSL_CC) $(MUSL_CFLAGS) -c -o $@ $<

# --- the client --------------------------------------------------------------

$(BUILD)/host/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -c -o $@ $<

$(PROTO_A): $(call hobj,$(PROTOCOL_SRC))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(AGENT_CORE_A): $(call hobj,$(AGENT_SRC))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(LIB_A): $(call hobj,$(CLIENT_SRC) $(PROTOCOL_SRC))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(LIB_SO): $(call hobj,$(CLIENT_SRC) $(PROTOCOL_SRC))
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-soname,libxclone.so.0 $(HOST_LDFLAGS:-pie=) -o $@ $^ $(HOST_LIBS)

$(CLI_BIN): $(call hobj,$(CLI_SRC)) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS)

$(BUILD)/xclone.pc: client/xclone.pc.in VERSION
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' $< >$@

client: $(LIB_A) $(LIB_SO) $(CLI_BIN) $(BUILD)/xclone.pc

# --- tests -------------------------------------------------------------------

$(BUILD)/tests/%: tests/unit/%.c $(AGENT_CORE_A) $(LIB_A) $(PROTO_A)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) $(HOST_LDFLAGS) -o $@ $< $(AGENT_CORE_A) $(LIB_A) $(PROTO_A) $(HOST_LIBS)

# The ESXi host simulator's tool client (tests/sim/esxi/toolserver.py); libc only.
# Never sanitized: it is test scaffolding, and ASan's start-up would cost what it saves.
$(BUILD)/tests/sim/simtool: tests/sim/esxi/simtool.c
	@mkdir -p $(@D)
	$(CC) $(filter-out -fsanitize=% -fno-sanitize-recover=%,$(HOST_CFLAGS)) \
		$(filter-out -fsanitize=%,$(HOST_LDFLAGS)) -o $@ $<

# check runs deps first (seconds when done) so that `make check` alone works on a
# fresh machine; the second make reads the musl.mk that deps wrote.
check:
	@bash scripts/deps.sh
	@$(MAKE) --no-print-directory check-run

# demo: like check, runs deps first so `make demo` alone works on a fresh machine.
demo:
	@bash scripts/deps.sh
	@$(MAKE) --no-print-directory SAN=0 BUILD=build all build/tests/sim/simtool
	BUILD=build scripts/demo.py

.PHONY: check-run
check-run: all $(UNIT_BINS) $(BUILD)/tests/sim/simtool
	BUILD=$(BUILD) SAN=$(SAN) tests/run

FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE= -g -O1 -DXCLONE_VERSION='"$(VERSION)"' $(INCLUDES) -fsanitize=fuzzer,address,undefined
FUZZ_LIB := build-fuzz/libfuzzsrc.a
build-fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_LIB): $(patsubst %.c,build-fuzz/obj/%.o,$(PROTOCOL_SRC) $(AGENT_SRC))
	rm -f $@ && ar rcs $@ $^

build-fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB) -lcjson -lssl -lcrypto

fuzz: $(FUZZ_BINS)
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZ_BINS)

fuzz-smoke: $(FUZZ_BINS)
	FUZZ_SECONDS=10 scripts/fuzz.sh $(FUZZ_BINS)

size: $(AGENT_BIN)
	@printf 'xclone-agent stripped size: %s bytes (%s KiB; target <= 3072 KiB)\n' \
		"$$(stat -c %s $(AGENT_BIN))" "$$(( $$(stat -c %s $(AGENT_BIN)) / 1024 ))"

bench: all $(BUILD)/tests/sim/simtool
	scripts/bench.sh

# The VIB always carries the static musl agent, even when SAN=1 is set.
# COMPAT_VERSION=<Forklift wrapper version> adds the vmkfstools compatibility
# namespace (see vib/README.md) and declares the conflict with Forklift's VIB.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || date +%s)
VIB_RELEASE ?= 1
vib:
	@$(MAKE) --no-print-directory SAN=0 BUILD=build build/xclone-agent
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) scripts/mkvib.py --agent build/xclone-agent \
		--version $(VERSION) --release $(VIB_RELEASE) \
		$(if $(COMPAT_VERSION),--with-compat --compat-version $(COMPAT_VERSION) \
		--out build/xclone-agent-compat-$(VERSION).vib,--out build/xclone-agent-$(VERSION).vib)

# --- install -----------------------------------------------------------------

PREFIX ?= /usr/local
install: client
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 0755 $(CLI_BIN) $(DESTDIR)$(PREFIX)/bin/xclone
	install -m 0644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/libxclone.a
	install -m 0755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/libxclone.so.0
	ln -sf libxclone.so.0 $(DESTDIR)$(PREFIX)/lib/libxclone.so
	install -m 0644 client/include/*.h $(DESTDIR)$(PREFIX)/include/
	install -m 0644 $(BUILD)/xclone.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/xclone.pc

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
