# ferry — build, test, fuzz, bench, demo.  See README.md.
#
#   make            build build/ferry
#   make test       unit tests (cmocka) + end-to-end tests (prove)
#   make asan       the same suite, built with ASan + UBSan
#   make fuzz       every libFuzzer target for FUZZ_TIME seconds each
#   make bench      benchmarks (hyperfine and in-process timers)
#   make demo       install what is missing, build, run the example's CI
#   make install    install to $(PREFIX)/bin

BUILD    ?= build
PREFIX   ?= /usr/local
CC       ?= cc
FUZZ_CC  ?= clang
FUZZ_TIME ?= 20
PKGS     := yaml-0.1 jansson libgit2 openssl sqlite3 libmicrohttpd expat \
            libarchive
# libcurl is loaded with dlopen by the client verbs only: headers, no -l
CURL_CFLAGS := $(shell pkg-config --cflags libcurl)
# set before CFLAGS_ALL: := expands at once
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined
OPT      := -O1
endif

WARN     := -Wall -Wextra -Wshadow -Wformat=2 -Wno-format-nonliteral \
            -Wno-format-truncation -Werror
OPT      ?= -O2
CFLAGS_ALL := -std=c11 -D_GNU_SOURCE $(OPT) -g $(WARN) -Isrc \
              $(shell pkg-config --cflags $(PKGS)) $(CURL_CFLAGS) $(SANFLAGS) \
              $(CFLAGS)
LDLIBS_ALL := $(shell pkg-config --libs $(PKGS)) -lm -ldl $(LDLIBS)

SRCS     := $(sort $(wildcard src/*/*.c))
MAIN_SRC := src/cli/main.c
LIB_SRCS := $(filter-out $(MAIN_SRC),$(SRCS))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/*_test.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRCS := $(sort $(wildcard bench/*_bench.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
FUZZ_SRCS := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:fuzz/%.c=$(BUILD)/fuzz/%)

.PHONY: all test unit e2e asan fuzz bench demo install lint clean deps

all: $(BUILD)/ferry

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/libferry.a: $(LIB_OBJS)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/ferry: $(BUILD)/obj/$(MAIN_SRC:.c=.o) $(BUILD)/libferry.a
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libferry.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests/unit -o $@ $< $(BUILD)/libferry.a \
	    $(LDLIBS_ALL) -lcmocka

unit: $(UNIT_BINS)
	prove --exec tests/unit-tap.sh $(UNIT_BINS)

e2e: $(BUILD)/ferry
	FERRY=$(abspath $(BUILD)/ferry) prove -j2 tests/e2e/

# The README's test command: every unit and end-to-end test.
test: $(BUILD)/ferry $(UNIT_BINS)
	FERRY=$(abspath $(BUILD)/ferry) tests/run.sh $(UNIT_BINS)

asan:
	$(MAKE) BUILD=build-asan SAN=1 test

# libFuzzer targets link the project's own sources (all but the CLI),
# instrumented for coverage and ASan + UBSan.
# (the CLI's verbs are left out, but not its SSE parser in client.c)
FUZZ_LIB_SRCS := $(filter-out src/cli/%,$(LIB_SRCS)) src/cli/client.c
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Isrc -Ifuzz \
              -fsanitize=address,undefined $(shell pkg-config --cflags $(PKGS)) \
              $(CURL_CFLAGS)
$(BUILD)/fuzzobj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(BUILD)/libferry-fuzz.a: $(FUZZ_LIB_SRCS:%.c=$(BUILD)/fuzzobj/%.o)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/fuzz/%: fuzz/%.c $(BUILD)/libferry-fuzz.a
	@mkdir -p $(dir $@)
	@echo "  FUZZLD  $@"
	@$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< \
	    $(BUILD)/libferry-fuzz.a $(LDLIBS_ALL)

fuzz: $(FUZZ_BINS)
	@set -e; for f in $(FUZZ_BINS); do \
	    n=$${f##*/fuzz_}; mkdir -p $(BUILD)/fuzz-work/$$n; \
	    echo "fuzz $$n for $(FUZZ_TIME)s"; \
	    $$f -max_total_time=$(FUZZ_TIME) -rss_limit_mb=2048 \
	        -timeout=25 $(BUILD)/fuzz-work/$$n fuzz/corpus/$$n \
	        2>$(BUILD)/fuzz-work/$$n.log || \
	        { tail -40 $(BUILD)/fuzz-work/$$n.log; exit 1; }; \
	    grep -E '^Done' $(BUILD)/fuzz-work/$$n.log || true; \
	done

$(BUILD)/bench/%: bench/%.c $(BUILD)/libferry.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/libferry.a $(LDLIBS_ALL)

bench: $(BUILD)/ferry $(BENCH_BINS)
	BENCH_BIN=$(abspath $(BUILD)/bench) FERRY=$(abspath $(BUILD)/ferry) \
	    bench/run.sh

deps:
	scripts/deps.sh

demo: deps
	$(MAKE) all
	scripts/demo.sh $(abspath $(BUILD)/ferry)

install: $(BUILD)/ferry
	install -D -m 0755 $(BUILD)/ferry $(DESTDIR)$(PREFIX)/bin/ferry

lint:
	@! grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|system|popen|usleep)\s*\(' \
	    $(SRCS) | grep -vE '(snprintf|vsnprintf)' || \
	    { echo "banned function used"; exit 1; }
	@! grep -nE '[^_a-z]signal\s*\(' $(SRCS) || \
	    { echo "use sigaction, not signal()"; exit 1; }

clean:
	rm -rf build build-asan

-include $(LIB_OBJS:.o=.d) $(BUILD)/obj/$(MAIN_SRC:.o=.d)
