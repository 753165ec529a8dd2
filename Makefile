# Claude Agent SDK for Lua - build, test, set up.
#
#   make                 build the Lua 5.4 module (build/lua5.4/claude_agent_sdk/core.so)
#   make LUA=luajit      build the LuaJIT module beside it (build/luajit/...)
#   make test            set up, build both, run every suite; ends with "N passed, N failed"
#   make setup           install Debian packages and the real CLI into .deps/ (idempotent)
#   make demo            set up, build, and run a real conversation through the real CLI
#   eval "$(make -s env)"  LUA_PATH / LUA_CPATH for scripts anywhere to require the built tree
#   make c-test          the C core alone under ASan + UBSan

LUA ?= lua5.4
CC ?= cc
ROOT := $(abspath .)
BUILD := $(ROOT)/build

ifeq ($(LUA),luajit)
  LUA_INC ?= /usr/include/luajit-2.1
  LUA_TAG := luajit
else
  LUA_INC ?= /usr/include/$(LUA)
  LUA_TAG := $(LUA)
endif

CJSON_CFLAGS ?= $(shell pkg-config --cflags libcjson 2>/dev/null)
CJSON_LIBS ?= $(shell pkg-config --libs libcjson 2>/dev/null || echo -lcjson)

WARN := -std=c99 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS ?= -O2 -g
ALL_CFLAGS := $(WARN) $(CFLAGS) -fPIC -D_POSIX_C_SOURCE=200809L $(CJSON_CFLAGS)

CORE_SRC := csrc/cas_error.c csrc/cas_buf.c csrc/cas_framer.c csrc/cas_json.c \
            csrc/cas_process.c csrc/cas_proto.c csrc/cas_client.c
CORE_HDR := $(wildcard csrc/cas_*.h)
BINDING_SRC := csrc/lua_cas.c

MOD_DIR := $(BUILD)/$(LUA_TAG)/claude_agent_sdk
MODULE := $(MOD_DIR)/core.so

DEPS := $(ROOT)/.deps
CLI_VERSION ?= 2.1.197

.PHONY: all module test c-test setup demo env clean

all: module

module: $(MODULE)

$(MODULE): $(CORE_SRC) $(BINDING_SRC) $(CORE_HDR)
	@mkdir -p $(MOD_DIR)
	$(CC) $(ALL_CFLAGS) -I$(LUA_INC) -shared -o $@ $(CORE_SRC) $(BINDING_SRC) $(CJSON_LIBS)

# --- C core alone, under ASan + UBSan ------------------------------------------
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
C_TESTS := $(patsubst spec/c/%.c,$(BUILD)/ctest/%,$(wildcard spec/c/test_*.c))

$(BUILD)/ctest/%: spec/c/%.c $(CORE_SRC) $(CORE_HDR) spec/c/ctest.h
	@mkdir -p $(BUILD)/ctest
	$(CC) $(WARN) $(SAN_FLAGS) -D_POSIX_C_SOURCE=200809L $(CJSON_CFLAGS) -Icsrc -o $@ $< $(CORE_SRC) $(CJSON_LIBS)

c-test: $(C_TESTS)
	@sh spec/support/run_c_tests.sh $(C_TESTS)

# --- everything ------------------------------------------------------------------
test: setup
	@$(MAKE) -s module LUA=lua5.4
	@$(MAKE) -s module LUA=luajit
	@$(MAKE) -s $(C_TESTS)
	@sh spec/support/run_all.sh

setup:
	@sh spec/support/setup.sh "$(DEPS)" "$(CLI_VERSION)"

demo: setup
	@$(MAKE) -s module LUA=lua5.4
	@sh examples/run_demo.sh

env:
	@echo 'export LUA_PATH="$(ROOT)/lua/?.lua;$(ROOT)/lua/?/init.lua;$${LUA_PATH:-;}"'
	@echo 'export LUA_CPATH="$(BUILD)/$(LUA_TAG)/?.so;$${LUA_CPATH:-;}"'
	@echo 'export CLAUDE_AGENT_SDK_DEPS="$(DEPS)"'

clean:
	rm -rf $(BUILD)
