# Claude Agent SDK for Lua - build, test, set up.
#
#   make                 build the module for every Lua whose headers are here: Lua 5.4
#                        (build/lua5.4/claude_agent_sdk/core.so) and LuaJIT (build/luajit/...);
#                        run by Neovim (a plugin manager's build step: $VIMRUNTIME set) for LuaJIT alone
#   make module          build the Lua 5.4 module alone; make module LUA=luajit the LuaJIT one
#   make test            set up, build both, run every suite; ends with "N passed, N failed"
#   make setup           install Debian packages and the real CLI into .deps/ (idempotent)
#   make demo            set up, build, and run a real conversation through the real CLI
#   eval "$(make -s env)"  LUA_PATH / LUA_CPATH for scripts anywhere to require the built tree
#   make lint            luacheck, StyLua and clang-format in check mode (make test runs it first)
#   make format          StyLua and clang-format rewrite the tree
#   make c-test          the C core alone under ASan + UBSan
#   make fuzz            fuzz framing, JSON and the protocol (libFuzzer, FUZZ_TIME s)
#   make fuzz-ci         the same for FUZZ_CI_TIME s; prints one TAP line
#   make lib             the C core alone as build/clib/libclaude_agent_sdk.{a,so} (no Lua)
#   make install         headers, both libraries, claude_agent_sdk.pc and the LICENSE under PREFIX
#                        (/usr/local); DESTDIR is honoured; make uninstall removes them again
#   make bench           every client against a fake CLI (PERF.md): a table and each bar of
#                        DESIGN.md §7 as a ratio, also in build/bench/results.md (~2-3 min)
#   make bench-smoke     each bench client once on small work, message counts checked (TAP)
#   make bench-warm      time to the first assistant message: cold, startup(), a spare, the pool
#   make compare-python PY_SDK=... PY_DEPS=...   the Python SDK's examples against examples/python/, message by
#                        message (by hand: spec/support/py_compare/README.md)

LUA ?= lua5.4
CC ?= cc
ROOT := $(abspath .)
BUILD := $(ROOT)/build

# Where each Lua's headers are: Debian's directory, else what pkg-config says (Arch, Homebrew, ...), else
# Debian's directory again, which the build's error message then names. LUA_INC=... overrides.
lua_inc = $(if $(wildcard $(2)/lua.h),$(2),$(or $(patsubst -I%,%,$(firstword $(filter -I%,$(shell \
            pkg-config --cflags-only-I $(1) 2>/dev/null)))),$(2)))
LUAJIT_INC ?= $(call lua_inc,luajit,/usr/include/luajit-2.1)
LUA54_INC ?= $(call lua_inc,lua5.4,/usr/include/lua5.4)

ifeq ($(LUA),luajit)
  LUA_INC ?= $(LUAJIT_INC)
  LUA_TAG := luajit
  LUA_PKG := libluajit-5.1-dev (Debian, Ubuntu), luajit (Arch, Fedora: luajit-devel; Homebrew)
else ifeq ($(LUA),lua5.4)
  LUA_INC ?= $(LUA54_INC)
  LUA_TAG := lua5.4
  LUA_PKG := liblua5.4-dev (Debian, Ubuntu), lua (Arch, Fedora: lua-devel; Homebrew)
else
  LUA_INC ?= /usr/include/$(LUA)
  LUA_TAG := $(LUA)
  LUA_PKG := the development package of $(LUA)
endif

CJSON_CFLAGS ?= $(shell pkg-config --cflags libcjson 2>/dev/null)
CJSON_LIBS ?= $(shell pkg-config --libs libcjson 2>/dev/null || echo -lcjson)

WARN := -std=c99 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS ?= -O2 -g
ALL_CFLAGS := $(WARN) $(CFLAGS) -fPIC -D_POSIX_C_SOURCE=200809L $(CJSON_CFLAGS)

CORE_SRC := csrc/cas_version.c csrc/cas_error.c csrc/cas_buf.c csrc/cas_framer.c csrc/cas_json.c \
            csrc/cas_process.c csrc/cas_proto.c csrc/cas_client.c
