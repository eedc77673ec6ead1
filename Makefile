# ClubOS - one Makefile for the whole tree (no recursive make).
#
#   make up      run the system (installs missing packages, builds, starts)
#   make down    stop what `make up` started
#   make test    build and run every test suite against throwaway servers
#   make bench   the benchmarks (never part of make test)
#   make eval    routing figures on the dev set, the emergency sets, CLINC150
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
# Warnings are errors everywhere, so a local build fails where CI would;
# WERROR=0 relaxes it for an experiment.
WERROR  ?= 1
ifeq ($(WERROR),1)
CFLAGS  += -Werror
endif
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(SAN),thread)
CFLAGS  += -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS += -fsanitize=thread
endif
LDLIBS  := -lnng -lpq -lhiredis -lcjson -lsodium -lcurl -lpthread -lm

# Who depends on whom (a library only ever uses those to its right):
#
#   clubos-gateway       gateway/*   libcache libemergency libclubos
#   clubos-router        router/main.c router/rt_*   libcache libemergency libclf libclubos
#   clubos-assistant     assistants/*   libassist libclubos
#   clubos-cache         cache/main.c   libcache libclubos
#   clubos-intelligence  intelligence/main.c   libknowledge libassist libclubos
#   clubosctl            deploy/clubosctl/*   libclubos
#   clubos-bus           bus/main.c   libclubos
#   clubos-conversations conversations/*   libemergency libclubos
#
#   libclubos     common/: the daemon skeleton, config, logging, envelope, RPC, bus, traces,
#                 PostgreSQL/Redis/JWT wrappers, text normalisation, sparse vectors, diff
#   libclf        router/clf.c: the intent classifier
#   libemergency  router/emergency.c: the emergency rules (the gateway runs them too)
#   libcache      cache/l1.c cache/answer.c cache/keyset.c: keys, the in-process tier,
#                 the guard, the set of keys the remote tiers may hold
#   libassist     assistants/retrieval.c: BM25 over SOP sections
#   libknowledge  intelligence/ but main.c: the SOP change journal, analysers, proposals
#
# Every unit test links libclubos and what it names below.
COMMON_SRC := $(wildcard common/*.c)
CLF_SRC := router/clf.c
EMERGENCY_SRC := router/emergency.c
CACHELIB_SRC := cache/l1.c cache/answer.c cache/keyset.c
ASSISTLIB_SRC := assistants/retrieval.c
KNOWLIB_SRC := $(filter-out intelligence/main.c,$(wildcard intelligence/*.c))
ROUTER_SRC := router/main.c $(wildcard router/rt_*.c)
GATEWAY_SRC := $(wildcard gateway/*.c)
ASSIST_SRC := $(filter-out $(ASSISTLIB_SRC),$(wildcard assistants/*.c))
CTL_SRC := $(wildcard deploy/clubosctl/*.c)
CACHE_SRC := cache/main.c
INTEL_SRC := intelligence/main.c
ACTIONS_SRC := $(wildcard actions/*.c)
CONV_SRC := $(wildcard conversations/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)

objs = $(patsubst %.c,$(OBJ)/%.o,$(1))

LIBCOMMON := $(BUILD)/lib/libclubos.a
LIBCLF := $(BUILD)/lib/libclf.a
LIBEMERGENCY := $(BUILD)/lib/libemergency.a
LIBCACHE := $(BUILD)/lib/libcache.a
LIBASSIST := $(BUILD)/lib/libassist.a
LIBKNOW := $(BUILD)/lib/libknowledge.a
BINARIES := $(BIN)/clubos-gateway $(BIN)/clubos-router $(BIN)/clubos-assistant \
            $(BIN)/clubos-cache $(BIN)/clubosctl $(BIN)/clubos-route-eval \
            $(BIN)/clubos-cache-eval $(BIN)/clubos-intelligence $(BIN)/clubos-bus \
            $(BIN)/clubos-emergency-eval $(BIN)/clubos-actions $(BIN)/clubos-conversations
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: all deps browser-deps up down test unit e2e test-multihost asan test-asan tsan test-tsan bench eval lint clean
all: $(BINARIES)

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIBCOMMON): $(call objs,$(COMMON_SRC))
$(LIBCLF): $(call objs,$(CLF_SRC))
$(LIBEMERGENCY): $(call objs,$(EMERGENCY_SRC))
$(LIBCACHE): $(call objs,$(CACHELIB_SRC))
$(LIBASSIST): $(call objs,$(ASSISTLIB_SRC))
$(LIBKNOW): $(call objs,$(KNOWLIB_SRC))
$(BUILD)/lib/%.a:
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

# LINK - objects first, then the libraries in the order listed (each before what it uses)
LINK = $(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LDLIBS)

$(BIN)/clubos-gateway: $(call objs,$(GATEWAY_SRC)) $(LIBCACHE) $(LIBEMERGENCY) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(LINK)
$(BIN)/clubos-router: $(call objs,$(ROUTER_SRC)) $(LIBCACHE) $(LIBEMERGENCY) $(LIBCLF) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(LINK)
$(BIN)/clubos-assistant: $(call objs,$(ASSIST_SRC)) $(LIBASSIST) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(LINK)
$(BIN)/clubosctl: $(call objs,$(CTL_SRC)) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(LINK)
$(BIN)/clubos-cache: $(call objs,$(CACHE_SRC)) $(LIBCACHE) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(LINK)
$(BIN)/clubos-intelligence: $(call objs,$(INTEL_SRC)) $(LIBKNOW) $(LIBASSIST) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(LINK)
$(BIN)/clubos-bus: $(call objs,bus/main.c) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(LINK)
$(BIN)/clubos-actions: $(call objs,$(ACTIONS_SRC)) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(LINK)
$(BIN)/clubos-conversations: $(call objs,$(CONV_SRC)) $(LIBEMERGENCY) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(LINK)
$(BIN)/clubos-cache-eval: $(call objs,cache/eval.c router/evaltool.c) $(LIBCACHE) $(LIBCLF) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(LINK)
$(BIN)/clubos-route-eval: $(call objs,router/route_eval.c router/evaltool.c) $(LIBCLF) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(LINK)
$(BIN)/clubos-emergency-eval: $(call objs,router/em_eval.c router/evaltool.c router/rt_elsewhere.c) $(LIBEMERGENCY) $(LIBCLF) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(LINK)

# Unit tests: each links what it tests, then libclubos (last, since all use it).
$(BUILD)/tests/test_cache_l1: $(LIBCACHE) $(LIBCLF)
$(BUILD)/tests/test_claude: $(LIBKNOW)
$(BUILD)/tests/test_clarify: $(OBJ)/router/rt_clarify.o
$(BUILD)/tests/test_multi: $(OBJ)/router/rt_split.o
$(BUILD)/tests/test_elsewhere: $(OBJ)/router/rt_elsewhere.o
$(BUILD)/tests/test_clf: $(LIBCLF)
$(BUILD)/tests/test_emergency: $(LIBEMERGENCY)
$(BUILD)/tests/test_httpd: $(OBJ)/gateway/httpd.o
$(BUILD)/tests/test_l1_hash: $(LIBCACHE)
$(BUILD)/tests/test_keyset: $(LIBCACHE)
$(BUILD)/tests/test_retrieval: $(LIBASSIST)
$(BUILD)/tests/test_split: $(LIBKNOW)
$(BUILD)/tests/test_sms_signature: $(OBJ)/gateway/opsig.o
$(BUILD)/tests/test_sms_split: $(OBJ)/conversations/split.o
$(BUILD)/tests/test_http_client $(BUILD)/tests/test_claude: $(OBJ)/tests/unit/loopback.o
$(BUILD)/tests/%: $(OBJ)/tests/unit/%.o $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter-out $(LIBCOMMON),$(filter %.a,$^)) \
	    $(LIBCOMMON) $(LDLIBS) -lcmocka

deps:
	@sh deploy/deps.sh

up: deps
	@$(MAKE) --no-print-directory all
	@sh deploy/up.sh

down:
	@sh deploy/down.sh

test: deps browser-deps
	@$(MAKE) --no-print-directory all $(UNIT_BINS)
	@CLUBOS_BUILD=$(BUILD) sh tests/run.sh

# The browser tests' one npm package (playwright-core, locked in
# tests/browser/package-lock.json); it drives Debian's chromium.
browser-deps: tests/browser/node_modules/.package-lock.json

tests/browser/node_modules/.package-lock.json: tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund

unit: all $(UNIT_BINS)
	@CLUBOS_BUILD=$(BUILD) CLUBOS_SUITES=unit sh tests/run.sh

e2e: all browser-deps
	@CLUBOS_BUILD=$(BUILD) CLUBOS_SUITES=e2e sh tests/run.sh

# Several hosts as network namespaces (root; not part of make test).
test-multihost: deps all
	@CLUBOS_BUILD=$(BUILD) sh tests/multihost/run.sh

asan:
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 OPT="-O1 -g" all \
	    $(patsubst tests/unit/%.c,build/asan/tests/%,$(UNIT_SRC))

test-asan: deps browser-deps asan
	@CLUBOS_BUILD=build/asan ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 sh tests/run.sh

# ThreadSanitizer: the unit suites (Debian's libnng, libpq and hiredis are not
# instrumented, so the daemons' cross-library races would not be seen whole).
tsan:
	@$(MAKE) --no-print-directory BUILD=build/tsan SAN=thread OPT="-O1 -g" \
	    $(patsubst tests/unit/%.c,build/tsan/tests/%,$(UNIT_SRC))

test-tsan: deps tsan
	@CLUBOS_BUILD=build/tsan CLUBOS_SUITES=unit \
	    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$(CURDIR)/tests/unit/tsan.supp \
	    sh tests/run.sh

$(BIN)/clubos-loadgen: tests/bench/loadgen.c
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -std=c11 -D_GNU_SOURCE $(WARN) $(if $(filter 1,$(WERROR)),-Werror) -o $@ $<

bench: deps all $(BIN)/clubos-loadgen
	@sh tests/bench/run.sh

eval: deps all
	@sh tests/eval/run.sh

LINT_SRC = $(wildcard common/*.[ch] gateway/*.[ch] router/*.[ch] assistants/*.[ch] \
             cache/*.[ch] intelligence/*.[ch] bus/*.[ch] actions/*.[ch] conversations/*.[ch] deploy/clubosctl/*.[ch] tests/unit/*.c \
             tests/bench/*.c)

lint:
	clang-format --dry-run --Werror $(LINT_SRC)
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 \
	    --inline-suppr --suppress=missingIncludeSystem --suppress=unknownMacro -I. common router gateway assistants cache intelligence bus actions conversations \
	    deploy/clubosctl

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
