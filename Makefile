# ClubOS - one Makefile for the whole tree (no recursive make).
#
#   make up      run the system (installs missing packages, builds, starts)
#   make down    stop what `make up` started
#   make test    build and run every test suite against throwaway servers
#   make bench   the benchmarks (never part of make test)
#   make eval    routing figures on the dev set
#   make asan    the same build with AddressSanitizer + UBSan in build/asan

BUILD   ?= build
BIN     := $(BUILD)/bin
OBJ     := $(BUILD)/obj
CC      ?= cc
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wcast-qual
OPT     ?= -O2 -g
CFLAGS  := $(OPT) -std=c11 -D_GNU_SOURCE -pthread $(WARN) -MMD -MP \
           -I. -I$(shell pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)
ifneq ($(CI),)
CFLAGS  += -Werror
endif
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
LDLIBS  := -lnng -lpq -lhiredis -lcjson -lsodium -lcurl -lpthread -lm

COMMON_SRC := $(wildcard common/*.c)
ROUTERLIB_SRC := $(filter-out router/main.c router/route_eval.c router/rt_%.c,$(wildcard router/*.c)) cache/l1.c cache/answer.c
ROUTER_SRC := router/main.c $(wildcard router/rt_*.c)
GATEWAY_SRC := $(wildcard gateway/*.c)
ASSISTLIB_SRC := assistants/retrieval.c
ASSIST_SRC := $(filter-out $(ASSISTLIB_SRC),$(wildcard assistants/*.c))
CTL_SRC := $(wildcard deploy/clubosctl/*.c)
CACHE_SRC := cache/main.c
INTELLIB_SRC := $(filter-out intelligence/main.c,$(wildcard intelligence/*.c))
INTEL_SRC := intelligence/main.c
ACTIONS_SRC := $(wildcard actions/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)

objs = $(patsubst %.c,$(OBJ)/%.o,$(1))

LIBCOMMON := $(BUILD)/lib/libclubos.a
LIBROUTER := $(BUILD)/lib/librouter.a
LIBASSIST := $(BUILD)/lib/libassist.a
LIBINTEL := $(BUILD)/lib/libintel.a
BINARIES := $(BIN)/clubos-gateway $(BIN)/clubos-router $(BIN)/clubos-assistant \
            $(BIN)/clubos-cache $(BIN)/clubosctl $(BIN)/clubos-route-eval \
            $(BIN)/clubos-cache-eval $(BIN)/clubos-intelligence $(BIN)/clubos-actions
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: all deps up down test unit e2e asan test-asan bench eval lint clean
all: $(BINARIES)

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIBCOMMON): $(call objs,$(COMMON_SRC))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(LIBROUTER): $(call objs,$(ROUTERLIB_SRC))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(LIBASSIST): $(call objs,$(ASSISTLIB_SRC))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(LIBINTEL): $(call objs,$(INTELLIB_SRC))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BIN)/clubos-gateway: $(call objs,$(GATEWAY_SRC)) $(LIBINTEL) $(LIBROUTER) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/clubos-router: $(call objs,$(ROUTER_SRC)) $(LIBROUTER) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/clubos-assistant: $(call objs,$(ASSIST_SRC)) $(LIBASSIST) $(LIBROUTER) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/clubosctl: $(call objs,$(CTL_SRC)) $(LIBROUTER) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/clubos-cache: $(call objs,$(CACHE_SRC)) $(LIBROUTER) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/clubos-intelligence: $(call objs,$(INTEL_SRC)) $(LIBINTEL) $(LIBASSIST) $(LIBROUTER) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/clubos-actions: $(call objs,$(ACTIONS_SRC)) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/clubos-cache-eval: $(call objs,cache/eval.c) $(LIBROUTER) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/clubos-route-eval: $(call objs,router/route_eval.c) $(LIBROUTER) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(OBJ)/tests/unit/%.o: CFLAGS += -Irouter

$(BUILD)/tests/%: $(OBJ)/tests/unit/%.o $(LIBINTEL) $(LIBASSIST) $(LIBROUTER) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

deps:
	@sh deploy/deps.sh

up: deps
	@$(MAKE) --no-print-directory all
	@sh deploy/up.sh

down:
	@sh deploy/down.sh

test: deps
	@$(MAKE) --no-print-directory all $(UNIT_BINS)
	@CLUBOS_BUILD=$(BUILD) sh tests/run.sh

unit: all $(UNIT_BINS)
	@CLUBOS_BUILD=$(BUILD) CLUBOS_SUITES=unit sh tests/run.sh

e2e: all
	@CLUBOS_BUILD=$(BUILD) CLUBOS_SUITES=e2e sh tests/run.sh

asan:
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 OPT="-O1 -g" all \
	    $(patsubst tests/unit/%.c,build/asan/tests/%,$(UNIT_SRC))

test-asan: deps asan
	@CLUBOS_BUILD=build/asan ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 sh tests/run.sh

$(BIN)/clubos-loadgen: tests/bench/loadgen.c
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -std=c11 -D_GNU_SOURCE $(WARN) $(if $(CI),-Werror) -o $@ $<

bench: deps all $(BIN)/clubos-loadgen
	@sh tests/bench/run.sh

eval: deps all
	@sh tests/eval/run.sh

LINT_SRC = $(wildcard common/*.[ch] gateway/*.[ch] router/*.[ch] assistants/*.[ch] \
             cache/*.[ch] intelligence/*.[ch] actions/*.[ch] deploy/clubosctl/*.[ch] tests/unit/*.c \
             tests/bench/*.c)

lint:
	clang-format --dry-run --Werror $(LINT_SRC)
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 \
	    --inline-suppr --suppress=missingIncludeSystem --suppress=unknownMacro -I. common router gateway assistants cache intelligence actions \
	    deploy/clubosctl

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