CORE_HDR := $(wildcard csrc/cas_*.h)
BINDING_SRC := csrc/lua_cas.c
# lua_cas.c #includes these (one translation unit, luv's way): never compiled alone.
BINDING_INC := $(wildcard csrc/lua_cas_*.c)

MOD_DIR := $(BUILD)/$(LUA_TAG)/claude_agent_sdk
MODULE := $(MOD_DIR)/core.so

DEPS := $(ROOT)/.deps
# The CLI version matrix: the oldest supported CLI (.deps/node_modules, the
# default of the tests and the demo) and the newest tested one (.deps/newest);
# make test runs the real-CLI specs against both.  The library refuses a CLI
# older than the oldest at connect() (lua/claude_agent_sdk/cli.lua: MIN_VERSION).
CLI_VERSION ?= 2.1.197
CLI_VERSION_NEWEST ?= 2.1.332

.PHONY: all module test c-test fuzz fuzz-ci asan-build setup demo env clean lib install uninstall \
        bench bench-warm bench-smoke bench-build bench-ts compare-python lint lint-luacheck lint-stylua lint-clang-format format

# `make` alone builds for every Lua whose headers it finds, so that one command serves a Lua 5.4 script and
# Neovim alike. Run by Neovim, as a plugin manager's build step is, it builds for LuaJIT alone, the Lua Neovim
# runs, and fails if LuaJIT's headers are missing: better a failed build step than a plugin that installs and
# cannot load. Neovim exports $$VIMRUNTIME to every child (lazy.nvim's and packer's uv.spawn included, which
# do not get $$NVIM; jobstart() and vim.system() add $$NVIM). `make LUA=...` builds for that one Lua.
ifeq ($(origin LUA),file)
ifneq ($(NVIM)$(NVIM_LISTEN_ADDRESS)$(VIMRUNTIME),)
AUTO_LUAS := luajit
else
AUTO_LUAS := $(if $(wildcard $(LUA54_INC)/lua.h),lua5.4) $(if $(wildcard $(LUAJIT_INC)/lua.h),luajit)
endif
all:
	@$(if $(strip $(AUTO_LUAS)),,echo "make: no Lua headers found (looked in $(LUA54_INC) and $(LUAJIT_INC))."; \
	  echo "  For Neovim install LuaJIT's: libluajit-5.1-dev (Debian, Ubuntu), luajit (Arch, Homebrew);"; \
	  echo "  for Lua 5.4 liblua5.4-dev. Or name them: make module LUA=luajit LUA_INC=/path/to/include"; exit 1)
	@$(foreach lua,$(AUTO_LUAS),$(MAKE) --no-print-directory module LUA=$(lua) &&) true
	@$(if $(filter luajit,$(AUTO_LUAS)),,echo "make: note: no LuaJIT headers in $(LUAJIT_INC): no build for Neovim."; \
	  echo "  Install libluajit-5.1-dev (or your system's LuaJIT package), then: make module LUA=luajit")
else
all: module
endif

module: $(MODULE)

# core.so exports luaopen_claude_agent_sdk_core and nothing else: the core is
# compiled into it hidden (CAS_EMBEDDED, csrc/cas_version.h), so a host that
# also links libclaude_agent_sdk.so never sees two copies of a cas_* symbol.
MODULE_FLAGS := -fvisibility=hidden -DCAS_EMBEDDED

$(MODULE): $(CORE_SRC) $(BINDING_SRC) $(BINDING_INC) $(CORE_HDR)
	@[ -f "$(LUA_INC)/lua.h" ] || { echo "make: $(LUA)'s headers are not in $(LUA_INC) (no lua.h):"; \
	  echo "  install $(LUA_PKG);"; \
	  echo "  or name the directory: make module LUA=$(LUA) LUA_INC=/path/to/include"; exit 1; }
	@mkdir -p $(MOD_DIR)
	$(CC) $(ALL_CFLAGS) $(MODULE_FLAGS) -I$(LUA_INC) -shared -o $@ $(CORE_SRC) $(BINDING_SRC) $(CJSON_LIBS)

# --- C core alone, under ASan + UBSan ------------------------------------------
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
C_TESTS := $(patsubst spec/c/%.c,$(BUILD)/ctest/%,$(wildcard spec/c/test_*.c))

$(BUILD)/ctest/%: spec/c/%.c $(CORE_SRC) $(CORE_HDR) spec/c/ctest.h
	@mkdir -p $(BUILD)/ctest
	$(CC) $(WARN) $(SAN_FLAGS) -D_POSIX_C_SOURCE=200809L $(CJSON_CFLAGS) -Icsrc -o $@ $< $(CORE_SRC) $(CJSON_LIBS)

# the same tests without sanitizers, for valgrind
VG_TESTS := $(patsubst spec/c/%.c,$(BUILD)/ctest-vg/%,$(wildcard spec/c/test_*.c))

$(BUILD)/ctest-vg/%: spec/c/%.c $(CORE_SRC) $(CORE_HDR) spec/c/ctest.h
	@mkdir -p $(BUILD)/ctest-vg
	$(CC) $(WARN) -O1 -g -D_POSIX_C_SOURCE=200809L $(CJSON_CFLAGS) -Icsrc -o $@ $< $(CORE_SRC) $(CJSON_LIBS)

c-test: $(C_TESTS)
	@sh spec/support/run_c_tests.sh $(C_TESTS)

# --- fuzzing: framer, JSON and protocol under libFuzzer + ASan + UBSan ------------
# Seeds in spec/fuzz/corpus are copied to build/fuzz/, never written back.
# FUZZ_SIMD=0 fuzzes the portable JSON string scan instead of the SSE2 one.
FUZZ_CC ?= clang
FUZZ_TIME ?= 300
FUZZ_CI_TIME ?= 30
FUZZ_SIMD ?= 1
FUZZ_SRC := csrc/cas_error.c csrc/cas_buf.c csrc/cas_framer.c csrc/cas_json.c csrc/cas_proto.c
FUZZ_HDR := $(FUZZ_SRC:.c=.h)
FUZZ_DIR := $(BUILD)/fuzz
ifeq ($(FUZZ_SIMD),0)
  FUZZ_BIN := $(FUZZ_DIR)/fuzz_frames_nosimd
  FUZZ_DEFS := -DCAS_JSON_NO_SIMD
else
  FUZZ_BIN := $(FUZZ_DIR)/fuzz_frames
  FUZZ_DEFS :=
endif
FUZZ_ARGS := -max_len=65536 -timeout=10 -print_final_stats=1 -dict=spec/fuzz/frames.dict \
             -artifact_prefix=$(FUZZ_DIR)/artifacts/

$(FUZZ_BIN): spec/fuzz/fuzz_frames.c $(FUZZ_SRC) $(FUZZ_HDR)
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(WARN) $(FUZZ_DEFS) -O1 -g -fsanitize=fuzzer,address,undefined \
	  -fno-omit-frame-pointer -fno-sanitize-recover=all -D_POSIX_C_SOURCE=200809L \
	  $(CJSON_CFLAGS) -Icsrc -o $@ spec/fuzz/fuzz_frames.c $(FUZZ_SRC) $(CJSON_LIBS)

fuzz: $(FUZZ_BIN)
	@mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/artifacts
	cp spec/fuzz/corpus/* $(FUZZ_DIR)/corpus/
	$(FUZZ_BIN) $(FUZZ_ARGS) -max_total_time=$(FUZZ_TIME) $(FUZZ_DIR)/corpus

fuzz-ci:
	@mkdir -p $(FUZZ_DIR)
	@$(MAKE) -s $(FUZZ_BIN) > $(FUZZ_DIR)/build.log 2>&1 || { \
	  echo "not ok 1 - fuzz_frames: cannot build with $(FUZZ_CC) and libFuzzer (make setup?)"; \
	  sed 's/^/# /' $(FUZZ_DIR)/build.log | tail -n 20; exit 1; }
	@sh spec/support/run_fuzz_ci.sh $(FUZZ_BIN) $(FUZZ_CI_TIME) $(FUZZ_DIR)

# --- the Lua module under ASan+UBSan, run by a sanitized Lua host ----------------
ASAN_DIR := $(BUILD)/asan
ASAN_LUA := $(ASAN_DIR)/lua
ASAN_MODULE := $(ASAN_DIR)/claude_agent_sdk/core.so

$(ASAN_LUA): spec/support/asan_lua.c
	@mkdir -p $(ASAN_DIR)
	$(CC) $(WARN) $(SAN_FLAGS) -I/usr/include/lua5.4 -o $@ $< -llua5.4 -lm

$(ASAN_MODULE): $(CORE_SRC) $(BINDING_SRC) $(BINDING_INC) $(CORE_HDR)
	@mkdir -p $(ASAN_DIR)/claude_agent_sdk
	$(CC) $(WARN) $(SAN_FLAGS) -fPIC -D_POSIX_C_SOURCE=200809L $(CJSON_CFLAGS) $(MODULE_FLAGS) -I/usr/include/lua5.4 -shared \
	  -o $@ $(CORE_SRC) $(BINDING_SRC) $(CJSON_LIBS)

asan-build: $(ASAN_LUA) $(ASAN_MODULE)

# --- the C core as a library for C programs (no Lua, no lua_cas*.c) --------------
# The umbrella header includes the cas_*.h headers with "..." includes, so they
# resolve beside it once installed under $(INCLUDEDIR)/claude_agent_sdk/.
# The soname carries only the major version: 0.x makes no ABI promise between
# minor versions yet, so bump CLIB_MAJOR with any incompatible change.
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DOCDIR ?= $(PREFIX)/share/doc/claude_agent_sdk
SDK_VERSION := $(or $(shell sed -n 's/^M\.VERSION = "\(.*\)"$$/\1/p' lua/claude_agent_sdk/options.lua),0.0.0)
CLIB_MAJOR := 0
CLIB_BUILD := $(BUILD)/clib
CLIB_OBJ := $(patsubst csrc/%.c,$(CLIB_BUILD)/obj/%.o,$(CORE_SRC))
CLIB_A := $(CLIB_BUILD)/libclaude_agent_sdk.a
CLIB_SONAME := libclaude_agent_sdk.so.$(CLIB_MAJOR)
CLIB_SO := $(CLIB_BUILD)/libclaude_agent_sdk.so.$(SDK_VERSION)
# cas_internal.h is the core's private side (the unchecked fast path, the
# item's fields): never installed.
CLIB_HDR := csrc/claude_agent_sdk.h $(filter-out csrc/cas_internal.h,$(CORE_HDR))
# libdir and includedir relative to ${prefix} when they lie under it, so the
# .pc file stays right for `pkg-config --define-prefix` on a moved tree.
PC_LIBDIR := $(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))
PC_INCLUDEDIR := $(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))

$(CLIB_BUILD)/obj/%.o: csrc/%.c $(CORE_HDR)
	@mkdir -p $(CLIB_BUILD)/obj
	$(CC) $(ALL_CFLAGS) -fvisibility=hidden -c -o $@ $<   # exported: CAS_EXTERN only

$(CLIB_A): $(CLIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $(CLIB_OBJ)

# -z defs: every symbol resolved at link time, so the .so records its need of
# libcjson and a C program never has to know about it to load us.
$(CLIB_SO): $(CLIB_OBJ)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -shared -Wl,-soname,$(CLIB_SONAME) -Wl,-z,defs \
	  -o $@ $(CLIB_OBJ) $(CJSON_LIBS)

lib: $(CLIB_A) $(CLIB_SO)

# The MIT licence goes with the library: its notice must accompany every copy.
install: lib
	install -d "$(DESTDIR)$(INCLUDEDIR)/claude_agent_sdk" "$(DESTDIR)$(LIBDIR)" "$(DESTDIR)$(PKGCONFIGDIR)" \
	  "$(DESTDIR)$(DOCDIR)"
	install -m 644 $(CLIB_HDR) "$(DESTDIR)$(INCLUDEDIR)/claude_agent_sdk/"
	install -m 644 LICENSE "$(DESTDIR)$(DOCDIR)/"
	install -m 644 $(CLIB_A) "$(DESTDIR)$(LIBDIR)/"
	install -m 755 $(CLIB_SO) "$(DESTDIR)$(LIBDIR)/"
	ln -sf libclaude_agent_sdk.so.$(SDK_VERSION) "$(DESTDIR)$(LIBDIR)/$(CLIB_SONAME)"
	ln -sf $(CLIB_SONAME) "$(DESTDIR)$(LIBDIR)/libclaude_agent_sdk.so"
	sed -e '/^#/d' -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(PC_LIBDIR)|' \
	  -e 's|@INCLUDEDIR@|$(PC_INCLUDEDIR)|' -e 's|@VERSION@|$(SDK_VERSION)|' \
	  csrc/claude_agent_sdk.pc.in > "$(DESTDIR)$(PKGCONFIGDIR)/claude_agent_sdk.pc"

uninstall:
	rm -f "$(DESTDIR)$(LIBDIR)/libclaude_agent_sdk.a" "$(DESTDIR)$(LIBDIR)/libclaude_agent_sdk.so" \
	  "$(DESTDIR)$(LIBDIR)/$(CLIB_SONAME)" "$(DESTDIR)$(LIBDIR)/libclaude_agent_sdk.so.$(SDK_VERSION)" \
	  "$(DESTDIR)$(PKGCONFIGDIR)/claude_agent_sdk.pc"
	rm -f $(patsubst %,"$(DESTDIR)$(INCLUDEDIR)/claude_agent_sdk/%",$(notdir $(CLIB_HDR)))
	rmdir "$(DESTDIR)$(INCLUDEDIR)/claude_agent_sdk" 2>/dev/null || true
	rm -f "$(DESTDIR)$(DOCDIR)/LICENSE"
	rmdir "$(DESTDIR)$(DOCDIR)" 2>/dev/null || true

# --- benchmarks (PERF.md): bench/run.sh drives every client ---------------------
# The official TypeScript SDK is installed into its own npm project under .deps
# (a package.json of its own, so npm never climbs to .deps/package.json, the
# real CLI's); --omit=optional skips its bundled CLI binary: the fake CLI is used.
# An install that fails (no registry) is logged; run.sh then skips or fails TS.
# Few, short retries: without a registry, make test must not hang on npm.
BENCH_DIR := $(BUILD)/bench
BENCH_TS := $(DEPS)/bench-ts
TS_SDK_VERSION ?= 0.3.336
BENCH_TS_PKG := $(BENCH_TS)/node_modules/@anthropic-ai/claude-agent-sdk/package.json

$(BENCH_DIR)/fake_cli: bench/fake_cli.c
	@mkdir -p $(BENCH_DIR)
	$(CC) $(WARN) -O2 -D_POSIX_C_SOURCE=200809L -o $@ $<

$(BENCH_DIR)/floor: bench/floor.c
	@mkdir -p $(BENCH_DIR)
	$(CC) $(WARN) -O2 -D_POSIX_C_SOURCE=200809L -o $@ $<

$(BENCH_TS_PKG):
	@mkdir -p $(BENCH_TS) $(BENCH_DIR)
	@[ -f $(BENCH_TS)/package.json ] || echo '{"name":"claude-agent-sdk-lua-bench-ts","private":true}' > $(BENCH_TS)/package.json
	@echo "bench: installing @anthropic-ai/claude-agent-sdk@$(TS_SDK_VERSION) into $(BENCH_TS)"
	@npm install --prefix $(BENCH_TS) --omit=optional --no-audit --no-fund --loglevel=error \
	  --fetch-retries=1 --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=5000 \
	  @anthropic-ai/claude-agent-sdk@$(TS_SDK_VERSION) > $(BENCH_DIR)/npm.log 2>&1 || \
	  { echo "bench: npm install failed (see $(BENCH_DIR)/npm.log):"; \
	    grep -E 'FetchError|error code|ERR! code' $(BENCH_DIR)/npm.log | head -n 2; exit 1; }

bench-ts: $(BENCH_TS_PKG)

bench-build:
	@$(MAKE) -s module LUA=lua5.4
	@$(MAKE) -s module LUA=luajit
	@$(MAKE) -s $(BENCH_DIR)/fake_cli $(BENCH_DIR)/floor
	@$(MAKE) -s --no-print-directory bench-ts 2>/dev/null || true

bench: bench-build
	@BENCH_TS_SDK=$(dir $(BENCH_TS_PKG)) sh bench/run.sh
	@$(MAKE) -s --no-print-directory bench-warm

# Time to the first assistant message: cold, claude.startup(), a claimed spare, the pool (real newest CLI).
bench-warm:
	@$(MAKE) -s module LUA=lua5.4
	@mkdir -p $(BUILD)/bench
	@LUA_PATH="$(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;;" LUA_CPATH="$(BUILD)/lua5.4/?.so;;" \
	  BENCH_CLI="$(DEPS)/newest/node_modules/.bin/claude" lua5.4 bench/warm.lua | tee $(BUILD)/bench/warm.md

bench-smoke: bench-build
	@BENCH_TS_SDK=$(dir $(BENCH_TS_PKG)) sh bench/run.sh --smoke

# --- the Python SDK's examples against their Lua ports (by hand; spec/support/py_compare/README.md) ----------
compare-python:
	@$(MAKE) -s module LUA=$(LUA)
	@PY_SDK="$(PY_SDK)" PY_DEPS="$(PY_DEPS)" LUA=$(LUA) bash spec/support/py_compare/compare.sh

# --- everything ------------------------------------------------------------------
test: setup
	@$(MAKE) -s module LUA=lua5.4
	@$(MAKE) -s module LUA=luajit
	@$(MAKE) -s $(C_TESTS) $(VG_TESTS) asan-build
	@bash spec/support/run_all.sh

setup:
	@sh spec/support/setup.sh "$(DEPS)" "$(CLI_VERSION)" "$(CLI_VERSION_NEWEST)" "$(TS_SDK_VERSION)" "$(STYLUA_VERSION)"

# --- lint and format ------------------------------------------------------------------
# luacheck (.luacheckrc), StyLua (.stylua.toml, pinned, from npm into .deps) and
# clang-format (.clang-format): make lint checks, make format rewrites.
STYLUA_VERSION ?= 2.5.2
STYLUA := $(DEPS)/stylua/node_modules/.bin/stylua
LUA_LINT := lua spec examples bench bin/claude-offline-model
C_FORMAT_FILES = $(wildcard csrc/*.c csrc/*.h spec/c/*.c spec/c/*.h spec/fuzz/*.c spec/support/*.c examples/c/*.c bench/*.c)

lint: lint-luacheck lint-stylua lint-clang-format

lint-luacheck:
	@luacheck --no-color -q $(LUA_LINT) && echo "lint: luacheck clean"

lint-stylua:
	@$(STYLUA) --check $(LUA_LINT) && echo "lint: stylua clean"

lint-clang-format:
	@clang-format --dry-run -Werror $(C_FORMAT_FILES) && echo "lint: clang-format clean"

format:
	@$(STYLUA) $(LUA_LINT)
	@clang-format -i $(C_FORMAT_FILES)

demo: setup
	@$(MAKE) -s module LUA=lua5.4
	@sh examples/run_demo.sh

env:
	@echo 'export LUA_PATH="$(ROOT)/lua/?.lua;$(ROOT)/lua/?/init.lua;$${LUA_PATH:-;}"'
	@echo 'export LUA_CPATH="$(BUILD)/$(LUA_TAG)/?.so;$${LUA_CPATH:-;}"'
	@echo 'export CLAUDE_AGENT_SDK_DEPS="$(DEPS)"'

clean:
	rm -rf $(BUILD)
